//! What is fuzzed, and what must hold for every input: no panic anywhere, and for each target
//! a property that a wrong answer would break.
//!
//! - [`Target::JsonRpc`]: a message that parses serializes to JSON that parses back to the same
//!   message; a JSON object reads as the same message (or the same error) when it is read from
//!   its parsed value; reading a batch agrees with reading one message wherever the input is no
//!   array.
//! - [`Target::Sse`]: an event stream parses to the same events whether its bytes arrive at once
//!   or in pieces.
//! - [`Target::Stdio`]: the stdio server, fed the input as lines and then a `ping`, ends cleanly
//!   at end of input, writes only JSON lines, and still answers the `ping`.
//! - [`Target::Http`]: the HTTP service, fed the input as one raw request on a connection,
//!   answers with a well-formed status line (never 500) or closes it, and afterwards still
//!   answers a `ping` in its session.

use std::fmt;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use mcp_core::jsonrpc::{Incoming, Message};
use mcp_core::protocol::ToolDefinition as ToolDef;
use mcp_core::tool::FnTool;
use mcp_core::{CallToolResult, Content, Server};
use mcp_transport::http::{HttpConfig, McpService};
use mcp_transport::http_client::sse::SseParser;
use mcp_transport::stdio::StdioServer;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One fuzz target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The JSON-RPC envelope parser (`Message::parse`, `Incoming::parse`).
    JsonRpc,
    /// The client's SSE parser.
    Sse,
    /// The stdio server.
    Stdio,
    /// The HTTP server (hyper's parser and the MCP service).
    Http,
}

impl Target {
    /// Every target, in the order a run visits them.
    pub const ALL: [Target; 4] = [Target::JsonRpc, Target::Sse, Target::Stdio, Target::Http];

    /// The target's name: its corpus directory and its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::JsonRpc => "jsonrpc",
            Target::Sse => "sse",
            Target::Stdio => "stdio",
            Target::Http => "http",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A property that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail<T>(why: impl Into<String>) -> Result<T, Failure> {
    Err(Failure(why.into()))
}

/// How long (virtual time) one HTTP exchange may take before the harness drops it: a GET
/// stream stays open forever, a body that was declared but not sent never comes.
const EXCHANGE: Duration = Duration::from_secs(5);

/// The servers under test, built once and reused for every input.
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    server: Server,
    http: McpService,
    session: String,
}

/// A server with a quick tool and one that streams progress.
fn server() -> Server {
    let def = |name: &str| -> ToolDef {
        serde_json::from_value(json!({
            "name": name,
            "description": "a fuzz target's tool",
            "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}
        }))
        .expect("a valid definition")
    };
    Server::builder("fuzz", "0")
        .tool(FnTool::new(def("echo"), |_ctx, args| async move {
            CallToolResult::success(vec![Content::text(
                serde_json::Value::Object(args).to_string(),
            )])
        }))
        .tool(FnTool::new(def("steps"), |ctx, args| async move {
            let n = args.get("n").and_then(|n| n.as_u64()).unwrap_or(2).min(8);
            for i in 0..n {
                ctx.progress(format!("step {i}")).await;
            }
            CallToolResult::success(vec![Content::text("done")])
        }))
        .build()
        .expect("a valid server")
}

impl Harness {
    /// Builds the servers on a single-threaded runtime whose clock only moves when nothing
    /// else can: runs are repeatable and never wait for real time.
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime");
        let server = server();
        let http = runtime.block_on(async {
            McpService::new(&server, HttpConfig::default()).expect("a valid configuration")
        });
        let mut harness = Harness {
            runtime,
            server,
            http,
            session: String::new(),
        };
        harness.session = harness
            .open_session()
            .expect("the HTTP server starts a session");
        harness
    }

    /// The live HTTP session's id, which `@SESSION@` in HTTP inputs stands for.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// Prepares a corpus entry: HTTP inputs get the live session's id.
    pub fn prepare(&self, target: Target, input: &[u8]) -> Vec<u8> {
        match target {
            Target::Http => String::from_utf8_lossy(input)
                .replace("@SESSION@", &self.session)
                .into_bytes(),
            _ => input.to_vec(),
        }
    }

    /// Runs one input against `target`. A panic is not caught here (the caller catches it).
    pub fn exec(&mut self, target: Target, input: &[u8]) -> Result<(), Failure> {
        match target {
            Target::JsonRpc => jsonrpc(input),
            Target::Sse => sse(input),
            Target::Stdio => self.stdio(input),
            Target::Http => self.http(input),
        }
    }

    fn stdio(&self, input: &[u8]) -> Result<(), Failure> {
        let server = self.server.clone();
        self.runtime.block_on(async move {
            let (mut client, server_end) = tokio::io::duplex(256 * 1024);
            let (reader, writer) = tokio::io::split(server_end);
            let serving = tokio::spawn(async move {
                StdioServer::new(&server)
                    .shutdown_grace(Duration::from_millis(100))
                    .serve_io(reader, writer)
                    .await
            });
            let probe = br#"{"jsonrpc":"2.0","id":"fuzz-probe","method":"ping"}"#;
            let mut sent = input.to_vec();
            sent.push(b'\n');
            sent.extend_from_slice(probe);
            sent.push(b'\n');
            let mut output = Vec::new();
            let (mut read_half, mut write_half) = tokio::io::split(&mut client);
            let write = async {
                write_half.write_all(&sent).await?;
                write_half.shutdown().await
            };
            let read = read_half.read_to_end(&mut output);
            let (written, read) = tokio::join!(write, read);
            written.map_err(|e| Failure(format!("writing the input failed: {e}")))?;
            read.map_err(|e| Failure(format!("reading the output failed: {e}")))?;
            match serving.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return fail(format!("the server ended with an error: {e}")),
                Err(e) => return fail(format!("the server task failed: {e}")),
            }
            let mut answered = false;
            for line in output.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let message: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
                    Failure(format!(
                        "the server wrote a line that is not JSON ({e}): {}",
                        String::from_utf8_lossy(line)
                    ))
                })?;
                answered |= message["id"] == "fuzz-probe" && message.get("result").is_some();
            }
            if !answered {
                return fail("the server did not answer the ping that followed the input");
            }
            Ok(())
        })
    }

    /// Sends raw bytes on a fresh connection; returns what came back.
    async fn exchange(service: McpService, raw: Vec<u8>) -> Result<Vec<u8>, Failure> {
        let (mut client, server_end) = tokio::io::duplex(256 * 1024);
        let connection = tokio::spawn(async move {
            // The client shuts its side down after the request: answer it all the same.
            let _ = http1::Builder::new()
                .half_close(true)
                .serve_connection(TokioIo::new(server_end), service)
                .await;
        });
        let mut answer = Vec::new();
        let talk = async {
            client.write_all(&raw).await?;
            client.shutdown().await?;
            client.read_to_end(&mut answer).await
        };
        // Whatever is still open at the end of the exchange (a stream) is dropped.
        let _ = tokio::time::timeout(EXCHANGE, talk).await;
        drop(client);
        if let Err(e) = connection.await
            && e.is_panic()
        {
            return fail(format!("the connection task panicked: {e}"));
        }
        Ok(answer)
    }

    fn http(&mut self, input: &[u8]) -> Result<(), Failure> {
        let service = self.http.clone();
        let answer = self
            .runtime
            .block_on(Self::exchange(service, input.to_vec()))?;
        if !answer.is_empty() {
            let status = answer
                .strip_prefix(b"HTTP/1.1 ")
                .or_else(|| answer.strip_prefix(b"HTTP/1.0 "))
                .and_then(|rest| rest.get(..3))
                .and_then(|code| std::str::from_utf8(code).ok())
                .and_then(|code| code.parse::<u16>().ok());
            match status {
                None => {
                    return fail(format!(
                        "not an HTTP response: {:?}",
                        String::from_utf8_lossy(&answer[..answer.len().min(200)])
                    ));
                }
                Some(500) => return fail("500: the server failed on its own"),
                Some(_) => {}
            }
        }
        self.probe()
    }

    /// The server still answers a ping in its session (after opening a new one if the input
    /// ended the old).
    fn probe(&mut self) -> Result<(), Failure> {
        let ping = br#"{"jsonrpc":"2.0","id":"fuzz-probe","method":"ping"}"#;
        let answer = self.post(Some(&self.session.clone()), ping)?;
        if answer.starts_with(b"HTTP/1.1 404") {
            self.session = self.open_session()?;
            return self.probe();
        }
        if !answer.starts_with(b"HTTP/1.1 200") || !contains(&answer, b"\"fuzz-probe\"") {
            return fail(format!(
                "the server stopped answering: {:?}",
                String::from_utf8_lossy(&answer[..answer.len().min(300)])
            ));
        }
        Ok(())
    }

    fn open_session(&self) -> Result<String, Failure> {
        let init = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fuzz","version":"0"}}}"#;
        let answer = self.post(None, init)?;
        let text = String::from_utf8_lossy(&answer);
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("mcp-session-id: "))
            .ok_or_else(|| Failure(format!("initialize failed: {text}")))?
            .trim()
            .to_owned();
        let initialized = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        self.post(Some(&id), initialized)?;
        Ok(id)
    }

    fn post(&self, session: Option<&str>, body: &[u8]) -> Result<Vec<u8>, Failure> {
        let mut raw = format!(
            "POST /mcp HTTP/1.1\r\nHost: localhost\r\nAccept: application/json, \
             text/event-stream\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(id) = session {
            raw.push_str(&format!("Mcp-Session-Id: {id}\r\n"));
        }
        raw.push_str("\r\n");
        let mut raw = raw.into_bytes();
        raw.extend_from_slice(body);
        self.runtime
            .block_on(Self::exchange(self.http.clone(), raw))
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn jsonrpc(input: &[u8]) -> Result<(), Failure> {
    let single = Message::parse(input);
    if let Ok(message) = &single {
        let again = Message::parse(message.to_json().as_bytes());
        if again.as_ref() != Ok(message) {
            return fail(format!("round trip changed {message:?} into {again:?}"));
        }
    }
    // The same object read from a parsed value: as `Message::parse` reads it (which reads
    // the usual request by hand, and anything else through serde).
    if let Ok(value @ serde_json::Value::Object(_)) = serde_json::from_slice(input) {
        let agree = match (&single, Message::from_value(value)) {
            (Ok(a), Ok(b)) => *a == b,
            (Err(a), Err(b)) => a.error.code == b.error.code && a.id == b.id,
            _ => false,
        };
        if !agree {
            return fail(format!(
                "Message::parse {single:?} but Message::from_value disagrees"
            ));
        }
    }
    let incoming = Incoming::parse(input);
    let is_array = input.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if !is_array {
        let agree = match (&incoming, &single) {
            (Ok(Incoming::Single(a)), Ok(b)) => a == b,
            (Err(a), Err(b)) => a.error.code == b.error.code && a.id == b.id,
            _ => false,
        };
        if !agree {
            return fail(format!(
                "Incoming::parse {incoming:?} but Message::parse {single:?}"
            ));
        }
    } else if let Ok(Incoming::Batch(items)) = &incoming {
        for message in items.iter().flatten() {
            let again = Message::parse(message.to_json().as_bytes());
            if again.as_ref() != Ok(message) {
                return fail(format!("a batch element's round trip changed {message:?}"));
            }
        }
    }
    Ok(())
}

fn sse(input: &[u8]) -> Result<(), Failure> {
    let mut whole = SseParser::new();
    let at_once = whole.push(input);
    // The same bytes in pieces, cut where the input itself says (repeatable, input-dependent).
    let mut pieces = SseParser::new();
    let mut in_pieces = Vec::new();
    let mut rest = input;
    let mut cut = 1 + input.first().map_or(0, |&b| usize::from(b) % 7);
    while !rest.is_empty() {
        let n = cut.min(rest.len());
        in_pieces.extend(pieces.push(&rest[..n]));
        rest = &rest[n..];
        cut = 1 + (cut * 5 + 3) % 11;
    }
    if at_once != in_pieces {
        return fail(format!("at once {at_once:?}, in pieces {in_pieces:?}"));
    }
    if whole.pending_bytes() != pieces.pending_bytes() {
        return fail("the two parsers hold different remainders");
    }
    Ok(())
}
