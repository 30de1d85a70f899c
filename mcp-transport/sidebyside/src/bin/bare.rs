//! The ceiling: a bare hyper server that reads each request's body and answers every request
//! with the same canned JSON-RPC tool result. `bare http` prints its address.
//!
//! `BARE_SPIN_NS` (unset: 0) makes it spin that many nanoseconds of wall time on each request
//! before answering, with no system call and no memory touched: a slower server with the same
//! system calls and bytes, to see what a server's time per call alone costs the load generator.
//! `BARE_TOUCH_KIB` (unset: 0) makes it write one byte in every 64-byte line of that many KiB
//! per request, walking through a buffer of 8 MiB (larger than this machine's L2): the same,
//! with a memory footprint.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use sidebyside::{Mode, mode_from_args};

const CANNED: &[u8] =
    br#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"done 0"}]}}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mode, _) = mode_from_args();
    if mode != Mode::Http {
        return Err("bare serves HTTP only".into());
    }
    let spin = match std::env::var("BARE_SPIN_NS") {
        Ok(ns) => Duration::from_nanos(ns.parse()?),
        Err(_) => Duration::ZERO,
    };
    let touch: usize = match std::env::var("BARE_TOUCH_KIB") {
        Ok(kib) => kib.parse()?,
        Err(_) => 0,
    };
    sidebyside::serve_http1(move || {
        service_fn(move |req: Request<Incoming>| async move {
            let _ = req.into_body().collect().await;
            if touch > 0 {
                touch_lines(touch * 1024);
            }
            if !spin.is_zero() {
                let until = Instant::now() + spin;
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
            }
            Ok::<_, Infallible>(
                Response::builder()
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(CANNED)))
                    .expect("a valid response"),
            )
        })
    })
    .await?;
    Ok(())
}

thread_local! {
    /// The buffer `BARE_TOUCH_KIB` walks through, and where the next walk starts.
    static WALK: std::cell::RefCell<(Vec<u8>, usize)> =
        const { std::cell::RefCell::new((Vec::new(), 0)) };
}

/// Writes one byte in every 64-byte line of the next `bytes` of the thread's 8 MiB buffer.
fn touch_lines(bytes: usize) {
    const SIZE: usize = 8 << 20;
    WALK.with_borrow_mut(|(buf, at)| {
        if buf.is_empty() {
            buf.resize(SIZE, 0);
        }
        for _ in 0..bytes / 64 {
            buf[*at] = buf[*at].wrapping_add(1);
            *at = (*at + 64) % SIZE;
        }
    });
}
