//! Console sessions against the stand-in, under each echo, paging and flush switch.

mod common;

use std::time::Duration;

use common::*;
use mcp_stata::quote::quote;
use mcp_stata::{ConsoleSession, RunError, RunStatus, SessionError, SessionOptions, StataError};

fn q(path: &std::path::Path) -> String {
    quote(path.to_str().unwrap()).unwrap()
}

/// The switch combinations a console may show: echo on or off, `--more--` paging on or off,
/// output flushed per line or in blocks.
const CONSOLES: [[(&str, &str); 3]; 4] = [
    [
        ("STANDIN_ECHO", "1"),
        ("STANDIN_MORE", "0"),
        ("STANDIN_FLUSH", "line"),
    ],
    [
        ("STANDIN_ECHO", "0"),
        ("STANDIN_MORE", "0"),
        ("STANDIN_FLUSH", "line"),
    ],
    [
        ("STANDIN_ECHO", "1"),
        ("STANDIN_MORE", "1"),
        ("STANDIN_FLUSH", "block"),
    ],
    [
        ("STANDIN_ECHO", "0"),
        ("STANDIN_MORE", "1"),
        ("STANDIN_FLUSH", "block"),
    ],
];

async fn start(fx: &Fixture) -> ConsoleSession {
    let options = SessionOptions {
        working_dir: Some(fx.dir("work")),
        ..SessionOptions::default()
    };
    ConsoleSession::start(&fx.config, options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_persists_errors_do_not_end_the_session() {
    for env in CONSOLES {
        let fx = Fixture::new(&env);
        let session = start(&fx).await;
        let pgid = session.pid().unwrap();

        let mut run = session.run("set obs 7\ndisplay _N", None).await.unwrap();
        let done = collect(&mut run, |_| {}).await;
        assert_eq!(done.outcome().status, RunStatus::Success, "{env:?}");
        assert_eq!((done.outcome().executed, done.outcome().total), (2, 2));
        assert!(done.texts().contains(&"7"), "{env:?}: {:?}", done.texts());

        let mut run = session
            .run("gen y = nothing + 1\ndisplay \"after\"", None)
            .await
            .unwrap();
        let done = collect(&mut run, |_| {}).await;
        assert_eq!(
            done.outcome().status,
            RunStatus::StataError(StataError {
                code: 111,
                message: "nothing not found".into()
            }),
            "{env:?}"
        );
        assert!(!done.texts().contains(&"after"));

        // More than a page of output: paging would wait for a key if it were on.
        let code = "forvalues i = 1/30 {\n    display \"n`i'\"\n}\ndisplay _N * 2";
        let mut run = session.run(code, None).await.unwrap();
        let done = collect(&mut run, |_| {}).await;
        assert_eq!(done.outcome().status, RunStatus::Success, "{env:?}");
        assert!(done.texts().contains(&"n30"));
        assert!(done.texts().contains(&"14"), "the data is still there");
        assert!(!done.texts().iter().any(|t| t.contains("__MCP_DONE")));

        session.close().await.unwrap();
        assert!(live_in_group(pgid).is_empty(), "{env:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_are_independent() {
    let fx = Fixture::new(&[]);
    let a = start(&fx).await;
    let b = start(&fx).await;
    assert_ne!(a.pid(), b.pid());
    let done = collect(&mut a.run("set obs 3", None).await.unwrap(), |_| {}).await;
    assert_eq!(done.outcome().status, RunStatus::Success);
    let done = collect(&mut b.run("display _N", None).await.unwrap(), |_| {}).await;
    assert!(done.texts().contains(&"0"), "{:?}", done.texts());
    let done = collect(&mut a.run("display _N", None).await.unwrap(), |_| {}).await;
    assert!(done.texts().contains(&"3"));
    a.close().await.unwrap();
    let done = collect(
        &mut b.run("display \"b lives\"", None).await.unwrap(),
        |_| {},
    )
    .await;
    assert!(done.texts().contains(&"b lives"));
}

/// Lines of a session command stream as they are printed (line flushing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_lines_stream_in_lockstep() {
    for echo in ["1", "0"] {
        let fx = Fixture::new(&[("STANDIN_ECHO", echo)]);
        let session = start(&fx).await;
        let go = fx.signal("go");
        let code = format!(
            "display \"before\"\n_standin_wait_file {}\ndisplay \"after\"",
            q(&go)
        );
        let mut run = session.run(&code, None).await.unwrap();
        let seen = wait_for_line(&mut run, "before").await;
        assert_eq!(seen.last().unwrap().executed, 1);
        assert!(!go.exists());
        release(&go);
        let done = collect(&mut run, |_| {}).await;
        assert!(done.texts().contains(&"after"), "echo={echo}");
        assert_eq!(done.outcome().status, RunStatus::Success);
    }
}

/// A break stops the running command with r(1) and keeps the session and its data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_keeps_the_session() {
    for env in [
        [("STANDIN_ECHO", "1"), ("STANDIN_ORPHAN_ENGINE", "0")],
        [("STANDIN_ECHO", "0"), ("STANDIN_ORPHAN_ENGINE", "1")],
    ] {
        let fx = Fixture::new(&env);
        let session = start(&fx).await;
        collect(&mut session.run("set obs 42", None).await.unwrap(), |_| {}).await;
        let code = format!(
            "display \"waiting\"\n_standin_wait_file {}\ndisplay \"not reached\"",
            q(&fx.signal("never"))
        );
        let mut run = session.run(&code, None).await.unwrap();
        wait_for_line(&mut run, "waiting").await;
        session.interrupt();
        let done = collect(&mut run, |_| {}).await;
        assert_eq!(
            done.outcome().status,
            RunStatus::StataError(StataError {
                code: 1,
                message: "--Break--".into()
            }),
            "{env:?}"
        );
        assert!(!done.texts().contains(&"not reached"));
        let done = collect(&mut session.run("display _N", None).await.unwrap(), |_| {}).await;
        assert!(done.texts().contains(&"42"), "{env:?}: {:?}", done.texts());
        let pgid = session.pid().unwrap();
        session.close().await.unwrap();
        assert!(live_in_group(pgid).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_timeout_and_drop_break_the_command_only() {
    let fx = Fixture::new(&[]);
    let session = start(&fx).await;
    let hang = format!(
        "display \"waiting\"\n_standin_wait_file {}",
        q(&fx.signal("never"))
    );

    let mut run = session.run(&hang, None).await.unwrap();
    wait_for_line(&mut run, "waiting").await;
    run.cancel();
    let done = collect(&mut run, |_| {}).await;
    assert_eq!(done.outcome().status, RunStatus::Cancelled);

    let mut run = session
        .run("sleep 600000", Some(Duration::from_millis(300)))
        .await
        .unwrap();
    let done = collect(&mut run, |_| {}).await;
    assert_eq!(done.outcome().status, RunStatus::TimedOut);

    let mut run = session.run(&hang, None).await.unwrap();
    wait_for_line(&mut run, "waiting").await;
    drop(run);

    let done = collect(
        &mut session.run("display \"alive\"", None).await.unwrap(),
        |_| {},
    )
    .await;
    assert!(done.texts().contains(&"alive"));
    assert_eq!(done.outcome().status, RunStatus::Success);
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_session_ends_stata() {
    let fx = Fixture::new(&[("STANDIN_ORPHAN_ENGINE", "1")]);
    let session = start(&fx).await;
    let pgid = session.pid().unwrap();
    collect(&mut session.run("set obs 1", None).await.unwrap(), |_| {}).await;
    assert_eq!(stata_in_group(pgid).len(), 2);
    drop(session);
    assert_group_gone(pgid).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_graphs_and_cd_between_commands() {
    let fx = Fixture::new(&[]);
    let session = start(&fx).await;
    let out = fx.dir("plots here");
    collect(
        &mut session.run(&format!("cd {}", q(&out)), None).await.unwrap(),
        |_| {},
    )
    .await;
    let done = collect(
        &mut session
            .run("graph export \"p 1.png\", replace", None)
            .await
            .unwrap(),
        |_| {},
    )
    .await;
    let graphs = &done.outcome().graphs;
    assert_eq!(graphs.len(), 1);
    assert_eq!(graphs[0].path, out.join("p 1.png"));
    assert_eq!(graphs[0].bytes[1..4], *b"PNG");
    session.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_startup_failure_and_after_close() {
    let fx = Fixture::new(&[("STANDIN_LICENSE_FAIL", "1")]);
    let err = ConsoleSession::start(&fx.config, SessionOptions::default())
        .await
        .unwrap_err();
    match err {
        SessionError::Startup { stderr, .. } => assert!(stderr.contains("licen"), "{stderr}"),
        other => panic!("expected a start-up error, got {other}"),
    }

    // A session whose Stata dies reports it on the next command.
    let fx = Fixture::new(&[]);
    let session = start(&fx).await;
    let mut run = session.run("exit, clear STATA", None).await.unwrap();
    let done = collect(&mut run, |_| {}).await;
    assert!(
        matches!(done.result, Err(RunError::SessionEnded(_))),
        "{:?}",
        done.result
    );
    let mut run = session.run("display 1", None).await.unwrap();
    let done = collect(&mut run, |_| {}).await;
    assert!(matches!(done.result, Err(RunError::SessionEnded(_))));
}
