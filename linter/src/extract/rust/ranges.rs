//! Source ranges of expressions and macro calls from their first and last tokens.
//!
//! syn's `Spanned::span` prints a node back into tokens to join their spans; for a method
//! chain or a macro body that is a copy of the whole subtree. The first and last tokens of the
//! common expression kinds are known without it; the others fall back to `span()`.

use proc_macro2::Span as PmSpan;
use syn::spanned::Spanned;
use syn::{
    Expr, ExprCall, ExprIf, ExprMethodCall, Macro, MacroDelimiter, Member, PathArguments, UnOp,
};

/// First and last token of an expression: the same bounds `expr.span()` joins.
pub(super) fn expr_bounds(expr: &Expr) -> (PmSpan, PmSpan) {
    match (first_token(expr), last_token(expr)) {
        (Some(first), Some(last)) => (first, last),
        _ => {
            let span = expr.span();
            (span, span)
        }
    }
}

/// First token of an expression (what `expr.span()` starts with).
pub(super) fn expr_first(expr: &Expr) -> PmSpan {
    first_token(expr).unwrap_or_else(|| expr.span())
}

/// Last token of an `if` with all its `else if`s: the end of the chain, found by walking it
/// (a loop, where `span()` would print the whole chain for every link).
pub(super) fn if_chain_last(mut link: &ExprIf) -> Option<PmSpan> {
    loop {
        match &link.else_branch {
            None => return Some(link.then_branch.brace_token.span.close()),
            Some((_, next)) => match &**next {
                Expr::If(next) if next.attrs.is_empty() => link = next,
                other => return last_token(other),
            },
        }
    }
}

/// First and last token of a call.
pub(super) fn call_bounds(call: &ExprCall) -> (PmSpan, PmSpan) {
    match first_token(&call.func) {
        Some(first) if call.attrs.is_empty() => (first, call.paren_token.span.close()),
        _ => (call.span(), call.span()),
    }
}

/// First and last token of a method call.
pub(super) fn method_call_bounds(call: &ExprMethodCall) -> (PmSpan, PmSpan) {
    match first_token(&call.receiver) {
        Some(first) if call.attrs.is_empty() => (first, call.paren_token.span.close()),
        _ => (call.span(), call.span()),
    }
}

/// First and last token of a macro call: its path and its closing delimiter.
pub(super) fn macro_bounds(mac: &Macro) -> (PmSpan, PmSpan) {
    match path_first_token(&mac.path) {
        Some(first) => (first, delimiter_close(&mac.delimiter)),
        None => (mac.span(), mac.span()),
    }
}

/// A path's leading `::` or first segment.
fn path_first_token(path: &syn::Path) -> Option<PmSpan> {
    match (&path.leading_colon, path.segments.first()) {
        (Some(colon), _) => Some(colon.spans[0]),
        (None, Some(segment)) => Some(segment.ident.span()),
        (None, None) => None,
    }
}

fn delimiter_close(delimiter: &MacroDelimiter) -> PmSpan {
    match delimiter {
        MacroDelimiter::Paren(p) => p.span.close(),
        MacroDelimiter::Brace(b) => b.span.close(),
        MacroDelimiter::Bracket(b) => b.span.close(),
    }
}

fn first_token(expr: &Expr) -> Option<PmSpan> {
    // Attributes come first and are rare on expressions; `span()` handles them.
    match expr {
        Expr::Lit(e) if e.attrs.is_empty() => Some(e.lit.span()),
        Expr::Path(e) if e.attrs.is_empty() && e.qself.is_none() => path_first_token(&e.path),
        Expr::Call(e) if e.attrs.is_empty() => first_token(&e.func),
        Expr::MethodCall(e) if e.attrs.is_empty() => first_token(&e.receiver),
        Expr::Field(e) if e.attrs.is_empty() => first_token(&e.base),
        Expr::Await(e) if e.attrs.is_empty() => first_token(&e.base),
        Expr::Try(e) if e.attrs.is_empty() => first_token(&e.expr),
        Expr::Index(e) if e.attrs.is_empty() => first_token(&e.expr),
        Expr::Reference(e) if e.attrs.is_empty() => Some(e.and_token.span),
        Expr::Paren(e) if e.attrs.is_empty() => Some(e.paren_token.span.open()),
        Expr::Tuple(e) if e.attrs.is_empty() => Some(e.paren_token.span.open()),
        Expr::Array(e) if e.attrs.is_empty() => Some(e.bracket_token.span.open()),
        Expr::Macro(e) if e.attrs.is_empty() => Some(macro_bounds(&e.mac).0),
        Expr::Unary(e) if e.attrs.is_empty() => unary_op_span(&e.op),
        Expr::Binary(e) if e.attrs.is_empty() => first_token(&e.left),
        Expr::Struct(e) if e.attrs.is_empty() && e.qself.is_none() => path_first_token(&e.path),
        Expr::Block(e) if e.attrs.is_empty() && e.label.is_none() => {
            Some(e.block.brace_token.span.open())
        }
        Expr::If(e) if e.attrs.is_empty() => Some(e.if_token.span),
        _ => None,
    }
}

fn unary_op_span(op: &UnOp) -> Option<PmSpan> {
    match op {
        UnOp::Deref(star) => Some(star.spans[0]),
        UnOp::Not(bang) => Some(bang.spans[0]),
        UnOp::Neg(minus) => Some(minus.spans[0]),
        // `UnOp` is non-exhaustive: a future operator falls back to the whole expression.
        _ => None,
    }
}

fn last_token(expr: &Expr) -> Option<PmSpan> {
    match expr {
        Expr::Lit(e) if e.attrs.is_empty() => Some(e.lit.span()),
        Expr::Path(e) if e.attrs.is_empty() && e.qself.is_none() => {
            let segment = e.path.segments.last()?;
            match &segment.arguments {
                PathArguments::None => Some(segment.ident.span()),
                PathArguments::AngleBracketed(args) => Some(args.gt_token.span),
                PathArguments::Parenthesized(_) => None,
            }
        }
        Expr::Call(e) if e.attrs.is_empty() => Some(e.paren_token.span.close()),
        Expr::MethodCall(e) if e.attrs.is_empty() => Some(e.paren_token.span.close()),
        Expr::Field(e) if e.attrs.is_empty() => Some(match &e.member {
            Member::Named(ident) => ident.span(),
            Member::Unnamed(index) => index.span,
        }),
        Expr::Await(e) if e.attrs.is_empty() => Some(e.await_token.span),
        Expr::Try(e) if e.attrs.is_empty() => Some(e.question_token.span),
        Expr::Index(e) if e.attrs.is_empty() => Some(e.bracket_token.span.close()),
        Expr::Reference(e) if e.attrs.is_empty() => last_token(&e.expr),
        Expr::Paren(e) if e.attrs.is_empty() => Some(e.paren_token.span.close()),
        Expr::Tuple(e) if e.attrs.is_empty() => Some(e.paren_token.span.close()),
        Expr::Array(e) if e.attrs.is_empty() => Some(e.bracket_token.span.close()),
        Expr::Macro(e) if e.attrs.is_empty() => Some(macro_bounds(&e.mac).1),
        Expr::Unary(e) if e.attrs.is_empty() => last_token(&e.expr),
        Expr::Binary(e) if e.attrs.is_empty() => last_token(&e.right),
        Expr::Struct(e) if e.attrs.is_empty() && e.qself.is_none() => {
            Some(e.brace_token.span.close())
        }
        Expr::Block(e) if e.attrs.is_empty() && e.label.is_none() => {
            Some(e.block.brace_token.span.close())
        }
        Expr::If(e) if e.attrs.is_empty() => if_chain_last(e),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte range of a span pair in the parsed text.
    fn range((first, last): (PmSpan, PmSpan)) -> std::ops::Range<usize> {
        first.byte_range().start..last.byte_range().end
    }

    #[test]
    fn bounds_agree_with_span_on_common_expressions() {
        let sources = [
            r#"sqlx::query("SELECT 1").bind(a.b).fetch_one(&*pool).await?"#,
            "&self.items[0].name",
            "&mut *tx",
            "!a.is_empty() && -b < c + 1",
            "Order { id: 1, ..Default::default() }",
            "{ let x = 1; x }",
            "::std::mem::take(&mut (x, y))",
            "Vec::<u8>::new",
            "[a, b](1)",
            r#"format!("{} {}", a, b).len()"#,
            "items.0",
            "#[allow(unused)] f()",
            "|x| x + 1",
            "<T as Trait>::NAME",
            "if a { 1 } else if b { 2 } else { f(3) }",
            "if a { 1 } else if b { 2 }",
        ];
        for source in sources {
            let expr: Expr = syn::parse_str(source).expect("test expressions parse");
            let span = expr.span();
            let expected = span.byte_range();
            assert_eq!(range(expr_bounds(&expr)), expected, "{source}");
        }
    }

    #[test]
    fn macro_bounds_run_from_the_path_to_the_closing_delimiter() {
        let source = r#"sqlx::query!("SELECT 1", id)"#;
        let expr: Expr = syn::parse_str(source).expect("test expression parses");
        let Expr::Macro(m) = &expr else {
            panic!("a macro call")
        };
        assert_eq!(range(macro_bounds(&m.mac)), 0..source.len());
    }
}
