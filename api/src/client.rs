//! The one way the studio's programs make HTTP(S) clients (the collector and `rulestudio
//! serve --collector` towards the server, the server towards `--forward-url`/`--notify-url`):
//! rustls, verifying the peer against the system's roots, or, with `--ca-cert`, against only
//! the certificates in that file (as `curl --cacert` does), so that a private CA is trusted
//! by these programs without being trusted by the whole host.

use std::path::Path;

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
