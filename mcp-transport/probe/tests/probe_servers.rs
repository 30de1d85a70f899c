//! `mcp-probe` against the project's servers: `streaming-demo` over stdio, streamable HTTP
//! and legacy SSE, in both protocol eras (2026-07-28 by default, `--era stateful` for a
//! 2025-11-25 session), and `mcp-stata` with the Stata stand-in. Each shows every progress
//! event with its arrival time and judges the stream live.

mod common;

use common::{event_lines, probe, sibling, start_http, stdout};

/// Checks the text output of a `count` call to 5: five events, in order, then the result,
/// then the verdict.
fn assert_counted_live(output: &std::process::Output) {
    let text = stdout(output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events = event_lines(&text);
    assert_eq!(events.len(), 5, "{text}");
    for (i, line) in events.iter().enumerate() {
        let step = i + 1;
        assert!(
            line.ends_with(&format!("{step}/5  step {step} of 5")),
            "{line}"
        );
    }
    assert!(text.contains("result:\ncounted to 5\n"), "{text}");
    assert!(text.contains("verdict: live"), "{text}");
}

#[tokio::test]
async fn streaming_demo_over_stdio_is_live() {
    let demo = sibling("streaming-demo");
    for (era, protocol) in [("auto", "2026-07-28"), ("stateful", "2025-11-25")] {
        let output = probe(&[
            "call",
            "count",
            "--args",
            r#"{"to":5}"#,
            "--require-live",
            "--era",
            era,
            "--",
            demo.to_str().unwrap(),
        ])
        .await;
        assert_counted_live(&output);
        let said = format!("over stdio (protocol {protocol})");
        assert!(stdout(&output).contains(&said), "{}", stdout(&output));
    }
}

#[tokio::test]
async fn streaming_demo_over_streamable_http_and_legacy_sse_is_live() {
    let server = start_http(&sibling("streaming-demo"), &[]).await;
    for (path, era, said) in [
        ("/mcp", "auto", "over HTTP (protocol 2026-07-28)"),
        ("/mcp", "stateful", "over HTTP (protocol 2025-11-25)"),
        ("/sse", "auto", "over legacy HTTP+SSE (protocol 2025-11-25)"),
    ] {
        let url = format!("{}{path}", server.base);
        let output = probe(&[
            "call",
            "count",
            "-a",
            "to=5",
            "-a",
            "delay_ms=60",
            "--require-live",
            "--era",
            era,
            "--url",
            &url,
        ])
        .await;
        assert_counted_live(&output);
        assert!(stdout(&output).contains(said), "{}", stdout(&output));
    }
}

#[tokio::test]
async fn every_response_mode_of_the_server_is_read() {
    // By default an answer ready at once (the lists, a quick call) is one JSON body and a call
    // with progress a stream; the flags make every answer a stream, or every answer JSON.
    for env in [
        &[][..],
        &[("MCP_SSE_RESPONSE", "true")][..],
        &[("MCP_JSON_RESPONSE", "true")][..],
    ] {
        let server = start_http(&sibling("streaming-demo"), env).await;
        let url = format!("{}/mcp", server.base);
        for era in ["auto", "stateful"] {
            let output = probe(&["list", "--era", era, "--url", &url]).await;
            let text = stdout(&output);
            assert_eq!(output.status.code(), Some(0), "{env:?} {era}: {text}");
            assert!(text.contains("tools (1):"), "{env:?} {era}: {text}");
            let output = probe(&["call", "count", "-a", "to=0", "--era", era, "--url", &url]).await;
            let text = stdout(&output);
            assert_eq!(output.status.code(), Some(0), "{env:?} {era}: {text}");
            assert!(text.contains("counted to 0"), "{env:?} {era}: {text}");
        }
    }
}

#[tokio::test]
async fn json_output_carries_each_arrival_time_and_the_verdict() {
    let demo = sibling("streaming-demo");
    let output = probe(&[
        "call",
        "count",
        "--args",
        r#"{"to":3,"delay_ms":50}"#,
        "--json",
        "--",
        demo.to_str().unwrap(),
    ])
    .await;
    assert_eq!(output.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(document["verdict"], "live");
    assert_eq!(document["tool"], "count");
    assert_eq!(document["result"]["content"][0]["text"], "counted to 3");
    let events = document["events"].as_array().expect("events");
    assert_eq!(events.len(), 3);
    let times: Vec<f64> = events.iter().map(|e| e["ms"].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(times[2] <= document["resultMs"].as_f64().unwrap());
    assert_eq!(events[2]["message"], "step 3 of 3");
}

#[tokio::test]
async fn mcp_stata_with_the_stand_in_streams_its_log_live() {
    let stata = sibling("mcp-stata");
    let standin = sibling("stata-standin");
    let work = std::env::temp_dir().join(format!("mcp-probe-stata-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let code = "display \"one\"\nsleep 100\ndisplay \"two\"\nsleep 100\ndisplay \"three\"";
    let args = serde_json::json!({ "code": code }).to_string();
    let mut command = tokio::process::Command::new(common::PROBE);
    command
        .args([
            "call",
            "stata_run_code",
            "--args",
            &args,
            "--require-live",
            "--",
        ])
        .arg(&stata)
        .env("STATA_PATH", &standin)
        .env("MCP_STATA_WORKDIR", &work)
        .env("MCP_STATA_JOBS_DIR", work.join("jobs"));
    let output = common::within("mcp-probe against mcp-stata", command.output())
        .await
        .expect("mcp-probe runs");
    let _ = std::fs::remove_dir_all(&work);
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The log's lines arrive as progress, in order, before the result.
    let result = text.find("result:").expect("a result");
    let (one, three) = (text.find(" one\n"), text.find(" three\n"));
    assert!(
        one.is_some() && one < three && three < Some(result),
        "{text}"
    );
    assert!(event_lines(&text).len() >= 3, "{text}");
    assert!(text.contains("verdict: live"), "{text}");
}

#[tokio::test]
async fn list_shows_tools_prompts_resources_and_templates() {
    let conformance = sibling("conformance-server");
    let output = probe(&["list", "--", conformance.to_str().unwrap()]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    // The header's count is the number of tools listed under it (the conformance server
    // gains tools as the protocol does: counted, not pinned).
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("tools (") && l.ends_with("):"))
        .unwrap_or_else(|| panic!("no tools header in\n{text}"));
    // A tool is a line indented by two; its description, by six.
    let listed = lines[header + 1..]
        .iter()
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .count();
    assert_eq!(lines[header], format!("tools ({listed}):"), "{text}");
    assert!(listed >= 27, "{text}");
    for expected in [
        "  test_sampling(prompt)",
        "  test_custom_header(region)",
        "prompts (5):",
        "  test_prompt_with_arguments(arg1, arg2)",
        "resources (3):",
        "  test://static-text (static-text, text/plain)",
        "resource templates (1):",
        "  test://template/{id}/data (template-data, application/json)",
    ] {
        assert!(text.contains(expected), "{expected:?} not in\n{text}");
    }
    let output = probe(&[
        "prompt",
        "test_prompt_with_arguments",
        "-a",
        "arg1=a",
        "-a",
        "arg2=b",
        "--",
        conformance.to_str().unwrap(),
    ])
    .await;
    assert_eq!(
        stdout(&output),
        "[user] Prompt with arguments: arg1='a', arg2='b'\n"
    );
    let output = probe(&[
        "read",
        "test://template/7/data",
        "--",
        conformance.to_str().unwrap(),
    ])
    .await;
    assert!(
        stdout(&output).contains("Data for ID: 7"),
        "{}",
        stdout(&output)
    );
}

#[tokio::test]
async fn errors_exit_non_zero_with_an_explanation() {
    let demo = sibling("streaming-demo");
    let demo = demo.to_str().unwrap();
    // An unknown tool names the ones that exist.
    let output = probe(&["call", "nope", "--", demo]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no tool `nope`; it has: count"), "{stderr}");
    // A tool error is exit status 3, with the tool's explanation.
    let output = probe(&[
        "call",
        "count",
        "-a",
        "to=1",
        "-a",
        "delay_ms=99999999",
        "--",
        demo,
    ])
    .await;
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stdout(&output).contains("must be at most 60000"),
        "{}",
        stdout(&output)
    );
    // A server that cannot be reached.
    let output = probe(&["list", "--url", "http://127.0.0.1:9/mcp"]).await;
    assert_eq!(output.status.code(), Some(1));
    // No server at all is wrong usage of a kind clap cannot see: exit 1, with what to write.
    let output = probe(&["list"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("say which server"));
}

/// `mcp-probe ... | head`: when stdout's reader goes away mid-call, the probe ends quietly
/// with the status a shell reports for `SIGPIPE` (141), instead of panicking. In lockstep: the
/// test reads up to the first event, closes its end, and only then lets the tool send the
/// second, whose line the probe can no longer write.
#[tokio::test]
async fn a_reader_that_goes_away_ends_the_probe_quietly() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let fixture = sibling("fixture-server");
    let mut child = tokio::process::Command::new(common::PROBE)
        .args(["call", "lockstep", "-a", "steps=2", "-a"])
        .arg(format!("dir={}", dir.path().display()))
        .args(["--", fixture.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("MCP_PROBE_URL")
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    common::within("the first event", async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.ends_with("1/2  step 1") {
                return;
            }
        }
        panic!("the probe's output ended before the first event");
    })
    .await;
    drop(lines);
    std::fs::write(dir.path().join("ack-1"), "").unwrap();
    let output = common::within("the probe's exit", child.wait_with_output())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
