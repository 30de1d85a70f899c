//! The JSON-RPC messages the generator sends, and the few byte checks it makes on answers.

/// The protocol revision every session negotiates.
pub const VERSION: &str = "2025-11-25";

/// `notifications/initialized`.
pub const INITIALIZED: &[u8] = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// An `initialize` request.
pub fn initialize(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"initialize","params":{{"protocolVersion":"{VERSION}","capabilities":{{}},"clientInfo":{{"name":"loadgen","version":"1"}}}}}}"#
    )
}

/// A `tools/call` of `progress`, with a progress token (the request id) when `progress`.
pub fn call(id: u64, steps: u64, delay_ms: u64, progress: bool) -> String {
    let meta = if progress {
        format!(r#","_meta":{{"progressToken":{id}}}"#)
    } else {
        String::new()
    };
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"progress","arguments":{{"steps":{steps},"delay_ms":{delay_ms}}}{meta}}}}}"#
    )
}

/// The revision of stateless requests (no session; each request carries its own `_meta`).
pub const STATELESS_VERSION: &str = "2026-07-28";

/// A stateless (2026-07-28) `tools/call` of `progress` without a progress token: the
/// protocol revision and the client's capabilities travel in the request's `_meta`.
pub fn stateless_call(id: u64, steps: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"progress","arguments":{{"steps":{steps},"delay_ms":0}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"{STATELESS_VERSION}","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
    )
}

/// A `POST /mcp` with `body`, with the headers the hyper client sends: the session's (if
/// any), or for a stateless request the 2026-07-28 revision and the mirrored `Mcp-Method` /
/// `Mcp-Name` of a `tools/call` of `progress`.
pub fn post(host: &str, session: Option<&str>, stateless: bool, body: &str) -> Vec<u8> {
    let mut head = format!(
        "POST /mcp HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\n"
    );
    if stateless {
        head.push_str(&format!(
            "mcp-protocol-version: {STATELESS_VERSION}\r\nmcp-method: tools/call\r\nmcp-name: progress\r\n"
        ));
    } else {
        head.push_str(&format!("mcp-protocol-version: {VERSION}\r\n"));
    }
    if let Some(session) = session {
        head.push_str(&format!("mcp-session-id: {session}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    head.into_bytes()
}

/// Whether `haystack` holds `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Whether `bytes` hold the tool's result for `steps` steps (and no error).
pub fn is_result(bytes: &[u8], steps: u64) -> bool {
    let done = format!("done {steps}\"");
    contains(bytes, done.as_bytes()) && !contains(bytes, br#""error":"#)
}

/// The yield stamps in the progress messages of a chunk: each `"message":"<ns>"`.
pub fn stamps(chunk: &[u8], mut each: impl FnMut(u64)) {
    const KEY: &[u8] = br#""message":""#;
    let mut rest = chunk;
    while let Some(at) = memchr::memmem::find(rest, KEY) {
        rest = &rest[at + KEY.len()..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if let Some(ns) = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|s| s.parse().ok())
        {
            each(ns);
        }
        rest = &rest[digits..];
    }
}

/// Counts a pattern in a byte stream that arrives in chunks (a match may straddle two).
pub struct Counter {
    pattern: &'static [u8],
    carry: Vec<u8>,
}

impl Counter {
    /// Counts `"progressToken"`, which each progress notification holds once.
    pub fn progress() -> Counter {
        Counter {
            pattern: br#""progressToken""#,
            carry: Vec::new(),
        }
    }

    /// Feeds a chunk; returns how many matches end in it.
    pub fn feed(&mut self, chunk: &[u8]) -> u64 {
        let keep = self.pattern.len() - 1;
        let mut found = 0;
        if !self.carry.is_empty() {
            let mut joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(&chunk[..chunk.len().min(keep)]);
            found += count(&joined, self.pattern);
        }
        found += count(chunk, self.pattern);
        let tail = chunk.len().saturating_sub(keep);
        self.carry.extend_from_slice(&chunk[tail..]);
        found
    }
}

fn count(haystack: &[u8], needle: &[u8]) -> u64 {
    memchr::memmem::find_iter(haystack, needle).count() as u64
}
