//! Several mounted servers behind one [`Server`]: what the `mcp-gateway` binary serves.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::server::ListChanged;
use mcp_core::{Server, ServerBuilder};

use crate::config::GatewayConfig;
use crate::mount::Mounted;
use crate::remote::{Catalog, Remote, RemoteOptions};

/// Every server of a config, mounted.
#[derive(Debug)]
pub struct Gateway {
    name: String,
    instructions: Option<String>,
    mounted: Vec<Mounted>,
}

/// Why the gateway cannot serve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// Two mounted servers offer the same name once prefixed.
    #[error(
        "{kind} `{name}` is offered by both `{first}` and `{second}`: give one of them another `prefix` in the config"
    )]
    Clash {
        /// `tool`, `prompt` or `resource`.
        kind: &'static str,
        /// The name (or URI) as the gateway would offer it.
        name: String,
        /// The server mounted first (in name order).
        first: String,
        /// The other server.
        second: String,
    },
    /// The server could not be built from the catalogs.
    #[error(transparent)]
    Build(#[from] mcp_core::BuildError),
}

impl Gateway {
    /// Starts every server of `config` and waits up to `ready` for each to list its catalog.
    /// A server not up by then is mounted anyway, empty, and fills in when it comes up.
    pub async fn start(
        config: &GatewayConfig,
        options: &RemoteOptions,
        ready: Duration,
    ) -> Gateway {
        let remotes: Vec<(Remote, String)> = config
            .mounts()
            .into_iter()
            .map(|m| {
                let remote = Remote::start(m.name, m.upstream, options.clone());
                (remote, m.prefix)
            })
            .collect();
        let deadline = tokio::time::Instant::now() + ready;
        for (remote, _) in &remotes {
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
                .map(|(remote, prefix)| Mounted::new(remote, prefix))
                .collect(),
        }
    }

    /// A gateway named `name` over servers already mounted (in process, say).
    pub fn from_mounts(name: impl Into<String>, mounted: Vec<Mounted>) -> Gateway {
        Gateway {
            name: name.into(),
            instructions: None,
            mounted,
        }
    }

    /// The mounted servers.
    pub fn mounted(&self) -> &[Mounted] {
        &self.mounted
    }

    /// Checks that no two servers offer the same tool, prompt or resource name once prefixed.
    pub fn check(&self) -> Result<(), GatewayError> {
        let mut seen: [BTreeMap<String, &str>; 3] = Default::default();
        for m in &self.mounted {
            let catalog = m.remote().catalog();
            let names = names(m, &catalog);
            for (i, (kind, list)) in names.into_iter().enumerate() {
                for name in list {
                    if let Some(first) = seen[i].insert(name.clone(), m.remote().name()) {
                        return Err(GatewayError::Clash {
                            kind,
                            name,
                            first: first.to_owned(),
                            second: m.remote().name().to_owned(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds every mounted server's tools, prompts and resources to `builder`, and their
    /// instructions under each server's name.
    pub fn mount_into(&self, mut builder: ServerBuilder) -> Result<ServerBuilder, GatewayError> {
        self.check()?;
        let mut instructions: Vec<String> = self.instructions.iter().cloned().collect();
        for m in &self.mounted {
            for tool in m.tools() {
                builder = builder.tool_arc(tool);
            }
            for prompt in m.prompts() {
                builder = builder.prompt(prompt);
            }
            builder = builder.resources(m.resources());
            if let Some(text) = &m.remote().catalog().instructions {
                instructions.push(format!("## {}\n\n{text}", m.remote().name()));
            }
        }
        if !instructions.is_empty() {
            builder = builder.instructions(instructions.join("\n\n"));
        }
        Ok(builder.list_changed(true).resource_subscriptions(true))
    }

    /// The gateway's server: every mounted server's offer under its prefix. List changes and
    /// resource updates of the mounted servers reach the server's clients from now on.
    pub fn server(&self) -> Result<Server, GatewayError> {
        let builder = Server::builder(self.name.clone(), env!("CARGO_PKG_VERSION"));
        let server = self.mount_into(builder)?.build()?;
        for m in &self.mounted {
            tokio::spawn(follow(m.clone(), server.clone()));
        }
        Ok(server)
    }

    /// Stops every mounted server.
    pub async fn shutdown(&self) {
        for m in &self.mounted {
            m.remote().shutdown().await;
        }
    }
}

/// The names a mounted server adds, by kind.
fn names(m: &Mounted, catalog: &Catalog) -> [(&'static str, Vec<String>); 3] {
    let prefix = m.prefix();
    [
        (
            "tool",
            catalog
                .tools
                .iter()
                .map(|t| format!("{prefix}{}", t.name))
                .collect(),
        ),
        (
            "prompt",
            catalog
                .prompts
                .iter()
                .map(|p| format!("{prefix}{}", p.name))
                .collect(),
        ),
        (
            "resource",
            catalog
                .resources
                .iter()
                .map(|r| m.our_uri(&r.uri))
                .chain(catalog.templates.iter().map(|t| m.our_uri(&t.uri_template)))
                .collect(),
        ),
    ]
}

/// Relays a mounted server's list changes and resource updates to `server`'s clients.
async fn follow(mounted: Mounted, server: Server) {
    let mut catalogs = mounted.remote().catalog_changes();
    let mut updates = mounted.remote().resource_updates();
    let mut last: Arc<Catalog> = catalogs.borrow_and_update().clone();
    loop {
        tokio::select! {
            changed = catalogs.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = catalogs.borrow_and_update().clone();
                if now.tools != last.tools {
                    server.notify_list_changed(ListChanged::Tools).await;
                }
                if now.prompts != last.prompts {
                    server.notify_list_changed(ListChanged::Prompts).await;
                }
                if now.resources != last.resources || now.templates != last.templates {
                    server.notify_list_changed(ListChanged::Resources).await;
                }
                last = now;
            }
            update = updates.recv() => match update {
                Ok(uri) => server.notify_resource_updated(&mounted.our_uri(&uri)).await,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(server = %mounted.remote().name(), "{n} resource updates lost");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}
