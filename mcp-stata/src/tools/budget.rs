//! Keeping a result's text within a byte budget: the log's tail is the part that can be large
//! (one line of a megabyte, thousands of lines), so it gets what the rest leaves, newest lines
//! first, and a line too long for what is left is cut to its end.

/// The default cap on the text of one result: its text content plus the strings of its
/// structured content.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 256 * 1024;

/// Room kept free for the JSON punctuation around the tail.
const SLACK: usize = 256;

/// The tail lines that fit, and what was left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FittedTail {
    /// The lines kept, oldest first.
    pub(crate) lines: Vec<String>,
    /// Lines left out (the oldest).
    pub(crate) omitted: usize,
    /// Bytes cut from the start of the oldest kept line.
    pub(crate) cut: usize,
}

/// What one line costs: once in the text (with its newline), once as a JSON string.
fn cost(line: &str) -> usize {
    line.len() + 1 + json_len(line) + 1
}

/// The length of `text` written as a JSON string.
pub(crate) fn json_len(text: &str) -> usize {
    serde_json::to_string(text)
        .map(|s| s.len())
        .unwrap_or(text.len() * 6 + 2)
}

/// The newest of `lines` whose cost fits in `budget` bytes; when even the newest does not fit,
/// its end, marked as cut.
pub(crate) fn fit_tail(lines: &[String], budget: usize) -> FittedTail {
    let budget = budget.saturating_sub(SLACK);
    let mut used = 0;
    let mut first = lines.len();
    while first > 0 {
        let line_cost = cost(&lines[first - 1]);
        if used + line_cost > budget {
            break;
        }
        used += line_cost;
        first -= 1;
    }
    if first == lines.len()
        && let Some(last) = lines.last()
    {
        // Not even the newest line fits: keep its end.
        let (text, cut) = cut_to(last, budget);
        return FittedTail {
            lines: vec![text],
            omitted: lines.len() - 1,
            cut,
        };
    }
    FittedTail {
        lines: lines[first..].to_vec(),
        omitted: first,
        cut: 0,
    }
}

/// The end of `line`, marked as cut, costing at most `budget`; and how many bytes were cut.
fn cut_to(line: &str, budget: usize) -> (String, usize) {
    let mut keep = budget / 2;
    loop {
        let mut start = line.len().saturating_sub(keep);
        while !line.is_char_boundary(start) {
            start += 1;
        }
        let text = format!("[... {start} bytes cut] {}", &line[start..]);
        if cost(&text) <= budget || keep == 0 {
            return (text, start);
        }
        keep = keep * 3 / 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn everything_fits_in_a_large_budget() {
        let all = lines(&["a", "b", "c"]);
        assert_eq!(
            fit_tail(&all, 10_000),
            FittedTail {
                lines: all.clone(),
                omitted: 0,
                cut: 0
            }
        );
    }

    #[test]
    fn the_newest_lines_are_kept() {
        let all: Vec<String> = (0..100)
            .map(|i| format!("line {i:03} {}", "x".repeat(90)))
            .collect();
        let fitted = fit_tail(&all, SLACK + 10 * cost(&all[0]));
        assert_eq!(fitted.lines, all[90..]);
        assert_eq!(fitted.omitted, 90);
    }

    #[test]
    fn a_huge_line_is_cut_to_its_end() {
        let huge = format!("{}END", "y".repeat(1_000_000));
        let fitted = fit_tail(&lines(&["before", &huge]), 100_000);
        assert_eq!(fitted.lines.len(), 1);
        assert_eq!(fitted.omitted, 1);
        assert!(fitted.lines[0].ends_with("END"));
        assert!(fitted.lines[0].starts_with("[... "));
        assert!(cost(&fitted.lines[0]) <= 100_000 - SLACK);
        assert!(fitted.cut > 900_000);
        // Escapes count: a line of quotes costs more as JSON.
        let quotes = "\"".repeat(200_000);
        let fitted = fit_tail(&lines(&[&quotes]), 50_000);
        assert!(cost(&fitted.lines[0]) <= 50_000 - SLACK);
    }
}
