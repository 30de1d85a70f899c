//! Following a submitted job: where each element stands (from `scontrol`, every
//! [`SlurmConfig::poll`]), every line of each running element's log (as often as a local run's),
//! and each element's outcome once Slurm is done with it. Cancelling, a timeout or a receiver
//! that goes away `scancel`s the job and waits until Slurm has let it go.

use std::path::Path;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::job::{EXIT_FILE, ElementFile, JobFile, OUTPUT_FILE};
use super::scontrol::{self, JobRecord, ended_by_cluster, is_terminal};
use super::{SlurmConfig, arg, slurm};
use crate::config::StataConfig;
use crate::dofile;
use crate::follow::{Interrupt, LogFollower, STDERR_TAIL, sleep_until, tail_of};
use crate::logparse::LogParser;
use crate::outcome::{ClusterJob, Death, RunEvent, RunStatus};
use crate::process::ExitInfo;

/// One element being followed.
struct Element {
    file: ElementFile,
    job_id: String,
    follower: LogFollower,
    record: Option<JobRecord>,
    /// Slurm no longer knows the job (it ended more than `MinJobAge` ago).
    purged: bool,
    /// It has been seen running (its log may grow).
    ran: bool,
    announced: String,
}

impl Element {
    fn state(&self) -> &str {
        self.record.as_ref().map_or("", |r| r.state.as_str())
    }

    fn done(&self) -> bool {
        self.purged || is_terminal(self.state())
    }

    /// What to tell about where it stands, if anything.
    fn status_text(&self) -> Option<String> {
        let record = self.record.as_ref()?;
        let id = &self.job_id;
        Some(match record.state.as_str() {
            "PENDING" => match record.reason.as_str() {
                "" | "None" => format!("Slurm job {id} is pending"),
                reason => format!("Slurm job {id} is pending ({reason})"),
            },
            "RUNNING" => match &record.node {
                Some(node) => format!("Slurm job {id} is running on {node}"),
                None => format!("Slurm job {id} is running"),
            },
            "COMPLETING" | "CONFIGURING" => return None,
            state if is_terminal(state) => format!("Slurm job {id} ended: {state}"),
            state => format!("Slurm job {id} is {}", state.to_lowercase()),
        })
    }
}

/// The follower of one job.
pub(crate) struct Watch {
    job: JobFile,
    elements: Vec<Element>,
    tx: mpsc::Sender<(usize, RunEvent)>,
    cancel: CancellationToken,
    deadline: Option<Instant>,
    env: Vec<(String, String)>,
    poll: Duration,
    log_poll: Duration,
    cancel_wait: Duration,
    max_graph_bytes: u64,
}

impl Watch {
    pub(crate) fn new(
        stata: &StataConfig,
        config: &SlurmConfig,
        job: JobFile,
        tx: mpsc::Sender<(usize, RunEvent)>,
        cancel: CancellationToken,
        deadline: Option<Instant>,
    ) -> Watch {
        let elements = job
            .elements
            .iter()
            .map(|file| {
                let text = std::fs::read(&file.source)
                    .map(|b| String::from_utf8_lossy(dofile::strip_bom(&b)).into_owned())
                    .unwrap_or_default();
                let commands = dofile::commands(&text);
                let total = commands.len();
                let parser =
                    LogParser::batch(&file.working_dir, &file.do_command).with_commands(commands);
                Element {
                    job_id: file.job_id(&job),
                    follower: LogFollower::new(&file.log, parser, stata.tail_lines, total),
                    file: file.clone(),
                    record: None,
                    purged: false,
                    ran: false,
                    announced: String::new(),
                }
            })
            .collect();
        Watch {
            job,
            elements,
            tx,
            cancel,
            deadline,
            env: stata.env.clone(),
            poll: config.poll,
            log_poll: stata.poll_interval,
            cancel_wait: config.cancel_wait,
            max_graph_bytes: stata.max_graph_bytes,
        }
    }

    /// How many commands element `index`'s do-file holds.
    pub(crate) fn total(&self, index: usize) -> usize {
        self.elements.get(index).map_or(0, |e| e.follower.total())
    }

    pub(crate) async fn run(mut self) {
        let forced = match self.follow().await {
            Ok(()) => None,
            Err(Interrupt::Cancelled) => Some(RunStatus::Cancelled),
            Err(Interrupt::TimedOut) => Some(RunStatus::TimedOut),
            Err(Interrupt::ReceiverGone) => {
                self.scancel_and_wait().await;
                return;
            }
        };
        if forced.is_some() {
            self.scancel_and_wait().await;
        }
        for index in 0..self.elements.len() {
            self.finish(index, forced.clone()).await;
        }
    }

    /// Follows states and logs until every element is done.
    async fn follow(&mut self) -> Result<(), Interrupt> {
        let mut next_poll = Instant::now();
        loop {
            if Instant::now() >= next_poll {
                self.poll_state().await;
                self.announce().await?;
                next_poll = Instant::now() + self.poll;
                if self.elements.iter().all(Element::done) {
                    return Ok(());
                }
            }
            for (index, element) in self.elements.iter_mut().enumerate() {
                if element.ran {
                    element
                        .follower
                        .pump(&self.tx, |e| (index, e), &self.cancel, self.deadline)
                        .await?;
                }
            }
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(Interrupt::Cancelled),
                () = self.tx.closed() => return Err(Interrupt::ReceiverGone),
                () = sleep_until(self.deadline) => return Err(Interrupt::TimedOut),
                () = tokio::time::sleep(self.log_poll) => {}
            }
        }
    }

    /// Asks `scontrol` where the job stands.
    async fn poll_state(&mut self) {
        let args = [arg("-o"), arg("show"), arg("job"), arg(&self.job.job_id)];
        match slurm("scontrol", &args, &self.env).await {
            Ok(output) => self.apply(scontrol::parse(&output)),
            Err(e) if e.contains("Invalid job id") => {
                for element in &mut self.elements {
                    element.purged = true;
                }
            }
            Err(e) => tracing::warn!("cannot see Slurm job {}: {e}", self.job.job_id),
        }
    }

    fn apply(&mut self, records: Vec<JobRecord>) {
        for record in records {
            let indexes = if self.job.array {
                record.tasks.clone()
            } else if record.job_id == self.job.job_id {
                vec![0]
            } else {
                Vec::new()
            };
            for index in indexes {
                if let Some(element) = self.elements.get_mut(index) {
                    if record.state != "PENDING" {
                        element.ran = true;
                    }
                    element.record = Some(record.clone());
                }
            }
        }
    }

    /// Sends each element's state when it changed.
    async fn announce(&mut self) -> Result<(), Interrupt> {
        for (index, element) in self.elements.iter_mut().enumerate() {
            let Some(text) = element.status_text() else {
                continue;
            };
            if text == element.announced {
                continue;
            }
            element.announced = text.clone();
            self.tx
                .send((index, RunEvent::Status(text)))
                .await
                .map_err(|_| Interrupt::ReceiverGone)?;
        }
        Ok(())
    }

    /// `scancel`, then waits (bounded) until every element is done and `squeue` no longer
    /// lists the job.
    async fn scancel_and_wait(&mut self) {
        let id = self.job.job_id.clone();
        if let Err(e) = slurm("scancel", &[arg(&id)], &self.env).await {
            tracing::warn!("{e}");
        }
        let give_up = Instant::now() + self.cancel_wait;
        loop {
            self.poll_state().await;
            if self.elements.iter().all(Element::done) {
                let listed = slurm("squeue", &[arg("-h"), arg("-j"), arg(&id)], &self.env).await;
                match listed {
                    Ok(out) if out.trim().is_empty() => return,
                    Err(e) if e.contains("Invalid job id") => return,
                    _ => {}
                }
            }
            if Instant::now() >= give_up {
                tracing::warn!(
                    "Slurm job {id} was cancelled but is still listed after {} s",
                    self.cancel_wait.as_secs()
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Reads the rest of element `index`'s log and sends its outcome.
    async fn finish(&mut self, index: usize, forced: Option<RunStatus>) {
        let tx = self.tx.clone();
        let max_graph_bytes = self.max_graph_bytes;
        let element = &mut self.elements[index];
        element.follower.reopen().await;
        element.follower.drain(&tx, |e| (index, e)).await;
        let record = element.record.clone();
        let exit = exit_of(&element.file.dir, record.as_ref());
        let state = match &record {
            Some(record) => record.state.clone(),
            None => "UNKNOWN".to_owned(),
        };
        let status = match forced {
            Some(status) => status,
            None if ended_by_cluster(&state) => RunStatus::Died(Death::Cluster(state.clone())),
            None => element.follower.status(None, exit),
        };
        let stderr = std::fs::read(element.file.dir.join(OUTPUT_FILE))
            .map(|b| tail_of(&String::from_utf8_lossy(&b), STDERR_TAIL))
            .unwrap_or_default();
        let mut outcome = element
            .follower
            .outcome(status, exit, stderr, max_graph_bytes)
            .await;
        outcome.cluster = Some(ClusterJob {
            job_id: element.job_id.clone(),
            node: record.as_ref().and_then(|r| r.node.clone()),
            elapsed: record.as_ref().and_then(|r| r.run_time),
            state,
            exit_code: exit.map(|e| e.code),
            signal: exit.and_then(|e| e.signal),
        });
        let _ = tx.send((index, RunEvent::Finished(Ok(outcome)))).await;
    }
}

/// How Stata exited: the status the job script wrote (128+N for a signal, as shells report
/// it), else the job's `ExitCode` from Slurm.
fn exit_of(dir: &Path, record: Option<&JobRecord>) -> Option<ExitInfo> {
    if let Some(code) = std::fs::read_to_string(dir.join(EXIT_FILE))
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
    {
        let signal = (code > 128).then(|| code - 128);
        return Some(ExitInfo { code, signal });
    }
    let (code, signal) = record?.exit?;
    Some(if signal > 0 {
        ExitInfo {
            code: 128 + signal,
            signal: Some(signal),
        }
    } else {
        ExitInfo { code, signal: None }
    })
}
