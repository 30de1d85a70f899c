//! Every return shape of a `#[tool]` function, and `return`/`?` inside its body.

mod common;

use std::fmt;

use common::{connect, find, list, within};
use mcp_core::{CallToolResult, Content, Json, Server, tool};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

/// Text.
#[tool]
async fn plain_text() -> String {
    "a string".to_owned()
}

/// Static text.
#[tool]
async fn static_text() -> &'static str {
    "a str"
}

/// One content block.
#[tool]
async fn one_block() -> Content {
    Content::image("aGk=", "image/png")
}

/// Several content blocks.
#[tool]
async fn blocks() -> Vec<Content> {
    vec![Content::text("one"), Content::text("two")]
}

/// A whole result.
#[tool]
async fn whole() -> CallToolResult {
    let mut result = CallToolResult::success(vec![Content::text("custom")]);
    result.meta = Some(serde_json::Map::from_iter([("k".to_owned(), json!(1))]));
    result
}

/// Returns unit.
#[tool]
async fn unit() -> () {}

/// Returns nothing.
#[tool]
async fn nothing(
    /// Ignored.
    _n: u8,
) {
}

/// A summary of numbers.
#[derive(Debug, Serialize, JsonSchema)]
struct Summary {
    /// How many.
    count: usize,
    /// Their mean.
    mean: f64,
}

/// Summarizes numbers (structured output).
#[tool]
async fn summarize(values: Vec<f64>) -> Summary {
    Summary {
        count: values.len(),
        mean: values.iter().sum::<f64>() / values.len().max(1) as f64,
    }
}

/// A list, explicitly structured.
#[tool]
async fn evens(up_to: u32) -> Json<Vec<u32>> {
    Json((0..=up_to).filter(|n| n % 2 == 0).collect())
}

/// A bare number, structured by itself.
#[tool]
async fn square(n: i64) -> i64 {
    n * n
}

#[derive(Debug)]
struct Refusal(&'static str);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused: {}", self.0)
    }
}

/// Divides, failing on zero.
#[tool]
async fn divide(a: i64, b: i64) -> Result<String, Refusal> {
    if b == 0 {
        return Err(Refusal("division by zero"));
    }
    Ok((a / b).to_string())
}

/// Parses then summarizes; `?` leaves early.
#[tool]
async fn parse_summary(text: String) -> Result<Summary, std::num::ParseFloatError> {
    let mut values = Vec::new();
    for part in text.split(',') {
        values.push(part.trim().parse::<f64>()?);
    }
    Ok(Summary {
        count: values.len(),
        mean: values.iter().sum::<f64>() / values.len() as f64,
    })
}

/// A `Result` alias with one argument.
#[tool]
async fn read_missing(path: String) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

/// Explicit `return` of the declared type, before the tail.
#[tool]
async fn early(flag: bool) -> String {
    if flag {
        return "returned early".into();
    }
    let tail = "reached the tail";
    tail.to_owned()
}

/// `fmt::Result`: an alias without generic arguments, converted as is.
#[tool]
async fn formatted(fail: bool) -> fmt::Result {
    if fail { Err(fmt::Error) } else { Ok(()) }
}

fn server() -> Server {
    Server::builder("returns", "1")
        .tool(plain_text)
        .tool(static_text)
        .tool(one_block)
        .tool(blocks)
        .tool(whole)
        .tool(unit)
        .tool(nothing)
        .tool(summarize)
        .tool(evens)
        .tool(square)
        .tool(divide)
        .tool(parse_summary)
        .tool(read_missing)
        .tool(early)
        .tool(formatted)
        .build()
        .expect("server builds")
}

async fn call(client: &mcp_core::Client, name: &str, args: Value) -> CallToolResult {
    within(client.call_tool(name, args))
        .await
        .expect("tools/call")
}

#[tokio::test]
async fn text_and_content_are_used_as_is() {
    let client = connect(&server()).await;
    let tools = list(&client).await;
    for name in [
        "plain_text",
        "static_text",
        "one_block",
        "blocks",
        "whole",
        "unit",
        "nothing",
        "divide",
        "early",
        "formatted",
        "read_missing",
    ] {
        assert!(
            find(&tools, name).output_schema.is_none(),
            "{name} has no output schema"
        );
    }

    let r = call(&client, "plain_text", json!({})).await;
    assert_eq!(
        (
            r.text().as_str(),
            r.is_error(),
            r.structured_content.is_none()
        ),
        ("a string", false, true)
    );
    assert_eq!(
        call(&client, "static_text", json!({})).await.text(),
        "a str"
    );
    let r = call(&client, "one_block", json!({})).await;
    assert_eq!(r.content, vec![Content::image("aGk=", "image/png")]);
    let r = call(&client, "blocks", json!({})).await;
    assert_eq!(r.content, vec![Content::text("one"), Content::text("two")]);
    let r = call(&client, "whole", json!({})).await;
    assert_eq!(r.text(), "custom");
    assert_eq!(r.meta.unwrap()["k"], 1);
    for name in ["unit", "nothing"] {
        let r = call(&client, name, json!({"_n": 1})).await;
        assert!(r.content.is_empty() && !r.is_error(), "{name}: {r:?}");
    }
}

#[tokio::test]
async fn other_types_are_structured() {
    let client = connect(&server()).await;
    let tools = list(&client).await;
    let schema = Value::Object(
        find(&tools, "summarize")
            .output_schema
            .clone()
            .expect("outputSchema"),
    );
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"]["count"]["description"], "How many.");
    assert_eq!(schema["required"], json!(["count", "mean"]));

    let r = call(&client, "summarize", json!({"values": [1.0, 2.0, 6.0]})).await;
    let structured = Value::Object(r.structured_content.clone().expect("structuredContent"));
    assert_eq!(structured, json!({"count": 3, "mean": 3.0}));
    assert!(common::accepts(&schema, &structured));
    assert_eq!(
        serde_json::from_str::<Value>(&r.text()).unwrap(),
        structured
    );

    let schema = Value::Object(
        find(&tools, "evens")
            .output_schema
            .clone()
            .expect("outputSchema"),
    );
    assert_eq!(schema["required"], json!(["result"]));
    let r = call(&client, "evens", json!({"up_to": 6})).await;
    let structured = Value::Object(r.structured_content.unwrap());
    assert_eq!(structured, json!({"result": [0, 2, 4, 6]}));
    assert!(common::accepts(&schema, &structured));

    let schema = Value::Object(
        find(&tools, "square")
            .output_schema
            .clone()
            .expect("outputSchema"),
    );
    let r = call(&client, "square", json!({"n": -7})).await;
    let structured = Value::Object(r.structured_content.unwrap());
    assert_eq!(structured, json!({"result": 49}));
    assert!(common::accepts(&schema, &structured));
}

#[tokio::test]
async fn results_map_err_to_tool_errors() {
    let client = connect(&server()).await;
    let ok = call(&client, "divide", json!({"a": 9, "b": 3})).await;
    assert_eq!((ok.text().as_str(), ok.is_error()), ("3", false));
    let err = call(&client, "divide", json!({"a": 9, "b": 0})).await;
    assert_eq!(
        (err.text().as_str(), err.is_error()),
        ("refused: division by zero", true)
    );

    let missing = call(
        &client,
        "read_missing",
        json!({"path": "/definitely/not/here"}),
    )
    .await;
    assert!(missing.is_error());
    assert!(!missing.text().is_empty());

    assert!(
        !call(&client, "formatted", json!({"fail": false}))
            .await
            .is_error()
    );
    let failed = call(&client, "formatted", json!({"fail": true})).await;
    assert!(failed.is_error());
}

#[tokio::test]
async fn structured_results_and_question_mark() {
    let client = connect(&server()).await;
    let tools = list(&client).await;
    let schema = find(&tools, "parse_summary")
        .output_schema
        .clone()
        .expect("Ok type's schema");
    assert_eq!(schema["type"], "object");

    let ok = call(&client, "parse_summary", json!({"text": "1, 3"})).await;
    assert!(!ok.is_error());
    assert_eq!(
        Value::Object(ok.structured_content.unwrap()),
        json!({"count": 2, "mean": 2.0})
    );

    let err = call(&client, "parse_summary", json!({"text": "1, x, 3"})).await;
    assert!(err.is_error());
    assert!(err.structured_content.is_none());
    assert_eq!(err.text(), "invalid float literal");
}

#[tokio::test]
async fn explicit_return() {
    let client = connect(&server()).await;
    assert_eq!(
        call(&client, "early", json!({"flag": true})).await.text(),
        "returned early"
    );
    assert_eq!(
        call(&client, "early", json!({"flag": false})).await.text(),
        "reached the tail"
    );
}
