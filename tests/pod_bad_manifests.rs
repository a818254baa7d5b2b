//! Every bad manifest is refused with a message naming the problem, and nothing is
//! created: no pod record, no directory, no process.

mod common;
use common::pods::PodEnv;
use std::path::Path;

fn expectations(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read corpus file");
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no '# expect:' first line", f.display()))
            .to_string();
        out.push((f.display().to_string(), expect));
    }
    out
}

fn assert_refused_and_nothing_created(env: &PodEnv, file: &str, expect: &str) {
    let out = env.run(&["apply", "-f", file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{file} was accepted");
    assert!(
        stderr.contains(expect),
        "{file}: expected {expect:?} in:\n{stderr}"
    );
    let pods = env.root().join("run/pods");
    let left: Vec<_> = std::fs::read_dir(&pods)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{file} left {left:?}");
    assert!(
        !env.root().join("pods").exists()
            || std::fs::read_dir(env.root().join("pods"))
                .map(|mut d| d.next().is_none())
                .unwrap_or(true)
    );
}

#[test]
fn bad_manifests_are_refused_and_create_nothing() {
    let env = PodEnv::new("bad");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests");
    let mut cases = expectations(&corpus.join("bad"));
    cases.extend(expectations(&corpus.join("bad-on-this-host")));
    assert!(
        cases.len() >= 20,
        "a corpus of at least 20, got {}",
        cases.len()
    );
    for (file, expect) in &cases {
        assert_refused_and_nothing_created(&env, file, expect);
    }
    assert!(env.pods().is_empty());
}

#[test]
fn one_bad_document_stops_the_good_ones_too() {
    let env = PodEnv::new("bad-mixed");
    let file = env.manifest(
        "mixed.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec: {containers: [{name: a, image: busybox:1.36}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: [{name: a, image: busybox:1.36, volumeMounts: [{name: v, mountPath: /v}]}]\n  volumes: [{name: v, hostPath: {path: /no-such-dir-for-minipod, type: Directory}}]\n",
    );
    assert_refused_and_nothing_created(&env, &file, "/no-such-dir-for-minipod");
}
