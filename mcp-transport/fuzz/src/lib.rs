//! Mutation fuzzing of the transports on stable Rust, in process, with a fixed seed and budget.
//!
//! Each [`Target`] starts from its corpus of valid inputs (`testdata/fuzz/corpus/<target>/`),
//! then runs mutations of them ([`mutate`](mutate::mutate)) drawn from a seeded generator: a
//! run is the same on every machine. Every input must leave the target without a panic and
//! with its property holding (see [`targets`]). An input that fails is written to the crash
//! directory; kept in `testdata/fuzz/crashes/`, it becomes a regression test (the `regressions`
//! test replays the corpus and every kept crash).
//!
//! Run with: `cargo run -p mcp-fuzz -- --seed 1` (see `--help` for the budget).

pub mod mutate;
pub mod rng;
pub mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

pub use targets::{Failure, Harness, Target};

use rng::Rng;

/// The repository's fuzz data: `corpus/<target>/` and `crashes/`.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fuzz")
}

/// The files of a directory, sorted by name (empty if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The corpus of `target`: its valid inputs, as stored.
pub fn corpus(target: Target) -> Vec<(PathBuf, Vec<u8>)> {
    read_all(files(&data_dir().join("corpus").join(target.name())))
}

/// The kept failing inputs of `target` (`crashes/<target>-*`).
pub fn crashes(target: Target) -> Vec<(PathBuf, Vec<u8>)> {
    let prefix = format!("{}-", target.name());
    let kept = files(&data_dir().join("crashes"))
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .collect();
    read_all(kept)
}

fn read_all(paths: Vec<PathBuf>) -> Vec<(PathBuf, Vec<u8>)> {
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

/// What one input did.
pub enum Outcome {
    /// Every property held.
    Passed,
    /// A property failed, or the target panicked.
    Failed(String),
}

/// Runs one input, catching a panic. After a panic the harness is rebuilt.
pub fn run_one(harness: &mut Harness, target: Target, input: &[u8]) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| harness.exec(target, input))) {
        Ok(Ok(())) => Outcome::Passed,
        Ok(Err(failure)) => Outcome::Failed(failure.0),
        Err(panic) => {
            *harness = Harness::new();
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            Outcome::Failed(format!("panicked: {why}"))
        }
    }
}

/// The result of fuzzing one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The target.
    pub target: Target,
    /// How many inputs ran (corpus included).
    pub execs: u64,
    /// The failing inputs, written to the crash directory.
    pub failures: Vec<PathBuf>,
}

/// A name for an input that is the same wherever it is found (FNV-1a).
fn fingerprint(input: &[u8]) -> u64 {
    input.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Fuzzes `target` with `execs` inputs (the corpus first, then mutations drawn from `seed`);
/// failing inputs go to `crash_dir`.
pub fn fuzz(
    harness: &mut Harness,
    target: Target,
    seed: u64,
    execs: u64,
    crash_dir: &Path,
) -> Report {
    let corpus: Vec<Vec<u8>> = corpus(target)
        .into_iter()
        .map(|(_, bytes)| harness.prepare(target, &bytes))
        .collect();
    assert!(!corpus.is_empty(), "the {target} corpus is empty");
    let mut rng = Rng::new(seed ^ fingerprint(target.name().as_bytes()));
    let mut failures = Vec::new();
    for i in 0..execs {
        let input = match corpus.get(i as usize) {
            Some(valid) => valid.clone(),
            None => {
                let base = &corpus[rng.below(corpus.len())];
                mutate::mutate(&mut rng, base, &corpus)
            }
        };
        if let Outcome::Failed(why) = run_one(harness, target, &input) {
            let _ = std::fs::create_dir_all(crash_dir);
            let path = crash_dir.join(format!("{target}-{:016x}", fingerprint(&input)));
            let _ = std::fs::write(&path, &input);
            eprintln!(
                "fuzz: {target}: input {i} failed: {why}\n  saved as {}",
                path.display()
            );
            failures.push(path);
        }
    }
    Report {
        target,
        execs,
        failures,
    }
}
