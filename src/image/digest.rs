//! Content digests (`sha256:<64 hex>`) and a reader that hashes what passes through it.

use anyhow::{bail, Result};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{self, Read};

/// A sha256 content digest. The only algorithm minipod accepts (as Docker).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parse `sha256:<64 lowercase hex>`.
    pub fn parse(s: &str) -> Result<Digest> {
        match s.split_once(':') {
            Some(("sha256", hex)) => Digest::from_hex(hex),
            Some((algorithm, _)) => {
                bail!("digest {s:?}: algorithm {algorithm:?} is not supported (only sha256)")
            }
            None => bail!("digest {s:?}: expected sha256:<64 hex digits>"),
        }
    }

    /// A digest from its 64 hex digits (no `sha256:` prefix).
    pub fn from_hex(hex: &str) -> Result<Digest> {
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            bail!("digest sha256:{hex}: expected 64 lowercase hex digits");
        }
        Ok(Digest {
            hex: hex.to_string(),
        })
    }

    /// The sha256 of `data`.
    pub fn of_bytes(data: &[u8]) -> Digest {
        Digest::from_hasher(Sha256::new_with_prefix(data))
    }

    fn from_hasher(hasher: Sha256) -> Digest {
        let hex = hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Digest { hex }
    }

    /// The 64 hex digits: the file name of a blob or of an unpacked layer.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The 12 hex digits `image ls` shows as IMAGE ID.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl TryFrom<String> for Digest {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Digest> {
        Digest::parse(&s)
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.to_string()
    }
}

/// Passes bytes through while computing their sha256 and counting them.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Read what is left (trailing padding, end-of-archive blocks) so the digest covers
    /// the whole stream, then return the digest and the number of bytes.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((Digest::from_hasher(self.hasher), self.bytes))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let d = Digest::of_bytes(b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
        assert_eq!(d.short(), "e3b0c44298fc");
    }

    #[test]
    fn refuses_bad_digests() {
        assert!(Digest::parse("sha512:abcd").is_err());
        assert!(Digest::parse("e3b0c44298fc").is_err());
        assert!(Digest::from_hex(
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
        )
        .is_err());
        assert!(Digest::from_hex("../../etc").is_err());
    }

    #[test]
    fn hashing_reader_covers_unread_rest() {
        let mut reader = HashingReader::new(&b"hello world"[..]);
        let mut first = [0u8; 5];
        reader.read_exact(&mut first).unwrap();
        let (digest, bytes) = reader.finish().unwrap();
        assert_eq!(digest, Digest::of_bytes(b"hello world"));
        assert_eq!(bytes, 11);
    }
}
