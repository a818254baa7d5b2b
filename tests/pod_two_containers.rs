//! The seed's two-containers pod, unchanged: a hostPath volume shared by nginx and a
//! debian container that writes index.html and exits (restartPolicy: Never).

mod common;
use common::pods::{seed, PodEnv};

#[test]
fn debian_container_completes_and_leaves_index_html_on_the_host() {
    let env = PodEnv::new("two");
    let data = std::path::Path::new("/data");
    let existed = data.exists();
    env.ok(&["apply", "-f", &seed("two-containers.yaml")]);
    env.wait_for(30, "debian-container Completed", || {
        let pod = env.pod_json("two-containers");
        let statuses = pod["status"]["containerStatuses"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        statuses.iter().any(|c| {
            c["name"] == "debian-container" && c["state"]["terminated"]["reason"] == "Completed"
        })
    });
    let html =
        std::fs::read_to_string(data.join("index.html")).expect("index.html on the host's /data");
    assert_eq!(html, "Hello from the debian container\n");
    // nginx serves what the other container wrote: the volume is shared.
    let page = env.ok(&[
        "exec",
        "two-containers",
        "-c",
        "nginx-container",
        "--",
        "curl",
        "-s",
        "http://localhost/",
    ]);
    assert_eq!(page, "Hello from the debian container\n");
    // kubectl shows a pod with one container Completed and one running as NotReady.
    let row = env.row("two-containers");
    assert_eq!(row[1..3], ["1/2", "NotReady"], "row: {row:?}");
    env.ok(&[
        "delete",
        "pod",
        "two-containers",
        "--grace-period=0",
        "--force",
    ]);
    let _ = std::fs::remove_file(data.join("index.html"));
    if !existed {
        let _ = std::fs::remove_dir(data);
    }
}
