//! The HTTP side of the load generator: keep-alive connections that POST JSON-RPC.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wire;

/// The id of the next request, unique across the generator.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh request id.
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// One keep-alive connection, with the session it opened (if the server keeps sessions).
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    host: String,
    session: Option<String>,
}

impl Conn {
    /// Connects (with `TCP_NODELAY`), and opens a session with `initialize` and
    /// `notifications/initialized` when `sessions` is set.
    pub async fn open(addr: SocketAddr, sessions: bool) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (sender, conn) = handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(conn);
        let mut conn = Conn {
            sender,
            addr,
            host: addr.to_string(),
            session: None,
        };
        if sessions {
            let response = conn.post(Bytes::from(wire::initialize(0))).await;
            assert!(
                response.status().is_success(),
                "initialize: {}",
                response.status()
            );
            conn.session = response
                .headers()
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = read_ok(response, "initialize").await;
            assert!(
                wire::contains(&body, b"protocolVersion"),
                "initialize result"
            );
            let response = conn.post(Bytes::from_static(wire::INITIALIZED)).await;
            read_ok(response, "initialized").await;
        }
        conn
    }

    /// The session id, if any.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// POSTs one JSON-RPC message and returns the response (body unread).
    pub async fn post(&mut self, body: Bytes) -> Response<Incoming> {
        let req = Request::post(format!("http://{}/mcp", self.addr))
            .header("host", &self.host)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        let mut req = req.header("mcp-protocol-version", wire::VERSION);
        if let Some(session) = &self.session {
            req = req.header("mcp-session-id", session);
        }
        let req = req.body(Full::new(body)).expect("request");
        // The previous response's end may still be on its way through the connection task.
        self.sender.ready().await.expect("connection ready");
        self.sender.send_request(req).await.expect("response")
    }

    /// One `tools/call` whose whole answer is read; panics on anything but the tool's result.
    pub async fn call(&mut self, steps: u64, progress: bool) {
        let body = wire::call(next_id(), steps, 0, progress);
        let response = self.post(Bytes::from(body)).await;
        let bytes = read_ok(response, "tools/call").await;
        assert!(
            wire::is_result(&bytes, steps),
            "not the tool's result: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

/// Reads a whole response body, after checking its status is 2xx.
async fn read_ok(response: Response<Incoming>, what: &str) -> Bytes {
    assert!(
        response.status().is_success(),
        "{what}: status {}",
        response.status()
    );
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
}

/// Opens a session, then POSTs a `tools/call` of `steps` steps with a progress token on a raw
/// socket, and returns the socket with the response unread: a flood is counted on the raw
/// bytes, which costs the generator far less than decoding the chunked body.
pub async fn raw_call(addr: SocketAddr, steps: u64) -> (Conn, TcpStream) {
    let conn = Conn::open(addr, true).await;
    let session = conn.session().expect("a session id").to_owned();
    let body = wire::call(next_id(), steps, 0, true);
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let request = wire::post(&addr.to_string(), Some(&session), false, &body);
    stream.write_all(&request).await.expect("write");
    (conn, stream)
}

/// Opens a session and a GET stream on it, and keeps only the GET stream's raw socket (the
/// connection that opened the session closes).
pub async fn hold_get_stream(addr: SocketAddr) -> TcpStream {
    let conn = Conn::open(addr, true).await;
    let session = conn.session().expect("a session id").to_owned();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nMcp-Session-Id: {session}\r\nMCP-Protocol-Version: {}\r\n\r\n",
        wire::VERSION
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "the GET stream closed");
        head.extend_from_slice(&buf[..n]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    drop(conn);
    stream
}
