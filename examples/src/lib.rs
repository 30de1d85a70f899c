//! Runnable examples for the guide, and a fixture server for the tests.
//!
//! The binaries in `src/bin/` are the guide's code: the book includes their marked regions
//! (`// ANCHOR: name`), so what the guide shows is what compiles and what the tests run.
//!
//! - `streaming-demo`: a server with one streaming tool, `count`.
//! - `streaming-client`: starts `streaming-demo` and prints each progress event as it arrives.
//! - `fixture-server`: tools whose only purpose is to be tested (lockstep, hang, panic, echo).

/// Sends logs to stderr, filtered by `RUST_LOG` (default `info`).
///
/// A stdio server must never log to stdout: stdout carries the protocol.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
