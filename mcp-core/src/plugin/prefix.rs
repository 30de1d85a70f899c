//! A plugin's prefix applied to what it offers: tool and prompt names become `prefix_name`,
//! resource URIs and templates `scheme://prefix/rest`.

use std::collections::HashMap;
use std::sync::Arc;

use super::Catalog;
use crate::context::Context;
use crate::error::RpcError;
use crate::jsonrpc::Payload;
use crate::prompt::Prompt;
use crate::protocol::{
    CallToolResult, Completion, GetPromptResult, PromptDefinition, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, ToolDefinition,
};
use crate::resource::ResourceProvider;
use crate::tool::{BoxFuture, Tool};

/// The prefix a plugin is mounted under; empty for none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Prefix(Arc<str>);

impl Prefix {
    pub(crate) fn new(prefix: &str) -> Self {
        Prefix(Arc::from(prefix))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A tool or prompt name as clients see it.
    pub(crate) fn name(&self, name: &str) -> String {
        if self.is_empty() {
            name.to_owned()
        } else {
            format!("{}_{name}", self.0)
        }
    }

    /// A resource URI (or URI template) as clients see it: the prefix becomes the first
    /// segment after the scheme: `scheme://rest` becomes `scheme://p/rest` (so `file:///a`
    /// becomes `file://p//a`), and `scheme:rest` becomes `scheme:p/rest`.
    pub(crate) fn resource_uri(&self, uri: &str) -> String {
        if self.is_empty() {
            return uri.to_owned();
        }
        match uri.split_once(':') {
            Some((scheme, rest)) => match rest.strip_prefix("//") {
                Some(rest) => format!("{scheme}://{}/{rest}", self.0),
                None => format!("{scheme}:{}/{rest}", self.0),
            },
            None => format!("{}/{uri}", self.0),
        }
    }

    /// A URI as the plugin names it, or `None` when `uri` is not under this prefix.
    pub(crate) fn strip_resource_uri<'a>(&self, uri: &'a str) -> Option<std::borrow::Cow<'a, str>> {
        use std::borrow::Cow;
        if self.is_empty() {
            return Some(Cow::Borrowed(uri));
        }
        let under = |rest: &'a str| {
            rest.strip_prefix(&*self.0)
                .and_then(|r| r.strip_prefix('/'))
        };
        match uri.split_once(':') {
            Some((scheme, rest)) => match rest.strip_prefix("//") {
                Some(rest) => under(rest).map(|r| Cow::Owned(format!("{scheme}://{r}"))),
                None => under(rest).map(|r| Cow::Owned(format!("{scheme}:{r}"))),
            },
            None => under(uri).map(Cow::Borrowed),
        }
    }

    /// `catalog` as clients see it.
    pub(crate) fn apply(&self, catalog: Catalog) -> Catalog {
        if self.is_empty() {
            return catalog;
        }
        Catalog {
            tools: catalog
                .tools
                .into_iter()
                .map(|inner| {
                    Arc::new(PrefixedTool {
                        prefix: self.clone(),
                        inner,
                    }) as Arc<dyn Tool>
                })
                .collect(),
            prompts: catalog
                .prompts
                .into_iter()
                .map(|inner| {
                    Arc::new(PrefixedPrompt {
                        prefix: self.clone(),
                        inner,
                    }) as Arc<dyn Prompt>
                })
                .collect(),
            resources: catalog
                .resources
                .into_iter()
                .map(|inner| {
                    Arc::new(PrefixedResources {
                        prefix: self.clone(),
                        inner,
                    }) as Arc<dyn ResourceProvider>
                })
                .collect(),
        }
    }
}

struct PrefixedTool {
    prefix: Prefix,
    inner: Arc<dyn Tool>,
}

impl Tool for PrefixedTool {
    fn definition(&self) -> ToolDefinition {
        let mut d = self.inner.definition();
        d.name = self.prefix.name(&d.name);
        d
    }

    fn call(&self, ctx: Context, arguments: Payload) -> BoxFuture<CallToolResult> {
        self.inner.call(ctx, arguments)
    }

    fn call_or_error(
        &self,
        ctx: Context,
        arguments: Payload,
    ) -> BoxFuture<Result<CallToolResult, RpcError>> {
        self.inner.call_or_error(ctx, arguments)
    }

    fn call_reply(&self, ctx: Context, arguments: Payload) -> crate::tool::ReplyCall {
        self.inner.call_reply(ctx, arguments)
    }
}

struct PrefixedPrompt {
    prefix: Prefix,
    inner: Arc<dyn Prompt>,
}

impl Prompt for PrefixedPrompt {
    fn definition(&self) -> PromptDefinition {
        let mut d = self.inner.definition();
        d.name = self.prefix.name(&d.name);
        d
    }

    fn get(
        &self,
        ctx: Context,
        arguments: HashMap<String, String>,
    ) -> BoxFuture<Result<GetPromptResult, RpcError>> {
        self.inner.get(ctx, arguments)
    }

    fn complete(&self, argument: &str, value: &str) -> Completion {
        self.inner.complete(argument, value)
    }
}

struct PrefixedResources {
    prefix: Prefix,
    inner: Arc<dyn ResourceProvider>,
}

impl ResourceProvider for PrefixedResources {
    fn resources(&self) -> Vec<Resource> {
        let mut all = self.inner.resources();
        for r in &mut all {
            r.uri = self.prefix.resource_uri(&r.uri);
        }
        all
    }

    fn templates(&self) -> Vec<ResourceTemplate> {
        let mut all = self.inner.templates();
        for t in &mut all {
            t.uri_template = self.prefix.resource_uri(&t.uri_template);
        }
        all
    }

    fn read(
        &self,
        ctx: Context,
        uri: &str,
    ) -> Option<BoxFuture<Result<ReadResourceResult, RpcError>>> {
        let inner_uri = self.prefix.strip_resource_uri(uri)?;
        let future = self.inner.read(ctx, &inner_uri)?;
        let prefix = self.prefix.clone();
        Some(Box::pin(async move {
            let mut result = future.await?;
            for contents in &mut result.contents {
                let uri = match contents {
                    ResourceContents::Text(t) => &mut t.uri,
                    ResourceContents::Blob(b) => &mut b.uri,
                };
                *uri = prefix.resource_uri(uri);
            }
            Ok(result)
        }))
    }

    fn complete(&self, template: &str, argument: &str, value: &str) -> Option<Completion> {
        let inner = self.prefix.strip_resource_uri(template)?;
        self.inner.complete(&inner, argument, value)
    }
}

#[cfg(test)]
mod tests {
    use super::Prefix;

    #[test]
    fn uris_gain_and_lose_the_prefix() {
        let p = Prefix::new("stata");
        for (plain, prefixed) in [
            ("file:///tmp/a.log", "file://stata//tmp/a.log"),
            ("stata://session/{id}", "stata://stata/session/{id}"),
            ("urn:x:y", "urn:stata/x:y"),
        ] {
            assert_eq!(p.resource_uri(plain), prefixed);
            assert_eq!(p.strip_resource_uri(prefixed).as_deref(), Some(plain));
        }
        assert_eq!(p.strip_resource_uri("stata://other/x"), None);
        assert_eq!(p.name("run"), "stata_run");
        assert_eq!(Prefix::new("").name("run"), "run");
    }
}
