//! `#[prompt]`: definitions, arguments parsed from text, defaults, completion, results and
//! errors, through a client.

mod common;

use std::collections::HashMap;
use std::num::NonZeroU32;

use common::{connect, within};
use mcp_core::protocol::{
    Completion, CompletionRef, Content, GetPromptResult, PromptMessage, Role,
};
use mcp_core::{Context, ErrorCode, RequestError, RpcError, Server, prompt, tools};

fn languages(typed: &str) -> Vec<&'static str> {
    ["python", "perl", "rust"]
        .into_iter()
        .filter(|l| l.starts_with(typed))
        .collect()
}

/// Asks for a review of a piece of code,
/// written in any language.
#[prompt(title = "Code review")]
async fn review(
    /// The code to
    /// review.
    code: String,
    /// Its language.
    #[arg(complete = languages)]
    language: Option<String>,
    /// How many points at most.
    #[arg(default = NonZeroU32::MIN)]
    points: NonZeroU32,
    #[arg(rename = "tone", default, description = "How to say it.")] style: String,
) -> String {
    let language = language.unwrap_or_else(|| "some".to_owned());
    format!("Review this {language} code in {points} point(s), {style}:\n{code}")
}

/// Two messages: a question and an answer to continue from.
#[prompt(name = "dialogue")]
async fn two_messages(topic: String) -> Vec<PromptMessage> {
    vec![
        PromptMessage::user(format!("Tell me about {topic}.")),
        PromptMessage::assistant("Where should I start?"),
    ]
}

/// A whole result, with a description of the expansion.
#[prompt]
async fn described() -> GetPromptResult {
    GetPromptResult::new(vec![PromptMessage::user(Content::text("hi"))]).description("expanded")
}

/// Fails with the caller's mistake, or with an internal error.
#[prompt]
async fn picky(which: String) -> Result<&'static str, RpcError> {
    match which.as_str() {
        "ok" => Ok("fine"),
        other => Err(RpcError::invalid_params(format!("no such choice: {other}"))),
    }
}

/// Fails with an error of its own type.
#[prompt]
async fn failing() -> Result<String, std::io::Error> {
    Err(std::io::Error::other("the disk is gone"))
}

/// Knows the id of the request it serves.
#[prompt]
async fn request_id(ctx: Context) -> String {
    ctx.request_id().to_string()
}

/// A library whose methods are a prompt and a tool.
struct Library {
    shelves: Vec<&'static str>,
}

#[tools]
impl Library {
    /// Suggests shelves.
    fn shelves(&self) -> &[&'static str] {
        &self.shelves
    }

    /// Names of shelves that start with what was typed.
    fn complete_shelf(typed: &str) -> Completion {
        Completion::matching(["fiction", "facts", "poetry"], typed)
    }

    /// Asks what to read from a shelf.
    #[prompt]
    async fn recommend(
        &self,
        /// The shelf.
        #[arg(complete = Self::complete_shelf)]
        shelf: String,
    ) -> String {
        let known = self.shelves().contains(&shelf.as_str());
        format!("Recommend a book from {shelf} (known: {known}).")
    }

    /// Counts the shelves.
    #[tool]
    async fn count_shelves(&self) -> String {
        self.shelves.len().to_string()
    }
}

fn server() -> Server {
    Server::builder("prompts", "1")
        .prompt(review)
        .prompt(two_messages)
        .prompt(described)
        .prompt(picky)
        .prompt(failing)
        .prompt(request_id)
        .tools(Library {
            shelves: vec!["fiction"],
        })
        .build()
        .expect("the server builds")
}

fn args(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn rpc_error(e: RequestError) -> RpcError {
    match e {
        RequestError::Rpc(e) => e,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

#[tokio::test]
async fn definitions_list_arguments_with_their_docs() {
    let client = connect(&server()).await;
    let prompts = within(client.list_prompts()).await.unwrap();
    let names: Vec<_> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "review",
            "dialogue",
            "described",
            "picky",
            "failing",
            "request_id",
            "recommend"
        ]
    );
    let review = &prompts[0];
    assert_eq!(review.title.as_deref(), Some("Code review"));
    // Wrapped doc comments become one paragraph.
    assert_eq!(
        review.description.as_deref(),
        Some("Asks for a review of a piece of code, written in any language.")
    );
    let arguments = review.arguments.as_ref().unwrap();
    let summary: Vec<_> = arguments
        .iter()
        .map(|a| (a.name.as_str(), a.description.as_deref(), a.required))
        .collect();
    assert_eq!(
        summary,
        [
            ("code", Some("The code to review."), Some(true)),
            ("language", Some("Its language."), Some(false)),
            ("points", Some("How many points at most."), Some(false)),
            ("tone", Some("How to say it."), Some(false)),
        ]
    );
    assert!(prompts[2].arguments.is_none());
}

#[tokio::test]
async fn arguments_are_parsed_and_defaults_fill_in() {
    let client = connect(&server()).await;
    let r = within(client.get_prompt("review", args(&[("code", "x = 1")])))
        .await
        .unwrap();
    assert_eq!(r.messages.len(), 1);
    assert_eq!(r.messages[0].role, Role::User);
    assert_eq!(
        r.messages[0].content.as_text(),
        Some("Review this some code in 1 point(s), :\nx = 1")
    );
    let given = args(&[
        ("code", "fn main() {}"),
        ("language", "rust"),
        ("points", "2"),
        ("tone", "kindly"),
    ]);
    let r = within(client.get_prompt("review", given)).await.unwrap();
    assert_eq!(
        r.messages[0].content.as_text(),
        Some("Review this rust code in 2 point(s), kindly:\nfn main() {}")
    );

    let r = within(client.get_prompt("dialogue", args(&[("topic", "MCP")])))
        .await
        .unwrap();
    let roles: Vec<_> = r.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant]);
    let r = within(client.get_prompt("described", args(&[])))
        .await
        .unwrap();
    assert_eq!(r.description.as_deref(), Some("expanded"));
    let r = within(client.get_prompt("request_id", args(&[])))
        .await
        .unwrap();
    assert!(
        r.messages[0]
            .content
            .as_text()
            .is_some_and(|t| !t.is_empty())
    );
}

#[tokio::test]
async fn bad_arguments_are_the_callers_mistake() {
    let client = connect(&server()).await;
    let e = rpc_error(
        within(client.get_prompt("review", args(&[])))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
    assert!(e.message.contains("needs the argument `code`"), "{e}");
    let bad = args(&[("code", "x"), ("points", "0")]);
    let e = rpc_error(within(client.get_prompt("review", bad)).await.unwrap_err());
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
    assert!(
        e.message.contains("argument `points` of prompt `review`"),
        "{e}"
    );
}

#[tokio::test]
async fn errors_keep_their_code_or_become_internal() {
    let client = connect(&server()).await;
    let r = within(client.get_prompt("picky", args(&[("which", "ok")])))
        .await
        .unwrap();
    assert_eq!(r.messages[0].content.as_text(), Some("fine"));
    let e = rpc_error(
        within(client.get_prompt("picky", args(&[("which", "no")])))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
    assert!(e.message.contains("no such choice: no"), "{e}");
    let e = rpc_error(
        within(client.get_prompt("failing", args(&[])))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, ErrorCode::INTERNAL_ERROR);
    assert!(e.message.contains("the disk is gone"), "{e}");
}

#[tokio::test]
async fn completion_calls_the_argument_function() {
    let client = connect(&server()).await;
    let prompt = |name: &str| CompletionRef::Prompt {
        name: name.to_owned(),
    };
    let c = within(client.complete(prompt("review"), "language", "p"))
        .await
        .unwrap();
    assert_eq!(c.values, ["python", "perl"]);
    let c = within(client.complete(prompt("review"), "code", "p"))
        .await
        .unwrap();
    assert!(c.values.is_empty());
    let c = within(client.complete(prompt("recommend"), "shelf", "f"))
        .await
        .unwrap();
    assert_eq!(c.values, ["fiction", "facts"]);
}

#[tokio::test]
async fn methods_are_prompts_and_tools_of_one_value() {
    let client = connect(&server()).await;
    let r = within(client.get_prompt("recommend", args(&[("shelf", "fiction")])))
        .await
        .unwrap();
    assert_eq!(
        r.messages[0].content.as_text(),
        Some("Recommend a book from fiction (known: true).")
    );
    let r = within(client.call_tool("count_shelves", serde_json::json!({})))
        .await
        .unwrap();
    assert_eq!(r.text(), "1");
}
