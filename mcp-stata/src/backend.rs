//! Where batch runs go: Stata on this machine ([`Backend::Local`]) or a Slurm cluster
//! ([`Backend::Slurm`]). Sessions always run on this machine.
//!
//! Both give the same events: a [`Run`] is a [`Stream`] of [`RunEvent`]s ending with the
//! outcome; an [`ArrayRun`] runs one do-file over parameter sets, as `(element, event)` pairs
//! (on Slurm a job array; here, up to `max_parallel` runs at once).

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::StreamExt;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::batch::{BatchOptions, BatchRun};
use crate::config::StataConfig;
use crate::outcome::{RunError, RunEvent};
use crate::slurm::{ArrayOptions, SlurmArray, SlurmConfig, SlurmRun};

/// Where batch runs go.
#[derive(Clone, Debug, Default)]
pub enum Backend {
    /// Stata on this machine.
    #[default]
    Local,
    /// `sbatch` to a Slurm cluster that shares the jobs directory with this machine.
    Slurm(SlurmConfig),
}

impl Backend {
    /// `local` or `slurm`.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Local => "local",
            Backend::Slurm(_) => "slurm",
        }
    }

    /// Starts running the do-file `do_file`.
    pub async fn start_file(
        &self,
        stata: &StataConfig,
        do_file: &Path,
        options: BatchOptions,
    ) -> Result<Run, RunError> {
        match self {
            Backend::Local => Ok(Run::Local(BatchRun::start(stata, do_file, options).await?)),
            Backend::Slurm(slurm) => Ok(Run::Slurm(
                SlurmRun::start(stata, slurm, do_file, options).await?,
            )),
        }
    }

    /// Starts running `code`.
    pub async fn start_code(
        &self,
        stata: &StataConfig,
        code: &str,
        options: BatchOptions,
    ) -> Result<Run, RunError> {
        match self {
            Backend::Local => Ok(Run::Local(
                BatchRun::start_code(stata, code, options).await?,
            )),
            Backend::Slurm(slurm) => Ok(Run::Slurm(
                SlurmRun::start_code(stata, slurm, code, options).await?,
            )),
        }
    }

    /// Starts running `do_file` once per parameter set.
    pub async fn start_array(
        &self,
        stata: &StataConfig,
        do_file: &Path,
        sets: &[Vec<String>],
        options: ArrayOptions,
    ) -> Result<ArrayRun, RunError> {
        match self {
            Backend::Local => Ok(ArrayRun::Local(
                LocalArray::start(stata, do_file, sets, options).await?,
            )),
            Backend::Slurm(slurm) => Ok(ArrayRun::Slurm(
                SlurmArray::start(stata, slurm, do_file, sets, options).await?,
            )),
        }
    }
}

/// A batch run on either backend.
#[derive(Debug)]
pub enum Run {
    /// On this machine.
    Local(BatchRun),
    /// On the cluster.
    Slurm(SlurmRun),
}

impl Run {
    /// Stops the run.
    pub fn cancel(&self) {
        match self {
            Run::Local(run) => run.cancel(),
            Run::Slurm(run) => run.cancel(),
        }
    }
}

impl Stream for Run {
    type Item = RunEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RunEvent>> {
        match self.get_mut() {
            Run::Local(run) => Pin::new(run).poll_next(cx),
            Run::Slurm(run) => Pin::new(run).poll_next(cx),
        }
    }
}

/// An array run on either backend.
#[derive(Debug)]
pub enum ArrayRun {
    /// On this machine.
    Local(LocalArray),
    /// A Slurm job array.
    Slurm(SlurmArray),
}

impl ArrayRun {
    /// Stops every element still going.
    pub fn cancel(&self) {
        match self {
            ArrayRun::Local(run) => run.cancel(),
            ArrayRun::Slurm(run) => run.cancel(),
        }
    }
}

impl Stream for ArrayRun {
    type Item = (usize, RunEvent);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<(usize, RunEvent)>> {
        match self.get_mut() {
            ArrayRun::Local(run) => run.events.poll_recv(cx),
            ArrayRun::Slurm(run) => Pin::new(run).poll_next(cx),
        }
    }
}

/// One do-file over parameter sets on this machine: batch runs, at most `max_parallel` (default
/// 1) at once, each element's events tagged with its index.
#[derive(Debug)]
pub struct LocalArray {
    events: mpsc::Receiver<(usize, RunEvent)>,
    cancel: CancellationToken,
}

impl LocalArray {
    /// Starts the runs (the first ones at once, the others as places free up).
    pub async fn start(
        stata: &StataConfig,
        do_file: &Path,
        sets: &[Vec<String>],
        options: ArrayOptions,
    ) -> Result<LocalArray, RunError> {
        tokio::fs::metadata(do_file)
            .await
            .map_err(|source| RunError::DoFile {
                path: do_file.to_path_buf(),
                source,
            })?;
        let (tx, events) = mpsc::channel(64);
        let cancel = CancellationToken::new();
        let places = Arc::new(Semaphore::new(options.max_parallel.unwrap_or(1).max(1)));
        let deadline = options.timeout.map(|t| tokio::time::Instant::now() + t);
        for (index, args) in sets.iter().enumerate() {
            let tx = tx.clone();
            let places = Arc::clone(&places);
            let cancel = cancel.clone();
            let stata = stata.clone();
            let do_file = do_file.to_path_buf();
            let run_options = BatchOptions {
                working_dir: options.working_dir.clone(),
                args: args.clone(),
                timeout: None,
            };
            tokio::spawn(async move {
                let _ = tx
                    .send((index, RunEvent::Status(format!("run {index} is waiting"))))
                    .await;
                let place = tokio::select! {
                    place = places.acquire_owned() => place,
                    () = cancel.cancelled() => return,
                };
                let Ok(_place) = place else {
                    return;
                };
                let mut run_options = run_options;
                if let Some(deadline) = deadline {
                    run_options.timeout =
                        Some(deadline.saturating_duration_since(tokio::time::Instant::now()));
                }
                let mut run = match BatchRun::start(&stata, &do_file, run_options).await {
                    Ok(run) => run,
                    Err(e) => {
                        let _ = tx.send((index, RunEvent::Finished(Err(e)))).await;
                        return;
                    }
                };
                let _ = tx
                    .send((index, RunEvent::Status(format!("run {index} is running"))))
                    .await;
                let stop = run.cancel_token();
                let mut stopping = false;
                loop {
                    tokio::select! {
                        () = cancel.cancelled(), if !stopping => {
                            stop.cancel();
                            stopping = true;
                        }
                        event = run.next() => match event {
                            Some(event) => {
                                let last = matches!(event, RunEvent::Finished(_));
                                if tx.send((index, event)).await.is_err() || last {
                                    return;
                                }
                            }
                            None => return,
                        },
                    }
                }
            });
        }
        Ok(LocalArray { events, cancel })
    }

    /// Stops every run still going.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}
