//! Structured output, and errors the model can read.

// ANCHOR: all
use mcp_core::tool;
use schemars::JsonSchema;
use serde::Serialize;

/// The summary of a list of numbers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Summary {
    /// How many numbers there were.
    pub count: usize,
    /// Their mean.
    pub mean: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

/// Summarises a list of numbers: count, mean, minimum and maximum.
#[tool(read_only)]
pub async fn summarize(
    /// The numbers to summarise.
    values: Vec<f64>,
) -> Result<Summary, String> {
    if values.is_empty() {
        // An `Err` becomes a result with `isError: true` that the model can read.
        return Err("give at least one number".into());
    }
    let count = values.len();
    let mean = values.iter().sum::<f64>() / count as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(Summary {
        count,
        mean,
        min,
        max,
    })
}
// ANCHOR_END: all
