//! What the run tools put in their results: Stata's error code and message, nested do-files,
//! awkward paths, a byte-order mark, graphs as images.

mod common;
mod support;

use common::FLUSH_POLICIES;
use mcp_core::Content;
use mcp_stata::tools::base64;
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stata_error_gives_its_code_and_message() {
    for policy in FLUSH_POLICIES {
        let h = harness(&[("STANDIN_FLUSH", policy)]).await;
        let code = "* comment\nset obs 100\ngen y = bad_var + 1\ndisplay \"never\"\n";
        let done = h.run("stata_run_code", json!({ "code": code })).await;
        assert!(done.result.is_error(), "{policy}");
        let report = done.structured();
        assert_eq!(report["status"], "stata_error", "{policy}");
        assert_eq!(report["rc"], 111);
        assert_eq!(report["error_message"], "bad_var not found");
        assert_eq!(report["commands_executed"], 2);
        assert_eq!(report["commands_total"], 3);
        assert_eq!(report["exit_code"], 0, "Stata exits with 0 even on error");
        let text = done.text();
        assert!(
            text.starts_with("Stata stopped with error r(111): bad_var not found\n"),
            "{text}"
        );
        assert!(text.contains("It failed at command 2 of 3"));
        assert!(text.contains("\nr(111);\n"), "the log tail is in the text");
        assert!(!done.lines().contains(&"never".to_owned()));
    }
}

/// A do-file in a directory whose name has spaces and double quotes runs another one by a
/// relative path with spaces; the inner error unwinds to the result; arguments with spaces
/// arrive whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_do_files_in_awkward_paths() {
    let h = harness(&[]).await;
    h.fx.write(
        "my \"q\" project/sub dir/inner.do",
        "display \"inner\"\nerror 198\n",
    );
    let main = h.fx.write(
        "my \"q\" project/main file.do",
        "display \"outer `1' / `2'\"\ndo \"sub dir/inner.do\"\ndisplay \"not reached\"\n",
    );
    let done = h
        .run(
            "stata_run_do_file",
            json!({ "path": main, "args": ["a b", "c"] }),
        )
        .await;
    let lines = done.lines();
    assert!(lines.contains(&"outer a b / c".to_owned()), "{lines:?}");
    assert!(lines.contains(&"inner".to_owned()));
    assert!(!lines.contains(&"not reached".to_owned()));
    let report = done.structured();
    assert_eq!(report["rc"], 198);
    assert_eq!(report["error_message"], "invalid syntax");
    assert_eq!(
        report["commands_executed"], 2,
        "the inner file's commands are not the outer file's"
    );
}

/// Relative paths are relative to the server's working directory; `.do` may be left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_do_file_paths_and_missing_files() {
    let h = harness(&[]).await;
    h.fx.write("work/analysis/run me.do", "display \"ran\"\n");
    let done = h
        .run("stata_run_do_file", json!({ "path": "analysis/run me" }))
        .await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert!(done.lines().contains(&"ran".to_owned()));

    let done = h
        .run(
            "stata_run_do_file",
            json!({ "path": "analysis/missing.do" }),
        )
        .await;
    assert!(done.result.is_error());
    assert!(
        done.text().starts_with("cannot read the do-file "),
        "{}",
        done.text()
    );
    assert!(done.text().contains("missing.do"));
}

/// Real Stata on Windows reads a UTF-8 byte-order mark as part of the first command (the
/// stand-in does too); the plugin runs the file without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byte_order_mark_does_not_break_the_first_command() {
    let h = harness(&[]).await;
    let do_file = h.fx.write(
        "bom.do",
        "\u{feff}display \"bom ok\"\ndisplay \"ünïcode\"\n",
    );
    let done = h.run("stata_run_do_file", json!({ "path": do_file })).await;
    assert!(!done.result.is_error(), "{}", done.text());
    assert!(done.lines().contains(&"bom ok".to_owned()));
    assert!(done.lines().contains(&"ünïcode".to_owned()));
    assert_eq!(done.structured()["commands_executed"], 2);
}

fn images(result: &mcp_core::CallToolResult) -> Vec<(String, String)> {
    result
        .content
        .iter()
        .filter_map(|c| match c {
            Content::Image(image) => Some((image.data.clone(), image.mime_type.clone())),
            _ => None,
        })
        .collect()
}

/// Graphs exported during a run come back as image content, and the report names them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_graphs_are_attached_as_images() {
    for message in ["new", "old", "full"] {
        let h = harness(&[("STANDIN_GRAPH_MESSAGE", message)]).await;
        let code = "graph export \"my graph.png\", replace\ndisplay \"drawn\"\n";
        let done = h.run("stata_run_code", json!({ "code": code })).await;
        assert!(!done.result.is_error(), "{}", done.text());
        let path = h.fx.tmp.path().join("work/my graph.png");
        let bytes = std::fs::read(&path).unwrap();
        let images = images(&done.result);
        assert_eq!(images.len(), 1, "{message}");
        assert_eq!(images[0].1, "image/png");
        assert!(images[0].0.starts_with("iVBORw0KGgo"), "a PNG signature");
        assert_eq!(images[0].0, base64::encode(&bytes));
        let graph = &done.structured()["graphs"][0];
        assert_eq!(graph["path"], path.to_str().unwrap());
        assert_eq!(graph["format"], "PNG");
        assert_eq!(graph["attached"], true);
        assert!(done.text().contains("attached below"));
    }
}

/// The export tool saves where it is told (or in the job directory) and attaches the image.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_tool_returns_the_graph() {
    let h = harness(&[]).await;
    let done = h
        .run(
            "stata_export_graph",
            json!({ "code": "display \"drawing\"", "path": "figs/out.png", "width": 800 }),
        )
        .await;
    assert!(!done.result.is_error(), "{}", done.text());
    let saved = h.fx.tmp.path().join("work/figs/out.png");
    assert!(
        done.lines()
            .iter()
            .any(|l| l.contains("width(800) replace"))
    );
    assert_eq!(images(&done.result).len(), 1);
    assert!(saved.exists());

    let done = h.run("stata_export_graph", json!({})).await;
    assert!(!done.result.is_error(), "{}", done.text());
    let path = done.structured()["graphs"][0]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(path.starts_with(h.fx.tmp.path().join("jobs/graphs").to_str().unwrap()));
    assert_eq!(images(&done.result).len(), 1);
}

/// The guide's transcript comes from `examples/analysis.do`: it still runs as shown there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_s_do_file_ends_as_the_transcript_shows() {
    let h = harness(&[]).await;
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/analysis.do"))
            .unwrap();
    let do_file = h.fx.write("work/analysis.do", &text);
    let done = h.run("stata_run_do_file", json!({ "path": do_file })).await;
    let report = done.structured();
    assert_eq!(report["rc"], 111);
    assert_eq!(report["error_message"], "missing_var not found");
    assert_eq!(report["commands_executed"], 8);
    assert_eq!(report["commands_total"], 9);
    assert_eq!(images(&done.result).len(), 1);
    assert!(done.lines().contains(&"fitting the model...".to_owned()));
    assert!(
        done.text().starts_with(
            "Stata stopped with error r(111): missing_var not found\nIt failed at command 8 of 9 (line 9: `gen z = missing_var + 1`). Later commands did not run.\n"
        ),
        "{}",
        done.text()
    );
}
