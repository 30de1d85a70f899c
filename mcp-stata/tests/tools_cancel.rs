//! Cancellation (`notifications/cancelled`, or dropping the call) and timeouts: a batch run's
//! whole process group is killed, the stand-in's "orphan engine" included, and no process is
//! left; in a session they break the command and keep the session.

mod common;
mod support;

use serde_json::json;
use support::*;

/// Code that prints a line, then waits for a file nobody creates.
fn stuck_code(h: &Harness) -> String {
    format!(
        "display \"started\"\n_standin_wait_file {}\ndisplay \"never\"",
        q(&h.fx.signal("never"))
    )
}

const ORPHAN: [&[(&str, &str)]; 2] = [&[], &[("STANDIN_ORPHAN_ENGINE", "1")]];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_batch_run_kills_its_process_group() {
    for env in ORPHAN {
        let h = harness(env).await;
        let mut call = h
            .call("stata_run_code", json!({ "code": stuck_code(&h) }))
            .await;
        wait_for_line(&mut call, "started").await;
        assert_eq!(
            h.stata_pids().len(),
            if env.is_empty() { 1 } else { 2 },
            "{env:?}"
        );
        let pids = h.all_pids();
        call.cancel("the user pressed stop").await.unwrap();
        assert_gone(&pids).await;
        assert!(h.all_pids().is_empty());
        // The server goes on serving.
        let done = h
            .run("stata_run_code", json!({ "code": "display 2" }))
            .await;
        assert!(done.lines().contains(&"2".to_owned()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_call_cancels_it_too() {
    let h = harness(ORPHAN[1]).await;
    let do_file = h.fx.write("stuck.do", &stuck_code(&h));
    let mut call = h
        .call("stata_run_do_file", json!({ "path": do_file }))
        .await;
    wait_for_line(&mut call, "started").await;
    assert_eq!(h.stata_pids().len(), 2);
    let pids = h.all_pids();
    drop(call);
    assert_gone(&pids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_stops_the_run_and_says_so() {
    for env in ORPHAN {
        let h = harness(env).await;
        let mut call = h
            .call(
                "stata_run_code",
                json!({ "code": stuck_code(&h), "timeout_seconds": 0.5 }),
            )
            .await;
        wait_for_line(&mut call, "started").await;
        let pids = h.all_pids();
        assert!(!h.stata_pids().is_empty());
        let done = finish(&mut call).await;
        assert!(done.result.is_error());
        assert_eq!(done.structured()["status"], "timed_out");
        assert!(
            done.text().starts_with(
                "The run ran past its timeout of 0.5 s and Stata was stopped (its whole process group killed)"
            ),
            "{}",
            done.text()
        );
        assert!(
            done.text().contains("started"),
            "the log so far is in the result"
        );
        assert!(h.all_pids().is_empty(), "gone before the result is sent");
        assert_gone(&pids).await;
    }
}

/// The server's default timeout applies when the call sets none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_timeout_is_the_default() {
    let h = harness_with(&[], |c| c.timeout(std::time::Duration::from_millis(300))).await;
    let do_file = h.fx.write("stuck.do", &stuck_code(&h));
    let done = h.run("stata_run_do_file", json!({ "path": do_file })).await;
    assert_eq!(done.structured()["status"], "timed_out");
    assert!(h.all_pids().is_empty(), "gone before the result is sent");
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display 1", "timeout_seconds": -1 }),
        )
        .await;
    assert!(done.text().starts_with("invalid `timeout_seconds`"));
}

/// In a session, cancelling or timing out breaks the command (--Break--, r(1)) and the
/// session keeps its Stata and its data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_session_cancel_and_timeout_break_the_command_only() {
    for env in ORPHAN {
        let h = harness(env).await;
        h.run(
            "stata_run_code",
            json!({ "code": "set obs 4", "session": "s" }),
        )
        .await;
        let before = h.all_pids();

        let mut call = h
            .call(
                "stata_run_code",
                json!({ "code": stuck_code(&h), "session": "s" }),
            )
            .await;
        wait_for_line(&mut call, "started").await;
        call.cancel("stop").await.unwrap();

        let done = h
            .run(
                "stata_run_code",
                json!({ "code": "display _N", "session": "s" }),
            )
            .await;
        assert!(
            done.lines().contains(&"4".to_owned()),
            "{env:?}: {:?}",
            done.lines()
        );

        let mut call = h
            .call(
                "stata_run_code",
                json!({ "code": stuck_code(&h), "session": "s", "timeout_seconds": 0.3 }),
            )
            .await;
        wait_for_line(&mut call, "started").await;
        let done = finish(&mut call).await;
        assert_eq!(done.structured()["status"], "timed_out");
        assert!(
            done.lines().contains(&"--Break--".to_owned()),
            "{:?}",
            done.lines()
        );
        assert!(done.text().contains("the session and its data are kept"));

        let done = h
            .run(
                "stata_run_code",
                json!({ "code": "display _N + 1", "session": "s" }),
            )
            .await;
        assert!(done.lines().contains(&"5".to_owned()));
        assert_eq!(h.all_pids(), before, "the same Stata processes");

        h.tools.close_all_sessions().await;
        assert_gone(&before).await;
    }
}
