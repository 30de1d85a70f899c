//! Plugins: clashes fail to build and name both sides; prefixes make both callable end to
//! end; instructions merge under each plugin's name; a catalog set at run time reaches clients
//! with `list_changed`; hooks run once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use examples::notes::Notes;
use mcp_core::client::ClientEra;
use mcp_core::plugin::{PluginError, toolbox};
use mcp_core::tool::BoxFuture;
use mcp_core::{
    BuildError, Catalog, ClientOptions, Plugin, PluginCapabilities, PluginHandle, Server, memory,
    tool, tools,
};
use serde_json::json;
use tokio::sync::Mutex;

/// A toolbox with a tool named `status`, answering with its own name.
struct Service {
    name: &'static str,
}

#[tools]
impl Service {
    /// Says which service answered.
    #[tool]
    async fn status(&self) -> String {
        format!("{} is up", self.name)
    }
}

fn service(name: &'static str) -> mcp_core::plugin::ToolBoxPlugin<Service> {
    toolbox(name, Service { name }).instructions(format!("{name}: call status"))
}

#[test]
fn two_plugins_with_one_tool_name_fail_to_build_naming_both() {
    let err = Server::builder("host", "1")
        .plugin(service("alpha"))
        .plugin(service("beta"))
        .build()
        .unwrap_err();
    match &err {
        BuildError::Clash {
            kind,
            name,
            first,
            second,
        } => {
            assert_eq!((*kind, name.as_str()), ("tool", "status"));
            assert_eq!(first, "plugin `alpha`");
            assert_eq!(second, "plugin `beta`");
        }
        other => panic!("expected a clash, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("plugin `alpha`") && message.contains("plugin `beta`"),
        "{message}"
    );

    /// The host's own `status`.
    #[tool]
    async fn status() -> String {
        "host".into()
    }
    let err = Server::builder("host", "1")
        .tool(status)
        .plugin(service("alpha"))
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("server `host` and plugin `alpha`"),
        "{err}"
    );
}

#[tokio::test]
async fn with_prefixes_both_are_callable_end_to_end() {
    let server = Server::builder("host", "1")
        .instructions("The host's own words.")
        .plugin_prefixed("alpha", service("alpha"))
        .plugin_prefixed("beta", service("beta"))
        .plugin_prefixed("notes", toolbox("notes", Notes::default()))
        .build()
        .unwrap();
    let client = memory::connect(&server).await.unwrap();
    let mut names: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    names.sort();
    assert_eq!(names, ["alpha_status", "beta_status", "notes_add_note"]);
    for who in ["alpha", "beta"] {
        let r = client
            .call_tool(&format!("{who}_status"), json!({}))
            .await
            .unwrap();
        assert_eq!(r.text(), format!("{who} is up"));
    }
    let unknown = client.call_tool("status", json!({})).await.unwrap_err();
    assert!(unknown.to_string().contains("unknown tool"), "{unknown}");

    // Resources and prompts are namespaced too, and read through the prefix.
    client
        .call_tool("notes_add_note", json!({"text": "hello"}))
        .await
        .unwrap();
    let uris: Vec<String> = client
        .list_resources()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uri)
        .collect();
    assert!(uris.contains(&"notes://notes/all".to_owned()), "{uris:?}");
    let read = client.read_resource("notes://notes/all").await.unwrap();
    let text = serde_json::to_value(&read.contents[0]).unwrap();
    assert_eq!(text["uri"], "notes://notes/all");
    assert!(text["text"].as_str().unwrap().contains("hello"), "{text}");
    assert!(client.read_resource("notes://all").await.is_err());
    let prompts: Vec<String> = client
        .list_prompts()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(
        prompts.iter().all(|p| p.starts_with("notes_")),
        "{prompts:?}"
    );

    let instructions = client.server().instructions.clone().unwrap();
    assert_eq!(
        instructions,
        "The host's own words.\n\n## alpha\n\nalpha: call status\n\n## beta\n\nbeta: call status"
    );
}

/// A plugin whose catalog is found in `start` and changes when told: what a proxy of another
/// server does.
#[derive(Default)]
struct Dynamic {
    handle: Mutex<Option<PluginHandle>>,
    started: AtomicUsize,
    stopped: AtomicUsize,
}

/// One of the dynamic plugin's tools.
#[tool]
async fn first() -> String {
    "first".into()
}

/// The other.
#[tool]
async fn second() -> String {
    "second".into()
}

impl Plugin for Dynamic {
    fn name(&self) -> String {
        "dynamic".into()
    }
    fn catalog(&self) -> Catalog {
        Catalog::new()
    }
    fn capabilities(&self) -> PluginCapabilities {
        PluginCapabilities::none().with_list_changed()
    }
    fn start(self: Arc<Self>, handle: PluginHandle) -> BoxFuture<Result<(), PluginError>> {
        Box::pin(async move {
            self.started.fetch_add(1, Ordering::SeqCst);
            handle
                .set_catalog(Catalog::new().tool(first))
                .await
                .map_err(PluginError::new)?;
            *self.handle.lock().await = Some(handle);
            Ok(())
        })
    }
    fn shutdown(self: Arc<Self>) -> BoxFuture<()> {
        Box::pin(async move {
            self.stopped.fetch_add(1, Ordering::SeqCst);
        })
    }
}

#[tokio::test]
async fn a_catalog_found_at_start_and_changed_later_reaches_clients() {
    let dynamic = Arc::new(Dynamic::default());
    /// The host's own `dyn_first`, to clash with.
    #[tool]
    async fn dyn_second() -> String {
        "host".into()
    }
    let server = Server::builder("host", "1")
        .tool(dyn_second)
        .plugin_prefixed("dyn", dynamic.clone())
        .build()
        .unwrap();
    assert!(server.tool("dyn_first").is_none());
    server.start_plugins().await.unwrap();
    server.start_plugins().await.unwrap();
    assert_eq!(dynamic.started.load(Ordering::SeqCst), 1);

    // A session of the stateful era: list_changed reaches it on its stream of unrelated
    // messages.
    let options = ClientOptions {
        era: ClientEra::Stateful,
        ..ClientOptions::default()
    };
    let client = memory::connect_with(&server, options).await.unwrap();
    let caps = &client.server().capabilities;
    assert_eq!(caps.tools.as_ref().unwrap()["listChanged"], true);
    let r = client.call_tool("dyn_first", json!({})).await.unwrap();
    assert_eq!(r.text(), "first");

    let mut notes = client.notifications();
    let handle = dynamic.handle.lock().await.clone().unwrap();
    // A clash at run time is refused and changes nothing.
    let clash = handle
        .set_catalog(Catalog::new().tool(second))
        .await
        .unwrap_err();
    assert!(
        clash
            .to_string()
            .contains("server `host` and plugin `dynamic` (prefix `dyn`)"),
        "{clash}"
    );
    assert!(server.tool("dyn_first").is_some());
    handle
        .set_catalog(Catalog::new().tool(second).tool(first))
        .await
        .unwrap_err();
    handle.set_catalog(Catalog::new()).await.unwrap();
    let note = tokio::time::timeout(Duration::from_secs(20), notes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.method, "notifications/tools/list_changed");
    let names: Vec<String> = client
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["dyn_second"]);

    server.shutdown_plugins().await;
    server.shutdown_plugins().await;
    assert_eq!(dynamic.stopped.load(Ordering::SeqCst), 1);
}

/// Counts its runs: proof that a refused call never ran.
static COUNTED_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Counts its runs.
#[tool]
async fn counted() -> String {
    COUNTED_RUNS.fetch_add(1, Ordering::SeqCst);
    "ran".into()
}

#[tokio::test]
async fn the_guides_quota_layer_refuses_past_the_limit_before_the_tool_runs() {
    let server = Server::builder("quota", "1")
        .tool(counted)
        .layer(examples::plugins::QuotaLayer::new(2))
        .build()
        .unwrap();
    let client = memory::connect(&server).await.unwrap();
    for _ in 0..2 {
        assert_eq!(
            client.call_tool("counted", json!({})).await.unwrap().text(),
            "ran"
        );
    }
    let refused = client.call_tool("counted", json!({})).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("anonymous has used its 2 tool calls"),
        "{refused}"
    );
    assert_eq!(COUNTED_RUNS.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_guides_server_mounts_its_plugin_beside_its_own_tool() {
    let server = examples::plugins::server().unwrap();
    let client = memory::connect(&server).await.unwrap();
    let r = client
        .call_tool("word_count", json!({"text": "one two three"}))
        .await
        .unwrap();
    assert_eq!(r.text(), "3 words");
    let r = client
        .call_tool("notes_add_note", json!({"text": "hi"}))
        .await
        .unwrap();
    assert_eq!(r.text(), "1 notes");
}
