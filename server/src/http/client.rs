//! Who sent a request: the peer address the connection loop recorded, and, only when that peer
//! is a trusted proxy (`--trusted-proxy`), the client and scheme it forwarded.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The connection a request came on, put in its extensions by [`super::serve`]. Requests
/// without one (tests driving the router directly) have no address and are plain HTTP.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    pub addr: SocketAddr,
    pub tls: bool,
}

/// The client's address: the peer's, or, from a trusted proxy, the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub fn address(peer: Option<&Peer>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?.addr.ip();
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|a| !is_trusted(*a, trusted))
            .unwrap_or(peer),
    )
}

/// Whether the browser reached us over HTTPS: our own TLS, or a trusted proxy saying so.
pub fn is_https(peer: Option<&Peer>, headers: &HeaderMap, trusted: &[IpNet]) -> bool {
    let Some(peer) = peer else {
        return false;
    };
    peer.tls
        || (is_trusted(peer.addr.ip(), trusted)
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https")))
}

fn is_trusted(addr: IpAddr, trusted: &[IpNet]) -> bool {
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    };
    trusted.iter().any(|net| net.contains(&addr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn peer(addr: &str) -> Peer {
        Peer {
            addr: SocketAddr::new(addr.parse().unwrap(), 40000),
            tls: false,
        }
    }

    fn forwarded(for_: &str, proto: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(for_).unwrap());
        h.insert("x-forwarded-proto", HeaderValue::from_str(proto).unwrap());
        h
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = forwarded("203.0.113.9, 10.1.1.1", "https");
        let proxy = peer("10.0.0.2");
        let stranger = peer("192.0.2.7");
        assert_eq!(
            address(Some(&proxy), &h, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        assert!(is_https(Some(&proxy), &h, &trusted));
        assert_eq!(
            address(Some(&stranger), &h, &trusted),
            Some("192.0.2.7".parse().unwrap())
        );
        assert!(!is_https(Some(&stranger), &h, &trusted));
        assert!(!is_https(None, &h, &trusted));
    }
}
