//! Procedural macros for `mcp-core`: `#[tool]` turns an async function into an MCP tool,
//! `#[tools]` turns the `#[tool]` methods of an impl block into the tools of a server type.
//! Use them through `mcp_core::{tool, tools}`.
//!
//! The crate is organised in stages, one file each: `attr` reads the keys of the attributes,
//! `ast` reads a function into a model of the tool, `check` applies the rules that span
//! several parts, `rewrite` turns `yield_!` into progress reports, and `expand` generates the
//! code. Every error found along the way is reported at once, at the user's token, and the
//! macros still emit items of the same names so that one mistake does not cascade.

mod ast;
mod attr;
mod check;
mod errors;
mod expand;
mod rewrite;

use proc_macro::TokenStream;

/// Turns an `async fn` into an MCP tool.
///
/// ```
/// use std::time::Duration;
/// use mcp_core::{Context, Server, tool};
///
/// /// Counts to `to`, one step per `delay_ms`.
/// #[tool(read_only)]
/// pub async fn count(
///     /// How far to count.
///     to: u32,
///     /// Milliseconds between steps.
///     #[arg(default = 100)]
///     delay_ms: u64,
///     /// Put before each step's message.
///     label: Option<String>,
///     ctx: Context,
/// ) -> String {
///     let label = label.unwrap_or_default();
///     for i in 1..=to {
///         yield_!(format!("{label}step {i} of {to}"));
///         tokio::time::sleep(Duration::from_millis(delay_ms)).await;
///     }
///     if ctx.is_cancelled() {
///         return "cancelled".to_owned();
///     }
///     format!("counted to {to}")
/// }
///
/// let server = Server::builder("demo", "1").tool(count).build().unwrap();
/// let definition = server.tool("count").unwrap().definition();
/// assert_eq!(definition.description.as_deref(), Some("Counts to `to`, one step per `delay_ms`."));
/// assert_eq!(definition.input_schema["required"], serde_json::json!(["to"]));
/// ```
///
/// # What it generates
///
/// A function with the same name and visibility that takes no arguments and returns
/// `impl mcp_core::Tool` (a hidden unit struct): register it with
/// `Server::builder(..).tool(count)` (a function returning a tool is itself a tool). Its
/// `definition()` (computed once) lists the tool's name, description, input schema and output
/// schema; its `call` decodes the arguments and runs the body. The original function is not
/// kept: test a tool through a client (`mcp_core::memory::connect`).
///
/// # Description
///
/// The doc comment is the tool's description; `#[tool(description = "...")]` replaces it. A tool
/// without either is a compile error: the model decides from the description when to call it.
///
/// # Parameters
///
/// Each parameter is an argument, a property of the input schema (JSON Schema 2020-12, from
/// `schemars`), decoded from the request with `serde`. The crate needs no direct dependency
/// on either: the generated code reaches them through mcp-core.
///
/// - Its doc comment is the property's description.
/// - `Option<T>` is not required; `#[arg(default = expr)]` (or `#[arg(default)]` for
///   `Default::default()`) makes it optional, with that default in the schema.
/// - `#[arg(rename = "name")]` changes its name on the wire, `#[arg(description = "...")]`
///   replaces its doc comment.
/// - A parameter of type `Context` or `&Context` (found by the last segment of the type's
///   path) receives the call's context instead; it is not part of the schema.
/// - Types must be owned (`String`, not `&str`), concrete (not `impl Trait`) and
///   `DeserializeOwned + JsonSchema + Send`; patterns must be plain names.
/// - Invalid arguments do not run the body: the call returns a result with `isError: true`
///   that explains what is wrong, so the model can correct itself.
///
/// # Return type
///
/// Decided on the last segment of the type's path, as written:
///
/// - `String`, `&'static str`, `Content`, `Vec<Content>`, `CallToolResult`, `()` (or no
///   return type) and `Json<T>` are converted as they are (text, content blocks, the result
///   itself, an empty result, structured content);
/// - `Result<T, E>` (any path ending in `Result` with generic arguments, which must be
///   `std::result::Result` or an alias of it) turns `Err(e)` into a result with
///   `isError: true` and the text of `e` (`E: Display`); `T` follows these same rules. A
///   `Result` alias without arguments (`fmt::Result`) is converted as it is;
/// - any other type `T` is structured output: the value is wrapped in `Json(value)`, so it
///   becomes `structuredContent` (and its JSON text a text block) and `T`'s schema the tool's
///   `outputSchema`. `T` must be `Serialize + JsonSchema`. A type alias of `String` is
///   therefore structured; write `String` to return text.
///
/// `return` and `?` work as in any async fn: `?` converts into the declared error type.
///
/// # Progress: `yield_!`
///
/// The body is an async generator: `yield_!(item)` sends a `notifications/progress` for the
/// caller's progress token at once and continues when the transport has room (`item` is
/// anything `Into<Progress>`: a message, or `Progress::step(i, n, "...")`). It becomes
/// `ctx.progress(item).await` on the call's context, whether or not the function takes a
/// `Context`. Without a progress token it only counts the step.
///
/// `yield_!` needs no import (`#[tool]` rewrites it before names are resolved, so an import of
/// it would be reported unused). It is rewritten where the body can `.await` on the call's
/// behalf: directly in the body, including nested blocks, loops, `if` and `match`. Inside a
/// closure, an async block or a nested function it is a compile error that says so; take a
/// `ctx: Context` parameter and write `ctx.progress(item).await` where the tool can await it.
/// The arguments of another macro (`println!("{:?}", yield_!(..))`) are not parsed as Rust,
/// so a `yield_!` there is not rewritten: it reaches the stub `mcp_core::yield_!`, which fails
/// to compile with an explanation. A `yield_` imported under another name is not recognised.
///
/// # Keys
///
/// `#[tool(name = "..", title = "..", description = "..", read_only, destructive, idempotent,
/// open_world, crate = "..")]`: the tool's name (default: the function's), its display title
/// (also set as the annotations' title), its description, the behaviour hints of its
/// annotations (each a flag, or `= true`/`= false`), and the path of mcp-core for code
/// generated in a crate that renames or re-exports it (default `::mcp_core`).
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand_free(attr.into(), item.into()).into()
}

/// Makes the `#[tool]` methods of an inherent impl block the tools of its type.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use mcp_core::{Server, tools};
///
/// struct Counter {
///     hits: AtomicU64,
/// }
///
/// #[tools]
/// impl Counter {
///     /// Adds `by` to the counter and returns the new count.
///     #[tool]
///     async fn hit(
///         &self,
///         /// How much to add.
///         #[arg(default = 1)]
///         by: u64,
///     ) -> u64 {
///         yield_!("counting");
///         self.hits.fetch_add(by, Ordering::SeqCst) + by
///     }
///
///     /// Not a tool: left as it is.
///     fn reset(&self) {
///         self.hits.store(0, Ordering::SeqCst);
///     }
/// }
///
/// let server = Server::builder("demo", "1")
///     .tools(Counter { hits: AtomicU64::new(0) })
///     .build()
///     .unwrap();
/// assert!(server.tool("hit").is_some());
/// ```
///
/// Each `#[tool]` method follows the rules of [`macro@tool`], and takes `&self`: calls run
/// concurrently on one value shared through an `Arc`, so mutable state belongs behind a
/// `Mutex` or an atomic. The type implements `mcp_core::ToolBox`; register it with
/// `.tools(value)` or `.tools_shared(arc)`. The impl block must not be generic, and a type
/// can have one `#[tools]` block.
///
/// The methods stay callable with the signatures written. Called directly, a method without a
/// `Context` parameter reports its `yield_!`s to a detached context: they go nowhere.
/// (The body lives in a hidden method that also takes the call's `&Context`.)
///
/// `#[tools(crate = "...")]` sets the path of mcp-core for every method.
#[proc_macro_attribute]
pub fn tools(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand_impl(attr.into(), item.into()).into()
}
