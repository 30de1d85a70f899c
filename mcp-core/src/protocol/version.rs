//! Protocol revisions and version negotiation.

use std::fmt;
use std::str::FromStr;

/// A published MCP protocol revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// 2024-11-05: the first revision (HTTP+SSE transport).
    V2024_11_05,
    /// 2025-03-26: streamable HTTP, batches, audio content, tool annotations.
    V2025_03_26,
    /// 2025-06-18: structured tool output, elicitation, no batches.
    V2025_06_18,
    /// 2025-11-25: icons, tasks, URL elicitation, input validation as tool errors.
    V2025_11_25,
    /// 2026-07-28: stateless. No `initialize`: every request carries its own `_meta`
    /// (version, client capabilities and info, log level); `server/discover`; multi round-trip
    /// requests instead of server-to-client requests.
    V2026_07_28,
}

impl ProtocolVersion {
    /// Every revision this crate speaks with `initialize`, oldest first.
    pub const ALL: [ProtocolVersion; 4] = [
        ProtocolVersion::V2024_11_05,
        ProtocolVersion::V2025_03_26,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_11_25,
    ];

    /// The newest revision this crate speaks with `initialize` (the stateful era).
    pub const LATEST: ProtocolVersion = ProtocolVersion::V2025_11_25;

    /// Every stateless revision this crate speaks (per-request `_meta`, no `initialize`).
    pub const MODERN: [ProtocolVersion; 1] = [ProtocolVersion::V2026_07_28];

    /// The newest stateless revision this crate speaks.
    pub const LATEST_MODERN: ProtocolVersion = ProtocolVersion::V2026_07_28;

    /// Whether this is a stateless revision (2026-07-28 and later): requests carry their own
    /// `_meta` and there is no session.
    pub fn is_modern(self) -> bool {
        self >= ProtocolVersion::V2026_07_28
    }

    /// The revision's date string, as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2024_11_05 => "2024-11-05",
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
            ProtocolVersion::V2026_07_28 => "2026-07-28",
        }
    }

    /// The version a server answers `initialize` with: the client's request if this crate
    /// speaks it, otherwise the latest this crate speaks (the client then decides whether to
    /// disconnect), as the lifecycle section of every revision prescribes.
    /// A stateless revision is never the answer: `initialize` belongs to the stateful era.
    pub fn negotiate(requested: &str) -> ProtocolVersion {
        requested
            .parse()
            .ok()
            .filter(|v: &ProtocolVersion| !v.is_modern())
            .unwrap_or(ProtocolVersion::LATEST)
    }

    /// Whether tool results may carry `structuredContent` and tools an `outputSchema`.
    pub fn has_structured_output(self) -> bool {
        self >= ProtocolVersion::V2025_06_18
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string named no revision this crate speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported protocol version {0:?}")]
pub struct UnsupportedVersion(pub String);

impl FromStr for ProtocolVersion {
    type Err = UnsupportedVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProtocolVersion::ALL
            .into_iter()
            .chain(ProtocolVersion::MODERN)
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnsupportedVersion(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_known_and_falls_back() {
        for v in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::negotiate(v.as_str()), v);
        }
        assert_eq!(
            ProtocolVersion::negotiate("1999-01-01"),
            ProtocolVersion::LATEST
        );
        assert!(ProtocolVersion::V2024_11_05 < ProtocolVersion::V2025_11_25);
        assert_eq!(
            ProtocolVersion::negotiate("2026-07-28"),
            ProtocolVersion::LATEST,
            "initialize never negotiates a stateless revision"
        );
        assert!("2026-07-28".parse::<ProtocolVersion>().unwrap().is_modern());
        assert!(!ProtocolVersion::LATEST.is_modern());
    }
}
