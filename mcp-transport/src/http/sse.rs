//! Server-Sent Events: framing one event into one [`Bytes`], and [`SseBody`], a response body
//! that hands each event to hyper as its own frame the moment it exists.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use mcp_core::transport::Outbound;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

/// The comment line sent on an idle stream so that proxies keep it open.
const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// Frames one SSE event into a single buffer (so it is written in one write).
///
/// `data` may hold newlines: each line becomes its own `data:` field, as the SSE format
/// requires. An empty `data` still yields one (empty) `data:` field.
pub(crate) fn event(
    id: Option<&str>,
    name: Option<&str>,
    data: &str,
    retry: Option<Duration>,
) -> Bytes {
    let mut out = String::with_capacity(data.len() + 48);
    if let Some(id) = id {
        let _ = writeln!(out, "id: {id}");
    }
    if let Some(name) = name {
        let _ = writeln!(out, "event: {name}");
    }
    if let Some(retry) = retry {
        let _ = writeln!(out, "retry: {}", retry.as_millis());
    }
    for line in data.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

/// The legacy transport's framing of one message: an SSE `message` event.
pub(crate) fn legacy_message(out: &Outbound) -> Bytes {
    event(None, Some("message"), &out.message.to_json(), None)
}

/// Where a stream's live events come from.
pub(crate) enum Live {
    /// Nothing more: the stream ends once its queued events are sent.
    Done,
    /// Framed events from a stream's pump.
    Events(mpsc::Receiver<Bytes>),
    /// A legacy session's outbox, framed here as `message` events.
    Legacy(mpsc::Receiver<Outbound>),
}

/// A condition that ends a stream early: a signal, and once it fired, a check that must also
/// hold (so a draining legacy stream can wait for its last response).
pub(crate) struct StopWhen {
    signal: Pin<Box<WaitForCancellationFutureOwned>>,
    fired: bool,
    ready: Box<dyn Fn() -> bool + Send + Sync>,
}

impl StopWhen {
    /// Stops as soon as `token` is cancelled.
    pub(crate) fn on(token: tokio_util::sync::CancellationToken) -> Self {
        StopWhen::on_and(token, || true)
    }

    /// Stops once `token` is cancelled and `ready()` holds.
    pub(crate) fn on_and(
        token: tokio_util::sync::CancellationToken,
        ready: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Self {
        StopWhen {
            signal: Box::pin(token.cancelled_owned()),
            fired: false,
            ready: Box::new(ready),
        }
    }
}

/// An SSE response body: queued events first (a priming event, a replay), then live events,
/// each as its own frame, with keep-alive comments while idle.
///
/// It never collects: `poll_frame` returns an event as soon as its channel yields it.
pub(crate) struct SseBody {
    queued: VecDeque<Bytes>,
    live: Live,
    keep_alive: Option<(Duration, Pin<Box<Sleep>>)>,
    stops: Vec<StopWhen>,
    _guard: Option<Box<dyn Send>>,
}

impl SseBody {
    /// A body that sends `queued`, then whatever `live` yields.
    pub(crate) fn new(queued: impl IntoIterator<Item = Bytes>, live: Live) -> Self {
        SseBody {
            queued: queued.into_iter().collect(),
            live,
            keep_alive: None,
            stops: Vec::new(),
            _guard: None,
        }
    }

    /// Sends a comment line after each `interval` of silence.
    pub(crate) fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive =
            interval.map(|i| (i, Box::pin(tokio::time::sleep_until(Instant::now() + i))));
        self
    }

    /// Ends the stream when `stop` says so.
    pub(crate) fn stop_when(mut self, stop: StopWhen) -> Self {
        self.stops.push(stop);
        self
    }

    /// Keeps `guard` alive as long as the body: its `Drop` runs when the connection goes.
    pub(crate) fn guard(mut self, guard: impl Send + 'static) -> Self {
        self._guard = Some(Box::new(guard));
        self
    }

    fn sent_something(&mut self) {
        if let Some((interval, sleep)) = &mut self.keep_alive {
            sleep.as_mut().reset(Instant::now() + *interval);
        }
    }

    fn should_stop(&mut self, cx: &mut Context<'_>) -> bool {
        self.stops.iter_mut().any(|stop| {
            if !stop.fired && stop.signal.as_mut().poll(cx).is_ready() {
                stop.fired = true;
            }
            stop.fired && (stop.ready)()
        })
    }

    fn emit(&mut self, bytes: Bytes) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.sent_something();
        Poll::Ready(Some(Ok(Frame::data(bytes))))
    }
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if let Some(event) = this.queued.pop_front() {
            return this.emit(event);
        }
        if this.should_stop(cx) {
            this.live = Live::Done;
            return Poll::Ready(None);
        }
        let polled = match &mut this.live {
            Live::Done => return Poll::Ready(None),
            Live::Events(rx) => rx.poll_recv(cx),
            Live::Legacy(rx) => rx.poll_recv(cx).map(|o| o.map(|o| legacy_message(&o))),
        };
        match polled {
            Poll::Ready(Some(event)) => return this.emit(event),
            Poll::Ready(None) => {
                this.live = Live::Done;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if let Some((interval, sleep)) = &mut this.keep_alive
            && sleep.as_mut().poll(cx).is_ready()
        {
            sleep.as_mut().reset(Instant::now() + *interval);
            // Register the timer again so the next keep-alive wakes this body too.
            let _ = sleep.as_mut().poll(cx);
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(KEEP_ALIVE)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.queued.is_empty() && matches!(self.live, Live::Done)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn frames_fields_and_multiline_data() {
        let e = event(
            Some("3:1"),
            Some("message"),
            "a\nb",
            Some(Duration::from_millis(500)),
        );
        assert_eq!(
            &e[..],
            b"id: 3:1\nevent: message\nretry: 500\ndata: a\ndata: b\n\n"
        );
        assert_eq!(
            &event(Some("0:0"), None, "", None)[..],
            b"id: 0:0\ndata: \n\n"
        );
    }

    #[tokio::test]
    async fn yields_each_event_as_its_own_frame_then_ends() {
        let (tx, rx) = mpsc::channel(4);
        let mut body = SseBody::new([Bytes::from_static(b"first\n\n")], Live::Events(rx));
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&frame[..], b"first\n\n");
        tx.send(Bytes::from_static(b"second\n\n")).await.unwrap();
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&frame[..], b"second\n\n");
        drop(tx);
        assert!(body.frame().await.is_none());
        assert!(body.is_end_stream());
    }

    #[tokio::test(start_paused = true)]
    async fn idle_streams_get_keep_alive_comments() {
        let (_tx, rx) = mpsc::channel::<Bytes>(1);
        let mut body = SseBody::new([], Live::Events(rx)).keep_alive(Some(Duration::from_secs(5)));
        for _ in 0..2 {
            let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
            assert_eq!(&frame[..], KEEP_ALIVE);
        }
    }

    #[tokio::test]
    async fn a_stop_signal_ends_the_stream() {
        let (_tx, rx) = mpsc::channel::<Bytes>(1);
        let token = tokio_util::sync::CancellationToken::new();
        let mut body = SseBody::new([], Live::Events(rx)).stop_when(StopWhen::on(token.clone()));
        token.cancel();
        assert!(body.frame().await.is_none());
    }
}
