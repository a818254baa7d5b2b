//! `explain pod -o svg` draws the pod: the SVG is well-formed XML, renders to PNG with
//! Debian's `rsvg-convert`, and names every container and volume; `-o text` too.

mod common;
use common::pods::{seed, PodEnv};
use std::process::Command;

#[test]
fn the_picture_is_valid_svg_naming_every_container_and_volume() {
    let env = PodEnv::new("explain-svg");
    env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
    let svg = env.ok(&["explain", "pod", "sidecar-pod", "-o", "svg"]);
    let file = env.root().join("pod.svg");
    std::fs::write(&file, &svg).expect("write pod.svg");

    let xml = Command::new("python3")
        .args([
            "-c",
            "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])",
        ])
        .arg(&file)
        .output()
        .expect("run python3 (scripts/test.sh installs it)");
    assert!(
        xml.status.success(),
        "not well-formed XML: {}",
        String::from_utf8_lossy(&xml.stderr)
    );

    let png = env.root().join("pod.png");
    let render = Command::new("rsvg-convert")
        .arg("-o")
        .arg(&png)
        .arg(&file)
        .output()
        .expect("run rsvg-convert (apt-get install librsvg2-bin; scripts/test.sh does)");
    assert!(
        render.status.success(),
        "rsvg-convert: {}",
        String::from_utf8_lossy(&render.stderr)
    );
    let bytes = std::fs::read(&png).expect("read the PNG");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG came out");

    let infra = env.infra_pid("sidecar-pod");
    for name in [
        "sidecar-pod",
        "nginx",
        "log-reader",
        "shared-logs",
        "nginx:1.27",
    ] {
        assert!(svg.contains(name), "the picture names {name}");
    }
    assert!(svg.contains(&format!("PID {infra}")), "the infra's PID");
    assert!(
        svg.contains("127.0.0.1"),
        "lo's address in the pod's network"
    );

    let text = env.ok(&["explain", "pod", "sidecar-pod", "-o", "text"]);
    for name in ["nginx", "log-reader", "shared-logs", "hostname sidecar-pod"] {
        assert!(
            text.contains(name),
            "the text picture names {name}:\n{text}"
        );
    }
    assert!(
        text.contains("shares net,ipc,uts with infra; own mnt,pid,cgroup"),
        "{text}"
    );
}
