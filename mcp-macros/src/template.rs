//! The URI of `#[resource("...")]`: a plain URI, or an RFC 6570 template whose variables
//! (`{name}`, or `{+name}` for values that may hold `/`) are the function's parameters.
//! Checked here, at compile time, so that a malformed template never reaches a server.

use syn::LitStr;

/// One part of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Literal(String),
    /// `{name}`.
    Simple(String),
    /// `{+name}`.
    Reserved(String),
}

/// A parsed URI or URI template.
pub(crate) struct Template {
    pub(crate) parts: Vec<Part>,
}

impl Template {
    /// The names of the variables, in order.
    pub(crate) fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Literal(_) => None,
            Part::Simple(name) | Part::Reserved(name) => Some(name.as_str()),
        })
    }

    /// Whether the URI has variables (a template) or not (one resource).
    pub(crate) fn is_template(&self) -> bool {
        self.variables().next().is_some()
    }
}

/// Parses the URI of `#[resource]`; the error explains what to write instead.
pub(crate) fn parse(uri: &LitStr) -> Result<Template, String> {
    let text = uri.value();
    let scheme_end = text.find(':').filter(|&end| {
        let scheme = &text[..end];
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if scheme_end.is_none() {
        return Err(format!(
            "`{text}` is not a URI: start it with a scheme, such as `docs://{}`",
            text.trim_start_matches('/')
        ));
    }
    let mut parts = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let open = rest.find('{');
        let close = rest.find('}');
        match (open, close) {
            (_, Some(c)) if open.is_none_or(|o| c < o) => {
                return Err(format!(
                    "a `}}` without its `{{` in `{text}`: variables are written `{{name}}`"
                ));
            }
            (None, _) => {
                parts.push(Part::Literal(rest.to_owned()));
                break;
            }
            (Some(o), _) => {
                if o > 0 {
                    parts.push(Part::Literal(rest[..o].to_owned()));
                }
                let after = &rest[o + 1..];
                let Some(end) = after.find('}') else {
                    return Err(format!(
                        "an unclosed `{{` in `{text}`: variables are written `{{name}}`"
                    ));
                };
                parts.push(variable(&after[..end])?);
                rest = &after[end + 1..];
            }
        }
    }
    let template = Template { parts };
    check_variables(&template)?;
    Ok(template)
}

/// One `{...}` expression.
fn variable(inner: &str) -> Result<Part, String> {
    let (reserved, name) = match inner.strip_prefix('+') {
        Some(name) => (true, name),
        None => (false, inner),
    };
    if name.is_empty() {
        return Err(format!(
            "an empty variable `{{{inner}}}`: name it after its parameter, as in `{{id}}`"
        ));
    }
    if let Some(op) = name.chars().next().filter(|c| "#./;?&=,!@|".contains(*c)) {
        return Err(format!(
            "`{{{inner}}}`: the operator `{op}` is not supported; write `{{name}}`, or `{{+name}}` for a value that may hold `/`"
        ));
    }
    if name.contains([',', '*', ':']) {
        return Err(format!(
            "`{{{inner}}}`: write one variable per braces, without modifiers (`{{name}}` or `{{+name}}`)"
        ));
    }
    let is_ident = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_ident {
        return Err(format!(
            "`{{{inner}}}`: a variable is named after its parameter, so its name must be a Rust identifier such as `{{{}}}`",
            name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ));
    }
    let name = name.to_owned();
    Ok(if reserved {
        Part::Reserved(name)
    } else {
        Part::Simple(name)
    })
}

fn check_variables(template: &Template) -> Result<(), String> {
    let mut seen = Vec::new();
    for name in template.variables() {
        if seen.contains(&name) {
            return Err(format!(
                "the variable `{{{name}}}` appears twice: each variable is one parameter"
            ));
        }
        seen.push(name);
    }
    for pair in template.parts.windows(2) {
        if let [a, b] = pair
            && !matches!(a, Part::Literal(_))
            && !matches!(b, Part::Literal(_))
        {
            let name = |p: &Part| match p {
                Part::Simple(n) => format!("{{{n}}}"),
                Part::Reserved(n) => format!("{{+{n}}}"),
                Part::Literal(l) => l.clone(),
            };
            return Err(format!(
                "`{}{}`: put some text between two variables, or a URI cannot be split between them",
                name(a),
                name(b)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> LitStr {
        LitStr::new(s, proc_macro2::Span::call_site())
    }

    #[test]
    fn templates_split_into_parts() {
        let t = parse(&lit("test://template/{id}/data")).unwrap();
        assert_eq!(
            t.parts,
            [
                Part::Literal("test://template/".into()),
                Part::Simple("id".into()),
                Part::Literal("/data".into())
            ]
        );
        let t = parse(&lit("file:///{+path}")).unwrap();
        assert_eq!(t.variables().collect::<Vec<_>>(), ["path"]);
        assert!(!parse(&lit("docs://readme")).unwrap().is_template());
    }

    #[test]
    fn mistakes_are_explained() {
        for (uri, needle) in [
            ("readme", "not a URI"),
            ("x://{id", "unclosed"),
            ("x://id}", "without its"),
            ("x://{}", "empty variable"),
            ("x://{?q}", "operator `?`"),
            ("x://{a,b}", "one variable per braces"),
            ("x://{my-id}", "Rust identifier such as `{my_id}`"),
            ("x://{a}/{a}", "appears twice"),
            ("x://{a}{b}", "put some text between"),
        ] {
            let e = parse(&lit(uri)).err().unwrap_or_default();
            assert!(e.contains(needle), "{uri}: {e}");
        }
    }
}
