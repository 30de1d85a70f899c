//! The internal model of one tool: what `#[tool]` read from a function's signature and
//! attributes. Building it records every misuse it can see locally; `check` adds the rules
//! that look at several parts at once.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, LitStr, Pat, PathArguments, ReturnType, Signature,
    Token, Type,
};

use crate::attr::{ArgAttr, ToolAttr, is_named};
use crate::errors::Errors;

/// One tool, read from an `async fn` (free) or an `async fn(&self, ...)` (method).
pub(crate) struct ToolModel {
    /// The function's name.
    pub(crate) ident: Ident,
    /// The tool's name on the wire.
    pub(crate) name: LitStr,
    pub(crate) title: Option<LitStr>,
    /// The description: `description = ".."` or else the doc comment.
    pub(crate) description: Option<LitStr>,
    pub(crate) hints: Hints,
    /// The path of mcp-core in generated code.
    pub(crate) krate: syn::Path,
    pub(crate) attrs: FnAttrs,
    pub(crate) params: Vec<Param>,
    pub(crate) output: Output,
}

/// The behaviour hints of `ToolAnnotations`.
#[derive(Default)]
pub(crate) struct Hints {
    pub(crate) read_only: Option<bool>,
    pub(crate) destructive: Option<bool>,
    pub(crate) idempotent: Option<bool>,
    pub(crate) open_world: Option<bool>,
}

/// The attributes of the function, sorted by what becomes of them.
#[derive(Default)]
pub(crate) struct FnAttrs {
    /// Doc comments: they describe the generated struct too.
    pub(crate) docs: Vec<Attribute>,
    /// `#[cfg]` and `#[cfg_attr]`: they apply to everything generated.
    pub(crate) cfgs: Vec<Attribute>,
    /// `#[allow]`, `#[warn]`, `#[deny]`, `#[forbid]`, `#[expect]`: they apply to the body.
    pub(crate) lints: Vec<Attribute>,
    /// Anything else (kept on a method, refused on a free function).
    pub(crate) others: Vec<Attribute>,
}

/// A parameter of the tool function.
pub(crate) enum Param {
    /// An argument: a property of the input schema.
    Arg(Arg),
    /// The injected `Context` or `&Context`.
    Context(ContextParam),
}

/// A parameter that is one of the tool's arguments.
pub(crate) struct Arg {
    /// Attributes other than doc comments and `#[arg]`.
    pub(crate) attrs: Vec<Attribute>,
    /// Doc comments: the property's description.
    pub(crate) docs: Vec<Attribute>,
    pub(crate) mutability: Option<Token![mut]>,
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) arg: ArgAttr,
}

/// The parameter that receives the call's `Context`.
pub(crate) struct ContextParam {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) mutability: Option<Token![mut]>,
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// `&Context` rather than `Context`.
    pub(crate) by_ref: bool,
}

/// What the function returns and how it becomes a `CallToolResult`.
pub(crate) struct Output {
    /// The declared return type (`()` when there is none).
    pub(crate) ty: Type,
    pub(crate) shape: Shape,
}

/// How a returned value becomes a result; decided on the last segment of the type's path.
pub(crate) enum Shape {
    /// Text, content, a whole result, `()` or `Json<T>`: converted as is.
    AsIs(Type),
    /// Any other type `T`: wrapped in `Json(T)` (structured content with an output schema).
    Structured(Type),
    /// `Result<T, E>`: `Err` becomes an error result, `T` follows its own shape. Holds `E`
    /// where it is written (not in an alias such as `io::Result<T>`).
    Result(Box<Shape>, Option<Type>),
    /// A `Result` alias without generic arguments (`fmt::Result`): converted as is, no schema.
    Opaque,
}

/// Where the function was written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// A free function under `#[tool]`.
    Free,
    /// A method in an impl block under `#[tools]`.
    Method,
}

impl ToolModel {
    /// Reads a tool from its `#[tool(...)]` keys, the function's attributes and signature.
    ///
    /// `self_ty` (for methods) replaces `Self` in parameter and return types, which generated
    /// code outside the impl block also names.
    pub(crate) fn parse(
        attr: ToolAttr,
        default_krate: Option<&syn::Path>,
        attrs: &[Attribute],
        sig: &Signature,
        site: Site,
        self_ty: Option<&Type>,
        errors: &mut Errors,
    ) -> ToolModel {
        check_signature(sig, site, errors);
        let attrs = sort_attrs(attrs);
        let description = attr.description.clone().or_else(|| doc_text(&attrs.docs));
        let name = attr
            .name
            .clone()
            .unwrap_or_else(|| LitStr::new(&sig.ident.unraw().to_string(), sig.ident.span()));
        let krate = attr
            .krate
            .clone()
            .or_else(|| default_krate.cloned())
            .unwrap_or_else(|| syn::parse_quote!(::mcp_core));
        let params = sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                FnArg::Typed(pt) => parse_param(pt, self_ty, errors),
                FnArg::Receiver(_) => None,
            })
            .collect();
        let output = parse_output(&sig.output, self_ty, errors);
        ToolModel {
            ident: sig.ident.clone(),
            name,
            title: attr.title,
            description,
            hints: Hints {
                read_only: attr.read_only,
                destructive: attr.destructive,
                idempotent: attr.idempotent,
                open_world: attr.open_world,
            },
            krate,
            attrs,
            params,
            output,
        }
    }

    /// The arguments, in order.
    pub(crate) fn args(&self) -> impl Iterator<Item = &Arg> {
        self.params.iter().filter_map(|p| match p {
            Param::Arg(a) => Some(a),
            Param::Context(_) => None,
        })
    }
}

fn check_signature(sig: &Signature, site: Site, errors: &mut Errors) {
    if let Some(c) = &sig.constness {
        errors.at(c, "a tool cannot be a `const fn`: remove `const`");
    }
    if let Some(u) = &sig.unsafety {
        errors.at(
            u,
            "a tool cannot be an `unsafe fn`: clients call it with any arguments; remove `unsafe` and use an `unsafe` block inside",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.at(abi, "a tool cannot have an ABI: remove `extern`");
    }
    if sig.asyncness.is_none() {
        errors.at(
            sig.fn_token,
            "a tool must be an `async fn`: write `async fn` (its body may report progress and await)",
        );
    }
    let generic = "a tool cannot be generic: its arguments are decoded from JSON and described by a schema, so they need concrete types";
    if !sig.generics.params.is_empty() {
        errors.at(&sig.generics, generic);
    } else if let Some(w) = &sig.generics.where_clause {
        errors.at(w, generic);
    }
    if let Some(v) = &sig.variadic {
        errors.at(v, "a tool cannot be variadic");
    }
    let receiver = sig.inputs.iter().find_map(|input| match input {
        FnArg::Receiver(r) => Some(r),
        FnArg::Typed(_) => None,
    });
    match (site, receiver) {
        (Site::Free, Some(r)) => errors.at(
            r,
            "`#[tool]` on a method needs `#[tools]` on its impl block: write `#[tools]` above `impl YourType { ... }`",
        ),
        (Site::Method, None) => errors.at(
            &sig.ident,
            "a `#[tool]` method takes `&self`; a tool without state can be a free `#[tool] async fn` outside the impl block",
        ),
        (Site::Method, Some(r)) => {
            let by_shared_ref = r.reference.is_some() && r.mutability.is_none();
            if r.colon_token.is_some() || !by_shared_ref {
                let message = if r.mutability.is_some() && r.reference.is_some() {
                    "write `&self`, not `&mut self`: tool calls run concurrently on one shared server, so keep mutable state behind a `Mutex` or an atomic"
                } else {
                    "write `&self`: tool calls run concurrently on one server shared through an `Arc`, so a tool method cannot take it by value"
                };
                errors.at(r, message);
            }
        }
        (Site::Free, None) => {}
    }
}

fn sort_attrs(attrs: &[Attribute]) -> FnAttrs {
    let mut sorted = FnAttrs::default();
    for a in attrs {
        let path = a.path();
        let bucket = if path.is_ident("doc") {
            &mut sorted.docs
        } else if path.is_ident("cfg") || path.is_ident("cfg_attr") {
            &mut sorted.cfgs
        } else if ["allow", "warn", "deny", "forbid", "expect"]
            .iter()
            .any(|l| path.is_ident(l))
        {
            &mut sorted.lints
        } else {
            &mut sorted.others
        };
        bucket.push(a.clone());
    }
    sorted
}

/// The text of doc comments (`#[doc = "..."]` literals), one leading space per line removed,
/// trimmed; `None` when there is none.
pub(crate) fn doc_text(docs: &[Attribute]) -> Option<LitStr> {
    let mut lines = Vec::new();
    let mut span = None;
    for a in docs {
        if let syn::Meta::NameValue(nv) = &a.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            span.get_or_insert(s.span());
            let text = s.value();
            for line in text.split('\n') {
                lines.push(line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned());
            }
        }
    }
    let text = lines.join("\n").trim().to_owned();
    if text.is_empty() {
        None
    } else {
        Some(LitStr::new(&text, span.unwrap_or_else(Span::call_site)))
    }
}

fn parse_param(pt: &syn::PatType, self_ty: Option<&Type>, errors: &mut Errors) -> Option<Param> {
    let mut ty = (*pt.ty).clone();
    if let Some(self_ty) = self_ty {
        ReplaceSelf(self_ty).visit_type_mut(&mut ty);
    }
    let (mutability, ident) = match &*pt.pat {
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
            (pi.mutability, pi.ident.clone())
        }
        other => {
            errors.at(
                other,
                "a tool parameter needs a plain name (`name: Type`): the name is the argument's name in the input schema; destructure inside the body",
            );
            return None;
        }
    };
    let mut docs = Vec::new();
    let mut attrs = Vec::new();
    let mut arg = ArgAttr::default();
    let mut arg_attrs = Vec::new();
    for a in &pt.attrs {
        if a.path().is_ident("doc") {
            docs.push(a.clone());
        } else if is_named(a, "arg") {
            arg.add(a, errors);
            arg_attrs.push(a);
        } else {
            attrs.push(a.clone());
        }
    }
    if let Some(by_ref) = context_kind(&ty, errors) {
        for a in arg_attrs {
            errors.at(
                a,
                "`#[arg]` does not apply to the `Context` parameter, which is not an argument",
            );
        }
        return Some(Param::Context(ContextParam {
            attrs,
            mutability,
            ident,
            ty,
            by_ref,
        }));
    }
    check_arg_type(&ty, errors);
    Some(Param::Arg(Arg {
        attrs,
        docs,
        mutability,
        ident,
        ty,
        arg,
    }))
}

/// `Some(by_ref)` when `ty` is `Context` or `&Context` (by the last segment of its path).
fn context_kind(ty: &Type, errors: &mut Errors) -> Option<bool> {
    match ty {
        Type::Reference(r) if is_context(&r.elem) => {
            if let Some(m) = &r.mutability {
                errors.at(
                    m,
                    "take the context as `Context` or `&Context`: it is shared, not mutable",
                );
            }
            Some(true)
        }
        Type::Paren(p) => context_kind(&p.elem, errors),
        Type::Group(g) => context_kind(&g.elem, errors),
        _ if is_context(ty) => Some(false),
        _ => None,
    }
}

fn is_context(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Context" && s.arguments.is_none())
}

fn check_arg_type(ty: &Type, errors: &mut Errors) {
    match ty {
        Type::Reference(r) => {
            let owned = match &*r.elem {
                Type::Path(p) if p.path.is_ident("str") => "`String`".to_owned(),
                Type::Slice(s) => {
                    format!("`Vec<{}>`", quote::ToTokens::to_token_stream(&s.elem))
                }
                other => format!("`{}`", quote::ToTokens::to_token_stream(other)),
            };
            errors.at(
                r,
                format!(
                    "a tool cannot borrow its arguments: they are deserialized from the request's JSON, so take an owned type such as {owned}"
                ),
            );
        }
        Type::ImplTrait(i) => errors.at(
            i,
            "a tool parameter needs a concrete type, not `impl Trait`: its JSON Schema is generated from the type",
        ),
        Type::Paren(p) => check_arg_type(&p.elem, errors),
        Type::Group(g) => check_arg_type(&g.elem, errors),
        _ => {}
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) => p.path.segments.last(),
        Type::Paren(p) => last_segment(&p.elem),
        Type::Group(g) => last_segment(&g.elem),
        _ => None,
    }
}

fn parse_output(output: &ReturnType, self_ty: Option<&Type>, errors: &mut Errors) -> Output {
    let mut ty = match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    if let Some(self_ty) = self_ty {
        ReplaceSelf(self_ty).visit_type_mut(&mut ty);
    }
    let shape = shape_of(&ty, errors);
    Output { ty, shape }
}

/// Decides how a value of type `ty` becomes a result (see [`Shape`]).
fn shape_of(ty: &Type, errors: &mut Errors) -> Shape {
    match ty {
        Type::Paren(p) => shape_of(&p.elem, errors),
        Type::Group(g) => shape_of(&g.elem, errors),
        Type::Tuple(t) if t.elems.is_empty() => Shape::AsIs(ty.clone()),
        Type::Reference(_) => Shape::AsIs(ty.clone()),
        Type::ImplTrait(i) => {
            errors.at(
                i,
                "a tool must name its return type, not `impl Trait`: the result's conversion and schema depend on it",
            );
            Shape::Opaque
        }
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Shape::Structured(ty.clone());
            };
            let name = last.ident.to_string();
            match (name.as_str(), &last.arguments) {
                ("String" | "Content" | "CallToolResult", PathArguments::None) => {
                    Shape::AsIs(ty.clone())
                }
                ("Json", PathArguments::AngleBracketed(_)) => Shape::AsIs(ty.clone()),
                ("Vec", PathArguments::AngleBracketed(args))
                    if first_type(args)
                        .is_some_and(|t| last_segment(t).is_some_and(|s| s.ident == "Content")) =>
                {
                    Shape::AsIs(ty.clone())
                }
                ("Result", PathArguments::None) => Shape::Opaque,
                ("Result", PathArguments::AngleBracketed(args)) => {
                    let mut types = args.args.iter().filter_map(|a| match a {
                        GenericArgument::Type(t) => Some(t),
                        _ => None,
                    });
                    match types.next() {
                        Some(ok) => {
                            Shape::Result(Box::new(shape_of(ok, errors)), types.next().cloned())
                        }
                        None => Shape::Opaque,
                    }
                }
                _ => Shape::Structured(ty.clone()),
            }
        }
        _ => Shape::Structured(ty.clone()),
    }
}

fn first_type(args: &syn::AngleBracketedGenericArguments) -> Option<&Type> {
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Replaces `Self` in a type with the impl block's type.
struct ReplaceSelf<'a>(&'a Type);

impl VisitMut for ReplaceSelf<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(p) = ty
            && p.qself.is_none()
            && p.path.leading_colon.is_none()
            && p.path.segments.first().is_some_and(|s| s.ident == "Self")
        {
            let self_ty = self.0;
            let span = p.span();
            let rest: Vec<_> = p.path.segments.iter().skip(1).cloned().collect();
            *ty = if rest.is_empty() {
                syn::parse_quote_spanned!(span=> #self_ty)
            } else {
                syn::parse_quote_spanned!(span=> <#self_ty>::#(#rest)::*)
            };
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}
