//! Where the generator's CPU goes, from `/proc`: each client thread's own scheduler
//! counters, and the machine's interrupts and context switches, read before and after a cell
//! (a few file reads per cell, none per call).

/// One thread's scheduler counters (`/proc/thread-self/schedstat` and `status`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadUse {
    /// Nanoseconds on a CPU (exact, not ticks).
    pub run_ns: u64,
    /// Nanoseconds runnable but waiting for a CPU.
    pub wait_ns: u64,
    /// Times it went to sleep (to be woken again).
    pub voluntary: u64,
    /// Times it was taken off its CPU for another thread.
    pub involuntary: u64,
}

impl ThreadUse {
    /// The calling thread's counters now.
    pub fn now() -> ThreadUse {
        let sched = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
        let mut f = sched.split_whitespace().map(|v| v.parse().unwrap_or(0));
        let (run_ns, wait_ns) = (f.next().unwrap_or(0), f.next().unwrap_or(0));
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
        let (voluntary, involuntary) = crate::procs::switches_in_status(&status);
        ThreadUse {
            run_ns,
            wait_ns,
            voluntary,
            involuntary,
        }
    }

    /// The counts from `earlier` to `self`.
    pub fn since(self, earlier: ThreadUse) -> ThreadUse {
        ThreadUse {
            run_ns: self.run_ns.saturating_sub(earlier.run_ns),
            wait_ns: self.wait_ns.saturating_sub(earlier.wait_ns),
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }

    /// The sum of two threads' counts.
    pub fn plus(self, other: ThreadUse) -> ThreadUse {
        ThreadUse {
            run_ns: self.run_ns + other.run_ns,
            wait_ns: self.wait_ns + other.wait_ns,
            voluntary: self.voluntary + other.voluntary,
            involuntary: self.involuntary + other.involuntary,
        }
    }
}

/// The machine's interrupt, softirq and context-switch counts, summed over its CPUs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Machine {
    /// Rescheduling IPIs (`RES`).
    pub resched: u64,
    /// Function-call IPIs (`CAL`: remote wake-ups queued to another CPU among them).
    pub call: u64,
    /// Local timer interrupts (`LOC`).
    pub timer: u64,
    /// `NET_RX` softirqs.
    pub net_rx: u64,
    /// Context switches (`ctxt` in `/proc/stat`).
    pub switches: u64,
}

impl Machine {
    /// The counts now.
    pub fn now() -> Machine {
        let irqs = std::fs::read_to_string("/proc/interrupts").unwrap_or_default();
        let softirqs = std::fs::read_to_string("/proc/softirqs").unwrap_or_default();
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let row = |text: &str, name: &str| -> u64 {
            text.lines()
                .find_map(|l| l.trim_start().strip_prefix(name))
                .map(|rest| {
                    rest.split_whitespace()
                        .map_while(|v| v.parse::<u64>().ok())
                        .sum()
                })
                .unwrap_or(0)
        };
        Machine {
            resched: row(&irqs, "RES:"),
            call: row(&irqs, "CAL:"),
            timer: row(&irqs, "LOC:"),
            net_rx: row(&softirqs, "NET_RX:"),
            switches: row(&stat, "ctxt "),
        }
    }

    /// The counts from `earlier` to `self`.
    pub fn since(self, earlier: Machine) -> Machine {
        Machine {
            resched: self.resched.saturating_sub(earlier.resched),
            call: self.call.saturating_sub(earlier.call),
            timer: self.timer.saturating_sub(earlier.timer),
            net_rx: self.net_rx.saturating_sub(earlier.net_rx),
            switches: self.switches.saturating_sub(earlier.switches),
        }
    }
}
