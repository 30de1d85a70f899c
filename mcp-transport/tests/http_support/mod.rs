//! A raw hyper client, an SSE parser, schema validation and a fixture server, shared by the
//! HTTP server's integration tests.

#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HOST};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use mcp_core::protocol::ToolDefinition as ToolDef;
use mcp_core::tool::FnTool;
use mcp_core::{CallToolResult, Server};
use mcp_transport::http::{
    EventStore, HttpConfig, MemoryEventStore, RunningServer, StoreFuture, StoredEvent, StreamKey,
    serve,
};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

/// The overall limit of a test: generous, so only a deadlock reaches it.
pub const LIMIT: Duration = Duration::from_secs(60);
/// How many progress items the lockstep tool yields.
pub const ITEMS: u32 = 5;
/// The protocol revision the tests speak.
pub const VERSION: &str = "2025-11-25";

pub type ReqBody = UnsyncBoxBody<Bytes, Infallible>;

/// Validates `message` against `JSONRPCMessage` of the 2025-11-25 schema.
pub fn assert_valid(message: &Value) {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/mcp-schema/2025-11-25/schema.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut schema: Value = serde_json::from_str(&text).unwrap();
        schema["$ref"] = "#/$defs/JSONRPCMessage".into();
        jsonschema::validator_for(&schema).expect("schema compiles")
    });
    let errors: Vec<String> = validator
        .iter_errors(message)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "message does not match the schema:\n{message:#}\n{}",
        errors.join("\n")
    );
}

/// A [`MemoryEventStore`] that tells the test what was stored: how far the first POST
/// stream (stream 1) has been stored, and how many events of POST streams (stream 0, the GET
/// stream, apart) were.
pub struct Recording {
    inner: MemoryEventStore,
    /// The last event stored of stream 1.
    pub stored: watch::Sender<u64>,
    appended: AtomicUsize,
}

impl Recording {
    pub fn new() -> Arc<Self> {
        Arc::new(Recording {
            inner: MemoryEventStore::default(),
            stored: watch::Sender::new(0),
            appended: AtomicUsize::new(0),
        })
    }

    /// How many events of POST streams were stored.
    pub fn appended(&self) -> usize {
        self.appended.load(Ordering::Relaxed)
    }
}

impl EventStore for Recording {
    fn append(&self, stream: StreamKey, seq: u64, bytes: Bytes) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let number = stream.stream;
            self.inner.append(stream, seq, bytes).await;
            if number != 0 {
                self.appended.fetch_add(1, Ordering::Relaxed);
            }
            if number == 1 {
                self.stored.send_replace(seq);
            }
        })
    }

    fn replay_after(
        &self,
        stream: StreamKey,
        after: u64,
    ) -> StoreFuture<'_, Option<Vec<StoredEvent>>> {
        self.inner.replay_after(stream, after)
    }

    fn forget_session(&self, session: Arc<str>) -> StoreFuture<'_, ()> {
        self.inner.forget_session(session)
    }
}

/// Controls the fixture's `lockstep` tool.
#[derive(Clone)]
pub struct Gate {
    /// One permit lets the tool go past one yielded item.
    pub permits: Arc<Semaphore>,
    /// The tool reports each item it yielded, before waiting for its permit.
    pub yielded: Arc<Mutex<Option<mpsc::UnboundedReceiver<u32>>>>,
    tx: mpsc::UnboundedSender<u32>,
    /// Counts completed lockstep calls.
    pub finished: Arc<Semaphore>,
}

impl Gate {
    pub fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Gate {
            permits: Arc::new(Semaphore::new(0)),
            yielded: Arc::new(Mutex::new(Some(rx))),
            tx,
            finished: Arc::new(Semaphore::new(0)),
        }
    }

    pub fn release(&self) {
        self.permits.add_permits(1);
    }

    pub fn take_yielded(&self) -> mpsc::UnboundedReceiver<u32> {
        self.yielded.lock().unwrap().take().expect("taken once")
    }
}

/// A tool definition without parameters.
pub fn def(name: &str, description: &str) -> ToolDef {
    serde_json::from_value(json!({
        "name": name,
        "description": description,
        "inputSchema": {"type": "object", "properties": {}}
    }))
    .unwrap()
}

/// A server with `lockstep` (yields item i, then waits for a permit of the gate; five items)
/// and `quick` (two items, no waiting).
pub fn fixture_server(gate: &Gate) -> Server {
    let g = gate.clone();
    Server::builder("http-test", "0.0.1")
        .tool(FnTool::new(
            def("lockstep", "yields an item, then waits to be released"),
            move |ctx, _args| {
                let g = g.clone();
                async move {
                    for i in 1..=ITEMS {
                        ctx.progress(format!("item {i}")).await;
                        let _ = g.tx.send(i);
                        g.permits.acquire().await.unwrap().forget();
                    }
                    g.finished.add_permits(1);
                    CallToolResult::success(vec![mcp_core::Content::text("done")])
                }
            },
        ))
        .tool(FnTool::new(
            def("quick", "two items, at once"),
            |ctx, _args| async move {
                ctx.progress("one").await;
                ctx.progress("two").await;
                CallToolResult::success(vec![mcp_core::Content::text("quick done")])
            },
        ))
        .build()
        .unwrap()
}

/// Serves on a free loopback port.
pub async fn start(server: &Server, config: HttpConfig) -> RunningServer {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    serve(addr, server, config).await.expect("server starts")
}

/// Aborts the connection's task (closing the socket) when dropped.
pub struct ConnGuard(JoinHandle<()>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A response and the connection that carries it.
pub struct Exchange {
    pub status: StatusCode,
    pub headers: HeaderMap,
    body: Incoming,
    conn: ConnGuard,
}

impl Exchange {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn session(&self) -> Option<String> {
        self.header("mcp-session-id").map(str::to_owned)
    }

    pub async fn bytes(self) -> Bytes {
        self.body.collect().await.expect("body").to_bytes()
    }

    /// The body as one JSON-RPC message, validated.
    pub async fn message(self) -> Value {
        let bytes = self.bytes().await;
        let value: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
        assert_valid(&value);
        value
    }

    /// The one message answering a request, whichever way it came: an `application/json`
    /// body with a `Content-Length`, or an SSE stream that ends after it.
    pub async fn answer(self) -> Value {
        match self.header("content-type") {
            Some("application/json") => {
                assert!(
                    self.header("content-length").is_some(),
                    "a JSON answer has its length: {:?}",
                    self.headers
                );
                self.message().await
            }
            _ => {
                let mut events = self.sse();
                let reply = events.next_message().await.expect("a response");
                assert!(
                    events.next().await.is_none(),
                    "the stream ends after the response"
                );
                reply
            }
        }
    }

    pub fn sse(self) -> SseReader {
        assert_eq!(self.header("content-type"), Some("text/event-stream"));
        SseReader {
            body: self.body,
            buf: Vec::new(),
            split_frames: 0,
            _conn: self.conn,
        }
    }
}

/// Sends one request on a new connection.
pub async fn send(addr: SocketAddr, request: Request<ReqBody>) -> Exchange {
    let stream = TcpStream::connect(addr).await.expect("connect");
    exchange(stream, request).await
}

/// Sends one request on a new connection from the loopback address `from` (any of
/// 127.0.0.0/8): to the server, another client.
pub async fn send_from(from: [u8; 4], addr: SocketAddr, request: Request<ReqBody>) -> Exchange {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback source address");
    let stream = socket.connect(addr).await.expect("connect");
    exchange(stream, request).await
}

async fn exchange(stream: TcpStream, request: Request<ReqBody>) -> Exchange {
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    let response: Response<Incoming> = sender.send_request(request).await.expect("response");
    let (parts, body) = response.into_parts();
    Exchange {
        status: parts.status,
        headers: parts.headers,
        body,
        conn: ConnGuard(task),
    }
}

pub fn full(bytes: impl Into<Bytes>) -> ReqBody {
    Full::new(bytes.into())
        .map_err(|e| match e {})
        .boxed_unsync()
}

/// A request to the server with the Host header every HTTP/1.1 request carries.
pub fn builder(addr: SocketAddr, method: Method, path: &str) -> http::request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, addr.to_string())
}

/// A well-formed POST of `message` to `/mcp`.
pub fn post(addr: SocketAddr, session: Option<&str>, message: &Value) -> Request<ReqBody> {
    let mut b = builder(addr, Method::POST, "/mcp")
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json");
    if let Some(s) = session {
        b = b
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", VERSION);
    }
    b.body(full(message.to_string())).unwrap()
}

/// A well-formed GET of the session's stream.
pub fn get(addr: SocketAddr, session: &str, last_event_id: Option<&str>) -> Request<ReqBody> {
    let mut b = builder(addr, Method::GET, "/mcp")
        .header(ACCEPT, "text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", VERSION);
    if let Some(id) = last_event_id {
        b = b.header("last-event-id", id);
    }
    b.body(full(Bytes::new())).unwrap()
}

pub fn initialize_message(id: i64) -> Value {
    json!({
        "jsonrpc": "2.0", "id": id, "method": "initialize",
        "params": {
            "protocolVersion": VERSION,
            "capabilities": {},
            "clientInfo": {"name": "raw-test-client", "version": "0"}
        }
    })
}

pub fn initialized_message() -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
}

pub fn call_message(id: i64, tool: &str) -> Value {
    json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": {}, "_meta": {"progressToken": format!("tok-{id}")}}
    })
}

/// Starts a streamable HTTP session: initialize, then notifications/initialized.
pub async fn initialize(addr: SocketAddr) -> String {
    let x = send(addr, post(addr, None, &initialize_message(0))).await;
    assert_eq!(x.status, StatusCode::OK);
    let session = x
        .session()
        .expect("Mcp-Session-Id on the initialize response");
    let reply = x.answer().await;
    assert_eq!(reply["id"], 0);
    assert_eq!(reply["result"]["protocolVersion"], VERSION);
    let x = send(addr, post(addr, Some(&session), &initialized_message())).await;
    assert_eq!(x.status, StatusCode::ACCEPTED);
    assert!(x.bytes().await.is_empty());
    session
}

/// One parsed SSE event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
    pub retry: Option<u64>,
}

impl Event {
    /// The data as a JSON-RPC message, validated by `check`.
    pub fn message_as(&self, check: impl Fn(&Value)) -> Value {
        let value: Value =
            serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {:?}", self.data));
        check(&value);
        value
    }

    /// The data as a JSON-RPC message, validated against the schema.
    pub fn message(&self) -> Value {
        let value: Value =
            serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {:?}", self.data));
        assert_valid(&value);
        value
    }
}

/// Reads SSE events from a response body as they arrive.
pub struct SseReader {
    body: Incoming,
    buf: Vec<u8>,
    split_frames: usize,
    _conn: ConnGuard,
}

impl SseReader {
    /// The next event (comments skipped), or `None` when the stream ends.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                let text = String::from_utf8(block).expect("utf-8");
                if let Some(event) = parse_block(&text) {
                    return Some(event);
                }
                continue;
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if !data.ends_with(b"\n\n") {
                            self.split_frames += 1;
                        }
                        self.buf.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => panic!("stream failed: {e}"),
                None => {
                    assert!(self.buf.is_empty(), "trailing bytes: {:?}", self.buf);
                    return None;
                }
            }
        }
    }

    /// The next event that carries a message (skipping priming events), validated.
    pub async fn next_message(&mut self) -> Option<Value> {
        loop {
            let event = self.next().await?;
            if !event.data.is_empty() {
                return Some(event.message());
            }
        }
    }

    /// How many body frames did not end exactly at an event boundary (0 when the server
    /// writes each event as its own frame).
    pub fn split_frames(&self) -> usize {
        self.split_frames
    }
}

fn parse_block(text: &str) -> Option<Event> {
    let mut event = Event::default();
    let mut any = false;
    let mut data: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        any = true;
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => event.id = Some(value.to_owned()),
            "event" => event.event = Some(value.to_owned()),
            "retry" => event.retry = value.parse().ok(),
            "data" => data.push(value),
            other => panic!("unknown SSE field {other:?}"),
        }
    }
    event.data = data.join("\n");
    any.then_some(event)
}

/// Progress value and message of a `notifications/progress`.
pub fn progress_of(message: &Value) -> (f64, String) {
    assert_eq!(message["method"], "notifications/progress", "{message}");
    (
        message["params"]["progress"].as_f64().unwrap(),
        message["params"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    )
}

/// The legacy transport: opens `GET /sse` and returns the stream and the endpoint it names.
pub async fn open_legacy(addr: SocketAddr) -> (SseReader, String) {
    let request = builder(addr, Method::GET, "/sse")
        .header(ACCEPT, "text/event-stream")
        .body(full(Bytes::new()))
        .unwrap();
    let x = send(addr, request).await;
    assert_eq!(x.status, StatusCode::OK);
    assert_eq!(x.header("x-accel-buffering"), Some("no"));
    let mut events = x.sse();
    let first = events.next().await.expect("endpoint event");
    assert_eq!(first.event.as_deref(), Some("endpoint"));
    assert!(
        first.data.starts_with("/messages?sessionId="),
        "{}",
        first.data
    );
    (events, first.data)
}

/// POSTs a message to the legacy endpoint.
pub async fn post_legacy(addr: SocketAddr, endpoint: &str, message: &Value) -> StatusCode {
    let request = builder(addr, Method::POST, endpoint)
        .header(CONTENT_TYPE, "application/json")
        .body(full(message.to_string()))
        .unwrap();
    let x = send(addr, request).await;
    let status = x.status;
    let _ = x.bytes().await;
    status
}
