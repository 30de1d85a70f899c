//! The [`Prompt`] trait: templates that expand into messages.

use std::collections::HashMap;
use std::future::Future;

use crate::context::Context;
use crate::error::RpcError;
use crate::protocol::{Completion, GetPromptResult, Prompt as PromptDefinition};
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
        let missing: Vec<&str> = self
            .definition
            .arguments
            .iter()
            .flatten()
            .filter(|a| a.required == Some(true) && !arguments.contains_key(&a.name))
            .map(|a| a.name.as_str())
            .collect();
        if !missing.is_empty() {
            let e = RpcError::invalid_params(format!(
                "prompt `{}` needs the argument(s) {}",
                self.definition.name,
                missing.join(", ")
            ));
            return Box::pin(async move { Err(e) });
        }
        Box::pin((self.f)(ctx, arguments))
    }
}
