//! The server side: one session on a pair of byte streams (the process's stdin and stdout).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use mcp_core::error::{ErrorCode, RpcError};
use mcp_core::jsonrpc::{ErrorResponse, Incoming};
use mcp_core::protocol::methods;
use mcp_core::transport::Closed;
use mcp_core::{Message, Outbound, Outbox, ProtocolVersion, Server, ServerSession};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::StdioError;
use super::fifo::{ProcessStdin, ProcessStdout};
use super::framing::{DEFAULT_MAX_LINE_BYTES, FrameReader, FrameRef, FrameWriter};
use super::output::{Output, WriteBeforeRead};
use super::stdout_watch;
use crate::idle_poll::{DEFAULT_IDLE_POLL, IdlePoll};

/// How long, at end of input, the writer keeps draining messages of calls that are still
/// being torn down before it gives up on them.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// How long, after a stop signal, running calls may take to finish before each is answered
/// with a JSON-RPC error.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `server` on the process's stdin and stdout until stdin ends.
///
/// Logs must go to stderr (stdout carries the protocol). Returns `Ok(())` at end of input,
/// after cancelling the calls still running and writing what was already queued;
/// [`StdioError::OutputClosed`] as soon as the client closes stdout.
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
///     .serve_until(async {
///         let _ = tokio::signal::ctrl_c().await;
///     })
///     .await
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct StdioServer {
    server: Server,
    max_line_bytes: usize,
    shutdown_grace: Duration,
    shutdown_timeout: Duration,
    idle_poll: Duration,
}

impl StdioServer {
    /// A stdio server for `server` with default options.
    pub fn new(server: &Server) -> Self {
        StdioServer {
            server: server.clone(),
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            idle_poll: DEFAULT_IDLE_POLL,
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

    /// How long, after the stop signal of [`serve_until`](Self::serve_until), running calls
    /// may take to finish before each is answered with a JSON-RPC error (default
    /// [`DEFAULT_SHUTDOWN_TIMEOUT`]).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The longest the serving task keeps looking for the next request on a stdin pipe,
    /// after an answer, before it waits for the runtime to wake it (default
    /// [`DEFAULT_IDLE_POLL`]); `Duration::ZERO` turns the idle poll off.
    ///
    /// A client that calls tools one after another sends its next request right after it
    /// reads an answer. A thread that went to sleep meanwhile must be woken for it, and on a
    /// virtual machine whose idle CPUs halt at once, that wake-up costs more than the call
    /// (tens of microseconds). The poll reads stdin without waiting, in slices of up to 20 µs
    /// between which it yields to the runtime (other tasks, timers and I/O keep running), and
    /// stops at once when anything else is to be written. Its window adapts: it grows, up to
    /// this limit, while the next request comes within about twice the limit, and shrinks to
    /// zero while the gaps are longer. It also stays at zero where the thread's wake-ups are
    /// cheap (the next request, without a poll, comes within a quarter of the limit on
    /// average: CPUs kept awake by other work, or hardware that wakes quickly), which one gap
    /// in 64 left unpolled keeps finding out. So a lockstep client gets its answers without a
    /// wake-up of the server where wake-ups are dear, and neither a client that calls every
    /// few seconds nor a machine whose CPUs never sleep pays for polling.
    ///
    /// The cost: up to the window of CPU time per idle gap, on one core, while requests come
    /// in short gaps. Turn it off where CPU time is billed by the microsecond or shared with
    /// busier work, or on hardware whose idle CPUs wake quickly (no gain there).
    /// Only [`serve`](Self::serve) and [`serve_until`](Self::serve_until) on a stdin pipe
    /// poll: stdin read by a thread (a regular file, a terminal) and
    /// [`serve_io`](Self::serve_io) never do.
    pub fn idle_poll(mut self, max: Duration) -> Self {
        self.idle_poll = max;
        self
    }

    /// Serves on the process's stdin and stdout until stdin ends (or stdout is closed).
    pub async fn serve(self) -> Result<(), StdioError> {
        self.serve_until(std::future::pending()).await
    }

    /// Serves on the process's stdin and stdout until stdin ends, stdout is closed, or
    /// `stop` completes. On `stop`, input is no longer read, running calls get
    /// [`shutdown_timeout`](Self::shutdown_timeout) to finish, and each call still running
    /// then is answered with a JSON-RPC error (code `-32000`): no call is cut off silently.
    ///
    /// Where stdin or stdout is a pipe (as when an MCP host starts the server), the runtime's
    /// reactor drives it: no read or write goes through the blocking thread pool. Otherwise
    /// stdin is read on a thread of its own and stdout written through tokio's handle. Neither
    /// way of reading keeps the process alive: a server stopped while its client still holds
    /// stdin open exits once its `main` returns.
    ///
    /// On a multi-thread runtime the session is served by a task of its own on a worker
    /// thread (in the caller's tracing span; aborted if this future is dropped), so that the
    /// thread that sees a request arrive also answers it.
    pub async fn serve_until(self, stop: impl Future<Output = ()>) -> Result<(), StdioError> {
        let stdin = ProcessStdin::open().map_err(StdioError::Read)?;
        let stdout = ProcessStdout::open();
        let idle_poll = stdin.idle_poll(self.idle_poll);
        if Handle::current().runtime_flavor() != RuntimeFlavor::MultiThread {
            return self
                .run(
                    stdin,
                    stdout,
                    stop,
                    stdout_watch::stdout_closed(),
                    idle_poll,
                )
                .await;
        }
        // On a worker thread rather than here: a `main` under `#[tokio::main]` polls this on
        // its own thread, which only the reactor's thread can wake, so every request would be
        // a hand-off between two threads. On a worker, the thread that sees input ready reads
        // it, runs the call and writes the answer.
        let (stop_serving, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(
            self.run(
                stdin,
                stdout,
                async {
                    // A dropped sender means this future was dropped: the task is aborted.
                    if stopped.await.is_err() {
                        std::future::pending::<()>().await;
                    }
                },
                stdout_watch::stdout_closed(),
                idle_poll,
            )
            // Logged within the caller's span, as when it ran here.
            .instrument(tracing::Span::current()),
        );
        let mut serving = AbortOnDrop(serving);
        tokio::pin!(stop);
        let mut stop_serving = Some(stop_serving);
        let ended = loop {
            tokio::select! {
                ended = &mut serving.0 => break ended,
                () = &mut stop, if stop_serving.is_some() => {
                    if let Some(tx) = stop_serving.take() {
                        let _ = tx.send(());
                    }
                }
            }
        };
        match ended {
            Ok(ended) => ended,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only an abort cancels it, and only dropping this future aborts it.
            Err(_) => Ok(()),
        }
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

    /// [`serve_io`](Self::serve_io), stopping gracefully when `stop` completes, as
    /// [`serve_until`](Self::serve_until) does.
    pub async fn serve_io_until<R, W>(
        self,
        reader: R,
        writer: W,
        stop: impl Future<Output = ()>,
    ) -> Result<(), StdioError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        self.run(reader, writer, stop, std::future::pending(), None)
            .await
    }

    async fn run<R, W>(
        self,
        reader: R,
        writer: W,
        stop: impl Future<Output = ()>,
        output_closed: impl Future<Output = ()>,
        idle_poll: Option<IdlePoll<R>>,
    ) -> Result<(), StdioError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let (outbox, outbound) = Outbox::channel(self.server.outbox_capacity());
        let session = ServerSession::new(&self.server, outbox.clone());
        let (stop_writer, stopped) = oneshot::channel();
        let output = Output::new(FrameWriter::new(writer), outbound);
        let write = write_loop(&output, stopped);
        tokio::pin!(write, stop, output_closed);

        let ended = {
            let reader = WriteBeforeRead::new(reader, &output, idle_poll);
            let mut frames = FrameReader::new(reader, self.max_line_bytes);
            let read = read_loop(&session, outbox, &mut frames, &output);
            tokio::pin!(read);
            tokio::select! {
                read = &mut read => Ended::Input(read),
                written = &mut write => Ended::Output(written),
                () = &mut stop => Ended::Stop,
                () = &mut output_closed => Ended::OutputClosed,
            }
            // The read loop, and with it its outbox, is dropped here: no more input is read.
        };
        let read = match ended {
            Ended::Input(read) => read,
            Ended::Stop => {
                tracing::debug!("stopping: no more requests are read");
                let finished = self.finish_calls(&session, &mut write, &mut output_closed);
                if let Some(ended) = finished.await {
                    session.close();
                    return Err(ended);
                }
                Ok(())
            }
            Ended::Output(written) => {
                // Cancel every call still running: nobody can receive their answers.
                session.close();
                return Err(match written {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => closed_output(),
                    Err(e) => StdioError::Write(e),
                    // The writer only ends cleanly once every sender is gone, which cannot
                    // happen while the read loop holds one.
                    Ok(()) => return Ok(()),
                });
            }
            Ended::OutputClosed => {
                session.close();
                return Err(closed_output());
            }
        };
        // Cancel every call still running: their futures are dropped, no responses follow.
        session.close();
        drop(session);
        let written = match tokio::time::timeout(self.shutdown_grace, &mut write).await {
            Ok(written) => written,
            Err(_) => {
                tracing::warn!("calls still hold the output after the shutdown grace; stopping");
                let _ = stop_writer.send(());
                // Writing what is queued may itself block on a reader that stopped
                // reading: give up on it after another grace period.
                tokio::time::timeout(self.shutdown_grace, &mut write)
                    .await
                    .unwrap_or(Ok(()))
            }
        };
        read.map_err(StdioError::Read)?;
        written.map_err(|e| match e.kind() {
            io::ErrorKind::BrokenPipe => closed_output(),
            _ => StdioError::Write(e),
        })
    }

    /// After a stop signal: lets the running calls finish within the shutdown timeout, then
    /// answers each one still running with an error, while the writer keeps writing. Returns
    /// why the output ended, if it did meanwhile.
    async fn finish_calls<F: Future<Output = io::Result<()>>>(
        &self,
        session: &ServerSession,
        write: &mut Pin<&mut F>,
        output_closed: &mut Pin<&mut impl Future<Output = ()>>,
    ) -> Option<StdioError> {
        let calls_done = async {
            while session.in_flight() > 0 {
                tokio::time::sleep(IN_FLIGHT_POLL).await;
            }
        };
        let outcome = tokio::select! {
            done = tokio::time::timeout(self.shutdown_timeout, calls_done) => done.is_ok(),
            written = write.as_mut() => {
                return Some(written.err().map_or_else(closed_output, StdioError::Write));
            }
            () = output_closed.as_mut() => return Some(closed_output()),
        };
        if !outcome {
            let error = RpcError::new(
                ErrorCode::SERVER_ERROR,
                "the server is shutting down: the request was stopped before it finished",
            )
            .with_data(serde_json::json!({"reason": "shutdown"}));
            let ended = session.fail_all(error).await;
            tracing::warn!(
                calls = ended,
                "shutdown timeout over: answered the calls still running with an error"
            );
        }
        None
    }
}

/// A task aborted when its handle is dropped: the serving task of a dropped
/// [`StdioServer::serve_until`] future stops with it.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How often a stopping server looks whether its calls have finished.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(10);

fn closed_output() -> StdioError {
    tracing::warn!("the client closed stdout: stopping, and cancelling the calls still running");
    StdioError::OutputClosed
}

enum Ended {
    Input(io::Result<()>),
    Output(io::Result<()>),
    Stop,
    OutputClosed,
}

/// Feeds every inbound frame to the session until end of input.
///
/// An answer ready at once is queued on the output from here rather than sent through the
/// outbox (see [`Output::queue`]), and `frames` writes what is queued before each read (see
/// [`WriteBeforeRead`]): a call that completes without waiting costs one write and no
/// hand-off to the write loop, and the answers to requests read together leave in one write.
async fn read_loop<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    session: &ServerSession,
    outbox: Outbox,
    frames: &mut FrameReader<WriteBeforeRead<'_, R, W>>,
    output: &Output<W>,
) -> io::Result<()> {
    let max_line_bytes = frames.max_line_bytes();
    loop {
        let Some(parsed) = frames
            .next_frame_with(|frame| match frame {
                FrameRef::Line(bytes) => Incoming::parse(bytes).map_err(|e| *e),
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
        else {
            break;
        };
        let answer = match parsed {
            Ok(Incoming::Single(message)) => match session.handle(message, &outbox) {
                Some(answer) => Outbound::answer(Box::new(answer)),
                None => continue,
            },
            Ok(Incoming::Batch(items)) => {
                if receive_batch(session, items, &outbox).await.is_err() {
                    break;
                }
                continue;
            }
            Err(error) => {
                tracing::debug!(code = error.error.code, "answering an unreadable line");
                Outbound {
                    message: Box::new(Message::Error(error)),
                    related: None,
                }
            }
        };
        let mut answer = Some(answer);
        std::future::poll_fn(|cx| {
            answer = answer.take().and_then(|a| output.queue(a, cx).err());
            Poll::Ready(())
        })
        .await;
        // Behind other output: in order, through the queue.
        if let Some(answer) = answer
            && outbox.send_outbound(answer).await.is_err()
        {
            break;
        }
    }
    tracing::debug!("end of input");
    Ok(())
}

/// Handles a batch: on a session that negotiated 2025-03-26, each element as if it came on
/// its own line; elsewhere one `-32600` error. Fails when the output is gone.
async fn receive_batch(
    session: &ServerSession,
    items: Vec<Result<Message, Box<ErrorResponse>>>,
    outbox: &Outbox,
) -> Result<(), Closed> {
    let version = session.protocol_version();
    if version != Some(ProtocolVersion::V2025_03_26) {
        let uses = version.map_or("none yet".to_owned(), |v| v.as_str().to_owned());
        let error = ErrorResponse::new(
            None,
            RpcError::invalid_request(format!(
                "JSON-RPC batches are accepted only on sessions that negotiated protocol \
                 revision 2025-03-26, the one revision that defines them; this session's \
                 revision is {uses}: send one message per line"
            )),
        );
        return outbox.send(Message::Error(error), None).await;
    }
    for item in items {
        match item {
            Ok(Message::Request(r)) if r.method == methods::INITIALIZE => {
                let why = "`initialize` must not be part of a JSON-RPC batch";
                let error = ErrorResponse::new(Some(r.id.clone()), RpcError::invalid_request(why));
                outbox.send(Message::Error(error), Some(r.id)).await?;
            }
            Ok(message) => session.receive(message, outbox).await,
            Err(error) => outbox.send(Message::Error(*error), None).await?,
        }
    }
    Ok(())
}

/// Writes every outbound message as a flushed line until every sender is gone, or, once
/// `stop` fires, until the queue is empty (see [`Output::poll_write`]).
async fn write_loop<W: AsyncWrite + Unpin>(
    output: &Output<W>,
    mut stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    tokio::select! {
        biased;
        written = std::future::poll_fn(|cx| output.poll_write(cx)) => written,
        _ = &mut stop => std::future::poll_fn(|cx| output.poll_drain(cx)).await,
    }
}

#[cfg(all(test, target_os = "linux"))]
#[path = "idle_poll_tests.rs"]
mod idle_poll_tests;
