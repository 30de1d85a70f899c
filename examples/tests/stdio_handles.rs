//! A stdio server on the handles a host may give it: pipes (driven by the reactor through
//! descriptors of its own, the process's own descriptors left blocking), and regular files
//! for input or output (served through tokio's blocking handles).

#![cfg(target_os = "linux")]

mod common;

use std::process::Stdio;

use common::stdio_common::raw::within;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const DEMO: &str = env!("CARGO_BIN_EXE_streaming-demo");

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const COUNT: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"count","arguments":{"to":3,"delay_ms":0},"_meta":{"progressToken":"p"}}}"#;

/// `O_NONBLOCK` in the `flags` line of `/proc/<pid>/fdinfo/<fd>` (octal, Linux's value).
const O_NONBLOCK: u32 = 0o4000;

/// The flags of descriptor `fd` of process `pid`.
fn fd_flags(pid: u32, fd: &str) -> u32 {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).expect("fdinfo");
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .expect("a flags line");
    u32::from_str_radix(flags.trim(), 8).expect("octal flags")
}

/// The descriptors of process `pid` other than 0, 1 and 2 that lead to the same file as its
/// descriptor `fd`.
fn reopened(pid: u32, fd: &str) -> Vec<String> {
    let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).expect("readlink");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !["0", "1", "2"].contains(&name.as_str()))
        .filter(|name| {
            std::fs::read_link(format!("/proc/{pid}/fd/{name}")).is_ok_and(|t| t == target)
        })
        .collect()
}

/// The five lines a `count` to 3 answers with: three progress notifications, then the result.
fn check_count_output(lines: &[String]) {
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert!(lines[0].contains(r#""id":1"#) && lines[0].contains("protocolVersion"));
    for (i, line) in lines[1..4].iter().enumerate() {
        assert!(
            line.contains("notifications/progress") && line.contains(&format!("step {}", i + 1)),
            "{line}"
        );
    }
    assert!(lines[4].contains(r#""id":2"#) && lines[4].contains("counted to 3"));
}

#[tokio::test]
async fn pipes_are_driven_through_descriptors_of_their_own() {
    within("a server on pipes", async {
        let mut child = Command::new(DEMO)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the demo starts");
        let pid = child.id().expect("pid");
        let mut input = child.stdin.take().expect("stdin");
        let mut output = BufReader::new(child.stdout.take().expect("stdout")).lines();
        input
            .write_all(format!("{INITIALIZE}\n").as_bytes())
            .await
            .expect("write");
        let mut lines = vec![output.next_line().await.expect("read").expect("a line")];

        // Serving now: each pipe is open a second time, non-blocking, for the reactor...
        // (stdout also has a duplicate of fd 1 that watches for the client going away: it
        // shares fd 1's flags.)
        for fd in ["0", "1"] {
            let own = reopened(pid, fd);
            let twins: Vec<_> = own
                .iter()
                .filter(|twin| fd_flags(pid, twin) & O_NONBLOCK != 0)
                .collect();
            assert_eq!(twins.len(), 1, "one non-blocking twin of fd {fd}: {own:?}");
            // ...and the process's own descriptors stay blocking, as a child it spawns
            // (a Stata, a shell) would inherit them.
            assert_eq!(fd_flags(pid, fd) & O_NONBLOCK, 0, "fd {fd}");
        }

        input
            .write_all(format!("{INITIALIZED}\n{COUNT}\n").as_bytes())
            .await
            .expect("write");
        for _ in 0..4 {
            lines.push(output.next_line().await.expect("read").expect("a line"));
        }
        check_count_output(&lines);
        drop(input);
        assert!(child.wait().await.expect("exit").success());
    })
    .await;
}

#[tokio::test]
async fn output_to_a_regular_file() {
    within("a server writing to a regular file", async {
        let dir = TempDir::new("out");
        let answers = dir.0.join("answers.jsonl");
        let mut child = Command::new(DEMO)
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(&answers).expect("create"))
            .kill_on_drop(true)
            .spawn()
            .expect("the demo starts");
        let mut input = child.stdin.take().expect("stdin");
        input
            .write_all(format!("{INITIALIZE}\n{INITIALIZED}\n{COUNT}\n").as_bytes())
            .await
            .expect("write");
        // End of input cancels running calls: wait for the result before closing stdin.
        let lines = loop {
            let written = std::fs::read_to_string(&answers).expect("read");
            if written.contains("counted to 3") {
                break written.lines().map(str::to_owned).collect::<Vec<_>>();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        };
        check_count_output(&lines);
        drop(input);
        assert!(child.wait().await.expect("exit").success());
    })
    .await;
}

#[tokio::test]
async fn input_from_a_regular_file() {
    within("a server reading a regular file", async {
        let dir = TempDir::new("in");
        let requests = dir.0.join("requests.jsonl");
        let ping = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
        std::fs::write(&requests, format!("{INITIALIZE}\n{INITIALIZED}\n{ping}\n")).expect("write");
        let out = Command::new(DEMO)
            .stdin(std::fs::File::open(&requests).expect("open"))
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .output()
            .await
            .expect("the demo runs");
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines[0].contains(r#""id":1"#) && lines[0].contains("protocolVersion"));
        assert_eq!(lines[1], r#"{"jsonrpc":"2.0","id":2,"result":{}}"#);
    })
    .await;
}

/// A fresh directory, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mcp-handles-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
