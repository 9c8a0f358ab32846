//! POSTing JSON to a plain-HTTP URL, for `--forward-url` and `--notify-url`.

use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// A receiver that does not answer in this time counts as failed, so that one stuck endpoint
/// cannot stall the queue behind it forever.
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Poster {
    client: Client<HttpConnector, Full<bytes::Bytes>>,
}

impl Poster {
    pub fn new() -> Poster {
        Poster {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// `true` when the receiver answered 2xx.
    pub async fn post_json(&self, url: &str, body: &impl serde::Serialize) -> bool {
        let send = async {
            let body = serde_json::to_vec(body).ok()?;
            let req = hyper::Request::post(url)
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(bytes::Bytes::from(body)))
                .ok()?;
            let resp = self.client.request(req).await.ok()?;
            resp.status().is_success().then_some(())
        };
        matches!(tokio::time::timeout(TIMEOUT, send).await, Ok(Some(())))
    }
}
