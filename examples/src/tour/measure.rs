//! Progress while the tool runs, with a total, and logs.

// ANCHOR: all
use mcp_core::{Context, tool};

/// Reads each file in turn and reports its size as soon as it is known.
#[tool(read_only)]
pub async fn measure_files(
    /// The files to read.
    paths: Vec<String>,
    ctx: Context,
) -> Result<String, String> {
    // Every following progress report carries this total.
    ctx.set_total(paths.len() as f64);
    let mut bytes = 0;
    for path in &paths {
        ctx.debug(format!("reading {path}")).await;
        // `?` ends the call with an error result, as in any async fn; name the file in it,
        // since an `io::Error` alone says "No such file or directory" without saying which.
        let size = tokio::fs::read(path)
            .await
            .map_err(|e| format!("cannot read {path}: {e}"))?
            .len();
        bytes += size;
        // Sent now, before the next file is opened.
        yield_!(format!("{path}: {size} bytes"));
    }
    Ok(format!("{} files, {bytes} bytes", paths.len()))
}
// ANCHOR_END: all
