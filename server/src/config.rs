//! `rulestudio serve` flags; every flag is also a `RULESTUDIO_*` environment variable.

pub use rulestudio_api::live::RuleMatching;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The SQLite database file (created if missing, upgraded in place).
    #[arg(long, env = "RULESTUDIO_DB", default_value = "./data/rulestudio.db")]
    pub db: PathBuf,

    /// Address to listen on.
    #[arg(long, env = "RULESTUDIO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The event store's directory (created if missing). Default: beside the database, its
    /// file name with `.events` added (`./data/rulestudio.db.events/`).
    #[arg(long, env = "RULESTUDIO_STORE")]
    pub store: Option<PathBuf>,

    /// This server's node name: the NODE of the `NODE:INCARNATION:SEQ` ids of the events it
    /// stores. Default: the name the existing store was created with, else the host name. A
    /// store refuses to open under another name.
    #[arg(long, env = "RULESTUDIO_NODE")]
    pub node: Option<String>,

    /// Ignored (accepted so that existing configurations start; a warning says so when it is
    /// set): the event store is bounded by `--retention-age` and `--retention-bytes`.
    #[arg(
        long,
        env = "RULESTUDIO_RETENTION_EVENTS",
        default_value_t = crate::event_store::RETENTION_EVENTS_DEFAULT
    )]
    pub retention_events: u64,

    /// Drop events and alerts older than this (`7d`, `12h`, …): the event store drops whole
    /// sealed segments whose newest event is older.
    #[arg(long, env = "RULESTUDIO_RETENTION_AGE", default_value = "7d", value_parser = humantime::parse_duration)]
    pub retention_age: Duration,

    /// Drop the oldest sealed segments of the event store while they take more than this
    /// (`8GiB`, `500MB`, `1000000`; `K`/`M`/`G`/`T` are powers of 1000, `KiB`… of 1024).
    #[arg(long, env = "RULESTUDIO_RETENTION_BYTES", default_value = "8GiB", value_parser = byte_size)]
    pub retention_bytes: u64,

    /// Evaluate live rules like Falco's `rule_matching`: every matching rule, or the first.
    /// The live set carries it to every node that evaluates it (`all` or `first`).
    #[arg(long, env = "RULESTUDIO_RULE_MATCHING", default_value = "all", value_parser = rule_matching)]
    pub rule_matching: RuleMatching,

    /// POST every alert as Falco JSON to this URL (falcosidekick accepts it), `http://` or
    /// `https://`.
    #[arg(long, env = "RULESTUDIO_FORWARD_URL", value_parser = web_url)]
    pub forward_url: Option<String>,

    /// POST a small JSON object on every proposal event (created, reviewed, promoted…) to this
    /// URL, `http://` or `https://`.
    #[arg(long, env = "RULESTUDIO_NOTIFY_URL", value_parser = web_url)]
    pub notify_url: Option<String>,

    /// Serve HTTPS with this PEM certificate chain (the server's certificate first), with
    /// `--tls-key`; re-read when the file changes. Without it: plain HTTP.
    #[arg(long, env = "RULESTUDIO_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key of `--tls-cert`; re-read when the file changes.
    #[arg(long, env = "RULESTUDIO_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Verify https:// receivers (`--forward-url`, `--notify-url`) and, with `--collector`,
    /// this server against only the CAs in this PEM file (default: the system's roots).
    #[arg(long, env = "RULESTUDIO_CA_CERT")]
    pub ca_cert: Option<PathBuf>,

    /// Fleet mode: send the live set to the nodes and take their heartbeats through this NATS
    /// server with JetStream (`nats://host:4222`, `tls://host:4222`); events stay on the nodes.
    #[arg(long, env = "RULESTUDIO_NATS")]
    pub nats: Option<String>,

    /// The studio's NATS credentials file (a user JWT and its NKey seed) for `--nats`. Without
    /// it the studio connects without authentication, and says so in a warning.
    #[arg(long, env = "RULESTUDIO_NATS_CREDS_FILE", requires = "nats")]
    pub nats_creds_file: Option<PathBuf>,

    /// Directory of the built web UI (index.html, wasm, js).
    #[arg(long, env = "RULESTUDIO_STATIC_DIR", default_value = "frontend/dist")]
    pub static_dir: PathBuf,

    /// The admin's API token on first start; generated (and written beside the database) if unset.
    /// Prefer `--admin-token-file` or the environment: a command line is readable by every
    /// process on the host.
    #[arg(long, env = "RULESTUDIO_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// A file holding the admin's API token (read at start, like `--admin-token`).
    #[arg(
        long,
        env = "RULESTUDIO_ADMIN_TOKEN_FILE",
        conflicts_with = "admin_token"
    )]
    pub admin_token_file: Option<PathBuf>,

    /// The admin's password on first start; without one the admin signs in with the token only.
    /// Prefer `--admin-password-file` or the environment.
    #[arg(long, env = "RULESTUDIO_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// A file holding the admin's password (read at start, like `--admin-password`).
    #[arg(
        long,
        env = "RULESTUDIO_ADMIN_PASSWORD_FILE",
        conflicts_with = "admin_password"
    )]
    pub admin_password_file: Option<PathBuf>,

    /// Largest accepted request body, in bytes (bigger ingest batches get 413).
    #[arg(long, env = "RULESTUDIO_MAX_BODY_BYTES", default_value_t = 32 << 20)]
    pub max_body_bytes: usize,

    /// Memory for the preview cache of the newest events, in MiB (0: preview reads SQLite).
    #[arg(long, env = "RULESTUDIO_PREVIEW_CACHE_MB", default_value_t = 1024)]
    pub preview_cache_mb: usize,

    /// Longest an expensive request (preview, suggest-exception, proposal evidence, event
    /// search) may run (`30s`, `2m`, …); past it the work stops and the answer is 503
    /// `budget_exceeded`.
    #[arg(long, env = "RULESTUDIO_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,

    /// Refuse writes (and report unhealthy) when the database's disk has less free space, MiB.
    #[arg(long, env = "RULESTUDIO_MIN_FREE_DISK_MB", default_value_t = 256)]
    pub min_free_disk_mb: u64,

    /// Approvals a proposal needs before it can be promoted.
    #[arg(long, env = "RULESTUDIO_REQUIRED_APPROVALS", default_value_t = 1)]
    pub required_approvals: u32,

    /// Proxies (CIDR, repeatable or comma-separated) whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto: https` are believed: the client address for sign-in throttling, and
    /// `Secure` session cookies.
    #[arg(long, env = "RULESTUDIO_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<ipnet::IpNet>,

    /// Open connections at most; more wait in the kernel's backlog until one closes.
    #[arg(long, env = "RULESTUDIO_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// A connection must send a request's headers within this time (at most 10 s).
    #[arg(long, env = "RULESTUDIO_HEADER_TIMEOUT", default_value = "10s", value_parser = header_timeout)]
    pub header_timeout: Duration,

    /// Event and alert streams (SSE) one user may have open at once.
    #[arg(long, env = "RULESTUDIO_MAX_STREAMS_PER_USER", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams_per_user: u32,

    /// A connection with no request in flight and no traffic for this long is closed.
    #[arg(long, env = "RULESTUDIO_IDLE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
}

fn rule_matching(s: &str) -> Result<RuleMatching, String> {
    RuleMatching::parse(s).ok_or_else(|| format!("`{s}` is not `all` or `first`"))
}

fn header_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d.is_zero() || d > Duration::from_secs(10) {
        return Err(format!("`{s}` is not between 1ms and 10s"));
    }
    Ok(d)
}

/// A byte count: a number with an optional unit (`B`, `K`/`KB`, `M`/`MB`, `G`/`GB`, `T`/`TB`
/// in powers of 1000; `KiB`, `MiB`, `GiB`, `TiB` in powers of 1024).
pub fn byte_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "`{s}`: unknown unit `{other}` (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
            ));
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("`{s}` is not a byte count (a whole number, then an optional unit)"))
}

fn web_url(s: &str) -> Result<String, String> {
    match s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
    {
        Some(rest) if !rest.is_empty() => Ok(s.to_string()),
        _ => Err(format!("`{s}` is not an http:// or https:// URL")),
    }
}

impl ServeArgs {
    /// Reads the `*-file` secrets into their flags, and warns of secrets given on the command
    /// line, where every process on the host can read them.
    pub fn read_secret_files(&mut self) -> anyhow::Result<()> {
        let from_file = |path: &Option<PathBuf>| {
            path.as_deref()
                .map(rulestudio_api::auth::read_secret_file)
                .transpose()
                .map_err(anyhow::Error::msg)
        };
        if let Some(token) = from_file(&self.admin_token_file)? {
            self.admin_token = Some(token);
        }
        if let Some(password) = from_file(&self.admin_password_file)? {
            self.admin_password = Some(password);
        }
        for arg in std::env::args() {
            for flag in ["--admin-token", "--admin-password"] {
                if arg == flag || arg.starts_with(&format!("{flag}=")) {
                    tracing::warn!(
                        "{flag} on the command line is readable by every process on this host; \
                         use {flag}-file or the environment"
                    );
                }
            }
        }
        Ok(())
    }

    /// The defaults with another database file: what tests and benchmarks start from.
    pub fn with_db(db: impl Into<PathBuf>) -> ServeArgs {
        use clap::{Args, FromArgMatches};
        let cmd = ServeArgs::augment_args(clap::Command::new("serve").no_binary_name(true));
        let mut args = ServeArgs::from_arg_matches(&cmd.get_matches_from(Vec::<String>::new()))
            .expect("defaults parse");
        args.db = db.into();
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_parse_with_their_units() {
        assert_eq!(byte_size("8GiB"), Ok(8 << 30));
        assert_eq!(byte_size("500MB"), Ok(500_000_000));
        assert_eq!(byte_size("1000"), Ok(1000));
        assert_eq!(byte_size("2 k"), Ok(2000));
        assert!(
            byte_size("8 parsecs")
                .unwrap_err()
                .contains("unknown unit `parsecs`")
        );
        assert!(byte_size("GiB").unwrap_err().contains("not a byte count"));
        assert!(
            byte_size("99999999999TiB")
                .unwrap_err()
                .contains("not a byte count")
        );
    }

    #[test]
    fn secrets_come_from_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let (token, password) = (dir.path().join("token"), dir.path().join("password"));
        std::fs::write(&token, "rs_from_file\n").unwrap();
        std::fs::write(&password, "pass word 1").unwrap();
        let mut args = ServeArgs::with_db(dir.path().join("db"));
        args.admin_token_file = Some(token);
        args.admin_password_file = Some(password);
        args.read_secret_files().unwrap();
        assert_eq!(args.admin_token.as_deref(), Some("rs_from_file"));
        assert_eq!(args.admin_password.as_deref(), Some("pass word 1"));
        args.admin_token_file = Some(dir.path().join("missing"));
        let e = args.read_secret_files().unwrap_err().to_string();
        assert!(
            e.contains("reading the secret file") && e.contains("missing"),
            "{e}"
        );
    }
}
