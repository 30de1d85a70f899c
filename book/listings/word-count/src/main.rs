//! An MCP server with one tool, `word_count`, that counts the words of a text file line by
//! line and reports each line as progress while it reads.

use mcp_core::{Server, tool};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Counts the words of a text file, reporting each line's count as progress.
#[tool(read_only)]
async fn word_count(
    /// The file to read, as a path on the server's machine.
    #[arg(min_len = 1)]
    path: String,
) -> Result<String, String> {
    // Name the file in every error: the model sees this text, not a stack trace.
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| format!("cannot open {path}: {e}"))?;
    let mut lines = BufReader::new(file).lines();
    let (mut line_count, mut words) = (0, 0);
    while let Some(line) = lines
        .next_line()
        .await
        .map_err(|e| format!("cannot read {path}: {e}"))?
    {
        line_count += 1;
        let here = line.split_whitespace().count();
        words += here;
        // Reaches the client now, while the rest of the file is still unread.
        yield_!(format!("line {line_count}: {here} words"));
    }
    Ok(format!("{path}: {words} words in {line_count} lines"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::builder("word-count", env!("CARGO_PKG_VERSION"))
        .tool(word_count)
        .build()?;
    // --transport stdio|http|sse, --bind, --help, ...; logs on stderr; stops on Ctrl-C.
    mcp_transport::serve(&server).await?;
    Ok(())
}
