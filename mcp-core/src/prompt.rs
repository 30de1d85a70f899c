//! The [`Prompt`] trait: templates that expand into messages.
//!
//! Most prompts are written with `#[prompt]` (see [`macro@crate::prompt`]); this module is what
//! the macro expands to, and what a hand-written prompt implements.

use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::str::FromStr;

use crate::context::Context;
use crate::error::RpcError;
use crate::protocol::{Completion, Content, GetPromptResult, PromptDefinition, PromptMessage};
use crate::tool::BoxFuture;

/// A prompt a server offers.
pub trait Prompt: Send + Sync + 'static {
    /// The definition listed by `prompts/list`.
    fn definition(&self) -> PromptDefinition;

    /// Expands the prompt with the given arguments. A missing required argument is the
    /// caller's mistake: answer it with [`RpcError::invalid_params`].
    fn get(
        &self,
        ctx: Context,
        arguments: HashMap<String, String>,
    ) -> BoxFuture<Result<GetPromptResult, RpcError>>;

    /// Suggestions for an argument being typed (`completion/complete`). None by default.
    fn complete(&self, argument: &str, value: &str) -> Completion {
        let _ = (argument, value);
        Completion::default()
    }
}

/// A function returning a prompt is a prompt: `#[prompt] async fn review(..)` becomes
/// `fn review() -> impl Prompt`, so a server registers it as `.prompt(review)`.
impl<F, P> Prompt for F
where
    F: Fn() -> P + Send + Sync + 'static,
    P: Prompt,
{
    fn definition(&self) -> PromptDefinition {
        self().definition()
    }

    fn get(
        &self,
        ctx: Context,
        arguments: HashMap<String, String>,
    ) -> BoxFuture<Result<GetPromptResult, RpcError>> {
        self().get(ctx, arguments)
    }

    fn complete(&self, argument: &str, value: &str) -> Completion {
        self().complete(argument, value)
    }
}

/// A prompt made of a definition and a closure.
pub struct FnPrompt<F> {
    definition: PromptDefinition,
    f: F,
}

impl<F, Fut> FnPrompt<F>
where
    F: Fn(Context, HashMap<String, String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<GetPromptResult, RpcError>> + Send + 'static,
{
    /// A prompt with the given definition whose expansion runs `f`. Required arguments
    /// (per the definition) are checked before `f` runs.
    pub fn new(definition: PromptDefinition, f: F) -> Self {
        FnPrompt { definition, f }
    }
}

impl<F, Fut> Prompt for FnPrompt<F>
where
    F: Fn(Context, HashMap<String, String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<GetPromptResult, RpcError>> + Send + 'static,
{
    fn definition(&self) -> PromptDefinition {
        self.definition.clone()
    }

    fn get(
        &self,
        ctx: Context,
        arguments: HashMap<String, String>,
    ) -> BoxFuture<Result<GetPromptResult, RpcError>> {
        let required: Vec<&str> = self
            .definition
            .arguments
            .iter()
            .flatten()
            .filter(|a| a.required == Some(true))
            .map(|a| a.name.as_str())
            .collect();
        if let Err(e) = check_required(&self.definition.name, &arguments, &required) {
            return Box::pin(async move { Err(e) });
        }
        Box::pin((self.f)(ctx, arguments))
    }
}

/// What a prompt's body may return: text (one user message), content (one user message), a
/// message, several messages, or a whole result.
#[diagnostic::on_unimplemented(
    message = "a prompt returns text (`String`), `Content`, a `PromptMessage`, a `Vec<PromptMessage>` or a `GetPromptResult` (or a `Result` of one), not `{Self}`",
    label = "not a prompt's result"
)]
pub trait IntoGetPromptResult {
    /// Converts into the result of `prompts/get`.
    fn into_get_prompt_result(self) -> Result<GetPromptResult, RpcError>;
}

impl IntoGetPromptResult for GetPromptResult {
    fn into_get_prompt_result(self) -> Result<GetPromptResult, RpcError> {
        Ok(self)
    }
}

impl IntoGetPromptResult for Vec<PromptMessage> {
    fn into_get_prompt_result(self) -> Result<GetPromptResult, RpcError> {
        Ok(GetPromptResult::new(self))
    }
}

impl IntoGetPromptResult for PromptMessage {
    fn into_get_prompt_result(self) -> Result<GetPromptResult, RpcError> {
        Ok(GetPromptResult::new(vec![self]))
    }
}

impl IntoGetPromptResult for Content {
    fn into_get_prompt_result(self) -> Result<GetPromptResult, RpcError> {
        PromptMessage::user(self).into_get_prompt_result()
    }
}

impl IntoGetPromptResult for String {
    fn into_get_prompt_result(self) -> Result<GetPromptResult, RpcError> {
        PromptMessage::user(self).into_get_prompt_result()
    }
}

impl IntoGetPromptResult for &'static str {
    fn into_get_prompt_result(self) -> Result<GetPromptResult, RpcError> {
        PromptMessage::user(self).into_get_prompt_result()
    }
}

/// `Err(e)` answers `prompts/get` with a JSON-RPC internal error (`-32603`) whose message is
/// the text of `e`. (`#[prompt]` passes an `RpcError` through as it is, code included.)
impl<T: IntoGetPromptResult, E: Display> IntoGetPromptResult for Result<T, E> {
    fn into_get_prompt_result(self) -> Result<GetPromptResult, RpcError> {
        match self {
            Ok(value) => value.into_get_prompt_result(),
            Err(e) => Err(RpcError::internal(format!("{e:#}"))),
        }
    }
}

/// What a completion function may return: the suggestions as strings, or a whole
/// [`Completion`].
pub trait IntoCompletion {
    /// Converts into the suggestions sent to the client.
    fn into_completion(self) -> Completion;
}

impl IntoCompletion for Completion {
    fn into_completion(self) -> Completion {
        self
    }
}

impl<S: Into<String>> IntoCompletion for Vec<S> {
    fn into_completion(self) -> Completion {
        Completion::new(self)
    }
}

/// Fails with `-32602` naming every argument of `required` that `arguments` lacks.
pub fn check_required(
    prompt: &str,
    arguments: &HashMap<String, String>,
    required: &[&str],
) -> Result<(), RpcError> {
    let missing: Vec<String> = required
        .iter()
        .filter(|name| !arguments.contains_key(**name))
        .map(|name| format!("`{name}`"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(RpcError::invalid_params(format!(
            "prompt `{prompt}` needs the argument{} {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )))
    }
}

/// Parses a value from text with its `FromStr` impl, the error as text: the `parse` function
/// of [`parse_argument`], [`required_argument`] and [`variable`](crate::resource::variable)
/// for any `FromStr` type.
pub fn from_str<T>(text: &str) -> Result<T, String>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse().map_err(|e: T::Err| e.to_string())
}

/// Parses the argument `name` with `parse`, if given: `Ok(None)` when absent, `-32602` naming
/// the argument when it does not parse.
///
/// ```
/// use std::collections::HashMap;
/// use mcp_core::prompt::{from_str, parse_argument};
///
/// let args = HashMap::from([("n".to_owned(), "12".to_owned())]);
/// assert_eq!(parse_argument("p", &args, "n", from_str::<u32>).unwrap(), Some(12));
/// ```
pub fn parse_argument<T>(
    prompt: &str,
    arguments: &HashMap<String, String>,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, RpcError> {
    match arguments.get(name) {
        None => Ok(None),
        Some(text) => parse(text).map(Some).map_err(|e| {
            RpcError::invalid_params(format!(
                "argument `{name}` of prompt `{prompt}` is not valid: {e}"
            ))
        }),
    }
}

/// Parses the required argument `name` with `parse`: `-32602` naming it when it is absent or
/// does not parse.
pub fn required_argument<T>(
    prompt: &str,
    arguments: &HashMap<String, String>,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, RpcError> {
    parse_argument(prompt, arguments, name, parse)?.ok_or_else(|| {
        RpcError::invalid_params(format!("prompt `{prompt}` needs the argument `{name}`"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn missing_arguments_are_all_named() {
        let e = check_required("p", &args(&[("a", "1")]), &["a", "b", "c"]).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("arguments `b`, `c`"), "{}", e.message);
        assert!(check_required("p", &args(&[("a", "1")]), &["a"]).is_ok());
    }

    #[test]
    fn arguments_parse_from_text() {
        let a = args(&[("n", "12"), ("bad", "x")]);
        assert_eq!(
            parse_argument("p", &a, "n", from_str::<u32>).unwrap(),
            Some(12)
        );
        assert_eq!(
            parse_argument("p", &a, "absent", from_str::<u32>).unwrap(),
            None
        );
        let e = parse_argument("p", &a, "bad", from_str::<u32>).unwrap_err();
        assert!(e.message.contains("argument `bad` of prompt `p`"), "{e}");
        let e = required_argument("p", &a, "absent", from_str::<u32>).unwrap_err();
        assert!(e.message.contains("needs the argument `absent`"), "{e}");
    }

    #[test]
    fn results_convert() {
        let r = "hello".into_get_prompt_result().unwrap();
        assert_eq!(r.messages.len(), 1);
        let r: Result<String, &str> = Err("no such language");
        let e = r.into_get_prompt_result().unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::INTERNAL_ERROR);
        assert!(e.message.contains("no such language"));
    }
}
