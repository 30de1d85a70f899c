//! Newline-delimited JSON framing over any byte stream: one message per line.
//!
//! [`FrameReader`] splits an [`AsyncRead`] into lines without ever holding more than the
//! configured limit of one line in memory: a longer line is skipped as it streams past and
//! reported as [`Frame::TooLong`]. [`FrameWriter`] writes each message as one line in one
//! `write_all` followed by a flush, so the peer sees every message the moment it is written.
//!
//! Both ends are transport-agnostic: the stdio server and client use them on pipes, and they
//! work as well on a socket or an in-memory `tokio::io::duplex`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use mcp_core::Message;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// The default longest line accepted: 4 MiB, excluding the newline.
pub const DEFAULT_MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// How much a [`FrameReader`] asks the underlying reader for at a time.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// A write buffer larger than this is released after use, so one huge message does not pin
/// its memory for the rest of the connection.
const KEEP_WRITE_BUFFER_BYTES: usize = 1024 * 1024;

/// One unit read off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete line, without its `\n` (and without a trailing `\r`). Never blank.
    Line(Vec<u8>),
    /// A line longer than the limit. Its bytes were discarded as they arrived; `length` is
    /// how many there were (excluding the newline).
    TooLong {
        /// The length of the discarded line in bytes.
        length: usize,
    },
}

/// Reads newline-delimited frames from an [`AsyncRead`].
///
/// Blank lines are skipped. A last line without a terminating newline is still returned at
/// end of input.
#[derive(Debug)]
pub struct FrameReader<R> {
    reader: BufReader<R>,
    state: LineState,
}

/// The line being assembled, kept apart from the reader so both can be borrowed at once.
#[derive(Debug)]
struct LineState {
    max_line_bytes: usize,
    /// The line read so far (never longer than `max_line_bytes`).
    line: Vec<u8>,
    /// While skipping an over-long line: how many bytes of it went by.
    discarding: Option<usize>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader that accepts lines of up to `max_line_bytes` bytes (at least 1).
    pub fn new(reader: R, max_line_bytes: usize) -> Self {
        FrameReader {
            reader: BufReader::with_capacity(READ_BUFFER_BYTES, reader),
            state: LineState {
                max_line_bytes: max_line_bytes.max(1),
                line: Vec::new(),
                discarding: None,
            },
        }
    }

    /// The longest line this reader accepts.
    pub fn max_line_bytes(&self) -> usize {
        self.state.max_line_bytes
    }

    /// The next frame, or `None` at end of input.
    ///
    /// Cancel-safe: the partial line read so far is kept in `self`, so a dropped call loses
    /// nothing and the next call continues where it stopped.
    pub async fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        self.next_frame_with(|frame| frame.owned()).await
    }

    /// The next frame, lent to `read` instead of returned: a line that lies whole in the read
    /// buffer (the usual case) is not copied. Returns what `read` returns, or `None` at end
    /// of input. Cancel-safe like [`next_frame`](Self::next_frame).
    pub async fn next_frame_with<T>(
        &mut self,
        read: impl FnOnce(FrameRef<'_>) -> T,
    ) -> io::Result<Option<T>> {
        loop {
            let buf = self.reader.fill_buf().await?;
            if buf.is_empty() {
                return Ok(self.state.finish().map(|frame| read(frame.borrowed())));
            }
            let Some(pos) = buf.iter().position(|&b| b == b'\n') else {
                self.state.extend_line(buf);
                let used = buf.len();
                self.reader.consume(used);
                continue;
            };
            if self.state.line.is_empty() && self.state.discarding.is_none() {
                // The whole line is in the buffer: lend it from there.
                let line = buf[..pos].strip_suffix(b"\r").unwrap_or(&buf[..pos]);
                if pos > self.state.max_line_bytes {
                    let out = read(FrameRef::TooLong { length: pos });
                    self.reader.consume(pos + 1);
                    return Ok(Some(out));
                }
                if is_blank(line) {
                    self.reader.consume(pos + 1);
                    continue;
                }
                let out = read(FrameRef::Line(line));
                self.reader.consume(pos + 1);
                return Ok(Some(out));
            }
            let frame = self.state.end_line(&buf[..pos]);
            self.reader.consume(pos + 1);
            match frame {
                Frame::Line(line) if is_blank(&line) => continue,
                frame => return Ok(Some(read(frame.borrowed()))),
            }
        }
    }
}

/// A frame lent by [`FrameReader::next_frame_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameRef<'a> {
    /// A complete line, without its `\n` (and without a trailing `\r`). Never blank.
    Line(&'a [u8]),
    /// A line longer than the limit, already discarded.
    TooLong {
        /// The length of the discarded line in bytes.
        length: usize,
    },
}

impl FrameRef<'_> {
    /// An owned copy.
    pub fn owned(self) -> Frame {
        match self {
            FrameRef::Line(line) => Frame::Line(line.to_vec()),
            FrameRef::TooLong { length } => Frame::TooLong { length },
        }
    }
}

impl Frame {
    /// A borrowed view.
    pub fn borrowed(&self) -> FrameRef<'_> {
        match self {
            Frame::Line(line) => FrameRef::Line(line),
            Frame::TooLong { length } => FrameRef::TooLong { length: *length },
        }
    }
}

impl LineState {
    /// Appends a chunk that holds no newline, switching to discarding past the limit.
    fn extend_line(&mut self, chunk: &[u8]) {
        if let Some(seen) = self.discarding.as_mut() {
            *seen += chunk.len();
        } else if self.line.len() + chunk.len() > self.max_line_bytes {
            self.discarding = Some(self.line.len() + chunk.len());
            self.line.clear();
        } else {
            self.line.extend_from_slice(chunk);
        }
    }

    /// Completes the current line with its last chunk (the bytes before the newline).
    fn end_line(&mut self, chunk: &[u8]) -> Frame {
        if let Some(seen) = self.discarding.take() {
            return Frame::TooLong {
                length: seen + chunk.len(),
            };
        }
        let length = self.line.len() + chunk.len();
        if length > self.max_line_bytes {
            self.line.clear();
            return Frame::TooLong { length };
        }
        self.line.extend_from_slice(chunk);
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Frame::Line(line)
    }

    /// What is left at end of input: an unterminated last line, if any.
    fn finish(&mut self) -> Option<Frame> {
        if let Some(length) = self.discarding.take() {
            return Some(Frame::TooLong { length });
        }
        let line = std::mem::take(&mut self.line);
        if is_blank(&line) {
            return None;
        }
        let mut line = line;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(Frame::Line(line))
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Writes messages as newline-delimited JSON to an [`AsyncWrite`].
///
/// Each message is serialized into one buffer with its newline, written with one
/// `write_all` and flushed at once: nothing waits for more output to accumulate. A writer
/// that already holds several messages (a queue that filled while the last write was under
/// way) may [`queue`](Self::queue) them all and write them with one
/// [`flush_queued`](Self::flush_queued): fewer system calls, and still no waiting.
#[derive(Debug)]
pub struct FrameWriter<W> {
    writer: W,
    /// Queued lines; the first `written` bytes are already written.
    buf: Vec<u8>,
    written: usize,
}

/// How many bytes of messages a writer gathers into one write at most: beyond this it
/// writes what it has rather than draining its queue further.
pub(crate) const MAX_BATCH_BYTES: usize = 64 * 1024;

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// A writer over `writer`. Give it an unbuffered writer (or one whose buffer the flush
    /// empties, as tokio's `Stdout` and `BufWriter` do).
    pub fn new(writer: W) -> Self {
        FrameWriter {
            writer,
            buf: Vec::new(),
            written: 0,
        }
    }

    /// Writes one message as one line and flushes it.
    pub async fn write_message(&mut self, message: &Message) -> io::Result<()> {
        self.queue(message)?;
        self.flush_queued().await
    }

    /// Serializes `message` as one line after those already queued, without writing it.
    pub fn queue(&mut self, message: &Message) -> io::Result<()> {
        let start = self.buf.len();
        if let Err(e) = serde_json::to_writer(&mut self.buf, message) {
            self.buf.truncate(start);
            return Err(io::Error::other(e));
        }
        self.buf.push(b'\n');
        Ok(())
    }

    /// How many bytes are queued and not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.buf.len() - self.written
    }

    /// Writes every queued line in one `write_all` and flushes.
    pub async fn flush_queued(&mut self) -> io::Result<()> {
        let written = std::future::poll_fn(|cx| self.poll_write_queued(cx)).await;
        if written.is_err() {
            self.reset();
        }
        written
    }

    /// Whether queued lines are not yet written and flushed.
    pub(crate) fn is_pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Writes the queued lines (as far as the writer takes them without waiting) and
    /// flushes. Ready once every queued byte is written and flushed; what is left stays
    /// queued, in order, for the next call.
    pub(crate) fn poll_write_queued(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let n = ready!(Pin::new(&mut self.writer).poll_write(cx, &self.buf[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        ready!(Pin::new(&mut self.writer).poll_flush(cx))?;
        self.reset();
        Poll::Ready(Ok(()))
    }

    /// Forgets the queued lines, keeping a buffer of moderate size for the next ones.
    fn reset(&mut self) {
        self.buf.clear();
        self.written = 0;
        if self.buf.capacity() > KEEP_WRITE_BUFFER_BYTES {
            self.buf = Vec::new();
        }
    }

    /// Shuts the writer down (for a pipe or socket: the peer sees end of input).
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.writer.shutdown().await
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.writer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8], max: usize) -> Vec<Frame> {
        let mut reader = FrameReader::new(input, max);
        let mut out = Vec::new();
        while let Some(frame) = reader.next_frame().await.unwrap() {
            out.push(frame);
        }
        out
    }

    fn line(s: &str) -> Frame {
        Frame::Line(s.as_bytes().to_vec())
    }

    #[tokio::test]
    async fn splits_lines_and_skips_blank_ones() {
        let got = frames(b"{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":3}", 100).await;
        assert_eq!(
            got,
            vec![line("{\"a\":1}"), line("{\"b\":2}"), line("{\"c\":3}")]
        );
    }

    #[tokio::test]
    async fn over_long_lines_are_reported_and_skipped() {
        let long = "x".repeat(25);
        let input = format!("ok\n{long}\nfine\n{long}");
        let got = frames(input.as_bytes(), 10).await;
        assert_eq!(
            got,
            vec![
                line("ok"),
                Frame::TooLong { length: 25 },
                line("fine"),
                Frame::TooLong { length: 25 },
            ]
        );
        // Exactly at the limit is fine.
        let got = frames(b"0123456789\n", 10).await;
        assert_eq!(got, vec![line("0123456789")]);
    }

    #[tokio::test]
    async fn long_lines_spanning_many_reads_are_never_buffered_whole() {
        // Larger than the read buffer, so the line arrives in several chunks.
        let long = vec![b'y'; READ_BUFFER_BYTES * 3 + 7];
        let mut input = long.clone();
        input.extend_from_slice(b"\n{}\n");
        let mut reader = FrameReader::new(&input[..], 1000);
        assert_eq!(
            reader.next_frame().await.unwrap(),
            Some(Frame::TooLong { length: long.len() })
        );
        assert!(reader.state.line.capacity() <= 1000 + READ_BUFFER_BYTES);
        assert_eq!(reader.next_frame().await.unwrap(), Some(line("{}")));
        assert_eq!(reader.next_frame().await.unwrap(), None);
    }

    #[tokio::test]
    async fn writes_one_flushed_line_per_message() {
        let (client, mut server) = tokio::io::duplex(1024);
        let mut writer = FrameWriter::new(client);
        let msg = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
        writer.write_message(&msg).await.unwrap();
        let mut reader = FrameReader::new(&mut server, 1000);
        let Some(Frame::Line(got)) = reader.next_frame().await.unwrap() else {
            panic!("expected a line");
        };
        assert_eq!(Message::parse(&got).unwrap(), msg);
    }

    /// Hands out at most `step` bytes per read, so that lines straddle reads.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl AsyncRead for Trickle<'_> {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            let n = self.step.min(self.data.len()).min(buf.remaining());
            buf.put_slice(&self.data[..n]);
            self.data = &self.data[n..];
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn lent_lines_match_owned_lines_however_the_input_is_cut() {
        let input = b"{\"a\":1}\r\n\n   \nsecond line\n0123456789abc\n  \r\nlast\r";
        let expected = vec![
            line("{\"a\":1}"),
            line("second line"),
            Frame::TooLong { length: 13 },
            line("last"),
        ];
        for step in [1, 2, 3, 5, 7, 64, input.len()] {
            let mut reader = FrameReader::new(Trickle { data: input, step }, 12);
            let mut got = Vec::new();
            while let Some(frame) = reader.next_frame_with(|f| f.owned()).await.unwrap() {
                got.push(frame);
            }
            assert_eq!(got, expected, "reads of {step} bytes");
        }
    }

    #[tokio::test]
    async fn queued_messages_leave_in_one_write() {
        let (client, mut server) = tokio::io::duplex(4096);
        let mut writer = FrameWriter::new(client);
        let a = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
        let b = Message::parse(br#"{"jsonrpc":"2.0","method":"n"}"#).unwrap();
        writer.queue(&a).unwrap();
        writer.queue(&b).unwrap();
        assert_eq!(
            writer.queued_bytes(),
            a.to_json().len() + b.to_json().len() + 2
        );
        writer.flush_queued().await.unwrap();
        assert_eq!(writer.queued_bytes(), 0);
        let mut reader = FrameReader::new(&mut server, 1000);
        for want in [a, b] {
            let got = reader
                .next_frame_with(|f| match f {
                    FrameRef::Line(bytes) => Message::parse(bytes).unwrap(),
                    FrameRef::TooLong { .. } => panic!("too long"),
                })
                .await
                .unwrap();
            assert_eq!(got, Some(want));
        }
    }
}
