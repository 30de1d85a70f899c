//! The conformance server's resources: two static ones, a template and a watched resource.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mcp_core::error::{ErrorCode, RpcError};
use mcp_core::protocol::{
    Completion, ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
    TextResourceContents,
};
use mcp_core::tool::BoxFuture;
use mcp_core::{Context, ResourceProvider, ServerBuilder, StaticResource};

use super::{PNG, WATCHED_URI};

const TEMPLATE: &str = "test://template/{id}/data";
const TEMPLATE_PREFIX: &str = "test://template/";
const TEMPLATE_SUFFIX: &str = "/data";

/// The ids that completion suggests for the template's `{id}`.
const KNOWN_IDS: [&str; 4] = ["123", "124", "200", "abc"];

fn described(resource: Resource, description: &str) -> Resource {
    Resource {
        description: Some(description.into()),
        ..resource
    }
}

fn text_result(uri: &str, mime_type: &str, text: String) -> ReadResourceResult {
    ReadResourceResult {
        contents: vec![ResourceContents::Text(TextResourceContents {
            uri: uri.to_owned(),
            mime_type: Some(mime_type.into()),
            text,
            meta: None,
        })],
        meta: None,
    }
}

/// `test://template/{id}/data`: JSON data for any id.
struct Template;

impl ResourceProvider for Template {
    fn resources(&self) -> Vec<Resource> {
        Vec::new()
    }

    fn templates(&self) -> Vec<ResourceTemplate> {
        vec![ResourceTemplate {
            uri_template: TEMPLATE.into(),
            name: "template-data".into(),
            title: None,
            description: Some("JSON data for the id in the URI".into()),
            mime_type: Some("application/json".into()),
            annotations: None,
            meta: None,
        }]
    }

    fn read(
        &self,
        _ctx: Context,
        uri: &str,
    ) -> Option<BoxFuture<Result<ReadResourceResult, RpcError>>> {
        let id = uri
            .strip_prefix(TEMPLATE_PREFIX)?
            .strip_suffix(TEMPLATE_SUFFIX)?
            .to_owned();
        let uri = uri.to_owned();
        Some(Box::pin(async move {
            if id.is_empty() || id.contains('/') {
                return Err(RpcError::new(
                    ErrorCode::RESOURCE_NOT_FOUND,
                    format!("Resource not found: {uri}"),
                ));
            }
            let text = serde_json::json!({
                "id": id,
                "templateTest": true,
                "data": format!("Data for ID: {id}")
            });
            Ok(text_result(&uri, "application/json", text.to_string()))
        }))
    }

    fn complete(&self, template: &str, argument: &str, value: &str) -> Option<Completion> {
        (template == TEMPLATE && argument == "id").then(|| Completion {
            values: KNOWN_IDS
                .into_iter()
                .filter(|id| id.starts_with(value))
                .map(String::from)
                .collect(),
            ..Completion::default()
        })
    }
}

/// The state behind `test://watched-resource`: a revision that `update_watched_resource`
/// increments.
#[derive(Debug, Default)]
pub(super) struct Watched {
    revision: AtomicU64,
}

impl Watched {
    /// Moves to the next revision and returns it.
    pub(super) fn bump(&self) -> u64 {
        self.revision.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn text(&self) -> String {
        let revision = self.revision.load(Ordering::SeqCst);
        format!("Watched resource content, revision {revision}")
    }
}

/// Serves [`Watched`] as `test://watched-resource`.
struct WatchedProvider(Arc<Watched>);

impl ResourceProvider for WatchedProvider {
    fn resources(&self) -> Vec<Resource> {
        vec![described(
            Resource::new(WATCHED_URI, "watched-resource", "text/plain"),
            "A resource that changes; subscribe to hear about it",
        )]
    }

    fn read(
        &self,
        _ctx: Context,
        uri: &str,
    ) -> Option<BoxFuture<Result<ReadResourceResult, RpcError>>> {
        if uri != WATCHED_URI {
            return None;
        }
        let result = text_result(uri, "text/plain", self.0.text());
        Some(Box::pin(async move { Ok(result) }))
    }
}

/// Adds every resource to `builder`.
pub(super) fn register(builder: ServerBuilder, watched: Arc<Watched>) -> ServerBuilder {
    let text = StaticResource::text(
        described(
            Resource::new("test://static-text", "static-text", "text/plain"),
            "A static text resource for testing",
        ),
        "This is the content of the static text resource.",
    );
    let binary = StaticResource::blob(
        described(
            Resource::new("test://static-binary", "static-binary", "image/png"),
            "A static binary resource (a 1x1 PNG) for testing",
        ),
        PNG,
    );
    builder
        .resources(text)
        .resources(binary)
        .resources(Template)
        .resources(WatchedProvider(watched))
}
