//! `logs POD [-c C]`: a container's output, decoded from its CRI log.

use super::Context;
use crate::pod::logs::{self, LogRequest};
use crate::pod::record;
use anyhow::{bail, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// The pod (or `pod/NAME`); none with -l.
    #[arg(required_unless_present = "selector")]
    pub pod: Option<String>,
    /// The pods whose labels match, instead of one pod (with --tail=10 unless given).
    #[arg(short = 'l', long = "selector", conflicts_with = "pod")]
    pub selector: Option<String>,
    /// With -l -f: at most this many logs followed at once (more is an error).
    #[arg(long, default_value_t = 5)]
    pub max_log_requests: usize,
    /// The container; default: the `kubectl.kubernetes.io/default-container`
    /// annotation, else the first container.
    #[arg(short = 'c', long = "container")]
    pub container: Option<String>,
    /// Follow the log until the container ends.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// The previous (terminated) instance of the container.
    #[arg(short = 'p', long)]
    pub previous: bool,
    /// Prefix each line with its RFC 3339 timestamp.
    #[arg(long)]
    pub timestamps: bool,
    /// Only the last N lines.
    #[arg(long)]
    pub tail: Option<i64>,
    /// Only lines newer than this duration (`10s`, `5m`, `1h30m`).
    #[arg(long)]
    pub since: Option<String>,
    /// Every container of the pod (init containers first).
    #[arg(long)]
    pub all_containers: bool,
    /// Prefix each line with `[pod/NAME/CONTAINER]`.
    #[arg(long)]
    pub prefix: bool,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
}

pub fn run(ctx: &Context, args: &LogsArgs) -> Result<i32> {
    let pods = match (&args.pod, &args.selector) {
        (Some(pod), _) => {
            let name = pod.strip_prefix("pod/").unwrap_or(pod);
            let Some(found) = record::find(&ctx.state, &args.namespace, name)? else {
                bail!("pods \"{name}\" not found");
            };
            vec![found]
        }
        (None, selector) => {
            let selected =
                super::pod_targets::selected(ctx, Some(&args.namespace), selector.as_deref())?
                    .map_err(|e| anyhow::anyhow!(e))?;
            let mut pods = Vec::new();
            for (ns, name) in selected {
                pods.extend(record::find(&ctx.state, &ns, &name)?);
            }
            if pods.is_empty() {
                eprintln!("No resources found in {} namespace.", args.namespace);
                return Ok(0);
            }
            pods
        }
    };
    let since = match &args.since {
        Some(d) => {
            let ago = parse_duration(d)?;
            let now = std::time::SystemTime::now();
            Some(now.checked_sub(ago).unwrap_or(std::time::UNIX_EPOCH))
        }
        None => None,
    };
    // kubectl: with a selector, the last 10 lines of each unless --tail says otherwise.
    let tail = match args.tail {
        Some(t) => Some(t),
        None if args.selector.is_some() => Some(10),
        None => None,
    };
    let mut requests: Vec<(&record::StoredPod, LogRequest)> = Vec::new();
    for pod in &pods {
        let name = pod.record.name();
        let containers = if args.all_containers {
            let spec = pod.record.pod.spec.clone().unwrap_or_default();
            spec.init_containers
                .iter()
                .flatten()
                .chain(spec.containers.iter())
                .map(|c| c.name.clone())
                .collect()
        } else {
            vec![pick_container(pod, args.container.as_deref(), "logs")?]
        };
        requests.extend(containers.into_iter().map(|container| {
            let request = LogRequest {
                prefix: if args.prefix {
                    format!("[pod/{name}/{container}] ")
                } else {
                    String::new()
                },
                container,
                previous: args.previous,
                follow: args.follow,
                timestamps: args.timestamps,
                tail: tail.filter(|t| *t >= 0).map(|t| t as usize),
                since,
            };
            (pod, request)
        }));
    }
    if args.follow && requests.len() > 1 {
        if args.selector.is_some() && requests.len() > args.max_log_requests {
            bail!(
                "you are attempting to follow {} log streams, but maximum allowed concurrency is {}, use --max-log-requests to increase the limit",
                requests.len(),
                args.max_log_requests
            );
        }
        // Followed side by side, one thread per container, as kubectl does.
        std::thread::scope(|scope| {
            let threads: Vec<_> = requests
                .iter()
                .map(|(pod, req)| {
                    scope.spawn(move || logs::print(pod, req, &mut std::io::stdout()))
                })
                .collect();
            threads.into_iter().try_for_each(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a log follower panicked")))
            })
        })?;
    } else {
        let several = args.all_containers || args.selector.is_some();
        for (pod, req) in &requests {
            match logs::print(pod, req, &mut std::io::stdout().lock()) {
                // A container that has not started yet has no logs to add.
                Err(e) if several && e.to_string().contains("is waiting to start") => {}
                other => other?,
            }
        }
    }
    Ok(0)
}

/// Go's durations as kubectl takes them: `300ms`, `10s`, `5m`, `1h30m`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration> {
    let bad = || {
        anyhow::anyhow!(
            "invalid argument \"{text}\" for \"--since\" flag: time: invalid duration \"{text}\""
        )
    };
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    // A duration too long for the clock is refused, not a panic.
    std::time::Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// `-c` as kubectl resolves it, with its notice when it picks a default.
pub fn pick_container(pod: &record::StoredPod, asked: Option<&str>, _verb: &str) -> Result<String> {
    let spec = pod.record.pod.spec.clone().unwrap_or_default();
    let apps: Vec<String> = spec.containers.iter().map(|c| c.name.clone()).collect();
    let inits: Vec<String> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| c.name.clone())
        .collect();
    if let Some(c) = asked {
        if apps.iter().chain(inits.iter()).any(|n| n == c) {
            return Ok(c.to_string());
        }
        let mut valid = apps.join(" ");
        if !inits.is_empty() {
            valid = format!(
                "[{valid}] or one of the init containers: [{}]",
                inits.join(" ")
            );
        } else {
            valid = format!("[{valid}]");
        }
        bail!(
            "container {c} is not valid for pod {}, choose one of: {valid}",
            pod.record.name()
        );
    }
    let annotated = pod
        .record
        .pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
        .filter(|c| apps.contains(c))
        .cloned();
    let chosen = annotated
        .clone()
        .or_else(|| apps.first().cloned())
        .unwrap_or_default();
    if annotated.is_none() && apps.len() > 1 {
        eprintln!(
            "Defaulted container \"{chosen}\" out of: {}",
            apps.join(", ")
        );
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("5m").unwrap().as_secs(), 300);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("10s").unwrap().as_secs(), 10);
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5x").is_err());
    }
}
