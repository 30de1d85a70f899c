//! The server side: one session on a pair of byte streams (the process's stdin and stdout).

use std::future::Future;
use std::io;
use std::time::Duration;

use mcp_core::error::RpcError;
use mcp_core::jsonrpc::ErrorResponse;
use mcp_core::{Message, Outbound, Outbox, Server, ServerSession};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};

use super::StdioError;
use super::framing::{DEFAULT_MAX_LINE_BYTES, FrameReader, FrameRef, FrameWriter, MAX_BATCH_BYTES};

/// How long, at end of input, the writer keeps draining messages of calls that are still
/// being torn down before it gives up on them.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Serves `server` on the process's stdin and stdout until stdin ends.
///
/// Logs must go to stderr (stdout carries the protocol). Returns `Ok(())` at end of input,
/// after cancelling the calls still running and writing what was already queued.
pub async fn serve(server: &Server) -> Result<(), StdioError> {
    StdioServer::new(server).serve().await
}

/// Serves `server` on any reader and writer (a pipe, a socket, a `tokio::io::duplex`).
pub async fn serve_io<R, W>(server: &Server, reader: R, writer: W) -> Result<(), StdioError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    StdioServer::new(server).serve_io(reader, writer).await
}

/// A stdio server with options; [`serve`] and [`serve_io`] use the defaults.
///
/// ```no_run
/// # async fn run(server: mcp_core::Server) -> Result<(), mcp_transport::stdio::StdioError> {
/// use mcp_transport::stdio::StdioServer;
/// StdioServer::new(&server)
///     .max_line_bytes(1024 * 1024)
///     .serve()
///     .await
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct StdioServer {
    server: Server,
    max_line_bytes: usize,
    shutdown_grace: Duration,
}

impl StdioServer {
    /// A stdio server for `server` with default options.
    pub fn new(server: &Server) -> Self {
        StdioServer {
            server: server.clone(),
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }

    /// The longest input line accepted (default [`DEFAULT_MAX_LINE_BYTES`]). A longer line
    /// is skipped without being held in memory and answered with `-32600`.
    pub fn max_line_bytes(mut self, limit: usize) -> Self {
        self.max_line_bytes = limit.max(1);
        self
    }

    /// How long, at end of input, to wait for cancelled calls to let go of the output before
    /// returning anyway (default [`DEFAULT_SHUTDOWN_GRACE`]).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Serves on the process's stdin and stdout until stdin ends.
    pub async fn serve(self) -> Result<(), StdioError> {
        self.serve_until(std::future::pending()).await
    }

    /// Serves on the process's stdin and stdout until stdin ends or `stop` completes (a
    /// signal, for instance); either way it then ends as at end of input: running calls are
    /// cancelled and what is queued is written within the shutdown grace.
    ///
    /// Stdin is read on a thread of its own, which does not keep the process alive: a server
    /// stopped while its client still holds stdin open exits once its `main` returns.
    pub async fn serve_until(self, stop: impl Future<Output = ()>) -> Result<(), StdioError> {
        let stdin = super::stdin::ThreadStdin::spawn().map_err(StdioError::Read)?;
        self.serve_io_until(stdin, tokio::io::stdout(), stop).await
    }

    /// Serves on `reader` and `writer` until `reader` ends or `writer` fails.
    ///
    /// Reading and writing run concurrently: a long tool call never blocks reading the next
    /// request, and a slow reader of the output pushes back on the tools through the
    /// session's bounded outbox.
    pub async fn serve_io<R, W>(self, reader: R, writer: W) -> Result<(), StdioError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        self.serve_io_until(reader, writer, std::future::pending())
            .await
    }

    /// [`serve_io`](Self::serve_io), also ending (as at end of input) when `shutdown`
    /// completes.
    pub async fn serve_io_until<R, W>(
        self,
        reader: R,
        writer: W,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StdioError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let (outbox, outbound) = Outbox::channel(self.server.outbox_capacity());
        let session = ServerSession::new(&self.server, outbox.clone());
        let (stop, stopped) = oneshot::channel();
        let write = write_loop(outbound, FrameWriter::new(writer), stopped);
        tokio::pin!(write);

        let ended = {
            let mut frames = FrameReader::new(reader, self.max_line_bytes);
            let read = read_loop(&session, outbox, &mut frames);
            tokio::pin!(read);
            tokio::pin!(shutdown);
            tokio::select! {
                read = &mut read => Ended::Input(read),
                written = &mut write => Ended::Output(written),
                () = &mut shutdown => {
                    tracing::debug!("stopping: no more input is read");
                    Ended::Input(Ok(()))
                }
            }
            // The read loop, and with it its outbox, is dropped here.
        };
        // Cancel every call still running: their futures are dropped, no responses follow.
        session.close();
        drop(session);

        match ended {
            Ended::Output(written) => {
                written.map_err(StdioError::Write)?;
                // The writer only ends cleanly once every sender is gone, which cannot
                // happen while the read loop holds one.
                Ok(())
            }
            Ended::Input(read) => {
                let written = match tokio::time::timeout(self.shutdown_grace, &mut write).await {
                    Ok(written) => written,
                    Err(_) => {
                        tracing::warn!(
                            "calls still hold the output after the shutdown grace; stopping"
                        );
                        let _ = stop.send(());
                        // Writing what is queued may itself block on a reader that stopped
                        // reading: give up on it after another grace period.
                        tokio::time::timeout(self.shutdown_grace, &mut write)
                            .await
                            .unwrap_or(Ok(()))
                    }
                };
                read.map_err(StdioError::Read)?;
                written.map_err(StdioError::Write)
            }
        }
    }
}

enum Ended {
    Input(io::Result<()>),
    Output(io::Result<()>),
}

/// Feeds every inbound frame to the session until end of input.
async fn read_loop<R: AsyncRead + Unpin>(
    session: &ServerSession,
    outbox: Outbox,
    frames: &mut FrameReader<R>,
) -> io::Result<()> {
    let max_line_bytes = frames.max_line_bytes();
    while let Some(parsed) = frames
        .next_frame_with(|frame| match frame {
            FrameRef::Line(bytes) => Message::parse(bytes).map_err(|e| *e),
            FrameRef::TooLong { length } => {
                tracing::warn!(length, "skipping an over-long line");
                Err(ErrorResponse::new(
                    None,
                    RpcError::invalid_request(format!(
                        "the line of {length} bytes exceeds the limit of {max_line_bytes} bytes"
                    )),
                ))
            }
        })
        .await?
    {
        let message = match parsed {
            Ok(message) => {
                session.receive(message, &outbox).await;
                continue;
            }
            Err(error) => {
                tracing::debug!(code = error.error.code, "answering an unreadable line");
                error
            }
        };
        if outbox.send(Message::Error(message), None).await.is_err() {
            break;
        }
    }
    tracing::debug!("end of input");
    Ok(())
}

/// Writes every outbound message as a flushed line until every sender is gone, or, once
/// `stop` fires, until the queue is empty.
///
/// Messages that are already queued when one arrives go out in the same write (up to
/// [`MAX_BATCH_BYTES`]); the writer never waits for more, so a message is on the wire before
/// its producer can get past the next one.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut outbound: mpsc::Receiver<Outbound>,
    mut writer: FrameWriter<W>,
    mut stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    loop {
        tokio::select! {
            biased;
            next = outbound.recv() => match next {
                Some(out) => {
                    writer.queue(&out.message)?;
                    drop(out);
                    while writer.queued_bytes() < MAX_BATCH_BYTES {
                        let Ok(out) = outbound.try_recv() else { break };
                        writer.queue(&out.message)?;
                    }
                    writer.flush_queued().await?;
                }
                None => return Ok(()),
            },
            _ = &mut stop => {
                while let Ok(out) = outbound.try_recv() {
                    writer.write_message(&out.message).await?;
                }
                return Ok(());
            }
        }
    }
}
