use mcp_core::tool;

struct Report {
    mean: f64,
}

/// Returns a type that cannot be encoded as JSON.
#[tool]
async fn report() -> Report {
    Report { mean: 0.0 }
}

fn main() {
    let _ = Report { mean: 1.0 }.mean;
}
