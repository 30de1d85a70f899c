//! The conformance server's tools.

use std::time::Duration;

use mcp_core::protocol::{
    CallToolResult, Content, CreateMessageParams, ElicitResult, EmbeddedResource, ResourceContents,
    SamplingMessage, TextResourceContents, ToolDefinition,
};
use mcp_core::tool::FnTool;
use mcp_core::{Context, JsonObject, Progress, RequestError, ServerBuilder, tool};
use serde_json::{Value, json};

use super::{PNG, WAV};

/// The pause between the steps of the logging and progress tools.
const STEP: Duration = Duration::from_millis(50);

/// Returns a fixed line of text.
#[tool]
async fn test_simple_text() -> &'static str {
    "This is a simple text response for testing."
}

/// Returns a 1x1 PNG image.
#[tool]
async fn test_image_content() -> Content {
    Content::image(PNG, "image/png")
}

/// Returns a short WAV clip.
#[tool]
async fn test_audio_content() -> Content {
    Content::audio(WAV, "audio/wav")
}

/// Returns an embedded text resource.
#[tool]
async fn test_embedded_resource() -> Content {
    Content::embedded_text(
        "test://embedded-resource",
        "This is an embedded resource content.",
    )
}

/// Returns text, an image and an embedded JSON resource in one result.
#[tool]
async fn test_multiple_content_types() -> Vec<Content> {
    let resource = Content::Resource(EmbeddedResource {
        resource: ResourceContents::Text(TextResourceContents {
            uri: "test://mixed-content-resource".into(),
            mime_type: Some("application/json".into()),
            text: json!({"test": "data", "value": 123}).to_string(),
            meta: None,
        }),
        annotations: None,
        meta: None,
    });
    vec![
        Content::text("Multiple content types test:"),
        Content::image(PNG, "image/png"),
        resource,
    ]
}

/// Sends three log messages at info level while it runs, 50 ms apart.
#[tool]
async fn test_tool_with_logging(ctx: Context) -> &'static str {
    ctx.info("Tool execution started").await;
    tokio::time::sleep(STEP).await;
    ctx.info("Tool processing data").await;
    tokio::time::sleep(STEP).await;
    ctx.info("Tool execution completed").await;
    "Tool with logging executed successfully"
}

/// Reports progress 0, 50 and 100 of 100, 50 ms apart.
#[tool]
async fn test_tool_with_progress() -> &'static str {
    yield_!(Progress::new().at(0.0).of(100.0).message("started"));
    tokio::time::sleep(STEP).await;
    yield_!(Progress::new().at(50.0).of(100.0).message("half way"));
    tokio::time::sleep(STEP).await;
    yield_!(Progress::new().at(100.0).of(100.0).message("done"));
    "Tool with progress executed successfully"
}

/// Always fails, with a tool error the model can read.
#[tool]
async fn test_error_handling() -> Result<String, String> {
    Err("This tool intentionally returns an error for testing".into())
}

/// Asks the client's model to answer `prompt` (sampling) and returns its answer.
#[tool]
async fn test_sampling(
    /// The prompt to send to the model.
    prompt: String,
    ctx: Context,
) -> Result<String, RequestError> {
    let params = CreateMessageParams::new(vec![SamplingMessage::user(prompt)], 100);
    let reply = ctx.create_message(params).await?;
    Ok(format!("LLM response: {}", reply.text()))
}

/// Asks the user, through the client, for a username and an email address (elicitation).
#[tool]
async fn test_elicitation(
    /// The message to show the user.
    message: String,
    ctx: Context,
) -> Result<String, RequestError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"}
        },
        "required": ["username", "email"]
    });
    let answer = ctx.elicit(message, object(schema)).await?;
    Ok(format!("User response: {}", describe(&answer)))
}

/// Asks the user for values of every primitive type, each with a default (SEP-1034).
#[tool]
async fn test_elicitation_sep1034_defaults(ctx: Context) -> Result<String, RequestError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {
                "type": "string",
                "description": "User status",
                "enum": ["active", "inactive", "pending"],
                "default": "active"
            },
            "verified": {"type": "boolean", "description": "Verification status", "default": true}
        }
    });
    let answer = ctx
        .elicit("Please review and update the form fields", object(schema))
        .await?;
    Ok(format!("Elicitation completed: {}", describe(&answer)))
}

/// Asks the user to choose with each of the five enum forms (SEP-1330).
#[tool]
async fn test_elicitation_sep1330_enums(ctx: Context) -> Result<String, RequestError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "untitledSingle": {
                "type": "string",
                "description": "Pick one option",
                "enum": ["option1", "option2", "option3"]
            },
            "titledSingle": {
                "type": "string",
                "description": "Pick one titled option",
                "oneOf": [
                    {"const": "value1", "title": "First Option"},
                    {"const": "value2", "title": "Second Option"},
                    {"const": "value3", "title": "Third Option"}
                ]
            },
            "legacyEnum": {
                "type": "string",
                "description": "Pick one option (legacy titles)",
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"]
            },
            "untitledMulti": {
                "type": "array",
                "description": "Pick several options",
                "items": {"type": "string", "enum": ["option1", "option2", "option3"]}
            },
            "titledMulti": {
                "type": "array",
                "description": "Pick several titled options",
                "items": {"anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"}
                ]}
            }
        }
    });
    let answer = ctx
        .elicit("Please pick your options", object(schema))
        .await?;
    Ok(format!("Elicitation completed: {}", describe(&answer)))
}

/// `action=<action>, content=<content as JSON>`.
fn describe(answer: &ElicitResult) -> String {
    let content = answer.content.clone().map_or(Value::Null, Value::Object);
    format!("action={}, content={content}", answer.action.as_str())
}

/// The object inside a `json!({...})` literal.
pub(super) fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

/// A tool whose input schema uses JSON Schema 2020-12 keywords (`$schema`, `$defs`, `$ref`,
/// `$anchor`, `additionalProperties`, `allOf`/`anyOf`, `if`/`then`/`else`), which the server
/// must pass on untouched (SEP-1613, SEP-2106).
fn json_schema_2020_12_tool() -> impl mcp_core::Tool {
    let definition = ToolDefinition {
        name: "json_schema_2020_12_tool".into(),
        execution: None,
        title: None,
        description: Some("Tool with JSON Schema 2020-12 features".into()),
        input_schema: object(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {
                    "$anchor": "addressDef",
                    "type": "object",
                    "properties": {
                        "street": {"type": "string"},
                        "city": {"type": "string"}
                    }
                }
            },
            "properties": {
                "name": {"type": "string"},
                "address": {"$ref": "#/$defs/address"},
                "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                "phone": {"type": "string"},
                "email": {"type": "string"}
            },
            "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
            "if": {
                "properties": {"contactMethod": {"const": "phone"}},
                "required": ["contactMethod"]
            },
            "then": {"required": ["phone"]},
            "else": {"required": ["email"]},
            "additionalProperties": false
        })),
        output_schema: None,
        annotations: None,
        meta: None,
    };
    FnTool::new(definition, |_ctx, arguments: JsonObject| async move {
        CallToolResult::success(vec![Content::text(format!(
            "Received: {}",
            Value::Object(arguments)
        ))])
    })
}

/// Adds every tool to `builder`.
pub(super) fn register(builder: ServerBuilder) -> ServerBuilder {
    builder
        .tool(test_simple_text)
        .tool(test_image_content)
        .tool(test_audio_content)
        .tool(test_embedded_resource)
        .tool(test_multiple_content_types)
        .tool(test_tool_with_logging)
        .tool(test_tool_with_progress)
        .tool(test_error_handling)
        .tool(test_sampling)
        .tool(test_elicitation)
        .tool(test_elicitation_sep1034_defaults)
        .tool(test_elicitation_sep1330_enums)
        .tool(json_schema_2020_12_tool())
}
