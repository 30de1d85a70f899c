//! The conformance server's prompts.

use std::collections::HashMap;

use mcp_core::error::RpcError;
use mcp_core::protocol::{
    Completion, Content, EmbeddedResource, GetPromptResult, PromptArgument, PromptDefinition,
    PromptMessage, ResourceContents, TextResourceContents,
};
use mcp_core::tool::BoxFuture;
use mcp_core::{Context, FnPrompt, Prompt, ServerBuilder};

use super::PNG;

/// The values that completion suggests for `arg1` of `test_prompt_with_arguments`.
const ARG1_VALUES: [&str; 5] = ["paris", "park", "party", "test", "testing"];

fn definition(name: &str, description: &str, arguments: &[(&str, &str)]) -> PromptDefinition {
    let arguments = arguments
        .iter()
        .map(|(name, description)| PromptArgument {
            name: (*name).into(),
            title: None,
            description: Some((*description).into()),
            required: Some(true),
        })
        .collect::<Vec<_>>();
    PromptDefinition {
        name: name.into(),
        title: None,
        description: Some(description.into()),
        arguments: (!arguments.is_empty()).then_some(arguments),
        meta: None,
    }
}

fn messages(messages: Vec<PromptMessage>) -> Result<GetPromptResult, RpcError> {
    Ok(GetPromptResult {
        description: None,
        messages,
        meta: None,
    })
}

/// A prompt whose argument completion is a function: [`FnPrompt`] plus `complete`.
struct Completing<P, C> {
    prompt: P,
    complete: C,
}

impl<P, C> Prompt for Completing<P, C>
where
    P: Prompt,
    C: Fn(&str, &str) -> Completion + Send + Sync + 'static,
{
    fn definition(&self) -> PromptDefinition {
        self.prompt.definition()
    }

    fn get(
        &self,
        ctx: Context,
        arguments: HashMap<String, String>,
    ) -> BoxFuture<Result<GetPromptResult, RpcError>> {
        self.prompt.get(ctx, arguments)
    }

    fn complete(&self, argument: &str, value: &str) -> Completion {
        (self.complete)(argument, value)
    }
}

fn complete_arg1(argument: &str, value: &str) -> Completion {
    if argument != "arg1" {
        return Completion::default();
    }
    let values: Vec<String> = ARG1_VALUES
        .into_iter()
        .filter(|v| v.starts_with(value))
        .map(String::from)
        .collect();
    Completion {
        total: Some(values.len() as u64),
        has_more: Some(false),
        values,
    }
}

/// Adds every prompt to `builder`.
pub(super) fn register(builder: ServerBuilder) -> ServerBuilder {
    let simple = FnPrompt::new(
        definition(
            "test_simple_prompt",
            "A simple prompt without arguments",
            &[],
        ),
        |_ctx, _args| async {
            messages(vec![PromptMessage::user(
                "This is a simple prompt for testing.",
            )])
        },
    );
    let with_arguments = FnPrompt::new(
        definition(
            "test_prompt_with_arguments",
            "A prompt with two required arguments",
            &[
                ("arg1", "First test argument"),
                ("arg2", "Second test argument"),
            ],
        ),
        |_ctx, args: HashMap<String, String>| async move {
            let text = format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                args["arg1"], args["arg2"]
            );
            messages(vec![PromptMessage::user(text)])
        },
    );
    let embedded = FnPrompt::new(
        definition(
            "test_prompt_with_embedded_resource",
            "A prompt that embeds the resource it is given",
            &[("resourceUri", "URI of the resource to embed")],
        ),
        |_ctx, args: HashMap<String, String>| async move {
            let resource = Content::Resource(EmbeddedResource {
                resource: ResourceContents::Text(TextResourceContents {
                    uri: args["resourceUri"].clone(),
                    mime_type: Some("text/plain".into()),
                    text: "Embedded resource content for testing.".into(),
                    meta: None,
                }),
                annotations: None,
                meta: None,
            });
            messages(vec![
                PromptMessage::user(resource),
                PromptMessage::user("Please process the embedded resource above."),
            ])
        },
    );
    let image = FnPrompt::new(
        definition(
            "test_prompt_with_image",
            "A prompt that carries an image",
            &[],
        ),
        |_ctx, _args| async {
            messages(vec![
                PromptMessage::user(Content::image(PNG, "image/png")),
                PromptMessage::user("Please analyze the image above."),
            ])
        },
    );
    builder
        .prompt(simple)
        .prompt(Completing {
            prompt: with_arguments,
            complete: complete_arg1,
        })
        .prompt(embedded)
        .prompt(image)
}
