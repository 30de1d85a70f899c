//! The ceiling: a bare hyper server that reads each request's body and answers every request
//! with the same canned JSON-RPC tool result. `bare http` prints its address.

use std::convert::Infallible;

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
    sidebyside::serve_http1(|| {
        service_fn(|req: Request<Incoming>| async move {
            let _ = req.into_body().collect().await;
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
