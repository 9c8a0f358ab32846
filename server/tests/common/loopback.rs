//! A server on a real loopback port (`rulestudio_server::http::serve`, as `rulestudio serve`
//! runs it) and a plain HTTP/1.1 client that sends exactly the headers a test gives.

use rulestudio_server::{AppState, ServeArgs, app, http};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct Loopback {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl Loopback {
    pub async fn start(configure: impl FnOnce(&mut ServeArgs)) -> Loopback {
        let dir = tempfile::tempdir().unwrap();
        let mut args = ServeArgs::with_db(dir.path().join("rulestudio.db"));
        args.admin_token = Some(super::ADMIN_TOKEN.into());
        args.static_dir = dir.path().join("no-ui");
        configure(&mut args);
        let state = AppState::new(args).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let limits = http::Limits::of(&state.config);
        tokio::spawn(http::serve(listener, app(state.clone()), limits, async {
            let _ = stopped.await;
        }));
        Loopback {
            addr,
            state,
            stop: Some(stop),
            _dir: dir,
        }
    }

    /// One request on its own connection (`Connection: close`), read to the end.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.unwrap_or("");
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        parse(&String::from_utf8_lossy(&raw))
    }

    /// A JSON request with a bearer token.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> Answer {
        let auth = format!("Bearer {token}");
        self.request(
            method,
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            Some(&body.to_string()),
        )
        .await
    }

    /// Signs `username` in with `password`, sending `headers` too.
    pub async fn login(&self, username: &str, password: &str, headers: &[(&str, &str)]) -> Answer {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        self.request("POST", "/api/v1/session", &all, Some(&body))
            .await
    }

    pub async fn metric(&self, name: &str) -> u64 {
        let text = self.request("GET", "/metrics", &[], None).await.body;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in {text}"))
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn parse(raw: &str) -> Answer {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {raw:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = raw
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Answer {
        status,
        headers,
        body: if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}
