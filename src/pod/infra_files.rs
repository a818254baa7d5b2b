//! The files the pause program needs in the infra's own root: itself, the dynamic
//! loader its ELF header names (`PT_INTERP`) and the shared libraries it needs
//! (`DT_NEEDED`, and theirs), found where that loader's directory is, as `ldd` would
//! find them. The infra's root holds these and nothing else, bound read-only.

use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A host file and where it appears in the infra's root.
#[derive(Debug, Clone, PartialEq)]
pub struct RootFile {
    pub host: PathBuf,
    pub inside: PathBuf,
}

/// The pause program (at `/minipod-pause` inside) and everything it loads.
pub fn for_program(program: &Path) -> Result<Vec<RootFile>> {
    let elf = Elf::read(program)?;
    let mut files = vec![RootFile {
        host: program.to_path_buf(),
        inside: PathBuf::from("/minipod-pause"),
    }];
    let Some(interp) = elf.interp.clone() else {
        // A static program needs nothing else.
        return Ok(files);
    };
    let interp = PathBuf::from(interp);
    let interp_host = std::fs::canonicalize(&interp)
        .with_context(|| format!("find the dynamic loader {}", interp.display()))?;
    let mut dirs: Vec<PathBuf> = interp_host
        .parent()
        .map(Path::to_path_buf)
        .into_iter()
        .collect();
    for d in ["/lib64", "/usr/lib64", "/lib", "/usr/lib"] {
        dirs.push(PathBuf::from(d));
    }
    files.push(RootFile {
        host: interp_host,
        inside: interp,
    });
    let mut wanted: Vec<String> = elf.needed;
    let mut seen = BTreeSet::new();
    while let Some(name) = wanted.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let found = dirs
            .iter()
            .map(|d| d.join(&name))
            .find(|p| p.is_file())
            .with_context(|| format!("find the library {name} that the pause program needs"))?;
        let host = std::fs::canonicalize(&found)
            .with_context(|| format!("resolve {}", found.display()))?;
        // The loader searches the same directories inside: place it where it was found
        // (once: libc names the loader, which is already there).
        if !files.iter().any(|f| f.inside == found || f.host == host) {
            wanted.extend(Elf::read(&host)?.needed);
            files.push(RootFile {
                host,
                inside: found,
            });
        }
    }
    Ok(files)
}

/// What we read of an ELF file: its loader and the libraries it names.
struct Elf {
    interp: Option<String>,
    needed: Vec<String>,
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;

impl Elf {
    fn read(path: &Path) -> Result<Elf> {
        let data = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
        Elf::parse(&data).with_context(|| format!("read the ELF headers of {}", path.display()))
    }

    /// A 64-bit little-endian ELF (the machines minipod runs on).
    fn parse(data: &[u8]) -> Result<Elf> {
        if data.get(..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1]) {
            bail!("not a 64-bit little-endian ELF file");
        }
        let phoff = u64_at(data, 0x20)?;
        let phentsize = u64::from(u16_at(data, 0x36)?);
        let phnum = u64::from(u16_at(data, 0x38)?);
        let mut loads = Vec::new();
        let mut interp = None;
        let mut dynamic = None;
        for i in 0..phnum {
            let ph = offset(phoff, i.checked_mul(phentsize))?;
            let typ = u32_at(data, ph)?;
            let (off, vaddr, filesz) = (
                u64_at(data, ph.saturating_add(8))?,
                u64_at(data, ph.saturating_add(16))?,
                u64_at(data, ph.saturating_add(32))?,
            );
            match typ {
                PT_LOAD => loads.push((vaddr, off, filesz)),
                PT_INTERP => interp = Some(c_string(data, off)?),
                PT_DYNAMIC => dynamic = Some((off, filesz)),
                _ => {}
            }
        }
        let mut needed = Vec::new();
        if let Some((off, size)) = dynamic {
            let mut strtab = None;
            let mut names = Vec::new();
            for i in 0..size / 16 {
                let entry = offset(off, i.checked_mul(16))?;
                let (tag, val) = (u64_at(data, entry)?, u64_at(data, entry.saturating_add(8))?);
                match tag {
                    DT_NULL => break,
                    DT_NEEDED => names.push(val),
                    DT_STRTAB => strtab = Some(val),
                    _ => {}
                }
            }
            if let Some(strtab) = strtab {
                // The string table is given as an address: find it in the file.
                let table = loads
                    .iter()
                    .find(|(vaddr, _, filesz)| strtab >= *vaddr && strtab - vaddr < *filesz)
                    .map(|(vaddr, off, _)| strtab - vaddr + off)
                    .context("the string table is in no loaded segment")?;
                for name in names {
                    needed.push(c_string(data, offset(table, Some(name))?)?);
                }
            }
        }
        Ok(Elf { interp, needed })
    }
}

fn offset(base: u64, plus: Option<u64>) -> Result<usize> {
    let total = plus
        .and_then(|p| base.checked_add(p))
        .context("an offset beyond the file")?;
    usize::try_from(total).context("an offset beyond the file")
}

fn bytes<const N: usize>(data: &[u8], at: usize) -> Result<[u8; N]> {
    data.get(at..at.checked_add(N).context("offset")?)
        .and_then(|b| b.try_into().ok())
        .context("the file is shorter than its headers say")
}

fn u16_at(data: &[u8], at: usize) -> Result<u16> {
    Ok(u16::from_le_bytes(bytes(data, at)?))
}

fn u32_at(data: &[u8], at: usize) -> Result<u32> {
    Ok(u32::from_le_bytes(bytes(data, at)?))
}

fn u64_at(data: &[u8], at: usize) -> Result<u64> {
    Ok(u64::from_le_bytes(bytes(data, at)?))
}

fn c_string(data: &[u8], at: impl TryInto<usize>) -> Result<String> {
    let at: usize = at.try_into().ok().context("an offset beyond the file")?;
    let rest = data.get(at..).context("a string beyond the file")?;
    let end = rest
        .iter()
        .position(|b| *b == 0)
        .context("an unterminated string")?;
    Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_this_test_binary_loads() {
        let me = std::env::current_exe().unwrap();
        let files = for_program(&me).unwrap();
        assert_eq!(files[0].inside, Path::new("/minipod-pause"));
        // A dynamically linked test binary has a loader and libc among its files.
        if Elf::read(&me).unwrap().interp.is_some() {
            assert!(files
                .iter()
                .any(|f| f.inside.to_string_lossy().contains("libc.so")));
            assert!(files.iter().all(|f| f.host.is_file()));
        }
    }

    #[test]
    fn refuses_what_is_not_elf() {
        assert!(Elf::parse(b"#!/bin/sh\n").is_err());
        assert!(Elf::parse(&[0x7f, b'E', b'L', b'F', 2, 1, 0, 0]).is_err());
    }
}
