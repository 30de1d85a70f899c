//! The [`Tool`] trait, what a tool may return, and the schemas of its arguments and output.
//!
//! Most tools are written with `#[tool]` (see the crate docs); this module is what the macro
//! expands to, and what a hand-written tool implements.

mod constraints;

pub use constraints::{
    ArgConstraints, LengthArgument, NumberArgument, PatternArgument, apply_constraints,
    check_constraints,
};

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::Context;
use crate::error::RpcError;
use crate::jsonrpc::{JsonObject, Payload};
use crate::prompt::Prompt;
use crate::protocol::{CallToolResult, Content, ToolDefinition};
use crate::resource::ResourceProvider;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A tool a server offers.
///
/// `call` returns a `'static` future: the session runs it as its own task, drops it when the
/// client cancels, and turns a panic inside it into a JSON-RPC internal error.
pub trait Tool: Send + Sync + 'static {
    /// The definition listed by `tools/list`.
    fn definition(&self) -> ToolDefinition;

    /// Runs the tool. Failures belong in the result (`isError: true`), not in a panic.
    ///
    /// `arguments` are as the client sent them: usually their JSON text, which
    /// [`parse_arguments`] (or [`Payload::decode`]) decodes into a typed struct directly; they
    /// also read as a [`JsonObject`] (`arguments.get("n")`).
    fn call(&self, ctx: Context, arguments: Payload) -> BoxFuture<CallToolResult>;

    /// Runs the tool where a failure may also be a JSON-RPC error: what the server calls.
    ///
    /// The default wraps [`call`](Self::call), whose failures are results. A tool that stands
    /// for something else's (a proxy forwarding to another server) overrides it, so that a
    /// protocol failure on the far side (the server died, the request was refused) reaches the
    /// caller as the JSON-RPC error it is rather than as a tool result.
    fn call_or_error(
        &self,
        ctx: Context,
        arguments: Payload,
    ) -> BoxFuture<Result<CallToolResult, RpcError>> {
        boxed_ok(self.call(ctx, arguments))
    }

    /// What the server calls when the tool answers with a [`Reply`] (what `#[tool]`
    /// generates): a result that is one text block then needs no [`CallToolResult`] to be
    /// encoded. The default hands `ctx` and `arguments` back, and the server calls
    /// [`call_or_error`](Self::call_or_error).
    #[doc(hidden)]
    fn call_reply(&self, ctx: Context, arguments: Payload) -> ReplyCall {
        Err((ctx, arguments))
    }
}

/// What [`Tool::call_reply`] returns: the call's future (whose failures are all results:
/// no JSON-RPC error, so no `Result` around its reply), or what it was given back.
#[doc(hidden)]
pub type ReplyCall = Result<BoxFuture<Reply>, (Context, Payload)>;

/// A tool's result as `#[tool]`'s generated code hands it to the server: text (the usual
/// result, one text block, encoded without building a [`CallToolResult`] and its `Vec`), or
/// a whole result.
#[doc(hidden)]
#[derive(Debug)]
pub enum Reply {
    /// A successful result holding one text block.
    Text(std::borrow::Cow<'static, str>),
    /// Any result.
    Result(CallToolResult),
}

impl Reply {
    /// The result this reply stands for.
    pub fn into_result(self) -> CallToolResult {
        match self {
            Reply::Text(text) => CallToolResult::success(vec![Content::text(text)]),
            Reply::Result(result) => result,
        }
    }
}

/// `future` boxed, its [`Reply`] made a [`CallToolResult`]: `#[tool]`'s [`Tool::call`].
#[doc(hidden)]
pub fn boxed_result<F>(future: F) -> BoxFuture<CallToolResult>
where
    F: Future<Output = Reply> + Send + 'static,
{
    Box::pin(futures_util::FutureExt::map(future, Reply::into_result))
}

/// `future` boxed, its [`Reply`] made a [`CallToolResult`] in `Ok`: `#[tool]`'s
/// [`Tool::call_or_error`].
#[doc(hidden)]
pub fn boxed_ok_result<F>(future: F) -> BoxFuture<Result<CallToolResult, RpcError>>
where
    F: Future<Output = Reply> + Send + 'static,
{
    Box::pin(futures_util::FutureExt::map(future, |reply| {
        Ok(reply.into_result())
    }))
}

/// `future` boxed as it is: `#[tool]`'s [`Tool::call_reply`].
#[doc(hidden)]
pub fn boxed_reply<F>(future: F) -> BoxFuture<Reply>
where
    F: Future<Output = Reply> + Send + 'static,
{
    Box::pin(future)
}

/// `future` boxed, its output wrapped in `Ok`: a [`Tool::call_or_error`] for a tool whose
/// failures are all results (what `#[tool]` generates).
///
/// A combinator rather than `Box::pin(async move { Ok(future.await) })`: the state of such
/// an async block holds the future twice (as captured, and as awaited), so its box would be
/// twice the tool's future.
pub fn boxed_ok<F>(future: F) -> BoxFuture<Result<F::Output, RpcError>>
where
    F: Future + Send + 'static,
{
    Box::pin(futures_util::FutureExt::map(future, Ok))
}

/// [`Tool::call`] for a tool that implements [`Tool::call_or_error`]: a JSON-RPC error
/// becomes an error result (`isError: true`) holding its message.
///
/// A tool standing for another (a proxy) writes its work once, in `call_or_error`, and
/// `call` as `errors_as_results(self.call_or_error(ctx, arguments))`.
pub fn errors_as_results(
    call: BoxFuture<Result<CallToolResult, RpcError>>,
) -> BoxFuture<CallToolResult> {
    Box::pin(async move {
        call.await
            .unwrap_or_else(|e| CallToolResult::error(e.message))
    })
}

/// A function returning a tool is a tool: `#[tool] async fn count(..)` becomes
/// `fn count() -> impl Tool`, so a server registers it as `.tool(count)`.
impl<F, T> Tool for F
where
    F: Fn() -> T + Send + Sync + 'static,
    T: Tool,
{
    fn definition(&self) -> ToolDefinition {
        self().definition()
    }

    fn call(&self, ctx: Context, arguments: Payload) -> BoxFuture<CallToolResult> {
        self().call(ctx, arguments)
    }

    fn call_or_error(
        &self,
        ctx: Context,
        arguments: Payload,
    ) -> BoxFuture<Result<CallToolResult, RpcError>> {
        self().call_or_error(ctx, arguments)
    }

    fn call_reply(&self, ctx: Context, arguments: Payload) -> ReplyCall {
        self().call_reply(ctx, arguments)
    }
}

/// A set of tools, prompts and resources that share state: a server type whose methods are
/// tools (`#[tool]`), prompts (`#[prompt]`) and resources (`#[resource]`).
///
/// `#[tools]` on an `impl` block implements this for the type; `ServerBuilder::tools` adds
/// all three kinds.
pub trait ToolBox: Send + Sync + 'static {
    /// The tools, each holding a clone of `this`.
    fn tools(this: &Arc<Self>) -> Vec<Arc<dyn Tool>>
    where
        Self: Sized;

    /// The prompts, each holding a clone of `this`. None by default.
    fn prompts(this: &Arc<Self>) -> Vec<Arc<dyn Prompt>>
    where
        Self: Sized,
    {
        let _ = this;
        Vec::new()
    }

    /// The resources and resource templates, each holding a clone of `this`. None by default.
    fn resources(this: &Arc<Self>) -> Vec<Arc<dyn ResourceProvider>>
    where
        Self: Sized,
    {
        let _ = this;
        Vec::new()
    }
}

/// A value a tool body may return. Implemented for text, content blocks, complete results,
/// `()`, [`Json`] (structured output) and `Result` of any of these.
pub trait IntoCallToolResult {
    /// Converts into the result sent to the client.
    fn into_call_tool_result(self) -> CallToolResult;

    /// Converts into what `#[tool]`'s generated code hands the server: the result, or
    /// for text only the text.
    #[doc(hidden)]
    fn into_reply(self) -> Reply
    where
        Self: Sized,
    {
        Reply::Result(self.into_call_tool_result())
    }
}

/// What a tool's successful value becomes: its result, and the `outputSchema` it implies.
pub trait ToolOutput: IntoCallToolResult {
    /// The JSON Schema of `structuredContent`, if this output is structured.
    fn output_schema() -> Option<JsonObject> {
        None
    }
}

impl IntoCallToolResult for CallToolResult {
    fn into_call_tool_result(self) -> CallToolResult {
        self
    }
}
impl ToolOutput for CallToolResult {}

impl IntoCallToolResult for String {
    fn into_call_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![Content::text(self)])
    }

    fn into_reply(self) -> Reply {
        Reply::Text(self.into())
    }
}
impl ToolOutput for String {}

impl IntoCallToolResult for &'static str {
    fn into_call_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![Content::text(self)])
    }

    fn into_reply(self) -> Reply {
        Reply::Text(self.into())
    }
}
impl ToolOutput for &'static str {}

impl IntoCallToolResult for Content {
    fn into_call_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![self])
    }
}
impl ToolOutput for Content {}

impl IntoCallToolResult for Vec<Content> {
    fn into_call_tool_result(self) -> CallToolResult {
        CallToolResult::success(self)
    }
}
impl ToolOutput for Vec<Content> {}

impl IntoCallToolResult for () {
    fn into_call_tool_result(self) -> CallToolResult {
        CallToolResult::success(Vec::new())
    }
}
impl ToolOutput for () {}

impl<T: IntoCallToolResult, E: Display> IntoCallToolResult for Result<T, E> {
    fn into_call_tool_result(self) -> CallToolResult {
        match self {
            Ok(v) => v.into_call_tool_result(),
            // `{:#}`: error types with a chain of causes (anyhow, eyre) show all of it.
            Err(e) => CallToolResult::error(format!("{e:#}")),
        }
    }
}

/// Structured output: the value becomes `structuredContent` (and its JSON text a text block),
/// and its type's schema the tool's `outputSchema`.
///
/// `#[tool]` wraps a returned struct in `Json` by itself; write `Json(value)` only when
/// implementing [`Tool`] by hand or to return a type the macro would treat as text.
/// A value whose schema is not an object (a number, a list, an enum) is wrapped as
/// `{"result": value}`, because `structuredContent` must be an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Json<T>(pub T);

impl<T: Serialize + JsonSchema> IntoCallToolResult for Json<T> {
    fn into_call_tool_result(self) -> CallToolResult {
        match serde_json::to_value(&self.0) {
            Ok(value) => {
                let object = match value {
                    Value::Object(o) if !needs_wrapping::<T>() => o,
                    other => {
                        let mut o = JsonObject::new();
                        o.insert("result".into(), other);
                        o
                    }
                };
                CallToolResult::structured(object)
            }
            Err(e) => {
                CallToolResult::error(format!("the tool's result could not be serialized: {e}"))
            }
        }
    }
}

impl<T: Serialize + JsonSchema> ToolOutput for Json<T> {
    fn output_schema() -> Option<JsonObject> {
        let schema = schema_of::<T>();
        if is_object_schema(&schema) {
            Some(schema)
        } else {
            let mut props = JsonObject::new();
            let mut defs = None;
            let mut inner = schema;
            if let Some(d) = inner.remove("$defs") {
                defs = Some(d);
            }
            props.insert("result".into(), Value::Object(inner));
            let mut wrapper = JsonObject::new();
            wrapper.insert("type".into(), "object".into());
            wrapper.insert("properties".into(), Value::Object(props));
            wrapper.insert("required".into(), Value::Array(vec!["result".into()]));
            if let Some(d) = defs {
                wrapper.insert("$defs".into(), d);
            }
            Some(wrapper)
        }
    }
}

fn needs_wrapping<T: JsonSchema>() -> bool {
    !is_object_schema(&schema_of::<T>())
}

fn is_object_schema(schema: &JsonObject) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
}

/// The JSON Schema (draft 2020-12) of `T`, without the `$schema` and `title` keys.
pub fn schema_of<T: JsonSchema>() -> JsonObject {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut object = match schema.to_value() {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    };
    object.remove("$schema");
    object.remove("title");
    object
}

/// The input schema of an arguments type: an object schema that always has `properties`.
pub fn input_schema_of<T: JsonSchema>() -> JsonObject {
    let mut schema = schema_of::<T>();
    schema.insert("type".into(), "object".into());
    schema
        .entry("properties")
        .or_insert_with(|| Value::Object(JsonObject::new()));
    schema
}

/// Decodes a tool's arguments (from their JSON text, as sent, when they are held as text), or
/// explains what is wrong with them as a tool error (revision 2025-11-25: input validation
/// errors are tool execution errors, so the model can correct itself).
pub fn parse_arguments<T: DeserializeOwned>(
    tool: &str,
    arguments: Payload,
) -> Result<T, CallToolResult> {
    arguments
        .decode()
        .map_err(|e| CallToolResult::error(format!("Invalid arguments for tool `{tool}`: {e}")))
}

/// A tool built from a name, a definition and a closure: for tools made at run time.
pub struct FnTool<F> {
    definition: ToolDefinition,
    f: F,
}

impl<F, Fut> FnTool<F>
where
    F: Fn(Context, JsonObject) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = CallToolResult> + Send + 'static,
{
    /// A tool with the given definition whose calls run `f`.
    pub fn new(definition: ToolDefinition, f: F) -> Self {
        FnTool { definition, f }
    }
}

impl<F, Fut> Tool for FnTool<F>
where
    F: Fn(Context, JsonObject) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = CallToolResult> + Send + 'static,
{
    fn definition(&self) -> ToolDefinition {
        self.definition.clone()
    }

    fn call(&self, ctx: Context, arguments: Payload) -> BoxFuture<CallToolResult> {
        Box::pin((self.f)(ctx, arguments.into_object()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, JsonSchema)]
    struct Report {
        mean: f64,
    }

    #[test]
    fn structured_object_is_not_wrapped() {
        let r = Json(Report { mean: 2.5 }).into_call_tool_result();
        assert_eq!(r.structured_content.unwrap()["mean"], 2.5);
        let s = <Json<Report>>::output_schema().unwrap();
        assert_eq!(s["type"], "object");
        assert!(s.get("$schema").is_none());
    }

    #[test]
    fn structured_non_object_is_wrapped() {
        let r = Json(vec![1, 2]).into_call_tool_result();
        assert_eq!(
            r.structured_content.unwrap()["result"],
            serde_json::json!([1, 2])
        );
        let s = <Json<Vec<i32>>>::output_schema().unwrap();
        assert_eq!(s["required"], serde_json::json!(["result"]));
    }

    #[test]
    fn errors_become_tool_errors() {
        let r: Result<String, &str> = Err("boom");
        let r = r.into_call_tool_result();
        assert!(r.is_error());
        assert_eq!(r.text(), "boom");
    }
}
