//! The server session driven directly: dispatch, error codes, concurrency, cancellation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use mcp_core::protocol::ToolDefinition as ToolDef;
use mcp_core::tool::FnTool;
use mcp_core::{CallToolResult, Message, Outbound, Outbox, Server, ServerSession};
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore, mpsc};

const LIMIT: Duration = Duration::from_secs(20);

fn def(name: &str) -> ToolDef {
    serde_json::from_value(json!({
        "name": name,
        "description": format!("test tool {name}"),
        "inputSchema": {"type": "object", "properties": {}}
    }))
    .unwrap()
}

struct DropFlag(Arc<Notify>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

struct Fixture {
    started: Arc<Notify>,
    dropped: Arc<Notify>,
    release: Arc<Semaphore>,
}

fn server(fx: &Fixture, page_size: usize) -> Server {
    let (started, dropped, release) = (fx.started.clone(), fx.dropped.clone(), fx.release.clone());
    let mut b = Server::builder("test-server", "0.0.1")
        .page_size(page_size)
        .tool(FnTool::new(def("hang"), move |_ctx, _args| {
            let started = started.clone();
            let guard = DropFlag(dropped.clone());
            async move {
                let _guard = guard;
                started.notify_one();
                std::future::pending::<()>().await;
                CallToolResult::default()
            }
        }))
        .tool(FnTool::new(def("steps"), move |ctx, _args| {
            let release = release.clone();
            async move {
                for i in 1..=3 {
                    ctx.progress(format!("step {i}")).await;
                    release.acquire().await.unwrap().forget();
                }
                ctx.info("done stepping").await;
                mcp_core::IntoCallToolResult::into_call_tool_result("finished".to_string())
            }
        }))
        .tool(FnTool::new(def("boom"), |_ctx, _args| async move {
            panic!("kaboom");
        }))
        .tool(FnTool::new(def("boom_later"), |_ctx, _args| async move {
            tokio::task::yield_now().await;
            panic!("kaboom later");
        }));
    for i in 0..5 {
        b = b.tool(FnTool::new(def(&format!("extra{i}")), |_c, _a| async {
            CallToolResult::default()
        }));
    }
    b.build().unwrap()
}

struct Driver {
    session: ServerSession,
    reply: Outbox,
    out: mpsc::Receiver<Outbound>,
    version: &'static str,
}

impl Driver {
    fn new(server: &Server) -> Self {
        let (reply, out) = Outbox::channel(16);
        Driver {
            session: ServerSession::new(server, reply.clone()),
            reply,
            out,
            version: "2025-11-25",
        }
    }

    async fn send(&self, v: Value) {
        let m = Message::from_value(v).unwrap();
        self.session.receive(m, &self.reply).await;
    }

    async fn next(&mut self) -> Outbound {
        let o = tokio::time::timeout(LIMIT, self.out.recv())
            .await
            .expect("a message within the time limit")
            .expect("the outbox stays open");
        common::assert_valid(self.version, &serde_json::to_value(&o.message).unwrap());
        o
    }

    async fn next_json(&mut self) -> Value {
        serde_json::to_value(self.next().await.message).unwrap()
    }

    async fn init(&mut self) {
        self.send(
            json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion": self.version, "capabilities": {},
            "clientInfo": {"name":"t","version":"1"}}}),
        )
        .await;
        let r = self.next_json().await;
        assert_eq!(r["result"]["protocolVersion"], self.version);
        self.send(json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
            .await;
    }
}

fn fixture() -> Fixture {
    Fixture {
        started: Arc::new(Notify::new()),
        dropped: Arc::new(Notify::new()),
        release: Arc::new(Semaphore::new(0)),
    }
}

#[tokio::test]
async fn unknown_method_before_initialize_is_an_error() {
    // A build that serves the stateful era only answers a 2026-07-28 client's probe as any
    // server predating that revision does: an error, never silence.
    let legacy_only = Server::builder("legacy", "1")
        .eras(mcp_core::Eras::Stateful)
        .build()
        .unwrap();
    let mut d = Driver::new(&legacy_only);
    d.send(
        json!({"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{
        "io.modelcontextprotocol/protocolVersion":"2026-07-28",
        "io.modelcontextprotocol/clientCapabilities":{}}}}),
    )
    .await;
    let r = d.next_json().await;
    assert_eq!(r["id"], 1);
    assert_eq!(r["error"]["code"], -32601);
    // A dual-era server treats `server/discover` as a stateless request: without `_meta` it
    // is malformed (-32602); the stateless tests cover the rest.
    let fx = fixture();
    let mut d = Driver::new(&server(&fx, 100));
    d.send(json!({"jsonrpc":"2.0","id":1,"method":"server/discover"}))
        .await;
    let r = d.next_json().await;
    assert_eq!(r["id"], 1);
    assert_eq!(r["error"]["code"], -32602);
    d.send(json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}))
        .await;
    let r = d.next_json().await;
    assert_eq!(r["error"]["code"], -32600, "{r}");
    d.send(json!({"jsonrpc":"2.0","id":3,"method":"ping"}))
        .await;
    assert_eq!(d.next_json().await["result"], json!({}));
}

#[tokio::test]
async fn error_codes_after_initialize() {
    let fx = fixture();
    let mut d = Driver::new(&server(&fx, 100));
    d.init().await;
    let cases = [
        (json!({"jsonrpc":"2.0","id":1,"method":"no/such"}), -32601),
        (
            json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{}}),
            -32602,
        ),
        (
            json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope"}}),
            -32602,
        ),
        (
            json!({"jsonrpc":"2.0","id":4,"method":"logging/setLevel","params":{"level":"loud"}}),
            -32602,
        ),
        (
            json!({"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"cursor":"zz"}}),
            -32602,
        ),
        (
            json!({"jsonrpc":"2.0","id":6,"method":"initialize","params":{
            "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
            -32600,
        ),
    ];
    for (request, code) in cases {
        let id = request["id"].clone();
        d.send(request).await;
        let r = d.next_json().await;
        assert_eq!(r["id"], id);
        assert_eq!(r["error"]["code"], code, "{r}");
    }
    d.send(json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"boom"}}))
        .await;
    let r = d.next_json().await;
    assert_eq!(r["error"]["code"], -32603);
    assert!(r["error"]["message"].as_str().unwrap().contains("kaboom"));
    // A panic after the call first waited (in the task that took the call over) too.
    d.send(json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"boom_later"}}))
        .await;
    let r = d.next_json().await;
    assert_eq!(r["error"]["code"], -32603);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("kaboom later")
    );
    // The session keeps serving after a panic.
    d.send(json!({"jsonrpc":"2.0","id":8,"method":"ping"}))
        .await;
    assert_eq!(d.next_json().await["id"], 8);
}

#[tokio::test]
async fn a_call_that_completes_at_once_is_answered_before_receive_returns() {
    let fx = fixture();
    let s = server(&fx, 100);
    let mut d = Driver::new(&s);
    d.init().await;
    d.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"extra0"}}))
        .await;
    // Already in the outbox: no task ran it, so nothing had to be scheduled.
    let answer = d.out.try_recv().expect("the answer is queued");
    let answer = serde_json::to_value(&answer.message).unwrap();
    assert_eq!(answer["id"], 1);
    assert!(answer["result"].is_object(), "{answer}");
    assert_eq!(d.session.in_flight(), 0);

    // One that waits is taken over by a task, and counted in flight until it ends.
    d.send(json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"steps","arguments":{}}}))
        .await;
    assert_eq!(d.session.in_flight(), 1);
    for _ in 0..3 {
        fx.release.add_permits(1);
    }
    loop {
        let m = d.next_json().await;
        if m["id"] == 2 {
            assert_eq!(m["result"]["content"][0]["text"], "finished");
            break;
        }
    }
    assert_eq!(d.session.in_flight(), 0);
}

#[tokio::test]
async fn negotiates_each_revision_and_falls_back_to_latest() {
    let fx = fixture();
    let s = server(&fx, 100);
    for (asked, answered) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2030-01-01", "2025-11-25"),
    ] {
        let mut d = Driver::new(&s);
        d.version = if answered == "2025-11-25" {
            "2025-11-25"
        } else {
            answered_static(answered)
        };
        d.send(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
            "protocolVersion": asked, "capabilities": {}, "clientInfo": {"name":"t","version":"1"}}}))
            .await;
        let r = d.next_json().await;
        assert_eq!(r["result"]["protocolVersion"], answered);
        assert!(r["result"]["capabilities"]["tools"].is_object());
        assert_eq!(r["result"]["serverInfo"]["name"], "test-server");
    }
}

fn answered_static(v: &str) -> &'static str {
    match v {
        "2024-11-05" => "2024-11-05",
        "2025-03-26" => "2025-03-26",
        _ => "2025-06-18",
    }
}

#[tokio::test]
async fn tools_list_paginates() {
    let fx = fixture();
    let mut d = Driver::new(&server(&fx, 3));
    d.init().await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    for id in 1.. {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        d.send(json!({"jsonrpc":"2.0","id":id,"method":"tools/list","params":params}))
            .await;
        let r = d.next_json().await;
        let tools = r["result"]["tools"].as_array().unwrap();
        assert!(tools.len() <= 3);
        names.extend(tools.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
        match r["result"].get("nextCursor") {
            Some(Value::String(c)) => cursor = Some(c.clone()),
            _ => break,
        }
    }
    assert_eq!(names.len(), 9);
    assert_eq!(&names[..4], ["hang", "steps", "boom", "boom_later"]);
}

#[tokio::test]
async fn long_call_does_not_block_ping_or_a_second_call() {
    let fx = fixture();
    let mut d = Driver::new(&server(&fx, 100));
    d.init().await;
    d.send(json!({"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"hang"}}))
        .await;
    fx.started.notified().await;
    d.send(json!({"jsonrpc":"2.0","id":11,"method":"ping"}))
        .await;
    assert_eq!(d.next_json().await["id"], 11);
    d.send(json!({"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"extra0"}}))
        .await;
    let r = d.next_json().await;
    assert_eq!(r["id"], 12);
    assert_eq!(d.session.in_flight(), 1);
}

#[tokio::test]
async fn cancellation_drops_the_tool_and_sends_no_response() {
    let fx = fixture();
    let mut d = Driver::new(&server(&fx, 100));
    d.init().await;
    d.send(json!({"jsonrpc":"2.0","id":"call-1","method":"tools/call","params":{"name":"hang"}}))
        .await;
    fx.started.notified().await;
    let dropped = fx.dropped.notified();
    d.send(json!({"jsonrpc":"2.0","method":"notifications/cancelled",
        "params":{"requestId":"call-1","reason":"user pressed stop"}}))
        .await;
    tokio::time::timeout(LIMIT, dropped)
        .await
        .expect("the tool's future is dropped");
    assert_eq!(d.session.in_flight(), 0);
    d.send(json!({"jsonrpc":"2.0","id":"after","method":"ping"}))
        .await;
    let next = d.next_json().await;
    assert_eq!(
        next["id"], "after",
        "no response for the cancelled call: {next}"
    );
}

#[tokio::test]
async fn closing_the_session_drops_running_tools() {
    let fx = fixture();
    let mut d = Driver::new(&server(&fx, 100));
    d.init().await;
    d.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hang"}}))
        .await;
    fx.started.notified().await;
    let dropped = fx.dropped.notified();
    drop(d);
    tokio::time::timeout(LIMIT, dropped)
        .await
        .expect("dropping the session drops the tool");
}

#[tokio::test]
async fn progress_is_tagged_and_arrives_before_the_tool_continues() {
    let fx = fixture();
    let mut d = Driver::new(&server(&fx, 100));
    d.init().await;
    d.send(json!({"jsonrpc":"2.0","id":5,"method":"tools/call",
        "params":{"name":"steps","_meta":{"progressToken":"tok"}}}))
        .await;
    for i in 1..=3 {
        let o = d.next().await;
        assert_eq!(o.related, Some(mcp_core::RequestId::Number(5)));
        let v = serde_json::to_value(&o.message).unwrap();
        assert_eq!(v["method"], "notifications/progress");
        assert_eq!(v["params"]["progressToken"], "tok");
        assert_eq!(v["params"]["progress"], f64::from(i));
        assert_eq!(v["params"]["message"], format!("step {i}"));
        // Encoded once, by the session: a transport copies this text into its frame.
        let Message::Notification(n) = &*o.message else {
            panic!("{o:?}")
        };
        assert_eq!(
            n.params.as_ref().and_then(|p| p.encoded()),
            Some(
                format!(r#"{{"progressToken":"tok","progress":{i}.0,"message":"step {i}"}}"#)
                    .as_str()
            )
        );
        // Lockstep: the tool waits for this release, sent only after we saw step i.
        fx.release.add_permits(1);
    }
    let log = d.next_json().await;
    assert_eq!(log["method"], "notifications/message");
    assert_eq!(log["params"]["level"], "info");
    let done = d.next().await;
    assert!(done.is_final());
    let v = serde_json::to_value(&done.message).unwrap();
    assert_eq!(v["result"]["content"][0]["text"], "finished");
    // The tool's result too: encoded once, no `Value` map built on the way.
    let Message::Response(r) = &*done.message else {
        panic!("{done:?}")
    };
    assert!(r.result.encoded().is_some(), "{:?}", r.result);
}

#[tokio::test]
async fn log_level_filters_messages() {
    let fx = fixture();
    let mut d = Driver::new(&server(&fx, 100));
    d.init().await;
    d.send(json!({"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"error"}}))
        .await;
    assert_eq!(d.next_json().await["result"], json!({}));
    d.send(json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"steps"}}))
        .await;
    fx.release.add_permits(3);
    // No progress (no token) and no info log (below `error`): the response comes next.
    let r = d.next_json().await;
    assert_eq!(r["id"], 2, "{r}");
}

#[tokio::test]
async fn calls_past_the_bound_get_a_clear_error_and_the_rest_run_on() {
    let fx = fixture();
    let server = Server::builder("bounded", "1")
        .max_calls_in_flight(2)
        .tool(FnTool::new(def("hang"), {
            let started = fx.started.clone();
            move |_ctx, _args| {
                let started = started.clone();
                async move {
                    started.notify_one();
                    std::future::pending::<CallToolResult>().await
                }
            }
        }))
        .build()
        .unwrap();
    let mut d = Driver::new(&server);
    d.init().await;
    for id in 1..=2 {
        d.send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"hang"}}))
            .await;
        fx.started.notified().await;
    }
    d.send(json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"hang"}}))
        .await;
    let refused = d.next_json().await;
    assert_eq!(refused["id"], 3);
    assert_eq!(refused["error"]["code"], -32000);
    assert_eq!(refused["error"]["data"]["reason"], "too_many_requests");
    assert_eq!(refused["error"]["data"]["limit"], 2);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many requests in flight")
    );
    assert_eq!(d.session.in_flight(), 2);
    // Cheap requests are not bounded: the session still answers.
    d.send(json!({"jsonrpc":"2.0","id":4,"method":"ping"}))
        .await;
    assert_eq!(d.next_json().await["id"], 4);
    // Once one call is cancelled, there is room again.
    d.send(json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}))
        .await;
    d.send(json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"hang"}}))
        .await;
    fx.started.notified().await;
    assert_eq!(d.session.in_flight(), 2);
}

#[tokio::test]
async fn failing_all_calls_answers_each_once_with_the_error() {
    let fx = fixture();
    let mut d = Driver::new(&server(&fx, 100));
    d.init().await;
    for id in 1..=3 {
        d.send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"hang"}}))
            .await;
        fx.started.notified().await;
    }
    let error = mcp_core::RpcError::new(mcp_core::ErrorCode::SERVER_ERROR, "shutting down");
    assert_eq!(d.session.fail_all(error).await, 3);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let answer = d.next_json().await;
        assert_eq!(answer["error"]["message"], "shutting down");
        ids.push(answer["id"].as_i64().unwrap());
    }
    ids.sort();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(d.session.in_flight(), 0);
    // Nothing more for those calls: the next message is the answer to a new request.
    d.send(json!({"jsonrpc":"2.0","id":"after","method":"ping"}))
        .await;
    assert_eq!(d.next_json().await["id"], "after");
}

#[tokio::test]
async fn an_unreachable_call_is_cancelled_without_an_answer() {
    use mcp_core::server::Reclaimed;
    let fx = fixture();
    let mut d = Driver::new(&server(&fx, 100));
    d.init().await;
    d.send(json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"hang"}}))
        .await;
    fx.started.notified().await;
    let dropped = fx.dropped.notified();
    let id = mcp_core::RequestId::Number(7);
    assert_eq!(d.session.cancel_unreachable(&id), Reclaimed::Cancelled);
    tokio::time::timeout(LIMIT, dropped)
        .await
        .expect("the tool's future is dropped");
    assert_eq!(d.session.cancel_unreachable(&id), Reclaimed::NotRunning);
    d.send(json!({"jsonrpc":"2.0","id":8,"method":"ping"}))
        .await;
    assert_eq!(
        d.next_json().await["id"],
        8,
        "no answer for the cancelled call"
    );
}
