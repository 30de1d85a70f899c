//! Metrics in the Prometheus text format (0.0.4), served at `/metrics` on the HTTP listener
//! when the serving call gets `--metrics` (or `MCP_METRICS=1`), or when an [`HttpConfig`] is
//! given a [`Metrics`] (see [`HttpConfig::metrics`]).
//!
//! | metric | type | labels | what |
//! | --- | --- | --- | --- |
//! | `mcp_tool_calls_total` | counter | `tool` | tool calls that reached the middleware |
//! | `mcp_tool_errors_total` | counter | `tool` | calls that ended with a JSON-RPC error or `isError` |
//! | `mcp_tool_call_duration_seconds` | histogram | `tool` | from the call's start to its answer |
//! | `mcp_progress_notifications_sent_total` | counter | | progress notifications tools sent |
//! | `mcp_refusals_total` | counter | `reason` | HTTP requests refused (`unauthorized`, `unknown_session`, ...) and calls refused by a layer (`forbidden`, `timeout`) |
//! | `mcp_sessions_open` | gauge | | sessions alive |
//! | `mcp_streams_open` | gauge | | POST streams whose request is not answered yet |
//! | `mcp_sse_connections_open` | gauge | | SSE responses being written |
//! | `mcp_http_response_bytes_total` | counter | | response body bytes sent |
//! | `mcp_store_queued_events` | gauge | | stream events queued for the shared store (Redis), waiting or being sent |
//! | `mcp_store_queued_bytes` | gauge | | what they take, in bytes |
//! | `mcp_store_queue_waits_total` | counter | | events that found the queue full and waited for room (their stream was held back) |
//! | `mcp_store_write_failures_total` | counter | | writes that did not reach the shared store (their batch failed) |
//!
//! The `mcp_store_*` metrics are there when the server has a shared store that queues its
//! writes ([`SharedStore::write_queue`](crate::http::SharedStore::write_queue): Redis does).
//!
//! The format is the classic text format, which `promtool check metrics` accepts and every
//! Prometheus scrapes; the exposition is the `prometheus` crate's.
//!
//! [`HttpConfig`]: crate::http::HttpConfig
//! [`HttpConfig::metrics`]: crate::http::HttpConfig::metrics

use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use mcp_core::error::RpcError;
use mcp_core::jsonrpc::Payload;
use mcp_core::middleware::McpCall;
use mcp_core::tool::BoxFuture;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use tower::{Layer, Service};

use crate::http::{Stats, WriteQueueStats};

/// Reads a shared store's write queue.
type QueueSource = Box<dyn Fn() -> Option<WriteQueueStats> + Send + Sync>;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A server's metrics: counted by [`MetricsLayer`] and the HTTP transport, rendered by
/// [`render`](Self::render). Cheap to clone (shared).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    tool_calls: IntCounterVec,
    tool_errors: IntCounterVec,
    tool_duration: HistogramVec,
    progress: IntCounter,
    refusals: IntCounterVec,
    sessions: IntGauge,
    streams: IntGauge,
    connections: IntGauge,
    bytes_out: IntCounter,
    /// The shared store's write queue, once a store is watched.
    queue: OnceLock<QueueMetrics>,
}

/// The metrics of a shared store's write queue, and where they are read.
struct QueueMetrics {
    source: QueueSource,
    events: IntGauge,
    bytes: IntGauge,
    waits: IntCounter,
    failures: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh set of metrics, all zero.
    pub fn new() -> Self {
        let registry = Registry::new();
        // Registering fixed, distinct, well-formed names cannot fail.
        fn registered<M: prometheus::core::Collector + Clone + 'static>(
            registry: &Registry,
            metric: prometheus::Result<M>,
        ) -> M {
            let metric = metric.expect("a well-formed metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        }
        let counter = |name: &str, help: &str| registered(&registry, IntCounter::new(name, help));
        let gauge = |name: &str, help: &str| registered(&registry, IntGauge::new(name, help));
        let by = |name: &str, help: &str, label: &str| {
            registered(
                &registry,
                IntCounterVec::new(Opts::new(name, help), &[label]),
            )
        };
        let inner = Inner {
            tool_calls: by("mcp_tool_calls_total", "Tool calls, by tool.", "tool"),
            tool_errors: by(
                "mcp_tool_errors_total",
                "Tool calls that ended in an error (a JSON-RPC error or isError), by tool.",
                "tool",
            ),
            tool_duration: registered(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "mcp_tool_call_duration_seconds",
                        "How long tool calls took, from their start to their answer, by tool.",
                    )
                    .buckets(vec![
                        0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0, 3600.0,
                    ]),
                    &["tool"],
                ),
            ),
            progress: counter(
                "mcp_progress_notifications_sent_total",
                "Progress notifications sent by tools.",
            ),
            refusals: by(
                "mcp_refusals_total",
                "Requests and calls refused, by reason.",
                "reason",
            ),
            sessions: gauge("mcp_sessions_open", "Sessions alive."),
            streams: gauge(
                "mcp_streams_open",
                "Response streams whose request has not been answered yet.",
            ),
            connections: gauge(
                "mcp_sse_connections_open",
                "SSE responses being written to a connection.",
            ),
            bytes_out: counter(
                "mcp_http_response_bytes_total",
                "Bytes of response bodies sent.",
            ),
            queue: OnceLock::new(),
            registry,
        };
        Metrics {
            inner: Arc::new(inner),
        }
    }

    /// The layer that counts calls: add it to the server (the serving call does this for
    /// `--metrics`, outside every other layer, so that it sees their refusals).
    pub fn layer(&self) -> MetricsLayer {
        MetricsLayer {
            metrics: self.clone(),
        }
    }

    /// Reports the write queue of a shared store (read by `source` at each rendering) as the
    /// `mcp_store_*` metrics. The first call wins: a server has one shared store.
    pub(crate) fn watch_write_queue(
        &self,
        source: impl Fn() -> Option<WriteQueueStats> + Send + Sync + 'static,
    ) {
        let registry = &self.inner.registry;
        self.inner.queue.get_or_init(|| {
            let gauge = |name: &str, help: &str| {
                let gauge = IntGauge::new(name, help).expect("a well-formed metric");
                let _ = registry.register(Box::new(gauge.clone()));
                gauge
            };
            let counter = |name: &str, help: &str| {
                let counter = IntCounter::new(name, help).expect("a well-formed metric");
                let _ = registry.register(Box::new(counter.clone()));
                counter
            };
            QueueMetrics {
                source: Box::new(source),
                events: gauge(
                    "mcp_store_queued_events",
                    "Stream events queued for the shared store, waiting or being sent.",
                ),
                bytes: gauge(
                    "mcp_store_queued_bytes",
                    "Bytes of the stream events queued for the shared store.",
                ),
                waits: counter(
                    "mcp_store_queue_waits_total",
                    "Stream events that found the shared store's queue full and waited for room.",
                ),
                failures: counter(
                    "mcp_store_write_failures_total",
                    "Writes that did not reach the shared store (their batch failed).",
                ),
            }
        });
    }

    /// Counts a refusal.
    pub fn refused(&self, reason: &str) {
        self.inner.refusals.with_label_values(&[reason]).inc();
    }

    /// Counts bytes sent.
    pub fn sent_bytes(&self, n: usize) {
        self.inner.bytes_out.inc_by(n as u64);
    }

    /// The metrics in the text format, with the gauges set from `stats`.
    pub fn render(&self, stats: Option<Stats>) -> String {
        let inner = &self.inner;
        if let Some(stats) = stats {
            inner.sessions.set(stats.sessions as i64);
            inner.streams.set(stats.open_streams as i64);
            inner.connections.set(stats.connections as i64);
        }
        if let Some(queue) = inner.queue.get()
            && let Some(now) = (queue.source)()
        {
            queue
                .events
                .set(i64::try_from(now.events).unwrap_or(i64::MAX));
            queue
                .bytes
                .set(i64::try_from(now.bytes).unwrap_or(i64::MAX));
            // Counters only go up: add what happened since the last rendering.
            queue
                .waits
                .inc_by(now.waits.saturating_sub(queue.waits.get()));
            queue
                .failures
                .inc_by(now.failed.saturating_sub(queue.failures.get()));
        }
        let mut out = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&inner.registry.gather(), &mut out) {
            tracing::error!(%error, "the metrics could not be encoded");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Counts tool calls, their errors and durations, and the progress they send; counts the
/// refusals of the layers inside it by their `data.reason`.
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    metrics: Metrics,
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> MetricsService<S> {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service of [`MetricsLayer`].
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Metrics,
}

impl<S> Service<McpCall> for MetricsService<S>
where
    S: Service<McpCall, Response = Payload, Error = RpcError>,
    S::Future: Send + 'static,
{
    type Response = Payload;
    type Error = RpcError;
    type Future = BoxFuture<Result<Payload, RpcError>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), RpcError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: McpCall) -> Self::Future {
        let Some(tool) = call.tool().map(str::to_owned) else {
            return Box::pin(self.inner.call(call));
        };
        let metrics = self.metrics.clone();
        let progress = metrics.inner.progress.clone();
        call.on_progress_sent(move || progress.inc());
        metrics.inner.tool_calls.with_label_values(&[&tool]).inc();
        let started = Instant::now();
        let future = self.inner.call(call);
        Box::pin(async move {
            let answer = future.await;
            let inner = &metrics.inner;
            inner
                .tool_duration
                .with_label_values(&[&tool])
                .observe(started.elapsed().as_secs_f64());
            let failed = match &answer {
                Ok(result) => result.get("isError") == Some(&serde_json::Value::Bool(true)),
                Err(error) => {
                    if let Some(reason) = error
                        .data
                        .as_ref()
                        .and_then(|d| d.get("reason"))
                        .and_then(|r| r.as_str())
                    {
                        metrics.refused(reason);
                    }
                    true
                }
            };
            if failed {
                inner.tool_errors.with_label_values(&[&tool]).inc();
            }
            answer
        })
    }
}
