//! What a run reports while it goes (log lines with progress) and when it ends.

use std::path::PathBuf;

use crate::logparse::{GraphFile, StataError};
use crate::process::ExitInfo;
use crate::quote::QuoteError;

/// One new line of the log, with the progress so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// The line, as Stata wrote it (no newline).
    pub text: String,
    /// Commands of the do-file (or code) echoed so far.
    pub executed: usize,
    /// Commands in the do-file (or code).
    pub total: usize,
}

/// An event of a running batch job or session command.
// One `Finished` per run ends a stream of small `Line`s: boxing it would save nothing that
// matters and make every match on it noisier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum RunEvent {
    /// A line of the log was completed.
    Line(LogLine),
    /// Where the run stands changed: a cluster job is pending (and why), running (and where),
    /// ended.
    Status(String),
    /// The run ended; always the last event.
    Finished(Result<RunOutcome, RunError>),
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// The do-file ran to its end (or to `exit`).
    Success,
    /// Stata stopped at an error: `r(code);`.
    StataError(StataError),
    /// The run was cancelled and Stata's process group killed (batch), or the command broken
    /// off (session).
    Cancelled,
    /// The run took longer than its timeout and was stopped like a cancelled one.
    TimedOut,
    /// Stata died by a signal nobody here sent.
    Killed,
    /// Stata ended without finishing the do-file, whatever its log says: a non-zero exit
    /// status, a log that stops before `end of do-file`, or one that never reached the do-file.
    Died(Death),
}

/// How a run that [died](RunStatus::Died) ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Death {
    /// Stata exited with this non-zero status.
    ExitStatus(i32),
    /// Stata exited with status 0, but its log stops before the do-file's end.
    LogCut,
    /// Stata exited, but its log never reached the user's do-file.
    NeverStarted,
    /// The cluster ended the job (`TIMEOUT`, `NODE_FAIL`, `OUT_OF_MEMORY`, a `CANCELLED`
    /// nobody here asked for, ...): Slurm's job state.
    Cluster(String),
}

impl RunStatus {
    /// Whether the run succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, RunStatus::Success)
    }
}

/// A graph the run exported, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    /// Where it was written.
    pub path: PathBuf,
    /// The format Stata named (`PNG`, `SVG`, ...).
    pub format: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

impl Graph {
    /// The MIME type for its format, if known.
    pub fn mime_type(&self) -> Option<&'static str> {
        match self.format.to_ascii_uppercase().as_str() {
            "PNG" => Some("image/png"),
            "SVG" => Some("image/svg+xml"),
            "JPEG" | "JPG" => Some("image/jpeg"),
            "PDF" => Some("application/pdf"),
            "TIFF" | "TIF" => Some("image/tiff"),
            "GIF" => Some("image/gif"),
            _ => None,
        }
    }
}

/// The command of the do-file a run stopped at, when the log matched the do-file's commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRef {
    /// Its number among the do-file's commands (1-based).
    pub number: usize,
    /// The line of the do-file where it starts (1-based).
    pub line: usize,
    /// Its code, comments removed.
    pub code: String,
}

/// A run's Slurm job: what the cluster says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterJob {
    /// The job id (`12`, or `12_3` for element 3 of array job 12).
    pub job_id: String,
    /// The node it ran on, if it started.
    pub node: Option<String>,
    /// How long it ran, as Slurm counts it.
    pub elapsed: Option<std::time::Duration>,
    /// Slurm's last state for it (`COMPLETED`, `FAILED`, `CANCELLED`, `TIMEOUT`, ...).
    pub state: String,
    /// The job's exit code (the batch script's, which is Stata's).
    pub exit_code: Option<i32>,
    /// The signal that ended the job, if one did.
    pub signal: Option<i32>,
}

/// Everything known about a finished run.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// Success, Stata's error, cancelled, timed out.
    pub status: RunStatus,
    /// The last lines of the user's part of the log.
    pub log_tail: Vec<String>,
    /// The log file (batch), or the command file (session).
    pub log_path: PathBuf,
    /// Graphs exported during the run.
    pub graphs: Vec<Graph>,
    /// How the process ended (batch runs; `None` for session commands).
    pub exit: Option<ExitInfo>,
    /// Commands echoed.
    pub executed: usize,
    /// Commands in the do-file or code.
    pub total: usize,
    /// Whether the log reached the user's do-file (else `executed` counts nothing).
    pub started: bool,
    /// The command the run stopped at (the failing one, after an error), when known for sure.
    pub stopped_at: Option<CommandRef>,
    /// The end of what Stata wrote on standard error (batch runs), cut to a bounded size.
    pub stderr: String,
    /// The Slurm job that ran it (runs on a cluster).
    pub cluster: Option<ClusterJob>,
}

/// A run that could not be made or whose Stata failed to start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The do-file does not exist or cannot be read.
    #[error("cannot read the do-file {path}: {source}")]
    DoFile {
        /// The do-file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The job directory or a file in it could not be written.
    #[error("cannot prepare the job in {path}: {source}")]
    Job {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A path or argument cannot be written into the wrapper do-file.
    #[error(transparent)]
    Quote(#[from] QuoteError),
    /// The Stata executable could not be started.
    #[error("cannot start Stata ({program}): {source}")]
    Spawn {
        /// The executable.
        program: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Stata exited without writing a log: a licence or usage problem, told on stderr.
    #[error("Stata failed to start (exit code {}): {}", .exit.code, .stderr.trim())]
    Startup {
        /// How it exited.
        exit: ExitInfo,
        /// What it wrote on standard error (and output), cut to a bounded size.
        stderr: String,
    },
    /// Reading the log or waiting for Stata failed.
    #[error("lost track of Stata: {0}")]
    Io(#[from] std::io::Error),
    /// The cluster refused the job, or could not be asked about it.
    #[error("Slurm: {0}")]
    Cluster(String),
    /// The console session ended (or died) while this command ran or before it started.
    #[error("the Stata session has ended{}", .0.as_ref().map(|e| format!(" (exit code {})", e.code)).unwrap_or_default())]
    SessionEnded(Option<ExitInfo>),
}

/// The graphs a run reported, read back (missing or oversized files are left out).
pub(crate) async fn read_graphs(files: &[GraphFile], max_bytes: u64) -> Vec<Graph> {
    let mut graphs = Vec::new();
    for file in files {
        let Ok(meta) = tokio::fs::metadata(&file.path).await else {
            continue;
        };
        if meta.len() > max_bytes {
            continue;
        }
        if let Ok(bytes) = tokio::fs::read(&file.path).await {
            graphs.push(Graph {
                path: file.path.clone(),
                format: file.format.clone(),
                bytes,
            });
        }
    }
    graphs
}

/// A duration as people write it: `1 s`, `0.5 s`, `90 s` (to a tenth of a second).
pub(crate) fn seconds_text(d: std::time::Duration) -> String {
    let s = (d.as_secs_f64() * 10.0).round() / 10.0;
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}
