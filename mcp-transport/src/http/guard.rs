//! Checks made on request headers before any session sees the request: DNS-rebinding
//! protection (Host, Origin), bearer authentication, content negotiation, protocol version.

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, Uri};
use mcp_core::ProtocolVersion;
use subtle::ConstantTimeEq;

use super::config::HostPolicy;
use super::reject::Rejection;

/// The `MCP-Protocol-Version` header.
pub(crate) const PROTOCOL_VERSION: &str = "mcp-protocol-version";

/// One allowed host: a lowercase name and, optionally, the only port allowed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostPattern {
    name: String,
    port: Option<u16>,
}

/// A resolved [`HostPolicy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostCheck {
    Off,
    Allow(Vec<HostPattern>),
}

impl HostCheck {
    /// Resolves a policy; `loopback` says whether the listener is bound to a loopback address
    /// (`None` when unknown, as for a service mounted by hand).
    pub(crate) fn resolve(policy: &HostPolicy, loopback: Option<bool>) -> Self {
        let localhost = || {
            HostCheck::Allow(
                ["localhost", "127.0.0.1", "[::1]"]
                    .into_iter()
                    .map(|name| HostPattern {
                        name: name.into(),
                        port: None,
                    })
                    .collect(),
            )
        };
        match policy {
            HostPolicy::Auto if loopback == Some(false) => {
                tracing::warn!(
                    "the MCP HTTP server listens beyond loopback without a host allow-list: \
                     Host and Origin are not checked (set HttpConfig::hosts)"
                );
                HostCheck::Off
            }
            HostPolicy::Auto | HostPolicy::Localhost => localhost(),
            HostPolicy::Any => HostCheck::Off,
            HostPolicy::AllowList(names) => HostCheck::Allow(
                names
                    .iter()
                    .filter_map(|entry| {
                        let (name, port) = split_host(entry.trim())?;
                        Some(HostPattern {
                            name: name.to_ascii_lowercase(),
                            port,
                        })
                    })
                    .collect(),
            ),
        }
    }

    fn allows(&self, name: &str, port: Option<u16>) -> bool {
        match self {
            HostCheck::Off => true,
            HostCheck::Allow(list) => list.iter().any(|p| {
                p.name.eq_ignore_ascii_case(name) && p.port.is_none_or(|want| port == Some(want))
            }),
        }
    }

    /// Checks `Host` (or the request's authority) and, if present, `Origin`.
    pub(crate) fn check(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Rejection> {
        if *self == HostCheck::Off {
            return Ok(());
        }
        let host = match headers.get(HOST) {
            Some(h) => h.to_str().ok(),
            None => uri.authority().map(|a| a.as_str()),
        };
        let host_ok = host
            .and_then(split_host)
            .is_some_and(|(name, port)| self.allows(name, port));
        if !host_ok {
            return Err(Rejection::BadHost);
        }
        if let Some(origin) = headers.get(ORIGIN) {
            let ok = origin
                .to_str()
                .ok()
                .and_then(split_origin)
                .is_some_and(|(name, port)| self.allows(name, Some(port)));
            if !ok {
                return Err(Rejection::BadOrigin);
            }
        }
        Ok(())
    }
}

/// Splits `name[:port]` or `[v6][:port]`; the brackets stay part of the name.
fn split_host(s: &str) -> Option<(&str, Option<u16>)> {
    let (name, port) = if s.starts_with('[') {
        let end = s.find(']')?;
        let (name, rest) = s.split_at(end + 1);
        match rest {
            "" => (name, None),
            _ => (name, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match s.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (s, None),
        }
    };
    if name.is_empty() || name.contains(['/', '@', ' ']) {
        return None;
    }
    match port {
        None => Some((name, None)),
        Some(p) => Some((name, Some(p.parse().ok()?))),
    }
}

/// Splits an origin `scheme://host[:port]` into its host and (explicit or default) port.
/// `null` and anything with a path, user info or an unknown scheme are refused.
fn split_origin(origin: &str) -> Option<(&str, u16)> {
    let (scheme, rest) = origin.split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let (name, port) = split_host(rest)?;
    Some((name, port.unwrap_or(default_port)))
}

/// Checks `Authorization: Bearer <token>` in constant time.
pub(crate) fn check_bearer(headers: &HeaderMap, token: Option<&[u8]>) -> Result<(), Rejection> {
    let Some(token) = token else { return Ok(()) };
    let given = headers
        .get(AUTHORIZATION)
        .map(|v| v.as_bytes())
        .and_then(|v| {
            let (scheme, rest) = v.split_at_checked(7)?;
            scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
        })
        .map(|t| t.trim_ascii());
    match given {
        Some(given) if bool::from(given.ct_eq(token)) => Ok(()),
        _ => Err(Rejection::Unauthorized),
    }
}

/// Whether the `Accept` header allows `media` (`type/subtype`), wildcards included. A
/// missing header allows nothing: MCP clients must send one.
pub(crate) fn accepts(headers: &HeaderMap, media: &str) -> bool {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let range = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            !refused
                && (range == "*/*"
                    || range.eq_ignore_ascii_case(media)
                    || range
                        .strip_suffix("/*")
                        .is_some_and(|k| k.eq_ignore_ascii_case(kind)))
        })
}

/// Whether the body is declared as `application/json` (parameters such as charset allowed).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Checks `MCP-Protocol-Version` if present (absent means 2025-03-26, which is supported).
pub(crate) fn check_protocol_version(headers: &HeaderMap) -> Result<(), Rejection> {
    match headers.get(PROTOCOL_VERSION) {
        None => Ok(()),
        Some(v) => {
            let text = String::from_utf8_lossy(v.as_bytes());
            text.parse::<ProtocolVersion>()
                .map(|_| ())
                .map_err(|_| Rejection::BadProtocolVersion(text.into_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn localhost_policy() {
        let check = HostCheck::resolve(&HostPolicy::Auto, Some(true));
        let uri = Uri::from_static("/mcp");
        for host in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "[::1]:3000",
            "LOCALHOST",
        ] {
            let h = HeaderMap::from_iter([(HOST, HeaderValue::from_str(host).unwrap())]);
            assert_eq!(check.check(&h, &uri), Ok(()), "{host}");
        }
        for host in [
            "evil.example.com",
            "localhost.evil.com",
            "127.0.0.2",
            "",
            "localhost:x",
        ] {
            let h = HeaderMap::from_iter([(HOST, HeaderValue::from_str(host).unwrap())]);
            assert_eq!(check.check(&h, &uri), Err(Rejection::BadHost), "{host}");
        }
        assert_eq!(
            check.check(&HeaderMap::new(), &uri),
            Err(Rejection::BadHost)
        );
        let ok = headers(&[("host", "localhost:9"), ("origin", "http://localhost:5173")]);
        assert_eq!(check.check(&ok, &uri), Ok(()));
        for origin in [
            "http://evil.example.com",
            "null",
            "file://localhost",
            "http://localhost/x",
        ] {
            let h = HeaderMap::from_iter([
                (HOST, HeaderValue::from_static("localhost")),
                (ORIGIN, HeaderValue::from_str(origin).unwrap()),
            ]);
            assert_eq!(check.check(&h, &uri), Err(Rejection::BadOrigin), "{origin}");
        }
    }

    #[test]
    fn allow_list_ports_and_auto_beyond_loopback() {
        let policy =
            HostPolicy::AllowList(vec!["api.example.com:8443".into(), "Example.org".into()]);
        let check = HostCheck::resolve(&policy, Some(false));
        let uri = Uri::from_static("/mcp");
        let ok = headers(&[
            ("host", "api.example.com:8443"),
            ("origin", "https://example.org"),
        ]);
        assert_eq!(check.check(&ok, &uri), Ok(()));
        let bad = headers(&[("host", "api.example.com:8080")]);
        assert_eq!(check.check(&bad, &uri), Err(Rejection::BadHost));
        let bad = headers(&[
            ("host", "example.org"),
            ("origin", "https://api.example.com"),
        ]);
        assert_eq!(check.check(&bad, &uri), Err(Rejection::BadOrigin));
        assert_eq!(
            HostCheck::resolve(&HostPolicy::Auto, Some(false)),
            HostCheck::Off
        );
    }

    #[test]
    fn bearer_tokens() {
        let token = Some(&b"s3cret"[..]);
        assert_eq!(check_bearer(&HeaderMap::new(), None), Ok(()));
        assert_eq!(
            check_bearer(&headers(&[("authorization", "Bearer s3cret")]), token),
            Ok(())
        );
        assert_eq!(
            check_bearer(&headers(&[("authorization", "bearer s3cret")]), token),
            Ok(())
        );
        for bad in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Basic s3cret",
            "s3cret",
            "Bearer",
        ] {
            let h = HeaderMap::from_iter([(AUTHORIZATION, HeaderValue::from_static(bad))]);
            assert_eq!(
                check_bearer(&h, token),
                Err(Rejection::Unauthorized),
                "{bad}"
            );
        }
        assert_eq!(
            check_bearer(&HeaderMap::new(), token),
            Err(Rejection::Unauthorized)
        );
    }

    #[test]
    fn accept_negotiation() {
        let both = headers(&[("accept", "application/json, text/event-stream")]);
        assert!(accepts(&both, "application/json") && accepts(&both, "text/event-stream"));
        let split = headers(&[
            ("accept", "application/json"),
            ("accept", "text/event-stream"),
        ]);
        assert!(accepts(&split, "text/event-stream"));
        assert!(accepts(&headers(&[("accept", "*/*")]), "text/event-stream"));
        assert!(accepts(
            &headers(&[("accept", "text/*")]),
            "text/event-stream"
        ));
        assert!(!accepts(
            &headers(&[("accept", "text/*")]),
            "application/json"
        ));
        assert!(!accepts(
            &headers(&[("accept", "text/event-stream;q=0")]),
            "text/event-stream"
        ));
        assert!(!accepts(&HeaderMap::new(), "application/json"));
    }

    #[test]
    fn content_type_and_version() {
        assert!(is_json(&headers(&[(
            "content-type",
            "application/json; charset=utf-8"
        )])));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
        assert!(!is_json(&HeaderMap::new()));
        assert_eq!(check_protocol_version(&HeaderMap::new()), Ok(()));
        let ok = headers(&[("mcp-protocol-version", "2025-06-18")]);
        assert_eq!(check_protocol_version(&ok), Ok(()));
        let bad = headers(&[("mcp-protocol-version", "1999-01-01")]);
        assert!(check_protocol_version(&bad).is_err());
    }
}
