//! The first lines of a run's result: how it ended and what that means, claiming only what the
//! log showed (a count the parser could not make is left out, never guessed).

use super::report::RunInfo;
use crate::outcome::{Death, RunOutcome, RunStatus, seconds_text as seconds};

/// `k of N commands`, when the log reached the do-file and the count makes sense.
fn counted(outcome: &RunOutcome) -> Option<String> {
    (outcome.started && outcome.executed <= outcome.total)
        .then(|| format!("{} of {} commands", outcome.executed, outcome.total))
}

/// ` after k of N commands`, ` before your do-file started`, or nothing.
fn after(outcome: &RunOutcome) -> String {
    match counted(outcome) {
        Some(counted) => format!(" after {counted}"),
        None if !outcome.started => " before your do-file started".to_owned(),
        None => String::new(),
    }
}

/// Where the run stopped, when the log matched the do-file's commands.
fn stopped_at(outcome: &RunOutcome) -> Option<String> {
    let at = outcome.stopped_at.as_ref()?;
    let code: String = at.code.chars().take(200).collect();
    Some(format!(
        "command {} of {} (line {}: `{code}`)",
        at.number, outcome.total, at.line
    ))
}

/// The first lines of the text: how the run ended and what that means.
pub(crate) fn headline(outcome: &RunOutcome, info: &RunInfo) -> String {
    let in_session = info.session.is_some();
    match &outcome.status {
        RunStatus::Success => match counted(outcome) {
            Some(counted) => format!("Stata finished without error ({counted} ran)."),
            None => "Stata finished without error.".to_owned(),
        },
        RunStatus::StataError(e) if e.code == 1 => format!(
            "Stata stopped with r(1): the command was broken off (--Break--){}.{}",
            after(outcome),
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
            if !outcome.started {
                return format!(
                    "Stata stopped with error r({}) before your do-file started: {message}",
                    e.code
                );
            }
            let place = match stopped_at(outcome) {
                Some(at) => format!("It failed at {at}."),
                None => "The failing command is the last one echoed in the log below.".to_owned(),
            };
            format!(
                "Stata stopped with error r({}): {message}\n{place} Later commands did not run.",
                e.code
            )
        }
        RunStatus::TimedOut => {
            let limit = info
                .timeout
                .map(|t| format!(" of {}", seconds(t)))
                .unwrap_or_default();
            if in_session {
                format!(
                    "The command ran past its timeout{limit} and was broken off{}; the session and its data are kept.",
                    after(outcome)
                )
            } else if outcome.cluster.is_some() {
                format!(
                    "The run ran past its timeout{limit} and its Slurm job was cancelled{}.",
                    after(outcome)
                )
            } else {
                format!(
                    "The run ran past its timeout{limit} and Stata was stopped (its whole process group killed){}.",
                    after(outcome)
                )
            }
        }
        RunStatus::Cancelled => format!("The run was cancelled{}.", after(outcome)),
        RunStatus::Killed => format!(
            "Stata was killed by a signal{}{}.",
            outcome
                .exit
                .map(|e| format!(" (exit code {})", e.code))
                .unwrap_or_default(),
            after(outcome)
        ),
        RunStatus::Died(death) => {
            let what = match death {
                Death::ExitStatus(code) => {
                    format!("Stata died before your do-file finished: it exited with status {code}")
                }
                Death::LogCut => {
                    "Stata exited, but its log stops before the end of your do-file (no `end of do-file`)"
                        .to_owned()
                }
                Death::NeverStarted => {
                    "Stata exited without running your do-file: its log never reached it".to_owned()
                }
                Death::Cluster(state) => {
                    format!("Slurm ended the job ({state}) before your do-file finished")
                }
            };
            let place = match (stopped_at(outcome), counted(outcome)) {
                (Some(at), _) => format!(" The log stops at {at}."),
                (None, Some(counted)) => format!(" The log shows {counted}."),
                (None, None) => String::new(),
            };
            let stderr = if outcome.stderr.trim().is_empty() {
                String::new()
            } else {
                " What it wrote on standard error is below.".to_owned()
            };
            format!("{what}.{place}{stderr}")
        }
    }
}
