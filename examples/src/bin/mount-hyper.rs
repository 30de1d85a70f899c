//! Run with: cargo run -p examples --bin mount-hyper -- --bind 127.0.0.1:8000
//!
//! An existing hyper application that serves its own routes (`/health`) and mounts the MCP
//! server beside them: `McpService` is a plain hyper service, so any router can hand it the
//! requests it should answer (streamable HTTP at `/mcp`, legacy HTTP+SSE at `/sse`).

// ANCHOR: all
use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use clap::Parser;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use mcp_core::{Server, tool};
use mcp_transport::cli::LogArgs;
use mcp_transport::http::{ClientAddr, HostPolicy, HttpConfig, McpBody, McpService};

/// Says hello to `name`.
#[tool]
async fn hello(
    /// Who to greet.
    name: String,
) -> String {
    format!("Hello, {name}!")
}

/// A hyper application with its own routes and an MCP server mounted beside them.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    bind: SocketAddr,
    /// The host names the MCP service accepts in `Host` and `Origin`, comma-separated (`*`:
    /// any). Default: localhost names.
    #[arg(
        long,
        env = "MCP_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "HOSTS"
    )]
    allowed_hosts: Vec<String>,
    /// Logging, as every server of the project does it.
    #[command(flatten)]
    log: LogArgs,
}

/// The application's router: its own `/health`, and everything else to the MCP service,
/// told the client's address (its session admission counts sessions per client).
async fn route(
    mcp: McpService,
    peer: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Response<Either<McpBody, Full<Bytes>>>, Infallible> {
    if request.uri().path() == "/health" {
        return Ok(Response::new(Either::Right(Full::new(Bytes::from_static(
            b"ok",
        )))));
    }
    request.extensions_mut().insert(ClientAddr(peer));
    Ok(mcp.handle(request).await.map(Either::Left))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    args.log.init()?;
    let server = Server::builder("mount-hyper", env!("CARGO_PKG_VERSION"))
        .tool(hello)
        .build()?;
    let hosts = HostPolicy::from_names(&args.allowed_hosts)?;
    let mcp = McpService::new(&server, HttpConfig::default().hosts(hosts))?;
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    tracing::info!(
        accepting = %mcp.accepted_hosts(),
        "listening on http://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, peer) = listener.accept().await?;
        // Small SSE frames: never let Nagle's algorithm hold them back.
        stream.set_nodelay(true)?;
        let mcp = mcp.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| route(mcp.clone(), peer, request));
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}
// ANCHOR_END: all
