//! `#[tool]` on a free `async fn`: a function of the same name returning `impl Tool`, backed
//! by a hidden unit struct. (A function, not a struct of that name: a unit struct would turn
//! every `let count = ...` in the module into a pattern match against it.)

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use syn::Item;

use super::{Idents, fallback, tool_items};
use crate::ast::{Param, Site, ToolModel};
use crate::attr::ToolAttr;
use crate::check::check;
use crate::errors::{Errors, head_span};
use crate::rewrite::rewrite_yields;

/// Expands `#[tool(attr)] item`.
pub(crate) fn expand_free(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let tool_attr = ToolAttr::parse(attr, &mut errors);
    let func = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => func,
        Ok(_) => {
            errors.at_span(
                head_span(&item),
                "`#[tool]` goes on an `async fn` (or on a method in an impl block marked `#[tools]`)",
            );
            return with_errors(item, &errors);
        }
        Err(e) => {
            errors.push(e);
            return with_errors(item, &errors);
        }
    };
    let model = ToolModel::parse(
        tool_attr,
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
            "`#[tool]` turns the function into a struct, which cannot carry this attribute: remove it, or move it into the body",
        );
    }
    let ids = Idents::new();
    let mut block = (*func.block).clone();
    rewrite_yields(&mut block, &ids.ctx, &model.krate, &mut errors);
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
        let description = &model.description;
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
    let hidden = hidden_ident(ident);
    let items = tool_items(&model, &ids, &quote!(#hidden), &TokenStream::new(), &run);
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
        #[must_use = "a tool does nothing until it is added to a server with `.tool(...)`"]
        #vis fn #ident() -> impl #krate::Tool {
            #hidden
        }

        #(#cfgs)*
        #(#lints)*
        #items
    }
}

/// The name of the struct behind a free tool function.
pub(crate) fn hidden_ident(ident: &Ident) -> Ident {
    use syn::ext::IdentExt;
    Ident::new(&format!("__mcp_tool_{}", ident.unraw()), ident.span())
}

fn with_errors(item: TokenStream, errors: &Errors) -> TokenStream {
    let compile_errors = errors.to_compile_errors();
    quote!(#item #compile_errors)
}
