//! Procedural macros for `mcp-core`. Use them through `mcp_core::{tool, tools}`.

use proc_macro::TokenStream;

/// Turns an async function into an MCP tool. (Placeholder during bring-up.)
#[proc_macro_attribute]
pub fn tool(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Collects the `#[tool]` methods of an `impl` block. (Placeholder during bring-up.)
#[proc_macro_attribute]
pub fn tools(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
