//! `wait --for=condition=Ready|delete|jsonpath=... pod/NAME [--timeout=30s]`: poll the
//! pods until the condition holds, as kubectl wait does.

use super::pod_targets;
use super::Context;
use super::{errln, outln};
use crate::pod::record::{self, StoredPod};
use anyhow::Result;
use clap::Args;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// `pod/NAME...` or `pods NAME...`.
    #[arg(value_name = "RESOURCE [NAME...]")]
    pub what: Vec<String>,
    /// `condition=Ready` (`=false` for the opposite), `delete`, or
    /// `jsonpath={.status.phase}=Running`.
    #[arg(long = "for", required = true)]
    pub condition: String,
    /// How long to wait (`30s`, `5m`; 0 checks once).
    #[arg(long, default_value = "30s")]
    pub timeout: String,
    /// Every pod of the namespace.
    #[arg(long)]
    pub all: bool,
    /// Only pods whose labels match.
    #[arg(short = 'l', long = "selector")]
    pub selector: Option<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

enum Wanted {
    Condition(String, bool),
    Deleted,
    JsonPath(String, String),
}

pub fn run(ctx: &Context, args: &WaitArgs) -> Result<i32> {
    let wanted = if args.condition == "delete" {
        Wanted::Deleted
    } else if let Some(rest) = args.condition.strip_prefix("condition=") {
        let (name, value) = rest.split_once('=').unwrap_or((rest, "true"));
        Wanted::Condition(
            name.to_ascii_lowercase(),
            !value.eq_ignore_ascii_case("false"),
        )
    } else if let Some(rest) = args.condition.strip_prefix("jsonpath=") {
        let Some(close) = rest.rfind('}') else {
            errln!("error: jsonpath wait format must be --for=jsonpath='{{JSONPath expression}}'=JSONPath value");
            return Ok(1);
        };
        let value = rest[close + 1..].strip_prefix('=').unwrap_or("");
        Wanted::JsonPath(rest[..=close].to_string(), value.to_string())
    } else {
        errln!("error: unrecognized condition: \"{}\"", args.condition);
        return Ok(1);
    };
    let timeout = super::logs::parse_duration(&args.timeout).map_err(|_| {
        let t = &args.timeout;
        anyhow::anyhow!(
            "invalid argument \"{t}\" for \"--timeout\" flag: time: invalid duration \"{t}\""
        )
    })?;
    let (resource, names) = super::get::split_resource(&args.what)?;
    super::apply::ensure_pods(&resource)?;
    let asked = pod_targets::Asked {
        namespace: &args.namespace,
        all: args.all,
        selector: args.selector.as_deref(),
        none_is_error: true,
    };
    let Some(targets) = pod_targets::named_or_selected(ctx, names, &asked)? else {
        return Ok(1);
    };
    let until = crate::state::deadline::from_now(timeout);
    let mut code = 0;
    for (ns, name) in targets {
        // The pod being waited for: a new pod of the same name is another object.
        let Some(first) = record::find(&ctx.state, &ns, &name)? else {
            errln!("Error from server (NotFound): pods \"{name}\" not found");
            code = 1;
            continue;
        };
        let uid = first.record.uid().to_string();
        loop {
            let now = record::find(&ctx.state, &ns, &name)?.filter(|p| p.record.uid() == uid);
            if holds(&wanted, now.as_ref()) {
                outln!("pod/{name} condition met");
                break;
            }
            if Instant::now() >= until {
                errln!("error: timed out waiting for the condition on pods/{name}");
                code = 1;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(code)
}

fn holds(wanted: &Wanted, pod: Option<&StoredPod>) -> bool {
    let Some(pod) = pod else {
        return matches!(wanted, Wanted::Deleted);
    };
    let status = super::get::truthful_status(pod);
    match wanted {
        Wanted::Deleted => false,
        Wanted::Condition(name, value) => super::describe::conditions(&pod.record.pod, &status)
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value),
        Wanted::JsonPath(template, value) => {
            let object = super::get::pod_object(pod);
            super::output::jsonpath::render(template, &object, false).is_ok_and(|s| s == *value)
        }
    }
}
