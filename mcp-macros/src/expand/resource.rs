//! What one resource generates: the `ResourceProvider` impl (one resource, or a template whose
//! variables are parsed from the URI), its completion, and the trait assertions.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::prompt::{args_struct, assertions, leaf, parser_ident, text_parsers};
use super::{Idents, convert_fallible, error_text_fn, opt_string};
use crate::ast::FnModel;
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
        None => quote!((__MCP_OUTPUT.mime)()),
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
        &|_, value| quote!((__MCP_OUTPUT.convert)(#value, &#owned_uri, #mime)),
    );
    let parsers = text_parsers(model);
    let fields = model.args().enumerate().map(|(index, a)| {
        let ident = &a.ident;
        let variable = a.wire_name();
        let parse = parser_ident(index);
        quote!(#ident: #krate::resource::variable(&#owned_uri, &#vars, #variable, #parse)?,)
    });
    let (leaf_ty, structured) = leaf(&model.output.shape, &model.output.ty);
    let witness = if structured {
        quote_spanned!(leaf_ty.span()=> __mcp_json::<#leaf_ty>())
    } else {
        quote_spanned!(leaf_ty.span()=> __mcp_body::<#leaf_ty>())
    };
    let output = output_fns(krate, leaf_ty, &witness);
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
            #parsers
            #assertions
            #error_text
            #output

            impl #krate::ResourceProvider for #ty {
                #listing
            }
        };
    }
}

/// The output's conversion and default MIME type, checked in one place: the constant
/// `__MCP_OUTPUT` holds them as plain function pointers, so the code using them adds no error
/// of its own when the type is not a resource's contents (or, structured, not `Serialize`).
fn output_fns(krate: &syn::Path, leaf: &syn::Type, witness: &TokenStream) -> TokenStream {
    let result =
        quote!(::core::result::Result<#krate::protocol::ReadResourceResult, #krate::RpcError>);
    quote! {
        struct __McpOutput<T> {
            convert: fn(T, &str, ::core::option::Option<&str>) -> #result,
            mime: fn() -> ::core::option::Option<&'static str>,
        }
        #[allow(dead_code)]
        const fn __mcp_body<T: #krate::ResourceBody>() -> __McpOutput<T> {
            __McpOutput {
                convert: <T as #krate::ResourceBody>::into_read_result,
                mime: <T as #krate::ResourceBody>::default_mime_type,
            }
        }
        #[allow(dead_code)]
        fn __mcp_json_convert<T: #krate::__private::serde::Serialize>(
            value: T,
            uri: &str,
            mime: ::core::option::Option<&str>,
        ) -> #result {
            #krate::ResourceBody::into_read_result(#krate::Json(value), uri, mime)
        }
        #[allow(dead_code)]
        const fn __mcp_json<T: #krate::__private::serde::Serialize>() -> __McpOutput<T> {
            __McpOutput {
                convert: __mcp_json_convert::<T>,
                mime: <#krate::Json<()> as #krate::ResourceBody>::default_mime_type,
            }
        }
        const __MCP_OUTPUT: __McpOutput<#leaf> = #witness;
    }
}
