//! The load generator: starts each server as a release binary in a process of its own,
//! drives it over real sockets and pipes, and prints Markdown tables with ratios.
//!
//! Run with `bash mcp-transport/sidebyside/run.sh [options]`; `loadgen --help` lists the
//! options ([`options`]): `--repeats N` (3), `--secs S` per throughput or flood cell (2),
//! `--load-secs S` for the memory-under-load figure (20), `--sessions N` idle sessions (1000),
//! `--events N` latency samples (2000), `--only a,b` sections among
//! `http,stdio,latency,flood,rss,idle`, and for the HTTP calls/s cells `--http-clients 4,16`
//! (1,4,16) and `--http-servers ours,bare` (all four).
//!
//! The HTTP throughput section also calls our server the 2026-07-28 way (stateless requests,
//! no session: the `ours stateless` column), beside the stateful calls; rmcp has no such path.
//!
//! The cells whose figure is a round trip (`http`, `stdio`, `latency`) are driven by lean
//! clients ([`lean`]): one OS thread per client on a blocking socket or pipe, requests
//! encoded once, answers read by a minimal HTTP/1.1 reader, so that the generator's share of
//! a round trip is small; the generator's CPU per operation is reported beside the server's,
//! and the median round trip of a call at 1 client. The other cells (flood, memory, idle
//! sessions) use a hyper client and tokio.
//!
//! Every cell starts a fresh server. Within a repeat the servers of a cell run back to back
//! (rotating which goes first), so each ratio compares runs seconds apart.

mod http;
mod http1;
mod lean;
mod measure;
mod options;
mod procs;
mod reply;
mod report;
mod sse;
mod stdio;
mod template;
mod usage;
mod wire;

use clap::Parser;
use options::Options;
use procs::Kind;
use report::Report;

/// `kinds` rotated by `r`, so that no server always runs first.
fn rotated(kinds: &[Kind], r: usize) -> Vec<Kind> {
    let mut v = kinds.to_vec();
    v.rotate_left(r % kinds.len());
    v
}

#[tokio::main]
async fn main() {
    let o = Options::parse();
    let wanted = |s: &str| o.only.is_empty() || o.only.iter().any(|x| x == s);
    let mut report = Report::default();
    report.note(format!(
        "load average at start: {} (nproc {})",
        procs::loadavg(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    const HTTP: [Kind; 4] = [Kind::Ours, Kind::OursStateless, Kind::Rmcp, Kind::Bare];
    // `--http-servers` names them in the same order as `HTTP`.
    let http: Vec<Kind> = HTTP
        .iter()
        .zip(options::HTTP_SERVERS)
        .filter(|(_, name)| o.http_servers.is_empty() || o.http_servers.iter().any(|s| s == name))
        .map(|(kind, _)| *kind)
        .collect();
    const STDIO: [Kind; 3] = [Kind::Ours, Kind::Rmcp, Kind::RmcpPipes];
    const MCP_HTTP: [Kind; 2] = [Kind::Ours, Kind::Rmcp];
    for r in 0..o.repeats {
        eprintln!(
            "repeat {} of {} (load {})",
            r + 1,
            o.repeats,
            procs::loadavg()
        );
        report.note(format!(
            "repeat {}: load average {}",
            r + 1,
            procs::loadavg()
        ));
        if wanted("http") {
            for &clients in &o.http_clients {
                let figure = format!("tools/call HTTP, {clients} client(s), calls/s");
                for kind in rotated(&http, r) {
                    let (rate, round_trip, switches, client) =
                        measure::http_calls(kind, clients, o.secs).await;
                    report.rate(&figure, kind, r, rate);
                    report.switches(&figure, kind, r, switches);
                    report.client(&figure, kind, r, client);
                    if clients == 1 {
                        report.value(
                            "tools/call HTTP, 1 client, round trip p50, µs",
                            kind,
                            r,
                            round_trip,
                        );
                    }
                }
            }
        }
        if wanted("stdio") {
            for clients in [1, 4] {
                let figure = format!("tools/call stdio, {clients} client(s), calls/s");
                for kind in rotated(&STDIO, r) {
                    let (rate, round_trip, switches) =
                        measure::stdio_calls(kind, clients, o.secs).await;
                    report.rate(&figure, kind, r, rate);
                    report.switches(&figure, kind, r, switches);
                    if clients == 1 {
                        report.value(
                            "tools/call stdio, 1 client, round trip p50, µs",
                            kind,
                            r,
                            round_trip,
                        );
                    }
                }
            }
        }
        if wanted("latency") {
            for kind in rotated(&MCP_HTTP, r) {
                let (p50, p99) = measure::http_latency(kind, o.events).await;
                report.value("yield -> receipt p50, HTTP, µs", kind, r, p50);
                report.value("yield -> receipt p99, HTTP, µs", kind, r, p99);
            }
            for kind in rotated(&STDIO, r) {
                let (p50, p99) = measure::stdio_latency(kind, o.events).await;
                report.value("yield -> receipt p50, stdio, µs", kind, r, p50);
                report.value("yield -> receipt p99, stdio, µs", kind, r, p99);
            }
        }
        if wanted("flood") {
            for kind in rotated(&STDIO, r) {
                let rate = measure::stdio_flood(kind, o.secs).await;
                report.rate("progress flood, stdio, notifications/s", kind, r, rate);
            }
            for kind in rotated(&MCP_HTTP, r) {
                let rate = measure::http_flood(kind, o.secs).await;
                report.rate("progress flood, HTTP, notifications/s", kind, r, rate);
            }
        }
        if wanted("rss") {
            for kind in rotated(&MCP_HTTP, r) {
                let (peak, after, rate) = measure::load_rss(kind, 16, o.load_secs).await;
                report.value(
                    "RSS during 10-step calls at 16 clients (peak), MB",
                    kind,
                    r,
                    peak as f64 / 1024.0,
                );
                report.value(
                    "RSS 1 s after that load, MB",
                    kind,
                    r,
                    after as f64 / 1024.0,
                );
                report.value("10-step calls/s during that load", kind, r, rate);
            }
        }
        if wanted("idle") {
            for kind in rotated(&MCP_HTTP, r) {
                let (idle, per) = measure::idle_sessions(kind, o.sessions).await;
                report.value("RSS with one session, KiB", kind, r, idle);
                report.value("per idle session with a GET stream, KiB", kind, r, per);
            }
        }
    }
    report.note(format!("load average at end: {}", procs::loadavg()));
    report.print(o.repeats);
}
