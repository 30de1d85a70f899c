//! Signals and what they do: the one place where every server built on [`super::ServeArgs`]
//! decides how it stops.
//!
//! The first SIGINT or SIGTERM starts a graceful shutdown: HTTP stops accepting, ends idle
//! streams, stdio stops reading; running calls get `--shutdown-timeout` to finish, and each
//! one still running then is answered with a JSON-RPC error. A second signal stops waiting.

use tokio::sync::watch;

/// Counts SIGINT and SIGTERM from the moment it is created, so that a signal sent while the
/// server starts is not lost (the handlers replace the default action, which would end the
/// process at once).
#[derive(Clone)]
pub(crate) struct Signals {
    count: watch::Receiver<u32>,
}

impl Signals {
    /// Starts listening. Must run inside a tokio runtime. The handlers are installed before
    /// this returns.
    pub(crate) fn listen() -> Signals {
        let (tx, count) = watch::channel(0u32);
        let mut next = Next::new();
        tokio::spawn(async move {
            while let Some(name) = next.signal().await {
                tracing::info!("{name} received");
                tx.send_modify(|n| *n += 1);
            }
        });
        Signals { count }
    }

    /// Completes once `n` signals have arrived in all.
    pub(crate) async fn nth(&mut self, n: u32) {
        let _ = self.count.wait_for(|&count| count >= n).await;
    }
}

/// The signal streams.
struct Next {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Next {
    fn new() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind, name: &str| match signal(kind) {
            Ok(stream) => Some(stream),
            Err(error) => {
                tracing::warn!(%error, "cannot listen for {name}");
                None
            }
        };
        Next {
            interrupt: listen(SignalKind::interrupt(), "SIGINT"),
            terminate: listen(SignalKind::terminate(), "SIGTERM"),
        }
    }

    /// The next signal's name; `None` once no signal can arrive any more.
    async fn signal(&mut self) -> Option<&'static str> {
        async fn recv(stream: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
            match stream {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            Some(()) = recv(&mut self.interrupt) => Some("SIGINT"),
            Some(()) = recv(&mut self.terminate) => Some("SIGTERM"),
            else => None,
        }
    }
}

#[cfg(not(unix))]
impl Next {
    fn new() -> Self {
        Next {}
    }

    async fn signal(&mut self) -> Option<&'static str> {
        tokio::signal::ctrl_c().await.ok().map(|()| "Ctrl-C")
    }
}
