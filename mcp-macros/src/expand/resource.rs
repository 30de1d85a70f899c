//! What one resource generates: the `ResourceProvider` impl (one resource, or a template whose
//! variables are parsed from the URI), its completion, and the trait assertions.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::prompt::{args_struct, text_argument_checks};
use super::{Idents, convert_fallible, error_text_fn, opt_string};
use crate::ast::{FnModel, Shape};
use crate::template::Part;

/// The `ResourceProvider` impl for `ty` and what it needs (see [`super::items`]).
pub(crate) fn items(
    model: &FnModel,
    ids: &Idents,
    ty: &TokenStream,
    prelude: &TokenStream,
    run: &TokenStream,
) -> TokenStream {
    let krate = &model.krate;
    let Some(resource) = &model.resource else {
        return TokenStream::new();
    };
    let Some(template) = &resource.template else {
        return TokenStream::new();
    };
    let Idents {
        ctx_owned,
        args,
        out,
        args_ty,
        ..
    } = ids;
    let uri = &resource.uri;
    let name = &model.name;
    let title = opt_string(&model.title);
    let description = opt_string(&model.description);
    let mime = match &resource.mime_type {
        Some(m) => quote!(::core::option::Option::Some(#m)),
        None => {
            let body = body_type(&model.output.shape, krate);
            quote!(<#body as #krate::ResourceBody>::default_mime_type())
        }
    };
    let requested = Ident::new("__mcp_uri", Span::mixed_site());
    let vars = Ident::new("__mcp_vars", Span::mixed_site());
    let owned_uri = Ident::new("__mcp_owned_uri", Span::mixed_site());
    let args_struct = args_struct(model, ids);
    let assertions = assertions(model);
    let error_text = error_text_fn(&model.output.shape);
    let convert = convert_fallible(
        &model.output.shape,
        quote!(#out),
        krate,
        model.output.ty.span(),
        &|shape, value| {
            let value = match shape {
                Shape::Structured(_) => quote!(#krate::Json(#value)),
                _ => value,
            };
            quote!(#krate::ResourceBody::into_read_result(#value, &#owned_uri, #mime))
        },
    );
    let fields = model.args().map(|a| {
        let (ident, ty) = (&a.ident, &a.ty);
        let variable = ident.to_string();
        let variable = variable.trim_start_matches("r#");
        quote_spanned!(ty.span()=>
            #ident: #krate::resource::variable::<#ty>(&#owned_uri, &#vars, #variable)?,)
    });
    let read_body = quote! {
        let #owned_uri: ::std::string::String = ::std::string::ToString::to_string(#requested);
        #prelude
        ::core::option::Option::Some(::std::boxed::Box::pin(async move {
            let #args = #args_ty { #(#fields)* };
            #run
            #convert
        }))
    };
    let listing = if template.is_template() {
        let parts = template.parts.iter().map(|p| match p {
            Part::Literal(text) => quote!(#krate::resource::TemplatePart::Literal(#text)),
            Part::Simple(name) => quote!(#krate::resource::TemplatePart::Simple(#name)),
            Part::Reserved(name) => quote!(#krate::resource::TemplatePart::Reserved(#name)),
        });
        let completion = model.args().filter_map(|a| {
            let variable = a.wire_name();
            let path = &a.arg.complete.as_ref()?.value;
            Some(quote_spanned! {path.span()=>
                #variable => #krate::IntoCompletion::into_completion(#path(__mcp_value)),
            })
        });
        quote! {
            fn resources(&self) -> ::std::vec::Vec<#krate::protocol::Resource> {
                ::std::vec::Vec::new()
            }

            fn templates(&self) -> ::std::vec::Vec<#krate::protocol::ResourceTemplate> {
                ::std::vec![#krate::protocol::ResourceTemplate {
                    uri_template: ::std::string::String::from(#uri),
                    name: ::std::string::String::from(#name),
                    title: #title,
                    description: #description,
                    mime_type: #mime.map(::std::string::String::from),
                    annotations: ::core::option::Option::None,
                    meta: ::core::option::Option::None,
                }]
            }

            fn read(
                &self,
                #ctx_owned: #krate::Context,
                #requested: &str,
            ) -> ::core::option::Option<#krate::tool::BoxFuture<
                ::core::result::Result<#krate::protocol::ReadResourceResult, #krate::RpcError>,
            >> {
                static __MCP_TEMPLATE: #krate::resource::UriTemplate =
                    #krate::resource::UriTemplate::new(#uri, &[#(#parts),*]);
                let #vars = __MCP_TEMPLATE.matches(#requested)?;
                #read_body
            }

            #[allow(unused_variables)]
            fn complete(
                &self,
                __mcp_template: &str,
                __mcp_argument: &str,
                __mcp_value: &str,
            ) -> ::core::option::Option<#krate::protocol::Completion> {
                if __mcp_template != #uri {
                    return ::core::option::Option::None;
                }
                ::core::option::Option::Some(match __mcp_argument {
                    #(#completion)*
                    _ => ::core::default::Default::default(),
                })
            }
        }
    } else {
        quote! {
            // `..Default::default()` keeps this compiling when fields are added.
            #[allow(clippy::needless_update)]
            fn resources(&self) -> ::std::vec::Vec<#krate::protocol::Resource> {
                ::std::vec![#krate::protocol::Resource {
                    uri: ::std::string::String::from(#uri),
                    name: ::std::string::String::from(#name),
                    title: #title,
                    description: #description,
                    mime_type: #mime.map(::std::string::String::from),
                    ..::core::default::Default::default()
                }]
            }

            fn read(
                &self,
                #ctx_owned: #krate::Context,
                #requested: &str,
            ) -> ::core::option::Option<#krate::tool::BoxFuture<
                ::core::result::Result<#krate::protocol::ReadResourceResult, #krate::RpcError>,
            >> {
                if #requested != #uri {
                    return ::core::option::Option::None;
                }
                let #vars: ::std::vec::Vec<(&'static str, ::std::string::String)> =
                    ::std::vec::Vec::new();
                #read_body
            }
        }
    };
    quote! {
        const _: () = {
            #args_struct
            #assertions
            #error_text

            impl #krate::ResourceProvider for #ty {
                #listing
            }
        };
    }
}

/// The type whose `ResourceBody` impl gives the default MIME type.
fn body_type(shape: &Shape, krate: &syn::Path) -> TokenStream {
    match shape {
        Shape::AsIs(ty) => quote!(#ty),
        Shape::Structured(ty) => quote!(#krate::Json<#ty>),
        Shape::Result(ok, _) => body_type(ok, krate),
        Shape::Opaque => quote!(()),
    }
}

/// Trait checks at the user's types: variables parse from text, the output converts.
fn assertions(model: &FnModel) -> TokenStream {
    let krate = &model.krate;
    let mut checks = text_argument_checks(model);
    output_checks(&model.output.shape, &mut checks);
    quote! {
        #[allow(dead_code)]
        fn __mcp_assert_text_argument<T>()
        where
            T: ::core::str::FromStr + ::core::marker::Send + 'static,
            <T as ::core::str::FromStr>::Err: ::core::fmt::Display,
        {
        }
        #[allow(dead_code)]
        fn __mcp_assert_body<T: #krate::ResourceBody>() {}
        #[allow(dead_code)]
        fn __mcp_assert_json<T: #krate::__private::serde::Serialize>() {}
        #[allow(dead_code)]
        fn __mcp_assertions() {
            #(#checks)*
        }
    }
}

fn output_checks(shape: &Shape, checks: &mut Vec<TokenStream>) {
    match shape {
        Shape::AsIs(ty) => checks.push(quote_spanned!(ty.span()=> __mcp_assert_body::<#ty>();)),
        Shape::Structured(ty) => {
            checks.push(quote_spanned!(ty.span()=> __mcp_assert_json::<#ty>();));
        }
        Shape::Result(ok, _) => output_checks(ok, checks),
        Shape::Opaque => {}
    }
}
