//! Doc comments as text for the model: joined into paragraphs the way rustdoc renders them.
//!
//! `///` lines are Markdown. Lines of one paragraph are joined with a space (a wrapped doc
//! comment is one sentence, not several lines); a blank line separates paragraphs. Lines that
//! start a block of their own stay on a line of their own: list items, headings, quotes, table
//! rows, indented code, and fenced code blocks (kept as written).

use proc_macro2::Span;
use syn::{Attribute, LitStr};

/// The text of doc comments (`#[doc = "..."]` literals), joined into paragraphs; `None` when
/// there is none.
pub(crate) fn doc_text(docs: &[Attribute]) -> Option<LitStr> {
    let mut lines = Vec::new();
    let mut span = None;
    for a in docs {
        if let syn::Meta::NameValue(nv) = &a.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            span.get_or_insert(s.span());
            for line in s.value().split('\n') {
                lines.push(line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned());
            }
        }
    }
    let text = paragraphs(&lines);
    if text.is_empty() {
        None
    } else {
        Some(LitStr::new(&text, span.unwrap_or_else(Span::call_site)))
    }
}

/// Joins Markdown lines as rustdoc renders them (see the module docs).
pub(crate) fn paragraphs(lines: &[String]) -> String {
    let mut out = String::new();
    let mut fence: Option<&str> = None;
    // Whether the previous line ended a paragraph line that the next one may continue.
    let mut open = false;
    let mut hard_break = false;
    for line in lines {
        let trimmed = line.trim_start();
        if let Some(marker) = fence {
            out.push('\n');
            out.push_str(line);
            if trimmed.starts_with(marker) {
                fence = None;
            }
            continue;
        }
        if trimmed.is_empty() {
            if !out.is_empty() && !out.ends_with("\n\n") {
                out.push_str("\n\n");
            }
            open = false;
            continue;
        }
        let starts_fence = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        let block = starts_fence.is_some() || starts_block(line);
        if open && !block && !hard_break {
            out.push(' ');
            out.push_str(trimmed);
        } else {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(if block { line } else { trimmed });
        }
        hard_break = line.ends_with('\\');
        if hard_break {
            out.pop();
        }
        fence = starts_fence;
        // A heading is one line; indented code continues only as code.
        open = fence.is_none() && !line.starts_with("    ") && !trimmed.starts_with('#');
    }
    out.trim().to_owned()
}

/// Whether a line starts a Markdown block rather than continuing a paragraph.
fn starts_block(line: &str) -> bool {
    if line.starts_with("    ") || line.starts_with('\t') {
        return true;
    }
    let t = line.trim_start();
    let bullet = ["- ", "* ", "+ "].iter().any(|b| t.starts_with(b));
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    let numbered = digits > 0 && (t[digits..].starts_with(". ") || t[digits..].starts_with(") "));
    bullet || numbered || t.starts_with('#') || t.starts_with('>') || t.starts_with('|')
}

#[cfg(test)]
mod tests {
    use super::paragraphs;

    fn join(text: &str) -> String {
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        paragraphs(&lines)
    }

    #[test]
    fn wrapped_lines_become_one_paragraph() {
        assert_eq!(
            join("Counts the words of a file,\nreporting each line.\n\nSlow on big files."),
            "Counts the words of a file, reporting each line.\n\nSlow on big files."
        );
    }

    #[test]
    fn lists_headings_and_code_keep_their_lines() {
        let text = "Modes:\n- fast,\n  really\n- slow\n\n# Example\nText\n```\nlet a = 1;\n\nlet b = 2;\n```\nafter";
        assert_eq!(
            join(text),
            "Modes:\n- fast, really\n- slow\n\n# Example\nText\n```\nlet a = 1;\n\nlet b = 2;\n```\nafter"
        );
    }

    #[test]
    fn a_trailing_backslash_breaks_the_line() {
        assert_eq!(join("one\\\ntwo\nthree"), "one\ntwo three");
    }
}
