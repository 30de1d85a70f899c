//! Handlers for listing and reading what a server offers: prompts, resources, completions,
//! and the pagination they share with `tools/list`.

use serde::Serialize;

use super::Server;
use crate::context::Context;
use crate::error::RpcError;
use crate::jsonrpc::Payload;
use crate::protocol::{
    CompleteParams, CompleteResult, CompletionRef, GetPromptParams, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ResourceUriParams,
};

pub(super) use crate::middleware::Answer;

/// A result encoded once, straight to its JSON text (no `Value` map in between), in a
/// buffer of its exact size.
pub(super) fn to_payload<T: Serialize>(value: &T) -> Payload {
    Payload::encode_exact(value).unwrap_or_else(|e| {
        // The protocol's result types are objects with string keys: this does not happen.
        tracing::error!(error = %e, "a result could not be encoded");
        Payload::new()
    })
}

/// One page of `items` starting at the opaque `cursor` (an offset this server issued).
pub(super) fn paginate<T>(
    mut items: Vec<T>,
    cursor: Option<&str>,
    page_size: usize,
) -> Result<(Vec<T>, Option<String>), RpcError> {
    let start = match cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| RpcError::invalid_params(format!("unknown cursor {c:?}")))?,
    };
    let end = (start + page_size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    items.truncate(end);
    Ok((items.split_off(start), next))
}

pub(super) fn list_prompts(server: &Server, cursor: Option<&str>) -> Result<Payload, RpcError> {
    let all = server
        .catalog()
        .prompts
        .iter()
        .map(|p| p.definition())
        .collect();
    let (prompts, next_cursor) = paginate(all, cursor, server.inner.page_size)?;
    Ok(to_payload(&ListPromptsResult {
        prompts,
        next_cursor,
    }))
}

pub(super) fn get_prompt(
    server: &Server,
    ctx: Context,
    params: GetPromptParams,
) -> Result<Answer, RpcError> {
    let catalog = server.catalog();
    let prompt = catalog
        .prompts
        .iter()
        .find(|p| p.definition().name == params.name)
        .ok_or_else(|| RpcError::invalid_params(format!("unknown prompt `{}`", params.name)))?
        .clone();
    // Expanded when the middleware runs the call, not before.
    Ok(Box::pin(async move {
        prompt
            .get(ctx, params.arguments)
            .await
            .map(|r| to_payload(&r))
    }))
}

pub(super) fn list_resources(server: &Server, cursor: Option<&str>) -> Result<Payload, RpcError> {
    let all = server
        .catalog()
        .resources
        .iter()
        .flat_map(|p| p.resources())
        .collect();
    let (resources, next_cursor) = paginate(all, cursor, server.inner.page_size)?;
    Ok(to_payload(&ListResourcesResult {
        resources,
        next_cursor,
    }))
}

pub(super) fn list_templates(server: &Server, cursor: Option<&str>) -> Result<Payload, RpcError> {
    let all = server
        .catalog()
        .resources
        .iter()
        .flat_map(|p| p.templates())
        .collect();
    let (resource_templates, next_cursor) = paginate(all, cursor, server.inner.page_size)?;
    Ok(to_payload(&ListResourceTemplatesResult {
        resource_templates,
        next_cursor,
    }))
}

pub(super) fn read_resource(
    server: &Server,
    ctx: Context,
    params: ResourceUriParams,
) -> Result<Answer, RpcError> {
    for provider in &server.catalog().resources {
        if let Some(future) = provider.read(ctx.clone(), &params.uri) {
            return Ok(Box::pin(
                async move { future.await.map(|r| to_payload(&r)) },
            ));
        }
    }
    Err(RpcError::resource_not_found(&params.uri))
}

pub(super) fn complete(server: &Server, params: CompleteParams) -> Result<Payload, RpcError> {
    let arg = &params.argument;
    let catalog = server.catalog();
    let completion = match &params.reference {
        CompletionRef::Prompt { name } => catalog
            .prompts
            .iter()
            .find(|p| &p.definition().name == name)
            .ok_or_else(|| RpcError::invalid_params(format!("unknown prompt `{name}`")))?
            .complete(&arg.name, &arg.value),
        CompletionRef::Resource { uri } => catalog
            .resources
            .iter()
            .find_map(|p| p.complete(uri, &arg.name, &arg.value))
            .unwrap_or_default(),
    };
    let mut completion = completion;
    if completion.values.len() > 100 {
        completion.total = completion.total.or(Some(completion.values.len() as u64));
        completion.values.truncate(100);
        completion.has_more = Some(true);
    }
    Ok(to_payload(&CompleteResult { completion }))
}

#[cfg(test)]
mod tests {
    use super::paginate;

    #[test]
    fn pages_and_cursors() {
        let items: Vec<u32> = (0..7).collect();
        let (p, next) = paginate(items.clone(), None, 3).unwrap();
        assert_eq!((p, next.as_deref()), (vec![0, 1, 2], Some("3")));
        let (p, next) = paginate(items.clone(), Some("6"), 3).unwrap();
        assert_eq!((p, next), (vec![6], None));
        assert!(paginate(items, Some("9"), 3).is_err());
    }
}
