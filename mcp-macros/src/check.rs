//! Rules that look at several parts of a tool at once.

use crate::ast::{Param, ToolModel};
use crate::errors::Errors;

/// Records every rule `model` breaks.
pub(crate) fn check(model: &ToolModel, errors: &mut Errors) {
    if model.description.is_none() {
        errors.at(
            &model.ident,
            "a tool needs a description for the model: write a doc comment (`/// What it does.`) above the function, or `#[tool(description = \"...\")]`",
        );
    }
    check_name(model, errors);
    let mut first_context = None;
    for param in &model.params {
        if let Param::Context(c) = param {
            match &first_context {
                None => first_context = Some(&c.ident),
                Some(first) => errors.at(
                    &c.ident,
                    format!(
                        "a tool takes at most one `Context` parameter, and `{first}` is already one: remove this one, or clone `{first}` in the body"
                    ),
                ),
            }
        }
    }
}

/// Tool names are 1 to 128 ASCII letters, digits, `_`, `-` and `.` (revision 2025-11-25).
fn check_name(model: &ToolModel, errors: &mut Errors) {
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
