//! A minimal HTTP/1.1 response reader for the lean clients, over a blocking socket.
//!
//! It reads the status line and the headers it needs (`content-length`,
//! `transfer-encoding: chunked`, `content-type`, `connection`, `mcp-session-id`), frames the
//! body by length or chunks, and hands on each JSON-RPC message in it: the whole body when
//! it is `application/json`, each event's data when it is `text/event-stream`. Anything it
//! does not expect (another status, framing or content type, a closing connection, a
//! malformed chunk) panics with what it saw: the benchmark stops rather than miscount.

use std::io::Read;

use crate::sse::Events;

/// The part of a response head the clients use.
pub struct Head {
    /// The status code (always 2xx: anything else panics).
    pub status: u16,
    /// `Mcp-Session-Id`, when asked for.
    pub session: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    Json,
    EventStream,
    /// No content type: the body must be empty.
    Nothing,
}

/// Reads responses from one connection; its buffers are reused from response to response.
pub struct Reader {
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// A chunked JSON body, put together.
    body: Vec<u8>,
    /// The event stream of the body being read.
    events: Events,
    /// `CLOCK_MONOTONIC` nanoseconds when the last read returned.
    read_at: u64,
    /// Reads made so far.
    reads: u64,
}

impl Reader {
    /// An empty reader.
    pub fn new() -> Reader {
        Reader {
            buf: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            body: Vec::new(),
            events: Events::default(),
            read_at: 0,
            reads: 0,
        }
    }

    /// Reads made so far.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// Reads more bytes (at least one) after the unread ones.
    fn fill(&mut self, src: &mut impl Read) {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = src.read(&mut self.buf[self.end..]).expect("read");
        self.read_at = sidebyside::now_ns();
        self.reads += 1;
        assert!(n > 0, "the server closed the connection");
        self.end += n;
    }

    /// Makes sure `n` unread bytes are buffered.
    fn need(&mut self, src: &mut impl Read, n: usize) {
        while self.end - self.start < n {
            self.fill(src);
        }
    }

    /// The unread bytes up to `until` (not included), which are consumed with it.
    fn take_until(&mut self, src: &mut impl Read, until: &[u8]) -> std::ops::Range<usize> {
        let mut from = self.start;
        loop {
            if let Some(at) = memchr::memmem::find(&self.buf[from..self.end], until) {
                let line = self.start..from + at;
                self.start = from + at + until.len();
                return line;
            }
            // Search again only where a match could still start; `fill` may move the bytes.
            let searched = (self.end - self.start).saturating_sub(until.len() - 1);
            self.fill(src);
            from = self.start + searched;
        }
    }

    /// Reads one response and hands each JSON-RPC message of its body to `each`.
    pub fn response(
        &mut self,
        src: &mut impl Read,
        want_session: bool,
        mut each: impl FnMut(&[u8]),
    ) -> Head {
        self.stream(src, want_session, |m, _| each(m))
    }

    /// As [`Reader::response`], handing on each message as soon as the read that completes
    /// it returns, with the time of that read (`CLOCK_MONOTONIC` nanoseconds).
    pub fn stream(
        &mut self,
        src: &mut impl Read,
        want_session: bool,
        mut each: impl FnMut(&[u8], u64),
    ) -> Head {
        let range = self.take_until(src, b"\r\n\r\n");
        let head = std::str::from_utf8(&self.buf[range]).expect("an ASCII response head");
        let (head, length, chunked, body) = parse_head(head, want_session);
        self.events.reset();
        if chunked {
            self.body.clear();
            loop {
                let line = self.take_until(src, b"\r\n");
                let size = chunk_size(&self.buf[line]);
                if size == 0 {
                    // Trailers, if any, end with an empty line.
                    while !self.take_until(src, b"\r\n").is_empty() {}
                    break;
                }
                self.need(src, size + 2);
                let data = self.start..self.start + size;
                assert_eq!(&self.buf[data.end..data.end + 2], b"\r\n", "a chunk's end");
                self.start = data.end + 2;
                let at = self.read_at;
                match body {
                    Body::EventStream => self.events.feed(&self.buf[data], &mut |m| each(m, at)),
                    _ => self.body.extend_from_slice(&self.buf[data]),
                }
            }
            if body != Body::EventStream {
                whole(&self.body, body, &mut |m| each(m, self.read_at));
            }
        } else {
            let n = length.expect("a length or chunks");
            self.need(src, n);
            let data = self.start..self.start + n;
            self.start = data.end;
            let at = self.read_at;
            match body {
                Body::EventStream => self.events.feed(&self.buf[data], &mut |m| each(m, at)),
                _ => whole(&self.buf[data], body, &mut |m| each(m, at)),
            }
        }
        head
    }
}

/// The head's status and session, its body's length (if given), whether it is chunked, and
/// what the body holds.
fn parse_head(head: &str, want_session: bool) -> (Head, Option<usize>, bool, Body) {
    let fail = |why: &str| -> ! { panic!("unexpected response ({why}):\n{head}") };
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fail("status line"));
    if !(200..300).contains(&status) {
        fail("status");
    }
    let (mut length, mut chunked, mut body, mut session) = (None, false, Body::Nothing, None);
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or_else(|| fail("header line"));
        let value = value.trim();
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("content-length") {
            let n = value.parse().unwrap_or_else(|_| fail("content-length"));
            if length.replace(n).is_some_and(|m| m != n) {
                fail("two lengths");
            }
        } else if is("transfer-encoding") {
            if !value.eq_ignore_ascii_case("chunked") {
                fail("transfer-encoding");
            }
            chunked = true;
        } else if is("content-type") {
            let media = value.split(';').next().unwrap_or_default().trim();
            body = if media.eq_ignore_ascii_case("application/json") {
                Body::Json
            } else if media.eq_ignore_ascii_case("text/event-stream") {
                Body::EventStream
            } else {
                fail("content-type")
            };
        } else if is("connection") {
            if value.eq_ignore_ascii_case("close") {
                fail("the server closes the connection");
            }
        } else if is("mcp-session-id") && want_session {
            session = Some(value.to_owned());
        }
    }
    if chunked == length.is_some() {
        fail("not exactly one of content-length and chunked");
    }
    (Head { status, session }, length, chunked, body)
}

/// A chunk-size line's size (hex digits, then optional extensions after `;`).
fn chunk_size(line: &[u8]) -> usize {
    let hex = line.split(|&b| b == b';').next().unwrap_or_default();
    std::str::from_utf8(hex)
        .ok()
        .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
        .unwrap_or_else(|| panic!("chunk size line {:?}", String::from_utf8_lossy(line)))
}

/// Hands on the JSON-RPC message of a complete body that is not an event stream.
fn whole(bytes: &[u8], body: Body, each: &mut impl FnMut(&[u8])) {
    match body {
        Body::Nothing => assert!(bytes.is_empty(), "a body without a content type"),
        _ => each(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `wire` in pieces of `step` bytes.
    struct Trickle<'a> {
        wire: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.wire.len());
            out[..n].copy_from_slice(&self.wire[..n]);
            self.wire = &self.wire[n..];
            Ok(n)
        }
    }

    fn read_all(wire: &[u8], responses: usize) -> Vec<(u16, Option<String>, Vec<String>)> {
        let mut out = Vec::new();
        for step in [1, 3, 7, wire.len()] {
            let mut src = Trickle { wire, step };
            let mut reader = Reader::new();
            let mut got = Vec::new();
            for _ in 0..responses {
                let mut msgs = Vec::new();
                let head = reader.response(&mut src, true, |m| {
                    msgs.push(String::from_utf8(m.to_vec()).unwrap())
                });
                got.push((head.status, head.session, msgs));
            }
            assert!(src.wire.is_empty(), "every byte read");
            if step != 1 {
                assert_eq!(got, out, "the same whatever the pieces");
            }
            out = got;
        }
        out
    }

    /// `body` in chunks of `sizes` (then the rest), the first with an extension.
    fn chunked(body: &str, sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = body.as_bytes();
        for (i, n) in sizes.iter().copied().chain([usize::MAX]).enumerate() {
            let n = n.min(rest.len());
            let ext = if i == 0 { ";x=y" } else { "" };
            out.extend_from_slice(format!("{n:x}{ext}\r\n").as_bytes());
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    #[test]
    fn json_chunked_sse_and_empty_responses_in_a_row() {
        let mut wire = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nmcp-session-id: s1\r\ncontent-length: 7\r\n\r\n{\"a\":1}".to_vec();
        wire.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
        let sse = "id: 1\n\nid: 2\ndata:\n\ndata: {\"b\":\ndata: 2}\r\n\r\n: c\nevent: message\ndata:3\n\ndata: cut";
        wire.extend_from_slice(&chunked(sse, &[3, 5, 17]));
        wire.extend_from_slice(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n");
        let got = read_all(&wire, 3);
        assert_eq!(got[0], (200, Some("s1".into()), vec![r#"{"a":1}"#.into()]));
        assert_eq!(
            got[1],
            (200, None, vec!["{\"b\":\n2}".into(), "3".into()]),
            "no message from an event with only an id, a priming event or an unfinished one"
        );
        assert_eq!(got[2], (202, None, vec![]));
    }

    #[test]
    #[should_panic(expected = "status")]
    fn an_error_status_panics() {
        read_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", 1);
    }

    #[test]
    #[should_panic(expected = "closes the connection")]
    fn a_closing_connection_panics() {
        read_all(
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            1,
        );
    }

    #[test]
    #[should_panic(expected = "a chunk's end")]
    fn a_bad_chunk_panics() {
        read_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
            1,
        );
    }
}
