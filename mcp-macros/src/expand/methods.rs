//! `#[tools]` on an inherent impl block: each `#[tool]` method becomes a hidden tool struct
//! holding an `Arc` of the server, and the type implements `ToolBox`.
//!
//! The method itself stays callable with the signature the user wrote. Its body moves into a
//! hidden method that also takes the call's `&Context` (which rewritten `yield_!`s report
//! to); the visible method forwards to it with its own `Context` parameter, or with a detached
//! context (progress goes nowhere) when it has none.

use std::collections::HashMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;
use syn::{FnArg, ImplItem, ImplItemFn, Item, ItemImpl, Pat};

use super::{Idents, fallback, tool_items};
use crate::ast::{Param, Site, ToolModel};
use crate::attr::{ToolAttr, ToolsAttr, is_named};
use crate::check::check;
use crate::errors::{Errors, head_span};
use crate::rewrite::rewrite_yields;

/// Expands `#[tools(attr)] item`.
pub(crate) fn expand_impl(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let tools_attr = ToolsAttr::parse(attr, &mut errors);
    let krate: syn::Path = tools_attr
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::mcp_core));
    let mut imp = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Impl(imp)) => imp,
        Ok(_) => {
            errors.at_span(
                head_span(&item),
                "`#[tools]` goes on an inherent impl block whose methods are tools: `#[tools] impl MyServer { ... }`",
            );
            let compile_errors = errors.to_compile_errors();
            return quote!(#item #compile_errors);
        }
        Err(e) => {
            errors.push(e);
            let compile_errors = errors.to_compile_errors();
            return quote!(#item #compile_errors);
        }
    };
    if let Some((_, path, _)) = &imp.trait_ {
        errors.at(
            path,
            "`#[tools]` goes on an inherent impl block (`impl MyServer { ... }`), not on a trait impl: put the tool methods in an `impl` block of their own",
        );
        remove_tool_attrs(&mut imp);
        let compile_errors = errors.to_compile_errors();
        return quote!(#imp #compile_errors);
    }
    let generic =
        "`#[tools]` does not support generic impl blocks: implement the tools for a concrete type";
    if !imp.generics.params.is_empty() {
        errors.at(&imp.generics, generic);
    } else if let Some(w) = &imp.generics.where_clause {
        errors.at(w, generic);
    }

    let self_ty = (*imp.self_ty).clone();
    let mut tools = Vec::new();
    let mut items = Vec::new();
    let mut names: HashMap<String, Ident> = HashMap::new();
    for item in std::mem::take(&mut imp.items) {
        let ImplItem::Fn(method) = item else {
            items.push(item.into_token_stream());
            continue;
        };
        let mut tool_attrs = method.attrs.iter().filter(|a| is_named(a, "tool"));
        let Some(first) = tool_attrs.next() else {
            items.push(method.into_token_stream());
            continue;
        };
        for again in tool_attrs {
            errors.at(again, "`#[tool]` is written twice on this method; keep one");
        }
        let tool_attr = ToolAttr::from_attribute(first, &mut errors);
        let attrs: Vec<_> = method
            .attrs
            .iter()
            .filter(|a| !is_named(a, "tool"))
            .cloned()
            .collect();
        let model = ToolModel::parse(
            tool_attr,
            Some(&krate),
            &attrs,
            &method.sig,
            Site::Method,
            Some(&self_ty),
            &mut errors,
        );
        check(&model, &mut errors);
        if let Some(earlier) = names.insert(model.name.value(), model.ident.clone()) {
            errors.at(
                &model.name,
                format!(
                    "two tools are named `{}` (`{earlier}` and this one): rename a method or set `#[tool(name = \"...\")]`",
                    model.name.value()
                ),
            );
        }
        tools.push((method, attrs, model));
    }

    let ids = Idents::new();
    let mut generated = Vec::new();
    let mut structs = Vec::new();
    for (method, attrs, model) in &tools {
        let mut block = method.block.clone();
        rewrite_yields(&mut block, &ids.ctx, &model.krate, &mut errors);
        if errors.is_empty() {
            let (methods, tool) = expand_method(method, attrs, model, &block, &ids);
            items.push(methods);
            generated.push(tool);
            structs.push((tool_struct(model), model.attrs.cfgs.clone()));
        }
    }
    if !errors.is_empty() {
        for (method, attrs, _) in &tools {
            items.push(fallback::stub_method(attrs, &method.vis, &method.sig));
        }
        let impl_attrs = &imp.attrs;
        let (unsafety, impl_token, self_ty) = (&imp.unsafety, &imp.impl_token, &imp.self_ty);
        // A generic impl's stub would only add errors about its unknown parameters.
        let toolbox = if imp.generics.params.is_empty() {
            fallback::toolbox(&krate, self_ty)
        } else {
            TokenStream::new()
        };
        let compile_errors = errors.to_compile_errors();
        return quote! {
            #(#impl_attrs)*
            #unsafety #impl_token #self_ty {
                #(#items)*
            }
            #toolbox
            #compile_errors
        };
    }

    let impl_attrs = &imp.attrs;
    let (unsafety, impl_token) = (&imp.unsafety, &imp.impl_token);
    let this = Ident::new("this", Span::mixed_site());
    let list = Ident::new("__mcp_tools", Span::mixed_site());
    let count = structs.len();
    let pushes = structs.iter().map(|(s, cfgs)| {
        quote! {
            #(#cfgs)*
            #list.push(::std::sync::Arc::new(#s(::std::sync::Arc::clone(#this)))
                as ::std::sync::Arc<dyn #krate::Tool>);
        }
    });
    let struct_defs = structs.iter().map(|(s, cfgs)| {
        quote! {
            #(#cfgs)*
            #[allow(non_camel_case_types)]
            struct #s(::std::sync::Arc<#self_ty>);
        }
    });
    quote! {
        #(#impl_attrs)*
        #unsafety #impl_token #self_ty {
            #(#items)*
        }

        const _: () = {
            #(#struct_defs)*
            #(#generated)*

            impl #krate::ToolBox for #self_ty {
                fn tools(
                    #this: &::std::sync::Arc<Self>,
                ) -> ::std::vec::Vec<::std::sync::Arc<dyn #krate::Tool>> {
                    let mut #list: ::std::vec::Vec<::std::sync::Arc<dyn #krate::Tool>> =
                        ::std::vec::Vec::with_capacity(#count);
                    #(#pushes)*
                    #list
                }
            }
        };
    }
}

fn tool_struct(model: &ToolModel) -> Ident {
    format_ident!("__McpTool_{}", model.ident.unraw())
}

fn hidden_method(model: &ToolModel) -> Ident {
    format_ident!("__mcp_tool_{}", model.ident.unraw())
}

/// The visible method, the hidden one holding the body, and the tool's items.
fn expand_method(
    method: &ImplItemFn,
    attrs: &[syn::Attribute],
    model: &ToolModel,
    block: &syn::Block,
    ids: &Idents,
) -> (TokenStream, TokenStream) {
    let krate = &model.krate;
    let hidden = hidden_method(model);
    let ctx = &ids.ctx;

    // The hidden method: the user's parameters (attributes removed) after the context.
    let mut hidden_sig = method.sig.clone();
    fallback::strip_param_attrs(&mut hidden_sig);
    hidden_sig.ident = hidden.clone();
    let receiver_pos = hidden_sig
        .inputs
        .iter()
        .position(|i| matches!(i, FnArg::Receiver(_)))
        .map_or(0, |p| p + 1);
    hidden_sig
        .inputs
        .insert(receiver_pos, syn::parse_quote!(#ctx: &#krate::Context));
    let cfgs = &model.attrs.cfgs;
    let lints = &model.attrs.lints;

    // The visible method: same signature, forwarding to the hidden one.
    let mut visible_sig = method.sig.clone();
    fallback::strip_param_attrs(&mut visible_sig);
    for input in &mut visible_sig.inputs {
        if let FnArg::Typed(pt) = input
            && let Pat::Ident(pi) = &mut *pt.pat
        {
            pi.mutability = None;
        }
    }
    let detached = Ident::new("__mcp_detached", Span::mixed_site());
    let (setup, ctx_arg) = match model.params.iter().find_map(|p| match p {
        Param::Context(c) => Some(c),
        Param::Arg(_) => None,
    }) {
        Some(c) if c.by_ref => (TokenStream::new(), c.ident.to_token_stream()),
        Some(c) => {
            let ident = &c.ident;
            (
                quote!(let #detached = ::core::clone::Clone::clone(&#ident);),
                quote!(&#detached),
            )
        }
        None => (
            quote!(let #detached = #krate::Context::detached();),
            quote!(&#detached),
        ),
    };
    let forward = model.params.iter().map(|p| match p {
        Param::Arg(a) => &a.ident,
        Param::Context(c) => &c.ident,
    });
    let vis = &method.vis;
    let methods = quote! {
        #(#attrs)*
        #[allow(dead_code)]
        #vis #visible_sig {
            #setup
            self.#hidden(#ctx_arg, #(#forward),*).await
        }

        #[doc(hidden)]
        #[allow(clippy::too_many_arguments)]
        #(#cfgs)*
        #(#lints)*
        #hidden_sig #block
    };

    // The tool: decode the arguments, call the hidden method on the shared server.
    let this = Ident::new("__mcp_this", Span::mixed_site());
    let Idents {
        ctx_owned,
        args,
        out,
        ..
    } = ids;
    let call_args = model.params.iter().map(|p| match p {
        Param::Arg(a) => {
            let ident = &a.ident;
            quote!(#args.#ident)
        }
        Param::Context(c) if c.by_ref => quote!(&#ctx_owned),
        Param::Context(_) => quote!(::core::clone::Clone::clone(&#ctx_owned)),
    });
    let prelude = quote!(let #this = ::std::sync::Arc::clone(&self.0););
    let run = quote! {
        let #out = #this.#hidden(&#ctx_owned, #(#call_args),*).await;
    };
    let tool_ty = tool_struct(model).into_token_stream();
    let items = tool_items(model, ids, &tool_ty, &prelude, &run);
    let tool = quote! {
        #(#cfgs)*
        #items
    };
    (methods, tool)
}

fn remove_tool_attrs(imp: &mut ItemImpl) {
    for item in &mut imp.items {
        if let ImplItem::Fn(f) = item {
            f.attrs.retain(|a| !is_named(a, "tool"));
        }
    }
}
