//! What one tool generates: the hidden arguments struct, the `Tool` impl, the argument
//! constraints, and the trait assertions that let rustc point at the user's types.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

use super::{Idents, error_text_fn, f64_tokens, opt_string};
use crate::ast::{FnModel, Shape};
use crate::attr::ArgDefault;
use crate::docs::doc_text;

/// The `Tool` impl for `tool_ty` and what it needs (see [`super::items`]).
pub(crate) fn items(
    model: &FnModel,
    ids: &Idents,
    tool_ty: &TokenStream,
    prelude: &TokenStream,
    run: &TokenStream,
) -> TokenStream {
    let krate = &model.krate;
    let args_struct = args_struct(model, ids);
    let definition = definition(model, ids);
    let assertions = assertions(model);
    let constraints = constraints(model);
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
    let error_text = error_text_fn(&model.output.shape);
    let check = constraints.is_some().then(|| {
        quote! {
            if let ::core::result::Result::Err(invalid) =
                #krate::tool::check_constraints(#name, &#json, &__MCP_CONSTRAINTS)
            {
                return #krate::tool::Reply::Result(invalid);
            }
        }
    });
    quote! {
        const _: () = {
            #args_struct
            #assertions
            #error_text
            #constraints

            impl #tool_ty {
                /// The call's future, unboxed: `call`, `call_or_error` and `call_reply` each
                /// box it once.
                fn __mcp_call(
                    &self,
                    #ctx_owned: #krate::Context,
                    #json: #krate::Payload,
                ) -> impl ::core::future::Future<Output = #krate::tool::Reply> + 'static {
                    #prelude
                    async move {
                        #check
                        let #args: #args_ty =
                            match #krate::tool::parse_arguments::<#args_ty>(#name, #json) {
                                ::core::result::Result::Ok(args) => args,
                                ::core::result::Result::Err(invalid) => {
                                    return #krate::tool::Reply::Result(invalid);
                                }
                            };
                        #run
                        #convert
                    }
                }
            }

            impl #krate::Tool for #tool_ty {
                // `..Default::default()` keeps annotations compiling when fields are added.
                #[allow(clippy::needless_update)]
                fn definition(&self) -> #krate::protocol::ToolDefinition {
                    static DEFINITION: ::std::sync::OnceLock<#krate::protocol::ToolDefinition> =
                        ::std::sync::OnceLock::new();
                    ::core::clone::Clone::clone(DEFINITION.get_or_init(|| #definition))
                }

                fn call(
                    &self,
                    #ctx_owned: #krate::Context,
                    #json: #krate::Payload,
                ) -> #krate::tool::BoxFuture<#krate::CallToolResult> {
                    #krate::tool::boxed_result(self.__mcp_call(#ctx_owned, #json))
                }

                // One box around the tool's future, not a box around `call`'s box.
                fn call_or_error(
                    &self,
                    #ctx_owned: #krate::Context,
                    #json: #krate::Payload,
                ) -> #krate::tool::BoxFuture<
                    ::core::result::Result<#krate::CallToolResult, #krate::error::RpcError>,
                > {
                    #krate::tool::boxed_ok_result(self.__mcp_call(#ctx_owned, #json))
                }

                // What the server calls: a text result is encoded as text, with no
                // `CallToolResult` built for it.
                fn call_reply(
                    &self,
                    #ctx_owned: #krate::Context,
                    #json: #krate::Payload,
                ) -> #krate::tool::ReplyCall {
                    ::core::result::Result::Ok(#krate::tool::boxed_reply(
                        self.__mcp_call(#ctx_owned, #json),
                    ))
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
/// `Option` fields get `#[serde(default)]`.) A doc comment becomes one `#[doc]` of joined
/// paragraphs, which schemars takes as the property's description.
fn args_struct(model: &FnModel, ids: &Idents) -> TokenStream {
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
        let docs = doc_text(&arg.docs).map(|text| quote!(#[doc = #text]));
        let mut field_attrs = Vec::new();
        if let Some(rename) = &arg.arg.rename {
            let rename = &rename.value;
            field_attrs.push(quote!(#[serde(rename = #rename)]));
        }
        if let Some(description) = &arg.arg.description {
            let description = &description.value;
            field_attrs.push(quote!(#[schemars(description = #description)]));
        }
        match arg.arg.default.as_ref().map(|d| &d.value) {
            None if arg.option_inner().is_some() => field_attrs.push(quote!(
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
            #docs
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

/// The static table of `#[arg]` constraints, when any argument has one.
fn constraints(model: &FnModel) -> Option<TokenStream> {
    let krate = &model.krate;
    let entries: Vec<TokenStream> = model
        .args()
        .filter(|a| a.arg.has_constraints())
        .map(|a| {
            let name = a.wire_name();
            let c = &a.arg;
            let mut fields = Vec::new();
            if let Some(min) = &c.min {
                let v = f64_tokens(min.value);
                fields.push(quote!(min: ::core::option::Option::Some(#v),));
            }
            if let Some(max) = &c.max {
                let v = f64_tokens(max.value);
                fields.push(quote!(max: ::core::option::Option::Some(#v),));
            }
            if let Some(n) = &c.min_len {
                let v = n.value;
                fields.push(quote!(min_len: ::core::option::Option::Some(#v),));
            }
            if let Some(n) = &c.max_len {
                let v = n.value;
                fields.push(quote!(max_len: ::core::option::Option::Some(#v),));
            }
            if let Some(p) = &c.pattern {
                let p = &p.value;
                fields.push(quote!(pattern: ::core::option::Option::Some(#p),));
            }
            quote! {
                #krate::tool::ArgConstraints {
                    #(#fields)*
                    ..#krate::tool::ArgConstraints::new(#name)
                }
            }
        })
        .collect();
    if entries.is_empty() {
        return None;
    }
    let count = entries.len();
    Some(quote! {
        static __MCP_CONSTRAINTS: [#krate::tool::ArgConstraints; #count] = [#(#entries),*];
    })
}

/// The `ToolDefinition` expression `definition()` returns.
fn definition(model: &FnModel, ids: &Idents) -> TokenStream {
    let krate = &model.krate;
    let name = &model.name;
    let args_ty = &ids.args_ty;
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
    let execution = match hints.task {
        None => quote!(::core::option::Option::None),
        Some(support) => {
            let variant = match support {
                crate::attr::TaskSupport::Forbidden => quote!(Forbidden),
                crate::attr::TaskSupport::Optional => quote!(Optional),
                crate::attr::TaskSupport::Required => quote!(Required),
            };
            quote! {
                ::core::option::Option::Some(#krate::protocol::ToolExecution {
                    task_support: ::core::option::Option::Some(
                        #krate::protocol::TaskSupport::#variant,
                    ),
                })
            }
        }
    };
    let constrain = model
        .args()
        .any(|a| a.arg.has_constraints())
        .then(|| quote!(#krate::tool::apply_constraints(&mut schema, &__MCP_CONSTRAINTS);));
    quote! {{
        #[allow(unused_mut)]
        let mut schema = #krate::tool::input_schema_of::<#args_ty>();
        #constrain
        #krate::protocol::ToolDefinition {
            name: ::std::string::String::from(#name),
            title: #title,
            description: #description,
            input_schema: schema,
            output_schema: #output_schema,
            annotations: #annotations,
            execution: #execution,
            meta: ::core::option::Option::None,
        }
    }}
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

/// The expression turning `value` (of the shape's type) into a `Reply`: the text of a text
/// result, a `CallToolResult` otherwise.
///
/// `span` (the return type's) is where a non-`Display` error type is reported.
fn convert(shape: &Shape, value: TokenStream, krate: &syn::Path, span: Span) -> TokenStream {
    match shape {
        Shape::AsIs(_) | Shape::Opaque => {
            quote!(#krate::IntoCallToolResult::into_reply(#value))
        }
        Shape::Structured(_) => {
            quote!(#krate::tool::Reply::Result((__MCP_STRUCTURED.convert)(#value)))
        }
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
                    ::core::result::Result::Err(#error) => {
                        #krate::tool::Reply::Result(#krate::CallToolResult::error(#text))
                    }
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
fn assertions(model: &FnModel) -> TokenStream {
    let krate = &model.krate;
    let mut checks = Vec::new();
    for arg in model.args() {
        let ty = &arg.ty;
        checks.push(quote_spanned!(ty.span()=> __mcp_assert_argument::<#ty>();));
        let c = &arg.arg;
        let bounds = [
            (c.min.is_some() || c.max.is_some(), "__mcp_assert_number"),
            (
                c.min_len.is_some() || c.max_len.is_some(),
                "__mcp_assert_length",
            ),
            (c.pattern.is_some(), "__mcp_assert_pattern"),
        ];
        for (constrained, function) in bounds {
            if constrained {
                let function = Ident::new(function, Span::call_site());
                checks.push(quote_spanned!(ty.span()=> #function::<#ty>();));
            }
        }
    }
    let markers = model.args().any(|a| a.arg.has_constraints()).then(|| {
        quote! {
            #[allow(dead_code)]
            fn __mcp_assert_number<T: #krate::tool::NumberArgument>() {}
            #[allow(dead_code)]
            fn __mcp_assert_length<T: #krate::tool::LengthArgument>() {}
            #[allow(dead_code)]
            fn __mcp_assert_pattern<T: #krate::tool::PatternArgument>() {}
        }
    });
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
        #markers
        #[allow(dead_code)]
        fn __mcp_assertions() {
            #(#checks)*
        }
        #structured
    }
}

/// The one type of the output that is structured, if any.
fn structured_type(shape: &Shape) -> Option<&Type> {
    match shape {
        Shape::Structured(ty) => Some(ty),
        Shape::Result(ok, _) => structured_type(ok),
        Shape::AsIs(_) | Shape::Opaque => None,
    }
}
