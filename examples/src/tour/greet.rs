//! Parameters: required, defaulted and optional.

// ANCHOR: all
use mcp_core::tool;

/// Greets someone, optionally several times.
#[tool]
pub async fn greet(
    /// Who to greet.
    name: String,
    /// How many times (default 1).
    #[arg(default = 1)]
    times: u32,
    /// Put before the greeting, if given.
    prefix: Option<String>,
) -> String {
    let prefix = prefix.map(|p| format!("{p} ")).unwrap_or_default();
    vec![format!("{prefix}Hello, {name}!"); times as usize].join("\n")
}
// ANCHOR_END: all
