//! Several mounted servers behind one [`Server`]: what the `mcp-gateway` binary serves.

use std::time::Duration;

use mcp_core::{BuildError, Server, ServerBuilder};

use crate::config::GatewayConfig;
use crate::mount::RemotePlugin;
use crate::remote::{Remote, RemoteOptions};

/// Every server of a config, started and mounted as plugins under their prefixes.
#[derive(Debug)]
pub struct Gateway {
    name: String,
    instructions: Option<String>,
    mounted: Vec<(String, RemotePlugin)>,
}

impl Gateway {
    /// Starts every server of `config` and waits up to `ready` for each to list its catalog.
    /// A server not up by then is mounted anyway, empty, and fills in when it comes up (its
    /// tools appear with a `list_changed`).
    pub async fn start(
        config: &GatewayConfig,
        options: &RemoteOptions,
        ready: Duration,
    ) -> Gateway {
        let remotes: Vec<(String, Remote)> = config
            .mounts()
            .into_iter()
            .map(|m| (m.prefix, Remote::start(m.name, m.upstream, options.clone())))
            .collect();
        let deadline = tokio::time::Instant::now() + ready;
        for (_, remote) in &remotes {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if let Err(e) = remote.ready(left).await {
                tracing::warn!("{e}; mounted without its tools until it comes up");
            }
        }
        Gateway {
            name: config.gateway.name.clone(),
            instructions: config.gateway.instructions.clone(),
            mounted: remotes
                .into_iter()
                .map(|(prefix, remote)| (prefix, RemotePlugin::new(remote)))
                .collect(),
        }
    }

    /// A gateway named `name` over servers already started, each with its prefix.
    pub fn from_remotes(name: impl Into<String>, remotes: Vec<(String, Remote)>) -> Gateway {
        Gateway {
            name: name.into(),
            instructions: None,
            mounted: remotes
                .into_iter()
                .map(|(prefix, remote)| (prefix, RemotePlugin::new(remote)))
                .collect(),
        }
    }

    /// The mounted servers, with their prefixes.
    pub fn mounted(&self) -> &[(String, RemotePlugin)] {
        &self.mounted
    }

    /// Mounts every server on `builder`, each as a plugin under its prefix.
    pub fn mount_into(&self, mut builder: ServerBuilder) -> ServerBuilder {
        if let Some(text) = &self.instructions {
            builder = builder.instructions(text.clone());
        }
        for (prefix, plugin) in &self.mounted {
            builder = builder.plugin_prefixed(prefix.clone(), plugin.clone());
        }
        builder
    }

    /// The gateway's server. Two servers offering one name once prefixed is a
    /// [`BuildError::Clash`] naming both. Serve it with `mcp_transport::serve` (or call
    /// [`Server::start_plugins`] first): the mounts follow their servers' changes from then
    /// on, and stop their servers when serving ends.
    pub fn server(&self) -> Result<Server, BuildError> {
        self.mount_into(Server::builder(
            self.name.clone(),
            env!("CARGO_PKG_VERSION"),
        ))
        .build()
    }

    /// Stops every mounted server (what the plugins' shutdown does, for a gateway that is not
    /// served).
    pub async fn shutdown(&self) {
        for (_, plugin) in &self.mounted {
            plugin.remote().shutdown().await;
        }
    }
}
