//! One-shot batch runs on this machine: `stata -b -q do wrapper.do` in a job directory of its
//! own, the log followed line by line as it grows.
//!
//! Each run gets a fresh directory under [`StataConfig::jobs_dir`] holding a uniquely named
//! wrapper do-file, which `cd`s to the working directory and `do`es the user's file; Stata writes
//! `<wrapper stem>.log` there. The directory (with the log) is left in place for the caller; its
//! path is [`BatchRun::job_dir`]. Stata runs under the [keeper](crate::process), so it dies with
//! the server, however the server ends.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::StataConfig;
use crate::follow::{Interrupt, LogFollower, STDERR_TAIL, sleep_until, tail_of};
use crate::job::{JobSource, Wrapper, job_dir};
use crate::logparse::LogParser;
use crate::outcome::{RunError, RunEvent, RunOutcome, RunStatus};
use crate::process::{ExitInfo, Input, ProcessGroup, check_program, kept_command};
use crate::quote::PathStyle;

/// Standard error (and output) is read up to its end, keeping at most this many last bytes.
const PIPE_KEEP: usize = 64 * 1024;

/// Options of one batch run.
#[derive(Clone, Debug, Default)]
pub struct BatchOptions {
    /// The directory the do-file runs in (default: the do-file's own directory; for code, the
    /// current directory).
    pub working_dir: Option<PathBuf>,
    /// Arguments passed to the do-file (`` `1' ``, `` `2' ``...).
    pub args: Vec<String>,
    /// Stop the run (killing Stata's process group) after this long.
    pub timeout: Option<Duration>,
}

/// A running batch job: a [`Stream`] of [`RunEvent`]s ending with [`RunEvent::Finished`].
///
/// Dropping it before the end cancels the run: Stata's whole process group is killed.
#[derive(Debug)]
pub struct BatchRun {
    events: mpsc::Receiver<RunEvent>,
    cancel: CancellationToken,
    pid: Option<u32>,
    job_dir: PathBuf,
    log_path: PathBuf,
    total: usize,
}

impl BatchRun {
    /// Starts running the do-file `do_file`.
    pub async fn start(
        config: &StataConfig,
        do_file: &Path,
        options: BatchOptions,
    ) -> Result<BatchRun, RunError> {
        let dir = job_dir(&config.jobs_dir, "job")?;
        let job = JobSource::file(do_file, options.working_dir.clone(), &dir).await?;
        launch(config, dir, &job, &options)
    }

    /// Starts running `code` (a selection of do-file lines) as a do-file.
    pub async fn start_code(
        config: &StataConfig,
        code: &str,
        options: BatchOptions,
    ) -> Result<BatchRun, RunError> {
        let dir = job_dir(&config.jobs_dir, "job")?;
        let job = JobSource::code(code, options.working_dir.clone(), &dir)?;
        launch(config, dir, &job, &options)
    }

    /// Asks the run to stop: Stata's process group is killed and the run finishes with
    /// [`RunStatus::Cancelled`].
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The token that cancels this run (to link it with a request's cancellation).
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// The pid of the Stata process, which is also its process-group id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The run's own directory.
    pub fn job_dir(&self) -> &Path {
        &self.job_dir
    }

    /// The log Stata writes.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// How many commands the do-file holds.
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
        Err(RunError::Io(std::io::Error::other(
            "the run's driver ended without an outcome",
        )))
    }
}

impl Stream for BatchRun {
    type Item = RunEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RunEvent>> {
        self.events.poll_recv(cx)
    }
}

/// Stata's batch command line for `wrapper`: `-b -q do file` (Unix) or `/e /q do file`.
pub(crate) fn batch_args(style: PathStyle, wrapper: &str) -> Vec<OsString> {
    let flags: [&str; 3] = match style {
        PathStyle::Unix => ["-b", "-q", "do"],
        PathStyle::Windows => ["/e", "/q", "do"],
    };
    let mut args: Vec<OsString> = flags.iter().map(OsString::from).collect();
    args.push(wrapper.into());
    args
}

fn launch(
    config: &StataConfig,
    job_dir: PathBuf,
    job: &JobSource,
    options: &BatchOptions,
) -> Result<BatchRun, RunError> {
    let program = &config.executable.path;
    check_program(program).map_err(|source| RunError::Spawn {
        program: program.clone(),
        source,
    })?;
    let wrapper = Wrapper::write(&job_dir, job, &options.args, config.path_style)?;
    let log_path = job_dir.join(&wrapper.log_name);
    let args = batch_args(config.path_style, &wrapper.file_name);
    let mut command = kept_command(program, &args, &Input::Null, config.kill_grace);
    command
        .envs(config.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&job_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|source| RunError::Spawn {
        program: program.clone(),
        source,
    })?;
    let group = ProcessGroup::of(&child);
    let pid = group.id();
    let keeper = child.stdin.take();
    let stdout = child.stdout.take().map(|s| tokio::spawn(read_tail(s)));
    let stderr = child.stderr.take().map(|s| tokio::spawn(read_tail(s)));
    let (tx, rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let parser =
        LogParser::batch(&job.working_dir, &wrapper.do_command).with_commands(job.commands.clone());
    let total = job.total();
    let driver = Driver {
        child,
        group,
        keeper,
        follower: LogFollower::new(&log_path, parser, config.tail_lines, total),
        tx,
        cancel: cancel.clone(),
        deadline: options.timeout.map(|t| Instant::now() + t),
        poll: config.poll_interval,
        grace: config.kill_grace,
        max_graph_bytes: config.max_graph_bytes,
        stdout,
        stderr,
    };
    tokio::spawn(driver.run());
    Ok(BatchRun {
        events: rx,
        cancel,
        pid,
        job_dir,
        log_path,
        total,
    })
}

/// Reads a pipe to its end, keeping its last [`PIPE_KEEP`] bytes.
pub(crate) async fn read_tail(mut pipe: impl AsyncRead + Unpin) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > 2 * PIPE_KEEP {
            kept.drain(..kept.len() - PIPE_KEEP);
        }
    }
    if kept.len() > PIPE_KEEP {
        kept.drain(..kept.len() - PIPE_KEEP);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Why the watch loop stopped.
enum Stop {
    Exited(ExitStatus),
    WaitFailed(std::io::Error),
    Interrupted(Interrupt),
}

struct Driver {
    child: Child,
    group: ProcessGroup,
    /// The keeper's pipe: closing it (or the server dying) ends the process group.
    keeper: Option<ChildStdin>,
    follower: LogFollower,
    tx: mpsc::Sender<RunEvent>,
    cancel: CancellationToken,
    deadline: Option<Instant>,
    poll: Duration,
    grace: Duration,
    max_graph_bytes: u64,
    stdout: Option<tokio::task::JoinHandle<String>>,
    stderr: Option<tokio::task::JoinHandle<String>>,
}

impl Driver {
    async fn run(mut self) {
        let stop = self.watch().await;
        let (forced, exit) = match stop {
            Stop::Exited(status) => {
                // The rest of the log first: the client need not wait for the group's end.
                self.follower.drain(&self.tx, |e| e).await;
                self.group.reap_leftovers(self.grace).await;
                (None, Ok(status))
            }
            Stop::WaitFailed(e) => {
                self.group.terminate(&mut self.child, self.grace).await;
                (None, Err(e))
            }
            Stop::Interrupted(Interrupt::ReceiverGone) => {
                self.group.terminate(&mut self.child, self.grace).await;
                return;
            }
            Stop::Interrupted(Interrupt::Cancelled) => {
                let status = self.group.terminate(&mut self.child, self.grace).await;
                (Some(RunStatus::Cancelled), Ok(status))
            }
            Stop::Interrupted(Interrupt::TimedOut) => {
                let status = self.group.terminate(&mut self.child, self.grace).await;
                (Some(RunStatus::TimedOut), Ok(status))
            }
        };
        // The group is gone: the keeper's watcher went with it.
        drop(self.keeper.take());
        let result = match exit {
            Ok(status) => self.conclude(forced, ExitInfo::from_status(status)).await,
            Err(e) => Err(RunError::Io(e)),
        };
        let _ = self.tx.send(RunEvent::Finished(result)).await;
    }

    /// Follows the log until Stata exits, the run is cancelled or times out.
    async fn watch(&mut self) -> Stop {
        let mut ticker = tokio::time::interval(self.poll);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if let Err(stop) = self
                .follower
                .pump(&self.tx, |e| e, &self.cancel, self.deadline)
                .await
            {
                return Stop::Interrupted(stop);
            }
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Stop::Interrupted(Interrupt::Cancelled),
                () = self.tx.closed() => return Stop::Interrupted(Interrupt::ReceiverGone),
                () = sleep_until(self.deadline) => return Stop::Interrupted(Interrupt::TimedOut),
                status = self.child.wait() => {
                    return match status {
                        Ok(status) => Stop::Exited(status),
                        Err(e) => Stop::WaitFailed(e),
                    };
                }
                _ = ticker.tick() => {}
            }
        }
    }

    async fn conclude(
        &mut self,
        forced: Option<RunStatus>,
        exit: ExitInfo,
    ) -> Result<RunOutcome, RunError> {
        self.follower.drain(&self.tx, |e| e).await;
        let mut stderr = join_text(self.stderr.take()).await;
        let stdout = join_text(self.stdout.take()).await;
        if !self.follower.exists() && forced.is_none() {
            if !stdout.trim().is_empty() {
                stderr.push_str(&stdout);
            }
            return Err(RunError::Startup { exit, stderr });
        }
        let status = self.follower.status(forced, Some(exit));
        Ok(self
            .follower
            .outcome(
                status,
                Some(exit),
                tail_of(&stderr, STDERR_TAIL),
                self.max_graph_bytes,
            )
            .await)
    }
}

async fn join_text(handle: Option<tokio::task::JoinHandle<String>>) -> String {
    let Some(handle) = handle else {
        return String::new();
    };
    match tokio::time::timeout(Duration::from_secs(2), handle).await {
        Ok(Ok(text)) => text,
        _ => String::new(),
    }
}
