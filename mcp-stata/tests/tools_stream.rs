//! The run tools stream Stata's log as progress while the run goes, under each flush policy
//! of the stand-in, and keep the result bounded however long the log.

mod common;
mod support;

use common::{FLUSH_POLICIES, release};
use mcp_core::protocol::ProgressParams;
use serde_json::json;
use support::*;

/// Under `line` and `block` flushing, lines reach the client while Stata still runs: the
/// do-file waits for a file that the test creates only after its client received the line
/// before the wait. Any buffering between the log and the client deadlocks the test.
/// (80 lines of 62 bytes come before each wait, so a 4 KiB block is full.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_arrive_as_progress_while_the_do_file_runs() {
    for policy in ["line", "block"] {
        let h = harness(&[("STANDIN_FLUSH", policy)]).await;
        let go1 = h.fx.signal("go1");
        let go2 = h.fx.signal("go2");
        let pad = "x".repeat(50);
        let do_file = h.fx.write(
            "project/stream.do",
            &format!(
                "forvalues i = 1/80 {{\n    display \"first `i' \" \"{pad}\"\n}}\n\
                 _standin_wait_file {}\n\
                 forvalues i = 1/80 {{\n    display \"second `i' \" \"{pad}\"\n}}\n\
                 _standin_wait_file {}\n\
                 display \"third\"\n",
                q(&go1),
                q(&go2),
            ),
        );
        let mut call = h
            .call("stata_run_do_file", json!({ "path": do_file }))
            .await;

        let seen = wait_for_line(&mut call, &format!("first 40 {pad}")).await;
        assert!(!go1.exists());
        let last = seen.last().unwrap();
        assert_eq!(last.total, Some(7.0), "{policy}: commands in the do-file");
        // One notification may carry several lines: the one with line 40 may also carry the
        // rest of the loop and the echo of the wait that follows it (the run reaches the
        // wait without the test), and then counts that command too; never one past it.
        let mut waits = waits_echoed(&seen);
        assert_eq!(
            last.progress.floor(),
            2.0 + waits as f64,
            "{policy}: loop header and body ran (waits echoed so far: {waits})"
        );
        assert!(
            progress_lines(&seen)
                .iter()
                .all(|l| !l.starts_with("second")),
            "{policy}"
        );
        release(&go1);

        let seen = wait_for_line(&mut call, &format!("second 40 {pad}")).await;
        assert!(!go2.exists());
        waits += waits_echoed(&seen);
        assert!((1..=2).contains(&waits), "{policy}: {waits} waits echoed");
        assert_eq!(
            seen.last().unwrap().progress.floor(),
            4.0 + waits as f64,
            "{policy}: the second loop ran (waits echoed so far: {waits})"
        );
        release(&go2);

        let done = finish(&mut call).await;
        assert!(!done.result.is_error(), "{policy}: {}", done.text());
        let report = done.structured();
        assert_eq!(report["status"], "success");
        assert_eq!(report["commands_executed"], 7);
        assert_eq!(report["commands_total"], 7);
        assert!(done.lines().contains(&"third".to_owned()));
        assert!(
            done.text()
                .starts_with("Stata finished without error (7 of 7 commands ran).")
        );
    }
}

/// Every line arrives once, whole and in order, under every policy; progress values grow
/// with every notification and never pass the total; all of it before the result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_arrives_once_in_order_with_growing_progress() {
    for policy in FLUSH_POLICIES {
        let h = harness(&[("STANDIN_FLUSH", policy)]).await;
        let code = "forvalues i = 1/300 {\n    display \"row `i' end\"\n}\ndisplay \"done\"\n";
        let mut call = h.call("stata_run_code", json!({ "code": code })).await;
        let mut lines = Vec::new();
        let mut values = Vec::new();
        let mut total = None;
        let done = finish(&mut call).await;
        for p in &done.progress {
            values.push(p.progress);
            total = p.total;
            lines.extend(progress_lines(std::slice::from_ref(p)));
        }
        let rows: Vec<&String> = lines.iter().filter(|l| l.starts_with("row ")).collect();
        let expected: Vec<String> = (1..=300).map(|i| format!("row {i} end")).collect();
        assert_eq!(rows, expected.iter().collect::<Vec<_>>(), "{policy}");
        assert!(
            values.windows(2).all(|w| w[0] < w[1]),
            "{policy}: {values:?}"
        );
        assert_eq!(total, Some(3.0));
        assert!(values.iter().all(|&v| v < 4.0), "{policy}");
        assert_eq!(done.structured()["status"], "success");
    }
}

/// With the log flushed only at exit nothing can arrive while Stata runs: what is honest to
/// require is that every line still reaches the client as progress, in order, before the
/// result (and the run is not mistaken for a failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_flushing_delivers_every_line_as_progress_before_the_result() {
    let h = harness(&[("STANDIN_FLUSH", "exit")]).await;
    let go = h.fx.signal("go");
    let code = format!(
        "display \"before\"\n_standin_wait_file {}\ndisplay \"after\"\n",
        q(&go)
    );
    let mut call = h.call("stata_run_code", json!({ "code": code })).await;
    // The run waits on `go`; its log is still empty. Let it finish.
    release(&go);
    let done = finish(&mut call).await;
    let lines = done.lines();
    let before = lines.iter().position(|l| l == "before").expect("before");
    let after = lines.iter().position(|l| l == "after").expect("after");
    assert!(before < after);
    assert!(!done.progress.is_empty());
    assert_eq!(done.progress.last().unwrap().progress.floor(), 3.0);
    assert_eq!(done.structured()["status"], "success");
}

/// 50,000 log lines: all of them stream, the result keeps only the tail (and the full log's
/// path), so its size does not grow with the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifty_thousand_line_log_gives_a_bounded_result() {
    let h = harness(&[]).await;
    let code = "forvalues i = 1/50000 {\n    display \"row `i'\"\n}\n";
    let done = h.run("stata_run_code", json!({ "code": code })).await;
    let rows = done
        .lines()
        .iter()
        .filter(|l| l.starts_with("row "))
        .count();
    assert_eq!(rows, 50_000, "every line streamed");

    let report = done.structured();
    let tail = report["log_tail"].as_array().unwrap();
    assert_eq!(tail.len(), 200, "the configured tail");
    assert!(tail.iter().any(|l| l == "row 50000"));
    assert!(!tail.iter().any(|l| l == "row 1"));
    let text = done.text();
    assert!(
        text.len() < 16 * 1024,
        "result text is {} bytes",
        text.len()
    );
    assert!(text.contains("row 50000"));

    let log_path = report["log_path"].as_str().unwrap();
    assert!(text.contains(log_path));
    let log = std::fs::read_to_string(log_path).unwrap();
    assert_eq!(
        log.lines().filter(|l| l.starts_with("row ")).count(),
        50_000
    );
}

/// How many echoes of `_standin_wait_file` the progress lines carry.
fn waits_echoed(seen: &[ProgressParams]) -> usize {
    progress_lines(seen)
        .iter()
        .filter(|l| l.starts_with(". _standin_wait_file"))
        .count()
}
