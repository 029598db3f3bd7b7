//! Strings resolved from Rust source, with a map from each byte back to the source file.

use crate::model::Certainty;

/// Text known (fully or up to holes) at compile time. `map[i]` is the byte offset in the Rust
/// file that produced byte `i` of `text`, when that byte comes from a literal of this file.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub text: String,
    pub map: Vec<Option<u32>>,
    pub certainty: Certainty,
    /// Set when the text was read from another file (`include_str!`).
    pub from_file: bool,
}

impl Resolved {
    pub fn empty() -> Self {
        Self {
            text: String::new(),
            map: Vec::new(),
            certainty: Certainty::Exact,
            from_file: false,
        }
    }

    /// Text without a source position (read from another file).
    pub fn unmapped(text: String) -> Self {
        let map = vec![None; text.len()];
        Self {
            text,
            map,
            certainty: Certainty::Exact,
            from_file: true,
        }
    }

    pub fn push(&mut self, other: &Resolved) {
        self.text.push_str(&other.text);
        self.map.extend_from_slice(&other.map);
        self.certainty = self.certainty.max(other.certainty);
        self.from_file |= other.from_file;
    }

    pub fn push_mapped(&mut self, text: &str, start: usize) {
        self.text.push_str(text);
        self.map
            .extend((0..text.len()).map(|i| Some((start + i) as u32)));
    }

    /// A template hole whose value is only known at run time; `{}` is what the SQL analysis
    /// recognises as a hole.
    pub fn push_hole(&mut self, source: Option<usize>) {
        self.text.push_str("{}");
        self.map.push(source.map(|s| s as u32));
        self.map.push(source.map(|s| s as u32 + 1));
        self.certainty = self.certainty.max(Certainty::Template);
    }

    /// Source range of `range` of the text, when both ends come from this file's literals and
    /// map in order.
    pub fn source_range(&self, range: std::ops::Range<usize>) -> Option<std::ops::Range<usize>> {
        if range.is_empty() {
            return None;
        }
        let start = (*self.map.get(range.start)?)? as usize;
        let last = (*self.map.get(range.end - 1)?)? as usize;
        (last >= start).then_some(start..last + 1)
    }
}

/// The text between the quotes of a string literal token without escapes (`"..."`,
/// `r#"..."#`), which is its value.
pub fn unescaped_literal_body(token: &str) -> Option<&str> {
    if token.contains('\\') && !token.starts_with('r') {
        return None;
    }
    literal_body(token).map(|(_, body)| body)
}

/// Where the text between the quotes of a `"..."` or `r#"..."#` token starts, and that text
/// (escapes not decoded).
fn literal_body(token: &str) -> Option<(usize, &str)> {
    let (open, close) = match token.strip_prefix('r') {
        Some(rest) => {
            let hashes = rest.bytes().take_while(|&b| b == b'#').count();
            (hashes + 2, hashes + 1)
        }
        None => (1, 1),
    };
    let body = token.get(open..token.len().checked_sub(close)?)?;
    let quoted = token.as_bytes().get(open - 1) == Some(&b'"')
        && token.as_bytes().get(token.len() - close) == Some(&b'"')
        && token[token.len() - close + 1..].bytes().all(|b| b == b'#');
    quoted.then_some((open, body))
}

/// Decodes a string literal token (`"..."`, `r#"..."#`) that starts at byte `start` of the file
/// into its value and a per-byte source map. Returns `None` for non-string literals.
pub fn decode_literal(token: &str, start: usize) -> Option<Resolved> {
    let mut out = Resolved::empty();
    if token.starts_with('r') {
        let (open, body) = literal_body(token)?;
        out.push_mapped(body, start + open);
        return Some(out);
    }
    let body = token.strip_prefix('"')?;
    let end = body.rfind('"')?;
    let body = &body[..end];
    let base = start + 1;
    out.text.reserve(body.len());
    out.map.reserve(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            // The run up to the next escape maps byte for byte.
            let run_end = body[i..].find('\\').map_or(body.len(), |at| i + at);
            out.push_mapped(&body[i..run_end], base + i);
            while chars.next_if(|(j, _)| *j < run_end).is_some() {}
            continue;
        }
        let Some((_, kind)) = chars.next() else { break };
        let decoded: Option<char> = match kind {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            '0' => Some('\0'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            '\'' => Some('\''),
            'x' => {
                let hex: String = (0..2)
                    .filter_map(|_| chars.next().map(|(_, h)| h))
                    .collect();
                u8::from_str_radix(&hex, 16).ok().map(char::from)
            }
            'u' => {
                let mut hex = String::new();
                for (_, h) in chars.by_ref() {
                    match h {
                        '{' | '_' => {}
                        '}' => break,
                        other => hex.push(other),
                    }
                }
                u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
            }
            '\n' | '\r' => {
                // Line continuation: the newline and following whitespace are dropped.
                while chars.next_if(|(_, w)| w.is_whitespace()).is_some() {}
                None
            }
            _ => None,
        };
        if let Some(decoded) = decoded {
            let mut buf = [0u8; 4];
            let s = decoded.encode_utf8(&mut buf);
            out.text.push_str(s);
            out.map
                .extend((0..s.len()).map(|_| Some((base + i) as u32)));
        }
    }
    Some(out)
}

const SQL_KEYWORDS: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "WITH",
    "CREATE",
    "ALTER",
    "DROP",
    "TRUNCATE",
    "MERGE",
    "REPLACE",
    "UPSERT",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "PREPARE",
    "XA",
    "SET",
    "SHOW",
    "COPY",
    "LOCK",
    "GRANT",
    "REVOKE",
    "EXPLAIN",
    "VALUES",
    "CALL",
    "LISTEN",
    "NOTIFY",
    "SAVEPOINT",
    "RELEASE",
    "START",
    "VACUUM",
    "ANALYZE",
    "PRAGMA",
    "REFRESH",
    "COMMENT",
    "DECLARE",
    "EXECUTE",
];

/// Strips leading whitespace and SQL comments.
fn skip_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("--") {
            text = rest.find('\n').map_or("", |p| &rest[p..]);
        } else if let Some(rest) = text.strip_prefix("/*") {
            text = rest.find("*/").map_or("", |p| &rest[p + 2..]);
        } else {
            return text;
        }
    }
}

fn first_word(text: &str) -> &str {
    let text = skip_comments(text);
    let end = text
        .find(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// True when the text starts (after whitespace and comments) with a SQL keyword. Used where
/// the call already says "database" (a query method), to stay silent on look-alikes such as
/// `client.execute(request)`.
pub fn starts_with_sql_keyword(text: &str) -> bool {
    let word = first_word(text);
    !word.is_empty() && SQL_KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Whether a string literal's source token (`"..."`, `r#"..."#`) may decode to text that
/// starts with a SQL keyword. An escape or a comment before the first word is left to the
/// full decoding.
pub fn literal_may_start_with_sql(token: &str) -> bool {
    let body = token.trim_start_matches(['r', '#']);
    let Some(body) = body.strip_prefix('"') else {
        return true;
    };
    let body = body.trim_start();
    if body.starts_with(['\\', '-', '/']) {
        return true;
    }
    starts_with_sql_keyword(body)
}

/// Stricter test for a string found without a database call around it: it must start with a
/// SQL keyword, look like code rather than prose (an upper-case keyword or SQL punctuation),
/// and the SQL analysis must accept it and find a table.
pub fn reads_as_sql(text: &str, analysis: &crate::extract::sql::SqlAnalysis) -> bool {
    if !starts_with_sql_keyword(text) {
        return false;
    }
    if looks_like_prose(text) {
        return false;
    }
    analysis.parse_error.is_none() && !analysis.tables.is_empty()
}

/// "Select a file from the list": a lower- or title-case first word and none of the
/// punctuation SQL almost always has. `select id from users` is prose by this test too, which
/// is why it is only applied where nothing else says "database".
pub fn looks_like_prose(text: &str) -> bool {
    let word = first_word(text);
    word.chars().any(|c| c.is_ascii_lowercase())
        && !text.contains(['*', '=', '(', ',', ';', '\n', '$', '?'])
}

/// `PostComment` -> `post_comment`, `HTTPLog` -> `http_log` (sea-orm's iden naming).
pub fn snake_case(ident: &str) -> String {
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || prev.is_some_and(|p| p.is_uppercase()) && next.is_some_and(|n| n.is_lowercase());
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_of_literals_without_escapes() {
        assert_eq!(
            unescaped_literal_body(r#""postgres://db/x""#),
            Some("postgres://db/x")
        );
        assert_eq!(
            unescaped_literal_body(r##"r#"a "b" \d"#"##),
            Some(r#"a "b" \d"#)
        );
        assert_eq!(unescaped_literal_body(r#"r"x""#), Some("x"));
        assert_eq!(unescaped_literal_body(r#""""#), Some(""));
        assert_eq!(unescaped_literal_body(r#""a\nb""#), None);
        assert_eq!(unescaped_literal_body(r#"""#), None);
        assert_eq!(unescaped_literal_body("r#\"x\""), None);
    }

    #[test]
    fn decodes_plain_and_raw_literals_with_offsets() {
        let plain = decode_literal(r#""SELECT \"x\"\n FROM t""#, 10).unwrap();
        assert_eq!(plain.text, "SELECT \"x\"\n FROM t");
        let from = plain.text.find('t').unwrap();
        // `t` sits at index 21 of the token, so at 31 in the file.
        assert_eq!(plain.source_range(from..from + 1), Some(31..32));

        let raw = decode_literal(r##"r#"SELECT "a" FROM t"#"##, 0).unwrap();
        assert_eq!(raw.text, r#"SELECT "a" FROM t"#);
        assert_eq!(raw.source_range(16..17), Some(19..20));

        let continued = decode_literal("\"SELECT *\\\n     FROM t\"", 0).unwrap();
        assert_eq!(continued.text, "SELECT *FROM t");
        assert_eq!(continued.source_range(13..14), Some(21..22));
        assert!(decode_literal("42", 0).is_none());
        assert!(decode_literal("r#\"x\"#é", 0).is_none());
        // Invalid escapes before multi-byte characters (seen in unparsable files) do not panic.
        let odd = decode_literal("\"a\\é\\\"", 0).unwrap();
        assert_eq!(odd.text, "a");
    }

    #[test]
    fn keyword_tests() {
        assert!(starts_with_sql_keyword("  -- comment\n select 1"));
        assert!(starts_with_sql_keyword("/* x */ INSERT INTO t VALUES (1)"));
        assert!(!starts_with_sql_keyword("https://example.com"));
        assert!(!starts_with_sql_keyword("selection"));
        let prose = "select a file from the list";
        let analysis = crate::extract::sql::analyze(prose, crate::model::SqlDialect::Postgres);
        assert!(!reads_as_sql(prose, &analysis));
        let sql = "SELECT id FROM users";
        let analysis = crate::extract::sql::analyze(sql, crate::model::SqlDialect::Postgres);
        assert!(reads_as_sql(sql, &analysis));
    }

    #[test]
    fn literal_tokens_that_may_decode_to_sql() {
        // Must agree with decoding then testing wherever it answers "no".
        for token in [
            r#""SELECT id FROM t""#,
            r##"r#"  insert into t values (1)"#"##,
            r#""\nSELECT 1""#,
            r#""-- read\nSELECT 1""#,
            r#""/* x */ DELETE FROM t""#,
        ] {
            assert!(literal_may_start_with_sql(token), "{token}");
        }
        for token in [
            r#""""#,
            r#""order not found""#,
            r##"r#"{"a": 1}"#"##,
            r#""selection""#,
        ] {
            assert!(!literal_may_start_with_sql(token), "{token}");
            let decoded = decode_literal(token, 0).unwrap();
            assert!(!starts_with_sql_keyword(&decoded.text), "{token}");
        }
    }

    #[test]
    fn snake_case_follows_iden_rules() {
        assert_eq!(snake_case("PostComment"), "post_comment");
        assert_eq!(snake_case("HTTPLog"), "http_log");
        assert_eq!(snake_case("Order2Item"), "order2_item");
        assert_eq!(snake_case("users"), "users");
    }
}
