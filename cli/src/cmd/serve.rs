//! `rulestudio serve [--collector] [OPTIONS]`: the server, the UI and (with `--collector`) a
//! collector for this node.

use crate::Outcome;
use anyhow::{Context, Result};
use rulestudio_server::ServeArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    serve: ServeArgs,
}

pub fn run(args: Args) -> Result<Outcome> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(rulestudio_server::serve(args.serve))?;
    Ok(Outcome::Clean)
}
