//! Batch runs against the stand-in, under every flush policy.

mod common;

use std::time::Duration;

use common::*;
use mcp_stata::quote::quote;
use mcp_stata::{BatchOptions, BatchRun, RunError, RunStatus, StataError};

fn q(path: &std::path::Path) -> String {
    quote(path.to_str().unwrap()).unwrap()
}

/// Lines arrive while the run is going: the do-file waits for a file that the test creates only
/// after its client received the line before the wait. Under `line` every line is released at
/// once; under `block` the first 4 KiB block must arrive before the wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_stream_while_the_run_waits() {
    for policy in ["line", "block"] {
        let fx = Fixture::new(&[("STANDIN_FLUSH", policy)]);
        let go1 = fx.signal("go1");
        let go2 = fx.signal("go2");
        // 80 lines of 62 bytes (about 5 KiB) before each wait, so a 4 KiB block is full.
        let do_file = fx.write(
            "stream.do",
            &format!(
                "forvalues i = 1/80 {{\n    display \"first `i' \" \"{pad}\"\n}}\n\
                 _standin_wait_file {}\n\
                 forvalues i = 1/80 {{\n    display \"second `i' \" \"{pad}\"\n}}\n\
                 _standin_wait_file {}\n\
                 display \"third\"\n",
                q(&go1),
                q(&go2),
                pad = "x".repeat(50)
            ),
        );
        let mut run = BatchRun::start(&fx.config, &do_file, BatchOptions::default())
            .await
            .unwrap();
        assert_eq!(
            run.total(),
            7,
            "2 loop headers, 2 bodies, 2 waits, 1 display"
        );
        let pad = "x".repeat(50);
        let seen = wait_for_line(&mut run, &format!("first 40 {pad}")).await;
        assert!(!go1.exists());
        assert!(seen.iter().all(|l| !l.text.starts_with("second")));
        let last = seen.last().unwrap();
        assert_eq!((last.executed, last.total), (2, 7), "{policy}");
        release(&go1);
        wait_for_line(&mut run, &format!("second 40 {pad}")).await;
        release(&go2);
        let done = collect(&mut run, |_| {}).await;
        let outcome = done.outcome();
        assert_eq!(outcome.status, RunStatus::Success, "{policy}");
        assert_eq!((outcome.executed, outcome.total), (7, 7));
        assert_eq!(outcome.exit.unwrap().code, 0);
        assert!(done.texts().contains(&"third"));
    }
}

/// Every policy: all lines arrive exactly once and whole (a 4 KiB block cuts lines in two; the
/// partial line is held back until its newline arrives).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_arrives_once_and_whole() {
    for policy in FLUSH_POLICIES {
        let fx = Fixture::new(&[("STANDIN_FLUSH", policy)]);
        let do_file = fx.write(
            "many.do",
            "forvalues i = 1/500 {\n    display \"row `i' end\"\n}\ndisplay \"done\"\n",
        );
        let mut run = BatchRun::start(&fx.config, &do_file, BatchOptions::default())
            .await
            .unwrap();
        let done = collect(&mut run, |_| {}).await;
        let rows: Vec<&str> = done
            .texts()
            .into_iter()
            .filter(|t| t.starts_with("row"))
            .collect();
        let expected: Vec<String> = (1..=500).map(|i| format!("row {i} end")).collect();
        assert_eq!(rows, expected, "{policy}");
        assert_eq!(done.outcome().status, RunStatus::Success);
        let progress: Vec<usize> = done.lines.iter().map(|l| l.executed).collect();
        assert!(
            progress.windows(2).all(|w| w[0] <= w[1]),
            "progress never goes back"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stata_error_code_and_message() {
    for policy in FLUSH_POLICIES {
        let fx = Fixture::new(&[("STANDIN_FLUSH", policy)]);
        let do_file = fx.write(
            "fail.do",
            "* comment\nset obs 100\ngen y = bad_var + 1\ndisplay \"never\"\n",
        );
        let mut run = BatchRun::start(&fx.config, &do_file, BatchOptions::default())
            .await
            .unwrap();
        let done = collect(&mut run, |_| {}).await;
        let outcome = done.outcome();
        assert_eq!(
            outcome.status,
            RunStatus::StataError(StataError {
                code: 111,
                message: "bad_var not found".into()
            }),
            "{policy}"
        );
        assert_eq!(
            outcome.exit.unwrap().code,
            0,
            "Stata exits with 0 even on error"
        );
        assert_eq!((outcome.executed, outcome.total), (2, 3));
        assert!(!done.texts().contains(&"never"));
        assert!(outcome.log_tail.iter().any(|l| l == "r(111);"));
        assert!(outcome.log_path.exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_do_files_unwind_to_the_inner_error() {
    let fx = Fixture::new(&[]);
    fx.write("project/sub dir/inner.do", "display \"inner\"\nerror 198\n");
    let main = fx.write(
        "project/main.do",
        "display \"outer\"\ndo \"sub dir/inner.do\"\ndisplay \"not reached\"\n",
    );
    let mut run = BatchRun::start(&fx.config, &main, BatchOptions::default())
        .await
        .unwrap();
    let done = collect(&mut run, |_| {}).await;
    let outcome = done.outcome();
    assert_eq!(
        outcome.status,
        RunStatus::StataError(StataError {
            code: 198,
            message: "invalid syntax".into()
        })
    );
    assert_eq!(
        outcome.executed, 2,
        "display and do: the inner file's commands are not counted"
    );
    let texts = done.texts();
    assert!(texts.contains(&"inner"));
    assert!(!texts.contains(&"not reached"));
    assert_eq!(texts.iter().filter(|t| **t == "end of do-file").count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_with_spaces_quotes_and_dollars_and_graphs() {
    let fx = Fixture::new(&[]);
    let do_file = fx.write(
        "my \"quoted\" $dir/it's a test.do",
        "display \"edition `c(edition_real)'\"\ndisplay \"arg=`1'\"\n\
         graph export \"bar chart.png\", replace\ndisplay `\"`c(pwd)'\"'\n",
    );
    let options = BatchOptions {
        args: vec!["two words".into()],
        ..BatchOptions::default()
    };
    let mut run = BatchRun::start(&fx.config, &do_file, options)
        .await
        .unwrap();
    let done = collect(&mut run, |_| {}).await;
    let outcome = done.outcome();
    assert_eq!(outcome.status, RunStatus::Success, "{:?}", done.texts());
    let texts = done.texts();
    assert!(texts.contains(&"edition MP"));
    assert!(texts.contains(&"arg=two words"));
    let dir = do_file.parent().unwrap();
    assert!(
        texts.contains(&dir.to_str().unwrap()),
        "runs in the do-file's directory"
    );
    assert_eq!(outcome.graphs.len(), 1);
    let graph = &outcome.graphs[0];
    assert_eq!(graph.path, dir.join("bar chart.png"));
    assert_eq!(graph.mime_type(), Some("image/png"));
    assert_eq!(
        graph.bytes[..8],
        [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n']
    );
    assert_eq!(
        graph.bytes,
        std::fs::read(dir.join("bar chart.png")).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_graph_message_and_cd_inside_the_do_file() {
    let fx = Fixture::new(&[("STANDIN_GRAPH_MESSAGE", "old")]);
    let out = fx.dir("out dir");
    let do_file = fx.write("g.do", &format!("cd {}\ngraph export g.png\n", q(&out)));
    let mut run = BatchRun::start(&fx.config, &do_file, BatchOptions::default())
        .await
        .unwrap();
    let done = collect(&mut run, |_| {}).await;
    assert!(done.texts().contains(&"(file g.png written in PNG format)"));
    let graphs = &done.outcome().graphs;
    assert_eq!(graphs.len(), 1);
    assert_eq!(graphs[0].path, out.join("g.png"));
}

/// A byte-order mark is stripped from the copy Stata runs; the stand-in, like Windows Stata,
/// fails with r(199) on the original.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byte_order_mark_is_stripped() {
    let fx = Fixture::new(&[]);
    let do_file = fx.write("bom.do", "\u{feff}display \"bom ok\"\ndisplay \"second\"\n");
    let mut run = BatchRun::start(&fx.config, &do_file, BatchOptions::default())
        .await
        .unwrap();
    let done = collect(&mut run, |_| {}).await;
    assert_eq!(done.outcome().status, RunStatus::Success);
    assert!(done.texts().contains(&"bom ok"));
    assert_eq!(done.outcome().total, 2);

    // The same file given to the stand-in directly fails on its first line.
    let dir = fx.dir("direct");
    let status = std::process::Command::new(&fx.config.executable.path)
        .args(["-b", "-q", "do"])
        .arg(&do_file)
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let log = std::fs::read_to_string(dir.join("bom.log")).unwrap();
    assert!(log.contains("r(199);"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_selection_runs_in_the_working_dir() {
    let fx = Fixture::new(&[]);
    let work = fx.dir("work");
    let options = BatchOptions {
        working_dir: Some(work.clone()),
        ..BatchOptions::default()
    };
    let code = "display \"a\" ///\n   \"b\"\npwd";
    let mut run = BatchRun::start_code(&fx.config, code, options)
        .await
        .unwrap();
    let done = collect(&mut run, |_| {}).await;
    assert_eq!(done.outcome().status, RunStatus::Success);
    assert_eq!((done.outcome().executed, done.outcome().total), (2, 2));
    assert!(done.texts().contains(&"ab"));
    assert!(done.texts().contains(&work.to_str().unwrap()));
}

/// Cancel kills the whole process group, including an engine child that outlives its parent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_leaves_no_process() {
    for orphan in ["0", "1"] {
        let fx = Fixture::new(&[("STANDIN_ORPHAN_ENGINE", orphan)]);
        let do_file = fx.write(
            "hang.do",
            &format!(
                "display \"started\"\n_standin_wait_file {}\n",
                q(&fx.signal("never"))
            ),
        );
        let mut run = BatchRun::start(&fx.config, &do_file, BatchOptions::default())
            .await
            .unwrap();
        let pgid = run.pid().unwrap();
        wait_for_line(&mut run, "started").await;
        let expected = if orphan == "1" { 2 } else { 1 };
        assert_eq!(stata_in_group(pgid).len(), expected, "orphan={orphan}");
        run.cancel();
        let done = collect(&mut run, |_| {}).await;
        let outcome = done.outcome();
        assert_eq!(outcome.status, RunStatus::Cancelled);
        assert_eq!(outcome.exit.unwrap().code, 128 + 15, "SIGTERM ended it");
        assert!(live_in_group(pgid).is_empty(), "orphan={orphan}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_leaves_no_process() {
    let fx = Fixture::new(&[("STANDIN_ORPHAN_ENGINE", "1")]);
    let do_file = fx.write("slow.do", "display \"sleeping\"\nsleep 600000\n");
    let options = BatchOptions {
        timeout: Some(Duration::from_millis(500)),
        ..BatchOptions::default()
    };
    let mut run = BatchRun::start(&fx.config, &do_file, options)
        .await
        .unwrap();
    let pgid = run.pid().unwrap();
    let done = collect(&mut run, |_| {}).await;
    assert_eq!(done.outcome().status, RunStatus::TimedOut);
    assert!(live_in_group(pgid).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_run_kills_the_group() {
    let fx = Fixture::new(&[("STANDIN_ORPHAN_ENGINE", "1")]);
    let do_file = fx.write(
        "hang.do",
        &format!(
            "display \"started\"\n_standin_wait_file {}\n",
            q(&fx.signal("never"))
        ),
    );
    let mut run = BatchRun::start(&fx.config, &do_file, BatchOptions::default())
        .await
        .unwrap();
    let pgid = run.pid().unwrap();
    wait_for_line(&mut run, "started").await;
    assert_eq!(stata_in_group(pgid).len(), 2);
    drop(run);
    assert_group_gone(pgid).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_by_a_signal_reports_128_plus_n() {
    let fx = Fixture::new(&[]);
    let do_file = fx.write(
        "hang.do",
        &format!(
            "display \"started\"\n_standin_wait_file {}\n",
            q(&fx.signal("never"))
        ),
    );
    let mut run = BatchRun::start(&fx.config, &do_file, BatchOptions::default())
        .await
        .unwrap();
    let pid = run.pid().unwrap();
    wait_for_line(&mut run, "started").await;
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    let done = collect(&mut run, |_| {}).await;
    let outcome = done.outcome();
    assert_eq!(outcome.status, RunStatus::Killed);
    assert_eq!(outcome.exit.unwrap().code, 137);
    assert_eq!(outcome.exit.unwrap().signal, Some(9));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licence_failure_is_a_startup_error_with_stderr() {
    let fx = Fixture::new(&[("STANDIN_LICENSE_FAIL", "1")]);
    let do_file = fx.write("x.do", "display 1\n");
    let mut run = BatchRun::start(&fx.config, &do_file, BatchOptions::default())
        .await
        .unwrap();
    let done = collect(&mut run, |_| {}).await;
    match done.result {
        Err(RunError::Startup { exit, stderr }) => {
            assert_ne!(exit.code, 0);
            assert!(stderr.contains("licen"), "{stderr}");
        }
        other => panic!("expected a start-up error, got {other:?}"),
    }
    assert!(done.lines.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_do_file_and_missing_stata() {
    let fx = Fixture::new(&[]);
    let err = BatchRun::start(
        &fx.config,
        &fx.tmp.path().join("nope.do"),
        BatchOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RunError::DoFile { .. }), "{err}");
    let mut config = fx.config.clone();
    config.executable.path = fx.tmp.path().join("no-stata-here");
    let do_file = fx.write("x.do", "display 1\n");
    let err = BatchRun::start(&config, &do_file, BatchOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Spawn { .. }), "{err}");
}

/// Two runs of the same do-file at once: each has its own job directory and log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_of_one_do_file_do_not_collide() {
    let fx = Fixture::new(&[]);
    let go = fx.signal("go");
    let do_file = fx.write(
        "same.do",
        &format!("display \"run `1'\"\n_standin_wait_file {}\n", q(&go)),
    );
    let start = |arg: &str| {
        BatchRun::start(
            &fx.config,
            &do_file,
            BatchOptions {
                args: vec![arg.to_owned()],
                ..BatchOptions::default()
            },
        )
    };
    let mut a = start("a").await.unwrap();
    let mut b = start("b").await.unwrap();
    assert_ne!(a.log_path(), b.log_path());
    wait_for_line(&mut a, "run a").await;
    wait_for_line(&mut b, "run b").await;
    release(&go);
    let (a, b) = (collect(&mut a, |_| {}).await, collect(&mut b, |_| {}).await);
    for (done, me, other) in [(&a, "run a", "run b"), (&b, "run b", "run a")] {
        assert_eq!(done.outcome().status, RunStatus::Success);
        let log = std::fs::read_to_string(&done.outcome().log_path).unwrap();
        assert!(log.contains(me) && !log.contains(other), "{log}");
    }
}
