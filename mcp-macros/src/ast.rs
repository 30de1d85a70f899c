//! The internal model of one tool, prompt or resource: what `#[tool]`, `#[prompt]` or
//! `#[resource]` read from a function's signature and attributes. Building it records every
//! misuse it can see locally; `check` adds the rules that look at several parts at once.

use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, LitStr, Pat, PathArguments, ReturnType, Signature,
    Token, Type,
};

use crate::attr::{ArgAttr, ItemAttr, Kind, is_named};
use crate::docs::doc_text;
use crate::errors::Errors;
use crate::template::{self, Template};

/// One tool, prompt or resource, read from an `async fn` (free) or an
/// `async fn(&self, ...)` (method).
pub(crate) struct FnModel {
    pub(crate) kind: Kind,
    /// The function's name.
    pub(crate) ident: Ident,
    /// The name on the wire.
    pub(crate) name: LitStr,
    pub(crate) title: Option<LitStr>,
    /// The description: `description = ".."` or else the doc comment, joined into paragraphs.
    pub(crate) description: Option<LitStr>,
    /// Tools only: the behaviour hints.
    pub(crate) hints: Hints,
    /// Resources only: the URI, its parsed template (`None` when it does not parse) and the
    /// declared MIME type.
    pub(crate) resource: Option<ResourceUri>,
    /// The path of mcp-core in generated code.
    pub(crate) krate: syn::Path,
    pub(crate) attrs: FnAttrs,
    pub(crate) params: Vec<Param>,
    pub(crate) output: Output,
}

/// The URI of a resource.
pub(crate) struct ResourceUri {
    pub(crate) uri: LitStr,
    pub(crate) template: Option<Template>,
    pub(crate) mime_type: Option<LitStr>,
}

/// The behaviour hints of `ToolAnnotations`.
#[derive(Default)]
pub(crate) struct Hints {
    pub(crate) read_only: Option<bool>,
    pub(crate) destructive: Option<bool>,
    pub(crate) idempotent: Option<bool>,
    pub(crate) open_world: Option<bool>,
    /// `execution.taskSupport`, when written.
    pub(crate) task: Option<crate::attr::TaskSupport>,
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

/// A parameter of the function. (A handful exist per macro call: their size does not matter.)
#[allow(clippy::large_enum_variant)]
pub(crate) enum Param {
    /// An argument: a property of the input schema, a prompt's argument, a template's variable.
    Arg(Arg),
    /// The injected `Context` or `&Context`.
    Context(ContextParam),
}

/// A parameter that is one of the arguments.
pub(crate) struct Arg {
    /// Attributes other than doc comments and `#[arg]`.
    pub(crate) attrs: Vec<Attribute>,
    /// Doc comments: the argument's description.
    pub(crate) docs: Vec<Attribute>,
    pub(crate) mutability: Option<Token![mut]>,
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) arg: ArgAttr,
}

impl Arg {
    /// The argument's name on the wire.
    pub(crate) fn wire_name(&self) -> LitStr {
        match &self.arg.rename {
            Some(rename) => rename.value.clone(),
            None => LitStr::new(&self.ident.unraw().to_string(), self.ident.span()),
        }
    }

    /// The description: `#[arg(description = ..)]` or else the doc comment.
    pub(crate) fn description(&self) -> Option<LitStr> {
        match &self.arg.description {
            Some(d) => Some(d.value.clone()),
            None => doc_text(&self.docs),
        }
    }

    /// `T` when the type is spelled `Option<T>`.
    pub(crate) fn option_inner(&self) -> Option<&Type> {
        option_inner(&self.ty)
    }
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

/// What the function returns and how it becomes a result.
pub(crate) struct Output {
    /// The declared return type (`()` when there is none).
    pub(crate) ty: Type,
    pub(crate) shape: Shape,
}

/// How a returned value becomes a result; decided on the last segment of the type's path.
pub(crate) enum Shape {
    /// Converted by the kind's conversion trait as it is.
    AsIs(Type),
    /// Any other type `T`: wrapped in `Json(T)` (a tool's structured content, a resource's
    /// JSON text).
    Structured(Type),
    /// `Result<T, E>`: `Err` becomes an error, `T` follows its own shape. Holds `E` where it
    /// is written (not in an alias such as `io::Result<T>`).
    Result(Box<Shape>, Option<Type>),
    /// A `Result` alias without generic arguments (`fmt::Result`): converted as is, no schema.
    Opaque,
}

/// Where the function was written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// A free function under `#[tool]`, `#[prompt]` or `#[resource]`.
    Free,
    /// A method in an impl block under `#[tools]`.
    Method,
}

impl FnModel {
    /// Reads an item from its attribute's keys, the function's attributes and signature.
    ///
    /// `self_ty` (for methods) replaces `Self` in parameter and return types, which generated
    /// code outside the impl block also names.
    pub(crate) fn parse(
        attr: ItemAttr,
        default_krate: Option<&syn::Path>,
        attrs: &[Attribute],
        sig: &Signature,
        site: Site,
        self_ty: Option<&Type>,
        errors: &mut Errors,
    ) -> FnModel {
        let kind = attr.kind;
        check_signature(kind, sig, site, errors);
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
                FnArg::Typed(pt) => parse_param(kind, pt, self_ty, errors),
                FnArg::Receiver(_) => None,
            })
            .collect();
        let output = parse_output(kind, &sig.output, self_ty, errors);
        let resource = (kind == Kind::Resource).then(|| resource_uri(&attr, errors));
        FnModel {
            kind,
            ident: sig.ident.clone(),
            name,
            title: attr.title,
            description,
            hints: Hints {
                read_only: attr.read_only,
                destructive: attr.destructive,
                idempotent: attr.idempotent,
                open_world: attr.open_world,
                task: attr.task,
            },
            resource,
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

fn resource_uri(attr: &ItemAttr, errors: &mut Errors) -> ResourceUri {
    let uri = match &attr.uri {
        Some(uri) => uri.clone(),
        None if attr.uri_written => LitStr::new("missing://uri", attr.span),
        None => {
            errors.at_span(
                attr.span,
                "`#[resource]` needs the resource's URI: `#[resource(\"docs://readme\")]`, or a template whose variables are parameters: `#[resource(\"users://{id}/profile\")]`",
            );
            LitStr::new("missing://uri", attr.span)
        }
    };
    let template = match template::parse(&uri) {
        Ok(t) => Some(t),
        Err(message) => {
            if attr.uri.is_some() {
                errors.at(&uri, message);
            }
            None
        }
    };
    ResourceUri {
        uri,
        template,
        mime_type: attr.mime_type.clone(),
    }
}

fn check_signature(kind: Kind, sig: &Signature, site: Site, errors: &mut Errors) {
    let noun = kind.name();
    if let Some(c) = &sig.constness {
        errors.at(
            c,
            format!("a {noun} cannot be a `const fn`: remove `const`"),
        );
    }
    if let Some(u) = &sig.unsafety {
        errors.at(
            u,
            format!("a {noun} cannot be an `unsafe fn`: clients call it with any arguments; remove `unsafe` and use an `unsafe` block inside"),
        );
    }
    if let Some(abi) = &sig.abi {
        errors.at(abi, format!("a {noun} cannot have an ABI: remove `extern`"));
    }
    if sig.asyncness.is_none() {
        let body = match kind {
            Kind::Tool => "its body may report progress and await",
            Kind::Prompt | Kind::Resource => "its body may await",
        };
        errors.at(
            sig.fn_token,
            format!("a {noun} must be an `async fn`: write `async fn` ({body})"),
        );
    }
    let generic = match kind {
        Kind::Tool => "a tool cannot be generic: its arguments are decoded from JSON and described by a schema, so they need concrete types".to_owned(),
        _ => format!("a {noun} cannot be generic: its arguments are parsed from text, so they need concrete types"),
    };
    if !sig.generics.params.is_empty() {
        errors.at(&sig.generics, generic);
    } else if let Some(w) = &sig.generics.where_clause {
        errors.at(w, generic);
    }
    if let Some(v) = &sig.variadic {
        errors.at(v, format!("a {noun} cannot be variadic"));
    }
    let receiver = sig.inputs.iter().find_map(|input| match input {
        FnArg::Receiver(r) => Some(r),
        FnArg::Typed(_) => None,
    });
    match (site, receiver) {
        (Site::Free, Some(r)) => errors.at(
            r,
            format!("`#[{noun}]` on a method needs `#[tools]` on its impl block: write `#[tools]` above `impl YourType {{ ... }}`"),
        ),
        (Site::Method, None) => errors.at(
            &sig.ident,
            format!("a `#[{noun}]` method takes `&self`; a {noun} without state can be a free `#[{noun}] async fn` outside the impl block"),
        ),
        (Site::Method, Some(r)) => {
            let by_shared_ref = r.reference.is_some() && r.mutability.is_none();
            if r.colon_token.is_some() || !by_shared_ref {
                let calls = match kind {
                    Kind::Tool => "tool calls",
                    Kind::Prompt | Kind::Resource => "requests",
                };
                let message = if r.mutability.is_some() && r.reference.is_some() {
                    format!("write `&self`, not `&mut self`: {calls} run concurrently on one shared server, so keep mutable state behind a `Mutex` or an atomic")
                } else {
                    format!("write `&self`: {calls} run concurrently on one server shared through an `Arc`, so a {noun} method cannot take it by value")
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

fn parse_param(
    kind: Kind,
    pt: &syn::PatType,
    self_ty: Option<&Type>,
    errors: &mut Errors,
) -> Option<Param> {
    let mut ty = (*pt.ty).clone();
    if let Some(self_ty) = self_ty {
        ReplaceSelf(self_ty).visit_type_mut(&mut ty);
    }
    let (mutability, ident) = match &*pt.pat {
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
            (pi.mutability, pi.ident.clone())
        }
        other => {
            let role = match kind {
                Kind::Tool => "the argument's name in the input schema",
                Kind::Prompt => "the prompt argument's name",
                Kind::Resource => "the name of a variable of the URI template",
            };
            errors.at(
                other,
                format!("a {} parameter needs a plain name (`name: Type`): the name is {role}; destructure inside the body", kind.name()),
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
            arg.add(kind, a, errors);
            arg_attrs.push(a);
        } else {
            attrs.push(a.clone());
        }
    }
    if let (Some(self_ty), Some(complete)) = (self_ty, &mut arg.complete) {
        replace_self_in_path(&mut complete.value, self_ty);
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
    check_arg_type(kind, &ty, errors);
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

fn check_arg_type(kind: Kind, ty: &Type, errors: &mut Errors) {
    match ty {
        Type::Reference(r) => {
            let owned = match &*r.elem {
                Type::Path(p) if p.path.is_ident("str") => "`String`".to_owned(),
                Type::Slice(s) => {
                    format!("`Vec<{}>`", quote::ToTokens::to_token_stream(&s.elem))
                }
                other => format!("`{}`", quote::ToTokens::to_token_stream(other)),
            };
            let source = match kind {
                Kind::Tool => "they are deserialized from the request's JSON",
                Kind::Prompt | Kind::Resource => "they are parsed from the request's text",
            };
            errors.at(
                r,
                format!(
                    "a {} cannot borrow its arguments: {source}, so take an owned type such as {owned}",
                    kind.name()
                ),
            );
        }
        Type::ImplTrait(i) => {
            let why = match kind {
                Kind::Tool => "its JSON Schema is generated from the type",
                Kind::Prompt | Kind::Resource => "its value is parsed into that type",
            };
            errors.at(
                i,
                format!(
                    "a {} parameter needs a concrete type, not `impl Trait`: {why}",
                    kind.name()
                ),
            );
        }
        Type::Paren(p) => check_arg_type(kind, &p.elem, errors),
        Type::Group(g) => check_arg_type(kind, &g.elem, errors),
        _ => {}
    }
}

pub(crate) fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) => p.path.segments.last(),
        Type::Paren(p) => last_segment(&p.elem),
        Type::Group(g) => last_segment(&g.elem),
        _ => None,
    }
}

/// `T` when `ty` is spelled `Option<T>` (by its last path segment).
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            match &last.arguments {
                PathArguments::AngleBracketed(args) if last.ident == "Option" => first_type(args),
                _ => None,
            }
        }
        Type::Paren(p) => option_inner(&p.elem),
        Type::Group(g) => option_inner(&g.elem),
        _ => None,
    }
}

fn parse_output(
    kind: Kind,
    output: &ReturnType,
    self_ty: Option<&Type>,
    errors: &mut Errors,
) -> Output {
    let mut ty = match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    if let Some(self_ty) = self_ty {
        ReplaceSelf(self_ty).visit_type_mut(&mut ty);
    }
    let shape = shape_of(kind, &ty, errors);
    Output { ty, shape }
}

/// Whether a type, by the last segment of its path, converts as it is for `kind`.
fn converts_as_is(kind: Kind, last: &syn::PathSegment) -> bool {
    let name = last.ident.to_string();
    let first_arg = |wanted: &str| match &last.arguments {
        PathArguments::AngleBracketed(args) => {
            first_type(args).is_some_and(|t| last_segment(t).is_some_and(|s| s.ident == wanted))
        }
        _ => false,
    };
    let bare = last.arguments.is_none();
    match kind {
        Kind::Tool => match name.as_str() {
            "String" | "Content" | "CallToolResult" => bare,
            "Json" => !bare,
            "Vec" => first_arg("Content"),
            _ => false,
        },
        // Any other type is left to `IntoGetPromptResult`, which explains what a prompt returns.
        Kind::Prompt => true,
        Kind::Resource => match name.as_str() {
            "String" | "ResourceContents" | "ReadResourceResult" => bare,
            "Json" => !bare,
            "Vec" => first_arg("u8") || first_arg("ResourceContents"),
            _ => false,
        },
    }
}

/// Decides how a value of type `ty` becomes a result (see [`Shape`]).
fn shape_of(kind: Kind, ty: &Type, errors: &mut Errors) -> Shape {
    match ty {
        Type::Paren(p) => shape_of(kind, &p.elem, errors),
        Type::Group(g) => shape_of(kind, &g.elem, errors),
        Type::Tuple(t) if t.elems.is_empty() => Shape::AsIs(ty.clone()),
        Type::Reference(_) => Shape::AsIs(ty.clone()),
        Type::ImplTrait(i) => {
            let what = match kind {
                Kind::Tool => "conversion and schema depend",
                Kind::Prompt | Kind::Resource => "conversion depends",
            };
            errors.at(
                i,
                format!(
                    "a {} must name its return type, not `impl Trait`: the result's {what} on it",
                    kind.name()
                ),
            );
            Shape::Opaque
        }
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Shape::Structured(ty.clone());
            };
            match (last.ident == "Result", &last.arguments) {
                (true, PathArguments::None) => Shape::Opaque,
                (true, PathArguments::AngleBracketed(args)) => {
                    let mut types = args.args.iter().filter_map(|a| match a {
                        GenericArgument::Type(t) => Some(t),
                        _ => None,
                    });
                    match types.next() {
                        Some(ok) => Shape::Result(
                            Box::new(shape_of(kind, ok, errors)),
                            types.next().cloned(),
                        ),
                        None => Shape::Opaque,
                    }
                }
                _ if converts_as_is(kind, last) => Shape::AsIs(ty.clone()),
                _ => Shape::Structured(ty.clone()),
            }
        }
        _ if kind == Kind::Prompt => Shape::AsIs(ty.clone()),
        _ => Shape::Structured(ty.clone()),
    }
}

fn first_type(args: &syn::AngleBracketedGenericArguments) -> Option<&Type> {
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Replaces a leading `Self` in a path (`Self::names`) with the impl block's type, since the
/// generated code that calls it lives outside the impl block.
fn replace_self_in_path(path: &mut syn::ExprPath, self_ty: &Type) {
    if path.qself.is_none()
        && path.path.leading_colon.is_none()
        && path.path.segments.len() > 1
        && path
            .path
            .segments
            .first()
            .is_some_and(|s| s.ident == "Self")
    {
        let span = path.span();
        let rest: Vec<_> = path.path.segments.iter().skip(1).cloned().collect();
        *path = syn::parse_quote_spanned!(span=> <#self_ty>::#(#rest)::*);
    }
}

/// Replaces `Self` in a type with the impl block's type.
pub(crate) struct ReplaceSelf<'a>(pub(crate) &'a Type);

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
