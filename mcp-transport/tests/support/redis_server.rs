//! A `redis-server` (Debian's package, installed by scripts/test.sh) on a free loopback port,
//! with no persistence, killed on drop: for the Redis store's tests and benchmark section 6.

use std::process::{Child, Command, Stdio};

#[path = "ports.rs"]
mod ports;

use ports::start_listening;

/// A running redis-server, killed on drop.
pub(crate) struct RedisServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
}

impl RedisServer {
    /// Starts one and waits until it listens (on another port if the first one was taken
    /// before redis-server bound it).
    pub(crate) fn start() -> RedisServer {
        let (child, addr) = start_listening(
            "redis-server",
            |port| {
                Command::new("/usr/bin/redis-server")
                    .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                    .args(["--save", "", "--appendonly", "no"])
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("redis-server (Debian's package) is installed")
            },
            String::new,
        );
        let port = addr.port();
        RedisServer { child, port }
    }

    /// Its URL.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    #[allow(dead_code)]
    /// Sends `signal` (`STOP`, `CONT`) to the process: a stopped Redis keeps its connections
    /// open and answers nothing, as a Redis that is slow but alive, until continued.
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} redis-server");
    }

    #[allow(dead_code)]
    /// Kills the process (SIGKILL) and reaps it: its connections are refused from now on.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
