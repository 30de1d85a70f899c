//! The process's stdin, read on a thread of its own.
//!
//! tokio's `stdin()` reads on the runtime's blocking pool, and a runtime waits for its blocking
//! tasks when it shuts down: a server stopped by a signal while its client still holds stdin
//! open would never exit. A plain thread does not hold the runtime back; the process ends it
//! when it exits.

use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

/// How much one read takes at most.
const CHUNK: usize = 64 * 1024;

/// Stdin as an `AsyncRead`, fed by a reading thread through a small bounded queue (so a
/// server that reads slowly slows the thread down too).
pub(crate) struct ThreadStdin {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl ThreadStdin {
    /// Starts the reading thread.
    pub(crate) fn spawn() -> io::Result<Self> {
        let (tx, chunks) = mpsc::channel(4);
        std::thread::Builder::new()
            .name("mcp-stdin".into())
            .spawn(move || {
                let mut stdin = io::stdin().lock();
                loop {
                    let mut buf = vec![0; CHUNK];
                    let sent = match stdin.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            buf.truncate(n);
                            tx.blocking_send(Ok(buf))
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            let _ = tx.blocking_send(Err(e));
                            break;
                        }
                    };
                    if sent.is_err() {
                        break;
                    }
                }
            })?;
        Ok(ThreadStdin {
            chunks,
            chunk: Vec::new(),
            pos: 0,
        })
    }
}

impl AsyncRead for ThreadStdin {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos == self.chunk.len() {
            match self.chunks.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                // The thread ended: end of input.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(Some(Ok(chunk))) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
            }
        }
        let n = buf.remaining().min(self.chunk.len() - self.pos);
        let start = self.pos;
        buf.put_slice(&self.chunk[start..start + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}
