//! Who a request comes from: the client's address (the TCP peer, or what a trusted proxy
//! reports) or its bearer identity. Session admission counts sessions per client.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::HeaderMap;

use super::config::{TrustedProxy, canonical};

/// The address of the client a request came from, as a request extension.
///
/// [`serve`](super::serve) knows every connection's peer. An application that mounts
/// [`McpService`](super::McpService) in a server of its own should insert the peer's address
/// into each request's extensions (`request.extensions_mut().insert(ClientAddr(peer))`), so
/// that session admission can tell clients apart; without it, every request counts as coming
/// from one unknown client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// Who opened a session, for admission: one client must not crowd out the others.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ClientKey {
    /// The identity of the bearer token the client gave (authentication on).
    Identity(Arc<str>),
    /// The client's address: the TCP peer, or what a trusted proxy reported.
    Addr(IpAddr),
    /// Unknown (a service mounted without telling it the peer's address).
    Unknown,
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::Identity(name) => write!(f, "identity {name}"),
            ClientKey::Addr(ip) => write!(f, "{ip}"),
            ClientKey::Unknown => f.write_str("an unknown client"),
        }
    }
}

impl ClientKey {
    /// The client of a request: its bearer identity if it has one, else its address.
    pub(crate) fn of(
        identity: Option<Arc<str>>,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
        trusted: &[TrustedProxy],
    ) -> ClientKey {
        if let Some(name) = identity {
            return ClientKey::Identity(name);
        }
        match peer {
            Some(peer) => ClientKey::Addr(client_addr(canonical(peer), headers, trusted)),
            None => ClientKey::Unknown,
        }
    }
}

/// The client's address: `peer`, unless `peer` is a trusted proxy that reports the client in
/// `X-Forwarded-For` (or, without that header, `Forwarded`). Proxies append, so the list is
/// read from the right: the first address that is not a trusted proxy is the client (anything
/// to its left was written by that client and proves nothing).
fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[TrustedProxy]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut hops: Vec<IpAddr> = forwarded_for(headers);
    if hops.is_empty() {
        return peer;
    }
    let leftmost = hops[0];
    hops.reverse();
    hops.into_iter()
        .find(|ip| !is_trusted(*ip))
        .unwrap_or(leftmost)
}

/// The addresses listed by `X-Forwarded-For`, or else by `Forwarded` (`for=`), left to right.
/// A list with an entry that is not an address (`unknown`, an obfuscated name) is cut at that
/// entry's right: nothing to its left can be placed.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let mut entries = values("x-forwarded-for");
    if entries.is_empty() {
        entries = values("forwarded")
            .into_iter()
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| value.trim().trim_matches('"'))
                })
            })
            .collect();
    }
    let mut hops = Vec::with_capacity(entries.len());
    for entry in entries.into_iter().rev() {
        match parse_hop(entry) {
            Some(ip) => hops.push(canonical(ip)),
            None => break,
        }
    }
    hops.reverse();
    hops
}

/// One hop: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = entry.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|ip| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_headers::headers;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxies: Vec<TrustedProxy> = vec!["127.0.0.1".parse().unwrap()];
        let h = headers(&[("x-forwarded-for", "198.51.100.7, 203.0.113.9")]);
        let key = |peer, h: &HeaderMap| ClientKey::of(None, Some(ip(peer)), h, &proxies);
        assert_eq!(key("127.0.0.1", &h), ClientKey::Addr(ip("203.0.113.9")));
        // From anyone else the header is the client's own claim: ignored.
        assert_eq!(key("192.0.2.1", &h), ClientKey::Addr(ip("192.0.2.1")));
        // Trusted hops on the right are skipped.
        let chained: Vec<TrustedProxy> =
            vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
            ("x-forwarded-for", "10.1.2.3"),
        ]);
        let got = ClientKey::of(None, Some(ip("127.0.0.1")), &h, &chained);
        assert_eq!(got, ClientKey::Addr(ip("198.51.100.7")));
        // Forwarded (RFC 7239), with quotes, ports and brackets.
        let h = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\"",
        )]);
        assert_eq!(
            key("127.0.0.1", &h),
            ClientKey::Addr(ip("2001:db8:cafe::17"))
        );
        // An unknown hop cuts the list; no header at all leaves the peer.
        let h = headers(&[("x-forwarded-for", "198.51.100.7, unknown")]);
        assert_eq!(key("127.0.0.1", &h), ClientKey::Addr(ip("127.0.0.1")));
        assert_eq!(
            key("127.0.0.1", &HeaderMap::new()),
            ClientKey::Addr(ip("127.0.0.1"))
        );
        // An identity wins over any address; no peer at all is one unknown client.
        let named = ClientKey::of(Some("alice".into()), Some(ip("127.0.0.1")), &h, &proxies);
        assert_eq!(named, ClientKey::Identity("alice".into()));
        assert_eq!(ClientKey::of(None, None, &h, &proxies), ClientKey::Unknown);
        assert_eq!(parse_hop("192.0.2.1:80"), Some(ip("192.0.2.1")));
    }
}
