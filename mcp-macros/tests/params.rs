//! Every parameter shape of a `#[tool]` function: what the input schema says, and what the
//! body receives.

#![deny(missing_docs)]

mod common;

use common::{accepts, connect, find, list, within};
use mcp_core::{Context, Server, tool};
use serde_json::{Value, json};

/// Adds two numbers.
#[tool]
async fn add(
    /// The first number.
    a: i64,
    /// The second number.
    b: i64,
) -> String {
    (a + b).to_string()
}

/// Greets someone.
#[tool]
async fn greet(
    /// Who to greet; everyone when absent.
    name: Option<String>,
    /// How many times.
    #[arg(default = 2)]
    times: u32,
    /// Shout the greeting.
    #[arg(rename = "loudly")]
    shout: bool,
    #[arg(default, description = "Appended to each greeting.")] suffix: String,
) -> String {
    let one = format!("hello {}{suffix}", name.as_deref().unwrap_or("everyone"));
    let one = if shout { one.to_uppercase() } else { one };
    vec![one; times as usize].join(" ")
}

/// Tells the id of the request it serves.
#[tool]
async fn request_id(ctx: Context) -> String {
    ctx.request_id().to_string()
}

/// Tells the id of the request it serves, from a borrowed context.
#[tool]
async fn request_id_ref(
    /// Put before the id.
    prefix: String,
    ctx: &Context,
) -> String {
    format!("{prefix}{}", ctx.request_id())
}

/// Answers pong.
#[tool]
async fn ping() -> &'static str {
    "pong"
}

/// Counts the characters of a text. Multi-line docs stay one description:
///
/// a second paragraph.
#[tool(
    name = "char-count",
    title = "Character count",
    read_only,
    idempotent,
    open_world = false
)]
async fn r#loop(mut text: String) -> String {
    text.push('!');
    (text.chars().count() - 1).to_string()
}

/// Reports the lines of a file,
/// one progress event per line,
/// and returns how many there were.
///
/// - wrapped list items
///   stay one item;
/// - each item its own line.
#[tool]
async fn wrapped_docs(
    /// The file to read, relative to
    /// the working directory.
    path: String,
) -> String {
    path
}

/// Takes an argument whose name is a keyword.
#[tool]
async fn keyword_args(r#type: String, r#async: Option<bool>) -> String {
    format!("{type} {}", r#async.unwrap_or(false), type = r#type)
}

#[tool(description = "Described by its attribute only.")]
pub async fn attribute_description() {}

fn server() -> Server {
    Server::builder("params", "1")
        .tool(add)
        .tool(greet)
        .tool(request_id)
        .tool(request_id_ref)
        .tool(ping)
        .tool(r#loop)
        .tool(keyword_args)
        .tool(attribute_description)
        .tool(wrapped_docs)
        .build()
        .expect("server builds")
}

async fn call(client: &mcp_core::Client, name: &str, args: Value) -> mcp_core::CallToolResult {
    within(client.call_tool(name, args))
        .await
        .expect("tools/call")
}

#[tokio::test]
async fn required_arguments_with_descriptions() {
    let client = connect(&server()).await;
    let tools = list(&client).await;
    let adder = find(&tools, "add");
    assert_eq!(adder.description.as_deref(), Some("Adds two numbers."));
    let schema = Value::Object(adder.input_schema.clone());
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"]["a"]["type"], "integer");
    assert_eq!(
        schema["properties"]["a"]["description"],
        "The first number."
    );
    assert_eq!(
        schema["properties"]["b"]["description"],
        "The second number."
    );
    assert_eq!(schema["required"], json!(["a", "b"]));
    assert!(accepts(&schema, &json!({"a": 1, "b": 2})));
    assert!(!accepts(&schema, &json!({"a": 1})));
    assert!(!accepts(&schema, &json!({"a": "1", "b": 2})));

    let result = call(&client, "add", json!({"a": 40, "b": 2})).await;
    assert!(!result.is_error());
    assert_eq!(result.text(), "42");
    assert!(result.structured_content.is_none());
}

#[tokio::test]
async fn wrapped_doc_comments_become_paragraphs() {
    let client = connect(&server()).await;
    let tools = list(&client).await;
    let tool = find(&tools, "wrapped_docs");
    assert_eq!(
        tool.description.as_deref(),
        Some(
            "Reports the lines of a file, one progress event per line, and returns how many there were.\n\n\
             - wrapped list items stay one item;\n\
             - each item its own line."
        )
    );
    assert_eq!(
        tool.input_schema["properties"]["path"]["description"],
        "The file to read, relative to the working directory."
    );
}

#[tokio::test]
async fn optional_default_and_renamed_arguments() {
    let client = connect(&server()).await;
    let tools = list(&client).await;
    let schema = Value::Object(find(&tools, "greet").input_schema.clone());
    let props = &schema["properties"];
    assert_eq!(schema["required"], json!(["loudly"]), "{schema:#}");
    assert_eq!(props["times"]["default"], 2);
    assert_eq!(props["times"]["description"], "How many times.");
    assert_eq!(props["suffix"]["default"], "");
    assert_eq!(props["suffix"]["description"], "Appended to each greeting.");
    assert_eq!(props["loudly"]["type"], "boolean");
    assert!(props.get("shout").is_none());
    assert!(
        props["name"]["type"] == json!(["string", "null"]),
        "{schema:#}"
    );
    assert!(props["name"].get("default").is_none(), "{schema:#}");
    assert_eq!(
        props["name"]["description"],
        "Who to greet; everyone when absent."
    );
    assert!(accepts(&schema, &json!({"loudly": false})));
    assert!(accepts(
        &schema,
        &json!({"loudly": true, "name": null, "times": 1})
    ));
    assert!(!accepts(&schema, &json!({"shout": true})));

    let result = call(&client, "greet", json!({"loudly": false})).await;
    assert_eq!(result.text(), "hello everyone hello everyone");
    let result = call(
        &client,
        "greet",
        json!({"name": "ada", "times": 1, "loudly": true, "suffix": "?"}),
    )
    .await;
    assert_eq!(result.text(), "HELLO ADA?");
}

#[tokio::test]
async fn context_is_injected_not_an_argument() {
    let client = connect(&server()).await;
    let tools = list(&client).await;
    let owned = find(&tools, "request_id");
    assert_eq!(owned.input_schema["properties"], json!({}));
    assert!(owned.input_schema.get("required").is_none());
    let borrowed = find(&tools, "request_id_ref");
    assert_eq!(borrowed.input_schema["required"], json!(["prefix"]));
    assert_eq!(
        borrowed.input_schema["properties"]
            .as_object()
            .unwrap()
            .len(),
        1
    );

    let first = call(&client, "request_id", json!({})).await.text();
    let second = call(&client, "request_id", json!({})).await.text();
    assert_ne!(first, second, "each call has its own context");
    assert!(first.parse::<i64>().is_ok(), "{first}");
    let third = call(&client, "request_id_ref", json!({"prefix": "id="}))
        .await
        .text();
    assert!(third.starts_with("id="), "{third}");
}

#[tokio::test]
async fn no_parameters() {
    let client = connect(&server()).await;
    let tools = list(&client).await;
    // (A `let` binding named like the tool would be a pattern matching its unit struct.)
    let pinger = find(&tools, "ping");
    assert_eq!(
        Value::Object(pinger.input_schema.clone()),
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(call(&client, "ping", json!({})).await.text(), "pong");
    // Absent arguments are an empty object.
    assert_eq!(call(&client, "ping", Value::Null).await.text(), "pong");
}

#[tokio::test]
async fn name_title_hints_and_raw_identifiers() {
    let client = connect(&server()).await;
    let tools = list(&client).await;
    assert!(tools.iter().all(|t| t.name != "loop"));
    let count = find(&tools, "char-count");
    assert_eq!(count.title.as_deref(), Some("Character count"));
    assert_eq!(
        count.description.as_deref(),
        Some(
            "Counts the characters of a text. Multi-line docs stay one description:\n\na second paragraph."
        )
    );
    let annotations = count.annotations.as_ref().expect("annotations");
    assert_eq!(annotations.title.as_deref(), Some("Character count"));
    assert_eq!(annotations.read_only_hint, Some(true));
    assert_eq!(annotations.idempotent_hint, Some(true));
    assert_eq!(annotations.open_world_hint, Some(false));
    assert_eq!(annotations.destructive_hint, None);
    assert!(find(&tools, "add").annotations.is_none());
    assert!(find(&tools, "add").title.is_none());
    assert_eq!(
        call(&client, "char-count", json!({"text": "héllo"}))
            .await
            .text(),
        "5"
    );

    assert_eq!(
        find(&tools, "attribute_description").description.as_deref(),
        Some("Described by its attribute only.")
    );

    let schema = &find(&tools, "keyword_args").input_schema;
    assert_eq!(schema["required"], json!(["type"]));
    assert!(schema["properties"].get("async").is_some());
    let r = call(&client, "keyword_args", json!({"type": "t", "async": true})).await;
    assert_eq!(r.text(), "t true");
}

#[tokio::test]
async fn invalid_arguments_are_tool_errors() {
    let client = connect(&server()).await;
    let missing = call(&client, "add", json!({"a": 1})).await;
    assert!(missing.is_error());
    let text = missing.text();
    assert!(
        text.contains("add") && text.contains("missing field `b`"),
        "{text}"
    );

    let wrong = call(&client, "add", json!({"a": 1, "b": "two"})).await;
    assert!(wrong.is_error());
    assert!(wrong.text().contains("invalid type"), "{}", wrong.text());

    let negative = call(&client, "greet", json!({"loudly": true, "times": -1})).await;
    assert!(negative.is_error());
    assert!(
        negative.text().contains("times") || negative.text().contains("u32"),
        "{}",
        negative.text()
    );
}

#[test]
fn the_tool_is_a_function_returning_a_tool() {
    use mcp_core::Tool as _;
    let definition = add.definition();
    assert_eq!(definition.name, "add");
    // Cached, and still equal on every call, through the function or its value.
    assert_eq!(add().definition(), definition);
    // The name is a function, not a unit struct: a local of the same name is just a local.
    let add = 5;
    assert_eq!(add, 5);
}
