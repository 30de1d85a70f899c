//! One-shot batch runs: `stata -b -q do wrapper.do` in a job directory of its own, the log
//! followed line by line as it grows.
//!
//! Each run gets a fresh directory under [`StataConfig::jobs_dir`] holding a uniquely named
//! wrapper do-file, which `cd`s to the working directory and `do`es the user's file; Stata writes
//! `<wrapper stem>.log` there. The directory (with the log) is left in place for the caller; its
//! path is [`BatchRun::job_dir`].

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::{StataConfig, create_job_dir, unique_token};
use crate::dofile;
use crate::logparse::LogParser;
use crate::outcome::{LogLine, RunError, RunEvent, RunOutcome, RunStatus, read_graphs};
use crate::process::{ExitInfo, ProcessGroup, new_group};
use crate::quote::{PathStyle, quote, quote_path};
use crate::tail::{FileTail, LogTail};

/// Captured standard error (and output) is cut at this size.
const STDERR_LIMIT: usize = 64 * 1024;

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
        let do_file = std::path::absolute(do_file).map_err(|source| RunError::DoFile {
            path: do_file.to_path_buf(),
            source,
        })?;
        let bytes = tokio::fs::read(&do_file)
            .await
            .map_err(|source| RunError::DoFile {
                path: do_file.clone(),
                source,
            })?;
        let job_dir = job_dir(config)?;
        let text = String::from_utf8_lossy(dofile::strip_bom(&bytes)).into_owned();
        // Stata (on Windows) reads a byte-order mark as part of the first command and fails
        // with r(199): run a copy without it, under the same name.
        let source = if bytes.starts_with(dofile::BOM) {
            let copy_dir = job_dir.join("src");
            let name = do_file.file_name().unwrap_or("source.do".as_ref());
            let copy = copy_dir.join(name);
            write_file(&copy_dir, &copy, text.as_bytes())?;
            copy
        } else {
            do_file.clone()
        };
        let working_dir = match options.working_dir {
            Some(dir) => dir,
            None => do_file
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        };
        let total = dofile::count_commands(&text);
        launch(
            config,
            job_dir,
            &source,
            &working_dir,
            &options.args,
            total,
            options.timeout,
        )
    }

    /// Starts running `code` (a selection of do-file lines) as a do-file.
    pub async fn start_code(
        config: &StataConfig,
        code: &str,
        options: BatchOptions,
    ) -> Result<BatchRun, RunError> {
        let job_dir = job_dir(config)?;
        let code = code.strip_prefix('\u{feff}').unwrap_or(code);
        let source = job_dir.join("code.do");
        let mut text = code.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        write_file(&job_dir, &source, text.as_bytes())?;
        let working_dir = match options.working_dir {
            Some(dir) => dir,
            None => std::env::current_dir().map_err(RunError::Io)?,
        };
        let total = dofile::count_commands(&text);
        launch(
            config,
            job_dir,
            &source,
            &working_dir,
            &options.args,
            total,
            options.timeout,
        )
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

fn job_dir(config: &StataConfig) -> Result<PathBuf, RunError> {
    create_job_dir(&config.jobs_dir, "job").map_err(|source| RunError::Job {
        path: config.jobs_dir.clone(),
        source,
    })
}

fn write_file(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(path, bytes))
        .map_err(|source| RunError::Job {
            path: path.to_path_buf(),
            source,
        })
}

/// The wrapper do-file: go to the working directory, run the user's file with its arguments.
pub fn wrapper_text(
    working_dir: &Path,
    do_file: &Path,
    args: &[String],
    style: PathStyle,
) -> Result<String, RunError> {
    let mut text = format!(
        "cd {}\ndo {}",
        quote_path(working_dir, style)?,
        quote_path(do_file, style)?
    );
    for arg in args {
        text.push(' ');
        text.push_str(&quote(arg)?);
    }
    text.push('\n');
    Ok(text)
}

fn launch(
    config: &StataConfig,
    job_dir: PathBuf,
    source: &Path,
    working_dir: &Path,
    args: &[String],
    total: usize,
    timeout: Option<Duration>,
) -> Result<BatchRun, RunError> {
    let working_dir = std::path::absolute(working_dir).map_err(RunError::Io)?;
    let stem = format!("mcp_{}", unique_token());
    let wrapper = job_dir.join(format!("{stem}.do"));
    let log_path = job_dir.join(format!("{stem}.log"));
    let text = wrapper_text(&working_dir, source, args, config.path_style)?;
    write_file(&job_dir, &wrapper, text.as_bytes())?;

    let mut command = Command::new(&config.executable.path);
    match config.path_style {
        PathStyle::Unix => command.args(["-b", "-q", "do"]),
        PathStyle::Windows => command.args(["/e", "/q", "do"]),
    };
    command
        .arg(format!("{stem}.do"))
        .envs(config.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&job_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    new_group(&mut command);
    let mut child = command.spawn().map_err(|source| RunError::Spawn {
        program: config.executable.path.clone(),
        source,
    })?;
    let group = ProcessGroup::of(&child);
    let pid = group.id();
    let stdout = child.stdout.take().map(|s| tokio::spawn(read_bounded(s)));
    let stderr = child.stderr.take().map(|s| tokio::spawn(read_bounded(s)));
    let (tx, rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let driver = Driver {
        child,
        group,
        tail: FileTail::new(&log_path),
        parser: LogParser::batch(&working_dir),
        log_tail: LogTail::new(config.tail_lines),
        tx,
        cancel: cancel.clone(),
        deadline: timeout.map(|t| Instant::now() + t),
        total,
        poll: config.poll_interval,
        grace: config.kill_grace,
        max_graph_bytes: config.max_graph_bytes,
        log_path: log_path.clone(),
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

async fn read_bounded(mut pipe: impl AsyncRead + Unpin) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = STDERR_LIMIT.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Why the watch loop stopped.
enum Stop {
    Exited(ExitStatus),
    WaitFailed(std::io::Error),
    Cancelled,
    TimedOut,
    ReceiverGone,
}

struct Driver {
    child: Child,
    group: ProcessGroup,
    tail: FileTail,
    parser: LogParser,
    log_tail: LogTail,
    tx: mpsc::Sender<RunEvent>,
    cancel: CancellationToken,
    deadline: Option<Instant>,
    total: usize,
    poll: Duration,
    grace: Duration,
    max_graph_bytes: u64,
    log_path: PathBuf,
    stdout: Option<tokio::task::JoinHandle<String>>,
    stderr: Option<tokio::task::JoinHandle<String>>,
}

impl Driver {
    async fn run(mut self) {
        let stop = self.watch().await;
        let (forced, exit) = match stop {
            Stop::Exited(status) => {
                self.group.reap_leftovers(self.grace).await;
                (None, Ok(status))
            }
            Stop::WaitFailed(e) => {
                self.group.terminate(&mut self.child, self.grace).await;
                (None, Err(e))
            }
            Stop::ReceiverGone => {
                self.group.terminate(&mut self.child, self.grace).await;
                return;
            }
            Stop::Cancelled => {
                let status = self.group.terminate(&mut self.child, self.grace).await;
                (Some(RunStatus::Cancelled), Ok(status))
            }
            Stop::TimedOut => {
                let status = self.group.terminate(&mut self.child, self.grace).await;
                (Some(RunStatus::TimedOut), Ok(status))
            }
        };
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
            if let Err(stop) = self.pump().await {
                return stop;
            }
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Stop::Cancelled,
                () = self.tx.closed() => return Stop::ReceiverGone,
                () = sleep_until(self.deadline) => return Stop::TimedOut,
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

    /// Reads what the log has gained and sends its complete lines.
    async fn pump(&mut self) -> Result<(), Stop> {
        loop {
            let mut lines = Vec::new();
            let n = self
                .tail
                .read_some(&mut |line| lines.push(line))
                .await
                .unwrap_or(0);
            for line in lines {
                if let Some(event) = self.take_line(line) {
                    tokio::select! {
                        biased;
                        () = self.cancel.cancelled() => return Err(Stop::Cancelled),
                        () = sleep_until(self.deadline) => return Err(Stop::TimedOut),
                        sent = self.tx.send(event) => sent.map_err(|_| Stop::ReceiverGone)?,
                    }
                }
            }
            if n == 0 {
                return Ok(());
            }
        }
    }

    /// Feeds a line to the parser; the event to send if the line is the user's.
    fn take_line(&mut self, line: String) -> Option<RunEvent> {
        if !self.parser.feed(&line).visible {
            return None;
        }
        self.log_tail.push(&line);
        Some(RunEvent::Line(LogLine {
            text: line,
            executed: self.parser.executed(),
            total: self.total,
        }))
    }

    /// Stata is gone: read the rest of the log (a last line without newline included).
    async fn drain(&mut self) {
        loop {
            let mut lines = Vec::new();
            let n = self
                .tail
                .read_some(&mut |line| lines.push(line))
                .await
                .unwrap_or(0);
            for line in lines {
                if let Some(event) = self.take_line(line) {
                    let _ = self.tx.send(event).await;
                }
            }
            if n == 0 {
                break;
            }
        }
        if let Some(line) = self.tail.finish()
            && let Some(event) = self.take_line(line)
        {
            let _ = self.tx.send(event).await;
        }
    }

    async fn conclude(
        &mut self,
        forced: Option<RunStatus>,
        exit: ExitInfo,
    ) -> Result<RunOutcome, RunError> {
        self.drain().await;
        if !self.tail.exists() && forced.is_none() {
            let mut stderr = join_text(self.stderr.take()).await;
            let stdout = join_text(self.stdout.take()).await;
            if !stdout.trim().is_empty() {
                stderr.push_str(&stdout);
            }
            return Err(RunError::Startup { exit, stderr });
        }
        let status = match forced {
            Some(status) => status,
            None => match self.parser.error() {
                Some(error) => RunStatus::StataError(error),
                None if exit.signal.is_some() => RunStatus::Killed,
                None => RunStatus::Success,
            },
        };
        let graphs = read_graphs(self.parser.graphs(), self.max_graph_bytes).await;
        let log_tail = std::mem::replace(&mut self.log_tail, LogTail::new(0));
        Ok(RunOutcome {
            status,
            log_tail: log_tail.into_lines(),
            log_path: self.log_path.clone(),
            graphs,
            exit: Some(exit),
            executed: self.parser.executed(),
            total: self.total,
        })
    }
}

/// Sleeps until `deadline`, or forever without one.
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_quotes_paths_and_args() {
        let text = wrapper_text(
            Path::new("/data/my dir"),
            Path::new("/data/my dir/say \"hi\".do"),
            &["a b".to_owned(), "$x".to_owned()],
            PathStyle::Unix,
        )
        .unwrap();
        assert_eq!(
            text,
            "cd \"/data/my dir\"\ndo `\"/data/my dir/say \"hi\".do\"' \"a b\" \"\\$x\"\n"
        );
        let text = wrapper_text(
            Path::new(r"C:\Users\Ann\proj"),
            Path::new(r"C:\Users\Ann\proj\run.do"),
            &[],
            PathStyle::Windows,
        )
        .unwrap();
        assert_eq!(
            text,
            "cd \"C:/Users/Ann/proj\"\ndo \"C:/Users/Ann/proj/run.do\"\n"
        );
    }
}
