//! The picture of a pod for the terminal, in box-drawing characters.

use super::picture::{ContainerBox, Picture};

/// The whole picture, one line per line, ending with a newline.
pub fn draw(p: &Picture) -> String {
    let mut body: Vec<String> = Vec::new();
    match &p.infra {
        Some(infra) => {
            let inode = |i: Option<u64>| i.map(|i| i.to_string()).unwrap_or_else(|| "?".into());
            body.push(format!("infra (pause)  PID {}", infra.pid));
            body.push(format!(
                "  holds net:[{}] ipc:[{}] uts:[{}]",
                inode(infra.net),
                inode(infra.ipc),
                inode(infra.uts)
            ));
            body.push(format!(
                "  hostname {}   interfaces {}   addresses {}",
                infra.hostname.as_deref().unwrap_or("?"),
                list(&infra.interfaces),
                list(&infra.addresses)
            ));
            if let Some(link) = &infra.link {
                body.push(format!("  veth pair  {}", super::picture::pair_words(link)));
            }
        }
        None => body.push("infra: gone (the pod's namespaces went with it)".into()),
    }
    if !p.init_containers.is_empty() {
        body.push(String::new());
        body.push("init containers, one after the other:".into());
        for (i, c) in p.init_containers.iter().enumerate() {
            body.push(format!("  {}. {}", i + 1, container_line(c)));
        }
    }
    body.push(String::new());
    body.push("containers, joined to the infra:".into());
    let n = p.containers.len();
    for (i, c) in p.containers.iter().enumerate() {
        let (branch, cont) = if i + 1 == n {
            ("└─", "  ")
        } else {
            ("├─", "│ ")
        };
        body.push(format!("  {branch} {}", container_line(c)));
        if !c.shared.is_empty() || !c.own.is_empty() {
            body.push(format!(
                "  {cont}    shares {} with infra; own {}",
                list(&c.shared),
                list(&c.own)
            ));
        }
    }
    if !p.volumes.is_empty() {
        body.push(String::new());
        body.push("volumes:".into());
        for v in &p.volumes {
            body.push(format!(
                "  {} ({}) {}",
                v.name,
                v.kind,
                v.host_path.display()
            ));
            for m in &v.mounts {
                let mode = if m.read_only { "ro" } else { "rw" };
                body.push(format!("    → {}:{} ({mode})", m.container, m.path));
            }
        }
    }
    let mut title = format!(" Pod {} · {}", p.name, p.phase);
    if !p.reason.is_empty() {
        title.push_str(&format!(" ({})", p.reason));
    }
    title.push(' ');
    let width = body
        .iter()
        .map(|l| l.chars().count())
        .chain([title.chars().count() + 2])
        .max()
        .unwrap_or(0)
        + 2;
    let mut out = String::new();
    let top_rest = width.saturating_sub(title.chars().count() + 1);
    out.push_str(&format!("╭─{title}{}╮\n", "─".repeat(top_rest)));
    for line in &body {
        let pad = width.saturating_sub(line.chars().count() + 1);
        out.push_str(&format!("│ {line}{}│\n", " ".repeat(pad)));
    }
    out.push_str(&format!("╰{}╯\n", "─".repeat(width)));
    out
}

fn container_line(c: &ContainerBox) -> String {
    let pid = c.pid.map(|p| format!("PID {p}")).unwrap_or_default();
    format!("{}  {}  {}  {pid}", c.name, c.image, c.state)
        .trim_end()
        .to_string()
}

fn list<S: AsRef<str>>(items: &[S]) -> String {
    super::picture::names_or_none(items, ",")
}
