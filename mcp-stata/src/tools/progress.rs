//! Forwarding a run's log lines to the client as progress notifications while it goes.
//!
//! Each [`RunEvent::Line`] becomes a `notifications/progress` at once. Lines that are already
//! waiting when one is sent (a 4 KiB block of the log arrives at once) travel together, up to a
//! bounded number per message, so a fast log does not become thousands of tiny messages; a
//! line is never held back to wait for company.
//!
//! `progress` counts the commands executed, `total` the commands in the do-file or code. The
//! protocol requires `progress` to grow with every notification, and many lines can belong to
//! one command, so the `k`-th message within one command adds `k/(k+1)`: the whole part is
//! always the count of commands executed, and the value still grows.

use futures_core::Stream;
use futures_util::{FutureExt, StreamExt};
use mcp_core::{Context, Progress};

use crate::outcome::{LogLine, RunError, RunEvent, RunOutcome};

/// Lines stop joining a message once it holds this many bytes (one line is at most 64 KiB).
const MESSAGE_BYTES: usize = 64 * 1024;

/// Makes strictly growing progress values whose whole part is the commands executed.
#[derive(Debug, Default)]
pub(crate) struct ProgressClock {
    last: Option<f64>,
    executed: usize,
    within: u64,
}

impl ProgressClock {
    /// The value of the next notification, after `executed` commands.
    pub(crate) fn next(&mut self, executed: usize) -> f64 {
        if self.last.is_none() || executed != self.executed {
            self.executed = executed;
            self.within = 0;
        } else {
            self.within += 1;
        }
        let k = self.within as f64;
        let mut value = executed as f64 + k / (k + 1.0);
        if let Some(last) = self.last
            && value <= last
        {
            value = last.next_up();
        }
        self.last = Some(value);
        value
    }
}

/// Lines gathered into one message.
struct Batch {
    text: String,
    last: LogLine,
    count: usize,
}

impl Batch {
    fn new(line: LogLine) -> Batch {
        Batch {
            text: line.text.clone(),
            last: line,
            count: 1,
        }
    }

    fn push(&mut self, line: LogLine) {
        self.text.push('\n');
        self.text.push_str(&line.text);
        self.last = line;
        self.count += 1;
    }

    fn progress(self, clock: &mut ProgressClock) -> Progress {
        let value = clock.next(self.last.executed);
        let total = self.last.total.max(self.last.executed);
        let progress = Progress::new().at(value).message(self.text);
        if total > 0 {
            progress.of(total as f64)
        } else {
            progress
        }
    }
}

/// Sends the run's lines as progress on `ctx` while they come, and returns its outcome.
///
/// Waiting for the transport to take a message holds the run's events back, and the run
/// itself waits when its queue is full: a slow client slows the reading of the log, and
/// memory stays bounded.
pub(crate) async fn follow<S>(
    ctx: &Context,
    run: &mut S,
    lines_per_message: usize,
) -> Result<RunOutcome, RunError>
where
    S: Stream<Item = RunEvent> + Unpin,
{
    let mut clock = ProgressClock::default();
    let lost = || RunError::Io(std::io::Error::other("the run ended without an outcome"));
    let mut executed = 0;
    loop {
        let first = match run.next().await {
            Some(RunEvent::Line(line)) => line,
            Some(RunEvent::Status(text)) => {
                ctx.progress(Progress::new().at(clock.next(executed)).message(text))
                    .await;
                continue;
            }
            Some(RunEvent::Finished(result)) => return result,
            None => return Err(lost()),
        };
        let mut batch = Batch::new(first);
        let mut end = None;
        let mut status = None;
        while batch.count < lines_per_message.max(1) && batch.text.len() < MESSAGE_BYTES {
            match run.next().now_or_never() {
                Some(Some(RunEvent::Line(line))) => batch.push(line),
                Some(Some(RunEvent::Status(text))) => {
                    status = Some(text);
                    break;
                }
                Some(Some(RunEvent::Finished(result))) => {
                    end = Some(result);
                    break;
                }
                Some(None) => {
                    end = Some(Err(lost()));
                    break;
                }
                None => break,
            }
        }
        executed = batch.last.executed;
        ctx.progress(batch.progress(&mut clock)).await;
        if let Some(text) = status {
            ctx.progress(Progress::new().at(clock.next(executed)).message(text))
                .await;
        }
        if let Some(result) = end {
            return result;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ProgressClock;

    #[test]
    fn values_grow_and_count_commands() {
        let mut clock = ProgressClock::default();
        let executed = [1, 1, 1, 2, 2, 5, 5, 5, 5];
        let values: Vec<f64> = executed.iter().map(|&e| clock.next(e)).collect();
        assert_eq!(values[..4], [1.0, 1.5, 1.0 + 2.0 / 3.0, 2.0]);
        assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
        for (value, executed) in values.iter().zip(executed) {
            assert_eq!(value.floor() as usize, executed);
        }
    }

    #[test]
    fn values_grow_over_a_very_long_command_and_a_count_that_goes_back() {
        let mut clock = ProgressClock::default();
        let mut last = clock.next(3);
        for _ in 0..200_000 {
            let value = clock.next(3);
            assert!(value > last);
            last = value;
        }
        assert!(last < 4.0);
        let after = clock.next(2);
        assert!(after > last, "never goes back, even if the count does");
    }
}
