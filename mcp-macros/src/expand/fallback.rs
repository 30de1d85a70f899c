//! What the macros emit when they found mistakes: the errors, plus items with the same names
//! and signatures as the successful expansion, so that one mistake does not cascade into
//! errors wherever the tool is used (`.tool(count)`, `.tools(server)`, direct calls).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, Signature};

use super::{hidden_ident, trait_path};
use crate::ast::FnModel;
use crate::attr::{Kind, is_named};
use crate::errors::Errors;

/// The fallback of `#[tool]` (or `#[prompt]`, `#[resource]`) on a free function: the function
/// returning `impl Tool` (or its kind's trait), backed by an impl that never runs. On a method
/// (a `self` receiver without `#[tools]`), the method with an empty body.
pub(crate) fn free(func: &syn::ItemFn, model: &FnModel, errors: &Errors) -> TokenStream {
    let compile_errors = errors.to_compile_errors();
    if func.sig.receiver().is_some() {
        let stub = stub_method(&func.attrs, &func.vis, &func.sig);
        return quote!(#stub #compile_errors);
    }
    let krate = &model.krate;
    let vis = &func.vis;
    let ident = &func.sig.ident;
    let hidden = hidden_ident(model.kind, ident);
    let trait_path = trait_path(model.kind, krate);
    let never = never_impl(model.kind, krate);
    let docs = &model.attrs.docs;
    let cfgs = &model.attrs.cfgs;
    // The signature, in a function nothing calls: the names it uses stay used (no
    // "unused import" on top of the errors) and rustc still checks its types.
    let mut sig = func.sig.clone();
    strip_param_attrs(&mut sig);
    neutral_output(&mut sig);
    quote! {
        #(#cfgs)*
        const _: () = {
            #[allow(unused, non_snake_case, clippy::all)]
            #sig {
                ::core::unreachable!()
            }
        };

        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #hidden;

        #(#docs)*
        #(#cfgs)*
        #vis fn #ident() -> impl #trait_path {
            #hidden
        }

        #(#cfgs)*
        impl #trait_path for #hidden {
            #never
        }

        #compile_errors
    }
}

/// The required methods of a kind's trait, none of which ever runs.
fn never_impl(kind: Kind, krate: &syn::Path) -> TokenStream {
    match kind {
        Kind::Tool => quote! {
            fn definition(&self) -> #krate::protocol::ToolDefinition {
                ::core::unreachable!()
            }
            fn call(
                &self,
                _: #krate::Context,
                _: #krate::Payload,
            ) -> #krate::tool::BoxFuture<#krate::CallToolResult> {
                ::core::unreachable!()
            }
        },
        Kind::Prompt => quote! {
            fn definition(&self) -> #krate::protocol::PromptDefinition {
                ::core::unreachable!()
            }
            fn get(
                &self,
                _: #krate::Context,
                _: ::std::collections::HashMap<::std::string::String, ::std::string::String>,
            ) -> #krate::tool::BoxFuture<
                ::core::result::Result<#krate::protocol::GetPromptResult, #krate::RpcError>,
            > {
                ::core::unreachable!()
            }
        },
        Kind::Resource => quote! {
            fn resources(&self) -> ::std::vec::Vec<#krate::protocol::Resource> {
                ::core::unreachable!()
            }
            fn read(
                &self,
                _: #krate::Context,
                _: &str,
            ) -> ::core::option::Option<#krate::tool::BoxFuture<
                ::core::result::Result<#krate::protocol::ReadResourceResult, #krate::RpcError>,
            >> {
                ::core::unreachable!()
            }
        },
    }
}

/// A method with the given signature (parameter attributes removed) whose body never runs.
pub(crate) fn stub_method(
    attrs: &[syn::Attribute],
    vis: &syn::Visibility,
    sig: &Signature,
) -> TokenStream {
    let mut sig = sig.clone();
    strip_param_attrs(&mut sig);
    neutral_output(&mut sig);
    let attrs = attrs.iter().filter(|a| Kind::of(a).is_none());
    quote! {
        #(#attrs)*
        #[allow(unused)]
        #vis #sig {
            ::core::unreachable!()
        }
    }
}

/// A `ToolBox` impl that never runs, so `.tools(value)` still type-checks.
pub(crate) fn toolbox(krate: &syn::Path, self_ty: &syn::Type) -> TokenStream {
    quote! {
        impl #krate::ToolBox for #self_ty {
            fn tools(
                _: &::std::sync::Arc<Self>,
            ) -> ::std::vec::Vec<::std::sync::Arc<dyn #krate::Tool>> {
                ::core::unreachable!()
            }
        }
    }
}

/// A return type of `impl Trait` becomes `()`: a body that never runs cannot produce one.
fn neutral_output(sig: &mut Signature) {
    if let syn::ReturnType::Type(_, ty) = &sig.output
        && matches!(**ty, syn::Type::ImplTrait(_))
    {
        sig.output = syn::ReturnType::Default;
    }
}

/// Removes doc comments and `#[arg]` from parameters: rustc accepts neither there.
pub(crate) fn strip_param_attrs(sig: &mut Signature) {
    for input in &mut sig.inputs {
        if let FnArg::Typed(pt) = input {
            pt.attrs
                .retain(|a| !a.path().is_ident("doc") && !is_named(a, "arg"));
        }
    }
}
