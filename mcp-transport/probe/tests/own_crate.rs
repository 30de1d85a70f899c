//! The guide's "Your own server crate", built as a reader would build it: the page's
//! `Cargo.toml` and `main.rs` (book/listings/word-count) copied into a crate outside the
//! workspace, beside a clone named `mcp-streaming`, compiled with the workspace's
//! `Cargo.lock` and target directory (so no dependency is built twice), then called through
//! `mcp-probe` over stdio and streamable HTTP.
//!
//! The call is in lockstep: the tool reads a named pipe, and the test writes each next line
//! into it only after `mcp-probe` has printed the progress event of the line before. Any
//! buffering between the tool and the probe's output would deadlock the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{PROBE, start_http, within};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const LINES: [&str; 3] = ["one two three", "four", "five six"];

/// The workspace's root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace exists")
}

/// The workspace's target directory (this test's binary is in `<target>/<profile>/deps`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.ancestors()
        .nth(3)
        .expect("target/<profile>/deps/test")
        .to_path_buf()
}

/// How long building the guide's crate may take.
const BUILD_PATIENCE: Duration = Duration::from_secs(15 * 60);

/// Lays out `<tmp>/mcp-streaming` (the clone) and `<tmp>/word-count` (the listing) and builds
/// the crate; returns its binary.
async fn build_the_listing(tmp: &Path) -> PathBuf {
    let root = workspace();
    std::os::unix::fs::symlink(&root, tmp.join("mcp-streaming")).expect("symlink the clone");
    let krate = tmp.join("word-count");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    let listing = root.join("book/listings/word-count");
    for file in ["Cargo.toml", "src/main.rs"] {
        std::fs::copy(listing.join(file), krate.join(file)).expect("copy the listing");
    }
    std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock")).expect("copy Cargo.lock");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // A build, not a stream: it gets the patience of a build on a busy 2-core machine (the
    // workspace's crates are compiled again under the symlinked path), not the 2 minutes
    // that bound the streaming steps.
    let build = Command::new(cargo)
        .args(["build", "--offline", "--message-format", "short"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(BUILD_PATIENCE, build)
        .await
        .expect("cargo build of the guide's crate did not finish within 15 minutes")
        .expect("cargo runs");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the guide's crate does not build:\n{log}"
    );
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("word-count") && l.contains("warning"))
        .collect();
    assert!(
        warnings.is_empty(),
        "the guide's crate has warnings:\n{log}"
    );
    target_dir().join("debug/word-count")
}

/// Calls `word_count` on a named pipe through `mcp-probe` with `target` arguments, feeding
/// the pipe one line per progress event the probe prints; returns the probe's output.
async fn call_in_lockstep(tmp: &Path, name: &str, target: &[&str]) -> String {
    let fifo = tmp.join(name);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let path = fifo.to_str().unwrap();
    let mut probe = Command::new(PROBE)
        .args([
            "call",
            "word_count",
            "-a",
            &format!("path={path}"),
            "--require-live",
        ])
        .args(target)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("mcp-probe starts");
    let mut out = BufReader::new(probe.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    within("the lockstep call", async {
        // Opening the pipe waits for the tool to open it.
        let mut pipe = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&fifo)
            .await
            .unwrap();
        for (i, line) in LINES.iter().enumerate() {
            pipe.write_all(format!("{line}\n").as_bytes())
                .await
                .unwrap();
            pipe.flush().await.unwrap();
            let wanted = format!("line {}: ", i + 1);
            loop {
                let next = out
                    .next_line()
                    .await
                    .unwrap()
                    .expect("the probe prints the event");
                printed.push_str(&next);
                printed.push('\n');
                if next.contains(&wanted) {
                    break;
                }
            }
            // Spread the events out, so that the probe can tell they were live.
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        drop(pipe);
        while let Some(next) = out.next_line().await.unwrap() {
            printed.push_str(&next);
            printed.push('\n');
        }
        let status = probe.wait().await.unwrap();
        assert!(status.success(), "{status:?}\n{printed}");
    })
    .await;
    printed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_own_crate_builds_and_streams_over_stdio_and_http() {
    let tmp = std::env::temp_dir().join(format!("mcp-own-crate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let binary = build_the_listing(&tmp).await;

    let printed = call_in_lockstep(&tmp, "stdio.txt", &["--", binary.to_str().unwrap()]).await;
    assert!(printed.contains("line 2: 1 words"), "{printed}");
    assert!(
        printed.contains("stdio.txt: 6 words in 3 lines"),
        "{printed}"
    );
    assert!(printed.contains("verdict: live"), "{printed}");

    let server = start_http(&binary, &[]).await;
    let url = format!("{}/mcp", server.base);
    let printed = call_in_lockstep(&tmp, "http.txt", &["--url", &url]).await;
    assert!(
        printed.contains("http.txt: 6 words in 3 lines"),
        "{printed}"
    );
    assert!(printed.contains("verdict: live"), "{printed}");

    // A missing file: the error names it.
    let missing = tmp.join("missing.txt");
    let output = common::probe(&[
        "call",
        "word_count",
        "-a",
        &format!("path={}", missing.display()),
        "--url",
        &url,
    ])
    .await;
    assert_eq!(output.status.code(), Some(3));
    let text = common::stdout(&output);
    assert!(
        text.contains(&format!("cannot open {}", missing.display())),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
