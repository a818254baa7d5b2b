//! Every page in docs/lessons runs: `minipod demo PAGE --no-pause --check` runs the
//! page's commands in this test's own `--root` and fails when an output differs from
//! the one the page shows (PIDs, inodes, uids and ages allowed for).

mod common;
use common::pods::PodEnv;

/// The pages, each run by a test below; a page without a test fails `every_page_runs`.
const PAGES: [&str; 10] = [
    "a-shared-network.md",
    "b-pod-lives-with-infra.md",
    "c-emptydir-lifetime.md",
    "d-emptydir-hides-log-link.md",
    "e-containers-start-in-no-order.md",
    "f-init-containers-in-order.md",
    "g-why-an-infra-process.md",
    "h-root-is-not-root.md",
    "i-one-pod-one-ip.md",
    "j-deployment-keeps-two-pods.md",
];

/// Pages run one at a time: each waits on pods with bounded retries, and several
/// pages at once on a 2-core machine only add load, not coverage.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run_page(page: &str) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let env = PodEnv::new("lesson");
    let path = format!("{}/docs/lessons/{page}", env!("CARGO_MANIFEST_DIR"));
    let out = env.run(&["demo", &path, "--no-pause", "--check"]);
    assert!(
        out.status.success(),
        "lesson {page} does not hold:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("$ minipod"), "the demo shows its commands");
}

#[test]
fn lesson_a_shared_network() {
    run_page(PAGES[0]);
}

#[test]
fn lesson_b_pod_lives_with_infra() {
    run_page(PAGES[1]);
}

#[test]
fn lesson_c_emptydir_lifetime() {
    run_page(PAGES[2]);
}

#[test]
fn lesson_d_emptydir_hides_log_link() {
    run_page(PAGES[3]);
}

#[test]
fn lesson_e_containers_start_in_no_order() {
    run_page(PAGES[4]);
}

#[test]
fn lesson_f_init_containers_in_order() {
    run_page(PAGES[5]);
}

#[test]
fn lesson_g_why_an_infra_process() {
    run_page(PAGES[6]);
}

#[test]
fn lesson_h_root_is_not_root() {
    run_page(PAGES[7]);
}

#[test]
fn lesson_i_one_pod_one_ip() {
    run_page(PAGES[8]);
}

#[test]
fn lesson_j_deployment_keeps_two_pods() {
    run_page(PAGES[9]);
}

#[test]
fn every_page_runs() {
    let dir = format!("{}/docs/lessons", env!("CARGO_MANIFEST_DIR"));
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .expect("list docs/lessons")
        .map(|e| {
            e.expect("list docs/lessons")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".md") && n != "README.md")
        .collect();
    pages.sort();
    assert_eq!(
        pages, PAGES,
        "each lesson page needs its test in tests/lessons.rs"
    );
}
