//! The tools that look at Stata's state through Stata itself: `describe`, `list`, stored
//! results, help; in a session and in a batch run with setup code. And the answer of every
//! tool when Stata is not there.

mod common;
mod support;

use mcp_stata::{Locator, Os, StataTools, ToolsConfig};
use serde_json::{Value, json};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_list_and_results_in_a_session() {
    let h = harness(&[]).await;
    let done = h
        .run(
            "stata_run_code",
            json!({ "code": "set obs 5\ngen y = _n * 2\ngen x = y + 1", "session": "s" }),
        )
        .await;
    assert!(!done.result.is_error(), "{}", done.text());

    let done = h.run("stata_describe", json!({ "session": "s" })).await;
    assert!(!done.result.is_error(), "{}", done.text());
    let text = done.text();
    assert!(text.contains(" Observations:             5"), "{text}");
    assert!(text.contains("\nx               float   %9.0g"), "{text}");

    let done = h
        .run(
            "stata_list",
            json!({ "session": "s", "varlist": "y", "from": 2, "count": 2 }),
        )
        .await;
    assert!(!done.result.is_error(), "{}", done.text());
    let lines = done.lines();
    assert!(lines.contains(&"  2. | 4 |".to_owned()), "{lines:?}");
    assert!(lines.contains(&"  3. | 6 |".to_owned()));
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("  4.") || l.starts_with("  1."))
    );

    // More than there is: the range is clamped to _N instead of failing.
    let done = h.run("stata_list", json!({ "session": "s" })).await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert!(
        done.lines().contains(&"  5. | 10   11 |".to_owned()),
        "{:?}",
        done.lines()
    );

    let done = h
        .run(
            "stata_stored_results",
            json!({ "session": "s", "code": "summarize y", "which": "r" }),
        )
        .await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert!(
        done.lines()
            .contains(&"               r(mean) =  6".to_owned())
    );
    assert!(!done.lines().iter().any(|l| l.contains("ereturn")));

    let done = h
        .run("stata_stored_results", json!({ "session": "s" }))
        .await;
    let lines = done.lines();
    assert!(lines.contains(&". return list".to_owned()));
    assert!(lines.contains(&". ereturn list".to_owned()));
    assert!(lines.contains(&"                  r(N) =  5".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspection_in_a_batch_run_with_setup_code() {
    let h = harness(&[]).await;
    let done = h
        .run(
            "stata_describe",
            json!({ "code": "set obs 3\ngen a = 1", "varlist": "a" }),
        )
        .await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert!(done.text().contains(" Observations:             3"));
    assert_eq!(done.structured()["commands_total"], 3);
    assert!(done.structured().get("session").is_none());

    // A condition reaches Stata as written (the stand-in does not evaluate conditions and
    // says so, as an error).
    let done = h
        .run(
            "stata_list",
            json!({ "code": "set obs 3\ngen a = 1", "condition": "a > 0" }),
        )
        .await;
    assert!(
        done.lines()
            .contains(&". list if a > 0 in 1/`__mcp_last'".to_owned())
    );

    let done = h
        .run(
            "stata_list",
            json!({ "varlist": "a\ndisplay \"injected\"" }),
        )
        .await;
    assert!(done.result.is_error());
    assert!(
        done.text()
            .starts_with("invalid `varlist`: must be a single line"),
        "{}",
        done.text()
    );
    assert!(done.progress.is_empty(), "Stata never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_through_stata() {
    let h = harness(&[]).await;
    let done = h.run("stata_help", json!({ "command": "summarize" })).await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert!(done.text().contains("[R] summarize -- Summary statistics"));

    let done = h.run("stata_help", json!({ "command": "nosuchcmd" })).await;
    assert!(done.result.is_error());
    assert!(
        done.text().starts_with("Stata has no help for `nosuchcmd`"),
        "{}",
        done.text()
    );
    assert!(done.text().contains("help for nosuchcmd not found"));

    let done = h.run("stata_help", json!({ "command": "x; y" })).await;
    assert!(done.result.is_error());
    assert!(done.text().starts_with("invalid `command`"));
}

/// Minimal valid arguments for each tool.
fn arguments(tool: &str) -> Value {
    match tool {
        "stata_run_do_file" => json!({ "path": "a.do" }),
        "stata_run_code" => json!({ "code": "display 1" }),
        "stata_run_array" => json!({ "path": "a.do", "parameter_sets": [["1"]] }),
        "stata_help" => json!({ "command": "regress" }),
        "stata_break" | "stata_close_session" => json!({ "session": "main" }),
        _ => json!({}),
    }
}

/// Without Stata the server still serves: every tool is listed and answers with an error
/// that names the places searched and how to set STATA_PATH.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_stata_every_tool_explains_how_to_set_stata_path() {
    let tmp = tempfile::tempdir().unwrap();
    let empty_path = tmp.path().join("bin");
    std::fs::create_dir_all(&empty_path).unwrap();
    let locator = Locator {
        stata_path: None,
        home: Some(tmp.path().join("home")),
        path_var: Some(empty_path.clone().into_os_string()),
        os: Os::Linux,
        root: tmp.path().to_path_buf(),
    };
    let tools = StataTools::new(ToolsConfig::from_locator(&locator));
    assert!(tools.unavailable().is_some());
    let server = mcp_core::Server::builder("no-stata", "1")
        .tools(tools)
        .build()
        .unwrap();
    let client = mcp_core::memory::connect(&server).await.unwrap();
    let listed = client.list_tools().await.unwrap();
    assert_eq!(listed.len(), 11);
    for tool in listed {
        let result = client
            .call_tool(&tool.name, arguments(&tool.name))
            .await
            .unwrap();
        assert!(result.is_error(), "{}", tool.name);
        let text = result.text();
        assert!(
            text.starts_with("Stata was not found."),
            "{}: {text}",
            tool.name
        );
        assert!(
            text.contains("usr/local/stata18"),
            "names where it looked: {text}"
        );
        assert!(
            text.contains(empty_path.to_str().unwrap()),
            "and PATH: {text}"
        );
        assert!(text.contains("Set the environment variable STATA_PATH"));
    }

    let locator = Locator {
        stata_path: Some(tmp.path().join("nope/stata-mp").into_os_string()),
        ..locator
    };
    let server = mcp_core::Server::builder("bad-path", "1")
        .tools(StataTools::new(ToolsConfig::from_locator(&locator)))
        .build()
        .unwrap();
    let client = mcp_core::memory::connect(&server).await.unwrap();
    let result = client
        .call_tool("stata_run_code", json!({ "code": "display 1" }))
        .await
        .unwrap();
    assert!(result.is_error());
    assert!(
        result.text().starts_with("STATA_PATH is set to ")
            && result.text().contains("no such file exists"),
        "{}",
        result.text()
    );
}
