//! Bodies: [`McpBody`], the one response body type, and reading a request body under a limit.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};

use super::reject::Rejection;
use super::session::Attached;
use super::sse::SseBody;
use super::watched::Responding;

/// The body of every response the MCP service gives: empty, one JSON document, or an SSE
/// stream that yields each event as its own frame.
///
/// hyper keeps one per connection in a box of its own for the connection's life (an idle GET
/// stream's included), so it is kept small: a test bounds its size.
pub struct McpBody {
    kind: Kind,
    /// Tells the serving connection, by dropping, that its response has ended.
    _responding: Option<Responding>,
}

/// Two variants, so that the one with a pointer to spare (`Sse`) fits in a niche of the
/// other's bytes: no tag.
enum Kind {
    /// Bytes sent as one frame (none left once sent or when empty). With `attached`, an
    /// event stream answered at once: its events in one buffer, and what the stream's body
    /// holds while it lasts (no keep-alive, no queue: nothing else can come).
    Bytes {
        bytes: Bytes,
        attached: Option<Attached>,
    },
    Sse(Box<SseBody>),
}

impl std::fmt::Debug for McpBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            _ if self.is_stream() => "sse",
            Kind::Bytes { bytes, .. } if bytes.is_empty() => "empty",
            Kind::Bytes { .. } | Kind::Sse(_) => "full",
        };
        f.debug_struct("McpBody").field("kind", &kind).finish()
    }
}

impl McpBody {
    fn of(kind: Kind) -> Self {
        McpBody {
            kind,
            _responding: None,
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        McpBody::full(Bytes::new())
    }

    /// A body holding `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        McpBody::of(Kind::Bytes {
            bytes: bytes.into(),
            attached: None,
        })
    }

    pub(crate) fn sse(body: SseBody) -> Self {
        McpBody::of(Kind::Sse(Box::new(body)))
    }

    /// An event stream whose events are all in `events`, held `attached` until it ends.
    pub(crate) fn answered(events: Bytes, attached: Attached) -> Self {
        McpBody::of(Kind::Bytes {
            bytes: events,
            attached: Some(attached),
        })
    }

    /// This body, its bytes counted into `metrics`: a stream's as each event goes out,
    /// others' at once (they go out in one frame).
    pub(crate) fn metered(mut self, metrics: crate::metrics::Metrics) -> Self {
        match &mut self.kind {
            Kind::Bytes { bytes, .. } => metrics.sent_bytes(bytes.len()),
            Kind::Sse(body) => body.meter(metrics),
        }
        self
    }

    /// Holds `responding` until this body ends (or goes with its connection).
    #[inline]
    pub(crate) fn hold(&mut self, responding: Responding) {
        self._responding = Some(responding);
    }

    /// Whether this body is an event stream.
    pub fn is_stream(&self) -> bool {
        match &self.kind {
            Kind::Bytes { attached, .. } => attached.is_some(),
            Kind::Sse(_) => true,
        }
    }
}

impl Body for McpBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = match &mut self.kind {
            Kind::Bytes { bytes, .. } if bytes.is_empty() => Poll::Ready(None),
            Kind::Bytes { bytes, .. } => Poll::Ready(Some(Ok(Frame::data(std::mem::take(bytes))))),
            Kind::Sse(body) => Pin::new(body.as_mut()).poll_frame(cx),
        };
        if self.is_end_stream() || matches!(frame, Poll::Ready(None)) {
            // The last frame is out: the response has ended for the connection now, not when
            // hyper drops this body (after it has already read for the next request, the
            // read the connection's idle poll is for).
            self._responding = None;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Bytes { bytes, .. } => bytes.is_empty(),
            Kind::Sse(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Bytes {
                bytes,
                attached: None,
            } => SizeHint::with_exact(bytes.len() as u64),
            // Chunked, as every event stream is.
            Kind::Bytes { .. } | Kind::Sse(_) => SizeHint::default(),
        }
    }
}

/// Reads a whole request body, refusing it with 413 the moment it grows past `limit` (a
/// `Content-Length` above the limit is refused before reading anything), and with 408 if it is
/// still incomplete `timeout` after the first look at it (made when the request's handler
/// first runs, right after its headers came).
pub(crate) async fn read_limited<B>(
    body: B,
    content_length: Option<u64>,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut body = std::pin::pin!(body);
    let look = std::future::poll_fn(|cx| {
        Poll::Ready(first_look(body.as_mut(), cx, content_length, limit))
    });
    match look.await? {
        Looked::Whole(bytes) => Ok(bytes),
        Looked::Begun(first) => read_rest(body, first, content_length, limit, timeout).await,
    }
}

/// What the first look at a request body found.
pub(crate) enum Looked {
    /// The whole body (the usual small POST: it came with its headers, in one frame).
    Whole(Bytes),
    /// Not all of it yet: the data taken, if any (see [`read_rest`]).
    Begun(Option<Bytes>),
}

/// The first look at a request body, polled with `cx` (see [`read_limited`]): a small body
/// usually arrives with its headers, whole, in one frame, taken here with no timer (making
/// one takes a handle on the runtime's timer, per request) nor a look at the clock. A plain
/// function, so that a caller's future (a POST's) makes this look in place rather than
/// holding a future of its own for it.
pub(crate) fn first_look<B>(
    mut body: Pin<&mut B>,
    cx: &mut Context<'_>,
    content_length: Option<u64>,
    limit: usize,
) -> Result<Looked, Rejection>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    if content_length.is_some_and(|n| n > limit as u64) {
        return Err(Rejection::PayloadTooLarge(limit));
    }
    // What the first look found: whether a frame, and its data (another frame carries none).
    let (looked, first) = match body.as_mut().poll_frame(cx) {
        Poll::Ready(None) => return Ok(Looked::Whole(Bytes::new())),
        Poll::Ready(Some(frame)) => {
            let data = frame.map_err(read_failed)?.into_data().ok();
            (
                true,
                data.map(|mut data| data.copy_to_bytes(data.remaining())),
            )
        }
        Poll::Pending => (false, None),
    };
    if let Some(data) = &first
        && data.len() > limit
    {
        return Err(Rejection::PayloadTooLarge(limit));
    }
    // All of a declared length is in: no need to ask for the end (a second look at hyper's
    // body channel).
    if looked && body.is_end_stream() {
        return Ok(Looked::Whole(first.unwrap_or_default()));
    }
    Ok(Looked::Begun(first))
}

/// The rest of a body after its first look took `first` (see [`first_look`]), within
/// `timeout`: more looks (a large body, a slow client), boxed with their timer, so that a
/// POST's future does not hold them for every request.
pub(crate) fn read_rest<'a, B>(
    body: Pin<&'a mut B>,
    first: Option<Bytes>,
    content_length: Option<u64>,
    limit: usize,
    timeout: Duration,
) -> Pin<Box<impl Future<Output = Result<Bytes, Rejection>> + 'a>>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    Box::pin(async move {
        tokio::time::timeout(timeout, read_all(body, first, content_length, limit))
            .await
            .unwrap_or_else(|_| {
                tracing::debug!("request body incomplete at its deadline: closing the connection");
                Err(Rejection::RequestTimeout)
            })
    })
}

fn read_failed(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Rejection {
    tracing::debug!(error = %error.into(), "request body read failed");
    Rejection::BodyRead
}

/// Reads the rest of `body`, `next` being the data already taken from it, if any.
async fn read_all<B>(
    mut body: Pin<&mut B>,
    mut next: Option<Bytes>,
    content_length: Option<u64>,
    limit: usize,
) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    // A body that arrives in one piece (the usual small POST) is kept as that piece: for
    // hyper's `Bytes` that is a view into its read buffer, no copy and no allocation.
    let mut first: Option<Bytes> = None;
    let mut buf: Option<BytesMut> = None;
    loop {
        let mut data = match next.take() {
            Some(data) => data,
            None => match body.frame().await {
                Some(frame) => match frame.map_err(read_failed)?.into_data() {
                    Ok(mut data) => data.copy_to_bytes(data.remaining()),
                    Err(_) => continue,
                },
                None => break,
            },
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
        // All of a declared length is in: no need to ask for the end.
        if body.is_end_stream() {
            break;
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
    use tokio::time::Instant;

    #[tokio::test]
    async fn the_response_ends_for_its_connection_when_its_last_frame_goes() {
        let (_io, stall) =
            super::super::watched::Watched::new(tokio::io::empty(), None, Default::default());
        let mut body = McpBody::full("answer");
        body.hold(stall.responding());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let soon = Instant::now() + std::time::Duration::from_secs(1);
        assert_eq!(
            stall.waiting_for(soon),
            std::time::Duration::ZERO,
            "answering"
        );
        let frame = Pin::new(&mut body).poll_frame(&mut cx);
        assert!(matches!(frame, Poll::Ready(Some(Ok(_)))));
        // The body is still there (hyper drops it later), but the connection no longer
        // answers: it waits for the next request.
        assert!(stall.waiting_for(soon) > std::time::Duration::ZERO);
        drop(body);
    }

    fn later() -> Duration {
        Duration::from_secs(3600)
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
        let deadline = Instant::now() + Duration::from_secs(60);
        let e = read_limited(body, Some(100), 1000, Duration::from_secs(60))
            .await
            .unwrap_err();
        assert_eq!(e, Rejection::RequestTimeout);
        assert_eq!(Instant::now(), deadline);
        drop(tx);
    }
}
