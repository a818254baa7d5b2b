//! The picture of a pod as SVG, written by hand: the pod boundary, the infra box
//! holding the pod's net/ipc/uts namespaces, init containers in order, the containers
//! joined to the infra, the volumes with their host paths and a line per mount.

use super::picture::{ContainerBox, Picture};
use std::fmt::Write as _;

const BOX_W: usize = 230;
const GAP: usize = 20;
const CHAR_W: f64 = 7.2; // width of one 12px monospace character, roughly

/// A complete SVG document.
pub fn draw(p: &Picture) -> String {
    let n = (p.containers.len() + p.init_containers.len()).max(1);
    let nv = p.volumes.len().max(1);
    let row_w = |k: usize| 80 + k * BOX_W + k.saturating_sub(1) * GAP;
    let width = row_w(n).max(row_w(nv)).max(860);
    let inner = width - 80;

    let mut s = String::new();
    let mut y = 70;

    // The infra box.
    // One more line for the veth pair when the pod has one.
    let pair = p
        .infra
        .as_ref()
        .and_then(|i| i.link.as_ref())
        .map(super::picture::pair_words);
    let infra_h = if pair.is_some() { 104 } else { 82 };
    match &p.infra {
        Some(infra) => {
            let inode = |i: Option<u64>| i.map(|i| i.to_string()).unwrap_or_else(|| "?".into());
            rect(&mut s, 40, y, inner, infra_h, "infra");
            text(
                &mut s,
                52,
                y + 22,
                "title",
                &format!("infra (pause) · PID {}", infra.pid),
            );
            text(
                &mut s,
                52,
                y + 44,
                "mono",
                &format!(
                    "holds net:[{}]  ipc:[{}]  uts:[{}]",
                    inode(infra.net),
                    inode(infra.ipc),
                    inode(infra.uts)
                ),
            );
            text(
                &mut s,
                52,
                y + 66,
                "mono",
                &format!(
                    "hostname {} · interfaces {} · addresses {}",
                    infra.hostname.as_deref().unwrap_or("?"),
                    join(&infra.interfaces),
                    join(&infra.addresses)
                ),
            );
            if let Some(pair) = &pair {
                text(&mut s, 52, y + 88, "mono", &format!("veth pair {pair}"));
            }
        }
        None => {
            rect(&mut s, 40, y, inner, infra_h, "gone");
            text(&mut s, 52, y + 30, "title", "infra: gone");
            text(
                &mut s,
                52,
                y + 54,
                "small",
                "the pod's net, ipc and uts namespaces went with it",
            );
        }
    }
    let infra_bottom = y + infra_h;
    y = infra_bottom + 60;

    // One row, in the order the kernel started them: the init containers (one after
    // the other), then the containers. Lines first, boxes over them.
    let row: Vec<(&ContainerBox, bool)> = p
        .init_containers
        .iter()
        .map(|c| (c, true))
        .chain(p.containers.iter().map(|c| (c, false)))
        .collect();
    let mut lines = String::new();
    let cbox_h = 112;
    let cont_y = y;
    let left = |i: usize| 40 + i * (BOX_W + GAP);
    let centre = |i: usize| left(i) + BOX_W / 2;
    for (i, (c, _)) in row.iter().enumerate() {
        let x = centre(i);
        let class = if c.shared.is_empty() {
            "join gone"
        } else {
            "join"
        };
        let _ = writeln!(
            lines,
            r#"<line class="{class}" x1="{x}" y1="{cont_y}" x2="{x}" y2="{infra_bottom}"/>"#
        );
        let label = match (c.pid, c.shared.is_empty()) {
            (None, _) => "not running now".to_string(),
            (Some(_), true) => "not joined".to_string(),
            (Some(_), false) => format!("setns {}", join(&c.shared)),
        };
        text(&mut lines, x + 6, cont_y - 8, "small label", &label);
    }

    // Volumes under the containers, a line from each container to what it mounts.
    let vol_y = cont_y + cbox_h + 90;
    // Volumes share the pod's width: long host paths need the room.
    let vol_w = (inner - (nv - 1) * GAP) / nv;
    let vol_x = |i: usize| 40 + i * (vol_w + GAP);
    let max_chars = ((vol_w - 20) as f64 / CHAR_W) as usize;
    let vol_h = p
        .volumes
        .iter()
        .map(|v| 50 + 15 * wrap(&v.host_path.display().to_string(), max_chars).len())
        .max()
        .unwrap_or(0);
    let mut labels = String::new();
    for (vi, v) in p.volumes.iter().enumerate() {
        let vx = vol_x(vi) + vol_w / 2;
        for m in &v.mounts {
            let Some(ci) = row.iter().position(|(c, _)| c.name == m.container) else {
                continue;
            };
            let cx = left(ci) + 30 + vi * 24;
            let mode = if m.read_only { "ro" } else { "rw" };
            let class = if m.read_only { "mount ro" } else { "mount" };
            let top = cont_y + cbox_h;
            let _ = writeln!(
                lines,
                r#"<line class="{class}" x1="{cx}" y1="{top}" x2="{vx}" y2="{vol_y}"/>"#
            );
            // The label halfway down the line, on a halo so lines do not cross it.
            let (lx, ly) = ((cx + vx) / 2, (top + vol_y) / 2 + 4);
            let _ = writeln!(
                labels,
                r#"<text class="small label" x="{lx}" y="{ly}" text-anchor="middle">{}</text>"#,
                escape(&format!("{} ({mode})", m.path))
            );
        }
    }
    s.push_str(&lines);
    s.push_str(&labels);

    let inits = p.init_containers.len();
    if inits > 0 {
        text(
            &mut s,
            40,
            cont_y - 30,
            "small label",
            "init containers first, one after the other, each to completion; then the containers",
        );
    }
    for (i, (c, init)) in row.iter().enumerate() {
        let title = if *init {
            format!("init {}. {}", i + 1, c.name)
        } else {
            c.name.clone()
        };
        container(&mut s, left(i), cont_y, cbox_h, &title, c, !*init);
        // An arrow from each init container to the next one, and to the containers.
        if *init {
            let (ax, ay) = (left(i) + BOX_W, cont_y + cbox_h / 2);
            let _ = writeln!(
                s,
                r#"<line class="arrow" x1="{ax}" y1="{ay}" x2="{}" y2="{ay}"/>"#,
                ax + GAP
            );
        }
    }
    for (i, v) in p.volumes.iter().enumerate() {
        let x = vol_x(i);
        rect(&mut s, x, vol_y, vol_w, vol_h, "volume");
        text(&mut s, x + 10, vol_y + 20, "title", &v.name);
        text(
            &mut s,
            x + 10,
            vol_y + 38,
            "small",
            &format!("{} on the host:", v.kind),
        );
        for (k, part) in wrap(&v.host_path.display().to_string(), max_chars)
            .iter()
            .enumerate()
        {
            text(&mut s, x + 10, vol_y + 54 + k * 15, "mono", part);
        }
    }

    let height = vol_y + vol_h + 40;
    let mut title = format!("Pod {} · {}", p.name, p.phase);
    if !p.reason.is_empty() {
        title.push_str(&format!(" ({})", p.reason));
    }
    let mut doc = String::new();
    let _ = writeln!(
        doc,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">
<style>
  text {{ font-family: sans-serif; font-size: 13px; fill: #222; }}
  .title {{ font-weight: bold; font-size: 14px; }}
  .pod-title {{ font-weight: bold; font-size: 16px; }}
  .mono {{ font-family: monospace; font-size: 12px; }}
  .small {{ font-size: 11px; fill: #444; }}
  .label {{ stroke: #f4f8fc; stroke-width: 4px; paint-order: stroke; }}
  rect {{ stroke-width: 1.5; }}
  .pod {{ fill: #f4f8fc; stroke: #326ce5; stroke-width: 2; }}
  .infra {{ fill: #dde8fb; stroke: #326ce5; }}
  .gone {{ fill: #eeeeee; stroke: #999999; stroke-dasharray: 6 4; }}
  .container {{ fill: #ffffff; stroke: #333333; }}
  .init {{ fill: #fff8e6; stroke: #b7791f; }}
  .volume {{ fill: #eaf7ea; stroke: #2f855a; }}
  line {{ stroke-width: 1.5; }}
  .join {{ stroke: #326ce5; }}
  .join.gone {{ stroke: #999999; stroke-dasharray: 4 4; }}
  .mount {{ stroke: #2f855a; }}
  .mount.ro {{ stroke-dasharray: 5 3; }}
  .arrow {{ stroke: #b7791f; stroke-width: 2; }}
</style>
<rect class="pod" x="20" y="20" width="{}" height="{}" rx="12"/>"#,
        width - 40,
        height - 40
    );
    text(&mut doc, 36, 48, "pod-title", &title);
    doc.push_str(&s);
    doc.push_str("</svg>\n");
    doc
}

fn container(
    s: &mut String,
    x: usize,
    y: usize,
    h: usize,
    title: &str,
    c: &ContainerBox,
    app: bool,
) {
    rect(s, x, y, BOX_W, h, if app { "container" } else { "init" });
    text(s, x + 10, y + 20, "title", title);
    text(s, x + 10, y + 38, "mono", &c.image);
    let pid = c.pid.map(|p| format!(" · PID {p}")).unwrap_or_default();
    text(s, x + 10, y + 55, "small", &format!("{}{pid}", c.state));
    if !c.own.is_empty() {
        text(
            s,
            x + 10,
            y + 74,
            "small",
            &format!("own: {}", join(&c.own)),
        );
    }
    if !c.shared.is_empty() {
        text(
            s,
            x + 10,
            y + 90,
            "small",
            &format!("pod's: {}", join(&c.shared)),
        );
    }
}

fn rect(s: &mut String, x: usize, y: usize, w: usize, h: usize, class: &str) {
    let _ = writeln!(
        s,
        r#"<rect class="{class}" x="{x}" y="{y}" width="{w}" height="{h}" rx="6"/>"#
    );
}

fn text(s: &mut String, x: usize, y: usize, class: &str, content: &str) {
    let _ = writeln!(
        s,
        r#"<text class="{class}" x="{x}" y="{y}">{}</text>"#,
        escape(content)
    );
}

/// Text made safe for XML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn join<S: AsRef<str>>(items: &[S]) -> String {
    super::picture::names_or_none(items, ", ")
}

/// A long path cut into lines of at most `max` characters, preferably after a `/`.
fn wrap(path: &str, max: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for part in path.split_inclusive('/') {
        let last = lines.len() - 1;
        if !lines[last].is_empty() && lines[last].chars().count() + part.chars().count() > max {
            lines.push(String::new());
        }
        let mut rest: Vec<char> = part.chars().collect();
        while rest.len() > max {
            let tail = rest.split_off(max);
            let last = lines.len() - 1;
            lines[last].extend(rest);
            lines.push(String::new());
            rest = tail;
        }
        let last = lines.len() - 1;
        lines[last].extend(rest);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_paths_after_slashes() {
        let lines = wrap(
            "/var/lib/minipod/pods/abc/volumes/kubernetes.io~empty-dir/x",
            20,
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert_eq!(
            lines.concat(),
            "/var/lib/minipod/pods/abc/volumes/kubernetes.io~empty-dir/x"
        );
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;");
    }
}
