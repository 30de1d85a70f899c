//! The public faces of a cluster run: [`SlurmRun`] (one job) and [`SlurmArray`] (one job
//! array), each a [`Stream`] of events fed by a watcher task.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::SlurmConfig;
use super::job::{JobFile, submit};
use super::watch::Watch;
use crate::batch::BatchOptions;
use crate::config::StataConfig;
use crate::job::{JobSource, job_dir};
use crate::outcome::{RunError, RunEvent, RunOutcome};

/// A batch run submitted to Slurm: a [`Stream`] of [`RunEvent`]s (the job's queue state as
/// [`RunEvent::Status`], then its log lines) ending with [`RunEvent::Finished`], whose outcome
/// carries the [`ClusterJob`](crate::ClusterJob).
///
/// Cancelling it, its timeout, or dropping it before the end `scancel`s the job and waits until
/// Slurm has let it go.
#[derive(Debug)]
pub struct SlurmRun {
    events: mpsc::Receiver<(usize, RunEvent)>,
    cancel: CancellationToken,
    job_id: String,
    job_dir: PathBuf,
    total: usize,
}

impl SlurmRun {
    /// Submits the do-file `do_file`.
    pub async fn start(
        stata: &StataConfig,
        slurm: &SlurmConfig,
        do_file: &Path,
        options: BatchOptions,
    ) -> Result<SlurmRun, RunError> {
        let dir = job_dir(&stata.jobs_dir, "slurm")?;
        let job = JobSource::file(do_file, options.working_dir.clone(), &dir).await?;
        SlurmRun::submit(stata, slurm, dir, &job, options).await
    }

    /// Submits `code` (do-file lines).
    pub async fn start_code(
        stata: &StataConfig,
        slurm: &SlurmConfig,
        code: &str,
        options: BatchOptions,
    ) -> Result<SlurmRun, RunError> {
        let dir = job_dir(&stata.jobs_dir, "slurm")?;
        let job = JobSource::code(code, options.working_dir.clone(), &dir)?;
        SlurmRun::submit(stata, slurm, dir, &job, options).await
    }

    async fn submit(
        stata: &StataConfig,
        slurm: &SlurmConfig,
        dir: PathBuf,
        job: &JobSource,
        options: BatchOptions,
    ) -> Result<SlurmRun, RunError> {
        let sets = std::slice::from_ref(&options.args);
        let file = submit(stata, slurm, &dir, job, sets, None).await?;
        Ok(SlurmRun::follow(stata, slurm, dir, file, options.timeout))
    }

    /// Follows again the job submitted into `job_dir` (by this server or one before it), from
    /// what its directory holds: its state, the rest of its log, its outcome. `timeout` (from
    /// now) cancels it.
    pub fn attach(
        stata: &StataConfig,
        slurm: &SlurmConfig,
        job_dir: &Path,
        timeout: Option<Duration>,
    ) -> Result<SlurmRun, RunError> {
        let file = JobFile::load(job_dir)?;
        Ok(SlurmRun::follow(
            stata,
            slurm,
            job_dir.to_path_buf(),
            file,
            timeout,
        ))
    }

    fn follow(
        stata: &StataConfig,
        slurm: &SlurmConfig,
        job_dir: PathBuf,
        file: JobFile,
        timeout: Option<Duration>,
    ) -> SlurmRun {
        let (events, cancel, job_id, total) = spawn_watch(stata, slurm, file, timeout);
        SlurmRun {
            events,
            cancel,
            job_id,
            job_dir,
            total,
        }
    }

    /// The Slurm job id.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The job's directory (on the shared filesystem).
    pub fn job_dir(&self) -> &Path {
        &self.job_dir
    }

    /// How many commands the do-file holds.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Cancels the job (`scancel`); it finishes as [`RunStatus::Cancelled`](crate::RunStatus).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The token that cancels this run.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// The next event; `None` after [`RunEvent::Finished`].
    pub async fn next_event(&mut self) -> Option<RunEvent> {
        self.events.recv().await.map(|(_, event)| event)
    }

    /// Waits for the end, skipping the other events.
    pub async fn finish(mut self) -> Result<RunOutcome, RunError> {
        while let Some(event) = self.next_event().await {
            if let RunEvent::Finished(result) = event {
                return result;
            }
        }
        Err(RunError::Cluster(
            "the job's watcher ended without an outcome".to_owned(),
        ))
    }
}

/// Starts following `file`'s job: its events, the token that cancels it, its id, and how many
/// commands its do-file holds.
fn spawn_watch(
    stata: &StataConfig,
    slurm: &SlurmConfig,
    file: JobFile,
    timeout: Option<Duration>,
) -> (
    mpsc::Receiver<(usize, RunEvent)>,
    CancellationToken,
    String,
    usize,
) {
    let (tx, events) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let job_id = file.job_id.clone();
    let deadline = timeout.map(|t| Instant::now() + t);
    let watch = Watch::new(stata, slurm, file, tx, cancel.clone(), deadline);
    let total = watch.total(0);
    tokio::spawn(watch.run());
    (events, cancel, job_id, total)
}

impl Stream for SlurmRun {
    type Item = RunEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RunEvent>> {
        self.events.poll_recv(cx).map(|e| e.map(|(_, event)| event))
    }
}

/// Options of an array run.
#[derive(Clone, Debug, Default)]
pub struct ArrayOptions {
    /// The directory the do-file runs in (default: its own directory).
    pub working_dir: Option<PathBuf>,
    /// Stop every element still going after this long.
    pub timeout: Option<Duration>,
    /// At most this many elements run at once (Slurm's `%N`); default: as many as the cluster
    /// allows.
    pub max_parallel: Option<usize>,
}

/// One do-file over a list of parameter sets, as a Slurm job array: a [`Stream`] of
/// `(element, event)`, each element's events as a [`SlurmRun`]'s; it ends after every element's
/// [`RunEvent::Finished`].
#[derive(Debug)]
pub struct SlurmArray {
    events: mpsc::Receiver<(usize, RunEvent)>,
    cancel: CancellationToken,
    job_id: String,
    job_dir: PathBuf,
    len: usize,
    total: usize,
}

impl SlurmArray {
    /// Submits `do_file` once per parameter set (its arguments), as one job array.
    pub async fn start(
        stata: &StataConfig,
        slurm: &SlurmConfig,
        do_file: &Path,
        sets: &[Vec<String>],
        options: ArrayOptions,
    ) -> Result<SlurmArray, RunError> {
        let dir = job_dir(&stata.jobs_dir, "slurm")?;
        let job = JobSource::file(do_file, options.working_dir.clone(), &dir).await?;
        let file = submit(stata, slurm, &dir, &job, sets, Some(options.max_parallel)).await?;
        let (events, cancel, job_id, _) = spawn_watch(stata, slurm, file, options.timeout);
        Ok(SlurmArray {
            events,
            cancel,
            job_id,
            job_dir: dir,
            len: sets.len(),
            total: job.total(),
        })
    }

    /// The array job's id (element `k` is `<id>_<k>`).
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The job's directory.
    pub fn job_dir(&self) -> &Path {
        &self.job_dir
    }

    /// How many elements it has.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no elements (never: an array has at least one).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many commands the do-file holds.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Cancels every element still going (`scancel`).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The next event; `None` after every element finished.
    pub async fn next_event(&mut self) -> Option<(usize, RunEvent)> {
        self.events.recv().await
    }
}

impl Stream for SlurmArray {
    type Item = (usize, RunEvent);

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, RunEvent)>> {
        self.events.poll_recv(cx)
    }
}
