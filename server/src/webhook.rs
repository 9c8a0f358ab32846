//! POSTing JSON to an `http://` or `https://` URL, for `--forward-url` and `--notify-url`
//! (HTTPS verified against the system's roots or `--ca-cert`).

use std::path::Path;
use std::time::Duration;

/// A receiver that does not answer in this time counts as failed, so that one stuck endpoint
/// cannot stall the queue behind it forever.
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Poster {
    client: reqwest::Client,
}

impl Poster {
    /// Fails when `ca_cert` cannot be read or holds no certificate.
    pub fn new(ca_cert: Option<&Path>) -> anyhow::Result<Poster> {
        let client = rulestudio_api::client::builder(ca_cert)
            .map_err(anyhow::Error::msg)?
            .timeout(TIMEOUT)
            .build()?;
        Ok(Poster { client })
    }

    /// `true` when the receiver answered 2xx.
    pub async fn post_json(&self, url: &str, body: &impl serde::Serialize) -> bool {
        match self.client.post(url).json(body).send().await {
            Ok(resp) => resp.status().is_success(),
            Err(e) => {
                tracing::debug!(error = %e, %url, "POST failed");
                false
            }
        }
    }
}
