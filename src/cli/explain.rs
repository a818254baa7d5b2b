//! `explain pod NAME`: what the pod is made of, read from the kernel now: the namespace
//! table, the paths to check it with `readlink`, the volumes; `-o svg|text` draws it;
//! `--steps` prints the kernel steps recorded while it was built.

use super::get::{print_columns, truthful_status};
use super::Context;
use crate::cli::views::{
    members, namespace_table, picture, picture_svg, picture_text, procfs, security_table,
    volume_table,
};
use crate::narration::Step;
use crate::pod::record::{self, StoredPod};
use crate::pod::status::PodStatus;
use anyhow::{bail, Context as _, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// `pod NAME` (or `pod/NAME`): what that pod is made of; a dotted path alone
    /// (`pod.spec.containers`): the field's documentation, as kubectl explain.
    #[arg(required = true, value_name = "pod NAME | pod.FIELD.PATH")]
    pub what: Vec<String>,
    /// Output: `svg` or `text` draw the pod; `json` prints the tables (or, with
    /// --steps, the steps) as JSON.
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
    /// Print the kernel steps recorded while the pod was built (and torn down).
    #[arg(long)]
    pub steps: bool,
    /// With a field path: the fields of fields, without their descriptions.
    #[arg(long)]
    pub recursive: bool,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

/// Find the one pod `pod NAME` names, or say it is not there as kubectl does.
pub fn find_pod(ctx: &Context, what: &[String], namespace: &str) -> Result<StoredPod> {
    let (resource, names) = super::get::split_resource(what)?;
    super::apply::ensure_pods(&resource)?;
    let [name] = names.as_slice() else {
        bail!("name exactly one pod: `pod NAME`");
    };
    record::find(&ctx.state, namespace, name)?
        .with_context(|| format!("Error from server (NotFound): pods \"{name}\" not found"))
}

pub fn run(ctx: &Context, args: &ExplainArgs) -> Result<i32> {
    // kubectl's explain: `explain pod.spec.containers` (no pod name) is documentation.
    if let [path] = args.what.as_slice() {
        if super::explain_fields::is_field_path(path) {
            return super::explain_fields::run(path, args.recursive);
        }
    }
    let (resource, names) = super::get::split_resource(&args.what)?;
    if let Some(kind) = crate::api::apps::AppsKind::from_resource(&resource) {
        return super::explain_apps::run(ctx, kind, &args.namespace, &names);
    }
    let mut pod = find_pod(ctx, &args.what, &args.namespace)?;
    let status = truthful_status(&pod);
    pod.status = Some(status.clone());
    if args.steps {
        return print_steps(&pod, args.output.as_deref());
    }
    match args.output.as_deref() {
        None => print_tables(ctx, &pod, &status)?,
        Some("svg") => print!("{}", picture_svg::draw(&picture::gather(&pod, &status)?)),
        Some("text") => print!("{}", picture_text::draw(&picture::gather(&pod, &status)?)),
        Some("json") => print_json(&pod, &status)?,
        Some(other) => bail!("unknown output format \"{other}\": use svg, text or json"),
    }
    Ok(0)
}

fn print_steps(pod: &StoredPod, output: Option<&str>) -> Result<i32> {
    let path = pod.paths.steps();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let step: Step = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a step", path.display(), n + 1))?;
        match output {
            Some("json") => println!("{}", serde_json::to_string(&step)?),
            None | Some("text") => println!("{}", step.to_line()),
            Some(other) => bail!("unknown output format \"{other}\" for --steps: use json"),
        }
    }
    Ok(0)
}

/// One sentence when the pod has no namespaces left to show.
fn gone(pod: &StoredPod, status: &PodStatus) -> Option<String> {
    if members::infra_alive(status) {
        return None;
    }
    let mut line = format!("Pod {} is {}", pod.record.name(), status.phase);
    if !status.reason.is_empty() {
        line.push_str(&format!(" ({})", status.reason));
    }
    if !status.message.is_empty() {
        line.push_str(&format!(": {}", status.message));
    }
    let infra = match status.infra {
        Some(infra) => format!("Its infra process (PID {})", infra.pid),
        None => "Its infra process".to_string(),
    };
    if status.phase == crate::pod::status::Phase::Pending && status.infra.is_none() {
        line.push_str(".\nIts infra process has not started: the pod has no namespaces yet.");
    } else {
        let own = pod_namespaces(&pod.record.pod);
        if own.is_empty() {
            line.push_str(&format!(
                ".\n{infra} is gone; the pod used the host's network, IPC and UTS namespaces: there is nothing of its own to readlink."
            ));
        } else {
            line.push_str(&format!(
                ".\n{infra} is gone, and with it the pod's {} namespaces: there is nothing left to readlink.",
                words_list(&own)
            ));
        }
    }
    Some(line)
}

/// The namespaces the pod's infra made for it, from its spec: network and UTS unless
/// `hostNetwork`, IPC unless `hostIPC` (the flags the infra's spec is built from).
fn pod_namespaces(pod: &k8s_openapi::api::core::v1::Pod) -> Vec<&'static str> {
    let mut own = Vec::new();
    let host_network = crate::net::pod_network::host_network(pod);
    if !host_network {
        own.push("network");
    }
    if !crate::pod::security::host_namespaces::host_ipc(pod) {
        own.push("IPC");
    }
    if !host_network {
        own.push("UTS");
    }
    own
}

/// `a`, `a and b`, `a, b and c`.
fn words_list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The pod's interfaces and local addresses, read through its infra process.
fn print_interfaces(ctx: &Context, pod: &StoredPod, status: &PodStatus) {
    use crate::cli::views::interface_table;
    let Some(infra) = status.infra.filter(|p| p.is_alive()) else {
        return;
    };
    let interfaces = interface_table::interfaces(infra.pid);
    if interfaces.is_empty() {
        return;
    }
    println!();
    println!(
        "Network: the pod's interfaces, as its namespace shows them (/proc/{}/net/dev, fib_trie)",
        infra.pid
    );
    let mut rows = vec![["INTERFACE", "RX BYTES", "TX BYTES"]
        .map(String::from)
        .to_vec()];
    for i in &interfaces {
        rows.push(vec![
            i.name.clone(),
            i.rx_bytes.to_string(),
            i.tx_bytes.to_string(),
        ]);
    }
    print_columns(&rows);
    let locals: Vec<String> = interface_table::local_addresses(infra.pid)
        .iter()
        .map(|a| a.to_string())
        .collect();
    println!("Local addresses: {}", locals.join(", "));
    // eth0's peer index, looked up among the host's links: the veth pair and bridge.
    if let Ok(Some(link)) = crate::net::links::pod_link(infra.pid, crate::net::pod_network::IFNAME)
    {
        println!("{}", interface_table::pair_line(&link));
    }
    if !status.pod_ip.is_empty() {
        println!("Pod IP (status.podIP, from CNI): {}", status.pod_ip);
        // CNI CHECK: each plugin confirms the attachment is still as ADD made it.
        let uid = pod.record.uid();
        match crate::net::pod_network::check(&ctx.state, &pod.record.pod, uid, infra.pid) {
            Ok(networks) if networks.is_empty() => {}
            Ok(networks) => println!("CNI CHECK of network {}: passed", networks.join(", ")),
            Err(e) => println!("CNI CHECK failed: {e:#}"),
        }
    }
}

fn print_tables(ctx: &Context, pod: &StoredPod, status: &PodStatus) -> Result<()> {
    match gone(pod, status) {
        Some(sentence) => println!("{sentence}"),
        None => {
            print_namespaces(pod, status)?;
            print_interfaces(ctx, pod, status);
        }
    }
    print_security(pod, status);
    let volumes = volume_table::volumes(pod);
    if volumes.is_empty() {
        return Ok(());
    }
    println!();
    println!("Volumes: host directories bind-mounted into the containers (from each container's config.json)");
    let mut rows = vec![[
        "VOLUME",
        "TYPE",
        "HOST PATH",
        "CONTAINER",
        "MOUNT PATH",
        "MODE",
    ]
    .map(String::from)
    .to_vec()];
    for v in &volumes {
        let first = vec![
            v.name.clone(),
            v.kind.clone(),
            v.host_path.display().to_string(),
        ];
        if v.mounts.is_empty() {
            rows.push([first.clone(), vec!["<not mounted>".into()]].concat());
        }
        for (i, m) in v.mounts.iter().enumerate() {
            let head = if i == 0 {
                first.clone()
            } else {
                vec![String::new(); 3]
            };
            let mode = if m.read_only { "ro" } else { "rw" };
            rows.push([head, vec![m.container.clone(), m.path.clone(), mode.into()]].concat());
        }
    }
    print_columns(&rows);
    Ok(())
}

/// Per container: its seccomp profile and capabilities, as the kernel holds them.
fn print_security(pod: &StoredPod, status: &PodStatus) {
    let rows = security_table::rows(pod, status);
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "What each container may ask of the kernel (Uid, Gid, Groups, NoNewPrivs, Seccomp and CapEff in /proc/<pid>/status)"
    );
    let mut table = vec![[
        "CONTAINER",
        "PID",
        "UID",
        "GID",
        "GROUPS",
        "NNP",
        "SECCOMP",
        "KERNEL",
        "CAPABILITIES",
    ]
    .map(String::from)
    .to_vec()];
    for r in &rows {
        let id = r.process.as_ref();
        let uid = id.map_or("-".into(), |i| match i.host_uid == i.uid {
            true => i.uid.to_string(),
            false => format!("{}(host {})", i.uid, i.host_uid),
        });
        let groups = id.map_or("-".into(), |i| {
            let g: Vec<String> = i.groups.iter().map(|g| g.to_string()).collect();
            if g.is_empty() {
                "-".into()
            } else {
                g.join(",")
            }
        });
        table.push(vec![
            r.container.clone(),
            r.pid.map_or("-".into(), |p| p.to_string()),
            uid,
            id.map_or("-".into(), |i| i.gid.to_string()),
            groups,
            id.map_or("-".into(), |i| {
                if i.no_new_privs { "yes" } else { "no" }.into()
            }),
            r.seccomp_profile.clone(),
            r.seccomp_mode.clone(),
            if r.capabilities.is_empty() {
                "-".into()
            } else {
                r.capabilities.join(",")
            },
        ]);
    }
    // Indented under its heading (the namespace table's rows start with the names).
    for line in super::get::format_columns(&table, 3, 2) {
        println!("{line}");
    }
}

fn print_namespaces(pod: &StoredPod, status: &PodStatus) -> Result<()> {
    let procs = procfs::all()?;
    let members = members::members(status, &procs);
    let rows = namespace_table::rows(&members, status.supervisor.map(|p| p.pid));
    println!(
        "Pod {} ({}): the namespaces of its processes, as /proc/<pid>/ns/* shows them",
        pod.record.name(),
        status.phase
    );
    println!();
    let mut table = vec![["PROCESS", "PID"]
        .iter()
        .map(|s| s.to_string())
        .chain(procfs::NS_KINDS.iter().map(|k| k.to_uppercase()))
        .collect::<Vec<_>>()];
    for r in &rows {
        let mut marks = vec![r.who.clone(), r.pid.to_string()];
        let mut inodes = vec![String::new(), String::new()];
        for c in &r.cells {
            marks.push(c.mark.word().to_string());
            inodes.push(c.inode.map(|i| i.to_string()).unwrap_or_else(|| "-".into()));
        }
        table.push(marks);
        table.push(inodes);
    }
    print_columns(&table);
    println!();
    println!("shared: the infra's, i.e. the pod's   own: this process's alone   host: the host's (as minipod's own process sees it)");
    if let Some(line) = status
        .infra
        .filter(|p| p.is_alive())
        .and_then(|p| user_namespace_line(p.pid))
    {
        println!("{line}");
    }
    let shim_marked = rows.iter().any(|r| {
        r.cells
            .iter()
            .any(|c| c.mark == namespace_table::Mark::Shim)
    });
    if shim_marked {
        println!(
            "shim: the infra runs in its supervisor's mount namespace, where the pod's mounts live"
        );
    }
    println!();
    println!("Check it yourself: the same inode means the same namespace");
    for kind in procfs::NS_KINDS {
        let paths: Vec<String> = rows
            .iter()
            .map(|r| format!("/proc/{}/ns/{kind}", r.pid))
            .collect();
        println!("  readlink {}", paths.join(" "));
    }
    Ok(())
}

/// The pod's own user namespace (hostUsers: false), read from the infra's uid_map.
fn user_namespace_line(infra: i32) -> Option<String> {
    let map = std::fs::read_to_string(format!("/proc/{infra}/uid_map")).ok()?;
    let f: Vec<&str> = map.split_whitespace().collect();
    if f.len() < 3 || (f[0] == "0" && f[1] == "0") {
        return None;
    }
    Some(format!(
        "user: the pod's own user namespace, uid_map \"{} {} {}\" (/proc/{infra}/uid_map): uid {} inside is uid {} on the host",
        f[0], f[1], f[2], f[0], f[1]
    ))
}

fn print_json(pod: &StoredPod, status: &PodStatus) -> Result<()> {
    let namespaces = if members::infra_alive(status) {
        let procs = procfs::all()?;
        let members = members::members(status, &procs);
        namespace_table::rows(&members, status.supervisor.map(|p| p.pid))
    } else {
        Vec::new()
    };
    let value = serde_json::json!({
        "name": pod.record.name(),
        "phase": status.phase,
        "reason": status.reason,
        "message": status.message,
        "namespaces": namespaces,
        "volumes": volume_table::volumes(pod),
        "security": security_table::rows(pod, status),
    });
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}
