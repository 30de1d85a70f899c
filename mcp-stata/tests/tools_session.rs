//! Named persistent sessions through the tools: data stays between calls, sessions are
//! independent, errors and breaks keep the session, closing ends Stata.

mod common;
mod support;

use common::release;
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_stays_between_calls_and_sessions_are_independent() {
    let h = harness(&[]).await;
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "set obs 7", "session": "a" }),
        )
        .await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert_eq!(done.structured()["session"], "a");
    assert!(done.text().contains("Session: a (the code ran from "));

    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display _N", "session": "a" }),
        )
        .await;
    assert!(done.lines().contains(&"7".to_owned()), "{:?}", done.lines());

    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display _N", "session": "b" }),
        )
        .await;
    assert!(done.lines().contains(&"0".to_owned()), "b has its own data");

    let done = h
        .run("stata_run_code", json!({ "code": "display _N" }))
        .await;
    assert!(
        done.lines().contains(&"0".to_owned()),
        "a batch run has none"
    );

    // An error stops the code, not the session.
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "gen y = nothing + 1\ndisplay \"after\"", "session": "a" }),
        )
        .await;
    assert_eq!(done.structured()["rc"], 111);
    assert!(!done.lines().contains(&"after".to_owned()));
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display _N * 2", "session": "a" }),
        )
        .await;
    assert!(done.lines().contains(&"14".to_owned()));

    let listed = h.run("stata_list_sessions", json!({})).await;
    let sessions = listed.structured()["sessions"].as_array().unwrap().clone();
    let names: Vec<&str> = sessions
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(sessions[0]["calls"], 4);
    assert_eq!(sessions[0]["busy"], false);
    let pid_a = sessions[0]["pid"].as_u64().unwrap() as u32;
    assert_ne!(sessions[0]["pid"], sessions[1]["pid"]);
    assert!(is_live(pid_a));

    let closed = h
        .run("stata_close_session", json!({ "session": "a" }))
        .await;
    assert!(!closed.result.is_error(), "{}", closed.text());
    assert_eq!(
        closed.text(),
        "Closed session a (Stata exited with code 0)."
    );
    assert_gone(&[pid_a]).await;

    let again = h
        .run("stata_close_session", json!({ "session": "a" }))
        .await;
    assert!(again.result.is_error());
    assert!(
        again
            .text()
            .contains("no open Stata session named \"a\" (open: b)"),
        "{}",
        again.text()
    );

    // The name can be used again: a fresh Stata.
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display _N", "session": "a" }),
        )
        .await;
    assert!(done.lines().contains(&"0".to_owned()));

    assert_eq!(h.stata_pids().len(), 2);
    let pids = h.all_pids();
    h.tools.close_all_sessions().await;
    assert_gone(&pids).await;
    let listed = h.run("stata_list_sessions", json!({})).await;
    assert_eq!(listed.structured()["sessions"], json!([]));
}

/// A session's output streams too: the code waits until the client saw the line before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_output_streams_in_lockstep() {
    for echo in ["1", "0"] {
        let h = harness(&[("STANDIN_ECHO", echo)]).await;
        let go = h.fx.signal("go");
        let code = format!(
            "display \"before\"\n_standin_wait_file {}\ndisplay \"after\"",
            q(&go)
        );
        let mut call = h
            .call("stata_run_code", json!({ "code": code, "session": "main" }))
            .await;
        let seen = wait_for_line(&mut call, "before").await;
        assert!(!go.exists());
        assert_eq!(seen.last().unwrap().total, Some(3.0));
        // `display` ran; the wait may have been echoed with it.
        let executed = seen.last().unwrap().progress.floor();
        assert!((1.0..=2.0).contains(&executed), "{executed}");
        release(&go);
        let done = finish(&mut call).await;
        assert!(!done.result.is_error(), "{}", done.text());
        assert!(done.lines().contains(&"after".to_owned()));
        assert!(!done.lines().iter().any(|l| l.contains("__MCP_DONE")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_limit_is_kept() {
    let h = harness_with(&[], |c| c.max_sessions(1)).await;
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display 1", "session": "one" }),
        )
        .await;
    assert!(!done.result.is_error());
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display 1", "session": "two" }),
        )
        .await;
    assert!(done.result.is_error());
    assert!(
        done.text()
            .starts_with("cannot start the session \"two\": 1 sessions are open")
    );
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display 1", "session": "bad name" }),
        )
        .await;
    assert!(done.text().starts_with("invalid `session`"));
}

/// `stata_break` stops the running command with --Break-- and r(1); the data stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_break_stops_the_command_and_keeps_the_session() {
    let h = harness(&[]).await;
    h.run(
        "stata_run_code",
        json!({ "code": "set obs 3", "session": "s" }),
    )
    .await;
    let idle = h.run("stata_break", json!({ "session": "s" })).await;
    assert_eq!(idle.text(), "Session s is idle: nothing to break.");

    let never = h.fx.signal("never");
    let code = format!(
        "display \"waiting\"\n_standin_wait_file {}\ndisplay \"no\"",
        q(&never)
    );
    let mut call = h
        .call("stata_run_code", json!({ "code": code, "session": "s" }))
        .await;
    wait_for_line(&mut call, "waiting").await;
    let sent = h.run("stata_break", json!({ "session": "s" })).await;
    assert!(
        sent.text().starts_with("Sent a break to session s"),
        "{}",
        sent.text()
    );
    let done = finish(&mut call).await;
    assert!(done.result.is_error());
    assert_eq!(done.structured()["rc"], 1);
    assert!(
        done.lines().contains(&"--Break--".to_owned()),
        "{:?}",
        done.lines()
    );
    assert!(!done.lines().contains(&"no".to_owned()));
    assert!(
        done.text()
            .starts_with("Stata stopped with r(1): the command was broken off")
    );
    assert!(done.text().contains("The session and its data are kept."));

    let after = h
        .run(
            "stata_run_code",
            json!({ "code": "display _N", "session": "s" }),
        )
        .await;
    assert!(after.lines().contains(&"3".to_owned()));
}

/// A session whose Stata fails to start (a licence problem) reports Stata's own words and
/// does not hold a place among the open sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_fails_to_start_leaves_no_trace() {
    let h = harness_with(&[("STANDIN_LICENSE_FAIL", "1")], |c| c.max_sessions(1)).await;
    for name in ["a", "b"] {
        let done = h
            .run(
                "stata_run_code",
                json!({ "code": "display 1", "session": name }),
            )
            .await;
        assert!(done.result.is_error());
        let text = done.text();
        assert!(text.starts_with("Stata failed to start"), "{name}: {text}");
        assert!(text.contains("Cannot find license file"), "{text}");
    }
    let listed = h.run("stata_list_sessions", json!({})).await;
    assert_eq!(listed.structured()["sessions"], json!([]));
    let batch = h
        .run("stata_run_code", json!({ "code": "display 1" }))
        .await;
    assert!(
        batch
            .text()
            .starts_with("Stata failed to start (exit code 1): Cannot find license file"),
        "{}",
        batch.text()
    );
}
