//! What one prompt generates: its arguments parsed from text, the `Prompt` impl with
//! completion, and the trait assertions.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

use super::{Idents, convert_fallible, error_text_fn, opt_string};
use crate::ast::{Arg, FnModel, Shape};
use crate::attr::ArgDefault;

/// The `Prompt` impl for `ty` and what it needs (see [`super::items`]).
pub(crate) fn items(
    model: &FnModel,
    ids: &Idents,
    ty: &TokenStream,
    prelude: &TokenStream,
    run: &TokenStream,
) -> TokenStream {
    let krate = &model.krate;
    let Idents {
        ctx_owned,
        args,
        out,
        args_ty,
        ..
    } = ids;
    let name = &model.name;
    let map = Ident::new("__mcp_map", Span::mixed_site());
    let args_struct = args_struct(model, ids);
    let required: Vec<_> = model
        .args()
        .filter(|a| is_required(a))
        .map(Arg::wire_name)
        .collect();
    let parsers = text_parsers(model);
    let fields = model.args().enumerate().map(|(index, a)| {
        let ident = &a.ident;
        let wire = a.wire_name();
        let parse = parser_ident(index);
        let value = match (a.option_inner(), a.arg.default.as_ref().map(|d| &d.value)) {
            (Some(_), _) => quote!(#krate::prompt::parse_argument(#name, &#map, #wire, #parse)?),
            (None, None) => {
                quote!(#krate::prompt::required_argument(#name, &#map, #wire, #parse)?)
            }
            (None, Some(ArgDefault::Trait)) => quote!(
                #krate::prompt::parse_argument(#name, &#map, #wire, #parse)?.unwrap_or_default()
            ),
            (None, Some(ArgDefault::Expr(expr))) => {
                let ty = &a.ty;
                quote_spanned!(expr.span()=>
                    #krate::prompt::parse_argument(#name, &#map, #wire, #parse)?
                        .unwrap_or_else(|| -> #ty { #expr }))
            }
        };
        quote!(#ident: #value,)
    });
    let definition = definition(model);
    let completion = model.args().filter_map(|a| {
        let wire = a.wire_name();
        let path = &a.arg.complete.as_ref()?.value;
        Some(quote_spanned! {path.span()=>
            #wire => #krate::IntoCompletion::into_completion(#path(__mcp_value)),
        })
    });
    let assertions = assertions(model);
    let error_text = error_text_fn(&model.output.shape);
    let convert = convert_fallible(
        &model.output.shape,
        quote!(#out),
        krate,
        model.output.ty.span(),
        &|_, value| quote!(__MCP_OUTPUT(#value)),
    );
    let (leaf, _) = leaf(&model.output.shape, &model.output.ty);
    let output = quote_spanned! {leaf.span()=>
        const __MCP_OUTPUT: fn(#leaf) -> ::core::result::Result<
            #krate::protocol::GetPromptResult,
            #krate::RpcError,
        > = __mcp_prompt_output::<#leaf>;
    };
    quote! {
        const _: () = {
            #args_struct
            #parsers
            #assertions
            #error_text
            fn __mcp_prompt_output<T: #krate::IntoGetPromptResult>(
                value: T,
            ) -> ::core::result::Result<#krate::protocol::GetPromptResult, #krate::RpcError> {
                #krate::IntoGetPromptResult::into_get_prompt_result(value)
            }
            #output

            impl #krate::Prompt for #ty {
                fn definition(&self) -> #krate::protocol::PromptDefinition {
                    static DEFINITION: ::std::sync::OnceLock<#krate::protocol::PromptDefinition> =
                        ::std::sync::OnceLock::new();
                    ::core::clone::Clone::clone(DEFINITION.get_or_init(|| #definition))
                }

                #[allow(unused_variables)]
                fn get(
                    &self,
                    #ctx_owned: #krate::Context,
                    #map: ::std::collections::HashMap<::std::string::String, ::std::string::String>,
                ) -> #krate::tool::BoxFuture<
                    ::core::result::Result<#krate::protocol::GetPromptResult, #krate::RpcError>,
                > {
                    #prelude
                    ::std::boxed::Box::pin(async move {
                        #krate::prompt::check_required(#name, &#map, &[#(#required),*])?;
                        let #args = #args_ty { #(#fields)* };
                        #run
                        #convert
                    })
                }

                fn complete(
                    &self,
                    __mcp_argument: &str,
                    __mcp_value: &str,
                ) -> #krate::protocol::Completion {
                    match __mcp_argument {
                        #(#completion)*
                        _ => ::core::default::Default::default(),
                    }
                }
            }
        };
    }
}

fn is_required(arg: &Arg) -> bool {
    arg.option_inner().is_none() && arg.arg.default.is_none()
}

/// The struct the arguments are parsed into: fields named and typed as the parameters.
pub(super) fn args_struct(model: &FnModel, ids: &Idents) -> TokenStream {
    let args_ty = &ids.args_ty;
    let fields = model.args().map(|a| {
        let (ident, ty) = (&a.ident, &a.ty);
        quote!(#ident: #ty,)
    });
    quote! {
        struct #args_ty {
            #(#fields)*
        }
    }
}

/// The `PromptDefinition` expression `definition()` returns.
fn definition(model: &FnModel) -> TokenStream {
    let krate = &model.krate;
    let name = &model.name;
    let title = opt_string(&model.title);
    let description = opt_string(&model.description);
    let arguments: Vec<_> = model
        .args()
        .map(|a| {
            let wire = a.wire_name();
            let description = opt_string(&a.description());
            let required = is_required(a);
            quote! {
                #krate::protocol::PromptArgument {
                    name: ::std::string::String::from(#wire),
                    title: ::core::option::Option::None,
                    description: #description,
                    required: ::core::option::Option::Some(#required),
                }
            }
        })
        .collect();
    let arguments = if arguments.is_empty() {
        quote!(::core::option::Option::None)
    } else {
        quote!(::core::option::Option::Some(::std::vec![#(#arguments),*]))
    };
    quote! {
        #krate::protocol::PromptDefinition {
            name: ::std::string::String::from(#name),
            title: #title,
            description: #description,
            arguments: #arguments,
            meta: ::core::option::Option::None,
        }
    }
}

/// Trait checks at the user's types: arguments can move into the future.
pub(super) fn assertions(model: &FnModel) -> TokenStream {
    let checks = model.args().map(|a| {
        let ty = &a.ty;
        quote_spanned!(ty.span()=> __mcp_assert_argument::<#ty>();)
    });
    quote! {
        #[allow(dead_code)]
        fn __mcp_assert_argument<T: ::core::marker::Send + 'static>() {}
        #[allow(dead_code)]
        fn __mcp_assertions() {
            #(#checks)*
        }
    }
}

/// The name of the function that parses the argument at `index`.
pub(super) fn parser_ident(index: usize) -> Ident {
    format_ident!("__mcp_parse_{index}")
}

/// One function per argument that parses its text into its type (`T` inside an `Option`).
/// Its body names the type with the user's span, so a type that is not `FromStr` (or whose
/// error is not `Display`) is reported once, on the parameter.
pub(super) fn text_parsers(model: &FnModel) -> TokenStream {
    let functions = model.args().enumerate().map(|(index, a)| {
        let ty = a.option_inner().unwrap_or(&a.ty);
        let name = parser_ident(index);
        let parse = quote_spanned! {ty.span()=>
            <#ty as ::core::str::FromStr>::from_str(text)
                .map_err(|e| ::std::string::ToString::to_string(&e))
        };
        quote! {
            fn #name(text: &str) -> ::core::result::Result<#ty, ::std::string::String> {
                #parse
            }
        }
    });
    quote!(#(#functions)*)
}

/// The type a successful value has once `Result`s are unwrapped, and whether it is structured.
pub(super) fn leaf<'a>(shape: &'a Shape, output: &'a Type) -> (&'a Type, bool) {
    match shape {
        Shape::AsIs(ty) => (ty, false),
        Shape::Structured(ty) => (ty, true),
        Shape::Result(ok, _) => leaf(ok, output),
        Shape::Opaque => (output, false),
    }
}
