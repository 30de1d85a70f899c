//! A Slurm job's directory: one subdirectory per element (`el-0`, `el-1`, ...) holding its
//! wrapper do-file, Stata's log, Slurm's output file (Stata's standard output and error) and the
//! exit status the job script writes; the job script; and `job.json`, everything needed to
//! follow the job again from the directory alone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{SlurmConfig, arg, slurm};
use crate::config::{StataConfig, unique_token};
use crate::job::{JobSource, Wrapper, write_file};
use crate::outcome::RunError;
use crate::quote::PathStyle;

/// The file in the job directory that describes the job.
const JOB_FILE: &str = "job.json";
/// The file in an element's directory where the job script writes Stata's exit status.
pub(crate) const EXIT_FILE: &str = "stata.exit";
/// Slurm's output file in an element's directory.
pub(crate) const OUTPUT_FILE: &str = "slurm.out";

/// A submitted job, as `job.json` records it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct JobFile {
    /// The job id `sbatch` gave (the array job's id for an array).
    pub(crate) job_id: String,
    /// Whether it was submitted as a job array.
    pub(crate) array: bool,
    /// Its elements (one for a plain job).
    pub(crate) elements: Vec<ElementFile>,
}

/// One element of a job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ElementFile {
    /// Its index (`SLURM_ARRAY_TASK_ID`; 0 for a plain job).
    pub(crate) index: usize,
    /// Its directory.
    pub(crate) dir: PathBuf,
    /// Stata's log.
    pub(crate) log: PathBuf,
    /// The wrapper's `do` line.
    pub(crate) do_command: String,
    /// The do-file it runs.
    pub(crate) source: PathBuf,
    /// Where it runs.
    pub(crate) working_dir: PathBuf,
    /// The do-file's arguments.
    pub(crate) args: Vec<String>,
}

impl ElementFile {
    /// Its job id: `12`, or `12_3` for element 3 of array job 12.
    pub(crate) fn job_id(&self, job: &JobFile) -> String {
        if job.array {
            format!("{}_{}", job.job_id, self.index)
        } else {
            job.job_id.clone()
        }
    }
}

impl JobFile {
    /// The job described in `job_dir`.
    pub(crate) fn load(job_dir: &Path) -> Result<JobFile, RunError> {
        let path = job_dir.join(JOB_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| RunError::Job {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| RunError::Job {
            path,
            source: std::io::Error::other(e),
        })
    }

    fn save(&self, job_dir: &Path) -> Result<(), RunError> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        write_file(job_dir, &job_dir.join(JOB_FILE), text.as_bytes())
    }
}

/// `text` as one word of a POSIX shell script.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The job script: in element `$SLURM_ARRAY_TASK_ID`'s directory (0 for a plain job), Stata in
/// batch mode on the wrapper; Stata's exit status is recorded, then becomes the job's.
fn script(job_dir: &Path, stata: &Path, wrapper: &str) -> String {
    format!(
        "#!/bin/sh\n\
         # Submitted by mcp-stata: Stata in batch mode on one wrapper do-file per element.\n\
         cd {dir}/el-\"${{SLURM_ARRAY_TASK_ID:-0}}\" || exit 1\n\
         {stata} -b -q do {wrapper}\n\
         status=$?\n\
         echo \"$status\" > {EXIT_FILE}\n\
         exit \"$status\"\n",
        dir = sh_quote(&job_dir.to_string_lossy()),
        stata = sh_quote(&stata.to_string_lossy()),
        wrapper = sh_quote(wrapper),
    )
}

/// Writes the job into `job_dir` (one element per parameter set) and submits it; `array` makes it
/// a job array even with one element.
pub(crate) async fn submit(
    stata: &StataConfig,
    config: &SlurmConfig,
    job_dir: &Path,
    job: &JobSource,
    sets: &[Vec<String>],
    array: Option<Option<usize>>,
) -> Result<JobFile, RunError> {
    let stem = format!("mcp_{}", unique_token());
    let mut elements = Vec::with_capacity(sets.len());
    let mut wrapper_name = String::new();
    for (index, args) in sets.iter().enumerate() {
        let dir = job_dir.join(format!("el-{index}"));
        let wrapper = Wrapper::write_as(&dir, &stem, job, args, PathStyle::Unix)?;
        elements.push(ElementFile {
            index,
            log: dir.join(&wrapper.log_name),
            dir,
            do_command: wrapper.do_command,
            source: job.source.clone(),
            working_dir: job.working_dir.clone(),
            args: args.clone(),
        });
        wrapper_name = wrapper.file_name;
    }
    let script_path = job_dir.join("job.sh");
    write_file(
        job_dir,
        &script_path,
        script(job_dir, &stata.executable.path, &wrapper_name).as_bytes(),
    )?;
    let mut args: Vec<OsString> = vec![
        arg("--parsable"),
        arg(format!("--job-name={}", config.job_name)),
        arg(format!("--chdir={}", job_dir.display())),
    ];
    match array {
        Some(throttle) => {
            let mut spec = format!("--array=0-{}", sets.len().saturating_sub(1));
            if let Some(max) = throttle {
                spec.push_str(&format!("%{max}"));
            }
            args.push(arg(spec));
            args.push(arg(format!(
                "--output={}/el-%a/{OUTPUT_FILE}",
                job_dir.display()
            )));
        }
        None => args.push(arg(format!(
            "--output={}/el-0/{OUTPUT_FILE}",
            job_dir.display()
        ))),
    }
    if let Some(partition) = &config.partition {
        args.push(arg(format!("--partition={partition}")));
    }
    args.extend(config.sbatch_args.iter().map(arg));
    args.push(script_path.into_os_string());
    let printed = slurm("sbatch", &args, &stata.env)
        .await
        .map_err(RunError::Cluster)?;
    // `--parsable` prints `id` or `id;cluster`.
    let job_id = printed
        .trim()
        .split(';')
        .next()
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            RunError::Cluster(format!("sbatch printed no job id: {:?}", printed.trim()))
        })?
        .to_owned();
    let file = JobFile {
        job_id,
        array: array.is_some(),
        elements,
    };
    file.save(job_dir)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_quotes_its_paths() {
        let text = script(
            Path::new("/jobs/it's here"),
            Path::new("/usr/local/stata18/stata-mp"),
            "mcp_1.do",
        );
        assert!(
            text.contains("cd '/jobs/it'\\''s here'/el-\"${SLURM_ARRAY_TASK_ID:-0}\" || exit 1\n"),
            "{text}"
        );
        assert!(text.contains("'/usr/local/stata18/stata-mp' -b -q do 'mcp_1.do'\n"));
        assert!(text.ends_with("exit \"$status\"\n"));
    }
}
