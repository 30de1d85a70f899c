//! How long an idle poll lasts: a window that adapts to the gaps between an answer and the
//! next request (see [`StdioServer::idle_poll`](crate::stdio::StdioServer::idle_poll) and
//! [`HttpConfig::idle_poll`](crate::http::HttpConfig::idle_poll)). Each session on stdio and
//! each HTTP connection has its own.
//!
//! The governor is fed one measurement per idle gap (the time from finding the input empty
//! after an answer to the next input) and knows nothing else: no clock, no I/O. Its policy, in the
//! manner of the kernel's haltpoll governor:
//!
//! - a gap the window covered (the poll found the request): the window stays;
//! - a gap longer than the window but within the *growth limit* (twice the largest window:
//!   a gap measured while the thread slept includes its wake-up, which is what the poll
//!   saves): the window doubles, starting from a quarter of the largest, up to the largest;
//! - a longer gap (a client that thinks between calls, a person at a keyboard): the window
//!   halves, and drops to zero below a quarter of the largest;
//! - while the gaps that were not polled at all (the thread slept) end, on average, within a
//!   quarter of the largest window, wake-ups are cheap (the CPUs are kept awake by other
//!   work, or wake quickly): the window drops to zero and stays there, since polling would
//!   save next to nothing and take CPU time that others need. The average (of gaps cut at the
//!   growth limit; a shorter gap moves it half the way, a longer one a quarter) lets a slow
//!   wake-up among cheap ones pass, and follows cheap ones within three probes.
//!
//! To notice the last case while it polls, the governor leaves every [`PROBE_EVERY`]th gap
//! unpolled: a *probe*, which costs one wake-up where wake-ups are dear.
//!
//! So a session starts without polling; a lockstep client whose requests must wake a halted
//! CPU grows the window within a few calls and then never waits for a wake-up, but for one
//! gap in [`PROBE_EVERY`]; where wake-ups are cheap the window stays at zero, or drops to
//! zero at the next probe; a client calling every few seconds brings it back to zero within
//! three gaps, after which an idle gap costs nothing.

use std::time::Duration;

/// While the window is open, one idle gap in this many is not polled (a probe: see the
/// [module docs](self)).
pub(crate) const PROBE_EVERY: u32 = 64;

/// The adaptive window of the idle poll: see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Governor {
    /// The largest window; zero: never poll.
    max: Duration,
    /// The window the next idle gap polls for.
    window: Duration,
    /// Polled gaps since the last probe.
    since_probe: u32,
    /// Whether the gap now open is not polled (a zero window, or a probe).
    unpolled: bool,
    /// The running average of the gaps that were not polled, each cut at the growth limit.
    slept: Duration,
}

impl Governor {
    /// A governor whose window grows up to `max`, starting at zero.
    pub(crate) fn new(max: Duration) -> Self {
        Governor {
            max,
            window: Duration::ZERO,
            since_probe: 0,
            unpolled: false,
            slept: max / 4,
        }
    }

    /// A governor whose window starts at `max` (tests: a poll from the first answer on).
    #[cfg(test)]
    pub(crate) fn at_max(max: Duration) -> Self {
        Governor {
            window: max,
            slept: max,
            ..Governor::new(max)
        }
    }

    /// The window, as it stands.
    #[cfg(test)]
    pub(crate) fn window(&self) -> Duration {
        self.window
    }

    /// An idle gap opens (the input was found empty after an answer): how long to poll for the
    /// next request. Zero, not to poll, while the window is zero and for a probe.
    pub(crate) fn open_gap(&mut self) -> Duration {
        let window = if self.window.is_zero() {
            Duration::ZERO
        } else if self.since_probe + 1 >= PROBE_EVERY {
            self.since_probe = 0;
            Duration::ZERO
        } else {
            self.since_probe += 1;
            self.window
        };
        self.unpolled = window.is_zero();
        window
    }

    /// The smallest window that polls at all: a quarter of the largest.
    fn start(&self) -> Duration {
        self.max / 4
    }

    /// Gaps up to this long make the window grow; longer ones make it shrink.
    fn growth_limit(&self) -> Duration {
        self.max.saturating_mul(2)
    }

    /// Takes in the idle gap that [`open_gap`](Self::open_gap) opened: from finding the
    /// input empty after an answer to the next input (whether the poll or the reactor found it).
    pub(crate) fn observe(&mut self, gap: Duration) {
        if std::mem::take(&mut self.unpolled) {
            let cut = gap.min(self.growth_limit());
            self.slept = if cut >= self.slept {
                self.slept + (cut - self.slept) / 4
            } else {
                self.slept - (self.slept - cut) / 2
            };
            if self.slept < self.start() {
                // The thread slept, and its wake-ups take less than the smallest window: they
                // are cheap here, polling would only take CPU time.
                self.window = Duration::ZERO;
                return;
            }
        }
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

    /// One idle gap of `len`: opened, then taken in. Returns the window it was polled for.
    fn gap(g: &mut Governor, len: Duration) -> Duration {
        let polled = g.open_gap();
        g.observe(len);
        polled
    }

    #[test]
    fn a_new_session_does_not_poll() {
        let mut g = Governor::new(MAX);
        assert_eq!(g.window(), Duration::ZERO);
        assert_eq!(g.open_gap(), Duration::ZERO);
    }

    #[test]
    fn short_gaps_grow_the_window_to_its_largest() {
        let mut g = Governor::new(MAX);
        // Gaps measured while the thread slept: each includes a wake-up.
        assert_eq!(gap(&mut g, us(70)), Duration::ZERO);
        assert_eq!(g.window(), us(20), "starts at a quarter of the largest");
        assert_eq!(gap(&mut g, us(70)), us(20));
        assert_eq!(g.window(), us(40));
        gap(&mut g, us(70));
        assert_eq!(g.window(), us(80));
        gap(&mut g, us(150));
        assert_eq!(g.window(), MAX, "never beyond the largest");
    }

    #[test]
    fn a_gap_the_window_covers_keeps_it() {
        let mut g = Governor::new(MAX);
        gap(&mut g, us(30));
        gap(&mut g, us(30));
        assert_eq!(g.window(), us(40));
        // Polled gaps, shorter than the smallest window too: no probe among them yet.
        for len in [12, 0].repeat(25) {
            assert_eq!(gap(&mut g, us(len)), us(40));
        }
        assert_eq!(g.window(), us(40));
    }

    #[test]
    fn cheap_wake_ups_keep_the_window_at_zero() {
        let mut g = Governor::new(MAX);
        // The thread slept through each gap and still took in the next request within a
        // quarter of the largest window: its wake-ups are cheap.
        for len in [0, 3, 5, 19, 8, 4, 4, 4] {
            assert_eq!(gap(&mut g, us(len)), Duration::ZERO);
            assert_eq!(g.window(), Duration::ZERO);
        }
        // One slow wake-up among them does not start the poll...
        gap(&mut g, us(60));
        assert_eq!(g.window(), Duration::ZERO);
        // ...dear wake-ups that go on do.
        gap(&mut g, us(60));
        assert_eq!(g.window(), us(20));
    }

    #[test]
    fn every_nth_gap_is_a_probe_and_cheap_ones_end_the_poll() {
        let mut g = Governor::at_max(MAX);
        let polled = |g: &mut Governor| {
            for _ in 1..PROBE_EVERY {
                assert_eq!(gap(g, us(10)), MAX, "polled, and found at once");
            }
        };
        polled(&mut g);
        // The probe: not polled. A dear wake-up keeps the window.
        assert_eq!(gap(&mut g, us(60)), Duration::ZERO);
        assert_eq!(g.window(), MAX);
        // Probes that find wake-ups cheap: the third ends the poll.
        for _ in 0..2 {
            polled(&mut g);
            assert_eq!(gap(&mut g, us(5)), Duration::ZERO);
            assert_eq!(g.window(), MAX);
        }
        polled(&mut g);
        assert_eq!(gap(&mut g, us(5)), Duration::ZERO);
        assert_eq!(g.window(), Duration::ZERO);
        assert_eq!(gap(&mut g, us(5)), Duration::ZERO);
    }

    #[test]
    fn long_gaps_bring_the_window_to_zero_within_three() {
        let mut g = Governor::at_max(MAX);
        let seconds = Duration::from_secs(3);
        gap(&mut g, seconds);
        assert_eq!(g.window(), us(40));
        gap(&mut g, seconds);
        assert_eq!(g.window(), us(20));
        gap(&mut g, seconds);
        assert_eq!(g.window(), Duration::ZERO);
        gap(&mut g, seconds);
        assert_eq!(
            g.window(),
            Duration::ZERO,
            "stays off while the gaps are long"
        );
        // A lockstep client again, whose requests wait for a wake-up: the window comes back.
        gap(&mut g, us(60));
        assert_eq!(g.window(), us(20));
    }

    #[test]
    fn the_growth_limit_is_twice_the_largest_window() {
        let mut g = Governor::at_max(MAX);
        gap(&mut g, us(160));
        assert_eq!(g.window(), MAX, "a gap at the limit does not shrink it");
        gap(&mut g, us(161));
        assert_eq!(g.window(), us(40));
    }

    /// The HTTP default (twice stdio's) takes a thread that slept and still took in the next
    /// request within 40 µs for cheap to wake (stdio's polls for such gaps), and a client that
    /// goes idle costs at most the window and its halves in all.
    #[test]
    fn the_http_default_takes_short_sleeps_for_cheap_and_bounds_an_idle_client() {
        let http = crate::idle_poll::DEFAULT_HTTP_IDLE_POLL;
        assert_eq!(http, MAX * 2);
        let (mut g, mut stdio) = (Governor::new(http), Governor::new(MAX));
        for _ in 0..8 {
            gap(&mut g, us(30));
            gap(&mut stdio, us(30));
        }
        assert_eq!(g.window(), Duration::ZERO);
        assert_eq!(
            stdio.window(),
            us(40),
            "stdio's window polls for these gaps"
        );
        let mut g = Governor::at_max(http);
        let spun: Duration = (0..10).map(|_| gap(&mut g, Duration::from_secs(1))).sum();
        assert_eq!(spun, us(160 + 80 + 40));
        assert_eq!(g.window(), Duration::ZERO);
    }

    #[test]
    fn a_zero_largest_window_never_polls() {
        let mut g = Governor::new(Duration::ZERO);
        for len in [Duration::ZERO, us(1), us(50), Duration::from_secs(1)] {
            assert_eq!(gap(&mut g, len), Duration::ZERO);
            assert_eq!(g.window(), Duration::ZERO);
        }
    }
}
