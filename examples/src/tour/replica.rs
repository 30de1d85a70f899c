//! Several replicas: one replica of a deployment sharing a Redis store.

// ANCHOR: replica
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::Server;
use mcp_transport::http::{HttpConfig, RedisStore, RunningServer, WriteQueueLimits, serve};

/// Serves `server` on `bind` as one replica of those sharing the Redis server at `url`:
/// sessions, stream events and tasks live in Redis, so any replica serves any request.
/// Every replica gets the same `key`: a `requestState` one issues verifies on the others.
pub async fn serve_replica(
    server: &Server,
    bind: SocketAddr,
    url: &str,
    key: &[u8],
) -> Result<RunningServer, Box<dyn std::error::Error + Send + Sync>> {
    // Stream events reach Redis through a bounded queue: when Redis falls behind and the
    // queue holds this many events (or bytes), a stream's next event waits for room, and
    // the tool sending it with it; a batch Redis leaves unanswered for `write_timeout`
    // fails (its writes are counted lost). These are the defaults (`RedisStore::connect`).
    let limits = WriteQueueLimits {
        events: 8192,
        bytes: 16 * 1024 * 1024,
        write_timeout: Duration::from_secs(30),
    };
    let store = RedisStore::connect_with(url, limits).await?;
    // The store's tasks come with it: no task store to set on the server.
    let config = HttpConfig::default().shared_store(Arc::new(store));
    Ok(serve(bind, &server.with_request_state_key(key), config).await?)
}
// ANCHOR_END: replica
