//! What a suppression comment standing on its own line covers in Rust: the statement or
//! item (or field, variant, match arm, expression) that starts on the next line of code, to
//! its last line, as syn's spans give it. A comment above `let rows = sqlx::query(` covers
//! the whole multi-line SQL literal of that statement.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::extract::rust::depth;

/// For each line of `targets` (1-based, sorted, without repeats), the last line of the
/// outermost statement or item that starts on it; `None` when none does, or when the file
/// does not parse or nests too deeply to be parsed safely.
pub fn node_ends(text: &str, targets: &[u32]) -> Vec<Option<u32>> {
    let mut ends = vec![None; targets.len()];
    if targets.is_empty() {
        return ends;
    }
    let text = crate::extract::rust::neutralise_prelude(text);
    let Ok(tokens) = text.parse::<TokenStream>() else {
        return ends;
    };
    let max_nesting = crate::stack::max_nesting();
    if depth::cannot_exceed(&text, max_nesting) || depth::nesting(&tokens) <= max_nesting {
        if let Ok(file) = syn::parse2::<syn::File>(tokens) {
            Finder {
                targets,
                ends: &mut ends,
            }
            .visit_file(&file);
        }
    }
    // The spans of this file are no longer needed: free proc-macro2's per-thread source map.
    proc_macro2::extra::invalidate_current_thread_spans();
    ends
}

struct Finder<'a> {
    targets: &'a [u32],
    ends: &'a mut [Option<u32>],
}

impl Finder<'_> {
    /// Records the node's last line for every open target on its first line, and says
    /// whether an open target lies further inside it (so its children are worth a look).
    fn enter(&mut self, node: &impl Spanned) -> bool {
        let span = node.span();
        let first = span.start().line as u32;
        let last = span.end().line as u32;
        let from = self.targets.partition_point(|&t| t < first);
        let to = self.targets.partition_point(|&t| t <= last);
        let mut inside = false;
        for k in from..to {
            if self.ends[k].is_some() {
                continue;
            }
            if self.targets[k] == first {
                self.ends[k] = Some(last);
            } else {
                inside = true;
            }
        }
        inside
    }
}

macro_rules! visit_nodes {
    ($($method:ident($node:ty) => $walk:path;)*) => {
        impl<'ast> Visit<'ast> for Finder<'_> {
            $(
                fn $method(&mut self, node: &'ast $node) {
                    if self.enter(node) {
                        $walk(self, node);
                    }
                }
            )*
        }
    };
}

visit_nodes! {
    visit_item(syn::Item) => syn::visit::visit_item;
    visit_impl_item(syn::ImplItem) => syn::visit::visit_impl_item;
    visit_trait_item(syn::TraitItem) => syn::visit::visit_trait_item;
    visit_foreign_item(syn::ForeignItem) => syn::visit::visit_foreign_item;
    visit_stmt(syn::Stmt) => syn::visit::visit_stmt;
    visit_field(syn::Field) => syn::visit::visit_field;
    visit_variant(syn::Variant) => syn::visit::visit_variant;
    visit_arm(syn::Arm) => syn::visit::visit_arm;
    visit_field_value(syn::FieldValue) => syn::visit::visit_field_value;
    visit_expr(syn::Expr) => syn::visit::visit_expr;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outermost_node_on_a_line_is_taken() {
        let text = r#"
/// Docs.
#[derive(Debug)]
struct A {
    x: u8,
}

fn f(pool: &Pool) {
    let rows = sqlx::query(
        "SELECT id
         FROM payments",
    )
    .fetch_all(pool);
    call(
        1,
        2,
    );
}
"#;
        // Lines: 2 docs (struct to 6), 5 field, 8 fn (to 18), 9 let (to 13), 11 inside the
        // literal (no node starts there), 14 call (to 17).
        let ends = node_ends(text, &[2, 5, 8, 9, 11, 14]);
        assert_eq!(ends, [Some(6), Some(5), Some(18), Some(13), None, Some(17)]);
    }

    #[test]
    fn unparsable_text_covers_nothing_more() {
        assert_eq!(node_ends("fn f( {", &[1]), [None]);
    }
}
