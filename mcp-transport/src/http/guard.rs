//! Checks made on request headers before any session sees the request: DNS-rebinding
//! protection (Host, Origin), bearer authentication, content negotiation, protocol version.

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use mcp_core::ProtocolVersion;
use subtle::ConstantTimeEq;

use std::sync::Arc;

use super::config::{BearerIdentity, HostPolicy};
use super::reject::Rejection;
use super::scan::Scanned;
use super::session::SessionSeen;

/// The `MCP-Protocol-Version` header (a `HeaderName`, so that looking it up parses nothing).
pub(crate) const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");

/// One allowed host: a lowercase name and, optionally, the only port allowed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostPattern {
    name: String,
    port: Option<u16>,
}

/// A resolved [`HostPolicy`]: what `Host` and what `Origin` may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostCheck {
    hosts: Names,
    origins: Names,
}

/// Which names one header may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Names {
    /// Anything (or the header may be absent).
    Any,
    /// One of these.
    Allow(Vec<HostPattern>),
}

impl Names {
    fn allows(&self, name: &str, port: Option<u16>) -> bool {
        match self {
            Names::Any => true,
            Names::Allow(list) => list.iter().any(|p| {
                p.name.eq_ignore_ascii_case(name) && p.port.is_none_or(|want| port == Some(want))
            }),
        }
    }

    fn describe(&self, none: &str) -> String {
        match self {
            Names::Any => "any".into(),
            Names::Allow(list) if list.is_empty() => none.into(),
            Names::Allow(list) => list
                .iter()
                .map(|p| match p.port {
                    Some(port) => format!("{}:{port}", p.name),
                    None => p.name.clone(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

impl HostCheck {
    /// Resolves a policy; `loopback` says whether the listener is bound to a loopback address
    /// (`None` when unknown, as for a service mounted by hand).
    pub(crate) fn resolve(policy: &HostPolicy, loopback: Option<bool>) -> Self {
        let localhost = || {
            let names = Names::Allow(
                ["localhost", "127.0.0.1", "[::1]"]
                    .into_iter()
                    .map(|name| HostPattern {
                        name: name.into(),
                        port: None,
                    })
                    .collect(),
            );
            HostCheck {
                hosts: names.clone(),
                origins: names,
            }
        };
        match policy {
            HostPolicy::Auto if loopback == Some(false) => HostCheck {
                hosts: Names::Any,
                origins: Names::Allow(Vec::new()),
            },
            HostPolicy::Auto | HostPolicy::Localhost => localhost(),
            HostPolicy::Any => HostCheck {
                hosts: Names::Any,
                origins: Names::Any,
            },
            HostPolicy::AllowList(names) => {
                let names = Names::Allow(
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
                );
                HostCheck {
                    hosts: names.clone(),
                    origins: names,
                }
            }
        }
    }

    /// What the server accepts, for its start-up log line.
    pub(crate) fn describe(&self) -> String {
        let origins = match (&self.hosts, &self.origins) {
            (Names::Allow(_), Names::Allow(_)) if self.hosts == self.origins => {
                "the same names".to_owned()
            }
            (_, origins) => origins.describe("none (requests from browsers are refused)"),
        };
        format!("Host: {}; Origin: {origins}", self.hosts.describe("none"))
    }

    /// Whether the check lets every request through (only with [`HostPolicy::Any`]).
    pub(crate) fn is_off(&self) -> bool {
        self.hosts == Names::Any && self.origins == Names::Any
    }

    /// [`check_scanned`](Self::check_scanned) with the headers looked up.
    #[cfg(test)]
    pub(crate) fn check(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Rejection> {
        let scanned = super::scan::Scanned::of(headers);
        self.check_scanned(&scanned, uri)
    }

    /// [`check_scanned`](Self::check_scanned) for a request on a connection that remembers
    /// the `Host` it last accepted (`seen`): a request with that same `Host`, no absolute-form
    /// target and no `Origin` (every request of a usual client after its first) passes
    /// without the value being parsed again.
    pub(crate) fn check_on(
        &self,
        scanned: &Scanned<'_>,
        uri: &Uri,
        seen: Option<&HostSeen>,
    ) -> Result<(), Rejection> {
        let Some(seen) = seen else {
            return self.check_scanned(scanned, uri);
        };
        let plain = uri.authority().is_none() && scanned.origin.first().is_none();
        let host = scanned
            .host
            .first()
            .filter(|_| plain && !scanned.host.repeated());
        if let Some(host) = host
            && seen.is(host.as_bytes())
        {
            return Ok(());
        }
        self.check_scanned(scanned, uri)?;
        if let Some(host) = host {
            seen.remember(host.as_bytes());
        }
        Ok(())
    }

    /// Checks `Host` and the request's authority (absolute form) and, if present, `Origin`.
    /// Two `Host` or two `Origin` headers are refused whatever the policy (RFC 9112 §3.2).
    pub(crate) fn check_scanned(&self, scanned: &Scanned<'_>, uri: &Uri) -> Result<(), Rejection> {
        if scanned.host.repeated() {
            return Err(Rejection::DuplicateHeader("Host"));
        }
        if scanned.origin.repeated() {
            return Err(Rejection::DuplicateHeader("Origin"));
        }
        let (host, origin) = (scanned.host.first(), scanned.origin.first());
        if self.is_off() {
            return Ok(());
        }
        let allowed = |value: Option<&str>| {
            value
                .and_then(split_host)
                .is_some_and(|(name, port)| self.hosts.allows(name, port))
        };
        // An absolute-form target names the host the request is for (RFC 9112 §3.2.2): it
        // must pass as `Host` would, and so must `Host` itself when present.
        if let Some(authority) = uri.authority()
            && !allowed(Some(authority.as_str()))
        {
            return Err(Rejection::BadHost);
        }
        match host {
            Some(host) if !allowed(host.to_str().ok()) => return Err(Rejection::BadHost),
            None if uri.authority().is_none() && self.hosts != Names::Any => {
                return Err(Rejection::BadHost);
            }
            _ => {}
        }
        if let Some(origin) = origin {
            let ok = origin
                .to_str()
                .ok()
                .and_then(split_origin)
                .is_some_and(|(name, port)| self.origins.allows(name, Some(port)));
            if !ok {
                return Err(Rejection::BadOrigin);
            }
        }
        Ok(())
    }
}

/// The longest `Host` value a [`HostSeen`] remembers (`127.0.0.1:65535`, `localhost:8080` and
/// most names with a port fit; a longer one is checked in full each time). It sits in every
/// connection's task, whose size tokio rounds up to 128 bytes: at 46 the task of an idle
/// connection took one more 128-byte line (the idle session's 13.7 -> 13.9 KiB, ninth stop).
const HOST_SEEN_MAX: usize = 30;

/// What a connection remembers of the requests it accepted: the `Host` value its last
/// request passed the check with (see [`HostCheck::check_on`]), kept as a copy, not a view
/// into hyper's read buffer, which it would keep alive; and the session its last POST named
/// (see [`SessionSeen`]).
#[derive(Default)]
pub(crate) struct HostSeen {
    host: std::cell::Cell<Option<(u8, [u8; HOST_SEEN_MAX])>>,
    pub(crate) session: SessionSeen,
}

impl HostSeen {
    fn is(&self, value: &[u8]) -> bool {
        self.host
            .get()
            .is_some_and(|(len, bytes)| bytes.get(..usize::from(len)) == Some(value))
    }

    fn remember(&self, value: &[u8]) {
        let mut bytes = [0; HOST_SEEN_MAX];
        let len = value.len();
        if let (Some(to), Ok(n)) = (bytes.get_mut(..len), u8::try_from(len)) {
            to.copy_from_slice(value);
            self.host.set(Some((n, bytes)));
        }
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
    if name.is_empty() || name.bytes().any(|b| matches!(b, b'/' | b'@' | b' ')) {
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

/// Checks `Authorization: Bearer <token>` against every accepted token, each in constant
/// time; returns the identity of the token given, or `None` when authentication is off.
pub(crate) fn check_bearer(
    headers: &HeaderMap,
    accepted: &[BearerIdentity],
) -> Result<Option<Arc<str>>, Rejection> {
    if accepted.is_empty() {
        return Ok(None);
    }
    let given = headers
        .get(AUTHORIZATION)
        .map(|v| v.as_bytes())
        .and_then(|v| {
            let (scheme, rest) = v.split_at_checked(7)?;
            scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
        })
        .map(|t| t.trim_ascii())
        .ok_or(Rejection::Unauthorized)?;
    // Every token is compared, so the time taken does not tell which one came close.
    let mut found = None;
    for identity in accepted {
        if bool::from(given.ct_eq(&identity.token)) {
            found = Some(identity.name.clone());
        }
    }
    found.map(Some).ok_or(Rejection::Unauthorized)
}

/// Whether the `Accept` header allows `media` (`type/subtype`), wildcards included. A
/// missing header allows nothing: MCP clients must send one.
pub(crate) fn accepts(headers: &HeaderMap, media: &str) -> bool {
    let [allowed] = accepts_each(headers, [media]);
    allowed
}

/// The `Accept` values MCP clients send, each with the media types it lists.
const USUAL_ACCEPT: [(&str, [&str; 2]); 2] = [
    (
        "application/json, text/event-stream",
        ["application/json", "text/event-stream"],
    ),
    (
        "text/event-stream, application/json",
        ["text/event-stream", "application/json"],
    ),
];

/// [`accepts`] for several media types, in one pass over the `Accept` header.
pub(crate) fn accepts_each<const N: usize>(headers: &HeaderMap, media: [&str; N]) -> [bool; N] {
    accepts_each_of(headers.get_all(ACCEPT), media)
}

/// Whether `value` is one of the `Accept` values MCP clients send (each lists both JSON and
/// event streams), compared as bytes: what a POST must accept, found without a parse.
pub(crate) fn is_usual_accept(value: &HeaderValue) -> bool {
    USUAL_ACCEPT
        .iter()
        .any(|(usual, _)| usual.as_bytes() == value.as_bytes())
}

/// [`accepts_each`] over the values of the `Accept` header, as given.
pub(crate) fn accepts_each_of<'a, const N: usize>(
    values: impl IntoIterator<Item = &'a HeaderValue>,
    media: [&str; N],
) -> [bool; N] {
    let mut allowed = [false; N];
    for value in values {
        // What MCP clients send, read at once: two plain types, no wildcard, no parameter
        // (compared as bytes: equal to that text, the value is that text).
        let usual = USUAL_ACCEPT
            .iter()
            .find(|(usual, _)| usual.as_bytes() == value.as_bytes());
        if let Some(types) = usual {
            for (media, allowed) in media.iter().zip(&mut allowed) {
                // The media asked for are usually written as the usual value writes them.
                *allowed = *allowed
                    || types
                        .1
                        .iter()
                        .any(|t| t == media || t.eq_ignore_ascii_case(media));
            }
            continue;
        }
        let Ok(value) = value.to_str() else {
            continue;
        };
        for range in value.split(',') {
            let (range, params) = range.split_once(';').unwrap_or((range, ""));
            let range = range.trim();
            let refused = !params.is_empty()
                && params.split(';').map(str::trim).any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
            if refused {
                continue;
            }
            let any = range == "*/*";
            let kind = range.strip_suffix("/*");
            for (media, allowed) in media.iter().zip(&mut allowed) {
                *allowed = *allowed
                    || any
                    || range.eq_ignore_ascii_case(media)
                    || kind.is_some_and(|k| {
                        media
                            .split_once('/')
                            .is_some_and(|(t, _)| k.eq_ignore_ascii_case(t))
                    });
            }
        }
    }
    allowed
}

/// Whether the body is declared as `application/json` (parameters such as charset allowed).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    is_json_value(headers.get(CONTENT_TYPE))
}

/// [`is_json`] of the `Content-Type` value given (the first, as `HeaderMap::get` finds).
pub(crate) fn is_json_value(content_type: Option<&HeaderValue>) -> bool {
    // The usual value, compared as bytes before anything is parsed (as sent, then in any case).
    const JSON: &[u8] = b"application/json";
    if content_type.is_some_and(|v| v.as_bytes() == JSON || v.as_bytes().eq_ignore_ascii_case(JSON))
    {
        return true;
    }
    content_type
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
    use crate::http::test_headers::headers;
    use http::header::{HOST, ORIGIN};

    /// A `Host` longer than a connection remembers passes its check each time in full, and
    /// leaves what the connection remembered as it was.
    #[test]
    fn a_host_too_long_to_remember_is_checked_each_time() {
        let long = "mcp-gateway.internal.example.com:8000";
        let check = HostCheck::resolve(
            &HostPolicy::AllowList(vec!["127.0.0.1".into(), long.into()]),
            Some(true),
        );
        let uri = Uri::from_static("/mcp");
        let seen = HostSeen::default();
        assert!(long.len() > HOST_SEEN_MAX);
        let on = |host: &'static str| {
            let map = headers(&[("host", host)]);
            check.check_on(&Scanned::of(&map), &uri, Some(&seen))
        };
        assert_eq!(on("127.0.0.1:8000"), Ok(()));
        assert_eq!(on(long), Ok(()), "a long listed Host passes");
        assert!(!seen.is(long.as_bytes()), "not remembered");
        assert!(seen.is(b"127.0.0.1:8000"), "the short one still is");
        assert_eq!(on(long), Ok(()), "and passes again, checked in full");
    }

    /// A connection's remembered `Host` lets the same value through again, and nothing else:
    /// another value, an `Origin`, a second `Host` or an absolute-form target are checked.
    #[test]
    fn a_remembered_host_passes_only_as_it_was() {
        let check = HostCheck::resolve(&HostPolicy::Auto, Some(true));
        let uri = Uri::from_static("/mcp");
        let seen = HostSeen::default();
        let on = |pairs: &[(&'static str, &'static str)], uri: &Uri| {
            let map = headers(pairs);
            check.check_on(&Scanned::of(&map), uri, Some(&seen))
        };
        assert_eq!(
            on(&[("host", "evil.example.com")], &uri),
            Err(Rejection::BadHost)
        );
        assert!(
            !seen.is(b"evil.example.com"),
            "a refused value is not remembered"
        );
        assert_eq!(on(&[("host", "127.0.0.1:8000")], &uri), Ok(()));
        assert!(seen.is(b"127.0.0.1:8000"));
        assert_eq!(on(&[("host", "127.0.0.1:8000")], &uri), Ok(()));
        assert_eq!(
            on(&[("host", "evil.example.com")], &uri),
            Err(Rejection::BadHost)
        );
        assert_eq!(
            on(
                &[
                    ("host", "127.0.0.1:8000"),
                    ("origin", "http://evil.example.com")
                ],
                &uri
            ),
            Err(Rejection::BadOrigin)
        );
        assert_eq!(
            on(
                &[("host", "127.0.0.1:8000"), ("host", "127.0.0.1:8000")],
                &uri
            ),
            Err(Rejection::DuplicateHeader("Host"))
        );
        let absolute = Uri::from_static("http://evil.example.com/mcp");
        assert_eq!(
            on(&[("host", "127.0.0.1:8000")], &absolute),
            Err(Rejection::BadHost)
        );
        // Too long to remember: checked every time, and still accepted when allowed.
        let long = HostCheck::resolve(
            &HostPolicy::AllowList(vec!["a-rather-long-host-name.internal.example.com".into()]),
            None,
        );
        let map = headers(&[("host", "a-rather-long-host-name.internal.example.com:8000")]);
        let seen = HostSeen::default();
        assert_eq!(long.check_on(&Scanned::of(&map), &uri, Some(&seen)), Ok(()));
        assert!(!seen.is(b"a-rather-long-host-name.internal.example.com:8000"));
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
    }

    #[test]
    fn beyond_loopback_auto_accepts_any_host_but_no_browser_origin() {
        let check = HostCheck::resolve(&HostPolicy::Auto, Some(false));
        let uri = Uri::from_static("/mcp");
        assert_eq!(
            check.check(&headers(&[("host", "10.0.0.5:8000")]), &uri),
            Ok(())
        );
        assert_eq!(check.check(&HeaderMap::new(), &uri), Ok(()));
        let browser = headers(&[("host", "10.0.0.5"), ("origin", "http://10.0.0.5")]);
        assert_eq!(check.check(&browser, &uri), Err(Rejection::BadOrigin));
        assert!(
            check.describe().contains("Host: any"),
            "{}",
            check.describe()
        );
        assert!(check.describe().contains("browsers are refused"));
        let listed = HostCheck::resolve(
            &HostPolicy::AllowList(vec!["mcp.example.com".into()]),
            Some(false),
        );
        let ok = headers(&[
            ("host", "mcp.example.com"),
            ("origin", "https://mcp.example.com"),
        ]);
        assert_eq!(listed.check(&ok, &uri), Ok(()));
        assert_eq!(
            listed.describe(),
            "Host: mcp.example.com; Origin: the same names"
        );
    }

    #[test]
    fn duplicate_headers_and_absolute_form_targets() {
        let check = HostCheck::resolve(&HostPolicy::Localhost, None);
        let uri = Uri::from_static("/mcp");
        let two_hosts = headers(&[("host", "localhost"), ("host", "evil.example")]);
        assert_eq!(
            check.check(&two_hosts, &uri),
            Err(Rejection::DuplicateHeader("Host"))
        );
        let two_origins = headers(&[
            ("host", "localhost"),
            ("origin", "http://localhost"),
            ("origin", "http://evil.example"),
        ]);
        assert_eq!(
            check.check(&two_origins, &uri),
            Err(Rejection::DuplicateHeader("Origin"))
        );
        // Even with the check off: RFC 9112 requires 400 for two Host headers.
        let off = HostCheck::resolve(&HostPolicy::Any, None);
        assert_eq!(
            off.check(&two_hosts, &uri),
            Err(Rejection::DuplicateHeader("Host"))
        );
        let local = headers(&[("host", "localhost")]);
        let foreign = Uri::from_static("http://evil.example/mcp");
        assert_eq!(check.check(&local, &foreign), Err(Rejection::BadHost));
        let own = Uri::from_static("http://localhost:8000/mcp");
        assert_eq!(check.check(&local, &own), Ok(()));
        let with_user = Uri::from_static("http://user@localhost/mcp");
        assert_eq!(check.check(&local, &with_user), Err(Rejection::BadHost));
        assert_eq!(check.check(&HeaderMap::new(), &own), Ok(()));
    }

    fn identity(name: &str, token: &str) -> BearerIdentity {
        BearerIdentity {
            name: name.into(),
            token: Arc::from(token.as_bytes()),
        }
    }

    #[test]
    fn bearer_tokens() {
        let accepted = [identity("bearer", "s3cret")];
        let token = &accepted[..];
        let me = Ok(Some(Arc::from("bearer")));
        assert_eq!(check_bearer(&HeaderMap::new(), &[]), Ok(None));
        assert_eq!(
            check_bearer(&headers(&[("authorization", "Bearer s3cret")]), token),
            me
        );
        assert_eq!(
            check_bearer(&headers(&[("authorization", "bearer s3cret")]), token),
            me
        );
        let two = [identity("alice", "a-token"), identity("bob", "b-token")];
        assert_eq!(
            check_bearer(&headers(&[("authorization", "Bearer b-token")]), &two),
            Ok(Some(Arc::from("bob")))
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

    /// The usual values, read at once, give what reading them range by range gives.
    #[test]
    fn usual_accept_values_read_as_any_other() {
        for (usual, _) in USUAL_ACCEPT {
            // Another space after the comma: the same ranges, read the general way.
            let spaced = usual.replace(", ", ",  ");
            for media in [
                "application/json",
                "text/event-stream",
                "TEXT/EVENT-STREAM",
                "text/html",
                "application/xml",
            ] {
                assert_eq!(
                    accepts(&headers(&[("accept", usual)]), media),
                    accepts(
                        &HeaderMap::from_iter([(ACCEPT, HeaderValue::from_str(&spaced).unwrap())]),
                        media
                    ),
                    "{usual} {media}"
                );
            }
        }
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
