//! Starts a real nginx (Debian's package) on loopback in front of a test server, with the
//! config in `tests/nginx/nginx.conf.template` and proxy buffering left at its default.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx; killed on drop.
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    /// The address nginx listens on.
    pub addr: SocketAddr,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Nginx {
    /// Starts nginx proxying to `upstream` and waits until it accepts connections.
    pub fn start(upstream: SocketAddr) -> Nginx {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("nginx is installed (scripts/test.sh installs Debian's nginx-light)");
        let dir = std::env::temp_dir().join(format!(
            "mcp-nginx-{}-{}",
            std::process::id(),
            upstream.port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let port = free_port();
        let template = include_str!("../nginx/nginx.conf.template");
        let config = template
            .replace("@DIR@", dir.to_str().expect("utf-8 temp path"))
            .replace("@LISTEN@", &format!("127.0.0.1:{port}"))
            .replace("@UPSTREAM@", &upstream.to_string());
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).expect("write nginx.conf");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nginx did not start listening on {addr}; see {}",
                dir.join("error.log").display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { child, dir, addr }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
