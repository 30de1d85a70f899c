//! The keys of `#[tool(...)]`, `#[tools(...)]` and `#[arg(...)]`, typed, with every mistake
//! (unknown key, key set twice, value of the wrong kind) reported at the user's token.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta, Path, Token};

use crate::errors::Errors;

const TOOL_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "crate",
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
];
const TOOLS_KEYS: &[&str] = &["crate"];
const ARG_KEYS: &[&str] = &["default", "rename", "description"];

/// The keys of `#[tool(...)]`.
#[derive(Default)]
pub(crate) struct ToolAttr {
    pub(crate) name: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) krate: Option<Path>,
    pub(crate) read_only: Option<bool>,
    pub(crate) destructive: Option<bool>,
    pub(crate) idempotent: Option<bool>,
    pub(crate) open_world: Option<bool>,
}

impl ToolAttr {
    /// Parses the arguments of a `#[tool(...)]` attribute macro.
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        let mut attr = ToolAttr::default();
        for meta in metas(tokens, errors) {
            let key = key_of(&meta);
            let result = match key.as_str() {
                "name" => lit_str(&meta, &key).map(|v| set(&mut attr.name, v, &meta, errors)),
                "title" => lit_str(&meta, &key).map(|v| set(&mut attr.title, v, &meta, errors)),
                "description" => {
                    lit_str(&meta, &key).map(|v| set(&mut attr.description, v, &meta, errors))
                }
                "crate" => crate_path(&meta).map(|v| set(&mut attr.krate, v, &meta, errors)),
                "read_only" => {
                    flag(&meta, &key).map(|v| set(&mut attr.read_only, v, &meta, errors))
                }
                "destructive" => {
                    flag(&meta, &key).map(|v| set(&mut attr.destructive, v, &meta, errors))
                }
                "idempotent" => {
                    flag(&meta, &key).map(|v| set(&mut attr.idempotent, v, &meta, errors))
                }
                "open_world" => {
                    flag(&meta, &key).map(|v| set(&mut attr.open_world, v, &meta, errors))
                }
                _ => Err(unknown(&meta, &key, "tool", TOOL_KEYS)),
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        attr
    }

    /// Parses a `#[tool]` or `#[tool(...)]` attribute written on a method.
    pub(crate) fn from_attribute(attribute: &Attribute, errors: &mut Errors) -> Self {
        match &attribute.meta {
            Meta::Path(_) => ToolAttr::default(),
            Meta::List(list) => ToolAttr::parse(list.tokens.clone(), errors),
            Meta::NameValue(nv) => {
                errors.at(
                    nv.eq_token,
                    "write `#[tool]` or `#[tool(key = value, ...)]`, not `#[tool = ...]`",
                );
                ToolAttr::default()
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

/// The keys of `#[arg(...)]` on a tool parameter.
#[derive(Default)]
pub(crate) struct ArgAttr {
    pub(crate) default: Option<ArgDefault>,
    pub(crate) rename: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
}

impl ArgAttr {
    /// Merges one `#[arg(...)]` attribute into `self`.
    pub(crate) fn add(&mut self, attribute: &Attribute, errors: &mut Errors) {
        let tokens = match &attribute.meta {
            Meta::List(list) => list.tokens.clone(),
            _ => {
                errors.at(
                    attribute,
                    "write `#[arg(key = value, ...)]`, with keys `default`, `rename` or `description`",
                );
                return;
            }
        };
        for meta in metas(tokens, errors) {
            let key = key_of(&meta);
            let result = match key.as_str() {
                "default" => {
                    let value = match &meta {
                        Meta::Path(_) => Ok(ArgDefault::Trait),
                        Meta::NameValue(nv) => Ok(ArgDefault::Expr(Box::new(nv.value.clone()))),
                        Meta::List(_) => Err(syn::Error::new_spanned(
                            &meta,
                            "write `default` (for `Default::default()`) or `default = value`",
                        )),
                    };
                    value.map(|v| set(&mut self.default, v, &meta, errors))
                }
                "rename" => lit_str(&meta, &key).map(|v| set(&mut self.rename, v, &meta, errors)),
                "description" => {
                    lit_str(&meta, &key).map(|v| set(&mut self.description, v, &meta, errors))
                }
                _ => Err(unknown(&meta, &key, "arg", ARG_KEYS)),
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
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

fn unknown(meta: &Meta, key: &str, attribute: &str, keys: &[&str]) -> syn::Error {
    let expected = keys
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    syn::Error::new_spanned(
        meta.path(),
        format!("unknown key `{key}` in `#[{attribute}(...)]`, expected one of {expected}"),
    )
}

fn lit_str(meta: &Meta, key: &str) -> syn::Result<LitStr> {
    if let Meta::NameValue(nv) = meta
        && let Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) = &nv.value
    {
        return Ok(s.clone());
    }
    let message = format!("`{key}` takes a string: `{key} = \"...\"`");
    Err(match meta {
        Meta::NameValue(nv) => syn::Error::new_spanned(&nv.value, message),
        _ => syn::Error::new_spanned(meta, message),
    })
}

fn flag(meta: &Meta, key: &str) -> syn::Result<bool> {
    match meta {
        Meta::Path(_) => Ok(true),
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            }) => Ok(b.value),
            other => Err(syn::Error::new_spanned(
                other,
                format!("`{key}` is a flag: write `{key}`, `{key} = true` or `{key} = false`"),
            )),
        },
        Meta::List(_) => Err(syn::Error::new_spanned(
            meta,
            format!("`{key}` is a flag: write `{key}`, `{key} = true` or `{key} = false`"),
        )),
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
