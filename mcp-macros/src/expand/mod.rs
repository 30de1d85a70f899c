//! Code generation. `free` expands `#[tool]`, `#[prompt]` and `#[resource]` on a free
//! function, `methods` expands `#[tools]` on an impl block; `tool`, `prompt` and `resource`
//! generate what each kind needs (its trait impl, its arguments, its trait assertions), and
//! this module holds what they share.

mod fallback;
mod free;
mod methods;
mod prompt;
mod resource;
mod tool;

pub(crate) use free::expand_free;
pub(crate) use methods::expand_impl;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::ast::{FnModel, Shape};
use crate::attr::Kind;

/// The identifiers generated code shares. Bindings use mixed-site hygiene, so the user's body
/// neither sees them nor shadows them.
pub(crate) struct Idents {
    /// The call's `Context`, owned.
    pub(crate) ctx_owned: Ident,
    /// A `&Context` to it, which rewritten `yield_!`s use.
    pub(crate) ctx: Ident,
    /// The decoded arguments struct.
    pub(crate) args: Ident,
    /// The body's value.
    pub(crate) out: Ident,
    /// The hidden struct the arguments are decoded into.
    pub(crate) args_ty: Ident,
}

impl Idents {
    pub(crate) fn new() -> Self {
        let local = |name: &str| Ident::new(name, Span::mixed_site());
        Idents {
            ctx_owned: local("__mcp_ctx_owned"),
            ctx: local("__mcp_ctx"),
            args: local("__mcp_args"),
            out: local("__mcp_out"),
            args_ty: format_ident!("__McpArgs"),
        }
    }
}

/// The items of one tool, prompt or resource, in a block of their own: the trait impl for
/// `ty`, with what it needs.
///
/// `prelude` runs in the trait method before the future is built; `run` runs inside it, with
/// the arguments decoded into `ids.args` (a struct whose fields are named after the
/// parameters) and the context in `ids.ctx_owned`, and binds the body's value to `ids.out`.
pub(crate) fn items(
    model: &FnModel,
    ids: &Idents,
    ty: &TokenStream,
    prelude: &TokenStream,
    run: &TokenStream,
) -> TokenStream {
    match model.kind {
        Kind::Tool => tool::items(model, ids, ty, prelude, run),
        Kind::Prompt => prompt::items(model, ids, ty, prelude, run),
        Kind::Resource => resource::items(model, ids, ty, prelude, run),
    }
}

/// The trait a kind of item implements.
pub(crate) fn trait_path(kind: Kind, krate: &syn::Path) -> TokenStream {
    match kind {
        Kind::Tool => quote!(#krate::Tool),
        Kind::Prompt => quote!(#krate::Prompt),
        Kind::Resource => quote!(#krate::ResourceProvider),
    }
}

/// The name of the struct behind a free function of `kind`.
pub(crate) fn hidden_ident(kind: Kind, ident: &Ident) -> Ident {
    Ident::new(
        &format!("__mcp_{}_{}", kind.name(), ident.unraw()),
        ident.span(),
    )
}

/// `Some(String::from(s))` or `None`.
pub(crate) fn opt_string(s: &Option<syn::LitStr>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(::std::string::String::from(#s))),
        None => quote!(::core::option::Option::None),
    }
}

/// The helper that formats a returned error, when the output is a `Result`.
pub(crate) fn error_text_fn(shape: &Shape) -> Option<TokenStream> {
    matches!(shape, Shape::Result(..)).then(|| {
        quote! {
            fn __mcp_error_text<E: ::core::fmt::Display + ?::core::marker::Sized>(
                error: &E,
            ) -> ::std::string::String {
                // `{:#}`: error types with a chain of causes (anyhow, eyre) show all of it.
                ::std::format!("{error:#}")
            }
        }
    })
}

/// For prompts and resources: the expression turning `value` (of the shape's type) into
/// `Result<R, RpcError>`, where `ok` converts a successful value of an as-is type.
/// An `Err` becomes `-32603` with its text, or stays as it is when its type is an `RpcError`.
pub(crate) fn convert_fallible(
    shape: &Shape,
    value: TokenStream,
    krate: &syn::Path,
    span: Span,
    ok: &dyn Fn(&Shape, TokenStream) -> TokenStream,
) -> TokenStream {
    match shape {
        Shape::Result(inner, error_ty) => {
            let v = Ident::new("__mcp_ok", Span::mixed_site());
            let e = Ident::new("__mcp_err", Span::mixed_site());
            let converted = convert_fallible(inner, quote!(#v), krate, span, ok);
            let is_rpc = error_ty
                .as_ref()
                .and_then(crate::ast::last_segment)
                .is_some_and(|s| s.ident == "RpcError");
            let error = match error_ty {
                _ if is_rpc => quote!(#e),
                Some(ty) => quote_spanned!(ty.span()=>
                    #krate::RpcError::internal(__mcp_error_text::<#ty>(&#e))),
                None => quote_spanned!(span=> #krate::RpcError::internal(__mcp_error_text(&#e))),
            };
            quote! {
                match #value {
                    ::core::result::Result::Ok(#v) => #converted,
                    ::core::result::Result::Err(#e) => ::core::result::Result::Err(#error),
                }
            }
        }
        other => ok(other, value),
    }
}

/// `-(x)` for a negative number, so the literal itself stays positive.
pub(crate) fn f64_tokens(value: f64) -> TokenStream {
    let lit = proc_macro2::Literal::f64_suffixed(value.abs());
    if value < 0.0 {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}
