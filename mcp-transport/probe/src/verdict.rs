//! Whether a call's progress arrived live: spread out while the tool ran, or held back and
//! delivered with the result (the buffering this project exists to prevent).

use std::fmt;

/// What the arrival times of a call's progress say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The progress arrived while the tool ran.
    Live,
    /// Every progress event arrived in one burst with the result.
    Buffered,
    /// The call sent no progress.
    NoProgress,
    /// The call was over too soon to tell.
    TooFast,
}

impl Verdict {
    /// The word used in the output and in `--json`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Live => "live",
            Verdict::Buffered => "buffered",
            Verdict::NoProgress => "no-progress",
            Verdict::TooFast => "too-fast",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A call shorter than this (milliseconds) cannot be judged: its events would be close
/// together even when sent live.
pub(crate) const MIN_CALL_MS: f64 = 20.0;

/// Judges a call from the arrival times (milliseconds after the request was sent) of its
/// progress events and of its result.
///
/// Live means the first event came at least 5 ms, and at least 2 % of the call's duration,
/// before the result. A buffering layer delivers everything in one write, which a client
/// reads in well under a millisecond; a tool that reports while it works spreads its events
/// over the call.
pub(crate) fn judge(events_ms: &[f64], result_ms: f64) -> Verdict {
    let Some(first) = events_ms.iter().copied().reduce(f64::min) else {
        return Verdict::NoProgress;
    };
    let spread = result_ms - first;
    if spread >= 5.0_f64.max(0.02 * result_ms) {
        Verdict::Live
    } else if result_ms < MIN_CALL_MS {
        Verdict::TooFast
    } else {
        Verdict::Buffered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_events_are_live() {
        assert_eq!(judge(&[101.0, 202.0, 303.0], 304.0), Verdict::Live);
        // Events late in a long call, but spread out, are still live.
        assert_eq!(judge(&[4_600.0, 4_700.0, 4_800.0], 4_810.0), Verdict::Live);
    }

    #[test]
    fn a_burst_with_the_result_is_buffered() {
        assert_eq!(judge(&[500.1, 500.1, 500.2], 500.3), Verdict::Buffered);
        assert_eq!(judge(&[12_000.0; 5], 12_000.4), Verdict::Buffered);
    }

    #[test]
    fn nothing_or_too_little_to_judge() {
        assert_eq!(judge(&[], 100.0), Verdict::NoProgress);
        assert_eq!(judge(&[1.0, 1.1], 1.2), Verdict::TooFast);
    }
}
