//! `port-forward POD [LOCAL:]REMOTE...`: listen on the host, connect each connection
//! to `localhost:REMOTE` inside the pod's network namespace, until Ctrl-C.

use super::Context;
use crate::net::port_forward::{self, Forward};
use crate::pod::record;
use anyhow::{bail, Result};
use clap::Args;
use std::net::IpAddr;

#[derive(Args, Debug)]
pub struct PortForwardArgs {
    /// The pod (or `pod/NAME`).
    pub pod: String,
    /// `LOCAL:REMOTE`, `REMOTE` (same port on both sides) or `:REMOTE` (any free
    /// local port).
    #[arg(required = true, value_name = "[LOCAL:]REMOTE")]
    pub ports: Vec<String>,
    /// Addresses to listen on (comma-separated); `localhost` means 127.0.0.1 and ::1.
    #[arg(long, default_value = "localhost", value_delimiter = ',')]
    pub address: Vec<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

pub fn run(ctx: &Context, args: &PortForwardArgs) -> Result<i32> {
    let name = args.pod.strip_prefix("pod/").unwrap_or(&args.pod);
    let Some(pod) = record::find(&ctx.state, &args.namespace, name)? else {
        bail!("pods \"{name}\" not found");
    };
    let status = super::get::truthful_status(&pod);
    let infra = match status.infra.filter(|i| i.is_alive()) {
        Some(i) if status.phase == crate::pod::status::Phase::Running => i,
        _ => bail!(
            "unable to forward port because pod is not running. Current status={}",
            status.phase
        ),
    };
    let addresses = port_forward::listen_addresses(&args.address)?;
    let unspecified = IpAddr::from([0, 0, 0, 0]);
    let forwards = args
        .ports
        .iter()
        .map(|spec| port_forward::parse_port_spec(spec, unspecified))
        .collect::<Result<Vec<_>>>()?;
    let netns = port_forward::open_netns(infra.pid)?;
    let (listeners, failed) = port_forward::bind_on_addresses(&forwards, &addresses)?;
    for line in failed {
        eprintln!("{line}");
    }
    for (_, f) in &listeners {
        println!("Forwarding from {} -> {}", f.listen, f.remote);
    }
    // kubectl ends when the pod goes away; so do we.
    std::thread::spawn(move || loop {
        if !infra.is_alive() {
            eprintln!("error: lost connection to pod");
            std::process::exit(1);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    });
    port_forward::serve(listeners, netns, handling)?;
    Ok(0)
}

fn handling(f: &Forward) {
    println!("Handling connection for {}", f.listen.port());
}
