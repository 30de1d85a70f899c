//! Loopback ports for the real programs the tests start (reverse proxies, redis-server), and
//! starting such a program until it listens.
//!
//! A port is probed free and released before the program binds it, so someone else can take
//! it in between. Two things keep that rare and harmless: the port comes from below the
//! kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`), where outgoing
//! connections never pick their local port, chosen at random so that test processes running
//! side by side do not walk the same sequence; and a program that exits before it listens
//! (e.g. `bind: address already in use`) is started again on another port. A start counts as
//! listening only when the program itself holds the listening socket (read from `/proc`), so a
//! port someone else took is never mistaken for it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{SocketAddr, TcpListener};
use std::process::Child;
use std::time::{Duration, Instant};

/// How long one start may take before the test fails.
const START_LIMIT: Duration = Duration::from_secs(20);
/// Starts tried before the test fails.
const ATTEMPTS: u32 = 5;
/// The lowest port handed out (above the ports well-known services use).
const LOWEST: u16 = 10_000;

/// The first port of the kernel's ephemeral range (32768 when it cannot be read).
fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// A loopback port that is free right now: below the ephemeral range when there is room,
/// otherwise whatever the kernel picks.
pub(crate) fn listen_port() -> u16 {
    let end = ephemeral_start();
    if end > LOWEST + 1_000 {
        let span = u64::from(end - LOWEST);
        let seed = RandomState::new();
        for attempt in 0..200u64 {
            let mut hasher = seed.build_hasher();
            hasher.write_u64(attempt);
            let port = LOWEST + (hasher.finish() % span) as u16;
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return port;
            }
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts a program with `spawn(port)` on a fresh port until it listens on that port itself
/// (the caller has it listen on 127.0.0.1); a start that exits first is tried again on another port.
/// `output()` is what the program said, for the failure message.
pub(crate) fn start_listening(
    what: &str,
    mut spawn: impl FnMut(u16) -> Child,
    output: impl Fn() -> String,
) -> (Child, SocketAddr) {
    let mut exits = Vec::new();
    for _ in 0..ATTEMPTS {
        let addr: SocketAddr = ([127, 0, 0, 1], listen_port()).into();
        let mut child = spawn(addr.port());
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait on the child") {
                exits.push(format!("{addr}: {status}: {}", output()));
                break;
            }
            if holds_listener(child.id(), addr.port()) {
                return (child, addr);
            }
            if started.elapsed() > START_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what} did not start listening on {addr}: {}", output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("{what} exited before listening, {ATTEMPTS} times: {exits:#?}");
}

/// Whether process `pid` holds a socket listening on `port` (Linux: a socket in state `0A`
/// on that port in `/proc/net/tcp` or `tcp6`, whatever its address — Caddy, for one, listens
/// on the wildcard address of IPv6 — whose inode is among the process's descriptors).
fn holds_listener(pid: u32, port: u16) -> bool {
    let suffix = format!(":{port:04X}");
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    // sl, local_address, rem_address, st, queues, tr, retrnsmt, uid, timeout, inode
                    (fields.len() > 9 && fields[1].ends_with(&suffix) && fields[3] == "0A")
                        .then(|| format!("socket:[{}]", fields[9]))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    if inodes.is_empty() {
        return false;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .map(|target| {
                inodes
                    .iter()
                    .any(|inode| target.as_os_str() == inode.as_str())
            })
            .unwrap_or(false)
    })
}
