//! The conformance server's prompts, written with `#[prompt]`.

use mcp_core::prompt;
use mcp_core::protocol::{Completion, Content, PromptMessage, ResourceContents};

use super::PNG;

/// The values that completion suggests for `arg1` of `test_prompt_with_arguments`.
const ARG1_VALUES: [&str; 5] = ["paris", "park", "party", "test", "testing"];

/// A simple prompt without arguments
#[prompt]
pub(super) async fn test_simple_prompt() -> &'static str {
    "This is a simple prompt for testing."
}

/// The values of `arg1` that start with what has been typed.
fn complete_arg1(typed: &str) -> Completion {
    let values = Completion::matching(ARG1_VALUES, typed).values;
    Completion {
        total: Some(values.len() as u64),
        has_more: Some(false),
        values,
    }
}

/// A prompt with two required arguments
#[prompt]
pub(super) async fn test_prompt_with_arguments(
    /// First test argument
    #[arg(complete = complete_arg1)]
    arg1: String,
    /// Second test argument
    arg2: String,
) -> String {
    format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")
}

/// A prompt that embeds the resource it is given
#[prompt]
pub(super) async fn test_prompt_with_embedded_resource(
    /// URI of the resource to embed
    #[arg(rename = "resourceUri")]
    resource_uri: String,
) -> Vec<PromptMessage> {
    let contents = ResourceContents::text(resource_uri, "Embedded resource content for testing.")
        .mime_type("text/plain");
    vec![
        PromptMessage::user(Content::resource(contents)),
        PromptMessage::user("Please process the embedded resource above."),
    ]
}

/// A prompt that carries an image
#[prompt]
pub(super) async fn test_prompt_with_image() -> Vec<PromptMessage> {
    vec![
        PromptMessage::user(Content::image(PNG, "image/png")),
        PromptMessage::user("Please analyze the image above."),
    ]
}
