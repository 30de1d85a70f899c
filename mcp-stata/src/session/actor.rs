//! The task that owns a session's Stata process: runs commands one at a time, recognises
//! their ends by sentinels, breaks them off, ends the session.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::SessionError;
use crate::config::unique_token;
use crate::dofile;
use crate::follow::{STDERR_TAIL, sleep_until, stopped_at, tail_of};
use crate::logparse::LogParser;
use crate::outcome::{LogLine, RunError, RunEvent, RunOutcome, RunStatus, read_graphs};
use crate::process::{ExitInfo, ProcessGroup, Sig};
use crate::quote::{PathStyle, quote_path};
use crate::tail::{LineSplitter, LogTail};

/// What a [`super::ConsoleSession`] asks of its actor.
pub(super) enum Request {
    Run {
        code: String,
        timeout: Option<Duration>,
        events: mpsc::Sender<RunEvent>,
        interrupt: CancellationToken,
        cancel: CancellationToken,
    },
    Close {
        done: oneshot::Sender<Option<ExitInfo>>,
    },
}

fn sentinel(token: &str) -> (String, String) {
    (
        format!("display \"__MCP_DONE_\" \"{token}__\"\n"),
        format!("__MCP_DONE_{token}__"),
    )
}

pub(super) async fn read_lines(mut out: impl AsyncRead + Unpin, tx: mpsc::Sender<String>) {
    let mut splitter = LineSplitter::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match out.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut lines = Vec::new();
        splitter.push(&buf[..n], &mut |line| lines.push(line));
        for line in lines {
            if tx.send(line).await.is_err() {
                return;
            }
        }
    }
    if let Some(line) = splitter.finish() {
        let _ = tx.send(line).await;
    }
}

/// How many of the last lines a session that fails to start shows.
const HANDSHAKE_LINES: usize = 20;

/// The end of a command other than its sentinel.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    Interrupted,
    Cancelled,
    TimedOut,
}

pub(super) struct Actor {
    pub(super) child: Child,
    pub(super) group: ProcessGroup,
    pub(super) stdin: ChildStdin,
    pub(super) lines: mpsc::Receiver<String>,
    pub(super) dir: PathBuf,
    pub(super) cwd: PathBuf,
    pub(super) counter: u64,
    pub(super) grace: Duration,
    pub(super) tail_lines: usize,
    pub(super) max_graph_bytes: u64,
    pub(super) current: Arc<Mutex<Option<CancellationToken>>>,
    pub(super) exit: Option<ExitInfo>,
    /// The last line was a sentinel's output: the blank line that follows belongs to it.
    pub(super) after_marker: bool,
}

impl Actor {
    /// Whether `line` is the blank line that ends the previous sentinel's output.
    fn sentinel_blank(&mut self, line: &str) -> bool {
        std::mem::take(&mut self.after_marker) && line.trim().is_empty()
    }

    async fn write(&mut self, text: &str) -> std::io::Result<()> {
        self.stdin.write_all(text.as_bytes()).await?;
        self.stdin.flush().await
    }

    /// `set more off` and a first sentinel; fails if Stata exits or stays silent for
    /// `timeout`, with what it printed.
    pub(super) async fn handshake(
        &mut self,
        timeout: Duration,
        stderr: Option<tokio::task::JoinHandle<String>>,
    ) -> Result<(), SessionError> {
        let (command, marker) = sentinel(&unique_token());
        let sent = self.write(&format!("set more off\n{command}")).await;
        let deadline = Instant::now() + timeout;
        let mut printed = LogTail::new(HANDSHAKE_LINES);
        let mut timed_out = false;
        if sent.is_ok() {
            loop {
                tokio::select! {
                    line = self.lines.recv() => match line {
                        Some(line) if line.contains(&marker) => {
                            self.after_marker = true;
                            return Ok(());
                        }
                        // Our own commands' echoes are not what Stata printed.
                        Some(line) if line.contains("__MCP_DONE_") => continue,
                        Some(line) => printed.push(&line),
                        None => break,
                    },
                    () = tokio::time::sleep_until(deadline) => {
                        timed_out = true;
                        break;
                    }
                }
            }
        }
        let status = self.group.terminate(&mut self.child, self.grace).await;
        // Lines still on their way when Stata was stopped.
        while let Ok(line) = self.lines.try_recv() {
            if !line.contains("__MCP_DONE_") {
                printed.push(&line);
            }
        }
        let stderr = match stderr {
            Some(handle) => tokio::time::timeout(Duration::from_secs(2), handle)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default(),
            None => String::new(),
        };
        let stderr = tail_of(&stderr, STDERR_TAIL);
        if timed_out {
            return Err(SessionError::StartupTimeout {
                waited: timeout,
                last_lines: printed.into_lines(),
                stderr,
            });
        }
        Err(SessionError::Startup {
            exit: Some(ExitInfo::from_status(status)),
            stderr,
        })
    }

    pub(super) async fn serve(mut self, mut requests: mpsc::Receiver<Request>) {
        loop {
            let request = if self.exit.is_some() {
                requests.recv().await
            } else {
                tokio::select! {
                    request = requests.recv() => request,
                    status = self.child.wait() => {
                        self.exit = status.ok().map(ExitInfo::from_status);
                        self.group.reap_leftovers(self.grace).await;
                        continue;
                    }
                }
            };
            match request {
                Some(Request::Run {
                    code,
                    timeout,
                    events,
                    interrupt,
                    cancel,
                }) => {
                    if let Ok(mut current) = self.current.lock() {
                        *current = Some(interrupt.clone());
                    }
                    let result = if self.exit.is_some() {
                        Err(RunError::SessionEnded(self.exit))
                    } else {
                        self.run(&code, timeout, &events, &interrupt, &cancel).await
                    };
                    if let Ok(mut current) = self.current.lock() {
                        *current = None;
                    }
                    let _ = events.send(RunEvent::Finished(result)).await;
                }
                Some(Request::Close { done }) => {
                    let exit = self.shutdown().await;
                    let _ = done.send(exit);
                    return;
                }
                None => {
                    self.shutdown().await;
                    return;
                }
            }
        }
    }

    /// `exit, clear STATA`, then the group is ended if anything lingers.
    async fn shutdown(&mut self) -> Option<ExitInfo> {
        if self.exit.is_none() {
            let _ = self.write("exit, clear STATA\n").await;
            let waited = tokio::time::timeout(self.grace, self.child.wait()).await;
            self.exit = match waited {
                Ok(Ok(status)) => {
                    self.group.reap_leftovers(self.grace).await;
                    Some(ExitInfo::from_status(status))
                }
                _ => {
                    let status = self.group.terminate(&mut self.child, self.grace).await;
                    Some(ExitInfo::from_status(status))
                }
            };
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        self.exit
    }

    /// The session died: record how, clean up the group.
    async fn died(&mut self) -> RunError {
        let status = self.group.terminate(&mut self.child, self.grace).await;
        self.exit = Some(ExitInfo::from_status(status));
        RunError::SessionEnded(self.exit)
    }

    async fn run(
        &mut self,
        code: &str,
        timeout: Option<Duration>,
        events: &mpsc::Sender<RunEvent>,
        interrupt: &CancellationToken,
        cancel: &CancellationToken,
    ) -> Result<RunOutcome, RunError> {
        while let Ok(line) = self.lines.try_recv() {
            self.sentinel_blank(&line);
        }
        self.counter += 1;
        let path = self.dir.join(format!("cmd_{}.do", self.counter));
        let mut text = code.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        std::fs::write(&path, &text).map_err(|source| RunError::Job {
            path: path.clone(),
            source,
        })?;
        let commands = dofile::commands(&text);
        let total = commands.len();
        let (sentinel_cmd, first_marker) = sentinel(&unique_token());
        let do_command = format!("do {}", quote_path(&path, PathStyle::Unix)?);
        let do_line = format!("{do_command}\n{sentinel_cmd}");
        if self.write(&do_line).await.is_err() {
            return Err(self.died().await);
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut parser = LogParser::console(&self.cwd, &do_command).with_commands(commands);
        let mut tail = LogTail::new(self.tail_lines);
        let mut marker = first_marker.clone();
        let mut stop: Option<Stop> = None;
        let mut break_deadline: Option<Instant> = None;
        let mut pending: Option<RunEvent> = None;
        let mut receiver_gone = false;
        let mut past_first = false;
        loop {
            let stopping = stop.is_some();
            tokio::select! {
                biased;
                () = interrupt.cancelled(), if !stopping => stop = Some(Stop::Interrupted),
                () = cancel.cancelled(), if !stopping => stop = Some(Stop::Cancelled),
                () = events.closed(), if !stopping => {
                    receiver_gone = true;
                    stop = Some(Stop::Cancelled);
                }
                () = sleep_until(deadline), if !stopping => stop = Some(Stop::TimedOut),
                () = sleep_until(break_deadline), if stopping => return Err(self.died().await),
                permit = events.reserve(), if pending.is_some() && !receiver_gone => match permit {
                    Ok(permit) => {
                        if let Some(event) = pending.take() {
                            permit.send(event);
                        }
                    }
                    Err(_) => receiver_gone = true,
                },
                line = self.lines.recv(), if pending.is_none() || receiver_gone => {
                    let Some(line) = line else {
                        return Err(self.died().await);
                    };
                    if self.sentinel_blank(&line) {
                        continue;
                    }
                    if line.contains(&marker) {
                        self.after_marker = true;
                        break;
                    }
                    if line.contains(&first_marker) {
                        past_first = true;
                    }
                    // Past the first sentinel nothing is the command's; the sentinels' own
                    // echoes are not either.
                    if past_first || line.contains("__MCP_DONE_") {
                        continue;
                    }
                    if parser.feed(&line).visible {
                        tail.push(&line);
                        pending = Some(RunEvent::Line(LogLine {
                            text: line,
                            executed: parser.executed(),
                            total,
                        }));
                    }
                }
            }
            if stop.is_some() && !stopping {
                // Break: SIGINT, then a second sentinel that runs whatever the first became.
                self.group.signal(Sig::Interrupt);
                let (command, second) = sentinel(&unique_token());
                if self.write(&command).await.is_err() {
                    return Err(self.died().await);
                }
                marker = second;
                break_deadline = Some(Instant::now() + self.grace.max(Duration::from_secs(5)));
            }
        }
        if let Some(event) = pending.take()
            && !receiver_gone
        {
            let _ = events.send(event).await;
        }
        self.cwd = parser.cwd().to_path_buf();
        let status = match stop {
            Some(Stop::Cancelled) => RunStatus::Cancelled,
            Some(Stop::TimedOut) => RunStatus::TimedOut,
            Some(Stop::Interrupted) | None => match parser.error() {
                Some(error) => RunStatus::StataError(error),
                None => RunStatus::Success,
            },
        };
        let graphs = read_graphs(parser.graphs(), self.max_graph_bytes).await;
        Ok(RunOutcome {
            stopped_at: stopped_at(&parser, &status),
            status,
            log_tail: tail.into_lines(),
            log_path: path,
            graphs,
            exit: None,
            executed: parser.executed(),
            total,
            started: parser.started(),
            stderr: String::new(),
            cluster: None,
        })
    }
}
