//! MCP tools that run Stata, for any server built on `mcp-core`:
//! `Server::builder(..).tools(StataTools::new(config))`.
//!
//! | tool | what it does |
//! | --- | --- |
//! | `stata_run_do_file` | runs a do-file in a fresh batch run |
//! | `stata_run_code` | runs code in a fresh batch run, or in a named persistent session |
//! | `stata_run_array` | runs a do-file once per parameter set (a Slurm job array on a cluster) |
//! | `stata_describe` | `describe`: the variables of the data in memory |
//! | `stata_list` | `list`: some observations |
//! | `stata_stored_results` | `return list` / `ereturn list`: `r()` and `e()` |
//! | `stata_export_graph` | `graph export`: the graph as an image |
//! | `stata_help` | `help`: Stata's help for a command |
//! | `stata_list_sessions` | the open sessions |
//! | `stata_break` | a break (Ctrl-C) to the command running in a session |
//! | `stata_close_session` | ends a session |
//!
//! Every run streams its log: each new line goes to the client as a progress notification
//! while Stata writes it (`progress` = commands executed, `total` = commands in the do-file or
//! code); on a Slurm cluster the job's queue state comes first. The result tells success,
//! Stata's `r(N)` error with its message and the failing command, or a Stata that died (with its
//! exit status and standard error); it shows the log's last lines (within a byte cap) and the
//! full log's path, attaches exported graphs as images, and carries the same facts as
//! structured content ([`RunReport`]). Batch runs go where [`ToolsConfig::backend`] says.
//!
//! Cancelling a call (`notifications/cancelled`) or passing its timeout stops a batch run by
//! killing Stata's whole process group; in a session it sends a break, which stops the command
//! with `--Break--` and `r(1)` and keeps the session and its data.
//!
//! Without Stata ([`ToolsConfig::unavailable`]), the tools are still listed, and every call
//! answers with an error that names the places searched and how to set `STATA_PATH`.

mod args;
mod array;
pub mod base64;
mod budget;
mod code;
mod config;
mod error;
mod headline;
mod plugin;
mod progress;
mod report;
mod run;
mod sessions;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::{CallToolResult, Context, tools};
use schemars::JsonSchema;
use serde::Serialize;

pub use args::{MAX_PARAMETER_SETS, ParameterSets, Positive, ResultKind};
pub use array::{ArrayReport, ElementReport};
pub use budget::DEFAULT_MAX_RESULT_BYTES;
pub use config::ToolsConfig;
pub use error::ToolError;
pub use plugin::StataPlugin;
pub use report::{CommandReport, GraphReport, RunReport, SlurmReport, Status};
pub use sessions::SessionInfo;

use crate::backend::Backend;
use crate::config::{StataConfig, unique_token};
use crate::locate::LocateError;
use crate::outcome::Graph;
use report::to_result;
use run::session_name;
use sessions::Sessions;

/// Instructions for the assistant, for a server whose tools are these (see
/// `ServerBuilder::instructions`).
pub const INSTRUCTIONS: &str = "These tools run Stata. Use stata_run_code for code and stata_run_do_file for do-files; \
pass a `session` name to stata_run_code to keep data in memory between calls, and use the same \
session with stata_describe, stata_list, stata_stored_results and stata_export_graph to look at \
it. To run one do-file over several parameter sets (a job array on a Slurm cluster), use \
stata_run_array. A run's log streams as progress while Stata works; its result says whether it \
succeeded, which error r(N) stopped it, or that Stata died, with the end of the log and the log \
file's path.";

/// The Stata tools: a [`ToolBox`](mcp_core::ToolBox) to mount in a server.
///
/// ```no_run
/// use mcp_core::Server;
/// use mcp_stata::{StataTools, ToolsConfig};
///
/// let server = Server::builder("my-server", "1.0")
///     .tools(StataTools::new(ToolsConfig::locate()))
///     .build()
///     .unwrap();
/// assert!(server.tool("stata_run_do_file").is_some());
/// ```
#[derive(Debug)]
pub struct StataTools {
    stata: Result<StataConfig, Arc<LocateError>>,
    working_dir: Option<PathBuf>,
    timeout: Option<Duration>,
    session_startup_timeout: Duration,
    max_image_bytes: u64,
    max_result_bytes: usize,
    lines_per_progress: usize,
    backend: Backend,
    sessions: Sessions,
}

/// What `stata_list_sessions` returns.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SessionList {
    /// The open sessions, by name.
    pub sessions: Vec<SessionInfo>,
}

#[tools]
impl StataTools {
    /// Tools that run Stata as `config` says.
    pub fn new(config: ToolsConfig) -> StataTools {
        StataTools {
            stata: config.stata.map_err(Arc::new),
            working_dir: config.working_dir,
            timeout: config.timeout,
            session_startup_timeout: config.session_startup_timeout,
            max_image_bytes: config.max_image_bytes,
            max_result_bytes: config.max_result_bytes,
            backend: config.backend,
            lines_per_progress: config.lines_per_progress,
            sessions: Sessions::new(config.max_sessions),
        }
    }

    /// Why Stata is unavailable, if it is.
    pub fn unavailable(&self) -> Option<&LocateError> {
        self.stata.as_ref().err().map(|e| &**e)
    }

    /// Ends every open session (Stata exits, its process group is gone). For a server that
    /// shuts down.
    pub async fn close_all_sessions(&self) {
        self.sessions.close_all().await;
    }

    /// Runs a Stata do-file in a fresh Stata batch process and reports how it ended.
    ///
    /// While it runs, each new line of Stata's log is sent as a progress notification
    /// (progress = commands executed so far, total = commands in the do-file). The result says
    /// whether the do-file succeeded or stopped at an error, with Stata's return code r(N) and
    /// its message; it shows the last lines of the log and the path of the full log, and
    /// attaches every graph exported with `graph export` as an image. The do-file runs in its
    /// own directory unless `working_dir` says otherwise. Nothing stays in memory afterwards:
    /// to keep data between calls, use stata_run_code with a `session`. A client may run it as
    /// a task: the run then outlives the client's connection, and the log's last line is the
    /// task's status.
    #[tool(
        name = "stata_run_do_file",
        title = "Run a Stata do-file",
        task = "optional"
    )]
    async fn run_do_file(
        &self,
        /// Path of the do-file (absolute, or relative to the server's working directory).
        path: String,
        /// Arguments for the do-file, seen inside it as `1', `2', ...
        #[arg(default)]
        args: Vec<String>,
        /// Directory to run in (default: the do-file's own directory).
        working_dir: Option<String>,
        /// Stop the run after this many seconds (default: the server's timeout, if any).
        timeout_seconds: Option<f64>,
        ctx: &Context,
    ) -> Result<CallToolResult, ToolError> {
        let timeout = self.timeout_for(timeout_seconds)?;
        let outcome = self
            .run_file(ctx, &path, args, working_dir.as_deref(), timeout)
            .await?;
        Ok(to_result(&outcome, &self.info(None, timeout)))
    }

    /// Runs one Stata do-file once per parameter set (each set is the do-file's arguments,
    /// seen inside it as `1', `2', ...) and reports every run's outcome.
    ///
    /// On a Slurm cluster (a server started with `--backend slurm`) the sets run as one job
    /// array, as many at once as the cluster allows (or `max_parallel`); here they run as batch
    /// runs, `max_parallel` at a time (default 1). While they run, each set's state (pending
    /// and why, running and where, finished and how) is sent as a progress notification
    /// (progress = sets finished, total = sets). The result lists every set's outcome (success
    /// or r(N) with its message, the job id, node, elapsed time and exit code on Slurm, its log's
    /// path) and shows the end of the log of each set that failed. A client may run it as a
    /// task: the runs then outlive the client's connection.
    #[tool(
        name = "stata_run_array",
        title = "Run a do-file over parameter sets",
        task = "optional"
    )]
    async fn run_array_tool(
        &self,
        /// Path of the do-file (absolute, or relative to the server's working directory).
        path: String,
        /// The parameter sets: one list of arguments per run, such as [["1990"], ["2000"]].
        parameter_sets: ParameterSets,
        /// Directory to run in (default: the do-file's own directory).
        working_dir: Option<String>,
        /// At most this many sets run at once (default: 1 here, the cluster's limit on Slurm).
        max_parallel: Option<Positive>,
        /// Stop every set still going after this many seconds (default: the server's timeout).
        timeout_seconds: Option<f64>,
        ctx: &Context,
    ) -> Result<CallToolResult, ToolError> {
        let timeout = self.timeout_for(timeout_seconds)?;
        let max_parallel = max_parallel.map(|p| usize::try_from(p.0).unwrap_or(usize::MAX));
        self.run_array(
            ctx,
            &path,
            parameter_sets.0,
            working_dir.as_deref(),
            max_parallel,
            timeout,
        )
        .await
    }

    /// Runs Stata code (one or more lines of do-file code) and reports how it ended.
    ///
    /// Without `session`, the code runs in a fresh Stata batch process: nothing persists after
    /// it. With `session`, it runs in that named, persistent Stata session (started on first
    /// use): data, variables, macros and stored results stay in memory for the next call that
    /// names the same session. While it runs, each new line of output is sent as a progress
    /// notification (progress = commands executed, total = commands in the code). The result
    /// gives success or Stata's error r(N) with its message, the last lines of the log, and
    /// graphs exported with `graph export` as images. An error stops the code but keeps the
    /// session.
    #[tool(name = "stata_run_code", title = "Run Stata code")]
    async fn run_code_tool(
        &self,
        /// The Stata code, as in a do-file (several lines allowed).
        code: String,
        /// Name of a persistent session to run in, such as "main" (created if it does not exist).
        /// Leave out for a one-off batch run.
        session: Option<String>,
        /// Directory to run in, or for a new session to start in (default: the server's working
        /// directory). Ignored for a session that is already open: use `cd` there.
        working_dir: Option<String>,
        /// Stop the code after this many seconds (default: the server's timeout, if any). In a
        /// session this is a break: the session stays.
        timeout_seconds: Option<f64>,
        ctx: &Context,
    ) -> Result<CallToolResult, ToolError> {
        let session = session_name(session.as_deref())?;
        let timeout = self.timeout_for(timeout_seconds)?;
        let outcome = self
            .run_code(ctx, &code, session, working_dir.as_deref(), timeout)
            .await?;
        Ok(to_result(&outcome, &self.info(session, timeout)))
    }

    /// Describes the data in memory with Stata's `describe`: number of observations, and each
    /// variable's name, storage type, format and label.
    ///
    /// Give `session` to describe the data of a persistent session. Without a session, a fresh
    /// batch run starts empty, so give `code` that loads data first (for example
    /// `use "mydata.dta", clear` or `sysuse auto, clear`).
    #[tool(name = "stata_describe", title = "Describe the data")]
    async fn describe(
        &self,
        /// The session whose data to describe.
        session: Option<String>,
        /// Stata code to run first, in the same session or batch run (such as loading data).
        code: Option<String>,
        /// Variables to describe (default: all).
        varlist: Option<String>,
        ctx: &Context,
    ) -> Result<CallToolResult, ToolError> {
        let varlist = code::one_line("varlist", varlist.as_deref())?;
        let command = code::describe(varlist.as_deref());
        self.inspect(ctx, session, code, &command).await
    }

    /// Lists observations of the data in memory with Stata's `list`: by default the first 20
    /// observations of every variable.
    ///
    /// Give `session` to list the data of a persistent session; without one, give `code` that
    /// loads data first. `from` and `count` pick the observations; `condition` keeps those for
    /// which a Stata expression is true.
    #[tool(name = "stata_list", title = "List observations")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        /// The session whose data to list.
        session: Option<String>,
        /// Stata code to run first, in the same session or batch run (such as loading data).
        code: Option<String>,
        /// Variables to list (default: all).
        varlist: Option<String>,
        /// A Stata condition, such as `price > 5000 & !missing(mpg)` (without `if`).
        condition: Option<String>,
        /// The first observation to list (1-based).
        #[arg(default = Positive(1))]
        from: Positive,
        /// How many observations to list at most.
        #[arg(default = Positive(20))]
        count: Positive,
        ctx: &Context,
    ) -> Result<CallToolResult, ToolError> {
        let varlist = code::one_line("varlist", varlist.as_deref())?;
        let condition = code::one_line("condition", condition.as_deref())?;
        let command = code::list(varlist.as_deref(), condition.as_deref(), from.0, count.0)?;
        self.inspect(ctx, session, code, &command).await
    }

    /// Shows Stata's stored results: `r()` (from the last r-class command, such as `summarize`)
    /// with `return list`, `e()` (from the last estimation, such as `regress`) with
    /// `ereturn list`, or both.
    ///
    /// Stored results live in a session: give `session`, or give `code` that computes them in a
    /// fresh batch run (for example `sysuse auto, clear` and `regress price mpg`). A fresh batch
    /// run without `code` has no results to show, so one of the two is required.
    #[tool(name = "stata_stored_results", title = "Show stored results")]
    async fn stored_results(
        &self,
        /// The session whose results to show.
        session: Option<String>,
        /// Stata code to run first, in the same session or batch run.
        code: Option<String>,
        /// Which results: "r", "e" or "both".
        #[arg(default)]
        which: ResultKind,
        ctx: &Context,
    ) -> Result<CallToolResult, ToolError> {
        let no_session = session_name(session.as_deref())?.is_none();
        let no_code = code.as_deref().is_none_or(|c| c.trim().is_empty());
        if no_session && no_code {
            self.stata()?;
            return Err(ToolError::invalid(
                "session",
                "stored results live in a session: name the session that computed them, or give `code` that computes them (a fresh batch run without code has none)",
            ));
        }
        let command = code::stored_results(which);
        self.inspect(ctx, session, code, command).await
    }

    /// Exports a Stata graph with `graph export` and returns it as an image.
    ///
    /// Give `session` to export the current (or a named) graph of a persistent session, or
    /// `code` that draws the graph (for example `sysuse auto, clear` and
    /// `scatter price mpg`). The image is saved at `path` if given (its extension picks the
    /// format; PNG by default; missing directories are created) and attached to the result.
    #[tool(name = "stata_export_graph", title = "Export a graph")]
    async fn export_graph(
        &self,
        /// The session holding the graph.
        session: Option<String>,
        /// Stata code to run first, such as the command that draws the graph.
        code: Option<String>,
        /// The name of the graph to export (default: the current graph).
        graph_name: Option<String>,
        /// Where to save the file (default: a new PNG file in the server's job directory).
        path: Option<String>,
        /// Width of the image in pixels.
        width: Option<Positive>,
        ctx: &Context,
    ) -> Result<CallToolResult, ToolError> {
        let stata = self.stata()?;
        let name = code::one_line("graph_name", graph_name.as_deref())?;
        let file = match path.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => self.resolve(p),
            None => stata
                .jobs_dir
                .join("graphs")
                .join(format!("graph-{}.png", unique_token())),
        };
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|source| crate::RunError::Job {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let width = width.map(|w| w.0);
        let command = code::graph_export(&file, name.as_deref(), width, stata.path_style)?;
        let session = session_name(session.as_deref())?;
        let text = code::after_setup(code.as_deref(), &command);
        let mut outcome = self
            .run_code(ctx, &text, session, None, self.timeout)
            .await?;
        if outcome.status.is_success() && !outcome.graphs.iter().any(|g| g.path == file) {
            // Stata wrote it but said so in words the log reader does not know.
            if let Ok(bytes) = std::fs::read(&file) {
                let format = file
                    .extension()
                    .map(|e| e.to_string_lossy().to_uppercase())
                    .unwrap_or_default();
                outcome.graphs.push(Graph {
                    path: file.clone(),
                    format,
                    bytes,
                });
            }
        }
        Ok(to_result(&outcome, &self.info(session, self.timeout)))
    }

    /// Shows Stata's help for a command or topic (as `help regress` prints it in the Stata
    /// console): its syntax, options and remarks.
    ///
    /// Runs in a fresh batch run unless `session` is given.
    #[tool(name = "stata_help", title = "Stata help", read_only)]
    async fn help(
        &self,
        /// The command or topic, such as `regress` or `graph export`.
        command: String,
        /// A session to ask in (default: a fresh batch run).
        session: Option<String>,
        ctx: &Context,
    ) -> Result<CallToolResult, ToolError> {
        let code = code::help(&command)?;
        let session = session_name(session.as_deref())?;
        let outcome = self
            .run_code(ctx, &code, session, None, self.timeout)
            .await?;
        let mut info = self.info(session, self.timeout);
        let topic = command.trim();
        let missing = format!("help for {topic} not found");
        if outcome.log_tail.iter().any(|l| l.trim() == missing) {
            info.failure = Some(format!(
                "Stata has no help for `{topic}`: it is not a command or topic of this installation (a user-written command may need `ssc install`). Try stata_run_code with `search {topic}`."
            ));
        }
        Ok(to_result(&outcome, &info))
    }

    /// Lists the open persistent Stata sessions: name, process id, working directory, how many
    /// calls ran in each, and whether one is running now.
    #[tool(name = "stata_list_sessions", title = "List Stata sessions", read_only)]
    async fn list_sessions(&self) -> Result<SessionList, ToolError> {
        self.stata()?;
        Ok(SessionList {
            sessions: self.sessions.list(),
        })
    }

    /// Sends a break (like Ctrl-C) to the command running in a persistent session: it stops
    /// with `--Break--` and r(1), and the session keeps its data. Does nothing to an idle
    /// session.
    #[tool(name = "stata_break", title = "Break a session's command")]
    async fn break_session(
        &self,
        /// The session's name.
        session: String,
    ) -> Result<String, ToolError> {
        self.stata()?;
        let name = session_name(Some(&session))?.unwrap_or_default();
        let found = self.sessions.get(name)?;
        if !found.is_busy() {
            return Ok(format!("Session {name} is idle: nothing to break."));
        }
        found.console.interrupt();
        Ok(format!(
            "Sent a break to session {name}: its running command stops with --Break-- and r(1); the data stays."
        ))
    }

    /// Closes a persistent Stata session: Stata exits and everything in its memory is gone.
    #[tool(
        name = "stata_close_session",
        title = "Close a Stata session",
        destructive
    )]
    async fn close_session(
        &self,
        /// The session's name.
        session: String,
    ) -> Result<String, ToolError> {
        self.stata()?;
        let name = session_name(Some(&session))?.unwrap_or_default();
        let exit = self.sessions.close(name).await?;
        Ok(match exit {
            Some(exit) => format!(
                "Closed session {name} (Stata exited with code {}).",
                exit.code
            ),
            None => format!("Closed session {name}."),
        })
    }
}

impl StataTools {
    /// Runs `command` after the optional setup `code`, in `session` or a batch run.
    async fn inspect(
        &self,
        ctx: &Context,
        session: Option<String>,
        code: Option<String>,
        command: &str,
    ) -> Result<CallToolResult, ToolError> {
        let session = session_name(session.as_deref())?;
        let text = code::after_setup(code.as_deref(), command);
        let outcome = self
            .run_code(ctx, &text, session, None, self.timeout)
            .await?;
        Ok(to_result(&outcome, &self.info(session, self.timeout)))
    }
}
