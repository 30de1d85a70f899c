//! The Stata plugin: MCP tools that run Stata and stream its log while it runs, the
//! `mcp-stata` server binary, and the engine beneath them.
//!
//! - [`tools`]: [`StataTools`], the tools to mount in any server built on `mcp-core`
//!   (`Server::builder(..).tools(StataTools::new(ToolsConfig::locate()))`): run a do-file or
//!   code (in a batch run or a named persistent session), run a do-file over parameter sets,
//!   describe and list the data, show stored results, export a graph, show help, list, break
//!   and close sessions.
//! - [`StataArgs`]: the server's Stata settings (a clap group to flatten), checked at start-up.
//! - The binary `mcp-stata` serves them over stdio or HTTP (`mcp-stata --help`).
//!
//! The engine:
//!
//! - [`locate`]: `STATA_PATH`, the usual install locations of each OS, `PATH`; the edition from
//!   the executable's name; an error naming every place looked.
//! - [`BatchRun`]: `stata -b -q do` in a job directory of its own; a [`Stream`] of
//!   [`RunEvent::Line`] (each new log line, with commands executed out of the do-file's total)
//!   ending with [`RunEvent::Finished`] (success, `r(N)` with its message, or a Stata that died;
//!   the log's tail and path, exported graphs, the exit status, standard error). Cancelling,
//!   dropping or timing out kills Stata's whole process group; a [keeper](process) kills it
//!   when the server dies, even by SIGKILL.
//! - [`SlurmRun`], [`SlurmArray`]: the same on a Slurm cluster (`sbatch`, the queue state as
//!   [`RunEvent::Status`], `scancel`); [`Backend`] chooses where batch runs go.
//! - [`ConsoleSession`]: a long-lived `stata -q` fed on standard input; each command's end is
//!   recognised by a sentinel line; a break (SIGINT) stops a command and keeps the session.
//!
//! Each tool is a thin wrapper over the engine: it forwards every [`LogLine`] as a progress
//! notification (`progress` = `executed`, `total`, the line as the message), then turns the
//! [`RunOutcome`] into the result.
//!
//! [`Stream`]: futures_core::Stream

pub mod backend;
pub mod batch;
pub mod config;
pub mod dofile;
mod follow;
mod job;
pub mod locate;
pub mod logparse;
pub mod outcome;
pub mod process;
pub mod quote;
pub mod session;
pub mod slurm;
pub mod tail;
pub mod tools;

pub use backend::{ArrayRun, Backend, LocalArray, Run};
pub use batch::{BatchOptions, BatchRun};
pub use config::{StartupError, StataArgs, StataConfig};
pub use job::wrapper_text;
pub use locate::{Edition, LocateError, Locator, Os, StataExecutable};
pub use logparse::StataError;
pub use outcome::{
    ClusterJob, CommandRef, Death, Graph, LogLine, RunError, RunEvent, RunOutcome, RunStatus,
};
pub use process::ExitInfo;
pub use session::{ConsoleSession, SessionError, SessionOptions, SessionRun};
pub use slurm::{ArrayOptions, SlurmArray, SlurmConfig, SlurmRun};
pub use tools::{StataPlugin, StataTools, ToolError, ToolsConfig};
