//! Turning a finished run into the tool's result: a text an assistant can read (what happened,
//! the log's tail, where the whole log is), the graphs as image content, and the same facts as
//! structured content ([`RunReport`]).

use std::path::Path;
use std::time::Duration;

use mcp_core::{CallToolResult, Content, JsonObject};
use serde::Serialize;

use super::base64;
use crate::outcome::{Graph, RunOutcome, RunStatus};

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
    /// Commands of the do-file or code that ran (the failing one included).
    pub commands_executed: usize,
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
}

fn status_of(status: &RunStatus) -> Status {
    match status {
        RunStatus::Success => Status::Success,
        RunStatus::StataError(_) => Status::StataError,
        RunStatus::Cancelled => Status::Cancelled,
        RunStatus::TimedOut => Status::TimedOut,
        RunStatus::Killed => Status::Killed,
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
        commands_executed: outcome.executed,
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
        exit_code: outcome.exit.map(|e| e.code),
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// The first lines of the text: how the run ended and what that means.
fn headline(outcome: &RunOutcome, info: &RunInfo) -> String {
    let counted = format!("{} of {} commands", outcome.executed, outcome.total);
    let in_session = info.session.is_some();
    match &outcome.status {
        RunStatus::Success => format!("Stata finished without error ({counted} ran)."),
        RunStatus::StataError(e) if e.code == 1 => format!(
            "Stata stopped with r(1): the command was broken off (--Break--) after {counted}.{}",
            if in_session {
                " The session and its data are kept."
            } else {
                ""
            }
        ),
        RunStatus::StataError(e) => {
            let message = if e.message.is_empty() {
                "(no message)"
            } else {
                e.message.as_str()
            };
            format!(
                "Stata stopped with error r({}): {message}\nIt failed at command {} of {}: the last command echoed in the log below. Later commands did not run.",
                e.code, outcome.executed, outcome.total
            )
        }
        RunStatus::TimedOut => {
            let limit = info
                .timeout
                .map(|t| format!(" of {}", seconds(t)))
                .unwrap_or_default();
            if in_session {
                format!(
                    "The command ran past its timeout{limit} and was broken off after {counted}; the session and its data are kept."
                )
            } else {
                format!(
                    "The run ran past its timeout{limit} and Stata was stopped (its whole process group killed) after {counted}."
                )
            }
        }
        RunStatus::Cancelled => format!("The run was cancelled after {counted}."),
        RunStatus::Killed => format!(
            "Stata was killed by a signal{} after {counted}.",
            outcome
                .exit
                .map(|e| format!(" (exit code {})", e.code))
                .unwrap_or_default()
        ),
    }
}

fn location(path: &Path, session: Option<&str>) -> String {
    match session {
        Some(name) => format!("Session: {name} (the code ran from {})", path.display()),
        None => format!("Full log: {}", path.display()),
    }
}

/// The tool result for `outcome`: text, images, structured content.
pub(crate) fn to_result(outcome: &RunOutcome, info: &RunInfo) -> CallToolResult {
    let report = report(outcome, info);
    let mut text = match &info.failure {
        Some(failure) => failure.clone(),
        None => headline(outcome, info),
    };
    text.push('\n');
    text.push_str(&location(&outcome.log_path, info.session.as_deref()));
    text.push('\n');
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
    if outcome.log_tail.is_empty() {
        text.push_str("The log has no output.\n");
    } else {
        text.push_str(&format!(
            "\nLast {} lines of the log:\n",
            outcome.log_tail.len()
        ));
        for line in &outcome.log_tail {
            text.push_str(line);
            text.push('\n');
        }
    }
    let mut content = vec![Content::text(text)];
    for graph in &outcome.graphs {
        if attachable(graph, info.max_image_bytes)
            && let Some(mime) = graph.mime_type()
        {
            content.push(Content::image(base64::encode(&graph.bytes), mime));
        }
    }
    let is_error = info.failure.is_some() || report.status != Status::Success;
    let structured = match serde_json::to_value(&report) {
        Ok(serde_json::Value::Object(object)) => Some(object),
        _ => None::<JsonObject>,
    };
    CallToolResult {
        content,
        structured_content: structured,
        is_error: Some(is_error),
        meta: None,
    }
}
