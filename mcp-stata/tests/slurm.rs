//! The Slurm backend against a real single-node Slurm cluster (`scripts/slurm.sh start`, which
//! `scripts/test.sh` runs; `SLURM_CONF` must point at its config), with the stand-in as Stata:
//! a job's log lines arrive as progress while it runs (lockstep), a job queued behind another
//! reports pending before running, cancel removes the job and leaves no process, a job array of
//! four parameter sets returns four outcomes, and a finished job can be followed again from its
//! directory.
//!
//! These tests share one cluster: nextest runs them one at a time (`.config/nextest.toml`).

mod common;
mod support;

use std::path::Path;
use std::process::Command as StdCommand;
use std::time::Duration;

use common::{PATIENCE, release};
use mcp_core::CallEvent;
use mcp_stata::{Backend, BatchOptions, RunStatus, SlurmConfig, SlurmRun};
use serde_json::json;
use support::*;

/// The cluster's settings for these tests: a quick poll.
fn slurm_config() -> SlurmConfig {
    assert!(
        std::env::var_os("SLURM_CONF").is_some(),
        "SLURM_CONF is not set: start the test cluster with `eval \"$(scripts/slurm.sh start)\"` \
         (scripts/test.sh does) and run these tests in that environment"
    );
    SlurmConfig {
        poll: Duration::from_millis(200),
        ..SlurmConfig::default()
    }
}

async fn slurm_harness(env: &[(&str, &str)]) -> Harness {
    let config = slurm_config();
    harness_with(env, move |c| c.backend(Backend::Slurm(config))).await
}

/// What `squeue -h -j ID` lists (empty once Slurm has let the job go).
fn squeue(job_id: &str) -> String {
    let out = StdCommand::new("squeue")
        .args(["-h", "-j", job_id])
        .output()
        .expect("squeue runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The job id in a status message `Slurm job ID is ...`.
fn job_id_of(message: &str) -> Option<String> {
    let rest = message.split("Slurm job ").nth(1)?;
    Some(rest.split_whitespace().next()?.to_owned())
}

/// A job that holds the whole node until `go` exists.
fn blocker(dir: &Path, go: &Path) -> String {
    let out = StdCommand::new("sbatch")
        .args(["--parsable", "--exclusive", "--job-name=blocker"])
        .arg(format!("--output={}", dir.join("blocker.out").display()))
        .arg(format!(
            "--wrap=while [ ! -e '{}' ]; do sleep 0.1; done",
            go.display()
        ))
        .output()
        .expect("sbatch runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Reads progress until a message contains `needle`; the messages seen so far.
async fn wait_for_message(call: &mut mcp_core::ToolCall, needle: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match next(call).await {
            CallEvent::Progress(p) => {
                let message = p.message.unwrap_or_default();
                let found = message.contains(needle);
                seen.push(message);
                if found {
                    return seen;
                }
            }
            CallEvent::Done(result) => {
                panic!("the result came before {needle:?}: {result:?}; saw {seen:?}")
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_stream_while_the_job_runs() {
    let h = slurm_harness(&[("STANDIN_BANNER", "always")]).await;
    let go = h.fx.signal("go");
    let code = format!(
        "display \"before\"\n_standin_wait_file {}\ndisplay \"after\"",
        q(&go)
    );
    let mut call = h.call("stata_run_code", json!({ "code": code })).await;
    let seen = wait_for_line(&mut call, "before").await;
    assert!(!go.exists());
    let messages: Vec<String> = seen.iter().filter_map(|p| p.message.clone()).collect();
    let running = messages
        .iter()
        .position(|m| m.contains(" is running on "))
        .unwrap_or_else(|| panic!("the job's state came first: {messages:?}"));
    assert!(
        running < messages.len() - 1,
        "running before the first line: {messages:?}"
    );
    let job_id = job_id_of(&messages[running]).unwrap();
    release(&go);
    let done = finish(&mut call).await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert!(done.lines().contains(&"after".to_owned()));
    let report = done.structured();
    assert_eq!(report["status"], "success");
    assert_eq!(report["commands_executed"], 3);
    let slurm = &report["slurm"];
    assert_eq!(slurm["job_id"], job_id.as_str());
    assert_eq!(slurm["state"], "COMPLETED");
    assert_eq!(slurm["exit_code"], 0);
    assert!(
        slurm["node"].as_str().is_some_and(|n| !n.is_empty()),
        "{slurm}"
    );
    assert!(slurm["elapsed_seconds"].as_f64().is_some(), "{slurm}");
    assert!(
        done.text()
            .contains(&format!("Slurm job {job_id} (COMPLETED, on ")),
        "{}",
        done.text()
    );

    // The job can be followed again from its directory alone (what a detached task needs).
    let log_path = report["log_path"].as_str().unwrap();
    let job_dir = Path::new(log_path).parent().unwrap().parent().unwrap();
    let again = SlurmRun::attach(&h.fx.config, &slurm_config(), job_dir, None)
        .unwrap()
        .finish()
        .await
        .unwrap();
    assert_eq!(again.status, RunStatus::Success);
    assert_eq!(again.cluster.unwrap().job_id, job_id);
    assert!(again.log_tail.contains(&"after".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_queued_behind_another_reports_pending_before_running() {
    let h = slurm_harness(&[]).await;
    let go = h.fx.signal("go-blocker");
    let blocker_id = blocker(h.fx.tmp.path(), &go);
    let finish_line = h.fx.signal("go-job");
    let code = format!("display \"ran\"\n_standin_wait_file {}", q(&finish_line));
    let mut call = h.call("stata_run_code", json!({ "code": code })).await;
    let seen = wait_for_message(&mut call, " is pending (").await;
    assert!(seen.iter().all(|m| !m.contains(" is running")), "{seen:?}");
    assert!(
        seen.last().unwrap().contains("(Resources)") || seen.last().unwrap().contains("(Priority)"),
        "{seen:?}"
    );
    release(&go);
    let seen = wait_for_message(&mut call, " is running on ").await;
    assert!(seen.iter().all(|m| !m.contains("ran")), "{seen:?}");
    release(&finish_line);
    let done = finish(&mut call).await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert!(done.lines().contains(&"ran".to_owned()));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !squeue(&blocker_id).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the blocker ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_removes_the_job_and_leaves_no_process() {
    let h = slurm_harness(&[("STANDIN_ORPHAN_ENGINE", "1")]).await;
    let stuck = format!(
        "display \"started\"\n_standin_wait_file {}",
        q(&h.fx.signal("never"))
    );
    // Through the tool: notifications/cancelled.
    let mut call = h.call("stata_run_code", json!({ "code": stuck })).await;
    let seen = wait_for_message(&mut call, " is running on ").await;
    let job_id = job_id_of(seen.last().unwrap()).unwrap();
    wait_for_line(&mut call, "started").await;
    assert_eq!(
        h.stata_pids().len(),
        2,
        "Stata and its engine run on the node"
    );
    assert!(!squeue(&job_id).is_empty());
    call.cancel("the user pressed stop").await.unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !squeue(&job_id).is_empty() || !h.all_pids().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "left behind: squeue {:?}, processes {:?}",
            squeue(&job_id),
            h.all_pids()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Through the library: the outcome comes only once Slurm has let the job go.
    let mut run = SlurmRun::start_code(
        &h.fx.config,
        &slurm_config(),
        &stuck,
        BatchOptions {
            working_dir: Some(h.fx.dir("work")),
            ..BatchOptions::default()
        },
    )
    .await
    .unwrap();
    let job_id = run.job_id().to_owned();
    common::wait_for_line(&mut run, "started").await;
    run.cancel();
    let outcome = run.finish().await.unwrap();
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert_eq!(
        squeue(&job_id),
        "",
        "gone from the queue when the outcome comes"
    );
    let cluster = outcome.cluster.unwrap();
    assert_eq!(cluster.state, "CANCELLED");
    assert_gone(&h.all_pids()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_array_of_four_parameter_sets_returns_four_outcomes() {
    let h = slurm_harness(&[]).await;
    let do_file = h.fx.write(
        "sets.do",
        "display \"set `1'\"\n`2'\ndisplay \"done `1'\"\n",
    );
    let sets = json!([
        ["a", "error 0"],
        ["b", "error 0"],
        ["c", "error 111"],
        ["d", "_standin_die 3"]
    ]);
    let mut call = h
        .call(
            "stata_run_array",
            json!({ "path": do_file, "parameter_sets": sets, "max_parallel": 2 }),
        )
        .await;
    let done = finish(&mut call).await;
    assert!(done.result.is_error(), "one set failed: {}", done.text());
    let messages: Vec<String> = done
        .progress
        .iter()
        .filter_map(|p| p.message.clone())
        .collect();
    for index in 0..4 {
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with(&format!("[{index}] Slurm job "))),
            "element {index}'s state streamed: {messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with(&format!("[{index}] "))
                    && m.contains("finished without error")
                    || m.starts_with(&format!("[{index}] stopped"))
                    || m.starts_with(&format!("[{index}] died"))),
            "element {index}'s end streamed: {messages:?}"
        );
    }
    assert!(done.progress.iter().all(|p| p.total == Some(4.0)));
    let report = done.structured();
    let job_id = report["job_id"].as_str().unwrap().to_owned();
    assert_eq!(report["backend"], "slurm");
    assert_eq!(
        (report["succeeded"].as_u64(), report["failed"].as_u64()),
        (Some(2), Some(2))
    );
    let elements = report["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 4);
    for (index, element) in elements.iter().enumerate() {
        assert_eq!(element["index"], index);
        assert_eq!(element["slurm"]["job_id"], format!("{job_id}_{index}"));
        assert!(element["slurm"]["node"].as_str().is_some(), "{element}");
    }
    assert_eq!(elements[0]["status"], "success");
    assert_eq!(elements[0]["parameters"], json!(["a", "error 0"]));
    assert!(
        elements[1]["log_tail"]
            .as_array()
            .unwrap()
            .contains(&json!("done b"))
    );
    assert_eq!(elements[2]["status"], "stata_error");
    assert_eq!(elements[2]["rc"], 111);
    assert_eq!(elements[2]["failed_command"]["number"], 2);
    assert_eq!(elements[3]["status"], "died");
    assert_eq!(elements[3]["exit_code"], 3);
    assert!(
        elements[3]["stderr_tail"]
            .as_str()
            .unwrap()
            .contains("Traceback"),
        "{}",
        elements[3]
    );
    assert_eq!(squeue(&job_id), "");
}

/// A Slurm run as a task: the call returns at once with the task, whose status follows the
/// job (running on the node, then its log), and the result waits in the task; cancelling a
/// second task removes its job from the queue and leaves no process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slurm_run_as_a_task_reports_the_job_and_keeps_the_result() {
    use mcp_core::client::Started;
    use mcp_core::task::TaskStatus;

    let h = slurm_harness(&[]).await;
    let go = h.fx.signal("go");
    let do_file = h.fx.write(
        "project/cluster.do",
        &format!(
            "display \"on the node\"\n_standin_wait_file {}\ndisplay \"finished\"\n",
            q(&go)
        ),
    );
    let started = h
        .client
        .call_tool_as_task("stata_run_do_file", json!({ "path": do_file }), None)
        .await
        .unwrap();
    let Started::Task(task) = started else {
        panic!("a Slurm run becomes a task: {started:?}")
    };
    let id = task.task_id;
    // The task's status follows the run until the job's log reaches the wait: the echo of
    // the command it blocks in (a line before it may be replaced within microseconds).
    let waiting = format!(". _standin_wait_file {}", q(&go));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut statuses: Vec<String> = Vec::new();
    loop {
        let now = h.client.get_task(&id).await.unwrap();
        assert_eq!(now.status, TaskStatus::Working, "{statuses:?}");
        let message = now.status_message.unwrap_or_default();
        if statuses.last() != Some(&message) {
            statuses.push(message.clone());
        }
        if message.lines().any(|l| l == waiting) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{statuses:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!go.exists());
    release(&go);
    let result = tokio::time::timeout(PATIENCE, h.client.task_result(&id))
        .await
        .unwrap()
        .unwrap();
    assert!(!result.is_error(), "{}", result.text());
    let report = result.structured_content.clone().unwrap();
    assert_eq!(report["status"], "success");
    assert_eq!(report["slurm"]["state"], "COMPLETED");

    // A second run, cancelled as a task: its job leaves the queue.
    let never = h.fx.signal("never");
    let stuck = h.fx.write(
        "project/stuck.do",
        &format!("display \"stuck\"\n_standin_wait_file {}\n", q(&never)),
    );
    let stuck_line = format!(". _standin_wait_file {}", q(&never));
    let Started::Task(task) = h
        .client
        .call_tool_as_task("stata_run_do_file", json!({ "path": stuck }), None)
        .await
        .unwrap()
    else {
        panic!("a Slurm run becomes a task")
    };
    loop {
        let now = h.client.get_task(&task.task_id).await.unwrap();
        if now
            .status_message
            .as_deref()
            .is_some_and(|m| m.lines().any(|l| l == stuck_line))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stuck job never ran"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!h.all_pids().is_empty(), "Stata runs on the node");
    h.client.cancel_task(&task.task_id).await.unwrap();
    // The tool's future is dropped: `scancel`, and nothing left on the node.
    loop {
        let queued = StdCommand::new("squeue")
            .args(["-h", "--name=mcp-stata"])
            .output()
            .expect("squeue runs");
        if queued.stdout.is_empty() && h.all_pids().is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job left the queue"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
