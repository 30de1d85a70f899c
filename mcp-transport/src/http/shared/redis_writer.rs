//! Write-behind for [`RedisStore`](super::RedisStore): the writes of streams (each event, a
//! stream's end, the requests a stream answers) and the messages published to other
//! replicas go into one ordered queue, and one task sends
//! whatever is waiting as a single pipeline: one round trip per batch instead of one per
//! event, and none on the path that delivers an event to its client. Order is kept: a write
//! reaches Redis after every write queued before it. A read of what was written waits for the
//! queue first ([`Writer::flush`]), so a replica reads its own writes.
//!
//! The queue is bounded ([`WriteQueueLimits`]): a stream event takes room in it ([`Writer::room`])
//! from the moment it is queued until Redis answered the batch that carried it. When the
//! queue is full, the event's append waits for room, and with it the stream's publisher (the
//! tool's `send`, as with a client that reads slowly): a Redis that is slow but alive holds
//! the producers back instead of growing the queue, and no event is dropped. Room is handed
//! out first come, first served, and a stream appends one event at a time, so one busy stream
//! cannot starve the others. The small records of a stream's start and end
//! ([`Writer::write`]) never wait (they come from code that cannot) and take no room: at most
//! one of each per stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::WriteQueueStats;

/// The most queued writes sent in one pipeline.
const MAX_BATCH: usize = 256;

/// How many stream events the queue holds at most by default.
pub const DEFAULT_WRITE_QUEUE_EVENTS: usize = 8192;
/// How many bytes the queue's events take at most by default (16 MiB: about as many events
/// as [`DEFAULT_WRITE_QUEUE_EVENTS`] of 0.3 KiB each, counted as about 1.3 KiB plus twice
/// their size).
pub const DEFAULT_WRITE_QUEUE_BYTES: usize = 16 * 1024 * 1024;
/// How long the writer waits for Redis to answer one batch by default.
pub const DEFAULT_REDIS_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// What one queued write is counted as besides its arguments' bytes: the job, and the
/// command's buffers.
const WRITE_OVERHEAD: usize = 96;
/// What one command of a write is counted as besides its arguments' bytes.
const COMMAND_OVERHEAD: usize = 96;
/// What one argument of a command is counted as besides its bytes (its offset).
const ARG_OVERHEAD: usize = 16;

/// The bound of a store's write queue: the stream events queued (or being sent) at most, and
/// the memory they take at most (their commands' bytes plus an estimate of their
/// bookkeeping). An event that finds either full waits for room. And how long the queue's
/// connection waits for Redis to answer one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteQueueLimits {
    /// The most events queued.
    pub events: usize,
    /// The most bytes queued.
    pub bytes: usize,
    /// How long one batch may wait for Redis's answer before it counts as failed (its writes
    /// lost from the store, counted in [`WriteQueueStats::failed`]). Long, so that a Redis
    /// that is slow but alive holds the queue back rather than losing writes; a deployment
    /// that prefers to lose a stream's replay over holding its tools back sets it shorter.
    pub write_timeout: Duration,
}

impl Default for WriteQueueLimits {
    fn default() -> Self {
        WriteQueueLimits {
            events: DEFAULT_WRITE_QUEUE_EVENTS,
            bytes: DEFAULT_WRITE_QUEUE_BYTES,
            write_timeout: DEFAULT_REDIS_WRITE_TIMEOUT,
        }
    }
}

/// Why queued writes did not reach Redis.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RedisWriteError {
    /// Redis refused a batch of writes, or did not answer it (the connection dropped twice,
    /// or the write timeout passed): its writes are lost from the store (counted in
    /// [`WriteQueueStats::failed`]).
    #[error("{writes} queued write(s) did not reach Redis: {source}")]
    Redis {
        /// How many writes the failed batch carried.
        writes: usize,
        /// What the connection said.
        #[source]
        source: Arc<redis::RedisError>,
    },
    /// The task sending the writes stopped (the runtime is shutting down).
    #[error("the Redis writer stopped")]
    Stopped,
}

impl RedisWriteError {
    /// Whether Redis could not be reached (the connection dropped, was refused, or timed out)
    /// rather than refusing the writes.
    pub fn is_unreachable(&self) -> bool {
        match self {
            RedisWriteError::Redis { source, .. } => {
                source.is_io_error() || source.is_connection_dropped() || source.is_timeout()
            }
            RedisWriteError::Stopped => false,
        }
    }
}

/// The room one queued event takes: given back when the batch carrying it was answered (or
/// failed), or when it is dropped unused.
pub(super) struct Room {
    _event: OwnedSemaphorePermit,
    _bytes: OwnedSemaphorePermit,
    cost: usize,
    counts: Arc<Counts>,
}

impl Drop for Room {
    fn drop(&mut self) {
        self.counts.events.fetch_sub(1, Ordering::Relaxed);
        self.counts.bytes.fetch_sub(self.cost, Ordering::Relaxed);
    }
}

/// What the queue holds, and what happened to it.
#[derive(Default)]
struct Counts {
    events: AtomicUsize,
    bytes: AtomicUsize,
    peak_events: AtomicUsize,
    peak_bytes: AtomicUsize,
    waits: AtomicU64,
    failed: AtomicU64,
}

enum Job {
    /// Commands to send, in order (their replies are ignored), with the room they take.
    Write(Vec<redis::Cmd>, Option<Room>),
    /// Answered once every write queued before it was sent: with the error of the batch
    /// that carried it, if that failed.
    Flush(oneshot::Sender<Result<(), RedisWriteError>>),
}

/// The queue of one store's writes, and the task draining it (which ends with the queue).
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    events: Arc<Semaphore>,
    bytes: Arc<Semaphore>,
    limits: WriteQueueLimits,
    counts: Arc<Counts>,
}

impl Writer {
    /// Starts the task that sends queued writes on `conn`, holding at most `limits`.
    pub(super) fn start(conn: ConnectionManager, limits: WriteQueueLimits) -> Writer {
        let (jobs, rx) = mpsc::unbounded_channel();
        let counts = Arc::new(Counts::default());
        tokio::spawn(drain(conn, rx, counts.clone()));
        let limits = WriteQueueLimits {
            events: limits.events.clamp(1, Semaphore::MAX_PERMITS),
            bytes: limits.bytes.clamp(1, u32::MAX as usize),
            ..limits
        };
        Writer {
            jobs,
            events: Arc::new(Semaphore::new(limits.events)),
            bytes: Arc::new(Semaphore::new(limits.bytes)),
            limits,
            counts,
        }
    }

    /// What the room of a write of `commands` costs: `payload` bytes counted twice (stored and
    /// published) and `keys` bytes, in `commands` commands of `args` arguments in all.
    pub(super) fn cost(payload: usize, keys: usize, commands: usize, args: usize) -> usize {
        WRITE_OVERHEAD + 2 * payload + keys + commands * COMMAND_OVERHEAD + args * ARG_OVERHEAD
    }

    /// Room for one event costing `cost` bytes, if the queue has it now.
    pub(super) fn try_room(&self, cost: usize) -> Option<Room> {
        let event = self.events.clone().try_acquire_owned().ok()?;
        let bytes = self
            .bytes
            .clone()
            .try_acquire_many_owned(self.permits(cost))
            .ok()?;
        Some(self.took(event, bytes, cost))
    }

    /// Room for one event costing `cost` bytes, waiting for it while the queue is full (first
    /// come, first served). Cancel-safe: dropped while waiting, it takes nothing.
    pub(super) async fn room(&self, cost: usize) -> Room {
        if let Some(room) = self.try_room(cost) {
            return room;
        }
        self.counts.waits.fetch_add(1, Ordering::Relaxed);
        // The semaphores are never closed.
        let event = self
            .events
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        let bytes = self
            .bytes
            .clone()
            .acquire_many_owned(self.permits(cost))
            .await
            .expect("never closed");
        self.took(event, bytes, cost)
    }

    /// The byte permits of `cost`: an event larger than the whole bound waits for an empty
    /// queue, then goes alone.
    fn permits(&self, cost: usize) -> u32 {
        u32::try_from(cost.min(self.limits.bytes)).unwrap_or(u32::MAX)
    }

    fn took(&self, event: OwnedSemaphorePermit, bytes: OwnedSemaphorePermit, cost: usize) -> Room {
        let counts = &self.counts;
        let events = counts.events.fetch_add(1, Ordering::Relaxed) + 1;
        let queued = counts.bytes.fetch_add(cost, Ordering::Relaxed) + cost;
        counts.peak_events.fetch_max(events, Ordering::Relaxed);
        counts.peak_bytes.fetch_max(queued, Ordering::Relaxed);
        Room {
            _event: event,
            _bytes: bytes,
            cost,
            counts: counts.clone(),
        }
    }

    /// Queues an event's `commands` in the `room` taken for them; they reach Redis after
    /// everything queued before them.
    pub(super) fn write_event(&self, room: Room, commands: Vec<redis::Cmd>) {
        self.send(Job::Write(commands, Some(room)));
    }

    /// Queues `commands` that take no room (a stream's record or end marker); they reach
    /// Redis after everything queued before them.
    pub(super) fn write(&self, commands: Vec<redis::Cmd>) {
        self.send(Job::Write(commands, None));
    }

    fn send(&self, job: Job) {
        if self.jobs.send(job).is_err() {
            // Only when the runtime is going away.
            self.counts.failed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %RedisWriteError::Stopped, "a write to Redis was dropped");
        }
    }

    /// Completes once everything queued so far was sent; an error if the last batch of writes
    /// failed (or the writer stopped).
    pub(super) async fn flush(&self) -> Result<(), RedisWriteError> {
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job::Flush(done))
            .map_err(|_| RedisWriteError::Stopped)?;
        wait.await.map_err(|_| RedisWriteError::Stopped)?
    }

    /// How full the queue is, and what happened to it.
    pub(super) fn stats(&self) -> WriteQueueStats {
        let counts = &self.counts;
        WriteQueueStats {
            events: counts.events.load(Ordering::Relaxed),
            bytes: counts.bytes.load(Ordering::Relaxed),
            peak_events: counts.peak_events.load(Ordering::Relaxed),
            peak_bytes: counts.peak_bytes.load(Ordering::Relaxed),
            max_events: self.limits.events,
            max_bytes: self.limits.bytes,
            waits: counts.waits.load(Ordering::Relaxed),
            failed: counts.failed.load(Ordering::Relaxed),
        }
    }
}

async fn drain(
    mut conn: ConnectionManager,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    counts: Arc<Counts>,
) {
    // Logged once per streak of failed batches (the connection reconnects by itself). A
    // flush gets the result of the last batch that carried writes: its own, or the one
    // before it if its batch carried none.
    let mut failing = false;
    let mut sent: Result<(), RedisWriteError> = Ok(());
    while let Some(first) = jobs.recv().await {
        let mut pipe = redis::pipe();
        let mut flushes = Vec::new();
        // Given back once Redis answered the batch: until then its events count as queued.
        let mut rooms = Vec::new();
        let mut writes = 0;
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(job) = next.take() {
            match job {
                Job::Write(batch, room) => {
                    for command in batch {
                        pipe.add_command(command).ignore();
                    }
                    rooms.extend(room);
                    writes += 1;
                }
                Job::Flush(done) => flushes.push(done),
            }
            taken += 1;
            if taken < MAX_BATCH {
                next = jobs.try_recv().ok();
            }
        }
        if writes > 0 {
            let mut result = pipe.query_async::<()>(&mut conn).await;
            if let Err(e) = &result
                && e.is_connection_dropped()
                && !e.is_timeout()
            {
                // Once more, on the connection the manager makes anew (a batch is refused by a
                // dropped connection before Redis runs it; a follower would skip an event it
                // already has, by its number, and so does a replay). Not after a timeout:
                // Redis may still run the first one.
                result = pipe.query_async::<()>(&mut conn).await;
            }
            match result {
                Ok(()) => {
                    if failing {
                        tracing::info!("writing stream events to Redis again");
                        failing = false;
                    }
                    sent = Ok(());
                }
                Err(e) => {
                    counts.failed.fetch_add(writes as u64, Ordering::Relaxed);
                    let error = RedisWriteError::Redis {
                        writes,
                        source: Arc::new(e),
                    };
                    if !failing {
                        tracing::warn!(%error, "could not write stream events to Redis (their clients got them; a resume will miss them)");
                    }
                    failing = true;
                    sent = Err(error);
                }
            }
        }
        drop(rooms);
        for done in flushes {
            let _ = done.send(sent.clone());
        }
    }
}
