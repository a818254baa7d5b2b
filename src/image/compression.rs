//! Layer compression, recognized by the stream's first bytes (not by media type or name,
//! which `docker save` and friends do not always get right).

use anyhow::{bail, Result};
use flate2::read::MultiGzDecoder;
use std::io::{BufRead, Read};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
const BZIP2_MAGIC: &[u8] = b"BZh";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

/// Look at the first bytes of `stream` (without consuming them) and say how it is compressed.
pub fn detect<R: BufRead>(stream: &mut R) -> Result<Compression> {
    let head = stream.fill_buf()?;
    if head.starts_with(GZIP_MAGIC) {
        Ok(Compression::Gzip)
    } else if head.starts_with(ZSTD_MAGIC) {
        bail!("zstd-compressed layers are not supported (only plain tar and gzip)")
    } else if head.starts_with(XZ_MAGIC) {
        bail!("xz-compressed layers are not supported (only plain tar and gzip)")
    } else if head.starts_with(BZIP2_MAGIC) {
        bail!("bzip2-compressed layers are not supported (only plain tar and gzip)")
    } else {
        Ok(Compression::None)
    }
}

/// The uncompressed stream of `stream`, whichever of the supported compressions it uses.
pub fn decompressed<'a, R: BufRead + 'a>(mut stream: R) -> Result<Box<dyn Read + 'a>> {
    Ok(match detect(&mut stream)? {
        Compression::Gzip => Box::new(MultiGzDecoder::new(stream)),
        Compression::None => Box::new(stream),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_round_trip_and_refusals() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"layer bytes").unwrap();
        let gz = gz.finish().unwrap();
        let mut out = String::new();
        decompressed(&gz[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "layer bytes");
        assert_eq!(detect(&mut &b"plain"[..]).unwrap(), Compression::None);
        let err = detect(&mut &[0x28, 0xb5, 0x2f, 0xfd, 0][..]).unwrap_err();
        assert!(err.to_string().contains("zstd"));
    }
}
