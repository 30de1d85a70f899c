//! Procedural macros for `mcp-core`: `#[tool]` turns an async function into an MCP tool,
//! `#[prompt]` into a prompt, `#[resource("scheme://path/{var}")]` into a resource or a
//! resource template, and `#[tools]` turns the `#[tool]`, `#[prompt]` and `#[resource]`
//! methods of an impl block into those of a server type. Use them through
//! `mcp_core::{prompt, resource, tool, tools}`.
//!
//! The crate is organised in stages, one file each: `attr` reads the keys of the attributes,
//! `ast` reads a function into a model of the item (with `docs` joining its doc comments and
//! `template` reading a resource's URI), `check` applies the rules that span several parts,
//! `rewrite` turns `yield_!` into progress reports, and `expand` generates the code (one file
//! per kind of item). Every error found along the way is reported at once, at the user's
//! token, and the macros still emit items of the same names so that one mistake does not
//! cascade.

mod ast;
mod attr;
mod check;
mod docs;
mod errors;
mod expand;
mod rewrite;
mod template;

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
/// Doc comments are joined into paragraphs as rustdoc renders them: the lines of a paragraph
/// become one line, blank lines separate paragraphs, and lists and code blocks keep their
/// lines.
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
/// - `#[arg(min = 1, max = 100)]` bounds a number, `#[arg(min_len = 1, max_len = 80)]` the
///   length of a string (in characters) or a list (in items), and `#[arg(pattern = "^[a-z]+$")]`
///   is a regular expression a string must match (anywhere: anchor it to match all of it). They
///   appear in the input schema (`minimum`, `maximum`, `minLength`/`minItems`, ...), and an
///   argument that breaks one gets the `isError` result below without the body running. A
///   constraint on a type it does not apply to, bounds in the wrong order and a pattern that
///   does not compile are compile errors.
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
    expand::expand_free(attr::Kind::Tool, attr.into(), item.into()).into()
}

/// Turns an `async fn` into an MCP prompt: a template the user picks, whose arguments become
/// messages.
///
/// ```
/// use mcp_core::protocol::Completion;
/// use mcp_core::{Server, prompt};
///
/// fn languages(typed: &str) -> Completion {
///     Completion::matching(["python", "rust", "stata"], typed)
/// }
///
/// /// Asks for a review of a piece of code.
/// #[prompt(title = "Code review")]
/// async fn review(
///     /// The code to review.
///     code: String,
///     /// The language it is written in.
///     #[arg(complete = languages)]
///     language: Option<String>,
///     /// How many points to raise at most.
///     #[arg(default = 3)]
///     points: u32,
/// ) -> String {
///     let language = language.unwrap_or_else(|| "this".to_owned());
///     format!("Review {language} code, in at most {points} points:\n{code}")
/// }
///
/// let server = Server::builder("demo", "1").prompt(review).build().unwrap();
/// # let _ = server;
/// ```
///
/// A function with the same name and visibility is generated that returns
/// `impl mcp_core::Prompt`: register it with `.prompt(review)`.
///
/// - The doc comment is the description (required; `#[prompt(description = "...")]` replaces
///   it); `name` and `title` keys set the prompt's name (default: the function's) and title.
/// - Each parameter is an argument, described by its doc comment. Arguments arrive as text:
///   a parameter's type implements `FromStr` (`String`, numbers, your own types), and text that
///   does not parse is answered with `-32602` naming the argument. `Option<T>` and
///   `#[arg(default = ..)]` (or `#[arg(default)]`) make an argument optional; every other one is
///   required, and a call without it gets `-32602` naming all that are missing.
///   `#[arg(rename = "..")]` and `#[arg(description = "..")]` work as for tools.
/// - `#[arg(complete = function)]` answers `completion/complete` for the argument: the function
///   takes what has been typed (`&str`) and returns the suggestions (`Vec<String>`, `Vec<&str>`
///   or a [`Completion`](../mcp_core/protocol/struct.Completion.html)).
/// - A `Context` parameter receives the request's context.
/// - The body returns text (one user message), `Content` (one user message), a
///   `PromptMessage`, a `Vec<PromptMessage>` or a `GetPromptResult`, or a `Result` of one:
///   `Err(e)` answers with a JSON-RPC error (`-32603` with the text of `e`, or `e` itself when
///   it is an `RpcError`).
///
/// A prompt does not stream: `yield_!` in its body is a compile error.
#[proc_macro_attribute]
pub fn prompt(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand_free(attr::Kind::Prompt, attr.into(), item.into()).into()
}

/// Turns an `async fn` into an MCP resource (a fixed URI) or a resource template (a URI with
/// variables, which are the function's parameters).
///
/// ```
/// use mcp_core::{RpcError, Server, resource};
///
/// /// The project's README.
/// #[resource("docs://readme", mime_type = "text/markdown")]
/// async fn readme() -> &'static str {
///     "# Demo\nA demo project."
/// }
///
/// /// One chapter of the manual, by number.
/// #[resource("docs://chapters/{number}")]
/// async fn chapter(number: u32) -> Result<String, RpcError> {
///     match number {
///         1 => Ok("Getting started".to_owned()),
///         _ => Err(RpcError::resource_not_found(&format!("docs://chapters/{number}"))),
///     }
/// }
///
/// let server = Server::builder("demo", "1")
///     .resource(readme)
///     .resource(chapter)
///     .build()
///     .unwrap();
/// # let _ = server;
/// ```
///
/// A function with the same name and visibility is generated that returns
/// `impl mcp_core::ResourceProvider`: register it with `.resource(readme)`.
///
/// - The first argument is the URI. Without variables it names one resource, listed by
///   `resources/list`. With variables it is a template (RFC 6570), listed by
///   `resources/templates/list`: `{name}` matches one or more characters other than `/`, `?`
///   and `#`, `{+name}` any characters (slashes too, for paths). Each variable is a parameter of
///   the same name whose type implements `FromStr`; values are percent-decoded before they are
///   parsed, and a value that does not parse is answered with `-32002` (resource not found).
///   The URI's syntax, and that variables and parameters match, are checked at compile time.
/// - The doc comment is the description; keys `name` (default: the function's), `title`,
///   `description` and `mime_type` set the rest of the listing.
/// - `#[arg(complete = function)]` on a variable answers `completion/complete` for it, as for
///   prompts; `#[arg(description = "..")]` is accepted too.
/// - A `Context` parameter receives the request's context.
/// - The body returns the contents: text (`String`, `&'static str`; MIME type `text/plain`
///   unless set), bytes (`Vec<u8>`, sent as a base64 blob; `application/octet-stream`),
///   `Json<T>` or any other `T: Serialize` (its JSON text; `application/json`), or
///   `ResourceContents`, `Vec<ResourceContents>` or `ReadResourceResult` as they are; or a
///   `Result` of one, whose `Err(e)` answers with a JSON-RPC error (`-32603` with the text of
///   `e`, or `e` itself when it is an `RpcError` such as `RpcError::resource_not_found(uri)`).
///
/// Subscriptions: `Server::builder(..).resource_subscriptions(true)` lets clients subscribe to
/// a URI; a tool that changes the resource announces it with
/// `ctx.notify_resource_updated(uri).await`. A resource does not stream: `yield_!` in its body
/// is a compile error.
#[proc_macro_attribute]
pub fn resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand_free(attr::Kind::Resource, attr.into(), item.into()).into()
}

/// Makes the `#[tool]`, `#[prompt]` and `#[resource]` methods of an inherent impl block the
/// tools, prompts and resources of its type.
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
/// Each `#[tool]` method follows the rules of [`macro@tool`] (each `#[prompt]` those of
/// [`macro@prompt`], each `#[resource(..)]` those of [`macro@resource`]), and takes `&self`:
/// calls run concurrently on one value shared through an `Arc`, so mutable state belongs
/// behind a `Mutex` or an atomic. The type implements `mcp_core::ToolBox`; register it with
/// `.tools(value)` or `.tools_shared(arc)`, which add its tools, prompts and resources. The
/// impl block must not be generic, and a type can have one `#[tools]` block. A completion
/// function of a method's argument may be an associated function: `complete = Self::names`.
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
