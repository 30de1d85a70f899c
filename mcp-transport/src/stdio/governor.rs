//! How long the idle poll of stdin lasts: a window that adapts to the gaps between an answer
//! and the next request (see [`StdioServer::idle_poll`](super::StdioServer::idle_poll)).
//!
//! The governor is fed one measurement per idle gap (the time from finding stdin empty after
//! an answer to the next input) and knows nothing else: no clock, no I/O. Its policy, in the
//! manner of the kernel's haltpoll governor:
//!
//! - a gap the window covered (the poll found the request): the window stays;
//! - a gap longer than the window but within the *growth limit* (twice the largest window:
//!   a gap measured while the thread slept includes its wake-up, which is what the poll
//!   saves): the window doubles, starting from a quarter of the largest, up to the largest;
//! - a longer gap (a client that thinks between calls, a person at a keyboard): the window
//!   halves, and drops to zero below a quarter of the largest.
//!
//! So a session starts without polling; a lockstep client grows the window within a few
//! calls and then never waits for a wake-up; a client calling every few seconds brings it
//! back to zero within three gaps, after which an idle gap costs nothing.

use std::time::Duration;

/// The adaptive window of the idle poll: see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Governor {
    /// The largest window; zero: never poll.
    max: Duration,
    /// The window the next idle gap polls for.
    window: Duration,
}

impl Governor {
    /// A governor whose window grows up to `max`, starting at zero.
    pub(super) fn new(max: Duration) -> Self {
        Governor {
            max,
            window: Duration::ZERO,
        }
    }

    /// A governor whose window starts at `max` (tests: a poll from the first answer on).
    #[cfg(test)]
    pub(super) fn at_max(max: Duration) -> Self {
        Governor { max, window: max }
    }

    /// How long to poll for the next request after an answer, now.
    pub(super) fn window(&self) -> Duration {
        self.window
    }

    /// The smallest window that polls at all: a quarter of the largest.
    fn start(&self) -> Duration {
        self.max / 4
    }

    /// Gaps up to this long make the window grow; longer ones make it shrink.
    fn growth_limit(&self) -> Duration {
        self.max.saturating_mul(2)
    }

    /// Takes in one idle gap: from finding stdin empty after an answer to the next input
    /// (whether the poll or the reactor found it).
    pub(super) fn observe(&mut self, gap: Duration) {
        if gap <= self.window {
            // The poll found the request: no wake-up was needed.
        } else if gap <= self.growth_limit() {
            self.window = self.window.saturating_mul(2).clamp(self.start(), self.max);
        } else {
            let halved = self.window / 2;
            self.window = if halved < self.start() {
                Duration::ZERO
            } else {
                halved
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_micros(80);

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn a_new_session_does_not_poll() {
        assert_eq!(Governor::new(MAX).window(), Duration::ZERO);
    }

    #[test]
    fn short_gaps_grow_the_window_to_its_largest() {
        let mut g = Governor::new(MAX);
        // Gaps measured while the thread slept: each includes a wake-up.
        g.observe(us(70));
        assert_eq!(g.window(), us(20), "starts at a quarter of the largest");
        g.observe(us(70));
        assert_eq!(g.window(), us(40));
        g.observe(us(70));
        assert_eq!(g.window(), us(80));
        g.observe(us(150));
        assert_eq!(g.window(), MAX, "never beyond the largest");
    }

    #[test]
    fn a_gap_the_window_covers_keeps_it() {
        let mut g = Governor::new(MAX);
        g.observe(us(30));
        g.observe(us(30));
        assert_eq!(g.window(), us(40));
        for _ in 0..100 {
            g.observe(us(12));
            g.observe(Duration::ZERO);
        }
        assert_eq!(g.window(), us(40));
    }

    #[test]
    fn long_gaps_bring_the_window_to_zero_within_three() {
        let mut g = Governor::at_max(MAX);
        let seconds = Duration::from_secs(3);
        g.observe(seconds);
        assert_eq!(g.window(), us(40));
        g.observe(seconds);
        assert_eq!(g.window(), us(20));
        g.observe(seconds);
        assert_eq!(g.window(), Duration::ZERO);
        g.observe(seconds);
        assert_eq!(
            g.window(),
            Duration::ZERO,
            "stays off while the gaps are long"
        );
        // A lockstep client again: the window comes back.
        g.observe(us(60));
        assert_eq!(g.window(), us(20));
    }

    #[test]
    fn the_growth_limit_is_twice_the_largest_window() {
        let mut g = Governor::at_max(MAX);
        g.observe(us(160));
        assert_eq!(g.window(), MAX, "a gap at the limit does not shrink it");
        g.observe(us(161));
        assert_eq!(g.window(), us(40));
    }

    #[test]
    fn a_zero_largest_window_never_polls() {
        let mut g = Governor::new(Duration::ZERO);
        for gap in [Duration::ZERO, us(1), us(50), Duration::from_secs(1)] {
            g.observe(gap);
            assert_eq!(g.window(), Duration::ZERO);
        }
    }
}
