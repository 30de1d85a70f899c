//! `#[tools]` on an impl block: methods that are tools of a shared server value.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{connect, find, list, within};
use mcp_core::{CallEvent, Context, Progress, Server, ToolBox, tools};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// A server whose tools share a counter.
struct Counter {
    hits: AtomicU64,
    gate: Semaphore,
    prefix: String,
}

/// What `snapshot` returns.
#[derive(Serialize, JsonSchema)]
struct Snapshot {
    hits: u64,
    prefix: String,
}

#[tools]
impl Counter {
    /// Not a tool: an ordinary associated function.
    fn new(prefix: &str) -> Self {
        Counter {
            hits: AtomicU64::new(0),
            gate: Semaphore::new(0),
            prefix: prefix.to_owned(),
        }
    }

    /// Not a tool: a helper the tools use.
    fn label(&self, n: u64) -> String {
        format!("{}{n}", self.prefix)
    }

    /// Adds to the counter; returns the new count.
    #[tool(idempotent = false)]
    async fn hit(
        &self,
        /// How much to add.
        #[arg(default = 1)]
        by: u64,
    ) -> String {
        let now = self.hits.fetch_add(by, Ordering::SeqCst) + by;
        self.label(now)
    }

    /// Streams `steps` steps, waiting for the test after each.
    #[tool(name = "stream")]
    async fn stream_steps(&self, steps: u32, ctx: &Context) -> String {
        for i in 1..=steps {
            yield_!(Progress::step(
                u64::from(i),
                u64::from(steps),
                format!("step {i}")
            ));
            if ctx.wants_progress() {
                self.gate.acquire().await.expect("open").forget();
            }
        }
        format!("{} streamed", self.prefix)
    }

    /// The current state, structured; `Self` in the return type is the server type.
    #[tool(read_only)]
    async fn snapshot(&self) -> Result<Snapshot, String> {
        let hits = self.hits.load(Ordering::SeqCst);
        if hits > 1000 {
            return Err("too many".into());
        }
        Ok(Snapshot {
            hits,
            prefix: self.prefix.clone(),
        })
    }

    /// Echoes, with the context passed by value and a mutable parameter.
    #[tool]
    async fn echo(&self, mut text: String, ctx: Context) -> String {
        text.push_str(if ctx.wants_progress() {
            " (streaming)"
        } else {
            ""
        });
        yield_!("echoing");
        text
    }
}

/// A point; its tools take another point (`Self`) as an argument.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, JsonSchema)]
struct Point {
    x: f64,
    y: f64,
}

#[tools]
impl Point {
    /// The distance to another point.
    #[tool]
    async fn distance(&self, other: Self) -> f64 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2)).sqrt()
    }

    /// Says hello; the same method name as nothing else, but the same hidden item names as
    /// `Counter`'s tools, in the same module.
    #[tool]
    async fn echo(&self, text: String) -> String {
        format!("{text} from ({}, {})", self.x, self.y)
    }
}

async fn call(client: &mcp_core::Client, name: &str, args: Value) -> mcp_core::CallToolResult {
    within(client.call_tool(name, args))
        .await
        .expect("tools/call")
}

#[tokio::test]
async fn methods_share_the_server_state() {
    let counter = Arc::new(Counter::new("n="));
    let server = Server::builder("methods", "1")
        .tools_shared(Arc::clone(&counter))
        .build()
        .expect("server builds");
    let client = connect(&server).await;
    let tools = list(&client).await;
    let names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["hit", "stream", "snapshot", "echo"]);
    let hit = find(&tools, "hit");
    assert_eq!(
        hit.description.as_deref(),
        Some("Adds to the counter; returns the new count.")
    );
    assert_eq!(hit.input_schema["properties"]["by"]["default"], 1);
    assert_eq!(
        hit.input_schema["properties"]["by"]["description"],
        "How much to add."
    );
    assert_eq!(
        hit.annotations.as_ref().unwrap().idempotent_hint,
        Some(false)
    );
    assert!(
        find(&tools, "stream").input_schema["properties"]
            .get("ctx")
            .is_none()
    );
    let snapshot_schema = find(&tools, "snapshot")
        .output_schema
        .clone()
        .expect("structured");
    assert_eq!(snapshot_schema["required"], json!(["hits", "prefix"]));

    assert_eq!(call(&client, "hit", json!({})).await.text(), "n=1");
    assert_eq!(call(&client, "hit", json!({"by": 5})).await.text(), "n=6");
    // The state is the value we registered.
    assert_eq!(counter.hits.load(Ordering::SeqCst), 6);
    counter.hits.fetch_add(1, Ordering::SeqCst);
    let snapshot = call(&client, "snapshot", json!({})).await;
    assert_eq!(
        Value::Object(snapshot.structured_content.unwrap()),
        json!({"hits": 7, "prefix": "n="})
    );
    counter.hits.store(2000, Ordering::SeqCst);
    let refused = call(&client, "snapshot", json!({})).await;
    assert!(refused.is_error());
    assert_eq!(refused.text(), "too many");

    let echoed = call(&client, "echo", json!({"text": "hi"})).await;
    assert_eq!(echoed.text(), "hi");
    let invalid = call(&client, "echo", json!({"text": 3})).await;
    assert!(invalid.is_error());
    assert!(
        invalid.text().contains("Invalid arguments for tool `echo`"),
        "{}",
        invalid.text()
    );
}

#[tokio::test]
async fn a_method_streams_in_lockstep() {
    let counter = Arc::new(Counter::new("c"));
    let server = Server::builder("methods", "1")
        .tools_shared(Arc::clone(&counter))
        .build()
        .expect("server builds");
    let client = connect(&server).await;
    let mut call = within(client.call_tool_streaming("stream", json!({"steps": 3})))
        .await
        .expect("call sent");
    for i in 1..=3u32 {
        match within(call.next_event()).await.expect("event") {
            CallEvent::Progress(p) => {
                assert_eq!(p.progress, f64::from(i));
                assert_eq!(p.total, Some(3.0));
                assert_eq!(p.message, Some(format!("step {i}")));
            }
            CallEvent::Done(r) => panic!("result before progress {i}: {r:?}"),
        }
        counter.gate.add_permits(1);
    }
    match within(call.next_event()).await.expect("event") {
        CallEvent::Done(r) => assert_eq!(r.expect("result").text(), "c streamed"),
        CallEvent::Progress(p) => panic!("unexpected {p:?}"),
    }

    let mut call = within(client.call_tool_streaming("echo", json!({"text": "yo"})))
        .await
        .expect("call sent");
    match within(call.next_event()).await.expect("event") {
        CallEvent::Progress(p) => assert_eq!(p.message.as_deref(), Some("echoing")),
        CallEvent::Done(r) => panic!("no progress: {r:?}"),
    }
    match within(call.next_event()).await.expect("event") {
        CallEvent::Done(r) => assert_eq!(r.expect("result").text(), "yo (streaming)"),
        CallEvent::Progress(p) => panic!("unexpected {p:?}"),
    }
}

#[tokio::test]
async fn self_in_argument_types_and_two_toolboxes_in_one_module() {
    let server = Server::builder("points", "1")
        .tools(Point { x: 0.0, y: 0.0 })
        .build()
        .expect("server builds");
    let client = connect(&server).await;
    let tools = list(&client).await;
    let schema = Value::Object(find(&tools, "distance").input_schema.clone());
    assert!(common::accepts(
        &schema,
        &json!({"other": {"x": 3.0, "y": 4.0}})
    ));
    assert!(!common::accepts(&schema, &json!({"other": {"x": 3.0}})));
    let d = call(&client, "distance", json!({"other": {"x": 3.0, "y": 4.0}})).await;
    assert_eq!(
        Value::Object(d.structured_content.unwrap()),
        json!({"result": 5.0})
    );
    let e = call(&client, "echo", json!({"text": "hey"})).await;
    assert_eq!(e.text(), "hey from (0, 0)");
}

#[tokio::test]
async fn the_methods_stay_callable() {
    let counter = Counter::new("#");
    // No `Context` parameter: the progress of a direct call goes nowhere.
    assert_eq!(counter.hit(3).await, "#3");
    assert_eq!(
        counter.stream_steps(2, &Context::detached()).await,
        "# streamed"
    );
    assert_eq!(counter.echo("x".into(), Context::detached()).await, "x");
    assert_eq!(counter.snapshot().await.map(|s| s.hits), Ok(3));
    let origin = Point { x: 0.0, y: 0.0 };
    assert_eq!(origin.distance(Point { x: 0.0, y: 2.0 }).await, 2.0);
}

#[test]
fn toolbox_lists_one_tool_per_method() {
    let tools = <Counter as ToolBox>::tools(&Arc::new(Counter::new("")));
    let names: Vec<_> = tools.iter().map(|t| t.definition().name).collect();
    assert_eq!(names, ["hit", "stream", "snapshot", "echo"]);
}
