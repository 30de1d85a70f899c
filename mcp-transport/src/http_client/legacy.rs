//! The legacy HTTP+SSE client (revision 2024-11-05): one long GET stream carries every server
//! message; the first event names the endpoint where the client POSTs its messages.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode, Uri};
use http_body_util::BodyExt;
use mcp_core::jsonrpc::Message;
use tokio::sync::mpsc;

use super::request::{Shared, is_event_stream, status_error};
use super::sse::SseParser;

/// Runs the transport. `first` is a message already taken from `outgoing` (the initialize
/// request, when falling back from streamable HTTP).
pub(super) async fn run(
    shared: Arc<Shared>,
    mut outgoing: mpsc::Receiver<Message>,
    first: Option<Message>,
) {
    let first = match first {
        Some(m) => Some(m),
        None => outgoing.recv().await,
    };
    let Some(first) = first else { return };
    let endpoint = match open(&shared).await {
        Ok(endpoint) => endpoint,
        Err(why) => {
            let id = first.id().cloned();
            shared.fail(id.as_ref(), why).await;
            // Fail everything else too: there is no connection.
            while let Some(m) = outgoing.recv().await {
                let id = m.id().cloned();
                if matches!(m, Message::Request(_)) {
                    shared.fail(id.as_ref(), "no SSE connection".into()).await;
                }
            }
            return;
        }
    };
    post(&shared, &endpoint, first).await;
    while let Some(message) = outgoing.recv().await {
        let shared = shared.clone();
        let endpoint = endpoint.clone();
        tokio::spawn(async move { post(&shared, &endpoint, message).await });
    }
}

/// Opens the SSE stream, waits for its `endpoint` event and leaves a task reading the rest.
async fn open(shared: &Arc<Shared>) -> Result<Uri, String> {
    let request = shared.request(Method::GET, &shared.url, Bytes::new());
    let response = shared.send(request).await?;
    if response.status() != StatusCode::OK || !is_event_stream(&response) {
        return Err(status_error(response).await);
    }
    let mut body = response.into_body();
    let mut parser = SseParser::new();
    let mut early = Vec::new();
    let endpoint = 'found: loop {
        let Some(frame) = body.frame().await else {
            return Err("the SSE stream ended before its endpoint event".into());
        };
        let frame = frame.map_err(|e| format!("reading the SSE stream failed: {e}"))?;
        let Some(chunk) = frame.data_ref() else {
            continue;
        };
        for event in parser.push(chunk) {
            if event.event.as_deref() == Some("endpoint") {
                break 'found resolve(&shared.url, event.data.trim())?;
            }
            early.push(event);
        }
    };
    let reader = shared.clone();
    tokio::spawn(async move {
        let mut events = early;
        loop {
            for event in events.drain(..) {
                if event.event.as_deref().unwrap_or("message") != "message" || event.data.is_empty()
                {
                    continue;
                }
                match Message::parse(event.data.as_bytes()) {
                    Ok(m) => {
                        if !reader.deliver(m).await {
                            return;
                        }
                    }
                    Err(e) => tracing::warn!(error = ?e.error, "ignoring an invalid SSE message"),
                }
            }
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(chunk) = frame.data_ref() {
                        events = parser.push(chunk);
                    }
                }
                _ => {
                    tracing::warn!("the legacy SSE stream closed");
                    return;
                }
            }
        }
    });
    Ok(endpoint)
}

async fn post(shared: &Shared, endpoint: &Uri, message: Message) {
    let id = match &message {
        Message::Request(r) => Some(r.id.clone()),
        _ => None,
    };
    let request = shared.request(Method::POST, endpoint, Bytes::from(message.to_json()));
    match shared.send(request).await {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => {
            let why = status_error(r).await;
            shared.fail(id.as_ref(), why).await;
        }
        Err(why) => shared.fail(id.as_ref(), why).await,
    }
}

/// Resolves the endpoint event's data (normally a path and query) against the SSE URL.
fn resolve(base: &Uri, endpoint: &str) -> Result<Uri, String> {
    let bad = |e: String| format!("the endpoint event {endpoint:?} is not a usable URL: {e}");
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        return endpoint
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(e.to_string()));
    }
    let mut parts = base.clone().into_parts();
    let path = if endpoint.starts_with('/') {
        endpoint.to_owned()
    } else {
        let dir = base.path().rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{endpoint}")
    };
    parts.path_and_query = Some(
        path.parse()
            .map_err(|e: http::uri::InvalidUri| bad(e.to_string()))?,
    );
    Uri::from_parts(parts).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn resolves_relative_endpoints() {
        let base: http::Uri = "http://127.0.0.1:9/sse".parse().unwrap();
        assert_eq!(
            resolve(&base, "/messages?sessionId=a").unwrap().to_string(),
            "http://127.0.0.1:9/messages?sessionId=a"
        );
        assert_eq!(
            resolve(&base, "messages?sessionId=b").unwrap().to_string(),
            "http://127.0.0.1:9/messages?sessionId=b"
        );
    }
}
