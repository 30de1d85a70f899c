//! Bodies: [`McpBody`], the one response body type, and reading a request body under a limit.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Instant;

use super::reject::Rejection;
use super::session::{BusyGuard, CountGuard};
use super::sse::SseBody;
use super::watched::Responding;

/// The body of every response the MCP service gives: empty, one JSON document, or an SSE
/// stream that yields each event as its own frame.
pub struct McpBody {
    kind: Kind,
    /// Counts the bytes sent, when metrics are on.
    meter: Option<crate::metrics::Metrics>,
    /// Tells the serving connection, by dropping, that its response has ended.
    _responding: Option<Responding>,
}

enum Kind {
    Empty,
    Full(Option<Bytes>),
    Sse(Box<SseBody>),
    /// An event stream answered at once: its events in one buffer, and what the stream's
    /// body holds while it lasts (no keep-alive, no queue: nothing else can come).
    Answered {
        events: Option<Bytes>,
        _guard: (CountGuard, BusyGuard),
    },
}

impl std::fmt::Debug for McpBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Kind::Empty => "empty",
            Kind::Full(_) => "full",
            Kind::Sse(_) | Kind::Answered { .. } => "sse",
        };
        f.debug_struct("McpBody").field("kind", &kind).finish()
    }
}

impl McpBody {
    /// An empty body.
    pub fn empty() -> Self {
        McpBody {
            kind: Kind::Empty,
            meter: None,
            _responding: None,
        }
    }

    /// A body holding `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        McpBody {
            kind: Kind::Full(Some(bytes.into())),
            meter: None,
            _responding: None,
        }
    }

    pub(crate) fn sse(body: SseBody) -> Self {
        McpBody {
            kind: Kind::Sse(Box::new(body)),
            meter: None,
            _responding: None,
        }
    }

    /// An event stream whose events are all in `events`, held with `guard` until it ends.
    pub(crate) fn answered(events: Bytes, guard: (CountGuard, BusyGuard)) -> Self {
        McpBody {
            kind: Kind::Answered {
                events: Some(events),
                _guard: guard,
            },
            meter: None,
            _responding: None,
        }
    }

    /// This body, its bytes counted into `metrics`.
    pub(crate) fn metered(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.meter = Some(metrics);
        self
    }

    /// This body, holding `responding` until it ends (or goes with its connection).
    pub(crate) fn responding(mut self, responding: Responding) -> Self {
        self._responding = Some(responding);
        self
    }

    /// Whether this body is an event stream.
    pub fn is_stream(&self) -> bool {
        matches!(self.kind, Kind::Sse(_) | Kind::Answered { .. })
    }
}

impl Body for McpBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        let frame = match &mut this.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(bytes) | Kind::Answered { events: bytes, .. } => {
                Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b))))
            }
            Kind::Sse(body) => Pin::new(body.as_mut()).poll_frame(cx),
        };
        if let (Some(meter), Poll::Ready(Some(Ok(frame)))) = (&this.meter, &frame)
            && let Some(data) = frame.data_ref()
        {
            meter.sent_bytes(data.len());
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(bytes) | Kind::Answered { events: bytes, .. } => bytes.is_none(),
            Kind::Sse(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            // Chunked, as every event stream is.
            Kind::Sse(_) | Kind::Answered { .. } => SizeHint::default(),
        }
    }
}

/// Reads a whole request body, refusing it with 413 the moment it grows past `limit` (a
/// `Content-Length` above the limit is refused before reading anything), and with 408 if it is
/// still incomplete at `deadline`.
pub(crate) async fn read_limited<B>(
    body: B,
    content_length: Option<u64>,
    limit: usize,
    deadline: Instant,
) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    if content_length.is_some_and(|n| n > limit as u64) {
        return Err(Rejection::PayloadTooLarge(limit));
    }
    tokio::time::timeout_at(deadline, read_all(body, content_length, limit))
        .await
        .unwrap_or_else(|_| {
            tracing::debug!("request body incomplete at its deadline: closing the connection");
            Err(Rejection::RequestTimeout)
        })
}

async fn read_all<B>(body: B, content_length: Option<u64>, limit: usize) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut body = std::pin::pin!(body);
    // A body that arrives in one piece (the usual small POST) is kept as that piece: for
    // hyper's `Bytes` that is a view into its read buffer, no copy and no allocation.
    let mut first: Option<Bytes> = None;
    let mut buf: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            tracing::debug!(error = %e.into(), "request body read failed");
            Rejection::BodyRead
        })?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let so_far = first.as_ref().map_or(0, Bytes::len) + buf.as_ref().map_or(0, BytesMut::len);
        if so_far + data.remaining() > limit {
            return Err(Rejection::PayloadTooLarge(limit));
        }
        if let Some(buf) = buf.as_mut() {
            buf.put(data);
        } else if let Some(head) = first.take() {
            let capacity = content_length.map_or(0, |n| n as usize).max(so_far);
            let mut joined = BytesMut::with_capacity(capacity);
            joined.put(head);
            joined.put(data);
            buf = Some(joined);
        } else {
            first = Some(data.copy_to_bytes(data.remaining()));
        }
    }
    Ok(match (buf, first) {
        (Some(buf), _) => buf.freeze(),
        (None, Some(first)) => first,
        (None, None) => Bytes::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};

    fn later() -> Instant {
        Instant::now() + std::time::Duration::from_secs(3600)
    }

    type Sender = tokio::sync::mpsc::Sender<Result<Frame<Bytes>, Infallible>>;

    /// A body that yields `chunks`, then waits for more as long as the sender lives.
    fn open_body(
        chunks: &[&'static [u8]],
    ) -> (Sender, impl Body<Data = Bytes, Error = Infallible>) {
        let (tx, rx) = tokio::sync::mpsc::channel(chunks.len().max(1));
        for chunk in chunks {
            tx.try_send(Ok(Frame::data(Bytes::from_static(chunk))))
                .expect("room for every chunk");
        }
        let stream =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|f| (f, rx)) },
            );
        (tx, StreamBody::new(stream))
    }

    #[tokio::test]
    async fn refuses_a_declared_length_over_the_limit_without_reading() {
        let body = Full::new(Bytes::from_static(b"{}"));
        let e = read_limited(body, Some(1_000_000), 10, later())
            .await
            .unwrap_err();
        assert_eq!(e, Rejection::PayloadTooLarge(10));
    }

    #[tokio::test]
    async fn refuses_a_stream_as_soon_as_it_passes_the_limit() {
        // The second chunk crosses the limit; the third never comes (the channel stays open),
        // so only a check made while reading can answer.
        let (tx, body) = open_body(&[b"12345", b"678901"]);
        let read = read_limited(body, None, 10, later());
        let e = tokio::time::timeout(std::time::Duration::from_secs(30), read)
            .await
            .expect("the limit is checked while reading, not after")
            .unwrap_err();
        assert_eq!(e, Rejection::PayloadTooLarge(10));
        drop(tx);
    }

    #[tokio::test]
    async fn reads_a_body_within_the_limit() {
        let body = Full::new(Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(
            &read_limited(body, Some(7), 7, later()).await.unwrap()[..],
            b"{\"a\":1}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_incomplete_body_is_refused_at_its_deadline() {
        // Four bytes of a declared hundred, then nothing: the sender stays open.
        let (tx, body) = open_body(&[b"{\"a\""]);
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        let e = read_limited(body, Some(100), 1000, deadline)
            .await
            .unwrap_err();
        assert_eq!(e, Rejection::RequestTimeout);
        assert_eq!(Instant::now(), deadline);
        drop(tx);
    }
}
