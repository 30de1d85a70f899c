//! `#[tools]` on an inherent impl block: each `#[tool]`, `#[prompt]` and `#[resource]` method
//! becomes a hidden struct holding an `Arc` of the server, and the type implements `ToolBox`.
//!
//! A tool method stays callable with the signature the user wrote. Its body moves into a
//! hidden method that also takes the call's `&Context` (which rewritten `yield_!`s report
//! to); the visible method forwards to it with its own `Context` parameter, or with a detached
//! context (progress goes nowhere) when it has none. Prompt and resource methods do not stream:
//! they stay as written, and their structs call them.

use std::collections::HashMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;
use syn::{FnArg, ImplItem, ImplItemFn, Item, ItemImpl, Pat};

use super::{Idents, fallback, items};
use crate::ast::{FnModel, Param, Site};
use crate::attr::{ItemAttr, Kind, ToolsAttr};
use crate::check::check;
use crate::errors::{Errors, head_span};
use crate::rewrite::{forbid_yields, rewrite_yields};

/// One attributed method, read.
struct Method {
    method: ImplItemFn,
    /// The method's attributes without the kind's attribute.
    attrs: Vec<syn::Attribute>,
    model: FnModel,
}

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
        remove_kind_attrs(&mut imp);
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
    let mut methods = Vec::new();
    let mut items_out = Vec::new();
    let mut names: HashMap<(Kind, String), Ident> = HashMap::new();
    for item in std::mem::take(&mut imp.items) {
        let ImplItem::Fn(method) = item else {
            items_out.push(item.into_token_stream());
            continue;
        };
        let mut marked = method.attrs.iter().filter_map(|a| Some((Kind::of(a)?, a)));
        let Some((kind, first)) = marked.next() else {
            items_out.push(method.into_token_stream());
            continue;
        };
        for (again, attribute) in marked {
            let message = if again == kind {
                format!(
                    "`#[{}]` is written twice on this method; keep one",
                    kind.name()
                )
            } else {
                format!(
                    "a method is one of a tool, a prompt or a resource: it is already a {}, so remove `#[{}]`",
                    kind.name(),
                    again.name()
                )
            };
            errors.at(attribute, message);
        }
        let item_attr = ItemAttr::from_attribute(kind, first, &mut errors);
        let attrs: Vec<_> = method
            .attrs
            .iter()
            .filter(|a| Kind::of(a).is_none())
            .cloned()
            .collect();
        let model = FnModel::parse(
            item_attr,
            Some(&krate),
            &attrs,
            &method.sig,
            Site::Method,
            Some(&self_ty),
            &mut errors,
        );
        check(&model, &mut errors);
        let key = match &model.resource {
            Some(r) => r.uri.value(),
            None => model.name.value(),
        };
        if let Some(earlier) = names.insert((kind, key.clone()), model.ident.clone()) {
            let message = match kind {
                Kind::Tool => format!(
                    "two tools are named `{key}` (`{earlier}` and this one): rename a method or set `#[tool(name = \"...\")]`"
                ),
                Kind::Prompt => format!(
                    "two prompts are named `{key}` (`{earlier}` and this one): rename a method or set `#[prompt(name = \"...\")]`"
                ),
                Kind::Resource => format!(
                    "two resources are at `{key}` (`{earlier}` and this one): give each its own URI"
                ),
            };
            let at = match &model.resource {
                Some(r) => r.uri.clone(),
                None => model.name.clone(),
            };
            errors.at(&at, message);
        }
        methods.push(Method {
            method,
            attrs,
            model,
        });
    }

    let ids = Idents::new();
    let mut generated = Vec::new();
    let mut structs: Vec<(Kind, Ident, Vec<syn::Attribute>)> = Vec::new();
    for m in &methods {
        let mut block = m.method.block.clone();
        match m.model.kind {
            Kind::Tool => rewrite_yields(&mut block, &ids.ctx, &m.model.krate, &mut errors),
            kind => forbid_yields(&mut block, kind, &mut errors),
        }
        if errors.is_empty() {
            let (method_items, trait_items) = match m.model.kind {
                Kind::Tool => expand_tool_method(m, &block, &ids),
                _ => expand_plain_method(m, &ids),
            };
            items_out.push(method_items);
            generated.push(trait_items);
            structs.push((
                m.model.kind,
                struct_ident(&m.model),
                m.model.attrs.cfgs.clone(),
            ));
        }
    }
    if !errors.is_empty() {
        for m in &methods {
            items_out.push(fallback::stub_method(
                &m.attrs,
                &m.method.vis,
                &m.method.sig,
            ));
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
                #(#items_out)*
            }
            #toolbox
            #compile_errors
        };
    }

    let impl_attrs = &imp.attrs;
    let (unsafety, impl_token) = (&imp.unsafety, &imp.impl_token);
    let this = Ident::new("this", Span::mixed_site());
    let list_fn = |kind: Kind, method: &str, trait_name: &str| {
        let method = Ident::new(method, Span::call_site());
        let trait_name = Ident::new(trait_name, Span::call_site());
        let list = Ident::new("__mcp_list", Span::mixed_site());
        let of_kind: Vec<_> = structs.iter().filter(|(k, ..)| *k == kind).collect();
        let count = of_kind.len();
        let pushes = of_kind.iter().map(|(_, s, cfgs)| {
            quote! {
                #(#cfgs)*
                #list.push(::std::sync::Arc::new(#s(::std::sync::Arc::clone(#this)))
                    as ::std::sync::Arc<dyn #krate::#trait_name>);
            }
        });
        quote! {
            fn #method(
                #this: &::std::sync::Arc<Self>,
            ) -> ::std::vec::Vec<::std::sync::Arc<dyn #krate::#trait_name>> {
                let mut #list: ::std::vec::Vec<::std::sync::Arc<dyn #krate::#trait_name>> =
                    ::std::vec::Vec::with_capacity(#count);
                #(#pushes)*
                #list
            }
        }
    };
    let tools = list_fn(Kind::Tool, "tools", "Tool");
    let prompts = list_fn(Kind::Prompt, "prompts", "Prompt");
    let resources = list_fn(Kind::Resource, "resources", "ResourceProvider");
    let struct_defs = structs.iter().map(|(_, s, cfgs)| {
        quote! {
            #(#cfgs)*
            #[allow(non_camel_case_types)]
            struct #s(::std::sync::Arc<#self_ty>);
        }
    });
    quote! {
        #(#impl_attrs)*
        #unsafety #impl_token #self_ty {
            #(#items_out)*
        }

        const _: () = {
            #(#struct_defs)*
            #(#generated)*

            impl #krate::ToolBox for #self_ty {
                #tools
                #prompts
                #resources
            }
        };
    }
}

fn struct_ident(model: &FnModel) -> Ident {
    let kind = match model.kind {
        Kind::Tool => "Tool",
        Kind::Prompt => "Prompt",
        Kind::Resource => "Resource",
    };
    format_ident!("__Mcp{}_{}", kind, model.ident.unraw())
}

fn hidden_method(model: &FnModel) -> Ident {
    format_ident!("__mcp_tool_{}", model.ident.unraw())
}

/// A prompt or resource method: kept as written, and a struct whose trait impl calls it.
fn expand_plain_method(m: &Method, ids: &Idents) -> (TokenStream, TokenStream) {
    let model = &m.model;
    let mut sig = m.method.sig.clone();
    fallback::strip_param_attrs(&mut sig);
    let (attrs, vis, block) = (&m.attrs, &m.method.vis, &m.method.block);
    let method = quote! {
        #(#attrs)*
        #vis #sig #block
    };
    let this = Ident::new("__mcp_this", Span::mixed_site());
    let out = &ids.out;
    let call_args = call_args(model, ids);
    let ident = &model.ident;
    let prelude = quote!(let #this = ::std::sync::Arc::clone(&self.0););
    let run = quote! {
        let #out = #this.#ident(#(#call_args),*).await;
    };
    let ty = struct_ident(model).into_token_stream();
    let cfgs = &model.attrs.cfgs;
    let generated = items(model, ids, &ty, &prelude, &run);
    (method, quote!(#(#cfgs)* #generated))
}

/// The arguments a generated struct passes to the user's method, in the method's order.
fn call_args<'a>(model: &'a FnModel, ids: &'a Idents) -> impl Iterator<Item = TokenStream> + 'a {
    let Idents {
        ctx_owned, args, ..
    } = ids;
    model.params.iter().map(move |p| match p {
        Param::Arg(a) => {
            let ident = &a.ident;
            quote!(#args.#ident)
        }
        Param::Context(c) if c.by_ref => quote!(&#ctx_owned),
        Param::Context(_) => quote!(::core::clone::Clone::clone(&#ctx_owned)),
    })
}

/// The visible method, the hidden one holding the body, and the tool's items.
fn expand_tool_method(m: &Method, block: &syn::Block, ids: &Idents) -> (TokenStream, TokenStream) {
    let (method, attrs, model) = (&m.method, &m.attrs, &m.model);
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
    let Idents { ctx_owned, out, .. } = ids;
    let call_args = call_args(model, ids);
    let prelude = quote!(let #this = ::std::sync::Arc::clone(&self.0););
    let run = quote! {
        let #out = #this.#hidden(&#ctx_owned, #(#call_args),*).await;
    };
    let tool_ty = struct_ident(model).into_token_stream();
    let generated = items(model, ids, &tool_ty, &prelude, &run);
    let tool = quote! {
        #(#cfgs)*
        #generated
    };
    (methods, tool)
}

fn remove_kind_attrs(imp: &mut ItemImpl) {
    for item in &mut imp.items {
        if let ImplItem::Fn(f) = item {
            f.attrs.retain(|a| Kind::of(a).is_none());
        }
    }
}
