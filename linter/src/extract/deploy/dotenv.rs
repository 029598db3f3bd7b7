//! `.env` files, read the way dotenvy and docker compose read them.
//!
//! `KEY=value` lines with `#` comments, an optional `export ` prefix, single quotes (literal),
//! double quotes (escapes, may span lines) and unquoted values (an inline comment starts at
//! ` #`). `${VAR}`, `$VAR` and `${VAR:-default}` in unquoted and double-quoted values expand
//! from keys defined earlier in the file, then from an outer environment.

use std::collections::HashMap;
use std::ops::Range;

use super::env::{interpolate, Syntax};

/// One `KEY=value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DotEnvEntry {
    pub key: String,
    pub key_range: Range<usize>,
    /// The value after unquoting and interpolation.
    pub value: String,
    /// The value as written, inside its quotes.
    pub value_range: Range<usize>,
}

/// A line that is not `KEY=value`; parsing carries on with the next line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DotEnvError {
    pub offset: usize,
    pub message: String,
}

#[derive(Debug, Default)]
pub(crate) struct DotEnv {
    pub entries: Vec<DotEnvEntry>,
    pub errors: Vec<DotEnvError>,
}

impl DotEnv {
    /// The last value a key is given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| e.value.as_str())
    }
}

/// Parses a `.env` file; `outer` resolves variables the file does not define.
pub(crate) fn parse(text: &str, outer: &dyn Fn(&str) -> Option<String>) -> DotEnv {
    let mut result = DotEnv::default();
    let mut defined: HashMap<String, String> = HashMap::new();
    let bytes = text.as_bytes();
    let mut pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
    while pos < text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        let line = &text[pos..line_end];
        let indent = line.len() - line.trim_start().len();
        let content_start = pos + indent;
        let content = line.trim();
        if content.is_empty() || content.starts_with('#') {
            pos = line_end + 1;
            continue;
        }
        let mut cursor = content_start;
        if let Some(rest) = text[cursor..line_end].strip_prefix("export") {
            if rest.starts_with([' ', '\t']) {
                cursor = line_end - rest.trim_start().len();
            }
        }
        let key_len = text[cursor..line_end]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .unwrap_or(line_end - cursor);
        let key_range = cursor..cursor + key_len;
        let key = &text[key_range.clone()];
        let after_key = text[key_range.end..line_end].trim_start();
        let eq = line_end - after_key.len();
        if key.is_empty()
            || key.starts_with(|c: char| c.is_ascii_digit())
            || !after_key.starts_with('=')
        {
            result.errors.push(DotEnvError {
                offset: content_start,
                message: format!("expected `KEY=value`, found `{}`", truncate(content)),
            });
            pos = line_end + 1;
            continue;
        }
        let mut value_start = eq + 1;
        while value_start < line_end && matches!(bytes[value_start], b' ' | b'\t') {
            value_start += 1;
        }
        let lookup = |name: &str| defined.get(name).cloned().or_else(|| outer(name));
        let parsed = match bytes.get(value_start) {
            Some(b'\'') => parse_quoted(text, value_start, b'\''),
            Some(b'"') => parse_quoted(text, value_start, b'"').map(|(raw, range, end)| {
                let value = interpolate(
                    &unescape(&raw),
                    Syntax::Shell {
                        dollar_escape: false,
                    },
                    &lookup,
                )
                .replace(ESCAPED_DOLLAR, "$");
                (value, range, end)
            }),
            _ => {
                let raw = &text[value_start..line_end];
                let raw_len = raw
                    .find(" #")
                    .or_else(|| raw.find("\t#"))
                    .unwrap_or(raw.len());
                let raw = raw[..raw_len].trim_end();
                let range = value_start..value_start + raw.len();
                let value = interpolate(
                    raw,
                    Syntax::Shell {
                        dollar_escape: false,
                    },
                    &lookup,
                );
                Ok((value, range, line_end))
            }
        };
        match parsed {
            Ok((value, value_range, end)) => {
                defined.insert(key.to_string(), value.clone());
                result.entries.push(DotEnvEntry {
                    key: key.to_string(),
                    key_range,
                    value,
                    value_range,
                });
                // Skip the rest of the line holding the closing quote.
                let next_newline = text[end.min(text.len())..]
                    .find('\n')
                    .map_or(text.len(), |i| end + i);
                pos = next_newline + 1;
            }
            Err(message) => {
                result.errors.push(DotEnvError {
                    offset: value_start,
                    message,
                });
                pos = line_end + 1;
            }
        }
    }
    result
}

/// A quoted value starting at `start` (the quote); returns the raw text between the quotes,
/// its range and the offset after the closing quote.
fn parse_quoted(
    text: &str,
    start: usize,
    quote: u8,
) -> Result<(String, Range<usize>, usize), String> {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b if b == quote => {
                let range = start + 1..i;
                return Ok((text[range.clone()].to_string(), range, i + 1));
            }
            _ => i += 1,
        }
    }
    Err(format!(
        "unterminated {} quote",
        if quote == b'"' { "double" } else { "single" }
    ))
}

const ESCAPED_DOLLAR: char = '\u{0}';

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            // `\$` is a literal dollar: hidden from interpolation, restored after it.
            Some('$') => out.push(ESCAPED_DOLLAR),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_plain(text: &str) -> DotEnv {
        parse(text, &|_| None)
    }

    #[test]
    fn reads_keys_values_comments_and_quotes() {
        let text = "# comment\n\nexport DATABASE_URL=postgres://db/orders # trailing\nNAME='single ${X}'\nQUOTED=\"a\\nb\"\nEMPTY=\n  SPACED = value  \n";
        let env = parse_plain(text);
        assert!(env.errors.is_empty(), "{:?}", env.errors);
        let pairs: Vec<(&str, &str)> = env
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("DATABASE_URL", "postgres://db/orders"),
                ("NAME", "single ${X}"),
                ("QUOTED", "a\nb"),
                ("EMPTY", ""),
                ("SPACED", "value"),
            ]
        );
        let url = &env.entries[0];
        assert_eq!(&text[url.value_range.clone()], "postgres://db/orders");
        assert_eq!(&text[url.key_range.clone()], "DATABASE_URL");
    }

    #[test]
    fn interpolates_from_earlier_keys_then_outer() {
        let text = "HOST=db\nURL=postgres://${HOST}:${PORT:-5432}/${DB}\n";
        let env = parse(text, &|name| (name == "DB").then(|| "orders".to_string()));
        assert_eq!(env.get("URL"), Some("postgres://db:5432/orders"));
    }

    #[test]
    fn multi_line_double_quotes() {
        let text = "KEY=\"line one\nline two\"\nNEXT=1\n";
        let env = parse_plain(text);
        assert_eq!(env.get("KEY"), Some("line one\nline two"));
        assert_eq!(parse_plain("P=\"a\\$b\"").get("P"), Some("a$b"));
        assert_eq!(env.get("NEXT"), Some("1"));
    }

    #[test]
    fn malformed_lines_are_reported_and_skipped() {
        let text = "GOOD=1\nthis is not a pair\nBROKEN=\"open\nAFTER=2";
        let env = parse_plain(text);
        assert_eq!(env.errors.len(), 2);
        assert_eq!(env.errors[0].offset, 7);
        assert!(env.errors[1].message.contains("unterminated"));
        assert_eq!(env.get("GOOD"), Some("1"));
        assert_eq!(env.get("AFTER"), Some("2"));
    }

    #[test]
    fn never_panics() {
        for text in [
            "=",
            "export",
            "export ",
            "A='",
            "A=\"\\",
            "\u{feff}A=1",
            "é=1",
            "A=é #x",
        ] {
            let _ = parse_plain(text);
        }
    }
}
