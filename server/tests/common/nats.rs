//! A real `nats-server -js` (installed by `scripts/setup`) on a free loopback port with its
//! JetStream store in a temporary directory; stopped when dropped.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct NatsServer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
}

impl NatsServer {
    pub fn start() -> NatsServer {
        Self::with_args(&[])
    }

    /// A server with more flags, e.g. `--tls --tlscert FILE --tlskey FILE`.
    pub fn with_args(extra: &[&str]) -> NatsServer {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let extra: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        let child = spawn(port, dir.path(), &extra);
        NatsServer {
            child,
            port,
            dir,
            extra,
        }
    }

    /// Stops the server and starts it again on the same port and JetStream store.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.port, self.dir.path(), &self.extra);
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

/// Starts `nats-server -js` and waits (bounded) until it listens.
fn spawn(port: u16, store: &std::path::Path, extra: &[String]) -> Child {
    let child = Command::new("nats-server")
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nats-server is not installed: run scripts/setup");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nats-server did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
