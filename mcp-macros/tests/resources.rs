//! `#[resource]`: static resources and templates, their contents and MIME types, variables
//! parsed from the URI, completion, errors and subscriptions, through a client.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use common::{connect, connect_in, within};
use mcp_core::client::ClientEra;
use mcp_core::protocol::{Completion, CompletionRef, ReadResourceResult, ResourceContents};
use mcp_core::{Context, ErrorCode, RequestError, RpcError, Server, resource, tool, tools};
use serde::Serialize;

/// The project's README.
#[resource("docs://readme", mime_type = "text/markdown", title = "README")]
async fn readme() -> &'static str {
    "# Demo"
}

/// A tiny PNG header, as bytes.
#[resource("docs://logo.png", name = "logo", mime_type = "image/png")]
async fn logo() -> Vec<u8> {
    vec![0x89, b'P', b'N', b'G']
}

/// Raw bytes, without a declared type.
#[resource("docs://raw")]
async fn raw() -> Vec<u8> {
    vec![0, 255]
}

/// The settings, as JSON.
#[derive(Serialize)]
struct Settings {
    verbose: bool,
}

/// The current settings.
#[resource("config://settings")]
async fn settings() -> Settings {
    Settings { verbose: true }
}

/// One chapter by number,
/// which must exist.
#[resource("docs://chapters/{number}/text")]
async fn chapter(
    /// The chapter's number.
    #[arg(complete = chapter_numbers)]
    number: u32,
) -> Result<String, RpcError> {
    match number {
        1 | 2 => Ok(format!("Chapter {number}")),
        _ => Err(RpcError::resource_not_found(&format!(
            "docs://chapters/{number}/text"
        ))),
    }
}

fn chapter_numbers(typed: &str) -> Completion {
    Completion::matching(["1", "2", "10"], typed)
}

/// A file by path; the path may hold slashes.
#[resource("files:///{+path}")]
async fn file(path: String, ctx: &Context) -> Result<Vec<ResourceContents>, std::io::Error> {
    let _ = ctx.request_id();
    if path.ends_with(".missing") {
        return Err(std::io::Error::other(format!("{path}: no such file")));
    }
    Ok(vec![
        ResourceContents::text(format!("files:///{path}"), format!("contents of {path}"))
            .mime_type("text/plain"),
    ])
}

/// A user's page, with two variables.
#[resource("users://{org}/{user}")]
async fn user(org: String, user: String) -> ReadResourceResult {
    ResourceContents::text(format!("users://{org}/{user}"), format!("{user} of {org}")).into()
}

/// A counter whose value is a resource, changed by a tool.
#[derive(Default)]
struct Counter {
    value: AtomicU64,
}

#[tools]
impl Counter {
    /// The counter's value.
    #[resource("counter://value")]
    async fn value(&self) -> String {
        self.value.load(Ordering::SeqCst).to_string()
    }

    /// The counter's value in another base.
    #[resource("counter://value/{base}")]
    async fn value_in(&self, #[arg(complete = Self::bases)] base: u32) -> Result<String, String> {
        let v = self.value.load(Ordering::SeqCst);
        match base {
            2 => Ok(format!("{v:b}")),
            16 => Ok(format!("{v:x}")),
            other => Err(format!("base {other} is not supported")),
        }
    }

    fn bases(_typed: &str) -> Vec<String> {
        vec!["2".into(), "16".into()]
    }

    /// Adds one and tells subscribers.
    #[tool]
    async fn bump(&self, ctx: Context) -> String {
        let now = self.value.fetch_add(1, Ordering::SeqCst) + 1;
        ctx.notify_resource_updated("counter://value").await;
        now.to_string()
    }
}

/// Echoes: registers with `.tool`, beside the resources.
#[tool]
async fn echo(text: String) -> String {
    text
}

fn server() -> Server {
    Server::builder("resources", "1")
        .resource(readme)
        .resource(logo)
        .resource(raw)
        .resource(settings)
        .resource(chapter)
        .resource(file)
        .resource(user)
        .tools(Counter::default())
        .tool(echo)
        .resource_subscriptions(true)
        .build()
        .expect("the server builds")
}

fn rpc_error(e: RequestError) -> RpcError {
    match e {
        RequestError::Rpc(e) => e,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

#[tokio::test]
async fn static_resources_and_templates_are_listed_apart() {
    let client = connect(&server()).await;
    let resources = within(client.list_resources()).await.unwrap();
    let listed: Vec<_> = resources
        .iter()
        .map(|r| (r.uri.as_str(), r.name.as_str(), r.mime_type.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [
            ("docs://readme", "readme", Some("text/markdown")),
            ("docs://logo.png", "logo", Some("image/png")),
            ("docs://raw", "raw", Some("application/octet-stream")),
            ("config://settings", "settings", Some("application/json")),
            ("counter://value", "value", Some("text/plain")),
        ]
    );
    assert_eq!(resources[0].title.as_deref(), Some("README"));
    assert_eq!(
        resources[0].description.as_deref(),
        Some("The project's README.")
    );
    let templates = within(client.list_resource_templates()).await.unwrap();
    let listed: Vec<_> = templates
        .iter()
        .map(|t| (t.uri_template.as_str(), t.mime_type.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [
            ("docs://chapters/{number}/text", Some("text/plain")),
            ("files:///{+path}", None),
            ("users://{org}/{user}", None),
            ("counter://value/{base}", Some("text/plain")),
        ]
    );
    assert_eq!(
        templates[0].description.as_deref(),
        Some("One chapter by number, which must exist.")
    );
}

#[tokio::test]
async fn contents_take_the_shape_of_the_return_type() {
    let client = connect(&server()).await;
    let read = |uri: &'static str| within(client.read_resource(uri));
    let r = read("docs://readme").await.unwrap();
    assert_eq!(
        r.contents,
        [ResourceContents::text("docs://readme", "# Demo").mime_type("text/markdown")]
    );
    let r = read("docs://logo.png").await.unwrap();
    assert_eq!(
        r.contents,
        [ResourceContents::blob("docs://logo.png", "iVBORw==").mime_type("image/png")]
    );
    let r = read("docs://raw").await.unwrap();
    assert_eq!(
        r.contents,
        [ResourceContents::blob("docs://raw", "AP8=").mime_type("application/octet-stream")]
    );
    let r = read("config://settings").await.unwrap();
    assert_eq!(
        r.contents,
        [
            ResourceContents::text("config://settings", r#"{"verbose":true}"#)
                .mime_type("application/json")
        ]
    );
}

#[tokio::test]
async fn template_variables_are_parsed_from_the_uri() {
    let client = connect(&server()).await;
    let r = within(client.read_resource("docs://chapters/2/text"))
        .await
        .unwrap();
    assert_eq!(r.contents[0].as_text(), Some("Chapter 2"));
    let r = within(client.read_resource("files:///home/ann/notes%20one.txt"))
        .await
        .unwrap();
    assert_eq!(
        r.contents[0].as_text(),
        Some("contents of home/ann/notes one.txt")
    );
    let r = within(client.read_resource("users://acme/ann"))
        .await
        .unwrap();
    assert_eq!(r.contents[0].as_text(), Some("ann of acme"));
    assert_eq!(r.contents[0].uri(), "users://acme/ann");
}

/// The code of a read that names no resource: `-32002` in a session; `-32602` (with the URI
/// as data) in the stateless era, which retired `-32002`.
fn not_found(era: ClientEra, e: &RpcError) -> ErrorCode {
    if era == ClientEra::Auto {
        assert!(
            e.data.as_ref().is_some_and(|d| d["uri"].is_string()),
            "{e:?}"
        );
        ErrorCode::INVALID_PARAMS
    } else {
        ErrorCode::RESOURCE_NOT_FOUND
    }
}

#[tokio::test]
async fn unknown_unparsable_and_failing_reads_are_errors() {
    for era in [ClientEra::Stateful, ClientEra::Auto] {
        let client = connect_in(&server(), era).await;
        let e = rpc_error(
            within(client.read_resource("docs://nothing"))
                .await
                .unwrap_err(),
        );
        assert_eq!(e.code, not_found(era, &e));
        // A variable that does not parse names no resource, and says why.
        let e = rpc_error(
            within(client.read_resource("docs://chapters/one/text"))
                .await
                .unwrap_err(),
        );
        assert_eq!(e.code, not_found(era, &e));
        assert!(e.message.contains("`number`: invalid digit"), "{e}");
        // The body's own `RpcError` keeps its code; another error becomes -32603 with its
        // text.
        let e = rpc_error(
            within(client.read_resource("docs://chapters/9/text"))
                .await
                .unwrap_err(),
        );
        assert_eq!(e.code, not_found(era, &e));
        let e = rpc_error(
            within(client.read_resource("files:///a.missing"))
                .await
                .unwrap_err(),
        );
        assert_eq!(e.code, ErrorCode::INTERNAL_ERROR);
        assert!(e.message.contains("a.missing: no such file"), "{e}");
        let e = rpc_error(
            within(client.read_resource("counter://value/7"))
                .await
                .unwrap_err(),
        );
        assert!(e.message.contains("base 7 is not supported"), "{e}");
    }
}

#[tokio::test]
async fn completion_suggests_template_variables() {
    let client = connect(&server()).await;
    let template = |uri: &str| CompletionRef::Resource {
        uri: uri.to_owned(),
    };
    let c = within(client.complete(template("docs://chapters/{number}/text"), "number", "1"))
        .await
        .unwrap();
    assert_eq!(c.values, ["1", "10"]);
    let c = within(client.complete(template("counter://value/{base}"), "base", ""))
        .await
        .unwrap();
    assert_eq!(c.values, ["2", "16"]);
}

#[tokio::test]
async fn a_tool_announces_changes_to_subscribers() {
    // A session subscribes with resources/subscribe; a 2026-07-28 client opens
    // subscriptions/listen. The tool's announcement reaches both.
    for era in [ClientEra::Stateful, ClientEra::Auto] {
        let client = connect_in(&server(), era).await;
        let mut notes = client.notifications();
        within(client.subscribe_resource("counter://value"))
            .await
            .unwrap();
        let r = within(client.call_tool("bump", serde_json::json!({})))
            .await
            .unwrap();
        assert_eq!(r.text(), "1");
        let note = within(notes.recv()).await.expect("an update");
        assert_eq!(note.method, "notifications/resources/updated");
        assert_eq!(note.params.unwrap()["uri"], "counter://value");
        let r = within(client.read_resource("counter://value"))
            .await
            .unwrap();
        assert_eq!(r.contents[0].as_text(), Some("1"));
        let r = within(client.read_resource("counter://value/2"))
            .await
            .unwrap();
        assert_eq!(r.contents[0].as_text(), Some("1"));
    }
}
