//! The idle poll on a real non-blocking pipe, with a window (30 s) far longer than any test's
//! limit: a poll that held the thread, or ignored other output, would fail the test. The
//! client runs on a plain thread with blocking pipes, as a separate process would; the test's
//! limit is kept by a thread too, not by the runtime under test.

use std::future::Future;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcp_core::tool::FnTool;
use mcp_core::{IntoCallToolResult, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::runtime::Runtime;
use tokio::sync::{Semaphore, oneshot};

use super::StdioServer;
use crate::idle_poll::governor::Governor;
use crate::idle_poll::{IdlePoll, ReadNow, SLICE};

/// Longer than the test's time limit: a poll that ran its whole window would fail the test.
const WINDOW: Duration = Duration::from_secs(30);
/// The test's time limit.
const LIMIT: Duration = Duration::from_secs(10);

/// Per test (by index): how many reads the poll made, and how many of them found input.
static READS: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
static FOUND: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// The poll's read, counted in the slots of test `I`.
fn read_now<const I: usize>(input: &pipe::Receiver, buf: &mut [u8]) -> std::io::Result<usize> {
    READS[I].fetch_add(1, Ordering::SeqCst);
    let read = nix::unistd::read(input.as_fd(), buf).map_err(std::io::Error::from);
    if matches!(read, Ok(n) if n > 0) {
        FOUND[I].fetch_add(1, Ordering::SeqCst);
    }
    read
}

fn reads(i: usize) -> u64 {
    READS[i].load(Ordering::SeqCst)
}

fn found(i: usize) -> u64 {
    FOUND[i].load(Ordering::SeqCst)
}

fn def(name: &str) -> mcp_core::protocol::ToolDefinition {
    serde_json::from_value(serde_json::json!({
        "name": name,
        "inputSchema": {"type": "object", "properties": {}}
    }))
    .expect("a tool definition")
}

/// A server with `echo` (answers at once) and `wait` (reports `first`, waits for a permit,
/// reports `second`, answers).
fn server(release: &Arc<Semaphore>) -> Server {
    let release = release.clone();
    let wait = FnTool::new(def("wait"), move |ctx, _args| {
        let release = release.clone();
        async move {
            ctx.progress("first").await;
            release.acquire().await.expect("open").forget();
            ctx.progress("second").await;
            "waited".into_call_tool_result()
        }
    });
    let echo = FnTool::new(def("echo"), |_ctx, _args| async move {
        "echoed".into_call_tool_result()
    });
    Server::builder("idle-poll-test", "0")
        .tool(wait)
        .tool(echo)
        .build()
        .expect("a server")
}

/// The client: blocking ends of two pipes, driven from a plain thread as a separate process
/// would drive them (not through the server's runtime).
struct Client {
    input: std::fs::File,
    output: std::io::Lines<std::io::BufReader<std::fs::File>>,
}

impl Client {
    fn send(&mut self, line: &str) {
        use std::io::Write;
        self.input
            .write_all(format!("{line}\n").as_bytes())
            .expect("write");
    }

    fn line(&mut self) -> String {
        self.output.next().expect("a line").expect("read")
    }

    fn call(&mut self, id: u64, tool: &str) {
        let call = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{{}},"_meta":{{"progressToken":"p{id}"}}}}}}"#
        );
        self.send(&call);
    }

    /// Calls `echo` and checks its answer.
    fn echo(&mut self, id: u64) {
        self.call(id, "echo");
        let answer = self.line();
        assert!(
            answer.contains(&format!(r#""id":{id}"#)) && answer.contains("echoed"),
            "{answer}"
        );
    }
}

fn current_thread() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn multi_thread() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Serves `server` on `runtime` with the idle poll `poll` (reads through `read_now`), runs
/// `beside` in the same runtime, and `client` on a thread of its own after the handshake;
/// fails if the client and `beside` take longer than [`LIMIT`] or the server does not end
/// cleanly at end of input.
fn serve_and_drive<F: Future<Output = ()> + 'static>(
    runtime: Runtime,
    server: Server,
    poll: Option<(ReadNow<pipe::Receiver>, Governor)>,
    beside: impl FnOnce() -> F + Send + 'static,
    client: impl FnOnce(&mut Client) + Send + 'static,
) {
    use std::io::BufRead;
    let (in_read, in_write) = nix::unistd::pipe().expect("a pipe");
    let (out_read, out_write) = nix::unistd::pipe().expect("a pipe");
    let (done, finished) = std::sync::mpsc::channel();
    let served = done.clone();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let input = pipe::Receiver::from_owned_fd(in_read).expect("a pipe");
            let output = pipe::Sender::from_owned_fd(out_write).expect("a pipe");
            let poll = poll.map(|(read_now, governor)| IdlePoll::with(read_now, governor, SLICE));
            let serving = StdioServer::new(&server).run(
                input,
                output,
                std::future::pending(),
                std::future::pending(),
                poll,
            );
            let (ended, ()) = tokio::join!(serving, beside());
            let _ = served.send(ended.map_err(|e| e.to_string()));
        });
    });
    std::thread::spawn(move || {
        let mut c = Client {
            input: std::fs::File::from(in_write),
            output: std::io::BufReader::new(std::fs::File::from(out_read)).lines(),
        };
        c.send(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#);
        assert!(c.line().contains("protocolVersion"));
        c.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        client(&mut c);
        // End of input: the server must end cleanly.
        drop(c);
    });
    let ended = finished
        .recv_timeout(LIMIT)
        .expect("the client and the task beside the server finished within the limit");
    assert_eq!(ended, Ok(()), "a clean end at end of input");
}

/// A window of [`WINDOW`] from the first answer on, reading through `read_now::<I>`.
fn polling<const I: usize>() -> Option<(ReadNow<pipe::Receiver>, Governor)> {
    Some((read_now::<I>, Governor::at_max(WINDOW)))
}

#[test]
fn requests_read_by_the_poll_are_answered_in_order() {
    let release = Arc::new(Semaphore::new(0));
    serve_and_drive(
        multi_thread(),
        server(&release),
        polling::<0>(),
        || async {},
        |client| {
            // One at a time: each request comes while the poll after the last answer runs.
            for id in 2..30 {
                client.echo(id);
            }
        },
    );
    assert!(found(0) > 0, "the poll read requests");
}

/// While the serving task polls stdin (its window far longer than the test), a timer and
/// another task's I/O on the same runtime complete, and the poll goes on meanwhile.
fn the_runtime_runs_beside_a_poll<const I: usize>(runtime: Runtime) {
    let release = Arc::new(Semaphore::new(0));
    let (answered, is_polling) = oneshot::channel::<()>();
    let (ran, timer_and_io_done) = std::sync::mpsc::channel::<(u64, u64)>();
    let beside = move || async move {
        is_polling.await.expect("the client's signal");
        // The server answered and polls for the next request now, until the window ends.
        let before = reads(I);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let (mut tx, mut rx) = pipe::pipe().expect("a pipe");
        tx.write_all(b"ping").await.expect("write");
        let mut got = [0u8; 4];
        rx.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"ping");
        ran.send((before, reads(I))).expect("the client waits");
    };
    serve_and_drive(
        runtime,
        server(&release),
        polling::<I>(),
        beside,
        move |client| {
            client.echo(2);
            answered.send(()).expect("the task beside waits");
            let (before, after) = timer_and_io_done.recv().expect("the task beside ran");
            assert!(
                after > before,
                "the poll kept reading while the timer and the I/O ran ({before} -> {after})"
            );
            let found_before = found(I);
            client.echo(3);
            assert!(found(I) > found_before, "the poll read the next request");
        },
    );
}

#[test]
fn the_runtime_runs_beside_a_poll_on_one_thread() {
    the_runtime_runs_beside_a_poll::<1>(current_thread());
}

#[test]
fn the_runtime_runs_beside_a_poll_on_two_workers() {
    the_runtime_runs_beside_a_poll::<2>(multi_thread());
}

/// A pending call's progress is written at once while the poll runs, and stops it.
fn progress_is_written_while_the_poll_runs<const I: usize>(runtime: Runtime) {
    let release = Arc::new(Semaphore::new(0));
    let permits = release.clone();
    serve_and_drive(
        runtime,
        server(&release),
        polling::<I>(),
        || async {},
        move |client| {
            client.call(2, "wait");
            assert!(client.line().contains("first"));
            // An answer at once: the serving task polls stdin for the next request now...
            client.echo(3);
            // ...and must still write the other call's progress the moment it is sent.
            permits.add_permits(1);
            assert!(client.line().contains("second"));
            assert!(client.line().contains("waited"));
        },
    );
}

#[test]
fn progress_is_written_while_the_poll_runs_on_one_thread() {
    progress_is_written_while_the_poll_runs::<3>(current_thread());
}

#[test]
fn progress_is_written_while_the_poll_runs_on_two_workers() {
    progress_is_written_while_the_poll_runs::<4>(multi_thread());
}

#[test]
fn a_zero_window_turns_the_poll_off() {
    assert!(IdlePoll::new(read_now::<5>, Duration::ZERO).is_none());
    // A governor whose largest window is zero never polls either.
    let release = Arc::new(Semaphore::new(0));
    serve_and_drive(
        current_thread(),
        server(&release),
        Some((read_now::<5>, Governor::new(Duration::ZERO))),
        || async {},
        |client| {
            for id in 2..10 {
                client.echo(id);
            }
        },
    );
    assert_eq!(reads(5), 0, "no read without the reactor");
}
