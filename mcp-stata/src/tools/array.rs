//! `stata_run_array`: one do-file over a list of parameter sets (a Slurm job array on a cluster;
//! batch runs here otherwise), each element's state streamed as it changes, every element's
//! outcome collected in one result.

use std::time::Duration;

use futures_util::StreamExt;
use mcp_core::{CallToolResult, Content, Context, Progress};
use serde::Serialize;

use super::StataTools;
use super::budget::fit_tail;
use super::error::ToolError;
use super::progress::ProgressClock;
use super::report::{RunReport, Status, report, slurm_line, structured};
use crate::outcome::{RunError, RunEvent, RunOutcome, RunStatus};
use crate::slurm::ArrayOptions;

/// One element of an array run, in its result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ElementReport {
    /// The element's index (its position in `parameter_sets`).
    pub index: usize,
    /// Its parameters: the do-file's arguments.
    pub parameters: Vec<String>,
    /// How it ended, as `stata_run_do_file` reports a run (its log's tail cut to share the
    /// result's size with the other elements).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunReport>,
    /// Why it has no outcome (it could not start, or the run was stopped before it started).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The structured content of `stata_run_array`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArrayReport {
    /// Where the elements ran: `local` or `slurm`.
    pub backend: String,
    /// The array job's id, on Slurm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// How many elements succeeded.
    pub succeeded: usize,
    /// How many did not.
    pub failed: usize,
    /// Every element, in order.
    pub elements: Vec<ElementReport>,
}

impl StataTools {
    /// Runs the do-file at `path` once per set of `sets`, streaming each element's state.
    pub(crate) async fn run_array(
        &self,
        ctx: &Context,
        path: &str,
        sets: Vec<Vec<String>>,
        working_dir: Option<&str>,
        max_parallel: Option<usize>,
        timeout: Option<Duration>,
    ) -> Result<CallToolResult, ToolError> {
        let stata = self.stata()?;
        let file = self.do_file(path);
        let working_dir = self.chosen_working_dir(working_dir)?;
        let options = ArrayOptions {
            working_dir,
            timeout,
            max_parallel,
        };
        let mut run = self
            .backend
            .start_array(stata, &file, &sets, options)
            .await?;
        let job_id = match &run {
            crate::backend::ArrayRun::Slurm(array) => Some(array.job_id().to_owned()),
            crate::backend::ArrayRun::Local(_) => None,
        };
        let total = sets.len();
        let mut outcomes: Vec<Option<Result<RunOutcome, RunError>>> =
            (0..total).map(|_| None).collect();
        let mut finished = 0usize;
        let mut clock = ProgressClock::default();
        while let Some((index, event)) = run.next().await {
            let message = match event {
                RunEvent::Line(_) => continue,
                RunEvent::Status(text) => format!("[{index}] {text}"),
                RunEvent::Finished(result) => {
                    finished += 1;
                    let text = format!("[{index}] {}", finished_text(&result));
                    if let Some(slot) = outcomes.get_mut(index) {
                        *slot = Some(result);
                    }
                    text
                }
            };
            // The whole part counts finished elements; the fraction keeps values growing.
            ctx.progress(
                Progress::new()
                    .at(clock.next(finished))
                    .of(total as f64)
                    .message(message),
            )
            .await;
            if finished == total {
                break;
            }
        }
        Ok(self.array_result(&file, &sets, outcomes, job_id, timeout))
    }

    fn array_result(
        &self,
        file: &std::path::Path,
        sets: &[Vec<String>],
        outcomes: Vec<Option<Result<RunOutcome, RunError>>>,
        job_id: Option<String>,
        timeout: Option<Duration>,
    ) -> CallToolResult {
        let n = sets.len().max(1);
        // Every element's tail gets an equal share of half the budget (text and structured
        // content each carry it).
        let share = (self.max_result_bytes / 2 / n).max(512);
        let mut info = self.info(None, timeout);
        info.max_result_bytes = share;
        let mut elements = Vec::with_capacity(sets.len());
        for (index, (parameters, outcome)) in sets.iter().zip(outcomes).enumerate() {
            let (run, error) = match outcome {
                Some(Ok(outcome)) => {
                    let mut run = report(&outcome, &info);
                    run.log_tail = fit_tail(&run.log_tail, share).lines;
                    (Some(run), None)
                }
                Some(Err(e)) => (None, Some(e.to_string())),
                None => (
                    None,
                    Some("it did not run: the array was stopped".to_owned()),
                ),
            };
            elements.push(ElementReport {
                index,
                parameters: parameters.clone(),
                run,
                error,
            });
        }
        let succeeded = elements
            .iter()
            .filter(|e| e.run.as_ref().is_some_and(|r| r.status == Status::Success))
            .count();
        let report = ArrayReport {
            backend: self.backend.name().to_owned(),
            job_id,
            succeeded,
            failed: elements.len() - succeeded,
            elements,
        };
        let text = array_text(file, &report);
        CallToolResult {
            content: vec![Content::text(text)],
            structured_content: structured(&report),
            is_error: Some(report.failed > 0),
            meta: None,
        }
    }
}

fn finished_text(result: &Result<RunOutcome, RunError>) -> String {
    match result {
        Ok(outcome) => match &outcome.status {
            RunStatus::Success => "finished without error".to_owned(),
            RunStatus::StataError(e) => format!("stopped with error r({})", e.code),
            RunStatus::Cancelled => "cancelled".to_owned(),
            RunStatus::TimedOut => "timed out".to_owned(),
            RunStatus::Killed => "killed by a signal".to_owned(),
            RunStatus::Died(_) => "died before the do-file finished".to_owned(),
        },
        Err(e) => format!("could not run: {e}"),
    }
}

fn array_text(file: &std::path::Path, report: &ArrayReport) -> String {
    let total = report.elements.len();
    let mut text = format!(
        "{} of {total} parameter sets of {} finished without error{}.",
        report.succeeded,
        file.display(),
        match &report.job_id {
            Some(id) => format!(" (Slurm job array {id})"),
            None => String::new(),
        }
    );
    for element in &report.elements {
        text.push_str(&format!(
            "\n[{}] {}: ",
            element.index,
            element.parameters.join(" ")
        ));
        match (&element.run, &element.error) {
            (Some(run), _) => {
                text.push_str(&status_word(run));
                if let Some(job) = &run.slurm {
                    text.push_str(&format!("; {}", slurm_line(job)));
                }
                text.push_str(&format!("; log {}", run.log_path));
            }
            (None, Some(error)) => text.push_str(error),
            (None, None) => {}
        }
    }
    for element in &report.elements {
        let Some(run) = element.run.as_ref().filter(|r| r.status != Status::Success) else {
            continue;
        };
        text.push_str(&format!(
            "\n\nThe end of element {}'s log:\n",
            element.index
        ));
        text.push_str(&run.log_tail.join("\n"));
        if let Some(stderr) = &run.stderr_tail {
            text.push_str("\nIts standard error:\n");
            text.push_str(stderr);
        }
    }
    text
}

fn status_word(run: &RunReport) -> String {
    match run.status {
        Status::Success => "success".to_owned(),
        Status::StataError => format!(
            "error r({}){}",
            run.rc.unwrap_or_default(),
            run.error_message
                .as_deref()
                .map(|m| format!(" {}", m.lines().next().unwrap_or("")))
                .unwrap_or_default()
        ),
        Status::Cancelled => "cancelled".to_owned(),
        Status::TimedOut => "timed out".to_owned(),
        Status::Killed => "killed by a signal".to_owned(),
        Status::Died => format!(
            "died{}",
            run.exit_code
                .map(|c| format!(" (exit code {c})"))
                .unwrap_or_default()
        ),
    }
}
