//! Several replicas: one replica of a deployment sharing a Redis store.

// ANCHOR: replica
use std::net::SocketAddr;
use std::sync::Arc;

use mcp_core::Server;
use mcp_transport::http::{HttpConfig, RedisStore, RunningServer, serve};

/// Serves `server` on `bind` as one replica of those sharing the Redis server at `url`:
/// sessions, stream events and tasks live in Redis, so any replica serves any request.
/// Every replica gets the same `key`: a `requestState` one issues verifies on the others.
pub async fn serve_replica(
    server: &Server,
    bind: SocketAddr,
    url: &str,
    key: &[u8],
) -> Result<RunningServer, Box<dyn std::error::Error + Send + Sync>> {
    let store = RedisStore::connect(url).await?;
    // The store's tasks come with it: no task store to set on the server.
    let config = HttpConfig::default().shared_store(Arc::new(store));
    Ok(serve(bind, &server.with_request_state_key(key), config).await?)
}
// ANCHOR_END: replica
