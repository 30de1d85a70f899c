//! The Stata plugin's engine: find Stata, run do-files in batch mode and code in persistent
//! console sessions, and report each run as it goes.
//!
//! - [`locate`]: `STATA_PATH`, the usual install locations of each OS, `PATH`; the edition from
//!   the executable's name; an error naming every place looked.
//! - [`BatchRun`]: `stata -b -q do` in a job directory of its own; a [`Stream`] of
//!   [`RunEvent::Line`] (each new log line, with commands executed out of the do-file's total)
//!   ending with [`RunEvent::Finished`] (success or `r(N)` with its message, the log's tail and
//!   path, exported graphs, the exit code). Cancelling, dropping or timing out kills Stata's
//!   whole process group.
//! - [`ConsoleSession`]: a long-lived `stata -q` fed on standard input; each command's end is
//!   recognised by a sentinel line; a break (SIGINT) stops a command and keeps the session.
//!
//! Each MCP tool is meant to be a thin wrapper: forward every [`LogLine`] as a progress
//! notification (`progress` = `executed`, `total`, the line as the message), then turn the
//! [`RunOutcome`] into the result.
//!
//! [`Stream`]: futures_core::Stream

pub mod batch;
pub mod config;
pub mod dofile;
pub mod locate;
pub mod logparse;
pub mod outcome;
pub mod process;
pub mod quote;
pub mod session;
pub mod tail;

pub use batch::{BatchOptions, BatchRun};
pub use config::StataConfig;
pub use locate::{Edition, LocateError, Locator, Os, StataExecutable};
pub use logparse::StataError;
pub use outcome::{Graph, LogLine, RunError, RunEvent, RunOutcome, RunStatus};
pub use process::ExitInfo;
pub use session::{ConsoleSession, SessionError, SessionOptions, SessionRun};
