//! Each figure, measured on a fresh server process.

use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use crate::http::{Conn, hold_get_stream, next_id, raw_call};
use crate::lean::{self, HttpClient, StdioClient};
use crate::procs::{Kind, context_switches, cpu_secs, rss_kib, spawn_http};
use crate::stdio::Stdio;
use crate::usage::{Machine, ThreadUse};
use crate::wire::{self, Counter};

/// A rate with the CPU that server and generator spent on it.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Per second.
    pub per_sec: f64,
    /// Server CPU seconds per wall second.
    pub server_cpu: f64,
    /// Generator CPU seconds per wall second.
    pub gen_cpu: f64,
}

struct Clock {
    started: Instant,
    server0: f64,
    gen0: f64,
    pid: u32,
}

impl Clock {
    fn start(pid: u32) -> Clock {
        Clock {
            started: Instant::now(),
            server0: cpu_secs(Some(pid)),
            gen0: cpu_secs(None),
            pid,
        }
    }

    fn rate(&self, count: u64) -> Rate {
        let secs = self.started.elapsed().as_secs_f64();
        Rate {
            per_sec: count as f64 / secs,
            server_cpu: (cpu_secs(Some(self.pid)) - self.server0) / secs,
            gen_cpu: (cpu_secs(None) - self.gen0) / secs,
        }
    }
}

/// `tools/call` (no progress) per second over HTTP with `clients` connections, each its own
/// session, each with one call in flight, each driven by a thread of its own (the lean
/// client); the median round trip of a call, in microseconds; the server's context switches
/// per call; and what the generator's client threads did per call.
pub async fn http_calls(kind: Kind, clients: usize, secs: f64) -> (Rate, f64, Switches, Client) {
    let server = spawn_http(kind).await;
    let mut conns: Vec<HttpClient> = (0..clients)
        .map(|c| HttpClient::open(server.addr, kind, c))
        .collect();
    // Warm up every connection (allocator, caches) before the clock starts.
    for conn in &mut conns {
        for _ in 0..20 {
            conn.call();
        }
    }
    let switches = context_switches(server.pid);
    let machine = Machine::now();
    let clock = Clock::start(server.pid);
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let each: Vec<lean::ClientRun> = std::thread::scope(|s| {
        let threads: Vec<_> = conns
            .iter_mut()
            .map(|conn| s.spawn(move || lean::http_calls(conn, until)))
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("client"))
            .collect()
    });
    let total: u64 = each.iter().map(|r| r.calls).sum();
    let rate = clock.rate(total);
    let machine = Machine::now().since(machine);
    let switches = Switches::per_call(switches, context_switches(server.pid), total);
    let threads = each
        .iter()
        .fold(ThreadUse::default(), |sum, r| sum.plus(r.thread));
    let per = |v: u64| v as f64 / total.max(1) as f64;
    let client = Client {
        reads: per(each.iter().map(|r| r.reads).sum()),
        sleeps: per(threads.voluntary),
        preempted: per(threads.involuntary),
    };
    eprintln!(
        "  {} at {clients} client(s), per call: client threads on a CPU {:.2} µs, waiting for one \
         {:.2} µs; machine: rescheduling IPIs {:.3}, function-call IPIs {:.3}, timer \
         interrupts {:.3}, NET_RX softirqs {:.3}, context switches {:.3}",
        kind.name(),
        per(threads.run_ns) / 1000.0,
        per(threads.wait_ns) / 1000.0,
        per(machine.resched),
        per(machine.call),
        per(machine.timer),
        per(machine.net_rx),
        per(machine.switches),
    );
    (
        rate,
        median_us(each.into_iter().flat_map(|r| r.round_trips).collect()),
        switches,
        client,
    )
}

/// What the generator's client threads did per call during an HTTP cell.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    /// `read`s of the socket (1 when each answer arrives whole).
    pub reads: f64,
    /// Times a client thread went to sleep (in `read`, for the answer).
    pub sleeps: f64,
    /// Times a client thread was taken off its CPU for another thread.
    pub preempted: f64,
}

/// The median of round trips in nanoseconds, in microseconds.
fn median_us(mut ns: Vec<u32>) -> f64 {
    assert!(!ns.is_empty(), "no calls were made");
    let mid = ns.len() / 2;
    f64::from(*ns.select_nth_unstable(mid).1) / 1000.0
}

/// One task per connection, calling the tool with `steps` steps until `until`; each task
/// returns how many calls it completed, and its connection.
fn call_until(
    conns: Vec<Conn>,
    until: Instant,
    steps: u64,
    progress: bool,
) -> Vec<tokio::task::JoinHandle<(u64, Conn)>> {
    conns
        .into_iter()
        .map(|mut conn| {
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < until {
                    conn.call(steps, progress).await;
                    done += 1;
                }
                (done, conn)
            })
        })
        .collect()
}

/// `tools/call` per second over stdio with `clients` calls in flight at all times (the lean
/// client, blocking pipes); the median round trip of a call, in microseconds; and the
/// server's context switches per call.
pub async fn stdio_calls(kind: Kind, clients: usize, secs: f64) -> (Rate, f64, Switches) {
    let mut c = StdioClient::open(kind);
    // Warm up, one call at a time.
    lean::stdio_calls(&mut c, 1, Instant::now() + Duration::from_millis(20));
    let switches = context_switches(c.server.pid);
    let clock = Clock::start(c.server.pid);
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let (done, round_trips) = lean::stdio_calls(&mut c, clients, until);
    let rate = clock.rate(done);
    let switches = Switches::per_call(switches, context_switches(c.server.pid), done);
    (rate, median_us(round_trips), switches)
}

/// The server's context switches per call during a cell, summed over its threads.
#[derive(Debug, Clone, Copy)]
pub struct Switches {
    /// A thread went to sleep (to be woken again).
    pub voluntary: f64,
    /// A thread was taken off its CPU for another.
    pub involuntary: f64,
}

impl Switches {
    /// The switches between two counts (voluntary, involuntary) of the server's, per call
    /// of the `calls` made in between.
    fn per_call(before: (u64, u64), after: (u64, u64), calls: u64) -> Self {
        let per_call = |a: u64, b: u64| a.saturating_sub(b) as f64 / calls.max(1) as f64;
        Switches {
            voluntary: per_call(after.0, before.0),
            involuntary: per_call(after.1, before.1),
        }
    }
}

/// p50 and p99, in microseconds, of the time from a yield (stamped by the server) to the
/// generator's receipt (the lean client's read returning), over `n` progress events 1 ms
/// apart (one in flight at a time).
pub async fn http_latency(kind: Kind, n: u64) -> (f64, f64) {
    let server = spawn_http(kind).await;
    let mut c = HttpClient::open(server.addr, kind, 0);
    let mut samples = Vec::with_capacity(n as usize);
    c.stream(n, 1, |message, now| {
        wire::stamps(message, |t| samples.push(now.saturating_sub(t)));
    });
    assert_eq!(samples.len() as u64, n, "every progress event arrives");
    percentiles(samples)
}

/// As [`http_latency`], over stdio.
pub async fn stdio_latency(kind: Kind, n: u64) -> (f64, f64) {
    let mut c = StdioClient::open(kind);
    let mut call = wire::call(next_id(), n, 1, true);
    call.push('\n');
    c.send(call.as_bytes());
    let mut samples = Vec::with_capacity(n as usize);
    let mut finished = false;
    while !finished {
        c.lines(|line, now| {
            if wire::contains(line, b"notifications/progress") {
                wire::stamps(line, |t| samples.push(now.saturating_sub(t)));
            } else if wire::is_result(line, n) {
                finished = true;
            } else {
                panic!("unexpected: {}", String::from_utf8_lossy(line));
            }
        });
    }
    assert_eq!(samples.len() as u64, n, "every progress event arrives");
    percentiles(samples)
}

fn percentiles(mut ns: Vec<u64>) -> (f64, f64) {
    // The first tenth is warm-up.
    let mut ns = ns.split_off(ns.len() / 10);
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 - 1.0) * q).round() as usize] as f64 / 1000.0;
    (at(0.50), at(0.99))
}

/// A practically endless progress flood; counting starts at the first event.
const FLOOD_STEPS: u64 = 1_000_000_000;

/// Progress notifications per second reaching the generator over HTTP (one call's SSE
/// stream, read raw), counted for `secs` after the first one arrives.
pub async fn http_flood(kind: Kind, secs: f64) -> Rate {
    let server = spawn_http(kind).await;
    let (_session, mut stream) = raw_call(server.addr, FLOOD_STEPS).await;
    let mut buf = vec![0u8; 256 * 1024];
    let mut counter = Counter::progress();
    let mut read = async || {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "the stream ended");
        counter.feed(&buf[..n])
    };
    while read().await == 0 {}
    let clock = Clock::start(server.pid);
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let mut count = 0;
    while Instant::now() < until {
        count += read().await;
    }
    clock.rate(count)
}

/// As [`http_flood`], over stdio.
pub async fn stdio_flood(kind: Kind, secs: f64) -> Rate {
    let mut s = Stdio::open(kind).await;
    let mut call = wire::call(next_id(), FLOOD_STEPS, 0, true);
    call.push('\n');
    s.send(call.as_bytes()).await;
    let mut counter = Counter::progress();
    while counter.feed(s.chunk().await) == 0 {}
    let clock = Clock::start(s.server.pid);
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let mut count = 0;
    while Instant::now() < until {
        count += counter.feed(s.chunk().await);
    }
    clock.rate(count)
}

/// Memory under load: `clients` HTTP sessions calling the tool with 10 steps (and a progress
/// token) for `secs`. Returns the largest RSS seen (sampled every 100 ms), the RSS one
/// second after the load stopped (connections and sessions still open), both in KiB, and
/// the calls per second.
pub async fn load_rss(kind: Kind, clients: usize, secs: f64) -> (u64, u64, f64) {
    let server = spawn_http(kind).await;
    let mut conns = Vec::new();
    for _ in 0..clients {
        conns.push(Conn::open(server.addr, true).await);
    }
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let tasks = call_until(conns, until, 10, true);
    let mut peak = 0;
    while Instant::now() < until {
        peak = peak.max(rss_kib(server.pid));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut total = 0;
    let mut kept = Vec::new();
    for task in tasks {
        let (done, conn) = task.await.expect("client");
        total += done;
        kept.push(conn);
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    peak = peak.max(rss_kib(server.pid));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(server.pid);
    drop(kept);
    (peak, after, rate)
}

/// RSS of a server with one initialized session (KiB), and the RSS each further idle session
/// with an open GET stream adds (KiB), over `n` sessions.
pub async fn idle_sessions(kind: Kind, n: usize) -> (f64, f64) {
    let server = spawn_http(kind).await;
    let warm = hold_get_stream(server.addr).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(server.pid);
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        held.push(hold_get_stream(server.addr).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(server.pid);
    drop((warm, held));
    (
        before as f64,
        (after.saturating_sub(before)) as f64 / n as f64,
    )
}
