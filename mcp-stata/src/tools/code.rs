//! The Stata code behind the inspection tools, built from their arguments.
//!
//! Arguments that go into a command line (`varlist`, `condition`, a graph's name, a help
//! topic) must be one line: a line break would start a second command that nobody asked for.

use std::path::Path;

use super::args::ResultKind;
use super::error::ToolError;
use crate::quote::{PathStyle, quote_path};

/// `value` if it is one line (surrounding blanks removed); `None` when empty.
pub(crate) fn one_line(
    argument: &'static str,
    value: Option<&str>,
) -> Result<Option<String>, ToolError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.contains(['\n', '\r']) {
        return Err(ToolError::invalid(
            argument,
            "must be a single line; to run several commands use stata_run_code",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// The setup code, then `command`.
pub(crate) fn after_setup(setup: Option<&str>, command: &str) -> String {
    match setup.map(str::trim_end).filter(|s| !s.trim().is_empty()) {
        Some(setup) => format!("{setup}\n{command}\n"),
        None => format!("{command}\n"),
    }
}

/// `describe [varlist]`.
pub(crate) fn describe(varlist: Option<&str>) -> String {
    match varlist {
        Some(vars) => format!("describe {vars}"),
        None => "describe".to_owned(),
    }
}

/// `list [varlist] [if condition] in from/last`, the last observation clamped to `_N` (Stata
/// refuses a range past the end).
pub(crate) fn list(
    varlist: Option<&str>,
    condition: Option<&str>,
    from: u64,
    count: u64,
) -> Result<String, ToolError> {
    if from == 0 {
        return Err(ToolError::invalid(
            "from",
            "observations are numbered from 1",
        ));
    }
    if count == 0 {
        return Err(ToolError::invalid("count", "must be at least 1"));
    }
    let last = from.saturating_add(count - 1);
    let mut command = "list".to_owned();
    if let Some(vars) = varlist {
        command.push(' ');
        command.push_str(vars);
    }
    if let Some(condition) = condition {
        command.push_str(" if ");
        command.push_str(condition);
    }
    Ok(format!(
        "local __mcp_last = min(_N, {last})\n{command} in {from}/`__mcp_last'"
    ))
}

/// `return list`, `ereturn list`, or both.
pub(crate) fn stored_results(kind: ResultKind) -> &'static str {
    match kind {
        ResultKind::R => "return list",
        ResultKind::E => "ereturn list",
        ResultKind::Both => "return list\nereturn list",
    }
}

/// `graph export "path", [name(..)] [width(..)] replace`.
pub(crate) fn graph_export(
    path: &Path,
    name: Option<&str>,
    width: Option<u64>,
    style: PathStyle,
) -> Result<String, ToolError> {
    let mut command = format!("graph export {},", quote_path(path, style)?);
    if let Some(name) = name {
        command.push_str(&format!(" name({name})"));
    }
    if let Some(width) = width {
        command.push_str(&format!(" width({width})"));
    }
    command.push_str(" replace");
    Ok(command)
}

/// `help topic`, the topic checked to be a command name (words of letters, digits, `_`).
pub(crate) fn help(topic: &str) -> Result<String, ToolError> {
    let topic = topic.trim();
    let fine = !topic.is_empty()
        && topic.len() <= 100
        && topic
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ' ' || c == '.');
    if !fine {
        return Err(ToolError::invalid(
            "command",
            "give a Stata command or topic name, such as `regress` or `graph export`",
        ));
    }
    Ok(format!("help {topic}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(describe(None), "describe");
        assert_eq!(describe(Some("price mpg")), "describe price mpg");
        assert_eq!(
            list(Some("y"), Some("y > 2"), 5, 10).unwrap(),
            "local __mcp_last = min(_N, 14)\nlist y if y > 2 in 5/`__mcp_last'"
        );
        assert!(list(None, None, 0, 10).is_err());
        assert!(list(None, None, 1, 0).is_err());
        assert_eq!(
            stored_results(ResultKind::Both),
            "return list\nereturn list"
        );
        assert_eq!(
            graph_export(
                Path::new("/tmp/my graphs/g.png"),
                Some("g1"),
                Some(800),
                PathStyle::Unix
            )
            .unwrap(),
            "graph export \"/tmp/my graphs/g.png\", name(g1) width(800) replace"
        );
        assert_eq!(help("graph export").unwrap(), "help graph export");
        assert!(help("x; shell rm").is_err());
        assert!(help("").is_err());
    }

    #[test]
    fn arguments_must_be_one_line() {
        assert_eq!(
            one_line("varlist", Some("  a b ")).unwrap(),
            Some("a b".into())
        );
        assert_eq!(one_line("varlist", Some("  ")).unwrap(), None);
        assert_eq!(one_line("varlist", None).unwrap(), None);
        let e = one_line("varlist", Some("a\nshell rm -rf x")).unwrap_err();
        assert!(e.to_string().starts_with("invalid `varlist`"), "{e}");
        assert_eq!(
            after_setup(Some("sysuse auto\n"), "describe"),
            "sysuse auto\ndescribe\n"
        );
        assert_eq!(after_setup(Some(" \n"), "describe"), "describe\n");
    }
}
