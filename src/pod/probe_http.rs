//! The HTTP response of an `httpGet` probe or hook, read as kubelet reads it: the
//! status line and headers, then at most 10 KiB of body (kubelet's
//! `maxRespBodyLength`), never more. The server is the container, so it is hostile:
//! a server that answers with `/dev/zero` must cost a few kilobytes and one pass over
//! them, not all the supervisor's memory and CPU.

/// The status line and headers together; Go's client fails beyond its own limit too.
pub const MAX_HEAD: usize = 16 * 1024;
/// kubelet reads at most this much of the body (pkg/probe/http `maxRespBodyLength`).
pub const MAX_BODY: usize = 10 * 1024;

/// A response as it arrives, bounded by [`MAX_HEAD`] and [`MAX_BODY`].
#[derive(Default)]
pub struct Incoming {
    buf: Vec<u8>,
    /// Where the body starts, once the blank line after the headers is seen.
    body_at: Option<usize>,
    status: u16,
    /// How much body to read: its Content-Length, at most [`MAX_BODY`].
    body_wanted: usize,
}

impl Incoming {
    /// Take what the server sent. `Ok(Some(status))` once the response is complete
    /// enough to judge; `Err` when it is not HTTP or too large.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<u16>, String> {
        match self.body_at {
            None => {
                // Only the new bytes (and the 3 before them) can complete "\r\n\r\n":
                // each byte is looked at a bounded number of times, whatever the server.
                let from = self.buf.len().saturating_sub(3);
                let room = (MAX_HEAD + 1).saturating_sub(self.buf.len());
                self.buf.extend_from_slice(&data[..data.len().min(room)]);
                self.check_status_line_start()?;
                let Some(end) = find_blank_line(&self.buf, from) else {
                    if self.buf.len() > MAX_HEAD {
                        return Err(format!(
                            "the response's status line and headers exceed {MAX_HEAD} bytes"
                        ));
                    }
                    return Ok(None);
                };
                let (status, length) = parse_head(&self.buf[..end])?;
                self.status = status;
                self.body_wanted = length.unwrap_or(MAX_BODY).min(MAX_BODY);
                self.body_at = Some(end);
                // Keep no more body than we want.
                self.buf.truncate(end.saturating_add(self.body_wanted));
            }
            Some(at) => {
                let have = self.buf.len().saturating_sub(at);
                let room = self.body_wanted.saturating_sub(have);
                self.buf.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
        Ok(self.complete())
    }

    /// The server closed the connection.
    pub fn eof(&self) -> Result<u16, String> {
        match self.body_at {
            Some(_) => Ok(self.status),
            None if self.buf.is_empty() => Err("EOF".into()),
            None => Err(format!("malformed HTTP response {}", first_line(&self.buf))),
        }
    }

    fn complete(&self) -> Option<u16> {
        let at = self.body_at?;
        (self.buf.len().saturating_sub(at) >= self.body_wanted).then_some(self.status)
    }

    /// A response that does not start with `HTTP/` is refused as soon as that shows.
    fn check_status_line_start(&self) -> Result<(), String> {
        let n = self.buf.len().min(5);
        if self.buf[..n] != b"HTTP/"[..n] {
            return Err(format!("malformed HTTP response {}", first_line(&self.buf)));
        }
        Ok(())
    }
}

/// The end of the blank line that ends the headers (`\r\n\r\n`, or bare `\n\n`),
/// searching from `from`.
fn find_blank_line(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        if buf[i..].starts_with(b"\r\n\r\n") {
            return Some(i + 4);
        }
        if buf[i..].starts_with(b"\n\n") {
            return Some(i + 2);
        }
        i += 1;
    }
    None
}

/// The status code and the Content-Length, if any.
fn parse_head(head: &[u8]) -> Result<(u16, Option<usize>), String> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines();
    let status_line = lines.next().unwrap_or("");
    let mut words = status_line.split_whitespace();
    let version = words.next().unwrap_or("");
    let code = words
        .next()
        .filter(|c| c.len() == 3)
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/"))
        .ok_or_else(|| format!("malformed HTTP response {status_line:?}"))?;
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok());
    Ok((code, length))
}

/// The first line of what arrived, at most 40 bytes of it, quoted for an error
/// (`"\x00\x00..."`, as Go's `%q` shows it).
fn first_line(buf: &[u8]) -> String {
    let end = buf
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(buf.len())
        .min(40);
    format!("\"{}\"", buf[..end].escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_in_pieces_is_judged_once_its_body_is_read() {
        let mut r = Incoming::default();
        assert_eq!(r.feed(b"HTTP/1.1 204 No"), Ok(None));
        assert_eq!(r.feed(b" Content\r\nContent-Length: 2\r\n\r"), Ok(None));
        assert_eq!(r.feed(b"\n"), Ok(None));
        assert_eq!(r.feed(b"ok and more"), Ok(Some(204)));
    }

    #[test]
    fn without_a_length_the_body_ends_at_eof_or_the_cap() {
        let mut r = Incoming::default();
        assert_eq!(r.feed(b"HTTP/1.0 500 Oops\n\nshort"), Ok(None));
        assert_eq!(r.eof(), Ok(500));
        let mut r = Incoming::default();
        assert_eq!(r.feed(b"HTTP/1.1 200 OK\r\n\r\n"), Ok(None));
        let chunk = [b'a'; 4096];
        let mut done = None;
        for _ in 0..100 {
            if let Some(code) = r.feed(&chunk).unwrap() {
                done = Some(code);
                break;
            }
        }
        assert_eq!(done, Some(200));
        assert!(r.buf.len() <= MAX_HEAD + MAX_BODY);
    }

    #[test]
    fn zeros_and_endless_headers_are_refused_early() {
        let mut r = Incoming::default();
        let err = r.feed(&[0u8; 4096]).unwrap_err();
        assert!(err.starts_with("malformed HTTP response"), "{err}");
        let mut r = Incoming::default();
        r.feed(b"HTTP/1.1 200 OK\r\n").unwrap();
        let mut result = Ok(None);
        for _ in 0..1000 {
            result = r.feed(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
            if result.is_err() {
                break;
            }
        }
        assert!(result.unwrap_err().contains("exceed"));
        assert!(r.buf.len() <= MAX_HEAD + 1);
        assert_eq!(
            Incoming::default().feed(b"HTTP/1.1 abc\r\n\r\n"),
            Err("malformed HTTP response \"HTTP/1.1 abc\"".into())
        );
    }
}
