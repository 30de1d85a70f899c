//! `crate = "..."`: generated code reaches mcp-core through the given path, for crates that
//! re-export it under another name.

mod common;

use common::{connect, list, within};
use serde_json::json;

/// mcp-core under another name, as a framework built on it would re-export it.
mod framework {
    pub(crate) use ::mcp_core as core_again;
}

/// Doubles a number.
#[mcp_core::tool(crate = "crate::framework::core_again")]
async fn double(n: i64) -> Result<i64, String> {
    mcp_core::yield_!("doubling");
    Ok(n * 2)
}

struct Doubler;

#[mcp_core::tools(crate = "crate::framework::core_again")]
impl Doubler {
    /// Triples a number.
    #[tool]
    async fn triple(&self, n: i64) -> i64 {
        n * 3
    }
}

#[tokio::test]
async fn a_renamed_crate_path_works() {
    let server = mcp_core::Server::builder("renamed", "1")
        .tool(double)
        .tools(Doubler)
        .build()
        .expect("server builds");
    let client = connect(&server).await;
    assert_eq!(list(&client).await.len(), 2);
    let r = within(client.call_tool("double", json!({"n": 21})))
        .await
        .unwrap();
    assert_eq!(r.structured_content.unwrap()["result"], 42);
    let r = within(client.call_tool("triple", json!({"n": 2})))
        .await
        .unwrap();
    assert_eq!(r.structured_content.unwrap()["result"], 6);
}
