//! The same tool on rmcp (the official Rust SDK), default config, written as its docs show.
//!
//! `rmcp-server stdio` serves on `rmcp::transport::stdio()` (the documented stdio transport;
//! `stdio pipes` uses `stdio_pipes()`, rmcp's reactor-driven variant for FIFOs);
//! `rmcp-server http` serves its `StreamableHttpService` with hyper on a free loopback port,
//! with `TCP_NODELAY` on every accepted socket, and prints the address.

use std::time::Duration;

use hyper_util::service::TowerToHyperService;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ProgressNotificationParam, RequestMetaObject, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{Peer, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use sidebyside::{Mode, mode_from_args, now_ns};

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct ProgressArgs {
    /// How many steps.
    steps: u64,
    /// The pause before each step, in milliseconds.
    #[serde(default)]
    delay_ms: u64,
}

#[derive(Debug, Clone)]
struct Bench {
    #[allow(dead_code)]
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Bench {
    fn new() -> Self {
        Bench {
            tool_router: Self::tool_router(),
        }
    }

    /// Reports `steps` progress steps, `delay_ms` apart; each message is the time of its yield.
    #[tool(description = "Reports steps progress steps, delay_ms apart")]
    async fn progress(
        &self,
        Parameters(ProgressArgs { steps, delay_ms }): Parameters<ProgressArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
    ) -> String {
        let token = meta.get_progress_token();
        for i in 1..=steps {
            if delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            }
            if let Some(token) = &token {
                let note = ProgressNotificationParam::new(token.clone(), i as f64)
                    .with_total(steps as f64)
                    .with_message(now_ns().to_string());
                let _ = peer.notify_progress(note).await;
            }
        }
        format!("done {steps}")
    }
}

#[tool_handler]
impl ServerHandler for Bench {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mode, rest) = mode_from_args();
    match mode {
        Mode::Stdio => {
            let running = if rest.first().map(String::as_str) == Some("pipes") {
                Bench::new().serve(rmcp::transport::stdio_pipes()).await?
            } else {
                Bench::new().serve(rmcp::transport::stdio()).await?
            };
            running.waiting().await?;
        }
        Mode::Http => {
            let service = StreamableHttpService::new(
                || Ok(Bench::new()),
                LocalSessionManager::default().into(),
                StreamableHttpServerConfig::default(),
            );
            sidebyside::serve_http1(|| TowerToHyperService::new(service.clone())).await?;
        }
    }
    Ok(())
}
