//! Rewrites `yield_!(item)` in a tool's body into `ctx.progress(item).await`.
//!
//! Only invocations written directly in the body are rewritten: there the body can `.await`
//! on the call's behalf. Inside closures, async blocks, const blocks and nested items it
//! cannot, so a `yield_!` found there is reported as an error at its own span (whether or not
//! the user imported the stub). The arguments of other macros are not parsed as Rust and are
//! left alone: a `yield_!` there reaches the stub of mcp-core, which fails with an
//! explanation. The generated tokens carry the invocation's span, so a type error in the item
//! points at the user's `yield_!`.

use proc_macro2::{Ident, TokenStream};
use quote::quote_spanned;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Item, Macro, Stmt, Token};

use crate::attr::{Kind, is_named};
use crate::errors::Errors;

/// Rewrites every `yield_!` directly in `block`; `ctx` is a binding of type `&Context`.
pub(crate) fn rewrite_yields(
    block: &mut Block,
    ctx: &Ident,
    krate: &syn::Path,
    errors: &mut Errors,
) {
    let mut rewriter = Rewriter { ctx, krate, errors };
    rewriter.visit_block_mut(block);
}

struct Rewriter<'a> {
    ctx: &'a Ident,
    krate: &'a syn::Path,
    errors: &'a mut Errors,
}

fn is_yield(mac: &Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|s| s.ident == "yield_")
}

impl Rewriter<'_> {
    fn rewrite(&mut self, mac: &Macro) -> Expr {
        let span = mac.span();
        let item = match mac.parse_body_with(|input: ParseStream<'_>| parse_item(input, mac)) {
            Ok(item) => item,
            Err(e) => {
                self.errors.push(e);
                return Expr::Verbatim(quote_spanned!(span=> ()));
            }
        };
        let ctx = self.ctx;
        let krate = self.krate;
        Expr::Verbatim(quote_spanned! {span=>
            #krate::Context::progress(#ctx, #item).await
        })
    }
}

fn parse_item(input: ParseStream<'_>, mac: &Macro) -> syn::Result<TokenStream> {
    if input.is_empty() {
        return Err(syn::Error::new_spanned(
            mac,
            "`yield_!` needs the item to report: `yield_!(\"loading\")`, `yield_!(format!(\"step {i}\"))` or `yield_!(Progress::step(i, n, \"...\"))`",
        ));
    }
    let item: Expr = input.parse()?;
    if input.peek(Token![,]) {
        let _: Token![,] = input.parse()?;
    }
    if !input.is_empty() {
        return Err(input.error(
            "`yield_!` reports one item: build a message with `format!` or a `Progress` with `Progress::step(..)`",
        ));
    }
    Ok(quote::ToTokens::into_token_stream(item))
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        let place = match expr {
            Expr::Macro(m) if is_yield(&m.mac) => {
                *expr = self.rewrite(&m.mac);
                return;
            }
            Expr::Closure(_) => "inside a closure",
            Expr::Async(_) => "inside an async block",
            Expr::Const(_) => "inside a const block",
            _ => return visit_mut::visit_expr_mut(self, expr),
        };
        Misplaced::at(place, self.errors).visit_expr_mut(expr);
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        if let Stmt::Macro(m) = stmt
            && is_yield(&m.mac)
        {
            let expr = self.rewrite(&m.mac);
            *stmt = Stmt::Expr(expr, m.semi_token);
            return;
        }
        visit_mut::visit_stmt_mut(self, stmt);
    }

    fn visit_item_mut(&mut self, item: &mut Item) {
        // A nested tool rewrites its own body.
        if let Item::Fn(f) = item
            && f.attrs.iter().any(|a| is_named(a, "tool"))
        {
            return;
        }
        Misplaced::at("inside a nested function or item", self.errors).visit_item_mut(item);
    }
}

/// Reports every `yield_!` in the body of a prompt or a resource, which do not stream.
pub(crate) fn forbid_yields(block: &mut Block, kind: Kind, errors: &mut Errors) {
    let noun = kind.name();
    Misplaced {
        message: format!(
            "`yield_!` reports a tool's progress, and a {noun} does not stream: compute the {noun}'s value and return it"
        ),
        errors,
    }
    .visit_block_mut(block);
}

/// Reports every `yield_!` in a part of the body where it cannot be rewritten.
struct Misplaced<'a> {
    message: String,
    errors: &'a mut Errors,
}

impl<'a> Misplaced<'a> {
    /// Reports `yield_!` in a tool's body where it cannot be rewritten (`place`).
    fn at(place: &str, errors: &'a mut Errors) -> Self {
        Misplaced {
            message: format!(
                "`yield_!` works directly in the body of a `#[tool]` function, not {place}: take a `ctx: Context` parameter and write `ctx.progress(item).await` where the tool can await it"
            ),
            errors,
        }
    }

    fn report(&mut self, mac: &Macro) {
        self.errors.at(mac, &self.message);
    }
}

impl VisitMut for Misplaced<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Macro(m) if is_yield(&m.mac) => self.report(&m.mac),
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Macro(m) if is_yield(&m.mac) => self.report(&m.mac),
            _ => visit_mut::visit_stmt_mut(self, stmt),
        }
    }
}
