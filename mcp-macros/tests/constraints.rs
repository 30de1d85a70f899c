//! `#[arg(min, max, min_len, max_len, pattern)]`: the input schema says it, and an argument
//! that breaks a constraint gets a readable tool error without the body running.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{accepts, connect, find, list, within};
use mcp_core::{Server, tool};
use serde_json::{Value, json};

/// How many times a body ran.
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Repeats a word.
#[tool]
async fn repeat(
    /// How many times, from 1 to 10.
    #[arg(min = 1, max = 10)]
    times: u32,
    /// A lowercase word of 2 to 8 letters.
    #[arg(min_len = 2, max_len = 8, pattern = "^[a-z]+$")]
    word: String,
    /// Put between the words.
    #[arg(max_len = 3)]
    separator: Option<String>,
    /// A scale, from -1.5 up.
    #[arg(min = -1.5, default = 0.0)]
    scale: f64,
    /// Tags: at least one.
    #[arg(min_len = 1)]
    tags: Vec<String>,
) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    let separator = separator.unwrap_or_else(|| " ".to_owned());
    let _ = (scale, tags);
    vec![word; times as usize].join(&separator)
}

#[tokio::test]
async fn the_schema_carries_each_constraint() {
    let server = Server::builder("c", "1").tool(repeat).build().unwrap();
    let client = connect(&server).await;
    let tools = list(&client).await;
    let schema = &find(&tools, "repeat").input_schema;
    let p = &schema["properties"];
    assert_eq!(
        (&p["times"]["minimum"], &p["times"]["maximum"]),
        (&json!(1), &json!(10))
    );
    assert_eq!(p["word"]["minLength"], 2);
    assert_eq!(p["word"]["maxLength"], 8);
    assert_eq!(p["word"]["pattern"], "^[a-z]+$");
    assert_eq!(p["separator"]["maxLength"], 3);
    assert_eq!(p["scale"]["minimum"], -1.5);
    assert_eq!(p["tags"]["minItems"], 1);
    assert!(p["tags"].get("minLength").is_none());
    let schema = Value::Object(schema.clone());
    assert!(accepts(
        &schema,
        &json!({"times": 2, "word": "ab", "tags": ["x"]})
    ));
    assert!(!accepts(
        &schema,
        &json!({"times": 11, "word": "ab", "tags": ["x"]})
    ));
    assert!(!accepts(
        &schema,
        &json!({"times": 2, "word": "AB", "tags": ["x"]})
    ));
    assert!(!accepts(
        &schema,
        &json!({"times": 2, "word": "ab", "tags": []})
    ));
}

#[tokio::test]
async fn out_of_range_arguments_never_reach_the_body() {
    let server = Server::builder("c", "1").tool(repeat).build().unwrap();
    let client = connect(&server).await;
    let call = |args: Value| within(client.call_tool("repeat", args));
    let before = RUNS.load(Ordering::SeqCst);
    let r = call(json!({"times": 11, "word": "Hi", "separator": "----", "scale": -2, "tags": []}))
        .await
        .unwrap();
    assert!(r.is_error());
    assert_eq!(
        r.text(),
        "Invalid arguments for tool `repeat`: `times` must be at most 10 (got 11); \
         `word` must match the pattern `^[a-z]+$` (got \"Hi\"); \
         `separator` must be at most 3 characters long (got 4); \
         `scale` must be at least -1.5 (got -2); \
         `tags` must have at least 1 item (got 0)"
    );
    let r = call(json!({"times": 0, "word": "a", "tags": ["t"]}))
        .await
        .unwrap();
    assert_eq!(
        r.text(),
        "Invalid arguments for tool `repeat`: `times` must be at least 1 (got 0); \
         `word` must be at least 2 characters long (got 1)"
    );
    assert_eq!(RUNS.load(Ordering::SeqCst), before, "the body ran");

    let r = call(json!({"times": 2, "word": "ab", "separator": "-", "tags": ["t"]}))
        .await
        .unwrap();
    assert!(!r.is_error(), "{r:?}");
    assert_eq!(r.text(), "ab-ab");
    assert_eq!(RUNS.load(Ordering::SeqCst), before + 1);
}
