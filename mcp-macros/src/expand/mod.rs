//! Code generation. `free` expands `#[tool]` on a free function, `methods` expands `#[tools]`
//! on an impl block; this module holds what both generate for one tool: the hidden arguments
//! struct, the `Tool` impl, and the trait assertions that let rustc point at the user's types.

mod fallback;
mod free;
mod methods;

pub(crate) use free::expand_free;
pub(crate) use methods::expand_impl;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

use crate::ast::{Shape, ToolModel};
use crate::attr::ArgDefault;

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

/// The items of one tool, in a block of their own: its arguments struct, its `Tool` impl for
/// `tool_ty`, and its trait assertions.
///
/// `prelude` runs in `call` before the future is built; `run` runs inside it, after the
/// arguments are decoded into `ids.args`, and binds the body's value to `ids.out`.
pub(crate) fn tool_items(
    model: &ToolModel,
    ids: &Idents,
    tool_ty: &TokenStream,
    prelude: &TokenStream,
    run: &TokenStream,
) -> TokenStream {
    let krate = &model.krate;
    let args_struct = args_struct(model, ids);
    let definition = definition(model, ids);
    let assertions = assertions(model);
    let Idents {
        ctx_owned,
        args,
        out,
        args_ty,
        ..
    } = ids;
    let json = Ident::new("__mcp_json", Span::mixed_site());
    let name = &model.name;
    let convert = convert(
        &model.output.shape,
        quote!(#out),
        krate,
        model.output.ty.span(),
    );
    let error_text = has_result(&model.output.shape).then(|| {
        quote! {
            fn __mcp_error_text<E: ::core::fmt::Display + ?::core::marker::Sized>(
                error: &E,
            ) -> ::std::string::String {
                // `{:#}`: error types with a chain of causes (anyhow, eyre) show all of it.
                ::std::format!("{error:#}")
            }
        }
    });
    quote! {
        const _: () = {
            #args_struct
            #assertions
            #error_text

            impl #krate::Tool for #tool_ty {
                // `..Default::default()` keeps annotations compiling when fields are added.
                #[allow(clippy::needless_update)]
                fn definition(&self) -> #krate::protocol::Tool {
                    static DEFINITION: ::std::sync::OnceLock<#krate::protocol::Tool> =
                        ::std::sync::OnceLock::new();
                    ::core::clone::Clone::clone(DEFINITION.get_or_init(|| #definition))
                }

                fn call(
                    &self,
                    #ctx_owned: #krate::Context,
                    #json: #krate::JsonObject,
                ) -> #krate::tool::BoxFuture<#krate::CallToolResult> {
                    #prelude
                    ::std::boxed::Box::pin(async move {
                        let #args: #args_ty =
                            match #krate::tool::parse_arguments::<#args_ty>(#name, #json) {
                                ::core::result::Result::Ok(args) => args,
                                ::core::result::Result::Err(invalid) => return invalid,
                            };
                        #run
                        #convert
                    })
                }
            }
        };
    }
}

/// The hidden struct the arguments are decoded into, and the functions of its defaults.
///
/// Each field is decoded through a function of its own whose body names the user's type
/// with the user's span: a type that is not `Deserialize` is then reported once, on the
/// parameter, rather than several times inside serde's derived code. (With
/// `deserialize_with`, serde no longer treats a missing `Option` as `None` by itself, so
/// `Option` fields get `#[serde(default)]`.)
fn args_struct(model: &ToolModel, ids: &Idents) -> TokenStream {
    let krate = &model.krate;
    let serde_crate = format!("{}::__private::serde", quote!(#krate));
    let schemars_crate = format!("{}::__private::schemars", quote!(#krate));
    let serde = quote!(#krate::__private::serde);
    let args_ty = &ids.args_ty;
    let mut fields = Vec::new();
    let mut functions = Vec::new();
    for (index, arg) in model.args().enumerate() {
        let ident = &arg.ident;
        let ty = &arg.ty;
        let docs = &arg.docs;
        let mut field_attrs = Vec::new();
        if let Some(rename) = &arg.arg.rename {
            field_attrs.push(quote!(#[serde(rename = #rename)]));
        }
        if let Some(description) = &arg.arg.description {
            field_attrs.push(quote!(#[schemars(description = #description)]));
        }
        match &arg.arg.default {
            None if is_option(ty) => field_attrs.push(quote!(
                #[serde(default, skip_serializing_if = "::core::option::Option::is_none")]
            )),
            None => {}
            Some(ArgDefault::Trait) => field_attrs.push(quote!(#[serde(default)])),
            Some(ArgDefault::Expr(expr)) => {
                let default_fn = format_ident!("__mcp_default_{index}");
                let path = default_fn.to_string();
                field_attrs.push(quote!(#[serde(default = #path)]));
                functions.push(quote_spanned! {expr.span()=>
                    fn #default_fn() -> #ty {
                        #expr
                    }
                });
            }
        }
        let decode_fn = format_ident!("__mcp_decode_{index}");
        let path = decode_fn.to_string();
        field_attrs.push(quote!(#[serde(deserialize_with = #path)]));
        let decode = quote_spanned! {ty.span()=>
            <#ty as #serde::Deserialize<'de>>::deserialize(deserializer)
        };
        functions.push(quote! {
            fn #decode_fn<'de, D>(deserializer: D) -> ::core::result::Result<#ty, D::Error>
            where
                D: #serde::Deserializer<'de>,
            {
                #decode
            }
        });
        fields.push(quote! {
            #(#docs)*
            #(#field_attrs)*
            #ident: #ty,
        });
    }
    quote! {
        #[derive(
            #krate::__private::serde::Deserialize,
            #krate::__private::schemars::JsonSchema,
        )]
        #[serde(crate = #serde_crate)]
        #[schemars(crate = #schemars_crate)]
        struct #args_ty {
            #(#fields)*
        }
        #(#functions)*
    }
}

/// Whether the type is spelled `Option<..>` (by its last path segment).
fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => {
            p.qself.is_none()
                && p.path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "Option" && !s.arguments.is_none())
        }
        Type::Paren(p) => is_option(&p.elem),
        Type::Group(g) => is_option(&g.elem),
        _ => false,
    }
}

/// The `protocol::Tool` expression `definition()` returns.
fn definition(model: &ToolModel, ids: &Idents) -> TokenStream {
    let krate = &model.krate;
    let name = &model.name;
    let args_ty = &ids.args_ty;
    let opt_string = |s: &Option<syn::LitStr>| match s {
        Some(s) => quote!(::core::option::Option::Some(::std::string::String::from(#s))),
        None => quote!(::core::option::Option::None),
    };
    let opt_bool = |b: Option<bool>| match b {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    };
    let title = opt_string(&model.title);
    let description = opt_string(&model.description);
    let hints = &model.hints;
    let any_annotation = model.title.is_some()
        || hints.read_only.is_some()
        || hints.destructive.is_some()
        || hints.idempotent.is_some()
        || hints.open_world.is_some();
    let annotations = if any_annotation {
        let (read_only, destructive, idempotent, open_world) = (
            opt_bool(hints.read_only),
            opt_bool(hints.destructive),
            opt_bool(hints.idempotent),
            opt_bool(hints.open_world),
        );
        quote! {
            ::core::option::Option::Some(#krate::protocol::ToolAnnotations {
                title: #title,
                read_only_hint: #read_only,
                destructive_hint: #destructive,
                idempotent_hint: #idempotent,
                open_world_hint: #open_world,
                ..::core::default::Default::default()
            })
        }
    } else {
        quote!(::core::option::Option::None)
    };
    let output_schema = output_schema(&model.output.shape, krate);
    quote! {
        #krate::protocol::Tool {
            name: ::std::string::String::from(#name),
            title: #title,
            description: #description,
            input_schema: #krate::tool::input_schema_of::<#args_ty>(),
            output_schema: #output_schema,
            annotations: #annotations,
            meta: ::core::option::Option::None,
        }
    }
}

/// The tool's `outputSchema` expression.
fn output_schema(shape: &Shape, krate: &syn::Path) -> TokenStream {
    match shape {
        Shape::AsIs(ty) => quote!(<#ty as #krate::ToolOutput>::output_schema()),
        Shape::Structured(_) => quote!((__MCP_STRUCTURED.schema)()),
        Shape::Result(ok, _) => output_schema(ok, krate),
        Shape::Opaque => quote!(::core::option::Option::None),
    }
}

/// The expression turning `value` (of the shape's type) into a `CallToolResult`.
///
/// `span` (the return type's) is where a non-`Display` error type is reported.
fn convert(shape: &Shape, value: TokenStream, krate: &syn::Path, span: Span) -> TokenStream {
    match shape {
        Shape::AsIs(_) | Shape::Opaque => {
            quote!(#krate::IntoCallToolResult::into_call_tool_result(#value))
        }
        Shape::Structured(_) => quote!((__MCP_STRUCTURED.convert)(#value)),
        Shape::Result(ok, error_ty) => {
            let inner = Ident::new("__mcp_ok", Span::mixed_site());
            let error = Ident::new("__mcp_err", Span::mixed_site());
            let converted = convert(ok, quote!(#inner), krate, span);
            let text = match error_ty {
                Some(ty) => quote_spanned!(ty.span()=> __mcp_error_text::<#ty>(&#error)),
                None => quote_spanned!(span=> __mcp_error_text(&#error)),
            };
            quote! {
                match #value {
                    ::core::result::Result::Ok(#inner) => #converted,
                    ::core::result::Result::Err(#error) => #krate::CallToolResult::error(#text),
                }
            }
        }
    }
}

/// Trait checks at the span of the user's types, so a missing impl is reported on the
/// parameter or the return type, once.
///
/// A structured output type is checked in one place, the constant `__MCP_STRUCTURED`: it holds
/// the conversion and the schema function as plain function pointers, so the code using them
/// adds no error of its own when the type lacks `Serialize` or `JsonSchema`.
fn assertions(model: &ToolModel) -> TokenStream {
    let krate = &model.krate;
    let mut checks = Vec::new();
    for arg in model.args() {
        let ty = &arg.ty;
        checks.push(quote_spanned!(ty.span()=> __mcp_assert_argument::<#ty>();));
    }
    let structured = structured_type(&model.output.shape).map(|ty| {
        let witness = quote_spanned!(ty.span()=> __mcp_structured::<#ty>());
        quote! {
            struct __McpStructured<T> {
                convert: fn(T) -> #krate::CallToolResult,
                schema: fn() -> ::core::option::Option<#krate::JsonObject>,
            }
            fn __mcp_structured_convert<T>(value: T) -> #krate::CallToolResult
            where
                T: #krate::__private::serde::Serialize + #krate::__private::schemars::JsonSchema,
            {
                #krate::IntoCallToolResult::into_call_tool_result(#krate::Json(value))
            }
            const fn __mcp_structured<T>() -> __McpStructured<T>
            where
                T: #krate::__private::serde::Serialize + #krate::__private::schemars::JsonSchema,
            {
                __McpStructured {
                    convert: __mcp_structured_convert::<T>,
                    schema: <#krate::Json<T> as #krate::ToolOutput>::output_schema,
                }
            }
            const __MCP_STRUCTURED: __McpStructured<#ty> = #witness;
        }
    });
    quote! {
        #[allow(dead_code)]
        fn __mcp_assert_argument<T>()
        where
            T: ::core::marker::Send + 'static,
        {
        }
        #[allow(dead_code)]
        fn __mcp_assertions() {
            #(#checks)*
        }
        #structured
    }
}

/// Whether the output is a `Result` (whose errors need `__mcp_error_text`).
fn has_result(shape: &Shape) -> bool {
    matches!(shape, Shape::Result(..))
}

/// The one type of the output that is structured, if any.
fn structured_type(shape: &Shape) -> Option<&Type> {
    match shape {
        Shape::Structured(ty) => Some(ty),
        Shape::Result(ok, _) => structured_type(ok),
        Shape::AsIs(_) | Shape::Opaque => None,
    }
}
