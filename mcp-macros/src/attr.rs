//! The keys of `#[tool(...)]`, `#[prompt(...)]`, `#[resource(...)]`, `#[tools(...)]` and
//! `#[arg(...)]`, typed, with every mistake (unknown key, key set twice, value of the wrong
//! kind) reported at the user's token.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprPath, Lit, LitStr, Meta, Path, Token, UnOp};

use crate::errors::Errors;

/// What an attributed function becomes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Kind {
    /// `#[tool]`.
    Tool,
    /// `#[prompt]`.
    Prompt,
    /// `#[resource("uri")]`.
    Resource,
}

impl Kind {
    /// The attribute's name, which is also what the item is called in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Tool => "tool",
            Kind::Prompt => "prompt",
            Kind::Resource => "resource",
        }
    }

    /// The kind of an attribute written on a method, if it is one of the three.
    pub(crate) fn of(attribute: &Attribute) -> Option<Kind> {
        [Kind::Tool, Kind::Prompt, Kind::Resource]
            .into_iter()
            .find(|k| is_named(attribute, k.name()))
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Tool => &[
                "name",
                "title",
                "description",
                "crate",
                "read_only",
                "destructive",
                "idempotent",
                "open_world",
                "task",
            ],
            Kind::Prompt => &["name", "title", "description", "crate"],
            Kind::Resource => &["uri", "name", "title", "description", "mime_type", "crate"],
        }
    }

    fn arg_keys(self) -> &'static [&'static str] {
        match self {
            Kind::Tool => &[
                "default",
                "rename",
                "description",
                "min",
                "max",
                "min_len",
                "max_len",
                "pattern",
            ],
            Kind::Prompt => &["default", "rename", "description", "complete"],
            Kind::Resource => &["description", "complete"],
        }
    }
}

const TOOLS_KEYS: &[&str] = &["crate"];
/// Every key `#[arg]` knows, whatever the kind (a key of another kind gets its own message).
const ALL_ARG_KEYS: &[&str] = &[
    "default",
    "rename",
    "description",
    "min",
    "max",
    "min_len",
    "max_len",
    "pattern",
    "complete",
];

/// The keys of `#[tool(...)]`, `#[prompt(...)]` or `#[resource(...)]`.
pub(crate) struct ItemAttr {
    pub(crate) kind: Kind,
    pub(crate) name: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) krate: Option<Path>,
    pub(crate) read_only: Option<bool>,
    pub(crate) destructive: Option<bool>,
    pub(crate) idempotent: Option<bool>,
    pub(crate) open_world: Option<bool>,
    /// `task = "optional"` or `"required"`: whether the tool runs as a task.
    pub(crate) task: Option<TaskSupport>,
    /// The resource's URI or URI template.
    pub(crate) uri: Option<LitStr>,
    pub(crate) mime_type: Option<LitStr>,
    /// Where the attribute is, for "missing URI".
    pub(crate) span: Span,
    /// Whether a URI was written, even an invalid one (which has its own error).
    pub(crate) uri_written: bool,
}

/// One element of `#[resource(...)]`: the URI as a bare string, or a key.
enum ResourceArg {
    Uri(LitStr),
    Key(Box<Meta>),
}

impl Parse for ResourceArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            input.parse().map(ResourceArg::Uri)
        } else {
            input.parse().map(|meta| ResourceArg::Key(Box::new(meta)))
        }
    }
}

impl ItemAttr {
    fn empty(kind: Kind, span: Span) -> Self {
        ItemAttr {
            kind,
            name: None,
            title: None,
            description: None,
            krate: None,
            read_only: None,
            destructive: None,
            idempotent: None,
            open_world: None,
            task: None,
            uri: None,
            mime_type: None,
            span,
            uri_written: false,
        }
    }

    /// Parses the arguments of an attribute macro of `kind`; `span` is the attribute's.
    pub(crate) fn parse(kind: Kind, tokens: TokenStream, span: Span, errors: &mut Errors) -> Self {
        let mut attr = ItemAttr::empty(kind, span);
        let metas = if kind == Kind::Resource {
            let args = match Punctuated::<ResourceArg, Token![,]>::parse_terminated.parse2(tokens) {
                Ok(args) => args,
                Err(e) => {
                    errors.push(e);
                    Punctuated::new()
                }
            };
            let mut metas = Vec::new();
            for arg in args {
                match arg {
                    ResourceArg::Uri(uri) if attr.uri.is_some() => errors.at(
                        &uri,
                        "the URI is given twice; keep one: `#[resource(\"scheme://path\")]`",
                    ),
                    ResourceArg::Uri(uri) => {
                        attr.uri_written = true;
                        attr.uri = Some(uri);
                    }
                    ResourceArg::Key(meta) => metas.push(*meta),
                }
            }
            metas
        } else {
            metas(tokens, errors)
        };
        for meta in metas {
            attr.key(&meta, errors);
        }
        attr
    }

    fn key(&mut self, meta: &Meta, errors: &mut Errors) {
        let key = key_of(meta);
        if key == "uri" {
            self.uri_written = true;
        }
        if !self.kind.keys().contains(&key.as_str()) {
            errors.push(unknown(meta, &key, self.kind.name(), self.kind.keys()));
            return;
        }
        let result = match key.as_str() {
            "name" => lit_str(meta, &key).map(|v| set(&mut self.name, v, meta, errors)),
            "title" => lit_str(meta, &key).map(|v| set(&mut self.title, v, meta, errors)),
            "description" => {
                lit_str(meta, &key).map(|v| set(&mut self.description, v, meta, errors))
            }
            "uri" => lit_str(meta, &key).map(|v| {
                self.uri_written = true;
                if self.uri.is_some() {
                    errors.at(
                        meta.path(),
                        "the URI is given twice; keep one: `#[resource(\"scheme://path\")]`",
                    );
                } else {
                    self.uri = Some(v);
                }
            }),
            "mime_type" => lit_str(meta, &key).map(|v| set(&mut self.mime_type, v, meta, errors)),
            "crate" => crate_path(meta).map(|v| set(&mut self.krate, v, meta, errors)),
            "read_only" => flag(meta, &key).map(|v| set(&mut self.read_only, v, meta, errors)),
            "destructive" => flag(meta, &key).map(|v| set(&mut self.destructive, v, meta, errors)),
            "idempotent" => flag(meta, &key).map(|v| set(&mut self.idempotent, v, meta, errors)),
            "open_world" => flag(meta, &key).map(|v| set(&mut self.open_world, v, meta, errors)),
            "task" => task_support(meta).map(|v| set(&mut self.task, v, meta, errors)),
            _ => Ok(()),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }

    /// Parses a `#[tool]`, `#[prompt]` or `#[resource(...)]` attribute written on a method.
    pub(crate) fn from_attribute(kind: Kind, attribute: &Attribute, errors: &mut Errors) -> Self {
        match &attribute.meta {
            Meta::Path(_) => ItemAttr::parse(kind, TokenStream::new(), attribute.span(), errors),
            Meta::List(list) => {
                ItemAttr::parse(kind, list.tokens.clone(), attribute.span(), errors)
            }
            Meta::NameValue(nv) => {
                let name = kind.name();
                errors.at(
                    nv.eq_token,
                    format!(
                        "write `#[{name}]` or `#[{name}(key = value, ...)]`, not `#[{name} = ...]`"
                    ),
                );
                ItemAttr::empty(kind, attribute.span())
            }
        }
    }
}

/// The keys of `#[tools(...)]`.
#[derive(Default)]
pub(crate) struct ToolsAttr {
    pub(crate) krate: Option<Path>,
}

impl ToolsAttr {
    /// Parses the arguments of a `#[tools(...)]` attribute macro.
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        let mut attr = ToolsAttr::default();
        for meta in metas(tokens, errors) {
            let key = key_of(&meta);
            let result = match key.as_str() {
                "crate" => crate_path(&meta).map(|v| set(&mut attr.krate, v, &meta, errors)),
                _ => Err(unknown(&meta, &key, "tools", TOOLS_KEYS)),
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        attr
    }
}

/// What `#[arg(default ...)]` says.
pub(crate) enum ArgDefault {
    /// `#[arg(default)]`: `Default::default()`.
    Trait,
    /// `#[arg(default = expr)]`.
    Expr(Box<Expr>),
}

/// A value of `#[arg(...)]` with the key that set it, for messages about the key.
pub(crate) struct Keyed<T> {
    pub(crate) value: T,
    pub(crate) key: Path,
    /// The value as written.
    pub(crate) tokens: TokenStream,
}

/// The keys of `#[arg(...)]` on a parameter. Which ones apply depends on the kind of item:
/// `check` reports a key of another kind.
#[derive(Default)]
pub(crate) struct ArgAttr {
    pub(crate) default: Option<Keyed<ArgDefault>>,
    pub(crate) rename: Option<Keyed<LitStr>>,
    pub(crate) description: Option<Keyed<LitStr>>,
    pub(crate) min: Option<Keyed<f64>>,
    pub(crate) max: Option<Keyed<f64>>,
    pub(crate) min_len: Option<Keyed<u64>>,
    pub(crate) max_len: Option<Keyed<u64>>,
    pub(crate) pattern: Option<Keyed<LitStr>>,
    pub(crate) complete: Option<Keyed<ExprPath>>,
}

impl ArgAttr {
    /// Merges one `#[arg(...)]` attribute into `self`.
    pub(crate) fn add(&mut self, kind: Kind, attribute: &Attribute, errors: &mut Errors) {
        let tokens = match &attribute.meta {
            Meta::List(list) => list.tokens.clone(),
            _ => {
                let keys = alternatives(kind.arg_keys());
                errors.at(
                    attribute,
                    format!("write `#[arg(key = value, ...)]`, with keys {keys}"),
                );
                return;
            }
        };
        for meta in metas(tokens, errors) {
            let key = key_of(&meta);
            if !ALL_ARG_KEYS.contains(&key.as_str()) {
                errors.push(unknown(&meta, &key, "arg", kind.arg_keys()));
                continue;
            }
            let result =
                match key.as_str() {
                    "default" => match &meta {
                        Meta::Path(_) => Ok(ArgDefault::Trait),
                        Meta::NameValue(nv) => Ok(ArgDefault::Expr(Box::new(nv.value.clone()))),
                        Meta::List(_) => Err(syn::Error::new_spanned(
                            &meta,
                            "write `default` (for `Default::default()`) or `default = value`",
                        )),
                    }
                    .map(|v| set(&mut self.default, keyed(&meta, v), &meta, errors)),
                    "rename" => lit_str(&meta, &key)
                        .map(|v| set(&mut self.rename, keyed(&meta, v), &meta, errors)),
                    "description" => lit_str(&meta, &key)
                        .map(|v| set(&mut self.description, keyed(&meta, v), &meta, errors)),
                    "min" => number(&meta, &key)
                        .map(|v| set(&mut self.min, keyed(&meta, v), &meta, errors)),
                    "max" => number(&meta, &key)
                        .map(|v| set(&mut self.max, keyed(&meta, v), &meta, errors)),
                    "min_len" => count(&meta, &key)
                        .map(|v| set(&mut self.min_len, keyed(&meta, v), &meta, errors)),
                    "max_len" => count(&meta, &key)
                        .map(|v| set(&mut self.max_len, keyed(&meta, v), &meta, errors)),
                    "pattern" => pattern(&meta)
                        .map(|v| set(&mut self.pattern, keyed(&meta, v), &meta, errors)),
                    "complete" => function(&meta)
                        .map(|v| set(&mut self.complete, keyed(&meta, v), &meta, errors)),
                    _ => Ok(()),
                };
            if let Err(e) = result {
                errors.push(e);
            }
        }
    }

    /// The keys that were set, each with its path, in the order of [`ALL_ARG_KEYS`].
    pub(crate) fn keys(&self) -> Vec<(&'static str, &Path)> {
        fn path<T>(slot: &Option<Keyed<T>>) -> Option<&Path> {
            slot.as_ref().map(|k| &k.key)
        }
        [
            ("default", path(&self.default)),
            ("rename", path(&self.rename)),
            ("description", path(&self.description)),
            ("min", path(&self.min)),
            ("max", path(&self.max)),
            ("min_len", path(&self.min_len)),
            ("max_len", path(&self.max_len)),
            ("pattern", path(&self.pattern)),
            ("complete", path(&self.complete)),
        ]
        .into_iter()
        .filter_map(|(name, p)| Some((name, p?)))
        .collect()
    }

    /// Whether any constraint (`min`, `max`, `min_len`, `max_len`, `pattern`) is set.
    pub(crate) fn has_constraints(&self) -> bool {
        self.min.is_some()
            || self.max.is_some()
            || self.min_len.is_some()
            || self.max_len.is_some()
            || self.pattern.is_some()
    }
}

/// Whether `attribute` is `#[name]` or `#[name(...)]` (or `#[some::path::name]`).
pub(crate) fn is_named(attribute: &Attribute, name: &str) -> bool {
    attribute
        .path()
        .segments
        .last()
        .is_some_and(|s| s.ident == name)
}

fn metas(tokens: TokenStream, errors: &mut Errors) -> Vec<Meta> {
    match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(list) => list.into_iter().collect(),
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    }
}

fn key_of(meta: &Meta) -> String {
    meta.path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

fn keyed<T>(meta: &Meta, value: T) -> Keyed<T> {
    Keyed {
        value,
        key: meta.path().clone(),
        tokens: value_tokens(meta),
    }
}

fn value_tokens(meta: &Meta) -> TokenStream {
    match meta {
        Meta::NameValue(nv) => quote::ToTokens::to_token_stream(&nv.value),
        other => quote::ToTokens::to_token_stream(other),
    }
}

fn set<T>(slot: &mut Option<T>, value: T, meta: &Meta, errors: &mut Errors) {
    if slot.is_some() {
        errors.at(
            meta.path(),
            format!("`{}` is set twice; keep one", key_of(meta)),
        );
    } else {
        *slot = Some(value);
    }
}

fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `` `a`, `b` or `c` ``.
fn alternatives(keys: &[&str]) -> String {
    match keys.split_last() {
        Some((last, [])) => format!("`{last}`"),
        Some((last, rest)) => format!("{} or `{last}`", quoted(rest)),
        None => String::new(),
    }
}

fn unknown(meta: &Meta, key: &str, attribute: &str, keys: &[&str]) -> syn::Error {
    syn::Error::new_spanned(
        meta.path(),
        format!(
            "unknown key `{key}` in `#[{attribute}(...)]`, expected one of {}",
            quoted(keys)
        ),
    )
}

/// The value of `key = value`, or an error with `message` at the value (or the key).
fn value<'a>(meta: &'a Meta, message: &str) -> syn::Result<&'a Expr> {
    match meta {
        Meta::NameValue(nv) => Ok(&nv.value),
        _ => Err(syn::Error::new_spanned(meta, message)),
    }
}

fn lit_str(meta: &Meta, key: &str) -> syn::Result<LitStr> {
    let message = format!("`{key}` takes a string: `{key} = \"...\"`");
    match value(meta, &message)? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.clone()),
        other => Err(syn::Error::new_spanned(other, message)),
    }
}

/// Whether a tool runs as a task: `execution.taskSupport` in its definition.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskSupport {
    Forbidden,
    Optional,
    Required,
}

fn task_support(meta: &Meta) -> syn::Result<TaskSupport> {
    let message = "`task` takes \"optional\" (a client may run the tool as a task), \"required\" \
                   (only as a task) or \"forbidden\" (the default): `task = \"optional\"`";
    let lit = match value(meta, message)? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s.clone(),
        other => return Err(syn::Error::new_spanned(other, message)),
    };
    match lit.value().as_str() {
        "optional" => Ok(TaskSupport::Optional),
        "required" => Ok(TaskSupport::Required),
        "forbidden" => Ok(TaskSupport::Forbidden),
        other => Err(syn::Error::new_spanned(
            &lit,
            format!(
                "unknown task support {other:?}: write `task = \"optional\"`, `task = \"required\"` or `task = \"forbidden\"`"
            ),
        )),
    }
}

fn flag(meta: &Meta, key: &str) -> syn::Result<bool> {
    let message = format!("`{key}` is a flag: write `{key}`, `{key} = true` or `{key} = false`");
    match meta {
        Meta::Path(_) => Ok(true),
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            }) => Ok(b.value),
            other => Err(syn::Error::new_spanned(other, message)),
        },
        Meta::List(_) => Err(syn::Error::new_spanned(meta, message)),
    }
}

/// A number literal, possibly negative: `1`, `-3`, `0.5`.
fn number(meta: &Meta, key: &str) -> syn::Result<f64> {
    let message = format!("`{key}` takes a number: `{key} = 1` or `{key} = 0.5`");
    let expr = value(meta, &message)?;
    let (negative, lit) = match expr {
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => (true, &*u.expr),
        other => (false, other),
    };
    let parsed = match lit {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<f64>().ok(),
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse::<f64>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) if n.is_finite() => Ok(if negative { -n } else { n }),
        _ => Err(syn::Error::new_spanned(expr, message)),
    }
}

/// A whole number literal, not negative: `0`, `12`.
fn count(meta: &Meta, key: &str) -> syn::Result<u64> {
    let message = format!("`{key}` takes a whole number of at least 0: `{key} = 1`");
    let expr = value(meta, &message)?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<u64>(),
        _ => Err(syn::Error::new_spanned(expr, message)),
    }
}

/// A string literal that compiles as a regular expression.
fn pattern(meta: &Meta) -> syn::Result<LitStr> {
    let s = lit_str(meta, "pattern")?;
    if let Err(e) = regex_syntax::Parser::new().parse(&s.value()) {
        // The parser's own message spans several lines with a caret; its last line is the gist.
        let text = e.to_string();
        let gist = text
            .lines()
            .last()
            .unwrap_or(&text)
            .trim_start_matches("error: ");
        return Err(syn::Error::new_spanned(
            &s,
            format!("`pattern` is not a valid regular expression: {gist}"),
        ));
    }
    Ok(s)
}

/// The path of a completion function.
fn function(meta: &Meta) -> syn::Result<ExprPath> {
    let message = "`complete` takes the name of a function `fn(&str) -> Vec<String>` that suggests values for what has been typed: `complete = suggest_languages`";
    match value(meta, message)? {
        Expr::Path(p) => Ok(p.clone()),
        other => Err(syn::Error::new_spanned(other, message)),
    }
}

fn crate_path(meta: &Meta) -> syn::Result<Path> {
    let message =
        "`crate` takes the path of mcp-core as a string: `crate = \"::my_reexport::mcp_core\"`";
    let Meta::NameValue(nv) = meta else {
        return Err(syn::Error::new_spanned(meta, message));
    };
    match &nv.value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s
            .parse::<Path>()
            .map_err(|_| syn::Error::new_spanned(s, message)),
        other => Err(syn::Error::new_spanned(other, message)),
    }
}
