//! A peer that speaks raw lines: it sends exactly the bytes a test chooses, and checks every
//! line it reads against the official schema before the test sees it.

use std::future::Future;
use std::time::Duration;

use mcp_transport::stdio::{Frame, FrameReader};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::schema::{SCHEMA_VERSION, assert_valid_in};

/// How long any one test may take: generous, so only a real deadlock (a buffered stream,
/// a lost message) ever reaches it.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Runs `f`, failing the test if it takes longer than [`LIMIT`].
pub async fn within<F: Future>(what: &str, f: F) -> F::Output {
    match tokio::time::timeout(LIMIT, f).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {LIMIT:?}: {what}"),
    }
}

type Reader = Box<dyn AsyncRead + Unpin + Send>;
type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// The client end of a stdio connection, driven line by line.
pub struct RawPeer {
    reader: FrameReader<Reader>,
    writer: Option<Writer>,
    /// Every message received so far, in order of arrival.
    pub received: Vec<Value>,
    /// The revision whose schema every received message must match.
    pub schema: &'static str,
}

impl RawPeer {
    /// A peer reading the server's output from `reader` and writing its input to `writer`.
    pub fn new(
        reader: impl AsyncRead + Unpin + Send + 'static,
        writer: impl AsyncWrite + Unpin + Send + 'static,
    ) -> Self {
        RawPeer {
            reader: FrameReader::new(Box::new(reader), 64 * 1024 * 1024),
            writer: Some(Box::new(writer)),
            received: Vec::new(),
            schema: SCHEMA_VERSION,
        }
    }

    /// Sends `bytes` followed by a newline.
    pub async fn send_line(&mut self, bytes: &[u8]) {
        let mut line = bytes.to_vec();
        line.push(b'\n');
        self.send_raw(&line).await;
    }

    /// Sends exactly `bytes`.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let writer = self.writer.as_mut().expect("the input is still open");
        writer.write_all(bytes).await.expect("write to the server");
        writer.flush().await.expect("flush to the server");
    }

    /// Sends a JSON value as one line.
    pub async fn send(&mut self, message: Value) {
        self.send_line(message.to_string().as_bytes()).await;
    }

    /// Sends a request.
    pub async fn send_request(&mut self, id: i64, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
    }

    /// Calls a tool with `id` as its request id and progress token.
    pub async fn send_call(&mut self, id: i64, tool: &str, arguments: Value) {
        let params = json!({"name": tool, "arguments": arguments, "_meta": {"progressToken": id}});
        self.send_request(id, "tools/call", params).await;
    }

    /// Sends `notifications/cancelled` for request `id`.
    pub async fn send_cancel(&mut self, id: i64) {
        self.send(json!({
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": id, "reason": "the test cancelled it"}
        }))
        .await;
    }

    /// The next message, or `None` at end of output. Every message must be one line of
    /// valid JSON matching the schema's `JSONRPCMessage`.
    pub async fn recv(&mut self) -> Option<Value> {
        let frame = within("reading a line from the server", self.reader.next_frame())
            .await
            .expect("read from the server")?;
        let bytes = match frame {
            Frame::Line(bytes) => bytes,
            Frame::TooLong { length } => panic!("the server wrote a line of {length} bytes"),
        };
        let message: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "the server wrote a line that is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_valid_in(self.schema, &message);
        self.received.push(message.clone());
        Some(message)
    }

    /// Reads until a message matches `want`, and returns it.
    pub async fn recv_until(&mut self, what: &str, mut want: impl FnMut(&Value) -> bool) -> Value {
        loop {
            match self.recv().await {
                Some(message) if want(&message) => return message,
                Some(_) => {}
                None => panic!(
                    "the output ended while waiting for {what}; received: {:#?}",
                    self.received
                ),
            }
        }
    }

    /// Reads until the response (or error) to request `id`.
    pub async fn response(&mut self, id: i64) -> Value {
        self.recv_until(&format!("the response to {id}"), |m| is_response_to(m, id))
            .await
    }

    /// Reads until a progress notification for token `token`, and returns its params.
    pub async fn progress(&mut self, token: i64) -> Value {
        let note = self
            .recv_until(&format!("progress for {token}"), |m| {
                m["method"] == "notifications/progress" && m["params"]["progressToken"] == token
            })
            .await;
        note["params"].clone()
    }

    /// Sends a request and reads until its response.
    pub async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send_request(id, method, params).await;
        self.response(id).await
    }

    /// The `initialize` handshake (request id 0) and `notifications/initialized`.
    pub async fn initialize(&mut self) -> Value {
        let params = json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw-test-peer", "version": "0"}
        });
        let response = self.request(0, "initialize", params).await;
        assert_eq!(
            response["result"]["protocolVersion"], "2025-11-25",
            "{response}"
        );
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        response
    }

    /// Closes the server's input (end of file on its stdin).
    pub async fn close_input(&mut self) {
        if let Some(mut writer) = self.writer.take() {
            // A duplex needs the shutdown; a pipe closes when dropped.
            let _ = writer.shutdown().await;
        }
    }

    /// Reads everything up to end of output.
    pub async fn read_to_end(&mut self) {
        while self.recv().await.is_some() {}
    }

    /// Every response or error received so far for request `id`.
    pub fn responses_to(&self, id: i64) -> Vec<&Value> {
        self.received
            .iter()
            .filter(|m| is_response_to(m, id))
            .collect()
    }
}

/// Whether `message` is the response (or error) to request `id`.
pub fn is_response_to(message: &Value, id: i64) -> bool {
    message["id"] == id && (message.get("result").is_some() || message.get("error").is_some())
}

/// The error code of an error response.
pub fn error_code(message: &Value) -> i64 {
    message["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error response: {message}"))
}
