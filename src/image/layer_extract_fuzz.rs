//! Fuzzing layer extraction: random tar entries (hostile names, `..`, absolute
//! paths, symlinks and hardlinks pointing out, whiteouts, devices, pax paths) and
//! byte-mutated archives must be refused or extracted inside the layer directory,
//! never outside it, never with a panic. Seeded: a failing case names its seed.
//!
//! Each case extracts into `case/root`, beside a canary file and an empty sibling
//! directory that hostile names and links aim at; after it, `case` must hold exactly
//! those three, the canary unchanged and the sibling empty. Needs root (devices,
//! owners), like every layer test.

use super::layer_extract::extract_layer;
use crate::fuzz::{for_a_while, mutate, Rng};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tar::{EntryType, Header};

const CANARY: &[u8] = b"outside the layer: must never change\n";

struct Sandbox {
    case: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let case = std::env::temp_dir().join(format!("minipod-fuzz-layer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&case);
        std::fs::create_dir_all(case.join("sibling")).unwrap();
        std::fs::write(case.join("canary"), CANARY).unwrap();
        Sandbox { case }
    }

    fn root(&self) -> PathBuf {
        self.case.join("root")
    }

    fn fresh_root(&self) {
        let _ = std::fs::remove_dir_all(self.root());
        std::fs::create_dir(self.root()).unwrap();
    }

    /// Nothing outside `root` was touched.
    fn check_outside(&self, seed: u64) {
        let mut names: Vec<String> = std::fs::read_dir(&self.case)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["canary", "root", "sibling"], "seed {seed}");
        assert_eq!(
            std::fs::read(self.case.join("canary")).unwrap(),
            CANARY,
            "seed {seed}"
        );
        let meta = std::fs::symlink_metadata(self.case.join("canary")).unwrap();
        assert!(meta.file_type().is_file(), "seed {seed}: canary replaced");
        let sibling = std::fs::read_dir(self.case.join("sibling"))
            .unwrap()
            .count();
        assert_eq!(sibling, 0, "seed {seed}: written into the sibling");
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.case);
    }
}

/// A random name: mostly harmless parts, a hostile one one time in `hostility`.
fn name(rng: &mut Rng, sandbox: &Path, hostility: usize) -> Vec<u8> {
    let absolute_sibling = sandbox.join("sibling").to_string_lossy().into_owned();
    let harmless = ["a", "b", "dir", "link", "é", "x\u{7f}"];
    let hostile = [
        "..",
        ".",
        "",
        ".wh..wh.plnk",
        "../sibling",
        "../canary",
        &absolute_sibling,
        "/",
    ];
    let mut out = String::new();
    if rng.below(8 * hostility) == 0 {
        out.push('/');
    }
    for i in 0..1 + rng.below(4) {
        if i > 0 {
            out.push('/');
        }
        let part: &&str = if rng.below(hostility) == 0 {
            rng.pick(&hostile)
        } else {
            rng.pick(&harmless)
        };
        out.push_str(part);
    }
    // Whiteouts last, where a layer has them.
    if rng.below(8) == 0 {
        let whiteout: &&str = rng.pick(&[".wh.a", ".wh..wh..opq"]);
        out.push('/');
        out.push_str(whiteout);
    }
    if rng.below(20) == 0 {
        out.push_str(&"long".repeat(40));
    }
    out.into_bytes()
}

fn header(rng: &mut Rng, kind: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(*rng.pick(&[0o644, 0o755, 0o4755, 0o000, 0o7777, 0o1777]));
    header.set_uid(*rng.pick(&[0, 1000, 65534, u32::MAX as u64]));
    header.set_gid(*rng.pick(&[0, 1000, 65534]));
    header.set_mtime(*rng.pick(&[0, 1_700_000_000, u32::MAX as u64]));
    if matches!(kind, EntryType::Char | EntryType::Block) {
        let _ = header.set_device_major(*rng.pick(&[0, 1, 8, 4095]));
        let _ = header.set_device_minor(*rng.pick(&[0, 3, 5, 255]));
    }
    header
}

/// Sets raw name bytes (the tar crate's setters refuse `..`: a hostile image does not).
fn set_raw(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field.fill(0);
    field[..n].copy_from_slice(&value[..n]);
}

fn random_layer(rng: &mut Rng, sandbox: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..1 + rng.below(10) {
        // Weighted: mostly the entries every image has.
        let kinds = [
            EntryType::Regular,
            EntryType::Regular,
            EntryType::Regular,
            EntryType::Directory,
            EntryType::Directory,
            EntryType::Directory,
            EntryType::Symlink,
            EntryType::Directory,
            EntryType::Symlink,
            EntryType::Link,
            EntryType::Char,
            EntryType::Block,
            EntryType::Fifo,
            EntryType::XHeader,
            EntryType::GNULongName,
        ];
        let kind = if rng.below(50) == 0 {
            EntryType::new(b'Z')
        } else {
            *rng.pick(&kinds)
        };
        let entry_name = name(rng, sandbox, 12);
        let content: Vec<u8> = match kind {
            EntryType::Regular => b"data".repeat(rng.below(300)),
            EntryType::XHeader => {
                let record_body = format!(
                    " path={}\n",
                    String::from_utf8_lossy(&name(rng, sandbox, 4))
                );
                let mut length = record_body.len() + 2;
                if length.to_string().len() + record_body.len() != length {
                    length += 1;
                }
                format!("{length}{record_body}").into_bytes()
            }
            EntryType::GNULongName => {
                let mut long = name(rng, sandbox, 4);
                long.push(0);
                long
            }
            _ => Vec::new(),
        };
        let mut header = header(rng, kind, content.len() as u64);
        set_raw(&mut header.as_old_mut().name, &entry_name);
        set_raw(&mut header.as_old_mut().linkname, &name(rng, sandbox, 2));
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&content);
        let pad = (512 - content.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0, pad));
    }
    out.extend(std::iter::repeat_n(0, 1024));
    out
}

#[test]
fn random_and_mutated_layers_stay_inside_their_directory() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "layer extraction tests run as root"
    );
    let sandbox = Sandbox::new();
    let tokens: &[&[u8]] = &[b"..", b"/", b"\0", b"0000777\0", b"ustar\0", b"\xff"];
    let mut refused = 0u64;
    let cases = for_a_while(Duration::from_secs(6), 200, |seed| {
        let mut rng = Rng::new(seed);
        let mut layer = random_layer(&mut rng, &sandbox.case);
        if rng.below(4) == 0 {
            let other = random_layer(&mut rng, &sandbox.case);
            mutate(&mut rng, &mut layer, tokens, &other);
        }
        sandbox.fresh_root();
        let result = std::panic::catch_unwind(|| extract_layer(layer.as_slice(), &sandbox.root()));
        match result {
            Err(_) => panic!("seed {seed}: extraction panicked"),
            Ok(Err(_)) => refused += 1,
            Ok(Ok(_)) => {}
        }
        sandbox.check_outside(seed);
    });
    // The generator is hostile enough that many layers are refused, not all.
    assert!(
        refused > 0 && refused < cases,
        "{refused} of {cases} refused"
    );
}
