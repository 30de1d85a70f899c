//! Write-behind for [`RedisStore`](super::RedisStore): the writes of streams (each event, a
//! stream's end, the requests a stream answers) and the messages published to other
//! replicas go into one ordered queue, and one task sends
//! whatever is waiting as a single pipeline: one round trip per batch instead of one per
//! event, and none on the path that delivers an event to its client. Order is kept: a write
//! reaches Redis after every write queued before it. A read of what was written waits for the
//! queue first ([`Writer::flush`]), so a replica reads its own writes.

use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};

/// The most queued writes sent in one pipeline.
const MAX_BATCH: usize = 256;

enum Job {
    /// Commands to send, in order (their replies are ignored).
    Write(Vec<redis::Cmd>),
    /// Answered once every write queued before it was sent: with the error of the batch
    /// that carried it, if that failed.
    Flush(oneshot::Sender<Result<(), String>>),
}

/// The queue of one store's writes, and the task draining it (which ends with the queue).
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Writer {
    /// Starts the task that sends queued writes on `conn`.
    pub(super) fn start(conn: ConnectionManager) -> Writer {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(drain(conn, rx));
        Writer { jobs }
    }

    /// Queues `commands`; they reach Redis after everything queued before them.
    pub(super) fn write(&self, commands: Vec<redis::Cmd>) {
        if self.jobs.send(Job::Write(commands)).is_err() {
            tracing::warn!("the Redis writer stopped: a write was dropped");
        }
    }

    /// Completes once everything queued so far was sent; an error if the last round trip
    /// failed (or the writer stopped).
    pub(super) async fn flush(&self) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job::Flush(done))
            .map_err(|_| "the Redis writer stopped".to_owned())?;
        wait.await
            .map_err(|_| "the Redis writer stopped".to_owned())?
    }
}

async fn drain(mut conn: ConnectionManager, mut jobs: mpsc::UnboundedReceiver<Job>) {
    // Logged once per streak of failed batches (the connection reconnects by itself; each
    // flush waiting on a failed batch gets its error).
    let mut failing = false;
    while let Some(first) = jobs.recv().await {
        let mut pipe = redis::pipe();
        let mut flushes = Vec::new();
        let mut commands = 0;
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(job) = next.take() {
            match job {
                Job::Write(batch) => {
                    for command in batch {
                        pipe.add_command(command).ignore();
                        commands += 1;
                    }
                }
                Job::Flush(done) => flushes.push(done),
            }
            taken += 1;
            if taken < MAX_BATCH {
                next = jobs.try_recv().ok();
            }
        }
        let mut sent = Ok(());
        if commands > 0 {
            let mut result = pipe.query_async::<()>(&mut conn).await;
            if let Err(e) = &result
                && (e.is_connection_dropped() || e.is_io_error())
            {
                // Once more, on the connection the manager makes anew (a batch is refused by a
                // dropped connection before Redis runs it; a follower would skip an event it
                // already has, by its number).
                result = pipe.query_async::<()>(&mut conn).await;
            }
            match result {
                Ok(()) if failing => {
                    tracing::info!("writing stream events to Redis again");
                    failing = false;
                }
                Ok(()) => {}
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "could not write stream events to Redis (their clients got them; a resume will miss them)");
                    }
                    failing = true;
                    sent = Err(e.to_string());
                }
            }
        }
        for done in flushes {
            let _ = done.send(sent.clone());
        }
    }
}
