//! The process's stdin and stdout, driven by the runtime's reactor where that is safe.
//!
//! tokio's `stdin()` and `stdout()` run every read and every write on the blocking thread
//! pool: each one is a hand-off to another thread and back, which costs more than the work
//! itself when messages are small. When a stream is a pipe (a FIFO, which is how MCP hosts
//! start stdio servers), this opens it a second time through `/proc/self/fd/N` in
//! non-blocking mode and lets the reactor drive it: a read or write happens on the thread
//! that runs the server, and waiting costs nothing.
//!
//! Reopening gives the server an open file description of its own, so the non-blocking flag
//! never reaches the process's own descriptors 0 and 1, nor any child that inherits them.
//! Anything that is not a pipe (a regular file, a terminal shared with other processes, a
//! socket), and every platform but Linux (where `/proc/self/fd` is not a reopen), keeps
//! handles that are correct everywhere: stdin read on a thread of its own
//! ([`ThreadStdin`]: a read that never returns must not keep the runtime from shutting
//! down), stdout written through tokio's handle. A reactor-driven pipe needs no thread for
//! that: dropping it cancels the read.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::stdin::ThreadStdin;
use crate::idle_poll::IdlePoll;

/// The process's stdin: a reactor-driven pipe, or read on a thread of its own.
pub(super) enum ProcessStdin {
    /// A pipe reopened non-blocking.
    #[cfg(target_os = "linux")]
    Pipe(tokio::net::unix::pipe::Receiver),
    /// Read by a thread of its own.
    Thread(ThreadStdin),
}

/// The process's stdout: a reactor-driven pipe, or tokio's blocking handle.
#[derive(Debug)]
pub(super) enum ProcessStdout {
    /// A pipe reopened non-blocking.
    #[cfg(target_os = "linux")]
    Pipe(tokio::net::unix::pipe::Sender),
    /// tokio's handle (writes on the blocking pool).
    Blocking(tokio::io::Stdout),
}

impl ProcessStdin {
    /// The process's stdin, reactor-driven if it is a pipe, else read by a thread (whose
    /// start can fail). Must run inside a runtime.
    pub(super) fn open() -> io::Result<Self> {
        #[cfg(target_os = "linux")]
        if let Some(pipe) = reopen(0, |options, path| options.open_receiver(path)) {
            return Ok(ProcessStdin::Pipe(pipe));
        }
        ThreadStdin::spawn().map(ProcessStdin::Thread)
    }
}

impl ProcessStdin {
    /// The idle poll for this stdin with windows up to `max`: only a reactor-driven pipe,
    /// whose descriptor is non-blocking, can be read without the reactor; stdin read by a
    /// thread is never polled.
    pub(super) fn idle_poll(&self, max: Duration) -> Option<IdlePoll<Self>> {
        match self {
            #[cfg(target_os = "linux")]
            ProcessStdin::Pipe(_) => IdlePoll::new(ProcessStdin::read_now, max),
            ProcessStdin::Thread(_) => None,
        }
    }

    /// Reads what the pipe holds now, straight from its non-blocking descriptor, without
    /// the reactor: `WouldBlock` when it is empty, and always for stdin read by a thread.
    fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            #[cfg(target_os = "linux")]
            ProcessStdin::Pipe(pipe) => {
                use std::os::fd::AsFd;
                nix::unistd::read(pipe.as_fd(), buf).map_err(io::Error::from)
            }
            ProcessStdin::Thread(_) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl ProcessStdout {
    /// The process's stdout, reactor-driven if it is a pipe. Must run inside a runtime.
    pub(super) fn open() -> Self {
        #[cfg(target_os = "linux")]
        if let Some(pipe) = reopen(1, |options, path| options.open_sender(path)) {
            return ProcessStdout::Pipe(pipe);
        }
        ProcessStdout::Blocking(tokio::io::stdout())
    }
}

/// Opens `/proc/self/fd/<fd>` with `open` if descriptor `fd` is a FIFO; `None` otherwise or
/// if anything fails (the caller then keeps the blocking handle).
#[cfg(target_os = "linux")]
fn reopen<T>(
    fd: i32,
    open: impl FnOnce(&tokio::net::unix::pipe::OpenOptions, &str) -> io::Result<T>,
) -> Option<T> {
    use std::os::unix::fs::FileTypeExt;
    // Look before opening: opening a terminal could make it the controlling terminal, and a
    // regular file needs no help.
    let path = format!("/proc/self/fd/{fd}");
    let is_fifo = std::fs::metadata(&path)
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false);
    if !is_fifo {
        return None;
    }
    // tokio opens FIFOs with O_NONBLOCK (so opening never waits for the other end) and
    // checks again that what it opened is one.
    match open(&tokio::net::unix::pipe::OpenOptions::new(), &path) {
        Ok(pipe) => Some(pipe),
        Err(e) => {
            tracing::debug!(fd, error = %e, "keeping the blocking handle");
            None
        }
    }
}

impl AsyncRead for ProcessStdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            #[cfg(target_os = "linux")]
            ProcessStdin::Pipe(pipe) => Pin::new(pipe).poll_read(cx, buf),
            ProcessStdin::Thread(stdin) => Pin::new(stdin).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ProcessStdout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            #[cfg(target_os = "linux")]
            ProcessStdout::Pipe(pipe) => Pin::new(pipe).poll_write(cx, buf),
            ProcessStdout::Blocking(stdout) => Pin::new(stdout).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            #[cfg(target_os = "linux")]
            ProcessStdout::Pipe(pipe) => Pin::new(pipe).poll_flush(cx),
            ProcessStdout::Blocking(stdout) => Pin::new(stdout).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            #[cfg(target_os = "linux")]
            ProcessStdout::Pipe(pipe) => Pin::new(pipe).poll_shutdown(cx),
            ProcessStdout::Blocking(stdout) => Pin::new(stdout).poll_shutdown(cx),
        }
    }
}
