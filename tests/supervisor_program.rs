//! The per-pod supervisor is its own program, `minipod-shim`, installed beside
//! `minipod`: it links the pod and runtime layers only (no CLI, YAML or API-server
//! code), a pod's supervisor process runs it, and `delete` finds it by that program
//! even when nothing but its command line names it.

mod common;
use common::pods::{processes_mentioning, PodEnv};
use std::path::Path;
use std::process::Command;

/// The symbols an ELF file defines (its `.symtab`), and the size of its code
/// (every section with SHF_EXECINSTR).
struct Elf {
    symbols: Vec<String>,
    code_bytes: u64,
}

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap()) as usize
}
fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}
fn u64_at(b: &[u8], at: usize) -> usize {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize
}

fn c_string(b: &[u8], at: usize) -> String {
    let end = b[at..].iter().position(|c| *c == 0).unwrap() + at;
    String::from_utf8_lossy(&b[at..end]).into_owned()
}

/// Read an ELF64 little-endian file's defined functions and data: what the linker
/// kept after dropping every section nothing reaches.
fn read_elf(path: &Path) -> Elf {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..5],
        b"\x7fELF\x02",
        "{} is an ELF64 file",
        path.display()
    );
    let (shoff, shentsize, shnum) = (u64_at(&b, 0x28), u16_at(&b, 0x3a), u16_at(&b, 0x3c));
    let section = |i: usize| shoff + i * shentsize;
    let mut symbols = Vec::new();
    let mut code_bytes = 0u64;
    for i in 0..shnum {
        let sh = section(i);
        let (kind, flags) = (u32_at(&b, sh + 4), u64_at(&b, sh + 8));
        let (offset, size) = (u64_at(&b, sh + 24), u64_at(&b, sh + 32));
        if flags & 0x4 != 0 {
            code_bytes += size as u64;
        }
        if kind != 2 {
            continue; // SHT_SYMTAB only
        }
        let strtab = u64_at(&b, section(u32_at(&b, sh + 40)) + 24);
        for sym in (offset..offset + size).step_by(24) {
            // Functions and data (STT_FUNC, STT_OBJECT) in a section (not SHN_UNDEF):
            // file symbols name every object the linker was given, used or not.
            let kind = b[sym + 4] & 0xf;
            if (kind == 1 || kind == 2) && u16_at(&b, sym + 6) != 0 {
                symbols.push(c_string(&b, strtab + u32_at(&b, sym)));
            }
        }
    }
    Elf {
        symbols,
        code_bytes,
    }
}

/// What the supervisor must not link, as it shows in mangled symbol names: crates by
/// name, minipod's own modules as `7minipod3cli` (a path) or `minipod..cli..` (inside
/// a generic's name).
const NOT_IN_THE_SHIM: [&str; 13] = [
    "clap_builder",
    "clap_lex",
    "saphyr",
    "serde_ignored",
    "serde_path_to_error",
    "7minipod3cli",
    "minipod..cli..",
    "7minipod3api",
    "minipod..api..",
    "7minipod11controllers",
    "minipod..controllers..",
    "7minipod8runc_cli",
    "minipod..runc_cli..",
];

/// The marks some symbol contains, with that symbol. Drop glue is left out: an
/// optimized build merges identical functions (rustc's merge-functions), so the drop of
/// a closure the supervisor runs may carry the name of an identical one in the CLI.
fn linked<'a>(elf: &'a Elf, marks: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    marks
        .iter()
        .filter_map(|m| {
            elf.symbols
                .iter()
                .filter(|s| !s.contains("drop_in_place"))
                .find(|s| s.contains(m))
                .map(|s| (*m, s.as_str()))
        })
        .collect()
}

#[test]
fn the_supervisor_links_neither_the_cli_nor_yaml_nor_the_api_server() {
    let shim_path = Path::new(env!("CARGO_BIN_EXE_minipod-shim"));
    let minipod_path = Path::new(env!("CARGO_BIN_EXE_minipod"));
    let shim = read_elf(shim_path);
    let minipod = read_elf(minipod_path);
    // The reading works: the supervisor's own code is there, and the CLI's is in minipod.
    assert!(
        linked(&shim, &["7minipod3pod10supervisor", "7minipod7runtime"]).len() == 2,
        "no supervisor or runtime symbols read from {}",
        shim_path.display()
    );
    assert_eq!(
        linked(&minipod, &NOT_IN_THE_SHIM).len(),
        NOT_IN_THE_SHIM.len(),
        "minipod itself links all of {NOT_IN_THE_SHIM:?}"
    );
    let wrong = linked(&shim, &NOT_IN_THE_SHIM);
    assert!(wrong.is_empty(), "minipod-shim links {wrong:#?}");
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    eprintln!(
        "minipod-shim: {} bytes, code {} bytes, {} symbols; minipod: {} bytes, code {} bytes, {} symbols",
        size(shim_path),
        shim.code_bytes,
        shim.symbols.len(),
        size(minipod_path),
        minipod.code_bytes,
        minipod.symbols.len()
    );
    assert!(shim.code_bytes < minipod.code_bytes);
    assert!(size(shim_path) < size(minipod_path));
}

#[test]
fn there_is_no_shim_verb_any_more() {
    let env = common::Minipod::new("no-shim-verb");
    let err = env.fails(&["shim", "0123"]);
    assert!(err.contains("unrecognized subcommand 'shim'"), "{err}");
    let err = env.fails(&["host-ports", "1", "127.0.0.1:8080:80"]);
    assert!(
        err.contains("unrecognized subcommand 'host-ports'"),
        "{err}"
    );
}

const SLEEPER: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: sleeper
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, "3600"]
"#;

/// The processes of this test's root whose program is minipod-shim.
fn shims_of(root: &Path) -> Vec<i32> {
    processes_mentioning(&root.display().to_string())
        .into_iter()
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .is_ok_and(|exe| exe.file_name() == Some("minipod-shim".as_ref()))
        })
        .collect()
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

#[test]
fn a_pods_supervisor_runs_minipod_shim_and_delete_finds_it_by_its_command_line() {
    let env = PodEnv::new("shim-program");
    let manifest = env.manifest("sleeper.yaml", SLEEPER);
    // apply, killed (kill -9) as soon as its supervisor runs: the supervisor goes on.
    let mut apply = Command::new(env!("CARGO_BIN_EXE_minipod"))
        .arg("--root")
        .arg(env.root())
        .args(["apply", "-f", &manifest])
        .env_remove("MINIPOD_ROOT")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut shim = 0;
    env.wait_for(20, "the pod's supervisor", || {
        shim = shims_of(env.root()).first().copied().unwrap_or(0);
        shim != 0
    });
    apply.kill().unwrap();
    apply.wait().unwrap();
    env.wait_for(30, "the pod Running without its apply", || {
        env.pods() == ["sleeper"]
            && env.row("sleeper").get(2).map(String::as_str) == Some("Running")
    });

    // The supervisor is the minipod-shim beside minipod, started as `minipod-shim <uid>`.
    let status = env.status("sleeper");
    assert_eq!(status["supervisor"]["pid"].as_i64(), Some(shim as i64));
    let beside = Path::new(env!("CARGO_BIN_EXE_minipod")).with_file_name("minipod-shim");
    assert_eq!(
        std::fs::read_link(format!("/proc/{shim}/exe")).unwrap(),
        beside.canonicalize().unwrap()
    );
    let uid = env.pod_json("sleeper")["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let cmdline = std::fs::read(format!("/proc/{shim}/cmdline")).unwrap();
    let args: Vec<&[u8]> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .collect();
    assert_eq!(args.len(), 2, "{:?}", String::from_utf8_lossy(&cmdline));
    assert!(args[0].ends_with(b"minipod-shim") && args[1] == uid.as_bytes());
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{shim}/comm"))
            .unwrap()
            .trim(),
        "minipod-shim"
    );

    // A status that lost the supervisor's PID: delete finds it by its command line.
    let status_path = env.root().join("run/pods").join(&uid).join("status.json");
    let mut st: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&status_path).unwrap()).unwrap();
    st.as_object_mut().unwrap().remove("supervisor");
    let tmp = status_path.with_extension("tmp");
    std::fs::write(&tmp, st.to_string()).unwrap();
    std::fs::rename(&tmp, &status_path).unwrap();
    let infra = env.infra_pid("sleeper");
    env.ok(&["delete", "pod", "sleeper"]);
    for pid in [shim, infra] {
        assert!(!alive(pid), "process {pid} survived the delete");
    }
    assert!(env.pods().is_empty());
    assert!(shims_of(env.root()).is_empty());
}

#[test]
fn apply_names_the_supervisor_program_when_it_is_missing() {
    let env = PodEnv::new("shim-missing");
    let manifest = env.manifest("sleeper.yaml", SLEEPER);
    // minipod alone in a directory, without minipod-shim beside it.
    let lonely = env.root().join("bin/minipod");
    std::fs::create_dir_all(lonely.parent().unwrap()).unwrap();
    if std::fs::hard_link(env!("CARGO_BIN_EXE_minipod"), &lonely).is_err() {
        std::fs::copy(env!("CARGO_BIN_EXE_minipod"), &lonely).unwrap();
    }
    let out = Command::new(&lonely)
        .arg("--root")
        .arg(env.root())
        .args(["apply", "-f", &manifest])
        .env_remove("MINIPOD_ROOT")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let expected = format!(
        "the pod supervisor program {} is missing",
        env.root().join("bin/minipod-shim").display()
    );
    assert!(err.contains(&expected), "{err}");
    assert!(env.pods().is_empty(), "a pod was left: {:?}", env.pods());
}
