//! Starts a real reverse proxy (Debian's package: nginx, HAProxy, Caddy or Apache httpd) on
//! loopback in front of a test server, with the configuration the guide shows (the templates
//! in `tests/nginx/` and `tests/proxies/`), response buffering left at each proxy's default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::ports::start_listening;

/// Which proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    Nginx,
    Haproxy,
    Caddy,
    Apache,
}

impl ProxyKind {
    fn name(self) -> &'static str {
        match self {
            ProxyKind::Nginx => "nginx",
            ProxyKind::Haproxy => "haproxy",
            ProxyKind::Caddy => "caddy",
            ProxyKind::Apache => "apache2",
        }
    }

    fn template(self) -> &'static str {
        match self {
            ProxyKind::Nginx => include_str!("../nginx/nginx.conf.template"),
            ProxyKind::Haproxy => include_str!("../proxies/haproxy.cfg.template"),
            ProxyKind::Caddy => include_str!("../proxies/Caddyfile.template"),
            ProxyKind::Apache => include_str!("../proxies/apache2.conf.template"),
        }
    }

    /// The installed binary (scripts/test.sh installs each from Debian's packages).
    fn binary(self) -> &'static str {
        let candidates: &[&'static str] = match self {
            ProxyKind::Nginx => &["/usr/sbin/nginx", "/usr/bin/nginx"],
            ProxyKind::Haproxy => &["/usr/sbin/haproxy", "/usr/bin/haproxy"],
            ProxyKind::Caddy => &["/usr/bin/caddy"],
            ProxyKind::Apache => &["/usr/sbin/apache2"],
        };
        candidates
            .iter()
            .copied()
            .find(|p| Path::new(p).exists())
            .unwrap_or_else(|| {
                panic!(
                    "{} is installed (scripts/test.sh installs Debian's package)",
                    self.name()
                )
            })
    }

    /// The command that runs it in the foreground with `conf`, logging into `dir`.
    fn command(self, conf: &Path, dir: &Path) -> Command {
        let mut command = Command::new(self.binary());
        match self {
            ProxyKind::Nginx => {
                command
                    .arg("-p")
                    .arg(dir)
                    .arg("-c")
                    .arg(conf)
                    .arg("-e")
                    .arg(dir.join("error.log"));
            }
            ProxyKind::Haproxy => {
                command.arg("-db").arg("-f").arg(conf);
            }
            ProxyKind::Caddy => {
                command
                    .args(["run", "--adapter", "caddyfile", "--config"])
                    .arg(conf)
                    .env("HOME", dir)
                    .env("XDG_DATA_HOME", dir.join("data"))
                    .env("XDG_CONFIG_HOME", dir.join("config"));
            }
            ProxyKind::Apache => {
                // One process, in the foreground.
                command.arg("-X").arg("-f").arg(conf);
            }
        }
        command
    }
}

/// A running proxy; killed on drop.
pub struct Proxy {
    child: Child,
    dir: PathBuf,
    /// The address the proxy listens on.
    pub addr: SocketAddr,
}

impl Proxy {
    /// Starts `kind` proxying to `upstream` and waits until it accepts connections (on
    /// another port if the first one was taken before the proxy bound it).
    pub fn start(kind: ProxyKind, upstream: SocketAddr) -> Proxy {
        let dir = std::env::temp_dir().join(format!(
            "mcp-{}-{}-{}",
            kind.name(),
            std::process::id(),
            upstream.port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        if kind == ProxyKind::Apache {
            // Apache's worker runs as www-data: it must reach its runtime directory.
            let _ = Command::new("chown").arg("www-data:").arg(&dir).status();
        }
        let conf = dir.join(format!("{}.conf", kind.name()));
        let output = dir.join("output.log");
        let (child, addr) = start_listening(
            kind.name(),
            |port| {
                let config = kind
                    .template()
                    .replace("@DIR@", dir.to_str().expect("utf-8 temp path"))
                    .replace("@LISTEN@", &format!("127.0.0.1:{port}"))
                    .replace("@UPSTREAM@", &upstream.to_string());
                std::fs::write(&conf, config).expect("write the configuration");
                let log = std::fs::File::create(&output).expect("log file");
                kind.command(&conf, &dir)
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .unwrap_or_else(|e| panic!("{} starts: {e}", kind.name()))
            },
            || std::fs::read_to_string(&output).unwrap_or_default(),
        );
        Proxy { child, dir, addr }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
