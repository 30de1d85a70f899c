//! Helpers shared by the behaviour tests.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use mcp_core::client::{ClientEra, ClientOptions};
use mcp_core::protocol::ToolDefinition as Tool;
use mcp_core::{Client, Server};
use serde_json::Value;

/// Fails the test instead of hanging when `future` does not complete in time.
pub async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("timed out (a deadlock, or something buffered)")
}

/// A client connected in memory to a new session of `server`.
pub async fn connect(server: &Server) -> Client {
    within(mcp_core::memory::connect(server))
        .await
        .expect("client connects")
}

/// A client connected in memory in the protocol era `era` (the default, `Auto`, speaks
/// 2026-07-28 to these servers).
pub async fn connect_in(server: &Server, era: ClientEra) -> Client {
    let options = ClientOptions {
        era,
        ..ClientOptions::default()
    };
    within(mcp_core::memory::connect_with(server, options))
        .await
        .expect("client connects")
}

/// The definitions `tools/list` returns, each checked against the official `Tool` schema of
/// revision 2025-11-25 and its `inputSchema`/`outputSchema` against the JSON Schema 2020-12
/// meta-schema.
pub async fn list(client: &Client) -> Vec<Tool> {
    let tools = within(client.list_tools()).await.expect("tools/list");
    for tool in &tools {
        assert_valid_definition(tool);
    }
    tools
}

/// The definition named `name`.
pub fn find<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tool named {name}"))
}

/// Checks a definition against the official schema and its schemas against the meta-schema.
pub fn assert_valid_definition(tool: &Tool) {
    let input = Value::Object(tool.input_schema.clone());
    assert_valid_json_schema(&input);
    if let Some(output) = &tool.output_schema {
        assert_valid_json_schema(&Value::Object(output.clone()));
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/mcp-schema/2025-11-25/schema.json"
    );
    let text = std::fs::read_to_string(path).expect("official schema");
    let mut schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    schema["$ref"] = "#/$defs/Tool".into();
    let validator = jsonschema::validator_for(&schema).expect("official schema compiles");
    let definition = serde_json::to_value(tool).expect("definition serializes");
    let errors: Vec<String> = validator
        .iter_errors(&definition)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{definition:#} is not a valid Tool:\n{}",
        errors.join("\n")
    );
}

/// Checks `schema` against the JSON Schema draft 2020-12 meta-schema.
pub fn assert_valid_json_schema(schema: &Value) {
    if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
        panic!("not a valid JSON Schema 2020-12: {e}\n{schema:#}");
    }
    jsonschema::draft202012::new(schema).expect("schema compiles");
}

/// Whether `instance` matches `schema`.
pub fn accepts(schema: &Value, instance: &Value) -> bool {
    jsonschema::draft202012::new(schema)
        .expect("schema compiles")
        .is_valid(instance)
}
