//! The conformance server's resources, written with `#[resource]`: two static ones, a
//! template, and a watched resource that a tool changes.

use std::sync::atomic::{AtomicU64, Ordering};

use mcp_core::protocol::{Completion, ResourceContents};
use mcp_core::{Context, resource, tools};
use serde_json::{Value, json};

use super::{PNG, WATCHED_URI};

/// The ids that completion suggests for the template's `{id}`.
const KNOWN_IDS: [&str; 4] = ["123", "124", "200", "abc"];

/// A static text resource for testing
#[resource("test://static-text", name = "static-text", mime_type = "text/plain")]
pub(super) async fn static_text() -> &'static str {
    "This is the content of the static text resource."
}

/// A static binary resource (a 1x1 PNG) for testing
#[resource(
    "test://static-binary",
    name = "static-binary",
    mime_type = "image/png"
)]
pub(super) async fn static_binary() -> ResourceContents {
    ResourceContents::blob("test://static-binary", PNG).mime_type("image/png")
}

fn complete_id(typed: &str) -> Completion {
    Completion::matching(KNOWN_IDS, typed)
}

/// JSON data for the id in the URI
#[resource("test://template/{id}/data", name = "template-data")]
pub(super) async fn template_data(
    /// The id the data is for.
    #[arg(complete = complete_id)]
    id: String,
) -> Value {
    json!({
        "id": id,
        "templateTest": true,
        "data": format!("Data for ID: {id}")
    })
}

/// The state behind `test://watched-resource`: a revision that `update_watched_resource`
/// increments, telling the subscribers.
#[derive(Debug, Default)]
pub(super) struct Watched {
    revision: AtomicU64,
}

#[tools]
impl Watched {
    /// A resource that changes; subscribe to hear about it
    #[resource("test://watched-resource", name = "watched-resource")]
    async fn watched_resource(&self) -> String {
        let revision = self.revision.load(Ordering::SeqCst);
        format!("Watched resource content, revision {revision}")
    }

    /// Changes test://watched-resource and notifies the sessions subscribed to it.
    #[tool]
    async fn update_watched_resource(&self, ctx: Context) -> String {
        let revision = self.revision.fetch_add(1, Ordering::SeqCst) + 1;
        ctx.notify_resource_updated(WATCHED_URI).await;
        format!("{WATCHED_URI} is now at revision {revision}")
    }
}
