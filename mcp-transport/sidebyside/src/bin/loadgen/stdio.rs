//! The stdio side of the load generator: one server process on pipes, lines in and out.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::procs::{Kind, StdioServer, spawn_stdio};
use crate::wire;

/// A server on stdio after the `initialize` handshake.
pub struct Stdio {
    /// The process and its pipes.
    pub server: StdioServer,
    buf: Vec<u8>,
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
}

impl Stdio {
    /// Starts `kind` on stdio and performs the handshake.
    pub async fn open(kind: Kind) -> Stdio {
        let mut s = Stdio {
            server: spawn_stdio(kind),
            buf: vec![0; 256 * 1024],
            partial: Vec::new(),
        };
        let mut init = wire::initialize(0);
        init.push('\n');
        s.send(init.as_bytes()).await;
        let mut ready = false;
        while !ready {
            s.lines(|line| ready |= wire::contains(line, b"protocolVersion"))
                .await;
        }
        let mut note = wire::INITIALIZED.to_vec();
        note.push(b'\n');
        s.send(&note).await;
        s
    }

    /// Writes bytes to the server's stdin.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.server.input.write_all(bytes).await.expect("write");
    }

    /// Reads once and hands each complete line to `each`; returns how many there were.
    pub async fn lines(&mut self, mut each: impl FnMut(&[u8])) -> usize {
        let n = self.server.output.read(&mut self.buf).await.expect("read");
        assert!(n > 0, "the server closed its stdout");
        let mut chunk = &self.buf[..n];
        let mut count = 0;
        while let Some(end) = memchr::memchr(b'\n', chunk) {
            if self.partial.is_empty() {
                each(&chunk[..end]);
            } else {
                self.partial.extend_from_slice(&chunk[..end]);
                each(&self.partial);
                self.partial.clear();
            }
            count += 1;
            chunk = &chunk[end + 1..];
        }
        self.partial.extend_from_slice(chunk);
        count
    }

    /// Reads once and returns the raw chunk (for counting a flood).
    pub async fn chunk(&mut self) -> &[u8] {
        let n = self.server.output.read(&mut self.buf).await.expect("read");
        assert!(n > 0, "the server closed its stdout");
        &self.buf[..n]
    }
}
