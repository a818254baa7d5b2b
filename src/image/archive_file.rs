//! The tarball given to `image load`, opened for random access: one pass records where
//! each member's bytes are, then blobs are read straight from the file by offset.
//! A gzip-compressed tarball (`docker save | gzip`) is first decompressed into a scratch
//! file in the load's staging directory.

use super::compression::{self, Compression};
use super::progress::Progress;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Manifests, configs and index files are small; refuse absurd ones instead of
/// reading gigabytes into memory.
const MAX_JSON_SIZE: u64 = 16 * 1024 * 1024;
/// Symlinks between members (older `docker save` links duplicate layers) are followed
/// at most this many times.
const MAX_LINK_HOPS: usize = 8;

enum Member {
    File { offset: u64, size: u64 },
    Symlink { target: String },
}

pub struct ArchiveFile {
    file: File,
    members: HashMap<String, Member>,
    pub progress: Progress,
}

impl ArchiveFile {
    /// Open `path`, decompressing it into `scratch_dir` if it is gzip-compressed.
    pub fn open(path: &Path, scratch_dir: &Path) -> Result<ArchiveFile> {
        let file = File::open(path).with_context(|| format!("open {}", path.display()))?;
        let compression = compression::detect(&mut BufReader::new(&file))
            .with_context(|| format!("read {}", path.display()))?;
        // Detection read ahead through the shared file offset; start again from byte 0.
        (&file)
            .rewind()
            .with_context(|| format!("seek in {}", path.display()))?;
        let file = match compression {
            Compression::None => file,
            Compression::Gzip => {
                let scratch = scratch_dir.join("input.tar");
                let mut out = File::options()
                    .create_new(true)
                    .read(true)
                    .write(true)
                    .open(&scratch)
                    .with_context(|| format!("create {}", scratch.display()))?;
                let mut input = compression::decompressed(BufReader::new(&file))?;
                io::copy(&mut input, &mut out)
                    .with_context(|| format!("decompress {}", path.display()))?;
                out
            }
        };
        // Decompression left the offset at the end; the index reads from the start.
        (&file)
            .rewind()
            .with_context(|| format!("seek in {}", path.display()))?;
        let total = file
            .metadata()
            .with_context(|| format!("stat {}", path.display()))?
            .len();
        let members = index_members(&file).map_err(|err| {
            // The tar crate quotes the bad header bytes; keep the message to one short line.
            let reason: String = format!("{err:#}")
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(80)
                .collect();
            anyhow::anyhow!(
                "{} is not a readable tar archive ({reason}...)",
                path.display()
            )
        })?;
        Ok(ArchiveFile {
            file,
            members,
            progress: Progress::new(total),
        })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// The size and a reader of member `name` (a regular file, links followed).
    pub fn open_member(&self, name: &str) -> Result<(u64, MemberReader<'_>)> {
        let (offset, size) = self.find(name)?;
        let reader = MemberReader {
            file: &self.file,
            position: offset,
            end: offset + size,
            progress: &self.progress,
        };
        Ok((size, reader))
    }

    /// The whole content of a small member (JSON documents).
    pub fn read_small(&self, name: &str) -> Result<Vec<u8>> {
        let (size, mut reader) = self.open_member(name)?;
        if size > MAX_JSON_SIZE {
            bail!("{name} is {size} bytes, too large for a manifest or config");
        }
        let mut data = Vec::with_capacity(size as usize);
        reader
            .read_to_end(&mut data)
            .with_context(|| format!("read {name} from the tarball"))?;
        Ok(data)
    }

    fn find(&self, name: &str) -> Result<(u64, u64)> {
        let mut name = clean_name(name);
        for _ in 0..MAX_LINK_HOPS {
            match self.members.get(&name) {
                Some(Member::File { offset, size }) => return Ok((*offset, *size)),
                Some(Member::Symlink { target }) => name = resolve_link(&name, target),
                None => bail!("the tarball has no file {name:?}"),
            }
        }
        bail!("the tarball's {name:?} is a chain of too many symlinks")
    }
}

/// Reads one member's bytes from the tarball by offset, counting progress.
pub struct MemberReader<'a> {
    file: &'a File,
    position: u64,
    end: u64,
    progress: &'a Progress,
}

impl Read for MemberReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = (self.end - self.position).min(buf.len() as u64) as usize;
        if left == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..left], self.position)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "tarball ends inside a member",
            ));
        }
        self.position += n as u64;
        self.progress.advance(n);
        Ok(n)
    }
}

fn index_members(file: &File) -> Result<HashMap<String, Member>> {
    let mut archive = tar::Archive::new(file);
    let mut members = HashMap::new();
    for entry in archive.entries().context("read tar headers")? {
        let entry = entry.context("read tar header")?;
        let name = clean_name(&String::from_utf8_lossy(&entry.path_bytes()));
        let header = entry.header();
        let member = match header.entry_type() {
            t if t.is_file() => Member::File {
                offset: entry.raw_file_position(),
                size: entry.size(),
            },
            t if t.is_symlink() || t.is_hard_link() => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                // A hardlink names its target from the archive root, a symlink from
                // its own directory.
                let target = if t.is_hard_link() {
                    format!("/{target}")
                } else {
                    target
                };
                Member::Symlink { target }
            }
            _ => continue,
        };
        members.insert(name, member);
    }
    Ok(members)
}

/// `./blobs//sha256/x` → `blobs/sha256/x`; `..` pops (these names are only looked up in
/// our own table, never used as file-system paths).
fn clean_name(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn resolve_link(link: &str, target: &str) -> String {
    if target.starts_with('/') {
        return clean_name(target);
    }
    let dir = link.rsplit_once('/').map_or("", |(dir, _)| dir);
    clean_name(&format!("{dir}/{target}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_links() {
        assert_eq!(clean_name("./blobs//sha256/x"), "blobs/sha256/x");
        assert_eq!(
            resolve_link("abc/layer.tar", "../def/layer.tar"),
            "def/layer.tar"
        );
        assert_eq!(resolve_link("abc/layer.tar", "/x/y"), "x/y");
    }
}
