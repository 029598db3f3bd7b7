//! Deeply nested Rust never overflows the stack: each shape that once aborted the run (exit
//! 134, no output) at a few hundred or thousand levels is checked at ten times that depth,
//! plain and inside `sqlx::query!` / `format!`. A file deeper than any bound is skipped with a
//! note naming it, and the rest of the workspace is still judged.

mod hardening_support;
use hardening_support::Workspace;

/// `{ { { ... } } }` as a statement of a function body.
fn nested_blocks(depth: usize) -> String {
    format!(
        "pub fn blocks() {{\n{}let _x = 1;{}\n}}\n",
        "{ ".repeat(depth),
        " }".repeat(depth)
    )
}

/// `((((1))))`.
fn nested_parens(depth: usize) -> String {
    "(".repeat(depth) + "1" + &")".repeat(depth)
}

/// `x + x + ... + x`.
fn plus_chain(length: usize) -> String {
    let mut expr = String::from("x");
    expr.push_str(&" + x".repeat(length));
    expr
}

/// `s.clone().clone()...`.
fn method_chain(length: usize) -> String {
    let mut expr = String::from("s");
    expr.push_str(&".clone()".repeat(length));
    expr
}

/// `if a == 0 { 0 } else if a == 1 { 1 } ... else { n }`.
fn else_if_chain(length: usize) -> String {
    let mut body = String::new();
    for i in 0..length {
        if i > 0 {
            body.push_str(" else ");
        }
        body.push_str(&format!("if a == {i} {{ {i} }}"));
    }
    body.push_str(&format!(" else {{ {length} }}"));
    format!("pub fn chain(a: u64) -> u64 {{\n{body}\n}}\n")
}

fn in_function(expr: &str) -> String {
    format!("pub fn expr(x: u64, s: String) -> u64 {{\n    let _v = {expr};\n    0\n}}\n")
}

fn in_query_macro(expr: &str) -> String {
    format!(
        "pub async fn query(pool: &sqlx::PgPool, x: i64) {{\n    \
         let _ = sqlx::query!(\"SELECT on_hand FROM orders WHERE id = $1\", {expr}).fetch_one(pool).await;\n}}\n"
    )
}

fn in_format_macro(expr: &str) -> String {
    format!("pub fn text(x: u64, s: String) -> String {{\n    format!(\"{{}}\", {expr})\n}}\n")
}

/// Checks the workspace with `hostile` as `orders/src/hostile.rs`: no crash, the other finding
/// reported, and either no note about the file or a note saying it was skipped as too deep.
fn assert_survives(hostile: &str) -> Option<String> {
    let workspace = Workspace::new(hostile);
    let run = workspace.check_json(&[]);
    run.assert_other_finding_reported();
    let note = run.note_about("orders/src/hostile.rs", "too-deep");
    if let Some(note) = &note {
        assert!(note.contains("skipped"), "{note}");
    }
    note
}

#[test]
fn blocks_nested_4000_deep() {
    assert_eq!(assert_survives(&nested_blocks(4_000)), None);
}

#[test]
fn parentheses_nested_6600_deep() {
    assert_eq!(assert_survives(&in_function(&nested_parens(6_600))), None);
}

#[test]
fn plus_chain_of_43000() {
    assert_eq!(assert_survives(&in_function(&plus_chain(43_000))), None);
}

#[test]
fn method_chain_of_43000() {
    assert_eq!(assert_survives(&in_function(&method_chain(43_000))), None);
}

#[test]
fn else_if_chain_of_50000() {
    assert_eq!(assert_survives(&else_if_chain(50_000)), None);
}

#[test]
fn deep_expressions_inside_query_and_format_macros() {
    for expr in [
        nested_parens(6_600),
        plus_chain(43_000),
        method_chain(43_000),
    ] {
        assert_eq!(assert_survives(&in_query_macro(&expr)), None);
        assert_eq!(assert_survives(&in_format_macro(&expr)), None);
    }
}

#[test]
fn a_file_deeper_than_any_bound_is_skipped_with_a_note() {
    for hostile in [
        in_function(&nested_parens(2_000_000)),
        nested_blocks(1_000_000),
        in_format_macro(&plus_chain(1_000_000)),
    ] {
        let note = assert_survives(&hostile);
        let note = note.unwrap_or_else(|| panic!("no too-deep note"));
        assert!(note.contains("nested"), "{note}");
    }
}
