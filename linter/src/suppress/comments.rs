//! Finding suppression comments in a file's text: the comments of its syntax (Rust `//`,
//! SQL `--`, `#` in YAML, TOML, `.env` and Dockerfiles), the `archlint:` directives in them,
//! and the lines each one covers.

use std::ops::Range;

use camino::Utf8Path;
use memchr::{memchr, memrchr};

/// The comment syntax of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `// ...` (block comments and string literals are skipped).
    Rust,
    /// `-- ...` (string literals, quoted names, dollar quotes and block comments skipped).
    Sql,
    /// `# ...`, at the start of a line or after whitespace, outside quotes.
    Hash,
}

impl Syntax {
    /// By the file's extension: `.rs` is Rust, `.sql` SQL, anything else (YAML, TOML, `.env`,
    /// Dockerfiles) takes `#` comments.
    pub fn of(path: &Utf8Path) -> Syntax {
        match path.extension() {
            Some("rs") => Syntax::Rust,
            Some("sql") => Syntax::Sql,
            _ => Syntax::Hash,
        }
    }

    /// True for a line that holds no code: blank, or only a comment (Rust doc comments are
    /// part of the item they document).
    fn is_code_line(self, line: &str) -> bool {
        let line = line.trim();
        match self {
            _ if line.is_empty() => false,
            Syntax::Rust => {
                let doc = (line.starts_with("///") && !line.starts_with("////"))
                    || line.starts_with("//!");
                !line.starts_with("//") || doc
            }
            Syntax::Sql => !line.starts_with("--"),
            Syntax::Hash => !line.starts_with('#'),
        }
    }
}

/// A line comment: the byte range of its text (after the marker), and whether only
/// whitespace stands before it on its line.
#[derive(Debug, Clone)]
pub struct LineComment {
    pub text: Range<usize>,
    pub own_line: bool,
}

/// What a file's lexer found: its line comments and, in SQL, the offsets of the `;` that end
/// statements.
#[derive(Debug, Default)]
pub struct Lexed {
    pub comments: Vec<LineComment>,
    pub semicolons: Vec<usize>,
}

pub fn lex(text: &str, syntax: Syntax) -> Lexed {
    match syntax {
        Syntax::Rust => lex_rust(text.as_bytes()),
        Syntax::Sql => lex_sql(text.as_bytes()),
        Syntax::Hash => lex_hash(text),
    }
}

fn comment_at(bytes: &[u8], marker: usize, text_start: usize) -> (LineComment, usize) {
    let end = memchr(b'\n', &bytes[text_start..]).map_or(bytes.len(), |n| text_start + n);
    let line_start = memrchr(b'\n', &bytes[..marker]).map_or(0, |n| n + 1);
    let own_line = bytes[line_start..marker]
        .iter()
        .all(u8::is_ascii_whitespace);
    (
        LineComment {
            text: text_start..end,
            own_line,
        },
        end,
    )
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// Line comments of Rust source, skipping string, raw string, char and byte literals and
/// (nested) block comments.
fn lex_rust(bytes: &[u8]) -> Lexed {
    let mut lexed = Lexed::default();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let (comment, end) = comment_at(bytes, i, i + 2);
                lexed.comments.push(comment);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut depth = 1;
                i += 2;
                while i < bytes.len() && depth > 0 {
                    if bytes[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if bytes[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => i = skip_quoted(bytes, i + 1, b'"', true),
            b'r' if starts_literal(bytes, i) => i = skip_raw_string(bytes, i + 1),
            b'\'' => i = skip_char_or_lifetime(bytes, i),
            _ => i += 1,
        }
    }
    lexed
}

/// Whether the `r` at `i` starts a raw string (`r"`, `r#"`, `br"`, `cr#"`), not an identifier.
fn starts_literal(bytes: &[u8], i: usize) -> bool {
    let prefix_ok = match i.checked_sub(1).map(|p| bytes[p]) {
        None => true,
        Some(b'b' | b'c') => i < 2 || !is_ident_byte(bytes[i - 2]),
        Some(previous) => !is_ident_byte(previous),
    };
    let mut j = i + 1;
    while bytes.get(j) == Some(&b'#') {
        j += 1;
    }
    prefix_ok && bytes.get(j) == Some(&b'"')
}

/// Past the closing quote of a string whose body starts at `i`.
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8, escapes: bool) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            byte if byte == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Past a raw string whose `#`s start at `i`.
fn skip_raw_string(bytes: &[u8], mut i: usize) -> usize {
    let hashes = bytes[i..].iter().take_while(|&&b| b == b'#').count();
    i += hashes + 1;
    while i < bytes.len() {
        if bytes[i] == b'"' && bytes[i + 1..].iter().take(hashes).all(|&b| b == b'#') {
            let end = i + 1 + hashes;
            if end <= bytes.len() {
                return end;
            }
        }
        i += 1;
    }
    bytes.len()
}

/// Past a char literal (`'a'`, `'\n'`, `'"'`), or past the quote of a lifetime or label.
fn skip_char_or_lifetime(bytes: &[u8], i: usize) -> usize {
    if bytes.get(i + 1) == Some(&b'\\') {
        // An escape (`'\''`, `'\u{1F600}'`): the literal ends at the next quote after the
        // escaped char, a few bytes on.
        return bytes
            .get(i + 3..)
            .unwrap_or_default()
            .iter()
            .take(12)
            .position(|&b| b == b'\'')
            .map_or(i + 1, |n| i + 3 + n + 1);
    }
    let width = match bytes.get(i + 1) {
        Some(&b) if b < 0x80 => 1,
        Some(&b) if b >= 0xF0 => 4,
        Some(&b) if b >= 0xE0 => 3,
        Some(_) => 2,
        None => return i + 1,
    };
    if bytes.get(i + 1 + width) == Some(&b'\'') {
        i + 2 + width
    } else {
        i + 1
    }
}

/// `--` comments of SQL and the `;` ending statements, skipping string literals, quoted
/// names, dollar-quoted bodies and block comments.
fn lex_sql(bytes: &[u8]) -> Lexed {
    let mut lexed = Lexed::default();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                let (comment, end) = comment_at(bytes, i, i + 2);
                lexed.comments.push(comment);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = memchr::memmem::find(&bytes[i + 2..], b"*/").map_or(bytes.len(), |n| i + n + 4);
            }
            b'\'' => i = skip_quoted(bytes, i + 1, b'\'', false),
            b'"' => i = skip_quoted(bytes, i + 1, b'"', false),
            b'`' => i = skip_quoted(bytes, i + 1, b'`', false),
            b'$' => i = skip_dollar_quoted(bytes, i),
            b';' => {
                lexed.semicolons.push(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    lexed
}

/// Past a dollar-quoted body (`$$ .. $$`, `$tag$ .. $tag$`), or past a lone `$` (`$1`).
fn skip_dollar_quoted(bytes: &[u8], i: usize) -> usize {
    let tag_len = bytes[i + 1..]
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_')
        .count();
    let close = i + 1 + tag_len;
    if bytes.get(close) != Some(&b'$') || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return i + 1;
    }
    let tag = &bytes[i..=close];
    memchr::memmem::find(&bytes[close + 1..], tag)
        .map_or(bytes.len(), |n| close + 1 + n + tag.len())
}

/// `#` comments: at the start of a line or after whitespace, outside quotes on that line.
fn lex_hash(text: &str) -> Lexed {
    let mut lexed = Lexed::default();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for (at, c) in line.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if previous.is_whitespace() || "=:[{,".contains(previous) => {
                    quote = Some(c);
                }
                (None, '#') if previous.is_whitespace() => {
                    let marker = line_start + at;
                    let end = line_start + line.trim_end_matches(['\n', '\r']).len();
                    let own_line = line[..at].trim().is_empty();
                    lexed.comments.push(LineComment {
                        text: marker + 1..end,
                        own_line,
                    });
                    break;
                }
                _ => {}
            }
            previous = c;
        }
        line_start += line.len();
    }
    lexed
}

/// A comment's directive, as written after `archlint:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// `allow(a, b) reason: ...` or `allow-file(..)`; names as written.
    Allow {
        file_wide: bool,
        rules: Vec<String>,
        reason: Option<String>,
    },
    /// What is wrong with it.
    Malformed(String),
}

/// The directive in a comment's text, if the text starts with `archlint:`: the byte range of
/// the directive within `body` (leading and trailing space left out) and what it says.
/// `archlint::path` and other text are not directives.
pub fn directive(body: &str) -> Option<(Range<usize>, Parsed)> {
    let start = body.len() - body.trim_start().len();
    let rest = body[start..].strip_prefix("archlint:")?;
    if rest.starts_with(':') {
        return None;
    }
    let end = body.trim_end().len();
    Some((start..end, parse_directive(rest.trim())))
}

const EXPECTED: &str = "expected `allow(rule-name) reason: ...` or `allow-file(rule-name) reason: ...` after `archlint:`";

fn parse_directive(text: &str) -> Parsed {
    let (file_wide, rest) = if let Some(rest) = text.strip_prefix("allow-file") {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix("allow") {
        (false, rest)
    } else {
        return Parsed::Malformed(EXPECTED.to_string());
    };
    let Some(rest) = rest.trim_start().strip_prefix('(') else {
        return Parsed::Malformed(format!(
            "expected `(` and rule names after `{}`",
            if file_wide { "allow-file" } else { "allow" }
        ));
    };
    let Some((list, after)) = rest.split_once(')') else {
        return Parsed::Malformed("the rule list has no closing `)`".to_string());
    };
    let mut rules = Vec::new();
    for name in list.split(',').map(str::trim) {
        if name.is_empty() {
            continue;
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Parsed::Malformed(format!(
                "`{name}` is not a rule name (separate rule names with commas)"
            ));
        }
        rules.push(name.to_string());
    }
    if rules.is_empty() {
        return Parsed::Malformed("the rule list names no rule".to_string());
    }
    let after = after.trim();
    let reason = if after.is_empty() {
        None
    } else if let Some(reason) = after.strip_prefix("reason:") {
        Some(reason.trim().to_string()).filter(|r| !r.is_empty())
    } else {
        return Parsed::Malformed(format!(
            "expected `reason: ...` after the rule list, found `{after}`"
        ));
    };
    Parsed::Allow {
        file_wide,
        rules,
        reason,
    }
}

/// The 1-based line after `line` that holds code, if any (`lines` are the file's lines).
pub fn next_code_line(lines: &[&str], line: u32, syntax: Syntax) -> Option<u32> {
    (line as usize..lines.len())
        .find(|&i| syntax.is_code_line(lines[i]))
        .map(|i| i as u32 + 1)
}

/// The last line of the SQL statement that starts on line `first` (1-based): the line of
/// the first `;` after the line's start, else the file's last line.
pub fn sql_statement_end(
    lexed: &Lexed,
    index: &crate::source::LineIndex,
    text: &str,
    first: u32,
    lines: usize,
) -> u32 {
    let start = index.offset(text, first as usize, 0);
    lexed
        .semicolons
        .iter()
        .find(|&&at| at >= start)
        .map_or(lines as u32, |&at| index.position(text, at).0)
}

/// The last line of what a `#` comment standing above line `first` covers: the lines
/// indented deeper than it (a YAML key's block), continuation lines (a trailing `\`), or a
/// TOML table up to the next table header.
pub fn hash_block_end(lines: &[&str], first: u32) -> u32 {
    let Some(head) = lines.get(first as usize - 1) else {
        return first;
    };
    let indent = |line: &str| line.len() - line.trim_start().len();
    let trimmed = head.trim();
    let table = trimmed.starts_with('[') && trimmed.ends_with(']');
    let mut end = first;
    let mut continued = trimmed.ends_with('\\');
    for (i, line) in lines.iter().enumerate().skip(first as usize) {
        let content = line.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let inside = if table {
            !content.starts_with('[')
        } else {
            continued || indent(line) > indent(head)
        };
        if !inside {
            break;
        }
        end = i as u32 + 1;
        continued = content.ends_with('\\');
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str, syntax: Syntax) -> Vec<(String, bool)> {
        lex(text, syntax)
            .comments
            .into_iter()
            .map(|c| (text[c.text].to_string(), c.own_line))
            .collect()
    }

    #[test]
    fn rust_comments_outside_literals() {
        let text = r##"
let a = "// not a comment"; // one
let b = r#"also "// not" "#; // two
let c = '"'; let d = '\''; // three
fn f<'a>(x: &'a str) {} // four
/* block // not
   /* nested */ still not */
    // five
let e = b"//no"; let f = br"//no"; let g = c"//no";
"##;
        let found = comments(text, Syntax::Rust);
        let texts: Vec<&str> = found.iter().map(|(t, _)| t.trim()).collect();
        assert_eq!(texts, ["one", "two", "three", "four", "five"]);
        assert!(found[4].1, "own line");
        assert!(!found[0].1, "trailing");
    }

    #[test]
    fn sql_comments_and_statement_ends() {
        let text = "SELECT '--no;' FROM t; -- one\n/* -- no; */\nCREATE FUNCTION f() AS $$ SELECT 1; -- body $$;\n-- two\n";
        let lexed = lex(text, Syntax::Sql);
        let texts: Vec<&str> = lexed
            .comments
            .iter()
            .map(|c| text[c.text.clone()].trim())
            .collect();
        assert_eq!(texts, ["one", "two"]);
        assert_eq!(lexed.semicolons.len(), 2, "{:?}", lexed.semicolons);
    }

    #[test]
    fn hash_comments_need_space_before_and_no_quotes() {
        let text = "a: \"x # no\"\nb: y#no\nc: z # yes\n  # own\n";
        let found = comments(text, Syntax::Hash);
        assert_eq!(
            found,
            [(" yes".to_string(), false), (" own".to_string(), true)]
        );
    }

    #[test]
    fn directives_parse() {
        let parsed = |body: &str| directive(body).map(|(_, p)| p);
        assert_eq!(
            parsed(" archlint: allow(dual-write, shared_database) reason: legacy, see ADR-7 "),
            Some(Parsed::Allow {
                file_wide: false,
                rules: vec!["dual-write".into(), "shared_database".into()],
                reason: Some("legacy, see ADR-7".into()),
            })
        );
        assert_eq!(
            parsed(" archlint: allow-file(dual-write)"),
            Some(Parsed::Allow {
                file_wide: true,
                rules: vec!["dual-write".into()],
                reason: None,
            })
        );
        assert_eq!(parsed(" archlint::check is the entry point"), None);
        assert_eq!(parsed(" not archlint: allow(x)"), None);
        for bad in [
            " archlint: alow(x)",
            " archlint: allow x",
            " archlint: allow(x",
            " archlint: allow() reason: y",
            " archlint: allow(x y) reason: z",
            " archlint: allow(x) because legacy",
        ] {
            assert!(
                matches!(parsed(bad), Some(Parsed::Malformed(_))),
                "{bad}: {:?}",
                parsed(bad)
            );
        }
        assert_eq!(
            parsed(" archlint: allow(x) reason:  "),
            Some(Parsed::Allow {
                file_wide: false,
                rules: vec!["x".into()],
                reason: None,
            })
        );
    }

    #[test]
    fn blocks_under_a_hash_comment() {
        let yaml = "services:\n  a:\n    # c\n    environment:\n      URL: x\n\n      B: y\n    ports: [1]\n";
        let lines: Vec<&str> = yaml.lines().collect();
        let first = next_code_line(&lines, 3, Syntax::Hash).expect("code after");
        assert_eq!(first, 4);
        assert_eq!(hash_block_end(&lines, first), 7);
        let toml = "[a]\nx = 1\n# c\n[dependencies]\ny = 2\nz = 3\n[b]\n";
        let lines: Vec<&str> = toml.lines().collect();
        assert_eq!(hash_block_end(&lines, 4), 6);
        let docker = "RUN a \\\n  b \\\n  c\nRUN d\n";
        let lines: Vec<&str> = docker.lines().collect();
        assert_eq!(hash_block_end(&lines, 1), 3);
    }
}
