//! How deep syn and the extractor would recurse on a file, measured on its tokens before
//! anything recursive touches it.
//!
//! syn's parser, the extractor's visitors and the drop of the syntax tree recurse once per
//! nested group (`{`, `(`, `[`) and once per link of a chain that syn nests: a binary
//! operator (`a + b + c` is `(a + b) + c`), a method call or field (`.`), `?`, `as`, a call
//! or index following an expression, and `else` (an `else if` chain is an `if` inside the
//! `else` of the previous one). [`nesting`] adds these up along the deepest path, counting a
//! chain until a `;`, `,`, `=>` or the end of a block that nothing continues. It is an upper
//! estimate for ordinary code (a few dozen for hand-written code, a few hundred for generated
//! builders); a file above [`crate::stack::max_nesting`] is skipped with a note instead of parsed, because
//! no stack is known to be enough for it.

use proc_macro2::{token_stream, Delimiter, Spacing, TokenStream, TokenTree};

/// Units of one nested group against one link of a chain: syn's parser and the visitors go
/// through many more frames for a block or a parenthesised expression than for one more
/// operand (about 22 KiB against 800 bytes, unoptimised).
pub const GROUP_WEIGHT: usize = 30;

/// True when `text` cannot nest deeper than `limit` units, whatever its tokens: every unit
/// comes from a bracket (a group and a link), an operator character or an `else`/`as`
/// (at least two bytes each with what separates them), so counting bytes bounds
/// [`nesting`] from above. One pass over the bytes: most files are settled here, without
/// walking their tokens.
pub fn cannot_exceed(text: &str, limit: usize) -> bool {
    let (mut brackets, mut operators) = (0usize, 0usize);
    for &byte in text.as_bytes() {
        match byte {
            b'{' | b'(' | b'[' => brackets += 1,
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'!' | b'&' | b'|' | b'<' | b'>' | b'='
            | b'.' | b'?' => operators += 1,
            _ => {}
        }
    }
    let bound = brackets * (GROUP_WEIGHT + 1) + operators + text.len() / 2;
    bound <= limit
}

/// The nesting units of the deepest path through `tokens` (see the module documentation).
/// Iterative, so it cannot overflow itself, and linear in the number of tokens.
pub fn nesting(tokens: &TokenStream) -> usize {
    struct Level {
        trees: token_stream::IntoIter,
        /// Units of the enclosing levels, this group's own included.
        base: usize,
        /// Chain links seen in the current statement of this level.
        chain: usize,
        /// The previous token closed a brace group: only `else`, `.`, `?` or an operator
        /// continue the statement after it.
        after_brace: bool,
        /// The previous token was `=` (so a `>` makes a `=>`).
        after_equals: bool,
        /// The previous token was a group.
        after_group: bool,
    }
    let mut deepest = 0;
    let mut stack = vec![Level {
        trees: tokens.clone().into_iter(),
        base: 0,
        chain: 0,
        after_brace: false,
        after_equals: false,
        after_group: false,
    }];
    while let Some(level) = stack.last_mut() {
        let Some(tree) = level.trees.next() else {
            stack.pop();
            continue;
        };
        let continues = match &tree {
            TokenTree::Ident(ident) => ident == "else" || ident == "as",
            TokenTree::Punct(punct) => is_chain_punct(punct.as_char()),
            _ => false,
        };
        if level.after_brace && !continues {
            level.chain = 0;
        }
        level.after_brace = false;
        let after_equals = std::mem::take(&mut level.after_equals);
        let after_group =
            std::mem::replace(&mut level.after_group, matches!(tree, TokenTree::Group(_)));
        match tree {
            TokenTree::Group(group) => {
                let brace = group.delimiter() == Delimiter::Brace;
                // A call or index of a call or index (`f()()`, `a[0][1]`) nests once more;
                // one after a name is a single call, a block is not a link.
                if after_group && !brace {
                    level.chain += 1;
                }
                level.after_brace = brace;
                let base = level.base + level.chain + GROUP_WEIGHT;
                deepest = deepest.max(base);
                stack.push(Level {
                    trees: group.stream().into_iter(),
                    base,
                    chain: 0,
                    after_brace: false,
                    after_equals: false,
                    after_group: false,
                });
            }
            TokenTree::Punct(punct) => match punct.as_char() {
                ';' | ',' => level.chain = 0,
                '>' if after_equals => level.chain = 0,
                c => {
                    level.after_equals = c == '=' && punct.spacing() == Spacing::Joint;
                    // `==`, `&&`, `->` are one operator: counted at their last character.
                    if is_chain_punct(c) && punct.spacing() == Spacing::Alone {
                        level.chain += 1;
                        deepest = deepest.max(level.base + level.chain);
                    }
                }
            },
            TokenTree::Ident(ident) => {
                if ident == "else" || ident == "as" {
                    level.chain += 1;
                    deepest = deepest.max(level.base + level.chain);
                }
            }
            TokenTree::Literal(_) => {}
        }
    }
    deepest
}

/// Operators and the postfix punctuation syn nests: each may add a level.
fn is_chain_punct(c: char) -> bool {
    matches!(
        c,
        '+' | '-' | '*' | '/' | '%' | '^' | '!' | '&' | '|' | '<' | '>' | '=' | '.' | '?'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(text: &str) -> usize {
        nesting(&text.parse().unwrap_or_default())
    }

    #[test]
    fn the_byte_bound_is_never_below_the_measure() {
        let texts = [
            format!("x{}", " + x".repeat(5000)),
            format!("{}1{}", "(".repeat(300), ")".repeat(300)),
            format!("if a {{}}{}", " else if a {}".repeat(3000)),
            "fn f() { a.b().c(); }\n".repeat(300),
        ];
        for text in &texts {
            let units = nesting(&text.parse().unwrap_or_default());
            assert!(!cannot_exceed(text, units.saturating_sub(1)), "{units}");
        }
    }

    #[test]
    fn ordinary_code_is_shallow() {
        let code = r#"
            fn main() {
                let pool = PgPoolOptions::new().max_connections(5).connect(&url).await?;
                for i in 0..10 { if i % 2 == 0 { println!("{}", i); } else { continue; } }
            }
            fn other() {}
            fn third() {}
        "#;
        let depth = units(code);
        assert!(depth < 8 * GROUP_WEIGHT, "{depth}");
    }

    #[test]
    fn statements_and_items_do_not_add_up() {
        let many_items = "fn f() { a.b().c(); }\n".repeat(10_000);
        assert!(units(&many_items) < 6 * GROUP_WEIGHT);
        let many_statements = format!("fn f() {{ {} }}", "a.b().c();".repeat(10_000));
        assert!(units(&many_statements) < 6 * GROUP_WEIGHT);
        let many_ifs = format!("fn f() {{ {} }}", "if a.b() {{ c.d(); }}".repeat(10_000));
        assert!(units(&many_ifs) < 6 * GROUP_WEIGHT);
        let match_arms = format!(
            "fn f() {{ match x {{ {} }} }}",
            "A::B(y) => {{ y.z() }}".repeat(10_000)
        );
        assert!(
            units(&match_arms) < 6 * GROUP_WEIGHT,
            "{}",
            units(&match_arms)
        );
    }

    #[test]
    fn each_shape_counts_its_levels() {
        let groups = 1000 * GROUP_WEIGHT;
        assert!(units(&format!("{}1{}", "(".repeat(1000), ")".repeat(1000))) >= groups);
        assert!(units(&format!("{}{}", "{".repeat(1000), "}".repeat(1000))) >= groups);
        assert!(units(&format!("x{}", " + x".repeat(1000))) >= 1000);
        assert!(units(&format!("s{}", ".clone()".repeat(1000))) >= 1000);
        let mut chain = String::from("if a {}");
        chain.push_str(&" else if a {}".repeat(1000));
        assert!(units(&chain) >= 1000);
        assert!(units("x as u8 as u16 as u32") >= 3);
        assert!(units("f()()()") >= 2);
    }
}
