//! The tools and the prompt that the suite's 2026-07-28 scenarios call: multi round-trip
//! input (`test_input_required_result_*`), the stateless diagnostics (`test_missing_capability`,
//! `test_streaming_elicitation`, `test_logging_tool`, `test_trigger_tool_change`) and a tool
//! with a parameter mirrored into a header (`test_custom_header`, `x-mcp-header`).
//!
//! They are ordinary tools: in a stateful session the same code sends its questions to the
//! client as requests on the call's stream.

use mcp_core::protocol::{
    CallToolResult, Content, CreateMessageParams, GetPromptResult, PromptMessage, SamplingMessage,
    ToolDefinition,
};
use mcp_core::tool::FnTool;
use mcp_core::{Context, JsonObject, RequestError, ServerBuilder, prompt, tool};
use serde_json::{Value, json};

use super::tools::object;

/// A one-field form: `{"type":"object","properties":{field: {type}},"required":[field]}`.
fn form(field: &str, kind: &str) -> JsonObject {
    object(json!({
        "type": "object",
        "properties": {field: {"type": kind}},
        "required": [field]
    }))
}

/// The text of an accepted form's `field`, or the action taken instead.
fn field(answer: &mcp_core::protocol::ElicitResult, field: &str) -> String {
    answer
        .content
        .as_ref()
        .and_then(|c| c.get(field))
        .map_or_else(
            || format!("({})", answer.action.as_str()),
            |v| v.as_str().map_or_else(|| v.to_string(), str::to_owned),
        )
}

/// Asks the user's name (elicitation, key `user_name`) and greets them.
#[tool]
async fn test_input_required_result_elicitation(ctx: Context) -> Result<String, RequestError> {
    let answer = ctx
        .input("user_name")
        .elicit("What is your name?", form("name", "string"))
        .await?;
    Ok(format!("Hello, {}!", field(&answer, "name")))
}

/// Asks the client's model for the capital of France (sampling, key `capital_question`).
#[tool]
async fn test_input_required_result_sampling(ctx: Context) -> Result<String, RequestError> {
    let ask = SamplingMessage::user("What is the capital of France?");
    let reply = ctx
        .input("capital_question")
        .create_message(CreateMessageParams::new(vec![ask], 100))
        .await?;
    Ok(format!("The model said: {}", reply.text()))
}

/// Asks the client for its roots (key `client_roots`) and lists them.
#[tool]
async fn test_input_required_result_list_roots(ctx: Context) -> Result<String, RequestError> {
    let roots = ctx.input("client_roots").list_roots().await?;
    let uris: Vec<&str> = roots.roots.iter().map(|r| r.uri.as_str()).collect();
    Ok(format!("Roots: {}", uris.join(", ")))
}

/// Asks for a confirmation (key `confirm`); the answer arrives with the verified state.
#[tool]
async fn test_input_required_result_request_state(ctx: Context) -> Result<String, RequestError> {
    let answer = ctx
        .input("confirm")
        .elicit("Please confirm", form("ok", "boolean"))
        .await?;
    Ok(format!("state-ok: confirmed={}", field(&answer, "ok")))
}

/// Asks three things at once: a name, a greeting from the model and the client's roots.
#[tool]
async fn test_input_required_result_multiple_inputs(ctx: Context) -> Result<String, RequestError> {
    let greeting = CreateMessageParams::new(vec![SamplingMessage::user("Generate a greeting")], 50);
    let (name, greeting, roots) = tokio::join!(
        ctx.input("user_name")
            .elicit("What is your name?", form("name", "string")),
        ctx.input("greeting").create_message(greeting),
        ctx.input("client_roots").list_roots(),
    );
    let (name, greeting, roots) = (name?, greeting?, roots?);
    Ok(format!(
        "name={}, greeting={}, roots={}",
        field(&name, "name"),
        greeting.text(),
        roots.roots.len()
    ))
}

/// Asks two questions, one round each: the second is asked once the first is answered.
#[tool]
async fn test_input_required_result_multi_round(ctx: Context) -> Result<String, RequestError> {
    let name = ctx
        .input("step1")
        .elicit("Step 1: What is your name?", form("name", "string"))
        .await?;
    let color = ctx
        .input("step2")
        .elicit(
            "Step 2: What is your favorite color?",
            form("color", "string"),
        )
        .await?;
    Ok(format!(
        "{} likes {}",
        field(&name, "name"),
        field(&color, "color")
    ))
}

/// Asks for a confirmation whose state the suite then tampers with.
#[tool]
async fn test_input_required_result_tampered_state(ctx: Context) -> Result<String, RequestError> {
    let answer = ctx
        .input("confirm")
        .elicit("Please confirm", form("ok", "boolean"))
        .await?;
    Ok(format!("confirmed={}", field(&answer, "ok")))
}

/// Asks only for what the client declared: a sampling question if it can sample, an
/// elicitation if it can elicit.
#[tool]
async fn test_input_required_result_capabilities(ctx: Context) -> Result<String, RequestError> {
    let caps = ctx.client_capabilities().cloned().unwrap_or_default();
    let mut said = Vec::new();
    if caps.sampling.is_some() {
        let ask = SamplingMessage::user("Say something");
        let reply = ctx
            .input("sample")
            .create_message(CreateMessageParams::new(vec![ask], 20))
            .await?;
        said.push(format!("model: {}", reply.text()));
    }
    if caps.elicitation.is_some() {
        let answer = ctx
            .input("confirm")
            .elicit("Please confirm", form("ok", "boolean"))
            .await?;
        said.push(format!("user: {}", field(&answer, "ok")));
    }
    Ok(format!(
        "asked what the client can answer: [{}]",
        said.join("; ")
    ))
}

/// Needs the client's model: without the `sampling` capability the request fails (-32021 in
/// the stateless era).
#[tool]
async fn test_missing_capability(ctx: Context) -> Result<String, RequestError> {
    let ask = SamplingMessage::user("Say hello");
    let reply = ctx
        .create_message(CreateMessageParams::new(vec![ask], 20))
        .await?;
    Ok(reply.text())
}

/// Reports progress, then asks the user something: the stream carries notifications only.
#[tool]
async fn test_streaming_elicitation(ctx: Context) -> Result<String, RequestError> {
    yield_!("about to ask");
    let answer = ctx.elicit("Continue?", form("ok", "boolean")).await?;
    Ok(format!("continued={}", field(&answer, "ok")))
}

/// Logs at info level: a stateless request sees these only if its `_meta` asks for a level.
#[tool]
async fn test_logging_tool(ctx: Context) -> &'static str {
    ctx.info("first log message").await;
    ctx.info("second log message").await;
    "logged twice"
}

/// Asks for a tool-list change. This server's tools are fixed when it is built, so nothing
/// changes and no list-changed notification follows.
#[tool]
async fn test_trigger_tool_change() -> &'static str {
    "the tool list of this server is fixed; nothing changed"
}

/// A tool whose `region` argument clients mirror into the `Mcp-Param-Region` header.
fn test_custom_header() -> impl mcp_core::Tool {
    let schema = object(json!({
        "type": "object",
        "properties": {
            "region": {
                "type": "string",
                "description": "Where to run",
                "x-mcp-header": "Region"
            }
        },
        "required": ["region"]
    }));
    let definition = ToolDefinition::new("test_custom_header", schema)
        .description("Echoes `region`, which clients mirror into the Mcp-Param-Region header.");
    FnTool::new(definition, |_ctx, arguments: JsonObject| async move {
        let region = arguments.get("region").cloned().unwrap_or(Value::Null);
        CallToolResult::success(vec![Content::text(format!("region={region}"))])
    })
}

// Needs the user's context (key `user_context`) before it can expand.
/// A prompt that asks the user for context first
#[prompt]
async fn test_input_required_result_prompt(ctx: Context) -> Result<GetPromptResult, RequestError> {
    let answer = ctx
        .input("user_context")
        .elicit(
            "What context should the prompt use?",
            form("context", "string"),
        )
        .await?;
    let message = PromptMessage::user(format!("Context: {}", field(&answer, "context")));
    Ok(GetPromptResult::new(vec![message]).description("A prompt built from the user's context"))
}

/// Adds the tools and the prompt to `builder`.
pub(super) fn register(builder: ServerBuilder) -> ServerBuilder {
    builder
        .tool(test_input_required_result_elicitation)
        .tool(test_input_required_result_sampling)
        .tool(test_input_required_result_list_roots)
        .tool(test_input_required_result_request_state)
        .tool(test_input_required_result_multiple_inputs)
        .tool(test_input_required_result_multi_round)
        .tool(test_input_required_result_tampered_state)
        .tool(test_input_required_result_capabilities)
        .tool(test_missing_capability)
        .tool(test_streaming_elicitation)
        .tool(test_logging_tool)
        .tool(test_trigger_tool_change)
        .tool(test_custom_header())
        .prompt(test_input_required_result_prompt)
}
