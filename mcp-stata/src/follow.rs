//! Following a batch log while Stata writes it (on this machine or on a cluster node), and
//! deciding how the run ended from every signal there is: the exit status, the end-of-do-file
//! marker, `r(N);`, what Stata wrote on standard error.
//!
//! Every line of the user's part goes out as a [`LogLine`] the moment its newline arrives. The
//! lines before it (a banner, the echo of the top-level do-file, the wrapper's own commands) are
//! held back; if the user's part never begins (a licence failure, a wrapper command that failed),
//! they go out when the run ends, so no line Stata wrote is lost.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::logparse::{LogParser, Region};
use crate::outcome::{CommandRef, Death, LogLine, RunEvent, RunOutcome, RunStatus, read_graphs};
use crate::process::ExitInfo;
use crate::tail::{FileTail, LogTail};

/// At most this many preamble lines are held back (the last ones are kept).
const HELD_LINES: usize = 200;
/// Standard error kept for the result: at most this many of its last bytes.
pub(crate) const STDERR_TAIL: usize = 4 * 1024;

/// Why following stopped before the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interrupt {
    Cancelled,
    TimedOut,
    ReceiverGone,
}

/// A batch log being followed.
#[derive(Debug)]
pub(crate) struct LogFollower {
    tail: FileTail,
    parser: LogParser,
    log_tail: LogTail,
    held: VecDeque<String>,
    total: usize,
    log_path: PathBuf,
}

impl std::fmt::Debug for LogParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogParser")
            .field("executed", &self.executed())
            .field("started", &self.started())
            .field("completed", &self.completed())
            .finish_non_exhaustive()
    }
}

impl LogFollower {
    /// Follows `log_path` (which may not exist yet) with `parser`.
    pub(crate) fn new(
        log_path: &Path,
        parser: LogParser,
        tail_lines: usize,
        total: usize,
    ) -> LogFollower {
        LogFollower {
            tail: FileTail::new(log_path),
            parser,
            log_tail: LogTail::new(tail_lines),
            held: VecDeque::new(),
            total,
            log_path: log_path.to_path_buf(),
        }
    }

    /// How many commands the do-file holds.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// Whether the log file exists (has been opened).
    pub(crate) fn exists(&self) -> bool {
        self.tail.exists()
    }

    /// Opens the log again where reading stopped (see [`FileTail::reopen`]).
    pub(crate) async fn reopen(&mut self) {
        self.tail.reopen().await;
    }

    /// Feeds one line to the parser; the event to send if the line is the user's.
    fn take(&mut self, line: String) -> Option<LogLine> {
        let info = self.parser.feed(&line);
        if info.region == Region::Preamble {
            if self.held.len() == HELD_LINES {
                self.held.pop_front();
            }
            self.held.push_back(line);
            return None;
        }
        if !self.parser.started() || !info.visible {
            return None;
        }
        self.held.clear();
        Some(self.line(line))
    }

    fn line(&mut self, text: String) -> LogLine {
        self.log_tail.push(&text);
        LogLine {
            text,
            executed: self.parser.executed(),
            total: self.total,
        }
    }

    /// Reads at most one buffer of what the log has gained: the user's lines in it, and how
    /// many bytes were read (0 at the current end).
    async fn read_some(&mut self) -> (Vec<LogLine>, usize) {
        let mut lines = Vec::new();
        let n = self
            .tail
            .read_some(&mut |line| lines.push(line))
            .await
            .unwrap_or(0);
        let events = lines.into_iter().filter_map(|l| self.take(l)).collect();
        (events, n)
    }

    /// Reads what the log has gained and sends its complete lines, until its current end. Stops
    /// early, with the reason, when the run is cancelled, times out or nobody listens.
    pub(crate) async fn pump<T>(
        &mut self,
        tx: &mpsc::Sender<T>,
        wrap: impl Fn(RunEvent) -> T,
        cancel: &CancellationToken,
        deadline: Option<Instant>,
    ) -> Result<(), Interrupt> {
        loop {
            let (events, n) = self.read_some().await;
            for event in events {
                {
                    tokio::select! {
                        biased;
                        () = cancel.cancelled() => return Err(Interrupt::Cancelled),
                        () = sleep_until(deadline) => return Err(Interrupt::TimedOut),
                        sent = tx.send(wrap(RunEvent::Line(event))) => {
                            sent.map_err(|_| Interrupt::ReceiverGone)?;
                        }
                    }
                }
            }
            if n == 0 {
                return Ok(());
            }
        }
    }

    /// Stata is gone: reads the rest of the log (a last line without newline included) and, if
    /// the user's part never began, sends the lines held back.
    pub(crate) async fn drain<T>(&mut self, tx: &mpsc::Sender<T>, wrap: impl Fn(RunEvent) -> T) {
        loop {
            let (events, n) = self.read_some().await;
            for event in events {
                let _ = tx.send(wrap(RunEvent::Line(event))).await;
            }
            if n == 0 {
                break;
            }
        }
        if let Some(line) = self.tail.finish()
            && let Some(event) = self.take(line)
        {
            let _ = tx.send(wrap(RunEvent::Line(event))).await;
        }
        if !self.parser.started() {
            let held: Vec<String> = self.held.drain(..).collect();
            for text in held {
                let event = self.line(text);
                let _ = tx.send(wrap(RunEvent::Line(event))).await;
            }
        }
    }

    /// How the run ended: `forced` (cancelled, timed out) wins; then how Stata exited; then
    /// what the log shows.
    pub(crate) fn status(&self, forced: Option<RunStatus>, exit: Option<ExitInfo>) -> RunStatus {
        decide(&self.parser, forced, exit)
    }

    /// The outcome, once the log is drained.
    pub(crate) async fn outcome(
        &mut self,
        status: RunStatus,
        exit: Option<ExitInfo>,
        stderr: String,
        max_graph_bytes: u64,
    ) -> RunOutcome {
        let graphs = read_graphs(self.parser.graphs(), max_graph_bytes).await;
        let log_tail = std::mem::replace(&mut self.log_tail, LogTail::new(0));
        RunOutcome {
            stopped_at: stopped_at(&self.parser, &status),
            status,
            log_tail: log_tail.into_lines(),
            log_path: self.log_path.clone(),
            graphs,
            exit,
            executed: self.parser.executed(),
            total: self.total,
            started: self.parser.started(),
            stderr,
            cluster: None,
        }
    }
}

/// How a run ended, from every signal: `forced` wins; a signal, a non-zero exit, a log that never
/// reached the do-file or stops before its end are deaths whatever the log says; then the log's
/// `r(N);`.
pub(crate) fn decide(
    parser: &LogParser,
    forced: Option<RunStatus>,
    exit: Option<ExitInfo>,
) -> RunStatus {
    if let Some(status) = forced {
        return status;
    }
    if let Some(exit) = exit {
        if exit.signal.is_some() {
            return RunStatus::Killed;
        }
        if exit.code != 0 {
            return RunStatus::Died(Death::ExitStatus(exit.code));
        }
    }
    if !parser.started() {
        return match parser.preamble_error() {
            Some(error) => RunStatus::StataError(error.clone()),
            None => RunStatus::Died(Death::NeverStarted),
        };
    }
    if !parser.completed() {
        return RunStatus::Died(Death::LogCut);
    }
    match parser.error() {
        Some(error) => RunStatus::StataError(error),
        None => RunStatus::Success,
    }
}

/// The command a run stopped at, when the parser is sure of it and the run stopped at one.
pub(crate) fn stopped_at(parser: &LogParser, status: &RunStatus) -> Option<CommandRef> {
    if status.is_success() {
        return None;
    }
    let (number, command) = parser.last_command()?;
    Some(CommandRef {
        number,
        line: command.line,
        code: command.code.clone(),
    })
}

/// The last `limit` bytes of `text` (cut at a line start where possible).
pub(crate) fn tail_of(text: &str, limit: usize) -> String {
    let text = text.trim_end();
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let cut = &text[start..];
    match cut.find('\n') {
        Some(newline) if newline + 1 < cut.len() => cut[newline + 1..].to_owned(),
        _ => cut.to_owned(),
    }
}

/// Sleeps until `deadline`, or forever without one.
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::tail_of;

    #[test]
    fn tails_cut_at_a_line_start() {
        assert_eq!(tail_of("a\nb\n", 10), "a\nb");
        assert_eq!(tail_of("first line\nsecond\n", 9), "second");
        assert_eq!(tail_of("\u{e9}\u{e9}\u{e9}", 3), "\u{e9}");
    }
}
