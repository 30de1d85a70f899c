//! Rules that look at several parts of a tool, prompt or resource at once.

use syn::ext::IdentExt;

use crate::ast::{Arg, FnModel, Param};
use crate::attr::Kind;
use crate::errors::Errors;

/// Records every rule `model` breaks.
pub(crate) fn check(model: &FnModel, errors: &mut Errors) {
    let noun = model.kind.name();
    if model.description.is_none() {
        match model.kind {
            Kind::Tool => errors.at(
                &model.ident,
                "a tool needs a description for the model: write a doc comment (`/// What it does.`) above the function, or `#[tool(description = \"...\")]`",
            ),
            Kind::Prompt => errors.at(
                &model.ident,
                "a prompt needs a description: clients show it to the user who picks a prompt; write a doc comment (`/// What it asks for.`) above the function, or `#[prompt(description = \"...\")]`",
            ),
            Kind::Resource => {}
        }
    }
    if model.kind == Kind::Tool {
        check_name(model, errors);
    }
    let mut first_context = None;
    for param in &model.params {
        match param {
            Param::Context(c) => match &first_context {
                None => first_context = Some(&c.ident),
                Some(first) => errors.at(
                    &c.ident,
                    format!(
                        "a {noun} takes at most one `Context` parameter, and `{first}` is already one: remove this one, or clone `{first}` in the body"
                    ),
                ),
            },
            Param::Arg(arg) => check_arg_keys(model.kind, arg, errors),
        }
    }
    if model.kind == Kind::Resource {
        check_variables(model, errors);
    }
}

/// Tool names are 1 to 128 ASCII letters, digits, `_`, `-` and `.` (revision 2025-11-25).
fn check_name(model: &FnModel, errors: &mut Errors) {
    let name = model.name.value();
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if name.is_empty() || name.len() > 128 || !valid_chars {
        errors.at(
            &model.name,
            format!(
                "`{name}` is not a valid tool name: use 1 to 128 ASCII letters, digits, `_`, `-` and `.`"
            ),
        );
    }
}

/// Keys of `#[arg]` that belong to another kind of item, and bounds in the wrong order.
fn check_arg_keys(kind: Kind, arg: &Arg, errors: &mut Errors) {
    let noun = kind.name();
    for (key, path) in arg.arg.keys() {
        let message = match (kind, key) {
            (Kind::Tool, "complete") => "`complete` suggests values for the arguments of prompts and resource templates; a tool's arguments are described by their schema (an enum lists a fixed set of values)".to_owned(),
            (Kind::Prompt | Kind::Resource, "min" | "max" | "min_len" | "max_len" | "pattern") => format!(
                "`{key}` constrains a tool's arguments; a {noun}'s arguments are text: check the value in the body and return an error"
            ),
            (Kind::Resource, "default") => "`default` does not apply to a resource: a variable of its URI always has a value".to_owned(),
            (Kind::Resource, "rename") => "`rename` does not apply to a resource: its parameters are named by the variables of its URI; rename the variable in the URI instead".to_owned(),
            _ => continue,
        };
        errors.at(path, message);
    }
    let a = &arg.arg;
    if let (Some(min), Some(max)) = (&a.min, &a.max)
        && min.value > max.value
    {
        errors.at(
            &max.tokens,
            format!(
                "`max` ({}) is below `min` ({}): no value could pass",
                max.tokens, min.tokens
            ),
        );
    }
    if let (Some(min), Some(max)) = (&a.min_len, &a.max_len)
        && min.value > max.value
    {
        errors.at(
            &max.tokens,
            format!(
                "`max_len` ({}) is below `min_len` ({}): no value could pass",
                max.value, min.value
            ),
        );
    }
}

/// A resource's parameters are exactly the variables of its URI.
fn check_variables(model: &FnModel, errors: &mut Errors) {
    let Some(resource) = &model.resource else {
        return;
    };
    let Some(template) = &resource.template else {
        return;
    };
    let uri = resource.uri.value();
    let variables: Vec<&str> = template.variables().collect();
    let mut named = Vec::new();
    for arg in model.args() {
        let name = arg.ident.unraw().to_string();
        if !variables.contains(&name.as_str()) {
            let fix = if variables.is_empty() {
                format!(
                    "`{uri}` has no variables; make it a template such as `{uri}/{{{name}}}`, or remove the parameter"
                )
            } else {
                format!("add `{{{name}}}` to the URI, or remove the parameter")
            };
            errors.at(
                &arg.ident,
                format!(
                    "`{name}` is not a variable of the URI `{uri}`: a resource's parameters are the variables of its URI; {fix}"
                ),
            );
        }
        named.push(name);
    }
    for variable in variables {
        if !named.iter().any(|n| n == variable) {
            errors.at(
                &resource.uri,
                format!(
                    "the variable `{{{variable}}}` of the URI has no parameter: add `{variable}: String` (or another type that implements `FromStr`) to the function"
                ),
            );
        }
    }
}
