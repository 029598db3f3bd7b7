//! SQL text (sqlparser): statements and the tables they read, write, create, alter, drop.
//!
//! Text is split into statements first (on `;` outside quotes, dollar-quotes and comments) so
//! one statement sqlparser rejects does not lose the others. Rejected statements fall back to a
//! keyword scan (`FROM`/`JOIN`/`INTO`/`UPDATE`/`TABLE <name>`), and the analysis is marked
//! uncertain. Format-template holes (`{}`, `{name}`) and named parameters (`:id`) are replaced
//! by neutral tokens of the same length before parsing, so every offset found in the prepared
//! text is an offset into the original text; a table whose name is (part of) a hole is dropped,
//! since it is not known statically.

use std::collections::HashSet;
use std::ops::{ControlFlow, Range};
use std::panic::{catch_unwind, AssertUnwindSafe};

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, CopySource, FromTable, ObjectName, ObjectNamePart,
    ObjectType, Query, RenameTableNameKind, SetExpr, Statement, TableConstraint, TableFactor,
    TableObject, Visit, Visitor,
};
use sqlparser::dialect::{Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::model::{Access, Certainty, SqlDialect, StatementEffect, TableName};
use crate::source::LineIndex;

/// A table found in SQL text, with the byte range of its name inside that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTable {
    pub table: TableName,
    pub access: Access,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct SqlAnalysis {
    pub tables: Vec<SqlTable>,
    /// Leading keyword(s) of each statement, upper case.
    pub statements: Vec<String>,
    /// What each statement does to data, parallel to `statements`.
    pub effects: Vec<StatementEffect>,
    /// Set when sqlparser rejected the text and tables came from a keyword scan.
    pub parse_error: Option<String>,
    /// Byte range of each statement in the text, parallel to `statements`.
    pub statement_ranges: Vec<Range<usize>>,
    /// Byte range of the first statement sqlparser rejected.
    pub parse_error_range: Option<Range<usize>>,
    /// Byte ranges of the statements whose tables came from the keyword scan: those sqlparser
    /// rejected and routine bodies (PL/pgSQL) it keeps as strings.
    pub scanned: Vec<Range<usize>>,
    /// The columns named by `INSERT INTO t (a, b, ..)` column lists, lower case.
    pub inserted_columns: Vec<String>,
    /// `CREATE TABLE` primary keys, parallel to nothing: one entry per table created.
    pub primary_keys: Vec<crate::model::PrimaryKey>,
    /// The state columns `SELECT`s test and `UPDATE`s set.
    pub state_columns: crate::model::StateColumns,
}

impl SqlAnalysis {
    pub fn certainty(&self) -> Certainty {
        if self.parse_error.is_some() || !self.scanned.is_empty() {
            Certainty::Unknown
        } else {
            Certainty::Exact
        }
    }
}

/// Analyses SQL text in the given dialect.
pub fn analyze(sql: &str, dialect: SqlDialect) -> SqlAnalysis {
    analyze_with(sql, dialect, false)
}

/// Analyses text known to be SQL because it is handed to a database API (`sqlx::query`,
/// `query!`, `client.execute`). Simple statements ([`is_simple_statement`]) take their tables
/// from the keyword scan instead of the parser: the result is the same for every statement the
/// parser accepts, at a fraction of the cost. A simple statement the parser would reject (a
/// typo inside a `WHERE` clause) is not reported as unparsable; its tables are still exact.
/// Text that may be prose goes through [`analyze`], whose parse errors tell SQL from prose.
pub fn analyze_known_sql(sql: &str, dialect: SqlDialect) -> SqlAnalysis {
    analyze_with(sql, dialect, true)
}

fn analyze_with(sql: &str, dialect: SqlDialect, simple_by_scan: bool) -> SqlAnalysis {
    let (prepared, holes) = neutralise(sql);
    let tokens = lex(&prepared);
    let parser_dialect = parser_dialect(dialect);
    let mut analysis = SqlAnalysis::default();
    for statement in split_statements(&prepared, &tokens) {
        let toks = &tokens[statement.tokens.clone()];
        let keyword = leading_keywords(&prepared, toks);
        let text = &prepared[statement.range.clone()];
        let base = statement.range.start;
        let effect = statement_effect(&prepared, toks, &keyword);
        analysis.effects.push(effect);
        match keyword.as_str() {
            "SELECT" => state_tests(&prepared, toks, &mut analysis.state_columns.tested),
            "UPDATE" if effect != StatementEffect::RelativeUpdate => {
                if let Some(set_end) = assignments_after_set(&prepared, toks, 1) {
                    analysis
                        .state_columns
                        .set
                        .extend(assigned_columns(&prepared, toks, 0, set_end));
                }
            }
            _ => {}
        }
        if keyword.starts_with("INSERT") {
            // A key the database makes in the statement itself is not taken from the caller.
            let lower = text.to_ascii_lowercase();
            let generates_key = [
                "gen_random_uuid",
                "uuid_generate",
                "nextval",
                "newid",
                "uuid()",
            ]
            .iter()
            .any(|f| lower.contains(f));
            if !generates_key {
                insert_column_list(&prepared, toks, &mut analysis.inserted_columns);
            }
        } else if keyword == "CREATE TABLE" {
            analysis.primary_keys.extend(primary_key(&prepared, toks));
        }
        analysis.statements.push(keyword.clone());
        analysis.statement_ranges.push(statement.range.clone());
        if is_control_statement(&keyword) {
            continue;
        }
        if matches!(
            keyword.as_str(),
            "CREATE FUNCTION" | "CREATE PROCEDURE" | "DO"
        ) {
            let found = scan_routine_bodies(&prepared, toks);
            if !found.is_empty() {
                analysis.scanned.push(statement.range.clone());
                analysis.tables.extend(found);
            }
        }
        if simple_by_scan && is_simple_statement(&prepared, toks, &keyword, dialect) {
            analysis.tables.extend(scan_tables(&prepared, toks));
            continue;
        }
        match parse(parser_dialect.as_ref(), text) {
            Ok(parsed) => {
                let index = LineIndex::new(text);
                for stmt in &parsed {
                    let mut collector = Collector::new(text, &index);
                    collector.collect(stmt);
                    for mut found in collector.finish(text, toks, base) {
                        found.range = found.range.start + base..found.range.end + base;
                        analysis.tables.push(found);
                    }
                }
            }
            Err(message) => {
                analysis.scanned.push(statement.range.clone());
                if analysis.parse_error.is_none() {
                    // sqlparser's position is relative to the statement; the range says where.
                    let message = match message.find(" at Line:") {
                        Some(at) => message[..at].to_owned(),
                        None => message,
                    };
                    analysis.parse_error = Some(message);
                    analysis.parse_error_range = Some(statement.range.clone());
                }
                analysis.tables.extend(scan_tables(&prepared, toks));
            }
        }
    }
    analysis
        .tables
        .retain_mut(|found| resolve_holes(found, &holes, &prepared));
    analysis
        .tables
        .sort_by_key(|t| (t.range.start, t.range.end));
    analysis
        .tables
        .dedup_by(|a, b| a.range == b.range && a.access == b.access);
    analysis
}

/// One `SELECT` (with a `FROM`), `INSERT`, `UPDATE` or `DELETE` without subquery, CTE, set
/// operation, join, `USING`, `SELECT .. INTO`, function whose arguments use `FROM`,
/// dialect-specific clause (`INSERT IGNORE`/`OR ..`, `ON DUPLICATE KEY`, `INTERVAL`) or quoting
/// and parameters the dialect does not have: the keyword scan finds exactly the tables and
/// accesses the parser finds (checked on every statement of the test corpus by
/// `the_scan_agrees_with_the_parser_on_simple_statements`).
fn is_simple_statement(text: &str, toks: &[Tok], keyword: &str, dialect: SqlDialect) -> bool {
    if !matches!(keyword, "SELECT" | "INSERT" | "UPDATE" | "DELETE") || toks.len() > 256 {
        return false;
    }
    if toks[0].kind != TokKind::Word {
        return false;
    }
    // The clause that makes each statement what it is: `SELECT .. FROM`, `INSERT INTO`,
    // `UPDATE .. SET`, `DELETE FROM`; without it the text is a fragment or prose.
    let required = match keyword {
        "SELECT" | "DELETE" => "FROM",
        "INSERT" => "INTO",
        _ => "SET",
    };
    let mut has_required = false;
    let mut joined = false;
    let upper = upper_words(text, toks);
    let words = upper.words();
    for (i, tok) in toks.iter().enumerate() {
        match tok.kind {
            TokKind::Word => {
                let word = words[i];
                let is = |w: &str| word == w;
                if is("JOIN") {
                    // `JOIN name [alias] ON|USING`: a table; `JOIN f(..)` is a function.
                    match read_dotted(text, toks, i + 1) {
                        Some((_, _, next)) if !toks.get(next).is_some_and(|t| t.is_punct(b'(')) => {
                            joined = true;
                            continue;
                        }
                        _ => return false,
                    }
                }
                // `USING` lists columns after a join, tables after `DELETE FROM t`.
                if is("USING") && joined {
                    continue;
                }
                if i > 0 && is("SELECT")
                    || matches!(
                        word,
                        "WITH"
                            | "UNION"
                            | "INTERSECT"
                            | "EXCEPT"
                            | "LATERAL"
                            | "USING"
                            | "STRAIGHT_JOIN"
                            | "TABLE"
                            | "ONLY"
                            | "IGNORE"
                            | "OR"
                            | "DUPLICATE"
                            | "INTERVAL"
                            | "REPLACE"
                    ) && (!is("OR") || is_insert_or(toks, i, text))
                    || FROM_FUNCTIONS.contains(&word)
                    || keyword == "SELECT" && is("INTO")
                {
                    return false;
                }
                has_required |= is(required);
            }
            TokKind::QuotedIdent => {
                let quote = text.as_bytes()[tok.range.start];
                let foreign = match dialect {
                    SqlDialect::Postgres => quote == b'`',
                    SqlDialect::MySql => quote == b'"',
                    SqlDialect::Sqlite | SqlDialect::Generic => false,
                };
                if foreign {
                    return false;
                }
            }
            TokKind::Punct(b'?') if dialect == SqlDialect::Postgres => return false,
            TokKind::Number
                if dialect != SqlDialect::Postgres && text[tok.range.clone()].starts_with('$') =>
            {
                return false
            }
            TokKind::Punct(b'@' | b'[' | b'{' | b'\\' | b'#' | b';') => return false,
            _ => {}
        }
    }
    has_required
}

/// `INSERT OR IGNORE` / `INSERT OR REPLACE` (SQLite), as opposed to a boolean `OR`.
fn is_insert_or(toks: &[Tok], i: usize, text: &str) -> bool {
    i == 1 && toks[0].is_word(text, "INSERT")
}

fn parser_dialect(dialect: SqlDialect) -> Box<dyn Dialect> {
    match dialect {
        SqlDialect::Postgres => Box::new(PostgreSqlDialect {}),
        SqlDialect::MySql => Box::new(MySqlDialect {}),
        SqlDialect::Sqlite => Box::new(SQLiteDialect {}),
        SqlDialect::Generic => Box::new(GenericDialect {}),
    }
}

fn parse(dialect: &dyn Dialect, text: &str) -> Result<Vec<Statement>, String> {
    // sqlparser is not expected to panic, but user input must never take the linter down.
    let result = catch_unwind(AssertUnwindSafe(|| {
        Parser::new(dialect)
            .try_with_sql(text)
            .and_then(|mut p| p.parse_statements())
    }));
    match result {
        Ok(Ok(statements)) => Ok(statements),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("the SQL parser failed on this statement".to_owned()),
    }
}

/// Statements that never name a table; they are recorded but not parsed (sqlparser rejects
/// several of them, e.g. `PREPARE TRANSACTION`).
fn is_control_statement(keyword: &str) -> bool {
    matches!(
        keyword,
        "PREPARE TRANSACTION"
            | "COMMIT PREPARED"
            | "ROLLBACK PREPARED"
            | "BEGIN"
            | "COMMIT"
            | "ROLLBACK"
            | "END"
            | "START TRANSACTION"
            | "SAVEPOINT"
            | "RELEASE"
            | "SET"
            | "RESET"
            | "SHOW"
            | "LISTEN"
            | "UNLISTEN"
            | "NOTIFY"
            | "PRAGMA"
            | "DEALLOCATE"
            | "DISCARD"
    ) || keyword.starts_with("XA")
}

/// Drops tables whose name is a template hole; keeps a table whose only hole is its schema,
/// without the schema.
fn resolve_holes(found: &mut SqlTable, holes: &[Range<usize>], text: &str) -> bool {
    let overlaps = |r: &Range<usize>| holes.iter().any(|h| h.start < r.end && r.start < h.end);
    if !overlaps(&found.range) {
        return true;
    }
    // The last dotted part is the table name itself.
    let name_text = text.get(found.range.clone()).unwrap_or("");
    let name_start = match name_text.rfind('.') {
        Some(dot) => found.range.start + dot + 1,
        None => found.range.start,
    };
    if overlaps(&(name_start..found.range.end)) {
        return false;
    }
    found.table.schema = None;
    true
}

// ---------------------------------------------------------------------------------------------
// Preparation: holes and named parameters.

/// Replaces `{...}` format holes by `_` runs and `:name` parameters by `0` plus spaces, keeping
/// every byte offset. Returns the prepared text and the ranges of the holes.
fn neutralise(sql: &str) -> (String, Vec<Range<usize>>) {
    let bytes = sql.as_bytes();
    let mut out = bytes.to_vec();
    let mut holes = Vec::new();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
        } else if b == b'\'' || b == b'"' || b == b'`' {
            quote = Some(b);
        }
        match b {
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                i += 2;
                continue;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                i += 2;
                continue;
            }
            b'{' => {
                let close = bytes[i + 1..]
                    .iter()
                    .take(64)
                    .position(|&c| c == b'}')
                    .map(|p| i + 1 + p);
                if let Some(close) = close {
                    let inner = &bytes[i + 1..close];
                    let is_hole = inner.iter().all(|&c| {
                        c.is_ascii_alphanumeric()
                            || matches!(
                                c,
                                b'_' | b':'
                                    | b'?'
                                    | b'.'
                                    | b'#'
                                    | b'<'
                                    | b'>'
                                    | b'^'
                                    | b'+'
                                    | b'-'
                                    | b'$'
                            )
                    });
                    if is_hole {
                        for byte in &mut out[i..=close] {
                            *byte = b'_';
                        }
                        holes.push(i..close + 1);
                        i = close + 1;
                        continue;
                    }
                }
            }
            b':' if quote.is_none() => {
                let prev = i.checked_sub(1).map(|p| bytes[p]);
                let next = bytes.get(i + 1).copied();
                let starts_name = next.is_some_and(|c| c.is_ascii_alphabetic() || c == b'_');
                let after_colon = prev == Some(b':');
                let after_word =
                    prev.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b']');
                if starts_name && !after_colon && !after_word {
                    let mut end = i + 1;
                    while end < bytes.len()
                        && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                    {
                        end += 1;
                    }
                    out[i] = b'0';
                    for byte in &mut out[i + 1..end] {
                        *byte = b' ';
                    }
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    // Postgres row-lock strengths sqlparser does not know, padded to keep offsets.
    for (from, to) in [
        (&b"FOR NO KEY UPDATE"[..], &b"FOR UPDATE       "[..]),
        (&b"FOR KEY SHARE"[..], &b"FOR SHARE    "[..]),
    ] {
        let mut at = 0;
        while let Some(pos) = memchr::memchr2(b'F', b'f', &out[at..]) {
            let start = at + pos;
            let end = start + from.len();
            if out
                .get(start..end)
                .is_some_and(|w| w.eq_ignore_ascii_case(from))
            {
                out[start..end].copy_from_slice(to);
                at = end;
            } else {
                at = start + 1;
            }
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the text stays valid UTF-8.
    let prepared = String::from_utf8(out).unwrap_or_else(|_| sql.to_owned());
    (prepared, holes)
}

// ---------------------------------------------------------------------------------------------
// Lexing, splitting and leading keywords (also used by the fallback scan).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokKind {
    Word,
    QuotedIdent,
    Str,
    Number,
    Punct(u8),
}

#[derive(Debug, Clone)]
struct Tok {
    kind: TokKind,
    range: Range<usize>,
}

impl Tok {
    fn upper(&self, text: &str) -> String {
        if self.kind == TokKind::Word {
            text[self.range.clone()].to_ascii_uppercase()
        } else {
            String::new()
        }
    }

    fn is_word(&self, text: &str, word: &str) -> bool {
        self.kind == TokKind::Word && text[self.range.clone()].eq_ignore_ascii_case(word)
    }

    /// A word that is one of these upper-case `words`, without upper-casing it.
    fn is_one_of(&self, text: &str, words: &[&str]) -> bool {
        self.kind == TokKind::Word && {
            let word = &text[self.range.clone()];
            words.iter().any(|w| word.eq_ignore_ascii_case(w))
        }
    }

    fn is_punct(&self, c: u8) -> bool {
        self.kind == TokKind::Punct(c)
    }
}

/// The words of a run of tokens in upper case (`""` for other tokens), from one upper-cased
/// copy of the text they span rather than a string per token.
struct UpperWords<'t> {
    upper: String,
    base: usize,
    toks: &'t [Tok],
}

impl UpperWords<'_> {
    fn words(&self) -> Vec<&str> {
        self.toks
            .iter()
            .map(|t| match t.kind {
                TokKind::Word => &self.upper[t.range.start - self.base..t.range.end - self.base],
                _ => "",
            })
            .collect()
    }
}

fn upper_words<'t>(text: &str, toks: &'t [Tok]) -> UpperWords<'t> {
    let base = toks.first().map_or(0, |t| t.range.start);
    let end = toks.last().map_or(base, |t| t.range.end);
    UpperWords {
        upper: text[base..end].to_ascii_uppercase(),
        base,
        toks,
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn lex(text: &str) -> Vec<Tok> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b == b'-' && bytes.get(i + 1) == Some(&b'-') || b == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(bytes.len());
        } else if b == b'\'' || b == b'"' || b == b'`' {
            i += 1;
            while i < bytes.len() {
                if bytes[i] == b'\\' && b == b'\'' {
                    i += 2;
                    continue;
                }
                if bytes[i] == b {
                    if bytes.get(i + 1) == Some(&b) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(bytes.len());
            let kind = if b == b'\'' {
                TokKind::Str
            } else {
                TokKind::QuotedIdent
            };
            tokens.push(Tok {
                kind,
                range: start..i,
            });
        } else if b == b'$' {
            // `$1` parameter or `$tag$ ... $tag$` dollar quote.
            let tag_end = bytes[i + 1..]
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
                .map(|p| i + 1 + p);
            match tag_end {
                Some(end)
                    if bytes[end] == b'$'
                        && !bytes[i + 1..end].first().is_some_and(u8::is_ascii_digit) =>
                {
                    let tag = &text[i..=end];
                    let body = end + 1;
                    let close = text[body..]
                        .find(tag)
                        .map_or(bytes.len(), |p| body + p + tag.len());
                    i = close;
                    tokens.push(Tok {
                        kind: TokKind::Str,
                        range: start..i,
                    });
                }
                _ => {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                    tokens.push(Tok {
                        kind: TokKind::Number,
                        range: start..i,
                    });
                }
            }
        } else if b.is_ascii_digit() {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
            {
                i += 1;
            }
            tokens.push(Tok {
                kind: TokKind::Number,
                range: start..i,
            });
        } else if b.is_ascii() && !(b.is_ascii_alphabetic() || b == b'_') {
            i += 1;
            tokens.push(Tok {
                kind: TokKind::Punct(b),
                range: start..i,
            });
        } else {
            // ASCII word characters byte by byte; the rest of a word with other letters by
            // chars.
            let mut end = i;
            while end < bytes.len()
                && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b'$'))
            {
                end += 1;
            }
            let rest = &text[end..];
            let len = if rest.as_bytes().first().is_some_and(|b| !b.is_ascii()) {
                rest.char_indices()
                    .find(|&(_, c)| !is_word_char(c))
                    .map_or(rest.len(), |(p, _)| p)
            } else {
                0
            };
            let word_len = end - i + len;
            i += word_len.max(text[i..].chars().next().map_or(1, char::len_utf8));
            tokens.push(Tok {
                kind: TokKind::Word,
                range: start..i,
            });
        }
    }
    tokens
}

struct StatementSlice {
    range: Range<usize>,
    tokens: Range<usize>,
}

/// Splits on `;` tokens. Trigger, function and procedure bodies written as `BEGIN ... END`
/// (SQLite, MySQL) are kept whole.
fn split_statements(text: &str, tokens: &[Tok]) -> Vec<StatementSlice> {
    let mut out = Vec::new();
    let mut first = 0;
    let mut block_depth = 0usize;
    let mut is_routine = false;
    for (i, tok) in tokens.iter().enumerate() {
        if tok.kind == TokKind::Word {
            let word = &text[tok.range.clone()];
            let is = |keyword: &str| word.eq_ignore_ascii_case(keyword);
            if (is("TRIGGER") || is("FUNCTION") || is("PROCEDURE"))
                && tokens[first].is_word(text, "CREATE")
            {
                is_routine = true;
            } else if (is("BEGIN") || is("CASE")) && is_routine && (block_depth > 0 || is("BEGIN"))
            {
                block_depth += 1;
            } else if is("END") && block_depth > 0 {
                block_depth -= 1;
            }
        }
        if tok.is_punct(b';') && block_depth == 0 {
            if first < i {
                out.push(StatementSlice {
                    range: tokens[first].range.start..tokens[i - 1].range.end,
                    tokens: first..i,
                });
            }
            first = i + 1;
            is_routine = false;
        }
    }
    if first < tokens.len() {
        out.push(StatementSlice {
            range: tokens[first].range.start..tokens[tokens.len() - 1].range.end,
            tokens: first..tokens.len(),
        });
    }
    out
}

const DDL_OBJECTS: &[&str] = &[
    "TABLE",
    "INDEX",
    "VIEW",
    "SCHEMA",
    "DATABASE",
    "SEQUENCE",
    "TYPE",
    "FUNCTION",
    "PROCEDURE",
    "TRIGGER",
    "EXTENSION",
    "ROLE",
    "USER",
    "DOMAIN",
    "POLICY",
];

/// The statement's leading keyword(s): `SELECT`, `INSERT`, `CREATE TABLE`, `PREPARE
/// TRANSACTION`, `XA START`. A `WITH` query is named by its main verb.
fn leading_keywords(text: &str, toks: &[Tok]) -> String {
    let leading = upper_words(text, &toks[..toks.len().min(8)]);
    let words = leading.words();
    let word = |i: usize| words.get(i).copied().unwrap_or("");
    if toks.first().is_some_and(|t| t.is_punct(b'(')) {
        return toks
            .iter()
            .find(|t| t.kind == TokKind::Word)
            .map(|t| t.upper(text))
            .unwrap_or_default();
    }
    match word(0) {
        "PREPARE" if word(1) == "TRANSACTION" => "PREPARE TRANSACTION".to_owned(),
        "COMMIT" | "ROLLBACK" if word(1) == "PREPARED" => format!("{} PREPARED", word(0)),
        "XA" if !word(1).is_empty() => format!("XA {}", word(1)),
        "START" if word(1) == "TRANSACTION" => "START TRANSACTION".to_owned(),
        "CREATE" | "ALTER" | "DROP" => match words.iter().skip(1).find(|w| DDL_OBJECTS.contains(w))
        {
            Some(object) => format!("{} {object}", word(0)),
            None => word(0).to_owned(),
        },
        "WITH" => {
            let mut depth = 0i32;
            for tok in toks {
                match tok.kind {
                    TokKind::Punct(b'(') => depth += 1,
                    TokKind::Punct(b')') => depth -= 1,
                    TokKind::Word if depth == 0 => {
                        let w = tok.upper(text);
                        if matches!(
                            w.as_str(),
                            "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "MERGE"
                        ) {
                            return w;
                        }
                    }
                    _ => {}
                }
            }
            "WITH".to_owned()
        }
        other => other.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Effects: what a statement does when it runs twice.

/// Classifies a statement from its tokens. Every DML part counts (a CTE can hide an `INSERT`
/// behind a `SELECT`); the one that does most harm on a retry wins.
fn statement_effect(text: &str, toks: &[Tok], keyword: &str) -> StatementEffect {
    let first = keyword.split(' ').next().unwrap_or("");
    if matches!(
        first,
        "CREATE" | "ALTER" | "DROP" | "GRANT" | "REVOKE" | "COMMENT" | "TRUNCATE"
    ) {
        return StatementEffect::Other;
    }
    let word = |i: usize| -> &str {
        match toks.get(i) {
            Some(t) if t.kind == TokKind::Word => &text[t.range.clone()],
            _ => "",
        }
    };
    let is = |i: usize, w: &str| word(i).eq_ignore_ascii_case(w);
    let mut worst = match first {
        "SELECT" | "WITH" | "SHOW" | "EXPLAIN" | "VALUES" | "TABLE" | "DESCRIBE" => {
            StatementEffect::Read
        }
        "REPLACE" | "UPSERT" | "MERGE" => StatementEffect::Upsert,
        _ => StatementEffect::Other,
    };
    for i in 0..toks.len() {
        let before = |w: &str| i > 0 && is(i - 1, w);
        let effect = if is(i, "INSERT") && !before("ON") && !before("INSTEAD") {
            insert_effect(text, toks, i)
        } else if is(i, "UPDATE")
            && !before("DO")
            && !before("KEY")
            && !before("FOR")
            && !before("ON")
            && !before("OF")
        {
            match assignments_after_set(text, toks, i + 1) {
                Some(end) => update_effect(text, toks, i, end),
                None => continue,
            }
        } else if is(i, "DELETE") && !before("ON") && is(i + 1, "FROM") {
            StatementEffect::Delete
        } else {
            continue;
        };
        if harm(effect) > harm(worst) {
            worst = effect;
        }
    }
    worst
}

fn harm(effect: StatementEffect) -> u8 {
    match effect {
        StatementEffect::Other => 0,
        StatementEffect::Read => 1,
        StatementEffect::Delete | StatementEffect::AbsoluteUpdate | StatementEffect::Upsert => 2,
        StatementEffect::GuardedUpdate => 3,
        StatementEffect::Insert | StatementEffect::RelativeUpdate => 4,
    }
}

/// The index just past the end of the DML part starting at `start`: the end of the statement,
/// or the `)` closing the CTE it sits in.
fn part_end(toks: &[Tok], start: usize) -> usize {
    let mut depth = 0i32;
    for (i, tok) in toks.iter().enumerate().skip(start) {
        match tok.kind {
            TokKind::Punct(b'(') => depth += 1,
            TokKind::Punct(b')') => {
                depth -= 1;
                if depth < 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

fn insert_effect(text: &str, toks: &[Tok], start: usize) -> StatementEffect {
    let end = part_end(toks, start);
    let part = &toks[start..end];
    let is = |i: usize, w: &str| part.get(i).is_some_and(|t| t.is_word(text, w));
    if is(1, "IGNORE") || is(1, "OR") && (is(2, "IGNORE") || is(2, "REPLACE")) {
        return StatementEffect::Upsert;
    }
    for i in 0..part.len() {
        if is(i, "ON") && (is(i + 1, "CONFLICT") || is(i + 1, "DUPLICATE")) {
            // `ON CONFLICT .. DO UPDATE SET n = t.n + 1` adds again on every retry.
            let update = (i..part.len()).find(|&j| is(j, "UPDATE"));
            if let Some(u) = update {
                if let Some(set_end) = assignments_after_set(text, part, u + 1) {
                    if relative_assignment(text, part, u + 1, set_end) {
                        return StatementEffect::RelativeUpdate;
                    }
                }
                // MySQL: `ON DUPLICATE KEY UPDATE n = n + 1` has no SET.
                if is(u + 1, "SET") || !relative_assignment(text, part, u, part.len()) {
                    return StatementEffect::Upsert;
                }
                return StatementEffect::RelativeUpdate;
            }
            return StatementEffect::Upsert;
        }
        if is(i, "NOT") && is(i + 1, "EXISTS") {
            return StatementEffect::Upsert;
        }
    }
    StatementEffect::Insert
}

/// `INSERT INTO t (a, b) VALUES ..`: adds `a` and `b`.
fn insert_column_list(text: &str, toks: &[Tok], out: &mut Vec<String>) {
    let Some(into) = toks.iter().position(|t| t.is_word(text, "INTO")) else {
        return;
    };
    // The table name (`schema.table`, quoted or not), then the list.
    let mut i = into + 1;
    while toks
        .get(i)
        .is_some_and(|t| matches!(t.kind, TokKind::Word | TokKind::QuotedIdent) || t.is_punct(b'.'))
    {
        i += 1;
    }
    if !toks.get(i).is_some_and(|t| t.is_punct(b'(')) {
        return;
    }
    for tok in &toks[i + 1..] {
        match tok.kind {
            TokKind::Punct(b')') => return,
            TokKind::Word | TokKind::QuotedIdent => out.push(
                text[tok.range.clone()]
                    .trim_matches(['"', '`'])
                    .to_ascii_lowercase(),
            ),
            _ => {}
        }
    }
}

/// The primary key of a `CREATE TABLE`: a column marked `PRIMARY KEY`, or a `PRIMARY KEY
/// (a, b)` table constraint.
fn primary_key(text: &str, toks: &[Tok]) -> Option<crate::model::PrimaryKey> {
    let open = toks.iter().position(|t| t.is_punct(b'('))?;
    // The name before the list: `t`, `schema.t`, quoted or not.
    let mut parts: Vec<(String, bool)> = Vec::new();
    let mut i = open;
    while i > 0 && matches!(toks[i - 1].kind, TokKind::Word | TokKind::QuotedIdent) {
        let tok = &toks[i - 1];
        let quoted = tok.kind == TokKind::QuotedIdent;
        parts.insert(
            0,
            (
                text[tok.range.clone()].trim_matches(['"', '`']).to_owned(),
                quoted,
            ),
        );
        if i >= 2 && toks[i - 2].is_punct(b'.') {
            i -= 2;
        } else {
            break;
        }
    }
    let table = table_name(&parts)?;
    // The elements of the definition, split at top-level commas.
    let mut elements: Vec<&[Tok]> = Vec::new();
    let (mut depth, mut start) = (0i32, open + 1);
    for (i, tok) in toks.iter().enumerate().skip(open + 1) {
        match tok.kind {
            TokKind::Punct(b'(') => depth += 1,
            TokKind::Punct(b')') if depth == 0 => {
                elements.push(&toks[start..i]);
                break;
            }
            TokKind::Punct(b')') => depth -= 1,
            TokKind::Punct(b',') if depth == 0 => {
                elements.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    let word = |t: &Tok| {
        text[t.range.clone()]
            .trim_matches(['"', '`'])
            .to_ascii_lowercase()
    };
    let is = |t: &Tok, w: &str| t.is_word(text, w);
    let marks_generated = |element: &[Tok]| {
        element.iter().any(|t| {
            [
                "DEFAULT",
                "SERIAL",
                "BIGSERIAL",
                "SMALLSERIAL",
                "IDENTITY",
                "AUTO_INCREMENT",
                "AUTOINCREMENT",
            ]
            .iter()
            .any(|w| is(t, w))
        })
    };
    let mut columns: Vec<String> = Vec::new();
    for element in &elements {
        let Some(at) = element
            .windows(2)
            .position(|w| is(&w[0], "PRIMARY") && is(&w[1], "KEY"))
        else {
            continue;
        };
        let first = element.first()?;
        if is(first, "PRIMARY") || is(first, "CONSTRAINT") {
            // `PRIMARY KEY (a, b)`.
            columns = element[at + 2..]
                .iter()
                .filter(|t| matches!(t.kind, TokKind::Word | TokKind::QuotedIdent))
                .map(word)
                .collect();
        } else {
            columns = vec![word(first)];
        }
        break;
    }
    if columns.is_empty() {
        return None;
    }
    let generated = elements.iter().any(|element| {
        element
            .first()
            .is_some_and(|first| columns.contains(&word(first)) && marks_generated(element))
    });
    Some(crate::model::PrimaryKey {
        table,
        columns,
        generated,
    })
}

/// For `UPDATE t SET ...` starting after `UPDATE`: the index past the assignments (at
/// `WHERE`/`FROM`/`RETURNING` or the end of the part), when there is a `SET`.
fn assignments_after_set(text: &str, toks: &[Tok], from: usize) -> Option<usize> {
    let end = part_end(toks, from);
    let set = (from..end.min(from + 8)).find(|&i| toks[i].is_word(text, "SET"))?;
    let mut depth = 0i32;
    for (i, tok) in toks.iter().enumerate().take(end).skip(set + 1) {
        match tok.kind {
            TokKind::Punct(b'(') => depth += 1,
            TokKind::Punct(b')') => depth -= 1,
            TokKind::Word
                if depth == 0
                    && ["WHERE", "FROM", "RETURNING", "ON", "LIMIT", "ORDER"]
                        .iter()
                        .any(|w| tok.is_word(text, w)) =>
            {
                return Some(i);
            }
            _ => {}
        }
    }
    Some(end)
}

fn update_effect(text: &str, toks: &[Tok], update: usize, set_end: usize) -> StatementEffect {
    if !relative_assignment(text, toks, update, set_end) {
        return if compare_and_set(text, toks, update, set_end) {
            StatementEffect::GuardedUpdate
        } else {
            StatementEffect::AbsoluteUpdate
        };
    }
    // An optimistic-lock predicate makes the retry a no-op.
    let end = part_end(toks, set_end);
    let guarded = (set_end..end).any(|i| {
        toks[i].kind == TokKind::Word
            && ["version", "revision", "lock_version", "etag", "row_version"]
                .iter()
                .any(|w| text[toks[i].range.clone()].eq_ignore_ascii_case(w))
            && toks.get(i + 1).is_some_and(|t| t.is_punct(b'='))
    });
    if guarded {
        StatementEffect::GuardedUpdate
    } else {
        StatementEffect::RelativeUpdate
    }
}

/// `UPDATE payments SET status = 'refunded' WHERE id = $1 AND status = 'succeeded'`: the
/// `WHERE` tests a column the update sets, so only the first run changes the row (a state
/// transition, `processed_at IS NULL`); the rows it affects tell a retry it was already done.
fn compare_and_set(text: &str, toks: &[Tok], update: usize, set_end: usize) -> bool {
    let columns = assigned_columns(text, toks, update, set_end);
    if columns.is_empty() {
        return false;
    }
    let name = |t: &Tok| text[t.range.clone()].trim_matches(['"', '`']).to_owned();
    let end = part_end(toks, set_end);
    let Some(at) = (set_end..end).find(|&i| toks[i].is_word(text, "WHERE")) else {
        return false;
    };
    (at + 1..end)
        .take_while(|&i| {
            !["RETURNING", "ORDER", "LIMIT"]
                .iter()
                .any(|w| toks[i].is_word(text, w))
        })
        .any(|i| {
            matches!(toks[i].kind, TokKind::Word | TokKind::QuotedIdent)
                && !toks.get(i + 1).is_some_and(|t| t.is_punct(b'.'))
                && columns
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(&name(&toks[i])))
        })
}

/// The columns `UPDATE .. SET a = .., b = ..` assigns (from the `UPDATE` at `update` to
/// `set_end`), lower case.
fn assigned_columns(text: &str, toks: &[Tok], update: usize, set_end: usize) -> Vec<String> {
    let Some(set) = (update..set_end).find(|&i| toks[i].is_word(text, "SET")) else {
        return Vec::new();
    };
    let mut columns = Vec::new();
    let mut depth = 0i32;
    let mut expect_column = true;
    for i in set + 1..set_end {
        match toks[i].kind {
            TokKind::Punct(b'(') => depth += 1,
            TokKind::Punct(b')') => depth -= 1,
            TokKind::Punct(b',') if depth == 0 => expect_column = true,
            TokKind::Punct(b'=') if depth == 0 && expect_column => {
                let column = &toks[i - 1];
                if matches!(column.kind, TokKind::Word | TokKind::QuotedIdent) {
                    columns.push(column_name(text, column));
                }
                expect_column = false;
            }
            _ => {}
        }
    }
    columns
}

fn column_name(text: &str, tok: &Tok) -> String {
    text[tok.range.clone()]
        .trim_matches(['"', '`'])
        .to_ascii_lowercase()
}

/// The columns a `SELECT`'s `WHERE` compares with a constant: `status = 'pending'`,
/// `released = false`, `attempts = 0`, `processed_at IS NULL`. A bound parameter (`= $1`)
/// or an ordering (`expires_at <= now()`) tests no particular state.
fn state_tests(text: &str, toks: &[Tok], out: &mut Vec<String>) {
    if always_one_row(text, toks) {
        return;
    }
    let mut depth = 0i32;
    let mut in_where = false;
    for (i, tok) in toks.iter().enumerate() {
        match tok.kind {
            TokKind::Punct(b'(') => depth += 1,
            TokKind::Punct(b')') => depth -= 1,
            TokKind::Word if depth == 0 => {
                if tok.is_word(text, "WHERE") {
                    in_where = true;
                } else if tok.is_one_of(
                    text,
                    &[
                        "ORDER", "GROUP", "LIMIT", "FOR", "HAVING", "UNION", "OFFSET",
                    ],
                ) {
                    in_where = false;
                }
            }
            _ => {}
        }
        if !in_where || !matches!(tok.kind, TokKind::Word | TokKind::QuotedIdent) {
            continue;
        }
        let constant = |t: Option<&Tok>| {
            t.is_some_and(|t| match t.kind {
                TokKind::Str => true,
                TokKind::Number => !text[t.range.clone()].starts_with('$'),
                TokKind::Word => t.is_one_of(text, &["TRUE", "FALSE", "NULL"]),
                _ => false,
            })
        };
        let next = toks.get(i + 1);
        let compared = next.is_some_and(|t| t.is_punct(b'=')) && constant(toks.get(i + 2));
        let is_test = next.is_some_and(|t| t.is_word(text, "IS")) && {
            let at = if toks.get(i + 2).is_some_and(|t| t.is_word(text, "NOT")) {
                i + 3
            } else {
                i + 2
            };
            constant(toks.get(at))
        };
        let keyword = tok.is_one_of(text, &["AND", "OR", "NOT", "WHERE"]);
        if (compared || is_test) && !keyword {
            let column = column_name(text, tok);
            if !out.contains(&column) {
                out.push(column);
            }
        }
    }
}

/// `SELECT SUM(..) FROM .. WHERE ..` with no `GROUP BY`: an aggregate answers one row whatever
/// matches, so the columns it tests decide nothing about whether a row is found.
fn always_one_row(text: &str, toks: &[Tok]) -> bool {
    let mut depth = 0i32;
    let mut projection_starts = None;
    let mut aggregate_first = false;
    for (i, tok) in toks.iter().enumerate() {
        match tok.kind {
            TokKind::Punct(b'(') => depth += 1,
            TokKind::Punct(b')') => depth -= 1,
            TokKind::Word if depth == 0 => {
                if projection_starts.is_none() && tok.is_word(text, "SELECT") {
                    projection_starts = Some(i + 1);
                    aggregate_first = toks
                        .get(i + 1)
                        .is_some_and(|t| t.is_one_of(text, &["SUM", "COUNT", "AVG", "MIN", "MAX"]))
                        && toks.get(i + 2).is_some_and(|t| t.is_punct(b'('));
                } else if tok.is_word(text, "GROUP") {
                    return false;
                }
            }
            _ => {}
        }
    }
    aggregate_first
}

/// True when an assignment in `toks[from..end]` computes a column from its own value
/// (`qty = qty - 1`, `tags = array_append(tags, 'x')`, `total = t.total + $1`).
fn relative_assignment(text: &str, toks: &[Tok], from: usize, end: usize) -> bool {
    let set = (from..end).find(|&i| toks[i].is_word(text, "SET"));
    let mut i = set.map_or(from + 1, |s| s + 1);
    while i < end {
        // `column =` (or `t.column =`), then the value up to the next top-level comma.
        let Some(eq) = (i..end).find(|&j| toks[j].is_punct(b'=')) else {
            return false;
        };
        let column = toks[..eq]
            .iter()
            .rev()
            .find(|t| matches!(t.kind, TokKind::Word | TokKind::QuotedIdent));
        let column = column.map(|t| text[t.range.clone()].trim_matches(['"', '`']));
        let mut depth = 0i32;
        let mut j = eq + 1;
        let mut mentions_self = false;
        let mut arithmetic = false;
        while j < end {
            let tok = &toks[j];
            match tok.kind {
                TokKind::Punct(b'(') => depth += 1,
                TokKind::Punct(b')') => depth -= 1,
                TokKind::Punct(b',') if depth == 0 => break,
                TokKind::Punct(b'+' | b'-' | b'*' | b'/' | b'|') => arithmetic = true,
                TokKind::Word | TokKind::QuotedIdent => {
                    let value = text[tok.range.clone()].trim_matches(['"', '`']);
                    if column.is_some_and(|c| c.eq_ignore_ascii_case(value))
                        && !toks.get(j + 1).is_some_and(|t| t.is_punct(b'.'))
                    {
                        mentions_self = true;
                    }
                    if [
                        "array_append",
                        "array_prepend",
                        "array_cat",
                        "concat",
                        "jsonb_insert",
                    ]
                    .iter()
                    .any(|f| value.eq_ignore_ascii_case(f))
                    {
                        arithmetic = true;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        if mentions_self && arithmetic {
            return true;
        }
        i = j + 1;
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Names.

fn normalise_ident(value: &str, quoted: bool) -> String {
    if quoted {
        value.to_owned()
    } else {
        value.to_lowercase()
    }
}

fn table_name(parts: &[(String, bool)]) -> Option<TableName> {
    let (name, name_quoted) = parts.last()?;
    if name.is_empty() {
        return None;
    }
    let schema = parts
        .len()
        .checked_sub(2)
        .map(|i| normalise_ident(&parts[i].0, parts[i].1));
    let schema = schema.filter(|s| !matches!(s.as_str(), "public" | "dbo" | "main"));
    Some(TableName {
        schema,
        name: normalise_ident(name, *name_quoted),
    })
}

fn object_parts(name: &ObjectName) -> Option<Vec<(String, bool)>> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => {
                Some((ident.value.clone(), ident.quote_style.is_some()))
            }
            ObjectNamePart::Function(_) => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// AST collection.

struct Collector<'a> {
    text: &'a str,
    index: &'a LineIndex,
    /// Names with a known access, by their start offset.
    explicit: Vec<(ObjectName, Access)>,
    relations: Vec<ObjectName>,
    function_tables: HashSet<Option<usize>>,
    ctes: HashSet<String>,
}

impl<'a> Collector<'a> {
    fn new(text: &'a str, index: &'a LineIndex) -> Self {
        Self {
            text,
            index,
            explicit: Vec::new(),
            relations: Vec::new(),
            function_tables: HashSet::new(),
            ctes: HashSet::new(),
        }
    }

    fn mark(&mut self, name: &ObjectName, access: Access) {
        self.explicit.push((name.clone(), access));
    }

    fn mark_factor(&mut self, factor: &TableFactor, access: Access) {
        if let TableFactor::Table {
            name, args: None, ..
        } = factor
        {
            self.mark(name, access);
        }
    }

    fn mark_foreign_keys(&mut self, constraints: &[TableConstraint], options: &[&ColumnOption]) {
        for constraint in constraints {
            if let TableConstraint::ForeignKey(fk) = constraint {
                self.mark(&fk.foreign_table, Access::Read);
            }
        }
        for option in options {
            if let ColumnOption::ForeignKey(fk) = option {
                self.mark(&fk.foreign_table, Access::Read);
            }
        }
    }

    fn collect(&mut self, stmt: &Statement) {
        // Nested statements (trigger bodies, data-modifying CTEs) are marked as they are visited.
        let _ = stmt.visit(self);
    }

    /// Marks the tables a statement writes, creates, alters or drops.
    fn mark_targets(&mut self, stmt: &Statement) {
        match stmt {
            Statement::Insert(insert) => {
                if let TableObject::TableName(name) = &insert.table {
                    self.mark(name, Access::Write);
                }
            }
            Statement::Update(update) => self.mark_factor(&update.table.relation, Access::Write),
            Statement::Delete(delete) => {
                let from = match &delete.from {
                    FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
                };
                if delete.tables.is_empty() {
                    for twj in from {
                        self.mark_factor(&twj.relation, Access::Write);
                    }
                } else {
                    // MySQL multi-table form: `DELETE t1 FROM t1 JOIN t2 ...`.
                    let targets: HashSet<String> = delete
                        .tables
                        .iter()
                        .filter_map(|n| object_parts(n)?.last().map(|p| normalise_ident(&p.0, p.1)))
                        .collect();
                    let factors = from.iter().flat_map(|twj| {
                        std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation))
                    });
                    for factor in factors {
                        if let TableFactor::Table { name, alias, .. } = factor {
                            let own = object_parts(name)
                                .and_then(|p| p.last().map(|p| normalise_ident(&p.0, p.1)))
                                .is_some_and(|n| targets.contains(&n));
                            let by_alias = alias.as_ref().is_some_and(|a| {
                                targets.contains(&normalise_ident(
                                    &a.name.value,
                                    a.name.quote_style.is_some(),
                                ))
                            });
                            if own || by_alias {
                                self.mark(name, Access::Write);
                            }
                        }
                    }
                }
            }
            Statement::Merge(merge) => self.mark_factor(&merge.table, Access::Write),
            Statement::Truncate(truncate) => {
                for target in &truncate.table_names {
                    self.mark(&target.name, Access::Write);
                }
            }
            Statement::CreateTable(create) => {
                self.mark(&create.name, Access::Create);
                let options: Vec<&ColumnOption> = create
                    .columns
                    .iter()
                    .flat_map(|c| c.options.iter().map(|o| &o.option))
                    .collect();
                self.mark_foreign_keys(&create.constraints, &options);
            }
            Statement::CreateView(view) => self.mark(&view.name, Access::Create),
            Statement::CreateVirtualTable { name, .. } => self.mark(name, Access::Create),
            Statement::AlterTable(alter) => {
                self.mark(&alter.name, Access::Alter);
                for operation in &alter.operations {
                    match operation {
                        AlterTableOperation::RenameTable { table_name } => {
                            let (RenameTableNameKind::As(name) | RenameTableNameKind::To(name)) =
                                table_name;
                            self.mark(name, Access::Create);
                        }
                        AlterTableOperation::AddConstraint { constraint, .. } => {
                            self.mark_foreign_keys(std::slice::from_ref(constraint), &[]);
                        }
                        AlterTableOperation::AddColumn { column_def, .. } => {
                            let options: Vec<&ColumnOption> =
                                column_def.options.iter().map(|o| &o.option).collect();
                            self.mark_foreign_keys(&[], &options);
                        }
                        _ => {}
                    }
                }
            }
            Statement::CreateIndex(index) => self.mark(&index.table_name, Access::Alter),
            // Taking a table lock is done to write it.
            Statement::Lock(lock) => {
                for target in &lock.tables {
                    self.mark(&target.name, Access::Write);
                }
            }
            Statement::CreateTrigger(trigger) => self.mark(&trigger.table_name, Access::Alter),
            Statement::CreatePolicy(policy) => self.mark(&policy.table_name, Access::Alter),
            Statement::Drop {
                object_type: ObjectType::Table | ObjectType::View | ObjectType::MaterializedView,
                names,
                ..
            } => {
                for name in names {
                    self.mark(name, Access::Drop);
                }
            }
            Statement::RenameTable(renames) => {
                for rename in renames {
                    self.mark(&rename.old_name, Access::Alter);
                    self.mark(&rename.new_name, Access::Create);
                }
            }
            Statement::Copy {
                source: CopySource::Table { table_name, .. },
                to,
                ..
            } => self.mark(table_name, if *to { Access::Read } else { Access::Write }),
            _ => {}
        }
    }

    /// Byte range (in the statement text) of a dotted name, from sqlparser's token spans.
    fn range_of(&self, name: &ObjectName) -> Option<Range<usize>> {
        let first = name.0.first()?.as_ident()?;
        let last = name.0.last()?.as_ident()?;
        if first.span.start.line == 0 || last.span.end.line == 0 {
            return None;
        }
        let start = self.index.offset(
            self.text,
            first.span.start.line as usize,
            (first.span.start.column as usize).saturating_sub(1),
        );
        let end = self.index.offset(
            self.text,
            last.span.end.line as usize,
            (last.span.end.column as usize).saturating_sub(1),
        );
        (start < end).then_some(start..end)
    }

    fn finish(self, text: &str, toks: &[Tok], base: usize) -> Vec<SqlTable> {
        let mut out: Vec<SqlTable> = Vec::new();
        let mut seen = HashSet::new();
        let mut push = |this: &Self, name: &ObjectName, access: Access, out: &mut Vec<SqlTable>| {
            let Some(parts) = object_parts(name) else {
                return;
            };
            let Some(table) = table_name(&parts) else {
                return;
            };
            let range = this
                .range_of(name)
                .or_else(|| find_name(text, toks, base, &parts, out))
                .unwrap_or(0..0);
            if seen.insert((range.start, access)) {
                out.push(SqlTable {
                    table,
                    access,
                    range,
                });
            }
        };
        let explicit_starts: HashSet<Option<usize>> = self
            .explicit
            .iter()
            .map(|(n, _)| self.range_of(n).map(|r| r.start))
            .collect();
        for (name, access) in &self.explicit {
            push(&self, name, *access, &mut out);
        }
        for name in &self.relations {
            let start = self.range_of(name).map(|r| r.start);
            if start.is_some() && explicit_starts.contains(&start) {
                continue;
            }
            if self.explicit.iter().any(|(n, _)| n == name) && start.is_none() {
                continue;
            }
            if start.is_some() && self.function_tables.contains(&start) {
                continue;
            }
            let is_cte = name.0.len() == 1
                && object_parts(name)
                    .and_then(|p| p.first().map(|p| normalise_ident(&p.0, p.1)))
                    .is_some_and(|n| self.ctes.contains(&n));
            if is_cte {
                continue;
            }
            push(&self, name, Access::Read, &mut out);
        }
        out
    }
}

impl Visitor for Collector<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(normalise_ident(
                    &cte.alias.name.value,
                    cte.alias.name.quote_style.is_some(),
                ));
            }
        }
        // Data-modifying statements nested as query bodies (`WITH .. INSERT`, CTEs that delete).
        if let SetExpr::Insert(stmt)
        | SetExpr::Update(stmt)
        | SetExpr::Delete(stmt)
        | SetExpr::Merge(stmt) = query.body.as_ref()
        {
            self.mark_targets(stmt);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        self.mark_targets(statement);
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        self.relations.push(relation.clone());
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        // `FROM generate_series(1, 10)`, `FROM unnest($1)`: functions, not tables.
        if let TableFactor::Table {
            name,
            args: Some(_),
            ..
        } = factor
        {
            let start = self.range_of(name).map(|r| r.start);
            self.function_tables.insert(start);
        }
        ControlFlow::Continue(())
    }
}

/// Finds a name in the statement's tokens when sqlparser gave it no span.
fn find_name(
    text: &str,
    toks: &[Tok],
    base: usize,
    parts: &[(String, bool)],
    taken: &[SqlTable],
) -> Option<Range<usize>> {
    let (last, quoted) = parts.last()?;
    let wanted = normalise_ident(last, *quoted);
    toks.iter()
        .filter(|t| matches!(t.kind, TokKind::Word | TokKind::QuotedIdent))
        .map(|t| (t, ident_value(text, t)))
        .find(|(t, (value, q))| {
            normalise_ident(value, *q) == wanted
                && !taken.iter().any(|s| s.range.end == t.range.end - base)
        })
        .map(|(t, _)| t.range.start - base..t.range.end - base)
}

fn ident_value(text: &str, tok: &Tok) -> (String, bool) {
    let raw = &text[tok.range.clone()];
    if tok.kind == TokKind::QuotedIdent && raw.len() >= 2 {
        let quote = &raw[..1];
        let inner = &raw[1..];
        let inner = inner.strip_suffix(quote).unwrap_or(inner);
        (inner.replace(&quote.repeat(2), quote), true)
    } else {
        (raw.to_owned(), false)
    }
}

// ---------------------------------------------------------------------------------------------
// Fallback keyword scan.

/// Words that cannot be a table name right after FROM/JOIN/INTO/UPDATE/TABLE.
const NOT_A_TABLE: &[&str] = &[
    "SELECT",
    "WHERE",
    "SET",
    "VALUES",
    "VALUE",
    "LATERAL",
    "DEFAULT",
    "AS",
    "ON",
    "USING",
    "GROUP",
    "ORDER",
    "LIMIT",
    "HAVING",
    "UNION",
    "RETURNING",
    "WHEN",
    "THEN",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "OF",
    "NOWAIT",
    "SKIP",
    "WITH",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "NATURAL",
    "JOIN",
    "OUTER",
    "FOR",
    "WINDOW",
    "OFFSET",
    "FETCH",
    "STDIN",
    "STDOUT",
    "INTO",
    "FROM",
    "TABLE",
    "EXISTS",
    "IF",
];

/// Functions whose arguments use FROM without naming a table (`EXTRACT(YEAR FROM ts)`).
const FROM_FUNCTIONS: &[&str] = &[
    "EXTRACT",
    "SUBSTRING",
    "TRIM",
    "OVERLAY",
    "POSITION",
    "SUBSTR",
];

fn scan_tables(text: &str, toks: &[Tok]) -> Vec<SqlTable> {
    let mut out = Vec::new();
    let words = upper_words(text, toks);
    let words = words.words();
    let w = |i: usize| words.get(i).copied().unwrap_or("");
    // CTE names: `WITH name AS (`, `, name AS (`.
    let mut ctes = HashSet::new();
    for i in 0..toks.len() {
        if w(i + 1) == "AS" && toks.get(i + 2).is_some_and(|t| t.is_punct(b'(')) {
            let prev_is_with =
                w(i.wrapping_sub(1)) == "WITH" || w(i.wrapping_sub(1)) == "RECURSIVE";
            let prev_is_comma = i > 0 && toks[i - 1].is_punct(b',');
            if prev_is_with || prev_is_comma {
                let (value, quoted) = ident_value(text, &toks[i]);
                ctes.insert(normalise_ident(&value, quoted));
            }
        }
    }
    let statement = w(0).to_owned();
    // Paren stack: whether each open paren belongs to a FROM-using function.
    let mut parens: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let tok = &toks[i];
        match tok.kind {
            TokKind::Punct(b'(') => {
                let is_fn = i > 0 && FROM_FUNCTIONS.contains(&w(i - 1));
                parens.push(is_fn);
            }
            TokKind::Punct(b')') => {
                parens.pop();
            }
            _ => {}
        }
        let inside_fn = parens.last().copied().unwrap_or(false);
        let word = w(i);
        let prev = if i > 0 { w(i - 1) } else { "" };
        let take = |at: usize, access: Access, list: bool, out: &mut Vec<SqlTable>| -> usize {
            scan_name_list(text, toks, at, access, list, &ctes, out)
        };
        let next = match word {
            "FROM" if !inside_fn && prev != "DISTINCT" => {
                let access = if statement == "DELETE"
                    && !out.iter().any(|t: &SqlTable| t.access == Access::Write)
                {
                    Access::Write
                } else {
                    Access::Read
                };
                take(i + 1, access, true, &mut out)
            }
            "JOIN" | "USING" if !inside_fn => take(i + 1, Access::Read, false, &mut out),
            "REFERENCES" => take(i + 1, Access::Read, false, &mut out),
            "INTO" if prev != "SELECT" => take(i + 1, Access::Write, false, &mut out),
            "UPDATE"
                if !matches!(prev, "FOR" | "DO" | "KEY" | "NO" | "ON") && statement != "CREATE" =>
            {
                take(i + 1, Access::Write, false, &mut out)
            }
            "TRUNCATE" => take(i + 1, Access::Write, true, &mut out),
            "TABLE" => {
                let access = match statement.as_str() {
                    "CREATE" => Some(Access::Create),
                    "ALTER" => Some(Access::Alter),
                    "DROP" => Some(Access::Drop),
                    "TRUNCATE" | "LOCK" => Some(Access::Write),
                    _ => None,
                };
                match access {
                    Some(access) if i <= 8 => take(i + 1, access, access == Access::Drop, &mut out),
                    _ => i + 1,
                }
            }
            "ON" if statement == "CREATE"
                && (words
                    .iter()
                    .take(i)
                    .any(|w| matches!(*w, "INDEX" | "TRIGGER" | "POLICY"))) =>
            {
                take(i + 1, Access::Alter, false, &mut out)
            }
            _ => i + 1,
        };
        i = next.max(i + 1);
    }
    out
}

/// Tables named by the statements of dollar-quoted routine bodies (PL/pgSQL), which sqlparser
/// keeps as opaque strings.
fn scan_routine_bodies(text: &str, toks: &[Tok]) -> Vec<SqlTable> {
    let mut out = Vec::new();
    for tok in toks.iter().filter(|t| t.kind == TokKind::Str) {
        let quoted = &text[tok.range.clone()];
        if !quoted.starts_with('$') {
            continue;
        }
        let Some(tag_len) = quoted[1..].find('$').map(|p| p + 2) else {
            continue;
        };
        // Unterminated bodies run to the end of the text; they are not scanned.
        if quoted.len() < 2 * tag_len || !quoted.ends_with(&quoted[..tag_len]) {
            continue;
        }
        let body_start = tok.range.start + tag_len;
        let body = &text[body_start..tok.range.end - tag_len];
        let body_toks = lex(body);
        for statement in split_statements(body, &body_toks) {
            for mut found in scan_tables(body, &body_toks[statement.tokens]) {
                found.range = found.range.start + body_start..found.range.end + body_start;
                out.push(found);
            }
        }
    }
    out
}

/// Reads `[ONLY] [IF [NOT] EXISTS] name [[AS] alias] [, name ...]` from `at`; returns the next
/// token index to scan.
fn scan_name_list(
    text: &str,
    toks: &[Tok],
    mut at: usize,
    access: Access,
    list: bool,
    ctes: &HashSet<String>,
    out: &mut Vec<SqlTable>,
) -> usize {
    let skip = [
        "ONLY",
        "IF",
        "NOT",
        "EXISTS",
        "TABLE",
        "LOW_PRIORITY",
        "IGNORE",
        "QUICK",
        "CONCURRENTLY",
    ];
    loop {
        while toks
            .get(at)
            .is_some_and(|t| skip.iter().any(|s| t.is_word(text, s)))
        {
            at += 1;
        }
        let Some((parts, range, next)) = read_dotted(text, toks, at) else {
            return at;
        };
        at = next;
        if let Some(table) = table_name(&parts) {
            let is_cte = parts.len() == 1 && ctes.contains(&table.name);
            if !is_cte {
                out.push(SqlTable {
                    table,
                    access,
                    range,
                });
            }
        }
        if !list {
            return at;
        }
        // Optional alias, then a comma continues the list.
        if toks.get(at).is_some_and(|t| t.is_word(text, "AS")) {
            at += 1;
        }
        if toks
            .get(at)
            .is_some_and(|t| t.kind == TokKind::Word && !t.is_one_of(text, NOT_A_TABLE))
        {
            at += 1;
        }
        if toks.get(at).is_some_and(|t| t.is_punct(b',')) {
            at += 1;
        } else {
            return at;
        }
    }
}

type Dotted = (Vec<(String, bool)>, Range<usize>, usize);

fn read_dotted(text: &str, toks: &[Tok], mut at: usize) -> Option<Dotted> {
    let mut parts = Vec::new();
    let start = toks.get(at)?.range.start;
    let mut end;
    loop {
        let tok = toks.get(at)?;
        match tok.kind {
            TokKind::Word if parts.is_empty() && tok.is_one_of(text, NOT_A_TABLE) => return None,
            TokKind::Word | TokKind::QuotedIdent => {
                parts.push(ident_value(text, tok));
                end = tok.range.end;
                at += 1;
            }
            _ => return None,
        }
        let dot_then_name = toks.get(at).is_some_and(|t| t.is_punct(b'.'))
            && toks
                .get(at + 1)
                .is_some_and(|t| matches!(t.kind, TokKind::Word | TokKind::QuotedIdent));
        if dot_then_name {
            at += 1;
        } else {
            break;
        }
    }
    Some((parts, start..end, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(sql: &str, dialect: SqlDialect) -> Vec<(String, Access, String)> {
        analyze(sql, dialect)
            .tables
            .into_iter()
            .map(|t| (t.table.to_string(), t.access, sql[t.range].to_owned()))
            .collect()
    }

    fn pg(sql: &str) -> Vec<(String, Access, String)> {
        tables(sql, SqlDialect::Postgres)
    }

    fn t(name: &str, access: Access, text: &str) -> (String, Access, String) {
        (name.to_owned(), access, text.to_owned())
    }

    #[test]
    fn select_with_join_and_schema() {
        assert_eq!(
            pg("SELECT o.id FROM public.orders o JOIN billing.Invoices i ON i.order_id = o.id"),
            vec![
                t("orders", Access::Read, "public.orders"),
                t("billing.invoices", Access::Read, "billing.Invoices")
            ]
        );
    }

    #[test]
    fn quoted_names_keep_case() {
        assert_eq!(
            pg(r#"SELECT * FROM "Orders""#),
            vec![t("Orders", Access::Read, r#""Orders""#)]
        );
    }

    #[test]
    fn cte_names_are_not_tables() {
        let sql = "WITH recent AS (SELECT * FROM orders WHERE created_at > $1) SELECT * FROM recent JOIN users u ON true";
        assert_eq!(
            pg(sql),
            vec![
                t("orders", Access::Read, "orders"),
                t("users", Access::Read, "users")
            ]
        );
        assert_eq!(
            analyze(sql, SqlDialect::Postgres).statements,
            vec!["SELECT"]
        );
    }

    #[test]
    fn insert_select_writes_target_reads_source() {
        assert_eq!(
            pg("INSERT INTO archive (id) SELECT id FROM orders WHERE id IN (SELECT order_id FROM refunds)"),
            vec![
                t("archive", Access::Write, "archive"),
                t("orders", Access::Read, "orders"),
                t("refunds", Access::Read, "refunds")
            ]
        );
    }

    #[test]
    fn update_from_and_delete_using() {
        assert_eq!(
            pg("UPDATE orders SET total = p.amount FROM payments p WHERE p.order_id = orders.id"),
            vec![
                t("orders", Access::Write, "orders"),
                t("payments", Access::Read, "payments")
            ]
        );
        assert_eq!(
            pg("DELETE FROM sessions s USING users u WHERE s.user_id = u.id"),
            vec![
                t("sessions", Access::Write, "sessions"),
                t("users", Access::Read, "users")
            ]
        );
    }

    #[test]
    fn merge_and_cte_with_insert() {
        assert_eq!(
            pg("MERGE INTO stock s USING deliveries d ON s.sku = d.sku WHEN MATCHED THEN UPDATE SET qty = s.qty + d.qty"),
            vec![t("stock", Access::Write, "stock"), t("deliveries", Access::Read, "deliveries")]
        );
        let sql = "WITH moved AS (DELETE FROM outbox RETURNING *) INSERT INTO outbox_archive SELECT * FROM moved";
        let found = pg(sql);
        assert!(
            found.contains(&t("outbox", Access::Write, "outbox")),
            "{found:?}"
        );
        assert!(
            found.contains(&t("outbox_archive", Access::Write, "outbox_archive")),
            "{found:?}"
        );
        assert!(!found.iter().any(|f| f.0 == "moved"), "{found:?}");
        assert_eq!(
            analyze(sql, SqlDialect::Postgres).statements,
            vec!["INSERT"]
        );
    }

    #[test]
    fn ddl_statements() {
        let sql = "CREATE TABLE IF NOT EXISTS orders (id BIGINT PRIMARY KEY, user_id BIGINT REFERENCES users(id));\n\
                   ALTER TABLE orders ADD COLUMN note TEXT;\n\
                   CREATE UNIQUE INDEX orders_user ON orders (user_id);\n\
                   DROP TABLE IF EXISTS legacy_orders, old_carts;";
        let analysis = analyze(sql, SqlDialect::Postgres);
        assert_eq!(
            analysis.statements,
            vec!["CREATE TABLE", "ALTER TABLE", "CREATE INDEX", "DROP TABLE"]
        );
        assert!(analysis.parse_error.is_none());
        let found = pg(sql);
        assert_eq!(
            found,
            vec![
                t("orders", Access::Create, "orders"),
                t("users", Access::Read, "users"),
                t("orders", Access::Alter, "orders"),
                t("orders", Access::Alter, "orders"),
                t("legacy_orders", Access::Drop, "legacy_orders"),
                t("old_carts", Access::Drop, "old_carts"),
            ]
        );
    }

    #[test]
    fn ranges_point_at_names_on_later_lines() {
        let sql = "SELECT *\n  FROM  \"Sales\".orders\nWHERE x = 1;\nSELECT 1 FROM é_table";
        let found = pg(sql);
        assert_eq!(
            found,
            vec![
                t("Sales.orders", Access::Read, "\"Sales\".orders"),
                t("é_table", Access::Read, "é_table")
            ]
        );
    }

    #[test]
    fn table_functions_are_not_tables() {
        assert_eq!(
            pg("SELECT * FROM generate_series(1, 10) g JOIN t ON true"),
            vec![t("t", Access::Read, "t")]
        );
    }

    #[test]
    fn two_phase_commit_statements_are_recorded_without_error() {
        let analysis = analyze(
            "PREPARE TRANSACTION 'tx-1'; COMMIT PREPARED 'tx-1'",
            SqlDialect::Postgres,
        );
        assert_eq!(
            analysis.statements,
            vec!["PREPARE TRANSACTION", "COMMIT PREPARED"]
        );
        assert!(analysis.parse_error.is_none());
        let analysis = analyze(
            "XA START 'x'; UPDATE a SET b = 1; XA END 'x'",
            SqlDialect::MySql,
        );
        assert_eq!(analysis.statements, vec!["XA START", "UPDATE", "XA END"]);
        assert_eq!(analysis.tables.len(), 1);
    }

    #[test]
    fn one_bad_statement_does_not_lose_the_others() {
        let sql =
            "SELECT * FROM good; SELEC broken FROM nowhere WHERE; INSERT INTO audit VALUES (1)";
        let analysis = analyze(sql, SqlDialect::Postgres);
        assert!(analysis.parse_error.is_some());
        assert_eq!(analysis.certainty(), Certainty::Unknown);
        let names: Vec<String> = analysis
            .tables
            .iter()
            .map(|t| t.table.to_string())
            .collect();
        assert_eq!(names, vec!["good", "nowhere", "audit"]);
    }

    #[test]
    fn fallback_scan_reads_keywords() {
        let found = scan_tables_of(
            "INSERT INTO orders (id) SELECT id FROM carts c, wishlists w JOIN users u ON u.id = c.user_id \
             ON CONFLICT (id) DO UPDATE SET id = excluded.id RETURNING EXTRACT(YEAR FROM now())",
        );
        assert_eq!(
            found,
            vec![
                ("orders".to_owned(), Access::Write),
                ("carts".to_owned(), Access::Read),
                ("wishlists".to_owned(), Access::Read),
                ("users".to_owned(), Access::Read)
            ]
        );
        assert_eq!(
            scan_tables_of("CREATE TABLE IF NOT EXISTS app.jobs (id int)"),
            vec![("app.jobs".to_owned(), Access::Create)]
        );
        assert_eq!(
            scan_tables_of("DELETE FROM jobs WHERE id IN (SELECT id FROM dead)"),
            vec![
                ("jobs".to_owned(), Access::Write),
                ("dead".to_owned(), Access::Read)
            ]
        );
    }

    fn scan_tables_of(sql: &str) -> Vec<(String, Access)> {
        let toks = lex(sql);
        scan_tables(sql, &toks)
            .into_iter()
            .map(|t| (t.table.to_string(), t.access))
            .collect()
    }

    #[test]
    fn placeholders_and_template_holes() {
        assert_eq!(
            tables(
                "SELECT * FROM users WHERE id = ? AND name = :name",
                SqlDialect::MySql
            ),
            vec![t("users", Access::Read, "users")]
        );
        assert_eq!(
            pg("SELECT * FROM {}.orders WHERE id = {id} AND note = '{}'"),
            vec![t("orders", Access::Read, "{}.orders")]
        );
        // A table that is itself a hole is not known statically.
        assert_eq!(pg("SELECT * FROM {table} WHERE id = $1"), vec![]);
        assert_eq!(pg("SELECT * FROM events_{} WHERE id = $1"), vec![]);
        assert_eq!(
            pg("SELECT '{{}}'::jsonb FROM t"),
            vec![t("t", Access::Read, "t")]
        );
    }

    #[test]
    fn semicolons_inside_quotes_and_dollar_bodies_do_not_split() {
        let sql = "INSERT INTO logs VALUES ('a;b'); CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN INSERT INTO audit VALUES (1); RETURN NEW; END $$ LANGUAGE plpgsql; SELECT 1 -- ; not here\n FROM x";
        let analysis = analyze(sql, SqlDialect::Postgres);
        assert_eq!(
            analysis.statements,
            vec!["INSERT", "CREATE FUNCTION", "SELECT"]
        );
    }

    #[test]
    fn sqlite_trigger_body_stays_one_statement() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON orders BEGIN UPDATE stats SET n = n + 1; END; SELECT 1";
        let analysis = analyze(sql, SqlDialect::Sqlite);
        assert_eq!(analysis.statements, vec!["CREATE TRIGGER", "SELECT"]);
        assert_eq!(
            tables(sql, SqlDialect::Sqlite),
            vec![
                t("orders", Access::Alter, "orders"),
                t("stats", Access::Write, "stats")
            ]
        );
    }

    #[test]
    fn copy_truncate_rename() {
        assert_eq!(
            pg("TRUNCATE TABLE a, b"),
            vec![t("a", Access::Write, "a"), t("b", Access::Write, "b")]
        );
        assert_eq!(
            pg("ALTER TABLE old_name RENAME TO new_name"),
            vec![
                t("old_name", Access::Alter, "old_name"),
                t("new_name", Access::Create, "new_name")
            ]
        );
    }

    #[test]
    fn dialect_specific_writes() {
        let my = |sql: &str| tables(sql, SqlDialect::MySql);
        assert_eq!(
            my("INSERT IGNORE INTO `events` (id) VALUES (:id) ON DUPLICATE KEY UPDATE id = id"),
            vec![t("events", Access::Write, "`events`")]
        );
        assert_eq!(
            my("REPLACE INTO shop.stock (sku) VALUES (?)"),
            vec![t("shop.stock", Access::Write, "shop.stock")]
        );
        assert_eq!(
            my("DELETE o FROM orders o JOIN carts c ON c.id = o.cart_id"),
            vec![
                t("orders", Access::Write, "orders"),
                t("carts", Access::Read, "carts")
            ]
        );
        assert_eq!(
            tables(
                "INSERT OR IGNORE INTO seen (id) VALUES (?1)",
                SqlDialect::Sqlite
            ),
            vec![t("seen", Access::Write, "seen")]
        );
        assert_eq!(
            pg("SELECT id FROM jobs WHERE state = 'new' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 10"),
            vec![t("jobs", Access::Read, "jobs")]
        );
        let locked = analyze(
            "SELECT * FROM jobs WHERE id = $1 FOR NO KEY UPDATE",
            SqlDialect::Postgres,
        );
        assert!(locked.parse_error.is_none(), "{:?}", locked.parse_error);
        assert_eq!(
            pg("LOCK TABLE ledger IN EXCLUSIVE MODE"),
            vec![t("ledger", Access::Write, "ledger")]
        );
        assert_eq!(
            pg("INSERT INTO processed_messages (id) VALUES ($1) ON CONFLICT (id) DO NOTHING"),
            vec![t("processed_messages", Access::Write, "processed_messages")]
        );
    }

    #[test]
    fn never_panics_on_garbage() {
        for sql in [
            "",
            ";;;",
            "'",
            "\"",
            "$$",
            "$a$ unterminated",
            "/* open",
            "{",
            "}",
            "SELECT (((((",
            ":",
            "::",
            "\u{0}",
            "SELECT * FROM",
            "INSERT INTO",
            "é",
            "{é}",
            "SELECT * FROM \"é",
            "CREATE FUNCTION f() AS $x$ é",
            "SELECT 'é\\",
            "DELETE FROM `é",
            "$$é$",
            "DO $a$ é $a",
            "CREATE FUNCTION $$ASé ",
            "FROM FROM FROM",
            "WITH a AS (",
        ] {
            let _ = analyze(sql, SqlDialect::Postgres);
            let _ = analyze(sql, SqlDialect::MySql);
        }
        let deep = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        let analysis = analyze(&deep, SqlDialect::Generic);
        assert!(analysis.parse_error.is_some());
    }

    fn effects(sql: &str) -> Vec<StatementEffect> {
        analyze(sql, SqlDialect::Postgres).effects
    }

    #[test]
    fn state_columns_are_the_constants_a_select_tests_and_an_update_sets() {
        let state = |sql: &str| {
            let columns = analyze_known_sql(sql, SqlDialect::Postgres).state_columns;
            (columns.tested.join(","), columns.set.join(","))
        };
        let tested = |sql: &str| state(sql).0;
        let set = |sql: &str| state(sql).1;
        assert_eq!(
            tested("SELECT id, qty FROM reservations WHERE expires_at <= NOW() AND released = false FOR UPDATE"),
            "released"
        );
        assert_eq!(
            tested("SELECT * FROM jobs j WHERE j.status = 'pending' AND j.processed_at IS NULL ORDER BY id"),
            "status,processed_at"
        );
        assert_eq!(
            tested("SELECT * FROM jobs WHERE locked_at IS NOT NULL"),
            "locked_at"
        );
        // Parameters and orderings test no particular state; nor does a column list.
        assert_eq!(
            tested("SELECT * FROM jobs WHERE status = $1 AND id > 10"),
            ""
        );
        assert_eq!(tested("SELECT status FROM jobs WHERE id = $1"), "");
        // An aggregate answers one row whatever matches.
        assert_eq!(
            tested(
                "SELECT SUM(price * quantity) FROM orders WHERE user_id = $1 AND status = 'open'"
            ),
            ""
        );
        assert_eq!(
            tested("SELECT COUNT(*) FROM jobs WHERE status = 'pending' GROUP BY owner"),
            "status"
        );
        assert_eq!(tested("SELECT * FROM jobs WHERE status != 'done'"), "");
        assert_eq!(
            set("UPDATE reservations SET released = true, updated_at = now() WHERE reservation_id = $1"),
            "released,updated_at"
        );
        // A relative update moves an amount, not a state.
        assert_eq!(
            set("UPDATE inventory SET reserved = reserved - $1 WHERE product_id = $2"),
            ""
        );
        assert_eq!(set("SELECT 1 FROM t WHERE a = 'x'"), "");
    }

    #[test]
    fn primary_keys_and_inserted_columns() {
        let keys = |sql: &str| {
            analyze(sql, SqlDialect::Postgres)
                .primary_keys
                .into_iter()
                .map(|k| (k.table.to_string(), k.columns.join(","), k.generated))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys("CREATE TABLE IF NOT EXISTS analytics.events (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), body TEXT)"),
            [("analytics.events".to_owned(), "id".to_owned(), true)]
        );
        assert_eq!(
            keys("CREATE TABLE accounts (id TEXT NOT NULL PRIMARY KEY, email TEXT)"),
            [("accounts".to_owned(), "id".to_owned(), false)]
        );
        assert_eq!(
            keys("CREATE TABLE lines (order_id UUID, n INT, CONSTRAINT pk PRIMARY KEY (order_id, n))"),
            [("lines".to_owned(), "order_id,n".to_owned(), false)]
        );
        assert_eq!(
            keys("CREATE TABLE orders (id BIGSERIAL PRIMARY KEY)"),
            [("orders".to_owned(), "id".to_owned(), true)]
        );
        assert!(keys("CREATE TABLE logs (line TEXT)").is_empty());

        let inserted = |sql: &str| {
            analyze_known_sql(sql, SqlDialect::Postgres)
                .inserted_columns
                .join(",")
        };
        assert_eq!(
            inserted(r#"INSERT INTO s.t ("Id", body) VALUES ($1, $2)"#),
            "id,body"
        );
        assert_eq!(inserted("INSERT INTO t VALUES ($1)"), "");
        assert_eq!(
            inserted("INSERT INTO t (id) VALUES (gen_random_uuid())"),
            ""
        );
    }

    #[test]
    fn statement_effects_tell_retry_safe_writes_apart() {
        use StatementEffect::*;
        let cases: &[(&str, StatementEffect)] = &[
            ("SELECT * FROM orders WHERE id = $1", Read),
            ("SELECT * FROM outbox FOR UPDATE SKIP LOCKED", Read),
            ("INSERT INTO orders (id) VALUES ($1)", Insert),
            ("INSERT INTO inbox (id) VALUES ($1) ON CONFLICT DO NOTHING", Upsert),
            ("INSERT INTO t (id, n) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET n = EXCLUDED.n", Upsert),
            ("INSERT INTO t (id, n) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET n = t.n + 1", RelativeUpdate),
            ("INSERT IGNORE INTO t (id) VALUES (?)", Upsert),
            ("INSERT OR IGNORE INTO t (id) VALUES (?)", Upsert),
            ("INSERT INTO t (id) VALUES (?) ON DUPLICATE KEY UPDATE seen = seen + 1", RelativeUpdate),
            ("INSERT INTO t (id) VALUES (?) ON DUPLICATE KEY UPDATE seen_at = NOW()", Upsert),
            ("INSERT INTO t (id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM t WHERE id = $1)", Upsert),
            ("UPDATE orders SET status = 'shipped' WHERE id = $1", AbsoluteUpdate),
            ("UPDATE charges SET status = 'refunded' WHERE id = $1 AND status = 'succeeded' RETURNING psp_charge", GuardedUpdate),
            ("UPDATE jobs SET processed_at = now(), worker = $2 WHERE id = $1 AND processed_at IS NULL", GuardedUpdate),
            ("UPDATE orders SET status = 'shipped' WHERE id = $1 RETURNING status", AbsoluteUpdate),
            ("UPDATE orders o SET status = 'shipped' FROM carts c WHERE o.id = c.order_id", AbsoluteUpdate),
            ("UPDATE stock SET qty = qty - 1 WHERE sku = $1 AND qty > 0", RelativeUpdate),
            ("UPDATE stock SET qty = qty - $1 WHERE sku = $2", RelativeUpdate),
            ("UPDATE stock SET reserved = $3, qty = stock.qty - $1 WHERE sku = $2", RelativeUpdate),
            ("UPDATE accounts SET balance = balance + $1, version = version + 1 WHERE id = $2 AND version = $3", GuardedUpdate),
            ("UPDATE t SET tags = array_append(tags, $1) WHERE id = $2", RelativeUpdate),
            ("UPDATE t SET updated_at = now() - interval '1 day' WHERE id = $1", AbsoluteUpdate),
            ("DELETE FROM carts WHERE id = $1", Delete),
            ("WITH moved AS (UPDATE stock SET qty = qty - 1 WHERE sku = $1 RETURNING sku) SELECT * FROM moved", RelativeUpdate),
            ("CREATE TABLE t (id INT REFERENCES u ON DELETE CASCADE ON UPDATE CASCADE)", Other),
            ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET n = s.n", Upsert),
        ];
        for (sql, expected) in cases {
            assert_eq!(effects(sql), vec![*expected], "{sql}");
        }
        assert_eq!(
            effects("BEGIN; UPDATE t SET a = 1 WHERE id = 2; COMMIT"),
            vec![Other, AbsoluteUpdate, Other]
        );
    }

    /// Every SQL text of the corpus: `.sql` files and string literals that start with a SQL
    /// keyword in the fixture workspaces, the examples and a generated benchmark workspace,
    /// plus statements written to probe the edges of the simple shape.
    fn corpus() -> Vec<String> {
        let root = camino::Utf8Path::new(env!("CARGO_MANIFEST_DIR"));
        let bench = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let bench_root = camino::Utf8PathBuf::from_path_buf(bench.path().to_path_buf())
            .unwrap_or_else(|p| panic!("non-UTF-8 {}", p.display()));
        crate::bench::generate(&bench_root, 6, 6_000)
            .unwrap_or_else(|e| panic!("bench workspace: {e}"));
        let mut texts: Vec<String> = [
            "SELECT id, name FROM users WHERE id = $1",
            "SELECT o.id FROM public.orders o WHERE o.customer_id = $1 ORDER BY o.created_at DESC LIMIT 10",
            "SELECT * FROM a, b WHERE a.id = b.id",
            "SELECT count(*) FROM `shop`.`orders` WHERE status = ?",
            "SELECT \"Id\" FROM \"Orders\" WHERE \"Status\" = 'x'",
            "SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED",
            "SELECT DISTINCT ON (sku) sku, qty FROM stock ORDER BY sku, updated_at DESC",
            "SELECT id FROM t WHERE name LIKE '%from x%'",
            "SELECT CAST(amount AS numeric) FROM payments WHERE id = $1",
            "SELECT a FROM t WHERE b = 1 OR c = 2 GROUP BY a HAVING count(*) > 1",
            "INSERT INTO orders (id, total) VALUES ($1, $2) RETURNING id",
            "INSERT INTO inbox (message_id) VALUES ($1) ON CONFLICT (message_id) DO NOTHING",
            "INSERT INTO t (id, n) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET n = t.n + 1",
            "INSERT IGNORE INTO t (id) VALUES (?)",
            "INSERT INTO t (id) VALUES (?) ON DUPLICATE KEY UPDATE seen = seen + 1",
            "INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)",
            "INSERT INTO settings (key, value) VALUES (?1, ?2)",
            "UPDATE stock SET qty = qty - $1 WHERE sku = $2",
            "UPDATE `stock` SET qty = qty - 1 WHERE sku = ?",
            "UPDATE public.orders SET status = 'shipped', updated_at = now() WHERE id = $1 RETURNING id",
            "UPDATE t SET a = (b + 1) * 2 WHERE c IN (1, 2, 3)",
            "DELETE FROM carts WHERE id = $1",
            "DELETE FROM sessions WHERE expires_at < now() RETURNING id",
            "SELECT id FROM t WHERE ts > now() - interval '1 day'",
            "SELECT a FROM t WHERE b = ANY($1)",
            "SELECT a::text FROM t WHERE b @> $1",
            "SELECT x FROM t WHERE y = $1; DELETE FROM u WHERE id = $2",
            "select name from users where active",
            "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1",
            "SELECT * FROM a LEFT OUTER JOIN b USING (id) INNER JOIN c ON c.x = b.x",
            "SELECT * FROM a CROSS JOIN b",
            "SELECT * FROM a NATURAL JOIN b WHERE a.x = 1",
            "SELECT * FROM a FULL JOIN b ON true RIGHT JOIN c ON c.id = b.id",
            "SELECT * FROM a JOIN unnest($1::int[]) AS u(id) ON u.id = a.id",
            "SELECT * FROM a JOIN public.b AS bb ON bb.id = a.id",
            "SELECT * FROM a JOIN \"B\" ON \"B\".id = a.id",
            "SELECT * FROM a JOIN `b` ON b.id = a.id",
            "SELECT * FROM a, b JOIN c ON c.id = b.id",
            "SELECT * FROM a STRAIGHT_JOIN b",
            "SELECT * FROM a JOIN (b JOIN c ON c.id = b.id) ON a.id = b.id",
            "SELECT * FROM a JOIN b ON a.id = b.id JOIN c USING (id) WHERE EXTRACT(YEAR FROM a.ts) = 2024",
            "UPDATE t SET a = u.a FROM u JOIN v ON v.id = u.id WHERE t.id = u.id",
            "DELETE FROM t USING u WHERE t.id = u.id",
            "DELETE t FROM t JOIN u ON u.id = t.id WHERE u.gone",
            "DELETE FROM t WHERE id IN (SELECT t.id FROM t JOIN u ON u.id = t.id)",
            "delete from basket requested by {}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut dirs = vec![
            root.join("../tests/fixtures"),
            root.join("../examples"),
            root.join("tests/fixtures"),
            bench_root.clone(),
        ];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    if let Ok(p) = camino::Utf8PathBuf::from_path_buf(path) {
                        dirs.push(p);
                    }
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                match path.extension().and_then(|e| e.to_str()) {
                    Some("sql") => texts.push(text),
                    Some("rs") => texts.extend(
                        text.split('"')
                            .skip(1)
                            .step_by(2)
                            .filter(|lit| {
                                let upper = lit.trim_start().to_ascii_uppercase();
                                ["SELECT ", "INSERT ", "UPDATE ", "DELETE "]
                                    .iter()
                                    .any(|k| upper.starts_with(k))
                            })
                            .map(|lit| lit.replace("\\n", " ")),
                    ),
                    _ => {}
                }
            }
        }
        texts
    }

    #[test]
    fn the_scan_agrees_with_the_parser_on_simple_statements() {
        let tables = |a: &SqlAnalysis| -> Vec<(String, Access, Range<usize>)> {
            a.tables
                .iter()
                .map(|t| (t.table.to_string(), t.access, t.range.clone()))
                .collect()
        };
        let mut simple = 0;
        let corpus = corpus();
        for text in &corpus {
            for dialect in [
                SqlDialect::Postgres,
                SqlDialect::MySql,
                SqlDialect::Sqlite,
                SqlDialect::Generic,
            ] {
                let fast = analyze_with(text, dialect, true);
                let parsed = analyze_with(text, dialect, false);
                assert_eq!(tables(&fast), tables(&parsed), "{dialect:?}: {text}");
                assert_eq!(fast.statements, parsed.statements, "{dialect:?}: {text}");
                assert_eq!(fast.effects, parsed.effects, "{dialect:?}: {text}");
                if parsed.parse_error.is_none() {
                    assert_eq!(fast.certainty(), parsed.certainty(), "{dialect:?}: {text}");
                    assert!(fast.parse_error.is_none(), "{dialect:?}: {text}");
                }
                let (prepared, _) = neutralise(text);
                let tokens = lex(&prepared);
                simple += split_statements(&prepared, &tokens)
                    .iter()
                    .filter(|s| {
                        let toks = &tokens[s.tokens.clone()];
                        let keyword = leading_keywords(&prepared, toks);
                        is_simple_statement(&prepared, toks, &keyword, dialect)
                    })
                    .count();
            }
        }
        // The corpus must exercise the shape, or the comparison proves nothing.
        assert!(
            simple > 400,
            "only {simple} simple statements in {} texts",
            corpus.len()
        );
    }

    #[test]
    fn prose_and_foreign_dialects_are_left_to_the_parser() {
        let simple = |sql: &str, dialect| {
            let (prepared, _) = neutralise(sql);
            let tokens = lex(&prepared);
            let keyword = leading_keywords(&prepared, &tokens);
            is_simple_statement(&prepared, &tokens, &keyword, dialect)
        };
        assert!(simple(
            "SELECT id FROM users WHERE id = $1",
            SqlDialect::Postgres
        ));
        assert!(simple(
            "SELECT id FROM users WHERE id = ?",
            SqlDialect::MySql
        ));
        assert!(!simple(
            "SELECT id FROM users WHERE id = ?",
            SqlDialect::Postgres
        ));
        assert!(!simple("SELECT id FROM `users`", SqlDialect::Postgres));
        assert!(!simple("SELECT id FROM \"users\"", SqlDialect::MySql));
        assert!(!simple("SELECT id FROM (SELECT 1) t", SqlDialect::Postgres));
        assert!(!simple("SELECT 1", SqlDialect::Postgres));
        assert!(!simple("update failed", SqlDialect::Postgres));
        assert!(!simple("insert coin", SqlDialect::Postgres));
        assert!(!simple(
            "INSERT OR IGNORE INTO t VALUES (1)",
            SqlDialect::Sqlite
        ));
        assert!(simple("SELECT a FROM t WHERE b OR c", SqlDialect::Sqlite));
        // Prose goes through `analyze`, which always parses.
        let prose = analyze("select from cache for {}", SqlDialect::Postgres);
        assert!(prose.parse_error.is_some());
    }
}
