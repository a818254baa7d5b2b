//! What a container's process runs with: its command line (the manifest's command
//! and args against the image's Entrypoint and Cmd) and its environment (the image's,
//! HOSTNAME, then the manifest's `env` with `$(VAR)` expansion and the downward API).

use super::container_spec::{pod_hostname, SpecInputs, DEFAULT_PATH};
use super::record::ImageUse;
use k8s_openapi::api::core::v1::Container;
use std::collections::BTreeMap;

/// Kubernetes' rules for `command` and `args` against the image's Entrypoint and Cmd:
/// command replaces Entrypoint (and drops Cmd); args alone replace Cmd. `$(VAR)` in
/// either is expanded from the container's environment.
pub fn command_line(c: &Container, image: &ImageUse, env: &[String]) -> Vec<String> {
    let command = c.command.clone().unwrap_or_default();
    let args = c.args.clone().unwrap_or_default();
    let argv = match (command.is_empty(), args.is_empty()) {
        (true, true) => [image.entrypoint.clone(), image.cmd.clone()].concat(),
        (true, false) => [image.entrypoint.clone(), args].concat(),
        (false, _) => [command, args].concat(),
    };
    let vars: BTreeMap<&str, &str> = env.iter().filter_map(|e| e.split_once('=')).collect();
    argv.iter().map(|a| expand(a, &vars)).collect()
}

/// Kubernetes' `$(VAR)` expansion: a defined variable is replaced, an undefined one is
/// left as written, and `$$` is an escaped `$`.
pub fn expand(input: &str, vars: &BTreeMap<&str, &str>) -> String {
    let mut out = String::new();
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('(') {
            match body.find(')') {
                Some(end) => {
                    let name = &body[..end];
                    match vars.get(name) {
                        Some(value) => out.push_str(value),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &body[end + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = body;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The image's environment, `HOSTNAME` as runtimes set it, then the manifest's `env`
/// (later entries win, and may refer to earlier ones with `$(VAR)`).
pub fn environment(inputs: &SpecInputs) -> Vec<String> {
    let mut vars: Vec<(String, String)> = Vec::new();
    let set = |vars: &mut Vec<(String, String)>, k: &str, v: String| match vars
        .iter_mut()
        .find(|(name, _)| name == k)
    {
        Some(entry) => entry.1 = v,
        None => vars.push((k.to_string(), v)),
    };
    for e in &inputs.image.env {
        if let Some((k, v)) = e.split_once('=') {
            set(&mut vars, k, v.to_string());
        }
    }
    if !vars.iter().any(|(k, _)| k == "PATH") {
        let (k, v) = DEFAULT_PATH.split_once('=').unwrap_or(("PATH", ""));
        set(&mut vars, k, v.to_string());
    }
    set(&mut vars, "HOSTNAME", pod_hostname(inputs.pod));
    for e in inputs.container.env.iter().flatten() {
        let field_ref = e.value_from.as_ref().and_then(|v| v.field_ref.as_ref());
        let resource_ref = e
            .value_from
            .as_ref()
            .and_then(|v| v.resource_field_ref.as_ref());
        let value = match (field_ref, resource_ref) {
            (Some(f), _) => super::downward_api::value(inputs.pod, &f.field_path),
            (None, Some(r)) => {
                // containerName may point at another container of the pod.
                let spec = inputs.pod.spec.as_ref();
                let target = r
                    .container_name
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .and_then(|n| {
                        spec.and_then(|s| {
                            s.containers
                                .iter()
                                .chain(s.init_containers.iter().flatten())
                                .find(|c| c.name == n)
                        })
                    })
                    .unwrap_or(inputs.container);
                super::downward_api::resource_value(
                    target,
                    &r.resource,
                    r.divisor.as_ref().map(|d| d.0.as_str()),
                )
            }
            (None, None) => {
                let known: BTreeMap<&str, &str> =
                    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                expand(e.value.as_deref().unwrap_or(""), &known)
            }
        };
        set(&mut vars, &e.name, value);
    }
    vars.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(entrypoint: &[&str], cmd: &[&str]) -> ImageUse {
        ImageUse {
            reference: "busybox:1.36".into(),
            id: "sha256:0".into(),
            layers: vec![],
            entrypoint: entrypoint.iter().map(|s| s.to_string()).collect(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            env: vec!["PATH=/bin".into()],
            working_dir: String::new(),
            user: String::new(),
            stop_signal: None,
        }
    }

    fn container(command: Option<&[&str]>, args: Option<&[&str]>) -> Container {
        Container {
            name: "c".into(),
            command: command.map(|c| c.iter().map(|s| s.to_string()).collect()),
            args: args.map(|c| c.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn command_and_args_follow_kubernetes_rules() {
        let img = image(&["/entry"], &["cmd-arg"]);
        assert_eq!(
            command_line(&container(None, None), &img, &[]),
            ["/entry", "cmd-arg"]
        );
        assert_eq!(
            command_line(&container(None, Some(&["a"])), &img, &[]),
            ["/entry", "a"]
        );
        assert_eq!(
            command_line(&container(Some(&["sh"]), None), &img, &[]),
            ["sh"]
        );
        assert_eq!(
            command_line(&container(Some(&["sh"]), Some(&["-c", "x"])), &img, &[]),
            ["sh", "-c", "x"]
        );
    }

    #[test]
    fn dollar_paren_expands_defined_variables_only() {
        let vars: BTreeMap<&str, &str> = [("A", "1")].into_iter().collect();
        assert_eq!(expand("$(A)-$(B)-$$(A)-$", &vars), "1-$(B)-$(A)-$");
    }
}
