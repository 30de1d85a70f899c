//! Which protocol eras a server serves, and their names on a command line.

use super::Era;

/// Which protocol eras a server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Eras {
    /// Both (the default): `initialize` opens a stateful session; a request carrying
    /// 2026-07-28 `_meta` is served statelessly, on the same connection or endpoint.
    #[default]
    Both,
    /// Only the stateful era (2024-11-05 to 2025-11-25): `server/discover` is an unknown
    /// method, as it is to servers that predate 2026-07-28.
    Stateful,
    /// Only the stateless era (2026-07-28): `initialize` is refused with `-32022`, naming the
    /// versions served.
    Stateless,
}

/// A name that is not `both`, `stateful` or `stateless`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown eras {0:?}: use `both`, `stateful` (2024-11-05 to 2025-11-25) or `stateless` (2026-07-28)"
)]
pub struct UnknownEras(pub String);

impl std::str::FromStr for Eras {
    type Err = UnknownEras;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "both" => Ok(Eras::Both),
            "stateful" => Ok(Eras::Stateful),
            "stateless" => Ok(Eras::Stateless),
            other => Err(UnknownEras(other.to_owned())),
        }
    }
}

impl std::fmt::Display for Eras {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Eras::Both => "both",
            Eras::Stateful => "stateful",
            Eras::Stateless => "stateless",
        })
    }
}

impl Eras {
    /// Whether `era` is served.
    pub fn serves(self, era: Era) -> bool {
        matches!(
            (self, era),
            (Eras::Both, _) | (Eras::Stateful, Era::Stateful) | (Eras::Stateless, Era::Stateless)
        )
    }
}
