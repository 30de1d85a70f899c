//! Turning a finished run into the tool's result: a text an assistant can read (what happened,
//! the log's tail, where the whole log is), the graphs as image content, and the same facts as
//! structured content ([`RunReport`]).

use std::path::Path;
use std::time::Duration;

use mcp_core::{CallToolResult, Content, JsonObject};
use serde::Serialize;

use super::base64;
use super::budget::{FittedTail, fit_tail};
use super::headline::headline;
use crate::outcome::{ClusterJob, Graph, RunOutcome, RunStatus};

/// How a run ended, as the structured result names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The code ran to its end.
    Success,
    /// Stata stopped at an error, `r(N);`.
    StataError,
    /// The run was cancelled.
    Cancelled,
    /// The run took longer than its timeout.
    TimedOut,
    /// Stata died by a signal.
    Killed,
    /// Stata ended without finishing the do-file: a non-zero exit status, a log cut short, or
    /// a cluster that ended the job.
    Died,
}

/// The command a run stopped at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CommandReport {
    /// Its number among the do-file's commands (1-based).
    pub number: usize,
    /// The do-file line it starts on (1-based).
    pub line: usize,
    /// Its code.
    pub code: String,
}

/// The Slurm job that ran a batch run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlurmReport {
    /// The job id (`12`, or `12_3` for an element of an array job).
    pub job_id: String,
    /// The node it ran on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// How long it ran, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_seconds: Option<f64>,
    /// Slurm's last state for it (`COMPLETED`, `FAILED`, `CANCELLED`, ...).
    pub state: String,
    /// The job's exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

impl SlurmReport {
    pub(crate) fn of(job: &ClusterJob) -> SlurmReport {
        SlurmReport {
            job_id: job.job_id.clone(),
            node: job.node.clone(),
            elapsed_seconds: job.elapsed.map(|d| d.as_secs_f64()),
            state: job.state.clone(),
            exit_code: job.exit_code,
        }
    }
}

/// A graph exported during the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GraphReport {
    /// Where it was written.
    pub path: String,
    /// The format Stata named (`PNG`, `SVG`, ...).
    pub format: String,
    /// Its MIME type, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Its size in bytes.
    pub bytes: usize,
    /// Whether it is attached to the result as image content.
    pub attached: bool,
}

/// The structured content of a run's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunReport {
    /// How the run ended.
    pub status: Status,
    /// Stata's return code, `N` of `r(N);`, when it stopped at an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rc: Option<i32>,
    /// The error message Stata printed before `r(N);`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Commands of the do-file or code that ran (the failing one included); absent when the
    /// log never reached the do-file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commands_executed: Option<usize>,
    /// Commands in the do-file or code.
    pub commands_total: usize,
    /// The batch log (batch runs), or the file the code ran from (sessions).
    pub log_path: String,
    /// The last lines of the log.
    pub log_tail: Vec<String>,
    /// Graphs exported during the run.
    pub graphs: Vec<GraphReport>,
    /// The session the code ran in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Stata's exit code (batch runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The command the run stopped at (the failing one), when the log matched the do-file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_command: Option<CommandReport>,
    /// The end of what Stata wrote on standard error, when it wrote anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr_tail: Option<String>,
    /// The Slurm job, for runs on a cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm: Option<SlurmReport>,
}

/// What the report needs to know besides the outcome.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunInfo {
    /// The session the code ran in.
    pub(crate) session: Option<String>,
    /// The call's timeout.
    pub(crate) timeout: Option<Duration>,
    /// Replaces the first line of the text, and marks the result as an error.
    pub(crate) failure: Option<String>,
    /// Graphs larger than this are not attached.
    pub(crate) max_image_bytes: u64,
    /// The text of the result (text content and structured strings) stays under this.
    pub(crate) max_result_bytes: usize,
}

fn status_of(status: &RunStatus) -> Status {
    match status {
        RunStatus::Success => Status::Success,
        RunStatus::StataError(_) => Status::StataError,
        RunStatus::Cancelled => Status::Cancelled,
        RunStatus::TimedOut => Status::TimedOut,
        RunStatus::Killed => Status::Killed,
        RunStatus::Died(_) => Status::Died,
    }
}

/// Whether `graph` goes into the result as an image.
fn attachable(graph: &Graph, max_bytes: u64) -> bool {
    matches!(
        graph.mime_type(),
        Some("image/png" | "image/jpeg" | "image/gif")
    ) && graph.bytes.len() as u64 <= max_bytes
}

/// The structured report of `outcome`.
pub(crate) fn report(outcome: &RunOutcome, info: &RunInfo) -> RunReport {
    let (rc, error_message) = match &outcome.status {
        RunStatus::StataError(e) => (Some(e.code), Some(e.message.clone())),
        _ => (None, None),
    };
    RunReport {
        status: status_of(&outcome.status),
        rc,
        error_message,
        commands_executed: outcome.started.then_some(outcome.executed),
        commands_total: outcome.total,
        log_path: outcome.log_path.display().to_string(),
        log_tail: outcome.log_tail.clone(),
        graphs: outcome
            .graphs
            .iter()
            .map(|g| GraphReport {
                path: g.path.display().to_string(),
                format: g.format.clone(),
                mime_type: g.mime_type().map(str::to_owned),
                bytes: g.bytes.len(),
                attached: attachable(g, info.max_image_bytes),
            })
            .collect(),
        session: info.session.clone(),
        exit_code: outcome
            .exit
            .map(|e| e.code)
            .or_else(|| outcome.cluster.as_ref().and_then(|c| c.exit_code)),
        failed_command: outcome.stopped_at.as_ref().map(|at| CommandReport {
            number: at.number,
            line: at.line,
            code: at.code.clone(),
        }),
        stderr_tail: Some(outcome.stderr.clone()).filter(|s| !s.trim().is_empty()),
        slurm: outcome.cluster.as_ref().map(SlurmReport::of),
    }
}

fn location(path: &Path, session: Option<&str>) -> String {
    match session {
        Some(name) => format!("Session: {name} (the code ran from {})", path.display()),
        None => format!("Full log: {}", path.display()),
    }
}

/// The tool result for `outcome`: text, images, structured content. The log's tail gets what
/// the rest of the text leaves of [`RunInfo::max_result_bytes`].
pub(crate) fn to_result(outcome: &RunOutcome, info: &RunInfo) -> CallToolResult {
    let mut report = report(outcome, info);
    let mut text = match &info.failure {
        Some(failure) => failure.clone(),
        None => headline(outcome, info),
    };
    text.push('\n');
    text.push_str(&location(&outcome.log_path, info.session.as_deref()));
    text.push('\n');
    if let Some(job) = &report.slurm {
        text.push_str(&slurm_line(job));
        text.push('\n');
    }
    for (graph, entry) in outcome.graphs.iter().zip(&report.graphs) {
        let note = if entry.attached {
            "attached below"
        } else {
            "not attached"
        };
        text.push_str(&format!(
            "Graph: {} ({}, {} bytes, {note})\n",
            entry.path, graph.format, entry.bytes
        ));
    }
    if let Some(stderr) = &report.stderr_tail {
        text.push_str("\nStata's standard error (its end):\n");
        text.push_str(stderr);
        text.push('\n');
    }
    let fitted = fit(&text, &mut report, info.max_result_bytes);
    if fitted.lines.is_empty() {
        text.push_str("The log has no output.\n");
    } else {
        text.push_str(&format!("\nLast {} lines of the log", fitted.lines.len()));
        if fitted.omitted > 0 || fitted.cut > 0 {
            text.push_str(&format!(
                " (kept under {} KiB: {} earlier lines left out{}; the full log is at the path above)",
                info.max_result_bytes / 1024,
                fitted.omitted,
                if fitted.cut > 0 {
                    format!(", the first {} bytes of the oldest line cut", fitted.cut)
                } else {
                    String::new()
                }
            ));
        }
        text.push_str(":\n");
        for line in &fitted.lines {
            text.push_str(line);
            text.push('\n');
        }
    }
    report.log_tail = fitted.lines;
    let mut content = vec![Content::text(text)];
    for graph in &outcome.graphs {
        if attachable(graph, info.max_image_bytes)
            && let Some(mime) = graph.mime_type()
        {
            content.push(Content::image(base64::encode(&graph.bytes), mime));
        }
    }
    let is_error = info.failure.is_some() || report.status != Status::Success;
    CallToolResult {
        content,
        structured_content: structured(&report),
        is_error: Some(is_error),
        meta: None,
    }
}

/// `report` as structured content.
pub(crate) fn structured(report: &impl Serialize) -> Option<JsonObject> {
    match serde_json::to_value(report) {
        Ok(serde_json::Value::Object(object)) => Some(object),
        _ => None,
    }
}

/// The part of the log's tail that fits beside `text` and the rest of `report`.
fn fit(text: &str, report: &mut RunReport, max_bytes: usize) -> FittedTail {
    let lines = std::mem::take(&mut report.log_tail);
    let rest = serde_json::to_string(&*report)
        .map(|s| s.len())
        .unwrap_or(0);
    // The note about what was left out, and the tail's own heading.
    let heading = 200;
    fit_tail(
        &lines,
        max_bytes.saturating_sub(text.len() + rest + heading),
    )
}

/// The Slurm line of the text.
pub(crate) fn slurm_line(job: &SlurmReport) -> String {
    let mut line = format!("Slurm job {} ({}", job.job_id, job.state);
    if let Some(node) = &job.node {
        line.push_str(&format!(", on {node}"));
    }
    if let Some(elapsed) = job.elapsed_seconds {
        line.push_str(&format!(", ran {elapsed:.0} s"));
    }
    if let Some(code) = job.exit_code {
        line.push_str(&format!(", exit code {code}"));
    }
    line.push(')');
    line
}
