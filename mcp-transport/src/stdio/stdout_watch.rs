//! The process's stdout, watched for its reader going away (on Unix, where a pipe reports
//! it), so that a server with nothing to write still notices at once that its client is gone.

use std::io;

/// Completes when the process's stdout has lost its reader (the client closed its end of the
/// pipe). Never completes where that cannot be watched (not Unix, or stdout is a file or a
/// terminal that epoll refuses): a write then finds out instead.
pub(super) async fn stdout_closed() {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use tokio::io::Interest;
        use tokio::io::unix::AsyncFd;
        // A duplicate of fd 1 that this watch owns: it stays open, and names the same pipe,
        // as long as the watch is registered. That is the I/O-safety condition tokio's
        // (unsafe) `register_with_interest` states, and why the safe constructor, deprecated
        // for callers who cannot promise it, is sound here.
        let owned = io::stdout().as_fd().try_clone_to_owned();
        // Error readiness only: a pipe's write end reports an error once its reader is gone,
        // and nothing at all while the client reads, so this costs no wake-ups.
        #[allow(deprecated)]
        let watch = owned.and_then(|fd| AsyncFd::with_interest(fd, Interest::ERROR));
        if let Ok(watch) = watch
            && watch.ready(Interest::ERROR).await.is_ok()
        {
            return;
        }
    }
    std::future::pending::<()>().await;
}
