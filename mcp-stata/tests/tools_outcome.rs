//! The outcome comes from every signal, whatever shape the log takes: a Stata that dies is an
//! error with its exit status and standard error; logs with the banner and the top-level `. do`
//! echo, or without the blank line after a `do` echo, keep every line of the user's part and count
//! right; a session whose Stata never answers fails within the call's timeout and shows what it
//! printed; a one-megabyte line is cut to the result's byte cap.

mod common;
mod support;

use serde_json::{Value, json};
use support::*;

/// The shapes the stand-in can print: the banner whatever `-q` says, the blank line after a
/// `do` echo or not.
const SHAPES: [&[(&str, &str)]; 4] = [
    &[],
    &[("STANDIN_BANNER", "always")],
    &[("STANDIN_DO_BLANK", "0")],
    &[("STANDIN_BANNER", "always"), ("STANDIN_DO_BLANK", "0")],
];

fn blank(env: &[(&str, &str)]) -> bool {
    !env.contains(&("STANDIN_DO_BLANK", "0"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stata_that_dies_is_an_error_with_its_exit_status_and_stderr() {
    let h = harness(&[]).await;
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display \"one\"\n_standin_die 1\ndisplay \"two\"" }),
        )
        .await;
    assert!(done.result.is_error(), "{}", done.text());
    let report = done.structured();
    assert_eq!(report["status"], "died");
    assert_eq!(report["exit_code"], 1);
    let stderr = report["stderr_tail"].as_str().unwrap();
    assert!(stderr.contains("Traceback"), "{stderr}");
    let text = done.text();
    assert!(
        text.starts_with("Stata died before your do-file finished: it exited with status 1."),
        "{text}"
    );
    assert!(
        text.contains("EngineCrash"),
        "stderr is in the text: {text}"
    );
    assert!(done.lines().contains(&"one".to_owned()));

    // Exit status 0, but the log stops before `end of do-file`: still a death.
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display \"one\"\n_standin_die 0\ndisplay \"two\"" }),
        )
        .await;
    assert!(done.result.is_error());
    assert_eq!(done.structured()["status"], "died");
    assert!(
        done.text()
            .starts_with("Stata exited, but its log stops before the end of your do-file"),
        "{}",
        done.text()
    );
}

/// Every line of the user's part reaches progress, in order, and nothing of the banner or the
/// wrapper; the counts and the failing command are right under every shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_log_shape_keeps_every_user_line_and_counts_right() {
    for env in SHAPES {
        let h = harness(env).await;
        let done = h
            .run("stata_run_code", json!({ "code": "display 1\ndisplay 2" }))
            .await;
        let mut expected = vec![
            ". display 1",
            "1",
            "",
            ". display 2",
            "2",
            "",
            ". ",
            "end of do-file",
        ];
        if blank(env) {
            expected.insert(0, "");
        }
        assert_eq!(done.lines(), expected, "{env:?}");
        assert_eq!(done.structured()["log_tail"], json!(expected), "{env:?}");
        assert!(
            done.text()
                .starts_with("Stata finished without error (2 of 2 commands ran)."),
            "{env:?}: {}",
            done.text()
        );

        let done = h
            .run("stata_run_code", json!({ "code": "ereturn list" }))
            .await;
        assert_eq!(done.structured()["commands_executed"], 1, "{env:?}");
        assert!(
            done.text()
                .starts_with("Stata finished without error (1 of 1 commands ran)."),
            "{env:?}: {}",
            done.text()
        );

        let code = "display \"a\"\n* a note\nreturn list\ngen y = bad_var + 1\ndisplay \"never\"";
        let done = h.run("stata_run_code", json!({ "code": code })).await;
        let report = done.structured();
        assert_eq!(report["rc"], 111, "{env:?}");
        assert_eq!(report["error_message"], "bad_var not found", "{env:?}");
        assert_eq!(report["commands_executed"], 3, "{env:?}");
        assert_eq!(
            report["failed_command"],
            json!({ "number": 3, "line": 4, "code": "gen y = bad_var + 1" }),
            "{env:?}"
        );
        assert!(
            done.text().starts_with(
                "Stata stopped with error r(111): bad_var not found\nIt failed at command 3 of 4 (line 4: `gen y = bad_var + 1`)."
            ),
            "{env:?}: {}",
            done.text()
        );
        let tail: Vec<String> = serde_json::from_value(report["log_tail"].clone()).unwrap();
        assert!(
            tail.iter()
                .all(|l| !l.starts_with(". cd ") && !l.starts_with(". do ")),
            "{env:?}: the wrapper's lines are not the user's: {tail:?}"
        );
        assert!(tail.contains(&". display \"a\"".to_owned()), "{env:?}");

        // A session's first error keeps its message.
        let done = h
            .run(
                "stata_run_code",
                json!({ "code": "gen y = q", "session": "s" }),
            )
            .await;
        let report = done.structured();
        assert_eq!(report["rc"], 111, "{env:?}: {}", done.text());
        assert_eq!(report["error_message"], "q not found", "{env:?}");
        assert_eq!(report["commands_executed"], 1, "{env:?}");
        let done = h
            .run(
                "stata_run_code",
                json!({ "code": "display 40 + 2", "session": "s" }),
            )
            .await;
        assert!(done.lines().contains(&"42".to_owned()), "{env:?}");
        assert_eq!(done.structured()["commands_executed"], 1, "{env:?}");
        h.tools.close_all_sessions().await;
    }
}

/// A session whose Stata never prints the end-of-command marker fails within the call's
/// timeout, not the 60 s start-up allowance, and the error shows what Stata printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_session_fails_within_the_call_timeout_showing_what_stata_printed() {
    let h = harness(&[("STANDIN_CONSOLE_STALL", "1")]).await;
    let pids_before = h.all_pids();
    assert!(pids_before.is_empty());
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display 1", "session": "s", "timeout_seconds": 1 }),
        )
        .await;
    assert!(done.result.is_error());
    let text = done.text();
    assert!(
        text.starts_with("Stata did not answer within 1 s of starting (it never printed the end-of-command marker); the last 2 lines it printed:\nChecking the licence server...\n(stand-in: this console stalls and never answers)"),
        "{text}"
    );
    assert!(h.all_pids().is_empty(), "the silent Stata is gone");
    let listed = h.run("stata_list_sessions", json!({})).await;
    assert_eq!(listed.structured()["sessions"], json!([]));
}

/// One line of a megabyte: the result stays under the byte cap (256 KiB by default, text and
/// structured content together), the line cut to its end; every progress message stays small.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_megabyte_line_is_cut_to_the_byte_cap() {
    let h = harness(&[]).await;
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "display \"before\"\n_standin_long_line 1048576" }),
        )
        .await;
    assert!(!done.result.is_error(), "{}", done.text());
    let text = done.text();
    let structured = serde_json::to_string(done.structured()).unwrap();
    assert!(
        text.len() + structured.len() <= 256 * 1024,
        "{} + {} bytes",
        text.len(),
        structured.len()
    );
    assert!(text.contains("(kept under 256 KiB:"), "{}", &text[..400]);
    let tail: Vec<String> = serde_json::from_value(done.structured()["log_tail"].clone()).unwrap();
    assert!(
        tail.iter().any(|l| l.ends_with("END")),
        "the line's end is kept"
    );
    assert!(
        done.progress
            .iter()
            .all(|p| p.message.as_deref().map_or(0, str::len) <= 65 * 1024 + 64 * 1024),
        "progress messages stay bounded"
    );
    // Every byte of the line still reached progress (in pieces of at most 64 KiB).
    let streamed: usize = done
        .lines()
        .iter()
        .filter(|l| l.starts_with('x') || l.ends_with("END"))
        .map(String::len)
        .sum();
    assert_eq!(streamed, 1_048_576 + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_results_need_a_session_or_code() {
    let h = harness(&[]).await;
    let done = h.run("stata_stored_results", json!({})).await;
    assert!(done.result.is_error());
    assert!(
        done.text()
            .starts_with("invalid `session`: stored results live in a session"),
        "{}",
        done.text()
    );
    let done = h
        .run(
            "stata_stored_results",
            json!({ "code": "set obs 3\ngen x = _n\nsummarize x", "which": "r" }),
        )
        .await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert!(
        done.lines().iter().any(|l| l.contains("r(N) =")),
        "{:?}",
        done.lines()
    );
}

/// Schemas assistant hosts handle: no `$ref`, `$defs`, `oneOf`, `anyOf` or `allOf`; enums
/// inline; integer bounds that the tools accept at their edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_are_plain_and_their_bounds_match_validation() {
    let h = harness(&[]).await;
    let tools = h.client.list_tools().await.unwrap();
    for tool in &tools {
        let schema = serde_json::to_string(&tool.input_schema).unwrap();
        for word in ["$ref", "$defs", "oneOf", "anyOf", "allOf"] {
            assert!(!schema.contains(word), "{}: {schema}", tool.name);
        }
    }
    let list = tools.iter().find(|t| t.name == "stata_list").unwrap();
    let props = &list.input_schema["properties"];
    assert_eq!(props["from"]["minimum"], 1);
    assert_eq!(props["count"]["minimum"], 1);
    let which = &tools
        .iter()
        .find(|t| t.name == "stata_stored_results")
        .unwrap()
        .input_schema["properties"]["which"];
    assert_eq!(which["enum"], json!(["r", "e", "both"]));
    assert_eq!(which["type"], "string");
    let array = &tools
        .iter()
        .find(|t| t.name == "stata_run_array")
        .unwrap()
        .input_schema;
    assert_eq!(array["properties"]["parameter_sets"]["minItems"], 1);

    // The minimum is accepted; below it, a clear argument error.
    let done = h
        .run(
            "stata_list",
            json!({ "code": "set obs 2\ngen x = _n", "from": 1, "count": 1 }),
        )
        .await;
    assert!(!done.result.is_error(), "{}", done.text());
    for bad in [json!({ "from": 0 }), json!({ "count": 0 })] {
        let done = h.run("stata_list", bad.clone()).await;
        assert!(done.result.is_error());
        assert!(
            done.text().contains("must be at least 1"),
            "{bad}: {}",
            done.text()
        );
    }
    let done = h
        .run(
            "stata_stored_results",
            json!({ "session": "s", "which": "x" }),
        )
        .await;
    assert!(done.text().contains("is not one of"), "{}", done.text());
    let _: Value = done
        .result
        .structured_content
        .clone()
        .map(Value::Object)
        .unwrap_or_default();
}
