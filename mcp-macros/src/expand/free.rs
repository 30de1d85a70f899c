//! `#[tool]`, `#[prompt]` or `#[resource]` on a free `async fn`: a function of the same name
//! returning `impl Tool` (or `impl Prompt`, `impl ResourceProvider`), backed by a hidden unit
//! struct. (A function, not a struct of that name: a unit struct would turn every
//! `let count = ...` in the module into a pattern match against it.)

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use syn::Item;

use super::{Idents, fallback, hidden_ident, items, trait_path};
use crate::ast::{FnModel, Param, Site};
use crate::attr::{ItemAttr, Kind};
use crate::check::check;
use crate::errors::{Errors, head_span};
use crate::rewrite::{forbid_yields, rewrite_yields};

/// Expands `#[tool(attr)] item` (or `#[prompt]`, `#[resource]`, as `kind` says).
pub(crate) fn expand_free(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let item_attr = ItemAttr::parse(kind, attr, Span::call_site(), &mut errors);
    let noun = kind.name();
    let func = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => func,
        Ok(_) => {
            errors.at_span(
                head_span(&item),
                format!("`#[{noun}]` goes on an `async fn` (or on a method in an impl block marked `#[tools]`)"),
            );
            return with_errors(item, &errors);
        }
        Err(e) => {
            errors.push(e);
            return with_errors(item, &errors);
        }
    };
    let model = FnModel::parse(
        item_attr,
        None,
        &func.attrs,
        &func.sig,
        Site::Free,
        None,
        &mut errors,
    );
    check(&model, &mut errors);
    for other in &model.attrs.others {
        errors.at(
            other,
            format!("`#[{noun}]` turns the function into a struct, which cannot carry this attribute: remove it, or move it into the body"),
        );
    }
    let ids = Idents::new();
    let mut block = (*func.block).clone();
    match kind {
        Kind::Tool => rewrite_yields(&mut block, &ids.ctx, &model.krate, &mut errors),
        Kind::Prompt | Kind::Resource => forbid_yields(&mut block, kind, &mut errors),
    }
    if !errors.is_empty() {
        return fallback::free(&func, &model, &errors);
    }

    let krate = &model.krate;
    let vis = &func.vis;
    let ident = &model.ident;
    let cfgs = &model.attrs.cfgs;
    let lints = &model.attrs.lints;
    // Without a doc comment, the description documents the struct (for `missing_docs`).
    let docs = if model.attrs.docs.is_empty() {
        let description = model.description.as_ref().map_or_else(
            || format!("The resource at {}.", uri_of(&model)),
            |d| d.value(),
        );
        quote!(#[doc = #description])
    } else {
        let docs = &model.attrs.docs;
        quote!(#(#docs)*)
    };
    let Idents {
        ctx_owned,
        ctx,
        args,
        out,
        ..
    } = &ids;
    let bindings = model.params.iter().map(|param| match param {
        Param::Arg(a) => {
            let (attrs, mutability, ident, ty) = (&a.attrs, &a.mutability, &a.ident, &a.ty);
            quote!(#(#attrs)* let #mutability #ident: #ty = #args.#ident;)
        }
        Param::Context(c) => {
            let (attrs, mutability, ident, ty) = (&c.attrs, &c.mutability, &c.ident, &c.ty);
            if c.by_ref {
                quote!(#(#attrs)* let #mutability #ident: #ty = #ctx;)
            } else {
                quote!(#(#attrs)* let #mutability #ident: #ty = ::core::clone::Clone::clone(#ctx);)
            }
        }
    });
    let ret = &model.output.ty;
    let early = Ident::new("__mcp_ret", Span::mixed_site());
    let stmts = &block.stmts;
    let run = quote! {
        let #ctx: &#krate::Context = &#ctx_owned;
        #(#bindings)*
        let #out: #ret = async move {
            // Fixes the block's output type before the body is checked, so `?` and
            // `return` convert into the declared return type.
            if let ::core::option::Option::Some(#early) = ::core::option::Option::None::<#ret> {
                #[allow(unreachable_code)]
                return #early;
            }
            #(#stmts)*
        }
        .await;
    };
    let hidden = hidden_ident(kind, ident);
    let generated = items(&model, &ids, &quote!(#hidden), &TokenStream::new(), &run);
    let trait_path = trait_path(kind, krate);
    let must_use =
        format!("a {noun} does nothing until it is added to a server with `.{noun}(...)`");
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::default::Default,
        )]
        #vis struct #hidden;

        #docs
        #(#cfgs)*
        #[must_use = #must_use]
        #vis fn #ident() -> impl #trait_path {
            #hidden
        }

        #(#cfgs)*
        #(#lints)*
        #generated
    }
}

/// The URI of a resource, for its generated documentation.
fn uri_of(model: &FnModel) -> String {
    model
        .resource
        .as_ref()
        .map_or_else(String::new, |r| format!("`{}`", r.uri.value()))
}

fn with_errors(item: TokenStream, errors: &Errors) -> TokenStream {
    let compile_errors = errors.to_compile_errors();
    quote!(#item #compile_errors)
}
