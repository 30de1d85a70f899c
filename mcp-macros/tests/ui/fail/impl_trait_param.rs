use mcp_core::tool;

/// Takes anything displayable.
#[tool]
async fn show(value: impl std::fmt::Display) -> String {
    value.to_string()
}

fn main() {}
