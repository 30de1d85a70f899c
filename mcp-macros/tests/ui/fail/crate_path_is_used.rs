// The generated code goes through `crate = "..."` (here a path that does not exist).
mod empty {}

/// Uses a wrong crate path.
#[mcp_core::tool(crate = "crate::empty")]
async fn lost() {}

fn main() {}
