//! Persistent console sessions: one `stata -q` process fed on standard input, whose data and
//! settings persist from one command to the next.
//!
//! Each command's code is written to a do-file in the session's directory and run with
//! `do "file"`, followed by a sentinel, `display "__MCP_DONE_" "<token>__"`: its output line
//! holds `__MCP_DONE_<token>__` while its echo (if Stata echoes) does not, so the line marks the
//! end of the command whether or not commands echo and whatever the prompt looks like. Running
//! the code as a do-file makes an error or a break stop the whole code, and lets the code use
//! `///` and `#delimit`.
//!
//! A break ([`SessionRun::interrupt`], or a cancelled or timed-out command) sends SIGINT to the
//! session's process group and a second sentinel (the first may have been broken too), then
//! waits for that one: Stata prints `--Break--` and `r(1);` and keeps the session. A session
//! that does not answer within the grace period is killed. The session starts with
//! `set more off`, so no `--more--` prompt ever waits for a key.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::config::{StataConfig, create_job_dir};
use crate::dofile;
use crate::outcome::{RunError, RunEvent, RunOutcome};
use crate::process::{ExitInfo, Input, ProcessGroup, check_program, kept_command};
use crate::quote::PathStyle;

mod actor;

use crate::batch::read_tail;
use actor::{Actor, Request, read_lines};

/// Options of a console session.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// The directory Stata starts in (default: the current directory).
    pub working_dir: Option<PathBuf>,
    /// How long Stata may take to start and answer its first sentinel.
    pub startup_timeout: Duration,
}

impl Default for SessionOptions {
    fn default() -> SessionOptions {
        SessionOptions {
            working_dir: None,
            startup_timeout: Duration::from_secs(60),
        }
    }
}

/// Why a session could not start or end cleanly.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Console sessions need a console Stata, which Windows does not have; use batch runs.
    #[error("Stata has no console mode on Windows: run code in batch mode instead")]
    Unsupported,
    /// The session's directory could not be made.
    #[error("cannot prepare the session directory in {path}: {source}")]
    Dir {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The executable could not be started.
    #[error("cannot start Stata ({program}): {source}")]
    Spawn {
        /// The executable.
        program: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Stata exited before answering: a licence or usage problem, told on stderr.
    #[error("Stata failed to start{}: {}", .exit.map(|e| format!(" (exit code {})", e.code)).unwrap_or_default(), .stderr.trim())]
    Startup {
        /// How it exited, if it did.
        exit: Option<ExitInfo>,
        /// What it wrote on standard error.
        stderr: String,
    },
    /// Stata did not answer within [`SessionOptions::startup_timeout`]: it never printed the
    /// end-of-command marker.
    #[error(
        "Stata did not answer within {} of starting (it never printed the end-of-command marker); {}",
        crate::outcome::seconds_text(*.waited),
        printed(.last_lines, .stderr)
    )]
    StartupTimeout {
        /// How long it was given.
        waited: Duration,
        /// The last lines it printed on standard output.
        last_lines: Vec<String>,
        /// What it wrote on standard error (its end).
        stderr: String,
    },
    /// The session has already ended.
    #[error("the Stata session has ended")]
    Ended,
}

fn printed(lines: &[String], stderr: &str) -> String {
    let mut text = if lines.is_empty() {
        "it printed nothing on standard output".to_owned()
    } else {
        format!(
            "the last {} lines it printed:\n{}",
            lines.len(),
            lines.join("\n")
        )
    };
    let stderr = stderr.trim();
    if !stderr.is_empty() {
        text.push_str("\nOn standard error:\n");
        text.push_str(stderr);
    }
    text
}

/// A persistent Stata console. Commands run one at a time, in the order given.
///
/// Dropping it ends the session (`exit, clear STATA`, then the process group is killed if
/// Stata lingers).
#[derive(Debug)]
pub struct ConsoleSession {
    requests: mpsc::Sender<Request>,
    current: Arc<Mutex<Option<CancellationToken>>>,
    pid: Option<u32>,
    dir: PathBuf,
}

/// One command of a session: a [`Stream`] of [`RunEvent`]s ending with [`RunEvent::Finished`].
///
/// Dropping it before the end breaks the command off (the session stays).
#[derive(Debug)]
pub struct SessionRun {
    events: mpsc::Receiver<RunEvent>,
    interrupt: CancellationToken,
    cancel: CancellationToken,
    total: usize,
}

impl ConsoleSession {
    /// Starts `stata -q` and waits until it answers.
    pub async fn start(
        config: &StataConfig,
        options: SessionOptions,
    ) -> Result<ConsoleSession, SessionError> {
        if config.path_style == PathStyle::Windows {
            return Err(SessionError::Unsupported);
        }
        let dir =
            create_job_dir(&config.jobs_dir, "session").map_err(|source| SessionError::Dir {
                path: config.jobs_dir.clone(),
                source,
            })?;
        let working_dir = match options.working_dir {
            Some(dir) => dir,
            None => std::env::current_dir().map_err(|source| SessionError::Dir {
                path: PathBuf::from("."),
                source,
            })?,
        };
        let program = &config.executable.path;
        check_program(program).map_err(|source| SessionError::Spawn {
            program: program.clone(),
            source,
        })?;
        // Stata reads the server's commands through a FIFO the keeper relays to, so it dies with
        // the server (see `process`).
        let input = Input::Relay(dir.join("stdin.fifo"));
        let mut command = kept_command(program, &["-q".into()], &input, config.kill_grace);
        command
            .envs(config.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&working_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| SessionError::Spawn {
            program: program.clone(),
            source,
        })?;
        let group = ProcessGroup::of(&child);
        let pid = group.id();
        let (line_tx, lines) = mpsc::channel(256);
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(read_lines(stdout, line_tx));
        }
        let stderr = child.stderr.take().map(|s| tokio::spawn(read_tail(s)));
        let Some(stdin) = child.stdin.take() else {
            return Err(SessionError::Ended);
        };
        let mut actor = Actor {
            child,
            group,
            stdin,
            lines,
            dir: dir.clone(),
            cwd: working_dir,
            counter: 0,
            grace: config.kill_grace,
            tail_lines: config.tail_lines,
            max_graph_bytes: config.max_graph_bytes,
            current: Arc::new(Mutex::new(None)),
            exit: None,
            after_marker: false,
        };
        actor.handshake(options.startup_timeout, stderr).await?;
        let current = Arc::clone(&actor.current);
        let (requests, rx) = mpsc::channel(16);
        tokio::spawn(actor.serve(rx));
        Ok(ConsoleSession {
            requests,
            current,
            pid,
            dir,
        })
    }

    /// Queues `code` (one or more lines of do-file code) to run; `timeout` breaks it off.
    pub async fn run(&self, code: &str, timeout: Option<Duration>) -> Result<SessionRun, RunError> {
        let (events, rx) = mpsc::channel(64);
        let interrupt = CancellationToken::new();
        let cancel = CancellationToken::new();
        let code = code.strip_prefix('\u{feff}').unwrap_or(code).to_owned();
        let total = dofile::count_commands(&code);
        self.requests
            .send(Request::Run {
                code,
                timeout,
                events,
                interrupt: interrupt.clone(),
                cancel: cancel.clone(),
            })
            .await
            .map_err(|_| RunError::SessionEnded(None))?;
        Ok(SessionRun {
            events: rx,
            interrupt,
            cancel,
            total,
        })
    }

    /// Sends a break to the command running now, if any (Stata's `--Break--`, `r(1)`).
    pub fn interrupt(&self) {
        if let Ok(current) = self.current.lock()
            && let Some(token) = current.as_ref()
        {
            token.cancel();
        }
    }

    /// The pid of the Stata process (also its process-group id).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The directory holding the session's command files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Ends the session with `exit, clear STATA` after the queued commands, and waits until
    /// Stata and its process group are gone. The exit status, if Stata was still there to exit.
    ///
    /// Commands queued after this fail with [`RunError::SessionEnded`]; a second `close`
    /// fails with [`SessionError::Ended`].
    pub async fn close(&self) -> Result<Option<ExitInfo>, SessionError> {
        let (done, rx) = oneshot::channel();
        self.requests
            .send(Request::Close { done })
            .await
            .map_err(|_| SessionError::Ended)?;
        rx.await.map_err(|_| SessionError::Ended)
    }
}

impl SessionRun {
    /// Breaks the command off (SIGINT); it finishes with Stata's `r(1)`.
    pub fn interrupt(&self) {
        self.interrupt.cancel();
    }

    /// Breaks the command off; it finishes as [`RunStatus::Cancelled`](crate::RunStatus::Cancelled).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// How many commands the code holds.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The next event; `None` after [`RunEvent::Finished`].
    pub async fn next_event(&mut self) -> Option<RunEvent> {
        self.events.recv().await
    }

    /// Waits for the end, skipping the line events.
    pub async fn finish(mut self) -> Result<RunOutcome, RunError> {
        while let Some(event) = self.events.recv().await {
            if let RunEvent::Finished(result) = event {
                return result;
            }
        }
        Err(RunError::SessionEnded(None))
    }
}

impl Stream for SessionRun {
    type Item = RunEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RunEvent>> {
        self.events.poll_recv(cx)
    }
}
