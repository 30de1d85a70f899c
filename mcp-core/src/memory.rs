//! An in-process connection between a [`Client`] and a [`Server`]: no bytes, no sockets.
//! Handy for testing tools; the transports in `mcp-transport` work the same way over real
//! pipes and sockets.

use tokio::sync::mpsc;

use crate::client::{Client, ClientChannel, ClientOptions, ConnectError};
use crate::server::{Server, ServerSession};
use crate::transport::Outbox;

/// Connects a new client to a new session of `server`, in memory.
pub async fn connect(server: &Server) -> Result<Client, ConnectError> {
    connect_with(server, ClientOptions::default()).await
}

/// [`connect`] with client options.
pub async fn connect_with(server: &Server, options: ClientOptions) -> Result<Client, ConnectError> {
    Client::connect_with(serve(server), options).await
}

/// Starts a session of `server` and returns the client's ends of it. The session lives until
/// the client's outgoing sender is dropped.
pub fn serve(server: &Server) -> ClientChannel {
    let (to_server, mut from_client) = mpsc::channel(server.outbox_capacity());
    let (to_client, from_server) = mpsc::channel(server.outbox_capacity());
    let (outbox, mut outbound) = Outbox::channel(server.outbox_capacity());
    let session = ServerSession::new(server, outbox.clone());
    tokio::spawn(async move {
        while let Some(message) = from_client.recv().await {
            session.receive(message, &outbox).await;
        }
        session.close();
    });
    tokio::spawn(async move {
        while let Some(out) = outbound.recv().await {
            if to_client.send(*out.message).await.is_err() {
                break;
            }
        }
    });
    ClientChannel {
        outgoing: to_server,
        incoming: from_server,
    }
}
