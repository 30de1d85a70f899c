//! `mcp-fuzz`: fuzzes every target with a fixed seed and budget, prints the execution counts,
//! and exits non-zero if any input failed (the failing inputs are saved for replay).
//!
//! Run with: `cargo run -p mcp-fuzz -- [--seed N] [--scale F] [--crashes DIR] [TARGET...]`

use std::path::PathBuf;
use std::process::ExitCode;

use mcp_fuzz::{Harness, Target, fuzz};

/// Executions per target at scale 1: the parsers are cheap, the servers are not.
fn budget(target: Target) -> u64 {
    match target {
        Target::JsonRpc => 100_000,
        Target::Sse => 100_000,
        Target::Stdio => 5_000,
        Target::Http => 5_000,
    }
}

const USAGE: &str =
    "usage: mcp-fuzz [--seed N] [--scale F] [--crashes DIR] [jsonrpc|sse|stdio|http ...]";

fn main() -> ExitCode {
    let mut seed: u64 = 1;
    let mut scale: f64 = 1.0;
    let mut crash_dir = PathBuf::from("target/fuzz-crashes");
    let mut chosen = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--seed" => seed = value("--seed").parse().expect("--seed takes a number"),
            "--scale" => scale = value("--scale").parse().expect("--scale takes a number"),
            "--crashes" => crash_dir = PathBuf::from(value("--crashes")),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            name => match Target::ALL.into_iter().find(|t| t.name() == name) {
                Some(target) => chosen.push(target),
                None => {
                    eprintln!("unknown argument {name:?}\n{USAGE}");
                    return ExitCode::FAILURE;
                }
            },
        }
    }
    if chosen.is_empty() {
        chosen = Target::ALL.to_vec();
    }
    let mut harness = Harness::new();
    let mut total = 0;
    let mut failed = 0;
    for target in chosen {
        let execs = ((budget(target) as f64) * scale).ceil() as u64;
        let started = std::time::Instant::now();
        let report = fuzz(&mut harness, target, seed, execs, &crash_dir);
        println!(
            "fuzz: {target}: {} executions, {} failures, {:.1} s",
            report.execs,
            report.failures.len(),
            started.elapsed().as_secs_f64()
        );
        total += report.execs;
        failed += report.failures.len();
    }
    println!("fuzz: seed {seed}: {total} executions in all, {failed} failures");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "fuzz: failing inputs are in {}; keep them in testdata/fuzz/crashes/ as regression tests",
            crash_dir.display()
        );
        ExitCode::FAILURE
    }
}
