//! Tokens and numeric expressions, as `display` and `generate` need them.

/// One token of a command's arguments.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// A string literal, simple (`"a"`) or compound (`` `"a "b""' ``), without its quotes.
    Str(String),
    Num(f64),
    Ident(String),
    Op(char),
    LParen,
    RParen,
    Comma,
}

/// Why an expression could not be evaluated.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ExprError {
    /// A name that is neither a variable nor a known scalar: `name not found`, r(111).
    NotFound(String),
    /// Anything else: `invalid syntax`, r(198).
    Syntax,
    /// An unclosed quote: `too few quotes`, r(132).
    Quotes,
}

/// Splits `text` into tokens.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Tok>, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let len = chars[i + 1..]
                .iter()
                .position(|&c| c == '"')
                .ok_or(ExprError::Quotes)?;
            toks.push(Tok::Str(chars[i + 1..i + 1 + len].iter().collect()));
            i += len + 2;
        } else if c == '`' && chars.get(i + 1) == Some(&'"') {
            let (inner, end) = compound(&chars, i).ok_or(ExprError::Quotes)?;
            toks.push(Tok::Str(inner));
            i = end;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let len = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == '.' || **c == 'e')
                .count();
            let text: String = chars[i..i + len].iter().collect();
            toks.push(Tok::Num(text.parse().map_err(|_| ExprError::Syntax)?));
            i += len;
        } else if c.is_alphabetic() || c == '_' {
            let len = chars[i..]
                .iter()
                .take_while(|c| c.is_alphanumeric() || **c == '_')
                .count();
            toks.push(Tok::Ident(chars[i..i + len].iter().collect()));
            i += len;
        } else {
            toks.push(match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                ',' => Tok::Comma,
                '+' | '-' | '*' | '/' | '^' | '=' => Tok::Op(c),
                _ => return Err(ExprError::Syntax),
            });
            i += 1;
        }
    }
    Ok(toks)
}

/// A compound string starting at `open` (the backquote): its content and the index after it.
fn compound(chars: &[char], open: usize) -> Option<(String, usize)> {
    let mut depth = 0usize;
    let mut i = open;
    while i < chars.len() {
        if chars[i] == '`' && chars.get(i + 1) == Some(&'"') {
            depth += 1;
            i += 2;
        } else if chars[i] == '"' && chars.get(i + 1) == Some(&'\'') {
            depth -= 1;
            if depth == 0 {
                return Some((chars[open + 2..i].iter().collect(), i + 2));
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    None
}

/// Evaluates a numeric expression; `name` resolves identifiers (variables, `_N`, `_rc`).
pub(crate) fn eval(toks: &[Tok], name: &dyn Fn(&str) -> Option<f64>) -> Result<f64, ExprError> {
    let mut parser = Parser { toks, at: 0, name };
    let value = parser.sum()?;
    if parser.at != toks.len() {
        return Err(ExprError::Syntax);
    }
    Ok(value)
}

struct Parser<'a> {
    toks: &'a [Tok],
    at: usize,
    name: &'a dyn Fn(&str) -> Option<f64>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn sum(&mut self) -> Result<f64, ExprError> {
        let mut value = self.product()?;
        while let Some(Tok::Op(op @ ('+' | '-'))) = self.peek() {
            let op = *op;
            self.at += 1;
            let rhs = self.product()?;
            value = if op == '+' { value + rhs } else { value - rhs };
        }
        Ok(value)
    }

    fn product(&mut self) -> Result<f64, ExprError> {
        let mut value = self.power()?;
        while let Some(Tok::Op(op @ ('*' | '/'))) = self.peek() {
            let op = *op;
            self.at += 1;
            let rhs = self.power()?;
            value = if op == '*' { value * rhs } else { value / rhs };
        }
        Ok(value)
    }

    fn power(&mut self) -> Result<f64, ExprError> {
        let base = self.unary()?;
        if let Some(Tok::Op('^')) = self.peek() {
            self.at += 1;
            let exp = self.power()?;
            return Ok(base.powf(exp));
        }
        Ok(base)
    }

    fn unary(&mut self) -> Result<f64, ExprError> {
        match self.peek() {
            Some(Tok::Op('-')) => {
                self.at += 1;
                Ok(-self.unary()?)
            }
            Some(Tok::Op('+')) => {
                self.at += 1;
                self.unary()
            }
            _ => self.atom(),
        }
    }

    /// `min(a, b, ...)` or `max(a, b, ...)`; the name has been read, `(` is next.
    fn function(&mut self, name: &str) -> Result<f64, ExprError> {
        self.at += 1;
        let mut args = vec![self.sum()?];
        loop {
            match self.peek() {
                Some(Tok::Comma) => {
                    self.at += 1;
                    args.push(self.sum()?);
                }
                Some(Tok::RParen) => {
                    self.at += 1;
                    break;
                }
                _ => return Err(ExprError::Syntax),
            }
        }
        let present = args.into_iter().filter(|v| !v.is_nan());
        match name {
            "min" => Ok(present.fold(f64::NAN, f64::min)),
            "max" => Ok(present.fold(f64::NAN, f64::max)),
            _ => Err(ExprError::Syntax),
        }
    }

    fn atom(&mut self) -> Result<f64, ExprError> {
        let tok = self.peek().cloned().ok_or(ExprError::Syntax)?;
        self.at += 1;
        match tok {
            Tok::Num(n) => Ok(n),
            Tok::Ident(id) if self.peek() == Some(&Tok::LParen) => self.function(&id),
            Tok::Ident(id) => (self.name)(&id).ok_or(ExprError::NotFound(id)),
            Tok::LParen => {
                let value = self.sum()?;
                match self.peek() {
                    Some(Tok::RParen) => {
                        self.at += 1;
                        Ok(value)
                    }
                    _ => Err(ExprError::Syntax),
                }
            }
            _ => Err(ExprError::Syntax),
        }
    }
}

/// A number as `display` shows it: `10`, `.5`, `3.3333333`, `-.25`.
pub(crate) fn format_number(value: f64) -> String {
    if value.is_nan() || value.is_infinite() {
        return ".".to_owned();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let text = format!("{value:.7}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if let Some(rest) = text.strip_prefix("0.") {
        format!(".{rest}")
    } else if let Some(rest) = text.strip_prefix("-0.") {
        format!("-.{rest}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval_str(text: &str) -> Result<f64, ExprError> {
        let toks = tokenize(text)?;
        eval(&toks, &|name| (name == "_N").then_some(100.0))
    }

    #[test]
    fn arithmetic_and_names() {
        assert_eq!(eval_str("5+5"), Ok(10.0));
        assert_eq!(eval_str("2*(3+4)^2/7"), Ok(14.0));
        assert_eq!(eval_str("-_N + 1"), Ok(-99.0));
        assert_eq!(
            eval_str("bad_var + 1"),
            Err(ExprError::NotFound("bad_var".into()))
        );
        assert_eq!(eval_str("1 +"), Err(ExprError::Syntax));
    }

    #[test]
    fn min_and_max() {
        assert_eq!(eval_str("min(_N, 20)"), Ok(20.0));
        assert_eq!(eval_str("max(1, 2 * 3, _N / 50)"), Ok(6.0));
        assert_eq!(eval_str("min(_N)"), Ok(100.0));
        assert_eq!(eval_str("min(1, 2"), Err(ExprError::Syntax));
        assert_eq!(eval_str("sqrt(4)"), Err(ExprError::Syntax));
    }

    #[test]
    fn strings_and_compound_quotes() {
        let toks = tokenize(r#""a b" `"say "hi""' 3"#).unwrap();
        assert_eq!(
            toks,
            [
                Tok::Str("a b".into()),
                Tok::Str("say \"hi\"".into()),
                Tok::Num(3.0)
            ]
        );
        assert_eq!(tokenize("\"open"), Err(ExprError::Quotes));
    }

    #[test]
    fn numbers_display_like_stata() {
        assert_eq!(format_number(10.0), "10");
        assert_eq!(format_number(0.5), ".5");
        assert_eq!(format_number(-0.25), "-.25");
        assert_eq!(format_number(10.0 / 3.0), "3.3333333");
    }
}
