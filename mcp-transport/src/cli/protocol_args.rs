//! The protocol flags: the eras served and the key that signs `requestState`.

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use mcp_core::{Eras, Server};

use super::ServeError;

/// The protocol flags. Each one given replaces what the server was built with
/// ([`ServerBuilder::eras`](mcp_core::ServerBuilder::eras),
/// [`ServerBuilder::request_state_key`](mcp_core::ServerBuilder::request_state_key)); one left
/// out keeps the server's own setting.
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
#[command(next_help_heading = "Protocol")]
pub struct ProtocolArgs {
    /// The protocol eras to serve: `both`, `stateful` (2024-11-05 to 2025-11-25, sessions
    /// opened by `initialize`) or `stateless` (2026-07-28, every request on its own). Default:
    /// what the server was built with (both, unless its code says otherwise).
    #[arg(
        long,
        env = "MCP_ERAS",
        value_name = "ERAS",
        value_parser = PossibleValuesParser::new(["both", "stateful", "stateless"])
            .try_map(|s| s.parse::<Eras>())
    )]
    pub eras: Option<Eras>,

    /// The secret that signs `requestState` in multi round-trip requests (2026-07-28):
    /// replicas behind one load balancer must share it, so that a retry reaching another
    /// replica verifies. Prefer the environment variable. Default: a random key per process.
    #[arg(
        long,
        env = "MCP_REQUEST_STATE_KEY",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub request_state_key: Option<String>,
}

impl ProtocolArgs {
    /// `server` with the settings these flags give (the same tools and sessions: see
    /// [`Server::with_eras`]).
    pub fn apply(&self, server: &Server) -> Result<Server, ServeError> {
        let mut server = match self.eras {
            Some(eras) => server.with_eras(eras),
            None => server.clone(),
        };
        if let Some(key) = &self.request_state_key {
            if key.trim().is_empty() {
                return Err(ServeError::Config(
                    "--request-state-key is empty: give a secret, or leave the flag out for a random key per process".into(),
                ));
            }
            server = server.with_request_state_key(key);
        }
        Ok(server)
    }
}
