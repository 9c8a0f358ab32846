//! `rulestudio serve [--collector] [OPTIONS]`: the server, the UI and (with `--collector`) a
//! collector for this node, in one process.

use crate::Outcome;
use anyhow::{Context, Result, bail};
use rulestudio_api::auth::{CreateToken, CreateUser, Role};
use rulestudio_api::calls::{AddToken, AddUser};
use rulestudio_api::client::{CallError, answer, request};
use rulestudio_collector::{Config as CollectorConfig, privilege};
use rulestudio_server::ServeArgs;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    serve: ServeArgs,
    /// Also capture this node's syscalls with eBPF and stream them into this server.
    #[arg(long, env = "RULESTUDIO_COLLECTOR")]
    collector: bool,
    /// Enforcement by the in-process collector (`--enforce` needs `--collector`).
    #[command(flatten)]
    enforce: rulestudio_collector::enforce::EnforceArgs,
    /// Masks for secrets on command lines, applied by the in-process collector at capture.
    #[command(flatten)]
    redact: rulestudio_collector::redact::RedactArgs,
}

/// What the in-process collector does besides capturing: enforcement and redaction.
struct NodeOptions {
    enforce: Option<rulestudio_collector::enforce::EnforceConfig>,
    redact: rulestudio_collector::redact::Redaction,
}

pub fn run(args: Args) -> Result<Outcome> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let served = runtime.block_on(serve(args));
    // Work left on blocking threads after the drain (a request that overran the grace) must
    // not hold the exit: dropping the runtime would wait for it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    served?;
    Ok(Outcome::Clean)
}

async fn serve(mut args: Args) -> Result<()> {
    args.serve.read_secret_files()?;
    let scheme = if args.serve.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let base = format!("{scheme}://{}", loopback(args.serve.listen));
    // This process's own calls to its server verify it like any client: with TLS the
    // certificate must name the listen address and be signed by a CA in `--ca-cert` (or the
    // system's roots).
    let ca_cert = args.serve.ca_cert.clone();
    let client = rulestudio_api::client::builder(ca_cert.as_deref())
        .map_err(anyhow::Error::msg)?
        .build()?;
    let admin_token = args.serve.admin_token.clone();
    let token_file = rulestudio_server::token_file(&args.serve.db);
    // The in-process node's own state (its last verified live set), beside the database.
    let node_state = args.serve.db.with_extension("node");
    if args.enforce.enforce && !args.collector {
        anyhow::bail!("--enforce acts through the collector: add --collector");
    }
    if !args.redact.redact.is_empty() && !args.collector {
        anyhow::bail!("--redact masks what the collector captures: add --collector");
    }
    let options = NodeOptions {
        enforce: args.enforce.config(Some(&node_state)),
        redact: args.redact.redaction()?,
    };
    let server = tokio::spawn(rulestudio_server::serve(args.serve));
    if !wait_healthy(&client, &base, &server).await? {
        // Stopped before it answered (a signal during start-up, or a failure such as a
        // certificate file that cannot be read): its outcome.
        return server.await.context("the server task failed")?;
    }
    println!("rulestudio: the studio is at {base}/");
    match &admin_token {
        Some(_) => {
            println!("rulestudio: sign in as `admin` with the password or API token you configured")
        }
        None => println!(
            "rulestudio: sign in as `admin` with the API token in {}",
            token_file.display()
        ),
    }
    let mut collector = None;
    if args.collector {
        // The collector is an add-on: without eBPF privileges the UI and API keep serving.
        match start_collector(
            &client,
            &base,
            ca_cert,
            admin_token,
            &token_file,
            node_state,
            options,
        )
        .await
        {
            Ok(task) => {
                println!("rulestudio: collecting this node's syscalls");
                collector = Some(task);
            }
            Err(e) => eprintln!(
                "rulestudio: the collector is not running: {e:#}\nrulestudio: the UI and API keep serving"
            ),
        }
    }
    let served = server.await.context("the server task failed")?;
    if let Some(task) = collector {
        // Both stop on SIGTERM or SIGINT; give the collector a moment to flush to its spool.
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    served
}

/// Where to reach a listen address from this machine (`0.0.0.0` → `127.0.0.1`).
fn loopback(listen: std::net::SocketAddr) -> std::net::SocketAddr {
    let mut a = listen;
    if a.ip().is_unspecified() {
        a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    a
}

/// Whether the server answered `/healthz`; false when it stopped first.
async fn wait_healthy(
    client: &reqwest::Client,
    base: &str,
    server: &tokio::task::JoinHandle<Result<()>>,
) -> Result<bool> {
    let mut last = String::new();
    for _ in 0..200 {
        if server.is_finished() {
            return Ok(false);
        }
        match client.get(format!("{base}/healthz")).send().await {
            Ok(r) if r.status().is_success() => return Ok(true),
            Ok(r) => last = format!("it answered {}", r.status()),
            // With TLS, a certificate the client does not trust shows here.
            Err(e) => last = format!("{e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not answer {base}/healthz within 10 s: {last}")
}

async fn start_collector(
    client: &reqwest::Client,
    base: &str,
    ca_cert: Option<std::path::PathBuf>,
    admin_token: Option<String>,
    token_file: &std::path::Path,
    state_dir: std::path::PathBuf,
    options: NodeOptions,
) -> Result<tokio::task::JoinHandle<()>> {
    privilege::check().context("eBPF needs privileges")?;
    let admin = match admin_token {
        Some(t) => t,
        None => std::fs::read_to_string(token_file)
            .with_context(|| {
                format!(
                    "the admin token is needed to enrol the collector; it was in {}",
                    token_file.display()
                )
            })?
            .trim()
            .to_string(),
    };
    let node = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let token = enrol(client, base, &admin, &node).await?;
    let mut config = CollectorConfig::new(Some(base.to_string()), token, node);
    config.ca_cert = ca_cert;
    config.state_dir = Some(state_dir);
    config.enforce = options.enforce;
    config.kernel.redact = options.redact;
    Ok(tokio::spawn(async move {
        let stop = rulestudio_server::shutdown::signal_received();
        match rulestudio_collector::run(config, stop).await {
            Ok(summary) => tracing::info!(?summary, "collector stopped"),
            Err(e) => tracing::error!("collector failed: {e}"),
        }
    }))
}

/// Creates (once) the `collector-NODE` user and a fresh ingest-only token for this run.
async fn enrol(client: &reqwest::Client, base: &str, admin: &str, node: &str) -> Result<String> {
    let user = format!("collector-{node}");
    let collector = CreateUser {
        username: user.clone(),
        password: None,
        role: Role::Collector,
    };
    let created = request::<AddUser>(client, base, &(), &(), &collector)?
        .bearer_auth(admin)
        .send()
        .await?;
    match answer::<AddUser>(created).await {
        Ok(_) | Err(CallError::Status { status: 409, .. }) => {}
        Err(e) => bail!("creating user {user}: {e}"),
    }
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let token = CreateToken {
        name: format!("serve --collector {started}"),
        expires_in: None,
    };
    let resp = request::<AddToken>(client, base, user.as_str(), &(), &token)?
        .bearer_auth(admin)
        .send()
        .await?;
    let created = answer::<AddToken>(resp)
        .await
        .with_context(|| format!("creating a token for {user}"))?;
    Ok(created.token)
}
