//! Image errors as a cluster shows them: a missing image → the pod is created and
//! shows ErrImagePull, then ImagePullBackOff, with kubelet's events, and starts by
//! itself once `minipod image load` brings the image; an invalid reference is
//! accepted and shows InvalidImageName with kubelet's event.

mod common;
use common::Minipod;

/// The busybox archive scripts/build-images.sh built (and loaded for the others).
fn busybox_archive() -> String {
    let cache =
        std::env::var("MINIPOD_BUILD_CACHE").unwrap_or_else(|_| "/var/lib/minipod/build".into());
    let path = format!("{cache}/busybox.oci.tar");
    assert!(
        std::path::Path::new(&path).is_file(),
        "no {path}: run scripts/build-images.sh first (scripts/test.sh does)"
    );
    path
}

/// `apply` with a short back-off (its supervisor inherits the environment).
fn apply_fast(mp: &Minipod, file: &str) -> String {
    let out = mp
        .command(&[])
        .args(["apply", "-f", file])
        .env_remove("MINIPOD_ROOT")
        .env("MINIPOD_BACKOFF_SECONDS", "0.5")
        .env("MINIPOD_BACKOFF_MAX_SECONDS", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn status_column(mp: &Minipod, name: &str) -> String {
    let out = mp.ok(&["get", "pods", "--no-headers"]);
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|c| c.first() == Some(&name))
        .map(|c| format!("{} {}", c[1], c[2]))
        .unwrap_or_default()
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..300 {
        if cond() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

struct Cleanup<'a>(&'a Minipod);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["delete", "pods", "--all", "--force"]);
    }
}

#[test]
fn a_missing_image_backs_off_and_the_pod_starts_once_it_is_loaded() {
    let mp = Minipod::new("img-missing");
    let _cleanup = Cleanup(&mp);
    let file = mp.write_file(
        "pull.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: pull\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: app\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n",
    );
    // A cluster creates the pod; the kubelet reports the image.
    assert_eq!(apply_fast(&mp, &file), "pod/pull created\n");
    wait_for("ImagePullBackOff", || {
        status_column(&mp, "pull") == "0/1 ImagePullBackOff"
    });
    let described = mp.ok(&["describe", "pod", "pull"]);
    for event in [
        "Pulling image \"busybox:1.36\"",
        "Failed to pull image \"busybox:1.36\": image \"busybox:1.36\" not found in the local store",
        "Error: ErrImagePull",
        "Back-off pulling image \"busybox:1.36\"",
        "Error: ImagePullBackOff",
    ] {
        assert!(described.contains(event), "no {event:?} in:\n{described}");
    }
    let state = mp.ok(&[
        "get",
        "pod",
        "pull",
        "-o",
        "jsonpath={.status.containerStatuses[0].state.waiting.message}",
    ]);
    assert!(
        state.starts_with("Back-off pulling image \"busybox:1.36\": ErrImagePull: "),
        "{state}"
    );
    assert_eq!(
        mp.ok(&["get", "pod", "pull", "-o", "jsonpath={.status.phase}"]),
        "Pending"
    );
    // The image arrives: the next try starts the container, nobody re-applies.
    mp.ok(&["image", "load", "-i", &busybox_archive()]);
    wait_for("Running", || status_column(&mp, "pull") == "1/1 Running");
    let described = mp.ok(&["describe", "pod", "pull"]);
    assert!(
        described.contains("Successfully pulled image \"busybox:1.36\""),
        "{described}"
    );
    assert_eq!(mp.ok(&["exec", "pull", "--", "echo", "in"]), "in\n");
}

#[test]
fn an_invalid_reference_is_accepted_and_shows_invalid_image_name() {
    let mp = Minipod::new("img-invalid");
    let _cleanup = Cleanup(&mp);
    let file = mp.write_file(
        "javaweb.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: javaweb\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: war\n    image: xxx/cpWar:v2\n",
    );
    assert_eq!(apply_fast(&mp, &file), "pod/javaweb created\n");
    wait_for("InvalidImageName", || {
        status_column(&mp, "javaweb") == "0/1 InvalidImageName"
    });
    let described = mp.ok(&["describe", "pod", "javaweb"]);
    // kubelet's event for the seed's javaweb image.
    assert!(
        described.contains("Failed to apply default image tag \"xxx/cpWar:v2\": couldn't parse image name \"xxx/cpWar:v2\": invalid reference format: repository name (xxx/cpWar) must be lowercase"),
        "{described}"
    );
    assert!(described.contains("Error: InvalidImageName"), "{described}");
}
