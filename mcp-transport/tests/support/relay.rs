//! A TCP relay that drops a connection on demand: a stream cut mid-call, for resumption
//! tests. Shared by mcp-transport's HTTP client tests and examples' replica tests (included
//! there by path).

#![allow(unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP relay to `upstream` that cuts, once each and in order, the connection whose
/// server-to-client bytes contain the next of `markers` (right after forwarding them): the
/// client sees its stream end there. Once every marker has cut, it relays without cutting.
pub async fn cutting_relay(upstream: SocketAddr, markers: &'static [&'static str]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
    let addr = listener.local_addr().expect("relay address");
    let cuts = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(relay(client, upstream, markers, cuts.clone()));
        }
    });
    addr
}

/// Relays one connection until either side closes or it forwarded the next marker.
async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    markers: &'static [&'static str],
    cuts: Arc<AtomicUsize>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = cr.read(&mut buf).await {
            if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = sr.read(&mut buf).await {
        if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
            break;
        }
        let text = String::from_utf8_lossy(&buf[..n]);
        let next = cuts.load(Ordering::SeqCst);
        if markers.get(next).is_some_and(|m| text.contains(m))
            && cuts
                .compare_exchange(next, next + 1, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            break; // drop both halves: the client sees the stream end
        }
    }
    up.abort();
}
