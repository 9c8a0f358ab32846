//! Connecting to NATS as `--nats URL`, `--nats-creds-file FILE` and `--ca-cert FILE` say: the one
//! definition the studio and the nodes share.

use std::path::PathBuf;
use std::time::Duration;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// `nats://host:port`, `tls://host:port`, or several separated by commas.
    pub url: String,
    /// A NATS credentials file (a user JWT and its NKey seed).
    pub creds_file: Option<PathBuf>,
    /// Verify the server's TLS certificate against only the CAs in this PEM file.
    pub ca_cert: Option<PathBuf>,
    /// The connection's name, shown by the NATS server (`rulestudio-studio`, the node's name).
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("--nats-creds-file {path}: {source}")]
    Creds {
        path: String,
        source: std::io::Error,
    },
    #[error("--ca-cert {path}: {source}")]
    CaCert {
        path: String,
        source: std::io::Error,
    },
    #[error("--nats {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
}

/// Connects once; a server that is not up yet is retried in the background (a node may start
/// before NATS), and so is a lost connection. A file that cannot be read fails here, named.
pub async fn connect(options: &NatsOptions) -> Result<async_nats::Client, ConnectError> {
    let mut connect = match &options.creds_file {
        Some(path) => async_nats::ConnectOptions::with_credentials_file(path)
            .await
            .map_err(|source| ConnectError::Creds {
                path: path.display().to_string(),
                source,
            })?,
        None => {
            tracing::warn!(
                url = %options.url,
                "connecting to NATS without credentials (--nats-creds-file): \
                 for demos and tests only, any client of that server can act as any node"
            );
            async_nats::ConnectOptions::new()
        }
    };
    if let Some(path) = &options.ca_cert {
        // Read it here so a missing file is named now, not at the first TLS handshake.
        std::fs::metadata(path).map_err(|source| ConnectError::CaCert {
            path: path.display().to_string(),
            source,
        })?;
        connect = connect.add_root_certificates(path.clone());
    }
    connect
        .name(&options.name)
        .connection_timeout(Duration::from_secs(5))
        .retry_on_initial_connect()
        .event_callback(|event| async move {
            match event {
                // Repeated on every attempt while the server is away.
                async_nats::Event::ClientError(e) => tracing::debug!("NATS: {e}"),
                event => tracing::info!("NATS: {event}"),
            }
        })
        .connect(options.url.as_str())
        .await
        .map_err(|source| ConnectError::Connect {
            url: options.url.clone(),
            source,
        })
}
