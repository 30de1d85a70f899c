//! What the three servers and the load generator share: the clock, the tool's name and
//! arguments, and how a server tells the generator where it listens.

use std::io::Write;

/// Nanoseconds on `CLOCK_MONOTONIC`, which every process on the machine reads alike.
///
/// The servers put this in each progress message; the load generator subtracts it from its
/// own reading on receipt, which gives the yield -> receipt latency across processes.
pub fn now_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC is always available on Linux");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// The transport a server binary is asked for on its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Newline-delimited JSON-RPC on stdin and stdout.
    Stdio,
    /// Streamable HTTP on `127.0.0.1:<any port>`, whose address is printed on stdout.
    Http,
}

/// Reads the mode from the first argument (`stdio` or `http`); anything else exits.
pub fn mode_from_args() -> (Mode, Vec<String>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args.first().map(String::as_str) {
        Some("stdio") => Mode::Stdio,
        Some("http") => Mode::Http,
        other => {
            eprintln!("usage: <server> stdio|http [options] (got {other:?})");
            std::process::exit(2);
        }
    };
    (mode, args[1..].to_vec())
}

/// Tells the load generator where the server listens: one line on stdout.
pub fn announce(addr: std::net::SocketAddr) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{addr}").expect("stdout");
    out.flush().expect("stdout");
}

/// Binds a free loopback port, announces it, and serves every accepted connection (with
/// `TCP_NODELAY`) with HTTP/1.1 and a service made by `make`. Never returns; an accept error
/// (such as running out of descriptors) is retried after a pause.
pub async fn serve_http1<S, B>(make: impl Fn() -> S) -> std::io::Result<()>
where
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = hyper::Response<B>,
            Error = std::convert::Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    announce(listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = make();
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
