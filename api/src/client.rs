//! The one way the studio's programs make HTTP(S) clients (the collector and `rulestudio
//! serve --collector` towards the server, the server towards `--forward-url`/`--notify-url`):
//! rustls, verifying the peer against the system's roots, or, with `--ca-cert`, against only
//! the certificates in that file (as `curl --cacert` does), so that a private CA is trusted
//! by these programs without being trusted by the whole host. [`request`] and [`answer`] are
//! the one way those programs call the API: from a typed call ([`crate::calls`]), never from a
//! path written by hand.

use crate::calls::{Body, BodyError, Call, url};
use std::path::Path;

/// A call that did not get its answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// A route whose method is not an HTTP method (the routes are constants: a test would see).
    #[error("the route's method `{0}` is not an HTTP method")]
    Method(&'static str),
    #[error("the request body: {0}")]
    Request(BodyError),
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    /// A status other than success, with the server's body (its `ErrorBody` as text).
    #[error("{status} {body}")]
    Status { status: u16, body: String },
    #[error("the answer is not what the call declares: {0}")]
    Answer(BodyError),
}

/// The request of call `C` on the studio at `base`, for the caller to add its credentials,
/// headers and timeout to, then send and read with [`answer`].
pub fn request<C: Call>(
    client: &reqwest::Client,
    base: &str,
    params: &C::Params,
    query: &C::Query,
    body: &<C::Request as Body>::Value,
) -> Result<reqwest::RequestBuilder, CallError> {
    let method = reqwest::Method::from_bytes(C::ROUTE.method.as_bytes())
        .map_err(|_| CallError::Method(C::ROUTE.method))?;
    let request = client.request(method, url::<C>(base, params, query));
    Ok(
        match <C::Request as Body>::encode(body).map_err(CallError::Request)? {
            Some((kind, bytes)) => request.header("Content-Type", kind).body(bytes),
            None => request,
        },
    )
}

/// The value of call `C`'s answer, or its status and body when it is not a success.
pub async fn answer<C: Call>(
    response: reqwest::Response,
) -> Result<<C::Response as Body>::Value, CallError> {
    let status = response.status();
    let bytes = response.bytes().await?;
    if !status.is_success() {
        return Err(CallError::Status {
            status: status.as_u16(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        });
    }
    <C::Response as Body>::decode(&bytes).map_err(CallError::Answer)
}

/// A client builder that trusts the CAs in `ca_cert` (PEM, one or more) instead of the
/// system's roots, or the system's roots without one.
pub fn builder(ca_cert: Option<&Path>) -> Result<reqwest::ClientBuilder, String> {
    let builder = reqwest::Client::builder().use_rustls_tls();
    let Some(path) = ca_cert else {
        return Ok(builder);
    };
    let pem =
        std::fs::read(path).map_err(|e| format!("reading --ca-cert {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("--ca-cert {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "--ca-cert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file",
            path.display()
        ));
    }
    Ok(certs
        .into_iter()
        .fold(builder.tls_built_in_root_certs(false), |b, c| {
            b.add_root_certificate(c)
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_certificates_is_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("rs-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = builder(Some(&empty)).err().unwrap();
        assert!(
            e.contains("no PEM certificate") && e.contains("empty.pem"),
            "{e}"
        );
        let e = builder(Some(&dir.join("missing.pem"))).err().unwrap();
        assert!(
            e.contains("reading --ca-cert") && e.contains("missing.pem"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
