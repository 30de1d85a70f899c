//! Preparing a batch job, wherever it runs: the do-file to run (the user's, a copy without a
//! byte-order mark, or a file holding code), its commands, and the uniquely named wrapper
//! do-file that `cd`s to the working directory and `do`es it with its arguments.

use std::path::{Path, PathBuf};

use crate::config::{create_job_dir, unique_token};
use crate::dofile::{self, Command};
use crate::outcome::RunError;
use crate::quote::{PathStyle, quote, quote_path};

/// What a batch job runs.
#[derive(Clone, Debug)]
pub(crate) struct JobSource {
    /// The do-file to `do`.
    pub(crate) source: PathBuf,
    /// Where it runs.
    pub(crate) working_dir: PathBuf,
    /// Its commands.
    pub(crate) commands: Vec<Command>,
}

impl JobSource {
    /// The user's do-file `do_file`; `working_dir` defaults to its own directory. A copy without
    /// a byte-order mark goes into `job_dir` when it has one (Stata on Windows reads the mark as
    /// part of the first command and fails with r(199)).
    pub(crate) async fn file(
        do_file: &Path,
        working_dir: Option<PathBuf>,
        job_dir: &Path,
    ) -> Result<JobSource, RunError> {
        let do_file = std::path::absolute(do_file).map_err(|source| RunError::DoFile {
            path: do_file.to_path_buf(),
            source,
        })?;
        let bytes = tokio::fs::read(&do_file)
            .await
            .map_err(|source| RunError::DoFile {
                path: do_file.clone(),
                source,
            })?;
        let text = String::from_utf8_lossy(dofile::strip_bom(&bytes)).into_owned();
        let source = if bytes.starts_with(dofile::BOM) {
            let copy_dir = job_dir.join("src");
            let name = do_file.file_name().unwrap_or("source.do".as_ref());
            let copy = copy_dir.join(name);
            write_file(&copy_dir, &copy, text.as_bytes())?;
            copy
        } else {
            do_file.clone()
        };
        let working_dir = match working_dir {
            Some(dir) => dir,
            None => do_file
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        };
        Ok(JobSource {
            source,
            working_dir: absolute(&working_dir)?,
            commands: dofile::commands(&text),
        })
    }

    /// `code` (do-file lines), written to `code.do` in `job_dir`; `working_dir` defaults to the
    /// current directory.
    pub(crate) fn code(
        code: &str,
        working_dir: Option<PathBuf>,
        job_dir: &Path,
    ) -> Result<JobSource, RunError> {
        let code = code.strip_prefix('\u{feff}').unwrap_or(code);
        let source = job_dir.join("code.do");
        let mut text = code.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        write_file(job_dir, &source, text.as_bytes())?;
        let working_dir = match working_dir {
            Some(dir) => dir,
            None => std::env::current_dir().map_err(RunError::Io)?,
        };
        Ok(JobSource {
            source,
            working_dir: absolute(&working_dir)?,
            commands: dofile::commands(&text),
        })
    }

    /// How many commands it holds.
    pub(crate) fn total(&self) -> usize {
        self.commands.len()
    }
}

fn absolute(dir: &Path) -> Result<PathBuf, RunError> {
    std::path::absolute(dir).map_err(RunError::Io)
}

/// A wrapper do-file written into a job directory.
#[derive(Clone, Debug)]
pub(crate) struct Wrapper {
    /// Its file name (`mcp_<token>.do`), to pass to `stata -b do`.
    pub(crate) file_name: String,
    /// The log Stata writes for it (`mcp_<token>.log`, in the directory Stata starts in).
    pub(crate) log_name: String,
    /// Its `do` line, whose echo starts the user's part of the log.
    pub(crate) do_command: String,
}

impl Wrapper {
    /// Writes the wrapper for `job` with `args` into `dir`, under a new unique name.
    pub(crate) fn write(
        dir: &Path,
        job: &JobSource,
        args: &[String],
        style: PathStyle,
    ) -> Result<Wrapper, RunError> {
        Wrapper::write_as(dir, &format!("mcp_{}", unique_token()), job, args, style)
    }

    /// Writes the wrapper for `job` with `args` into `dir` as `<stem>.do`.
    pub(crate) fn write_as(
        dir: &Path,
        stem: &str,
        job: &JobSource,
        args: &[String],
        style: PathStyle,
    ) -> Result<Wrapper, RunError> {
        let (text, do_command) = wrapper_text(&job.working_dir, &job.source, args, style)?;
        let file_name = format!("{stem}.do");
        write_file(dir, &dir.join(&file_name), text.as_bytes())?;
        Ok(Wrapper {
            file_name,
            log_name: format!("{stem}.log"),
            do_command,
        })
    }
}

/// The wrapper do-file's text (go to the working directory, run the user's file with its
/// arguments), and its `do` line.
pub fn wrapper_text(
    working_dir: &Path,
    do_file: &Path,
    args: &[String],
    style: PathStyle,
) -> Result<(String, String), RunError> {
    let mut do_command = format!("do {}", quote_path(do_file, style)?);
    for arg in args {
        do_command.push(' ');
        do_command.push_str(&quote(arg)?);
    }
    let text = format!("cd {}\n{do_command}\n", quote_path(working_dir, style)?);
    Ok((text, do_command))
}

/// A new job directory under `jobs_dir`.
pub(crate) fn job_dir(jobs_dir: &Path, prefix: &str) -> Result<PathBuf, RunError> {
    create_job_dir(jobs_dir, prefix).map_err(|source| RunError::Job {
        path: jobs_dir.to_path_buf(),
        source,
    })
}

pub(crate) fn write_file(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(path, bytes))
        .map_err(|source| RunError::Job {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_quotes_paths_and_args() {
        let (text, do_command) = wrapper_text(
            Path::new("/data/my dir"),
            Path::new("/data/my dir/say \"hi\".do"),
            &["a b".to_owned(), "$x".to_owned()],
            PathStyle::Unix,
        )
        .unwrap();
        assert_eq!(
            text,
            "cd \"/data/my dir\"\ndo `\"/data/my dir/say \"hi\".do\"' \"a b\" \"\\$x\"\n"
        );
        assert_eq!(text.lines().nth(1), Some(do_command.as_str()));
        let (text, _) = wrapper_text(
            Path::new(r"C:\Users\Ann\proj"),
            Path::new(r"C:\Users\Ann\proj\run.do"),
            &[],
            PathStyle::Windows,
        )
        .unwrap();
        assert_eq!(
            text,
            "cd \"C:/Users/Ann/proj\"\ndo \"C:/Users/Ann/proj/run.do\"\n"
        );
    }
}
