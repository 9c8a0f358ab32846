//! `rulestudio serve` flags; every flag is also a `RULESTUDIO_*` environment variable.

use clap::ValueEnum;
use rulestudio_engine::rule::Matching;
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

    /// Keep at most this many events (the oldest go first).
    #[arg(
        long,
        env = "RULESTUDIO_RETENTION_EVENTS",
        default_value_t = 10_000_000
    )]
    pub retention_events: u64,

    /// Drop events and alerts older than this (`7d`, `12h`, …).
    #[arg(long, env = "RULESTUDIO_RETENTION_AGE", default_value = "7d", value_parser = humantime::parse_duration)]
    pub retention_age: Duration,

    /// Evaluate live rules like Falco's `rule_matching`: every matching rule, or the first.
    #[arg(long, env = "RULESTUDIO_RULE_MATCHING", value_enum, default_value_t = RuleMatching::All)]
    pub rule_matching: RuleMatching,

    /// POST every alert as Falco JSON to this URL (falcosidekick accepts it). `http://` only.
    #[arg(long, env = "RULESTUDIO_FORWARD_URL")]
    pub forward_url: Option<String>,

    /// POST a small JSON object on every proposal event (created, reviewed, promoted…) to this
    /// URL. `http://` only.
    #[arg(long, env = "RULESTUDIO_NOTIFY_URL", value_parser = http_url)]
    pub notify_url: Option<String>,

    /// Directory of the built web UI (index.html, wasm, js).
    #[arg(long, env = "RULESTUDIO_STATIC_DIR", default_value = "frontend/dist")]
    pub static_dir: PathBuf,

    /// The admin's API token on first start; generated (and written beside the database) if unset.
    #[arg(long, env = "RULESTUDIO_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// The admin's password on first start; without one the admin signs in with the token only.
    #[arg(long, env = "RULESTUDIO_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Largest accepted request body, in bytes (bigger ingest batches get 413).
    #[arg(long, env = "RULESTUDIO_MAX_BODY_BYTES", default_value_t = 32 << 20)]
    pub max_body_bytes: usize,

    /// Memory for the preview cache of the newest events, in MiB (0: preview reads SQLite).
    #[arg(long, env = "RULESTUDIO_PREVIEW_CACHE_MB", default_value_t = 1024)]
    pub preview_cache_mb: usize,

    /// Refuse writes (and report unhealthy) when the database's disk has less free space, MiB.
    #[arg(long, env = "RULESTUDIO_MIN_FREE_DISK_MB", default_value_t = 256)]
    pub min_free_disk_mb: u64,

    /// Approvals a proposal needs before it can be promoted.
    #[arg(long, env = "RULESTUDIO_REQUIRED_APPROVALS", default_value_t = 1)]
    pub required_approvals: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleMatching {
    All,
    First,
}

impl From<RuleMatching> for Matching {
    fn from(m: RuleMatching) -> Matching {
        match m {
            RuleMatching::All => Matching::All,
            RuleMatching::First => Matching::First,
        }
    }
}

fn http_url(s: &str) -> Result<String, String> {
    match s.strip_prefix("http://") {
        Some(rest) if !rest.is_empty() => Ok(s.to_string()),
        _ => Err(format!("`{s}` is not an http:// URL")),
    }
}

impl ServeArgs {
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
