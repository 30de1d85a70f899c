//! Commands that show the data and results: `describe`, `list`, `summarize`, `return list`,
//! `ereturn list`, `help`. Their layout follows Stata 18's console output closely enough for a
//! reader (and the plugin's tests); the numbers are computed from the stand-in's own data.

use crate::commands::take_word;
use crate::expr::format_number;
use crate::output::Style;
use crate::state::{Flow, Stata};

type Done = Result<(), Flow>;

/// The help topics the stand-in knows: name, manual entry and title, syntax.
const HELP: [(&str, &str, &str); 7] = [
    (
        "describe",
        "[D] describe -- Describe data in memory or in file",
        "describe [varlist]",
    ),
    (
        "display",
        "[P] display -- Display strings and values of scalar expressions",
        "display [display_directive [display_directive [...]]]",
    ),
    (
        "generate",
        "[D] generate -- Create or change contents of variable",
        "generate [type] newvar[:lblname] =exp [if] [in]",
    ),
    (
        "list",
        "[D] list -- List values of variables",
        "list [varlist] [if] [in] [, options]",
    ),
    (
        "regress",
        "[R] regress -- Linear regression",
        "regress depvar [indepvars] [if] [in] [weight] [, options]",
    ),
    (
        "summarize",
        "[R] summarize -- Summary statistics",
        "summarize [varlist] [if] [in] [weight] [, options]",
    ),
    (
        "use",
        "[D] use -- Load Stata dataset",
        "use filename [, clear nolabel]",
    ),
];

const RULE: &str =
    "-------------------------------------------------------------------------------";

impl Stata {
    /// The variables named in `text` (all of them when empty), or `variable X not found`.
    fn varlist(&mut self, text: &str) -> Result<Vec<usize>, Flow> {
        let names: Vec<&str> = text.split_whitespace().collect();
        if names.is_empty() {
            return Ok((0..self.vars.len()).collect());
        }
        let mut picked = Vec::new();
        for name in names {
            match self.vars.iter().position(|v| v == name) {
                Some(j) => picked.push(j),
                None => return Err(self.fail(111, &format!("variable {name} not found"))),
            }
        }
        Ok(picked)
    }

    /// `describe [varlist]`.
    pub(crate) fn describe(&mut self, rest: &str) -> Done {
        let picked = self.varlist(rest)?;
        let lines = [
            String::new(),
            "Contains data".to_owned(),
            format!(" Observations: {:>13}", self.obs),
            format!("    Variables: {:>13}", self.vars.len()),
            RULE.to_owned(),
            "Variable      Storage   Display    Value".to_owned(),
            "    name         type    format    label      Variable label".to_owned(),
            RULE.to_owned(),
        ];
        for line in lines {
            self.say(Style::Text, &line);
        }
        for j in picked {
            let line = format!("{:<15} float   %9.0g", self.vars[j]);
            self.say(Style::Text, &line);
        }
        self.say(Style::Text, RULE);
        self.say(Style::Text, "Sorted by:");
        if self.data_changed {
            self.say(
                Style::Text,
                "     Note: Dataset has changed since last saved.",
            );
        }
        Ok(())
    }

    /// `list [varlist] [in f/l]`: a boxed table. `if` conditions are not evaluated here.
    pub(crate) fn list(&mut self, rest: &str) -> Done {
        let (vars, range) = match rest.find(" in ").or(rest.starts_with("in ").then_some(0)) {
            Some(at) => (
                &rest[..at],
                rest[at..].trim().trim_start_matches("in").trim(),
            ),
            None => (rest, ""),
        };
        if vars.split_whitespace().any(|w| w == "if") {
            return Err(self.fail(198, "this stand-in does not evaluate if conditions"));
        }
        let picked = self.varlist(vars)?;
        let (from, to) = if range.is_empty() {
            (1, self.obs)
        } else {
            let bounds = range.split_once('/').and_then(|(a, b)| {
                let to = if b.trim() == "l" {
                    Some(self.obs)
                } else {
                    b.trim().parse().ok()
                };
                Some((a.trim().parse::<u64>().ok()?, to?))
            });
            match bounds {
                Some((from, to)) if from >= 1 && from <= to && to <= self.obs => (from, to),
                _ => return Err(self.fail(198, "Obs. nos. out of range")),
            }
        };
        if picked.is_empty() || self.obs == 0 {
            return Ok(());
        }
        let cell = |v: f64| format_number(v);
        let widths: Vec<usize> = picked
            .iter()
            .map(|&j| {
                let longest = (from..=to)
                    .map(|i| cell(self.columns[j][i as usize - 1]).len())
                    .max()
                    .unwrap_or(1);
                longest.max(self.vars[j].len())
            })
            .collect();
        let inner: usize = widths.iter().sum::<usize>() + 3 * widths.len() - 1;
        let row = |cells: Vec<String>| {
            let parts: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:>w$}"))
                .collect();
            format!("| {} |", parts.join("   "))
        };
        let border = format!("     +{}+", "-".repeat(inner));
        let header = row(picked.iter().map(|&j| self.vars[j].clone()).collect());
        let mut lines = vec![String::new(), border.clone(), format!("     {header}")];
        lines.push(format!("     |{}|", "-".repeat(inner)));
        for i in from..=to {
            let cells = picked
                .iter()
                .map(|&j| cell(self.columns[j][i as usize - 1]))
                .collect();
            lines.push(format!("{:>3}. {}", i, row(cells)));
        }
        lines.push(border);
        for line in lines {
            self.say(Style::Result, &line);
        }
        Ok(())
    }

    /// `summarize [varlist]`: the table, and `r()` of the last variable.
    pub(crate) fn summarize(&mut self, rest: &str) -> Done {
        let picked = self.varlist(rest.split(',').next().unwrap_or(""))?;
        self.say(Style::Text, "");
        self.say(
            Style::Text,
            "    Variable |        Obs        Mean    Std. dev.       Min        Max",
        );
        self.say(
            Style::Text,
            "-------------+---------------------------------------------------------",
        );
        for j in picked {
            let values: Vec<f64> = self.columns[j]
                .iter()
                .copied()
                .filter(|v| !v.is_nan())
                .collect();
            let n = values.len() as f64;
            let sum: f64 = values.iter().sum();
            let mean = sum / n;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let min = values.iter().copied().fold(f64::NAN, f64::min);
            let max = values.iter().copied().fold(f64::NAN, f64::max);
            let shown = |v: f64| {
                if n > 0.0 {
                    format_number(v)
                } else {
                    String::new()
                }
            };
            let line = format!(
                "{:>12} | {:>10} {:>11} {:>12} {:>10} {:>10}",
                self.vars[j],
                values.len(),
                shown(mean),
                if n > 1.0 {
                    format_number(var.sqrt())
                } else {
                    String::new()
                },
                shown(min),
                shown(max)
            );
            self.say(Style::Text, &line);
            self.r_scalars = vec![("N".to_owned(), n), ("sum_w".to_owned(), n)];
            if n > 0.0 {
                self.r_scalars.extend([
                    ("mean".to_owned(), mean),
                    ("Var".to_owned(), var),
                    ("sd".to_owned(), var.sqrt()),
                    ("min".to_owned(), min),
                    ("max".to_owned(), max),
                    ("sum".to_owned(), sum),
                ]);
            }
        }
        Ok(())
    }

    /// `return list`, `return clear`, `ereturn list` (the stand-in never has `e()` results).
    pub(crate) fn stored_results(&mut self, which: &str, rest: &str) -> Done {
        let sub = rest.split_whitespace().next().unwrap_or("");
        match (which, sub) {
            ("return", "clear") => {
                self.r_scalars.clear();
                Ok(())
            }
            ("return", "list") => {
                if self.r_scalars.is_empty() {
                    return Ok(());
                }
                self.say(Style::Text, "");
                self.say(Style::Text, "scalars:");
                for (name, value) in self.r_scalars.clone() {
                    let label = format!("r({name})");
                    let line = format!("{label:>22} =  {}", format_number(value));
                    self.say(Style::Result, &line);
                }
                Ok(())
            }
            ("ereturn", "list") => Ok(()),
            _ => Err(self.fail(198, "invalid syntax")),
        }
    }

    /// `help [topic]`: the help text, or that there is none (not an error, as in Stata).
    pub(crate) fn help(&mut self, rest: &str) -> Done {
        let topic = take_word(rest).map(|(w, _)| w).unwrap_or_default();
        if topic.is_empty() {
            self.say(Style::Text, "help contents");
            for (name, title, _) in HELP {
                let line = format!("    {name:<12} {title}");
                self.say(Style::Text, &line);
            }
            return Ok(());
        }
        let found = HELP
            .iter()
            .find(|(name, _, _)| name.starts_with(&topic) && topic.len() >= 2);
        let Some((_, title, syntax)) = found else {
            self.say(Style::Text, &format!("help for {topic} not found"));
            self.say(Style::Text, &format!("try help contents or search {topic}"));
            return Ok(());
        };
        let lines = [
            title.to_string(),
            String::new(),
            "Syntax".to_owned(),
            String::new(),
            format!("        {syntax}"),
            String::new(),
            "(stand-in help text: the real Stata shows the full entry)".to_owned(),
        ];
        for line in lines {
            self.say(Style::Text, &line);
        }
        Ok(())
    }
}
