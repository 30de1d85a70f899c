//! Server-Sent Events: framing one event into one [`Bytes`], and [`SseBody`], a response body
//! that hands each event to hyper as its own frame the moment it exists.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::io::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use mcp_core::jsonrpc::{Message, RequestId};
use mcp_core::transport::Outbound;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::event_store::EventId;
use super::live::LiveReceiver;

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

/// Frames one message as an SSE event in one buffer of exactly its size, serializing the message
/// without an intermediate string.
///
/// Compact JSON holds no raw newline (one inside a string is escaped), so the message is one
/// `data:` line.
pub(crate) fn message_event(id: Option<EventId>, name: Option<&str>, message: &Message) -> Bytes {
    framed(|out| write_message_event(out, id, name, message))
}

fn write_message_event(
    out: &mut Vec<u8>,
    id: Option<EventId>,
    name: Option<&str>,
    message: &Message,
) {
    if let Some(id) = id {
        write_id(out, id);
    }
    if let Some(name) = name {
        let _ = writeln!(out, "event: {name}");
    }
    out.extend_from_slice(b"data: ");
    let start = out.len();
    if serde_json::to_writer(&mut *out, message).is_err() {
        // Serializing a message cannot fail (every key is a string); stay well-formed.
        out.truncate(start);
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b"\n\n");
}

/// A message event that ends a stream at once, after the stream's priming event if it has
/// one (`primer`: its id and `retry:`): the bytes a response sends, both events in one
/// buffer, and the message event alone (a slice of the same buffer, for the event store).
pub(crate) fn primed_message_event(
    primer: Option<(EventId, Duration)>,
    id: EventId,
    message: &Message,
) -> (Bytes, Bytes) {
    let mut priming = 0;
    let whole = framed(|out| {
        if let Some((primer, retry)) = primer {
            write_priming(out, primer, retry);
            priming = out.len();
        }
        write_message_event(out, Some(id), None, message);
    });
    let event = whole.slice(priming..);
    (whole, event)
}

/// An event written by `write` into a scratch buffer of this thread, then copied into one
/// buffer of exactly its size (one allocation; event stores keep events, and slack would be
/// kept with them).
fn framed(write: impl FnOnce(&mut Vec<u8>)) -> Bytes {
    thread_local! {
        static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    SCRATCH.with_borrow_mut(|out| {
        out.clear();
        write(out);
        let event = Bytes::copy_from_slice(out);
        if out.capacity() > 64 * 1024 {
            *out = Vec::new();
        }
        event
    })
}

/// The priming event that starts a stream: its id, a `retry:` field and empty data. The same
/// bytes as `event(Some(id), None, "", Some(retry))`, in one formatting pass.
pub(crate) fn priming_event(id: EventId, retry: Duration) -> Bytes {
    framed(|out| write_priming(out, id, retry))
}

/// `id: <stream>:<seq>\nretry: <ms>\ndata: \n\n`.
fn write_priming(out: &mut Vec<u8>, id: EventId, retry: Duration) {
    write_id(out, id);
    out.extend_from_slice(b"retry: ");
    write_decimal(out, u64::try_from(retry.as_millis()).unwrap_or(u64::MAX));
    out.extend_from_slice(b"\ndata: \n\n");
}

/// `id: <stream>:<seq>\n`.
fn write_id(out: &mut Vec<u8>, id: EventId) {
    out.extend_from_slice(b"id: ");
    write_decimal(out, id.stream);
    out.push(b':');
    write_decimal(out, id.seq);
    out.push(b'\n');
}

/// `n` in decimal, without the formatting machinery (an event id is written per event).
fn write_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// The legacy transport's framing of one message: an SSE `message` event.
pub(crate) fn legacy_message(out: &Outbound) -> Bytes {
    message_event(None, Some("message"), &out.message)
}

/// One framed event on its way to the connection reading a stream.
#[derive(Debug)]
pub(crate) struct LiveEvent {
    /// The framed event.
    pub(crate) bytes: Bytes,
    /// Whether the stream ends with it: the body then ends in the same write.
    pub(crate) last: bool,
}

/// Where a stream's live events come from.
pub(crate) enum Live {
    /// Nothing more: the stream ends once its queued events are sent.
    Done,
    /// Framed events published into a stream.
    Events(LiveReceiver),
    /// A legacy session's outbox, framed here as `message` events.
    Legacy(mpsc::Receiver<Outbound>),
    /// A stateless request's outbox, framed here as plain events; the stream ends with the
    /// request's own response.
    Request(mpsc::Receiver<Outbound>, RequestId),
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
    keep_alive: Option<KeepAlive>,
    stops: Vec<StopWhen>,
    /// Counts the bytes sent, when metrics are on.
    meter: Option<crate::metrics::Metrics>,
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
            meter: None,
            _guard: None,
        }
    }

    /// Sends a comment line after each `interval` of silence.
    pub(crate) fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval.map(|interval| KeepAlive {
            interval,
            last_sent: Instant::now(),
            timer: None,
        });
        self
    }

    /// Ends the stream when `stop` says so.
    pub(crate) fn stop_when(mut self, stop: StopWhen) -> Self {
        self.stops.push(stop);
        self
    }

    /// Counts the bytes of each event into `metrics` as it goes out.
    pub(crate) fn meter(&mut self, metrics: crate::metrics::Metrics) {
        self.meter = Some(metrics);
    }

    /// Keeps `guard` alive as long as the body: its `Drop` runs when the connection goes.
    pub(crate) fn guard(mut self, guard: impl Send + 'static) -> Self {
        self._guard = Some(Box::new(guard));
        self
    }

    fn sent_something(&mut self) {
        // Only noted here: the timer is moved when it fires, not on every event.
        if let Some(keep_alive) = &mut self.keep_alive {
            keep_alive.last_sent = Instant::now();
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
        self.counted(bytes)
    }

    /// A data frame of `bytes`, counted.
    fn counted(&self, bytes: Bytes) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(meter) = &self.meter {
            meter.sent_bytes(bytes.len());
        }
        Poll::Ready(Some(Ok(Frame::data(bytes))))
    }
}

/// The keep-alive timer of a stream.
struct KeepAlive {
    interval: Duration,
    last_sent: Instant,
    /// Made the first time the stream has to wait: a stream that never waits (a request
    /// answered at once) never needs one.
    timer: Option<Pin<Box<Sleep>>>,
}

impl KeepAlive {
    /// Whether a keep-alive comment is due now. Leaves the timer registered for the next
    /// one either way.
    fn poll_due(&mut self, cx: &mut Context<'_>) -> bool {
        let timer = self.timer.get_or_insert_with(|| {
            Box::pin(tokio::time::sleep_until(self.last_sent + self.interval))
        });
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let due = self.last_sent + self.interval;
            if due <= Instant::now() {
                self.last_sent = Instant::now();
                timer.as_mut().reset(self.last_sent + self.interval);
                // Register the timer again so the next keep-alive wakes this body too.
                let _ = timer.as_mut().poll(cx);
                return true;
            }
            // Events went out since the timer was set: wait out the rest of the silence.
            timer.as_mut().reset(due);
        }
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
        let stopping = this.should_stop(cx);
        let polled = match &mut this.live {
            Live::Done => return Poll::Ready(None),
            Live::Events(rx) => rx.poll_recv(cx).map(|e| e.map(|e| (e.bytes, e.last))),
            Live::Legacy(rx) => rx
                .poll_recv(cx)
                .map(|o| o.map(|o| (legacy_message(&o), false))),
            Live::Request(rx, id) => rx.poll_recv(cx).map(|o| {
                o.map(|o| {
                    let last = o.is_final() && o.related.as_ref() == Some(&*id);
                    (message_event(None, None, &o.message), last)
                })
            }),
        };
        if stopping && polled.is_pending() {
            // Stopped, once what was already queued went out (the errors a shutdown ends the
            // remaining calls with, for instance).
            this.live = Live::Done;
            return Poll::Ready(None);
        }
        match polled {
            Poll::Ready(Some((event, last))) => {
                if last {
                    this.live = Live::Done;
                }
                return this.emit(event);
            }
            Poll::Ready(None) => {
                this.live = Live::Done;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if let Some(keep_alive) = &mut this.keep_alive
            && keep_alive.poll_due(cx)
        {
            return this.counted(Bytes::from_static(KEEP_ALIVE));
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
    use crate::http::live;
    use http_body_util::BodyExt;

    #[test]
    fn ids_and_retry_are_written_in_decimal() {
        let id = |stream, seq| EventId { stream, seq };
        for (stream, seq, retry) in [(0, 0, 0), (7, 10, 3000), (u64::MAX, 1, 123_456_789)] {
            let bytes = priming_event(id(stream, seq), Duration::from_millis(retry));
            assert_eq!(
                bytes,
                format!("id: {stream}:{seq}\nretry: {retry}\ndata: \n\n").as_bytes()
            );
        }
    }

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
        let (tx, rx) = live::queue(4);
        let mut body = SseBody::new([Bytes::from_static(b"first\n\n")], Live::Events(rx));
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&frame[..], b"first\n\n");
        tx.send(live(b"second\n\n", false)).await.unwrap();
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&frame[..], b"second\n\n");
        drop(tx);
        assert!(body.frame().await.is_none());
        assert!(body.is_end_stream());
    }

    fn live(bytes: &'static [u8], last: bool) -> LiveEvent {
        LiveEvent {
            bytes: Bytes::from_static(bytes),
            last,
        }
    }

    #[tokio::test]
    async fn the_last_event_ends_the_body_at_once() {
        // The sender stays open: only the flag can tell the body that the stream is over,
        // so that hyper writes the event and the end of the body together.
        let (tx, rx) = live::queue(4);
        let mut body = SseBody::new([], Live::Events(rx));
        tx.send(live(b"a\n\n", false)).await.unwrap();
        tx.send(live(b"b\n\n", true)).await.unwrap();
        body.frame().await.unwrap().unwrap();
        assert!(!body.is_end_stream());
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&frame[..], b"b\n\n");
        assert!(body.is_end_stream());
        assert!(body.frame().await.is_none());
        drop(tx);
    }

    #[test]
    fn the_priming_event_is_an_ordinary_event() {
        let id = EventId { stream: 4, seq: 0 };
        let retry = Duration::from_millis(1500);
        assert_eq!(
            priming_event(id, retry),
            event(Some(&id.to_string()), None, "", Some(retry))
        );
    }

    #[test]
    fn a_message_event_is_one_data_line() {
        let mut p = mcp_core::JsonObject::new();
        p.insert("text".into(), "two\nlines".into());
        let m = Message::Notification(mcp_core::jsonrpc::Notification::new("n", Some(p)));
        let e = message_event(Some(EventId { stream: 2, seq: 5 }), None, &m);
        assert_eq!(
            std::str::from_utf8(&e).unwrap(),
            "id: 2:5\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":{\"text\":\"two\\nlines\"}}\n\n"
        );
        let legacy = message_event(None, Some("message"), &m);
        assert!(legacy.starts_with(b"event: message\ndata: {"));
    }

    #[tokio::test(start_paused = true)]
    async fn events_postpone_the_keep_alive() {
        let (tx, rx) = live::queue(4);
        let mut body = SseBody::new([], Live::Events(rx)).keep_alive(Some(Duration::from_secs(5)));
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(3)).await;
        tx.send(live(b"e\n\n", false)).await.unwrap();
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&frame[..], b"e\n\n");
        // Five seconds of silence after the event, not after the start.
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&frame[..], KEEP_ALIVE);
        assert_eq!(started.elapsed(), Duration::from_secs(8));
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&frame[..], KEEP_ALIVE);
        assert_eq!(started.elapsed(), Duration::from_secs(13));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_streams_get_keep_alive_comments() {
        let (_tx, rx) = live::queue(1);
        let mut body = SseBody::new([], Live::Events(rx)).keep_alive(Some(Duration::from_secs(5)));
        for _ in 0..2 {
            let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
            assert_eq!(&frame[..], KEEP_ALIVE);
        }
    }

    #[tokio::test]
    async fn a_stop_signal_ends_the_stream_after_what_is_queued() {
        let (tx, rx) = live::queue(2);
        let token = tokio_util::sync::CancellationToken::new();
        let mut body = SseBody::new([], Live::Events(rx)).stop_when(StopWhen::on(token.clone()));
        tx.send(live(b"queued\n\n", false)).await.unwrap();
        token.cancel();
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&frame[..], b"queued\n\n");
        assert!(body.frame().await.is_none());
    }
}
