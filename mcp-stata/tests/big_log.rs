//! A 50,000-line log streams through in bounded memory. Alone in its test binary, so the
//! process's peak resident size belongs to this run only.

mod common;

use common::*;
use mcp_stata::{BatchOptions, BatchRun, RunEvent, RunStatus};

/// The peak resident set size of this process, in KiB (`VmHWM` in /proc/self/status).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_lines_in_bounded_memory() {
    const LINES: usize = 50_000;
    let fx = Fixture::new(&[("STANDIN_FLUSH", "block")]);
    let pad = "x".repeat(240);
    let do_file = fx.write(
        "big.do",
        &format!("set linesize 255\nforvalues i = 1/{LINES} {{\n    display \"{pad} `i'\"\n}}\n"),
    );
    let before = peak_rss_kib();
    let mut run = BatchRun::start(&fx.config, &do_file, BatchOptions::default())
        .await
        .unwrap();
    let mut rows = 0usize;
    let mut last_row = String::new();
    let outcome = loop {
        let event = tokio::time::timeout(PATIENCE * 4, run.next_event())
            .await
            .expect("the run stalled")
            .expect("no outcome");
        match event {
            RunEvent::Line(line) => {
                if line.text.starts_with(&pad) {
                    rows += 1;
                    last_row = line.text;
                }
            }
            RunEvent::Finished(result) => break result.unwrap(),
            RunEvent::Status(_) => {}
        }
    };
    let grown_kib = peak_rss_kib().saturating_sub(before);
    assert_eq!(outcome.status, RunStatus::Success);
    assert_eq!(rows, LINES);
    assert_eq!(last_row, format!("{pad} {LINES}"));
    let log_bytes = std::fs::metadata(&outcome.log_path).unwrap().len();
    assert!(log_bytes > 12_000_000, "the log is big: {log_bytes} bytes");
    assert!(outcome.log_tail.len() <= fx.config.tail_lines);
    assert_eq!(
        outcome.log_tail.last().map(String::as_str),
        Some("end of do-file")
    );
    // The whole log is about 12 MB; holding it would grow the process by at least that much.
    assert!(
        grown_kib < 6 * 1024,
        "peak memory grew by {grown_kib} KiB while streaming a {log_bytes}-byte log"
    );
}
