//! Inline suppressions: comments that silence a rule next to the code, applied to the
//! findings after the rules ran (rules never see them).
//!
//! ```text
//! sqlx::query("SELECT * FROM payments") // archlint: allow(cross-service-db-access) reason: read-only report
//! // archlint: allow(dual-write) reason: the relay is the outbox      <- the statement or item below
//! // archlint: allow-file(blocking-saga-step) reason: a CLI tool      <- the whole file
//! -- archlint: allow(duplicated-reference-data) reason: ...           <- SQL: the statement below
//! # archlint: allow(shared-database) reason: ...                      <- YAML, TOML, .env: the block below
//! ```
//!
//! Files are scanned when they are read ([`scan`]): a file without `archlint:` costs one
//! substring search. A comment at the end of a line covers that line; one standing on its
//! own line covers what starts on the next line of code, to its end (a Rust statement or item
//! by syn's spans, an SQL statement to its `;`, a YAML block by indentation). A finding is
//! silenced when its rule is listed and its primary location's line is covered.
//!
//! What is wrong with a suppression is reported under its own code ([`CODES`]), at `warn`
//! unless configured otherwise: one that silences nothing (like Ruff's unused `noqa`), one
//! without a reason, one naming an unknown rule, a malformed one, and an `[[allow]]` exception
//! past its `expires` date.

mod comments;
mod rust_items;

use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::config::{did_you_mean, Config, Exception, Level};
use crate::model::{FileId, Model, NoteKind, SourceFile, Span};
use crate::read::FileClass;
use crate::rules::{self, Confidence, Finding};
use crate::source::LineIndex;

pub use comments::Syntax;

/// A diagnostic about suppressions themselves, with its documentation.
#[derive(Debug)]
pub struct Code {
    pub id: &'static str,
    pub summary: &'static str,
    pub default_level: Level,
    /// Markdown: what it does, why it matters, an example, how to fix it.
    pub doc: &'static str,
}

pub const UNUSED: &str = "unused-suppression";
pub const WITHOUT_REASON: &str = "suppression-without-reason";
pub const UNKNOWN_RULE: &str = "suppression-unknown-rule";
pub const MALFORMED: &str = "malformed-suppression";
pub const EXPIRED: &str = "expired-exception";

/// The suppression codes, in documentation order. Their levels are set like rules' levels
/// (`[rules]`, `[[overrides]]`, `--select`, `--ignore`).
pub static CODES: &[Code] = &[
    Code {
        id: UNUSED,
        summary: "an inline suppression that silences nothing",
        default_level: Level::Warn,
        doc: "## What it does\n\nReports an `archlint: allow(..)` comment that silenced no finding of a rule it names, \
              when that rule is on for the file.\n\n\
              ## Why is this bad\n\nA suppression outlives the code it was written for: after a fix or a move it \
              silences nothing, and later hides a new finding nobody reviewed.\n\n\
              ## Example\n\n```rust\n// archlint: allow(dual-write) reason: publishes through the outbox now\n\
              async fn place_order() { /* no dual write left */ }\n```\n\n\
              ## How to fix\n\nRemove the comment, or the rule names in it that silence nothing. A comment \
              silences the line it ends, or, on its own line, the statement or item that follows.\n",
    },
    Code {
        id: WITHOUT_REASON,
        summary: "an inline suppression without `reason: ...`",
        default_level: Level::Warn,
        doc: "## What it does\n\nReports an `archlint: allow(..)` comment with no `reason: ...` after the rule list.\n\n\
              ## Why is this bad\n\nThe next reader cannot tell a reviewed exception from a silenced alarm.\n\n\
              ## Example\n\n```rust\nlet rows = sqlx::query(\"SELECT * FROM payments\"); // archlint: allow(cross-service-db-access)\n```\n\n\
              ## How to fix\n\nSay why the finding is acceptable: \
              `// archlint: allow(cross-service-db-access) reason: read-only nightly report`.\n",
    },
    Code {
        id: UNKNOWN_RULE,
        summary: "an inline suppression naming a rule archlint does not have",
        default_level: Level::Warn,
        doc: "## What it does\n\nReports a rule name in an `archlint: allow(..)` comment that is not a rule.\n\n\
              ## Why is this bad\n\nA misspelt name silences nothing, so the finding it was meant for is still \
              reported, or the comment is dead.\n\n\
              ## Example\n\n```rust\n// archlint: allow(shared-db) reason: ...\n```\n\n\
              ## How to fix\n\nUse the rule's name as `cargo archlint rules` lists it (`shared-database`).\n",
    },
    Code {
        id: MALFORMED,
        summary: "an `archlint:` comment that is not a valid suppression",
        default_level: Level::Warn,
        doc: "## What it does\n\nReports a comment starting with `archlint:` that does not read \
              `allow(rule, ...) reason: ...` or `allow-file(rule, ...) reason: ...`.\n\n\
              ## Why is this bad\n\nIt silences nothing, though whoever wrote it meant it to.\n\n\
              ## Example\n\n```rust\n// archlint: allow dual-write because legacy\n```\n\n\
              ## How to fix\n\n`// archlint: allow(dual-write) reason: legacy, replaced in Q3`.\n",
    },
    Code {
        id: EXPIRED,
        summary: "an `[[allow]]` exception past its `expires` date",
        default_level: Level::Warn,
        doc: "## What it does\n\nReports an `[[allow]]` exception of the configuration whose `expires` date has \
              passed (in UTC). From the day after that date the exception silences nothing, so the findings \
              it silenced are reported again.\n\n\
              ## Why is this bad\n\nAn exception granted for a while (until a migration lands) would otherwise \
              stay for good.\n\n\
              ## Example\n\n```toml\n[[allow]]\nrule = \"shared-database\"\nservices = [\"orders\", \"billing\"]\n\
              reason = \"split planned for Q1\"\nexpires = \"2027-03-31\"\n```\n\n\
              ## How to fix\n\nFix what it silenced and remove it, or review it and move `expires` forward.\n",
    },
];

/// The suppression code with this id.
pub fn code(id: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.id == id)
}

/// A suppression comment: the rules it names and the lines it covers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Directive {
    /// The directive's text in its comment (`archlint: allow(..) reason: ..`).
    pub span: Span,
    /// `allow-file`: the whole file.
    pub file_wide: bool,
    /// The 1-based lines covered, inclusive; `(0, 0)` covers nothing (no code follows).
    pub lines: (u32, u32),
    /// Rule names as written.
    pub rules: Vec<String>,
    pub reason: Option<String>,
}

impl Directive {
    fn covers(&self, line: u32) -> bool {
        self.file_wide || (self.lines.0 <= line && line <= self.lines.1 && self.lines.0 > 0)
    }
}

/// A comment that starts with `archlint:` but does not say anything archlint understands.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Malformed {
    pub span: Span,
    pub message: String,
}

/// The suppression comments of one file. A file was scanned when it has one of these, even
/// an empty one.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileComments {
    pub file: FileId,
    pub directives: Vec<Directive>,
    pub malformed: Vec<Malformed>,
}

/// Finds the suppression comments of a file (`path` decides the comment syntax).
pub fn scan(file: FileId, path: &Utf8Path, text: &str) -> FileComments {
    let mut found = FileComments {
        file,
        directives: Vec::new(),
        malformed: Vec::new(),
    };
    if memchr::memmem::find(text.as_bytes(), b"archlint:").is_none() {
        return found;
    }
    let syntax = Syntax::of(path);
    let lexed = comments::lex(text, syntax);
    let index = LineIndex::new(text);
    let lines: Vec<&str> = text.split('\n').collect();
    // Own-line directives wait for the line of code after them; Rust asks syn for its extent.
    let mut pending: Vec<(usize, u32)> = Vec::new();
    for comment in &lexed.comments {
        let body = &text[comment.text.clone()];
        let Some((range, parsed)) = comments::directive(body) else {
            continue;
        };
        let start = comment.text.start + range.start;
        let span = index.span(file, text, start, comment.text.start + range.end);
        match parsed {
            comments::Parsed::Malformed(message) => {
                found.malformed.push(Malformed { span, message });
            }
            comments::Parsed::Allow {
                file_wide,
                rules,
                reason,
            } => {
                let mut lines_covered = (span.line, span.line);
                if comment.own_line && !file_wide {
                    match comments::next_code_line(&lines, span.line, syntax) {
                        Some(first) => {
                            lines_covered = (first, first);
                            pending.push((found.directives.len(), first));
                        }
                        None => lines_covered = (0, 0),
                    }
                }
                found.directives.push(Directive {
                    span,
                    file_wide,
                    lines: lines_covered,
                    rules,
                    reason,
                });
            }
        }
    }
    if pending.is_empty() {
        return found;
    }
    let ends: Vec<u32> = match syntax {
        Syntax::Rust => {
            let mut targets: Vec<u32> = pending.iter().map(|(_, first)| *first).collect();
            targets.sort_unstable();
            targets.dedup();
            let node_ends = rust_items::node_ends(text, &targets);
            pending
                .iter()
                .map(|(_, first)| {
                    targets
                        .binary_search(first)
                        .ok()
                        .and_then(|k| node_ends[k])
                        .unwrap_or(*first)
                })
                .collect()
        }
        Syntax::Sql => pending
            .iter()
            .map(|(_, first)| {
                comments::sql_statement_end(&lexed, &index, text, *first, lines.len())
            })
            .collect(),
        Syntax::Hash => pending
            .iter()
            .map(|(_, first)| comments::hash_block_end(&lines, *first))
            .collect(),
    };
    for ((directive, _), end) in pending.into_iter().zip(ends) {
        let lines = &mut found.directives[directive].lines;
        lines.1 = end.max(lines.0);
    }
    found
}

/// Scans the files of the model that were not scanned when they were read by the
/// extractors (manifests, files `include_str!` brings in, init scripts a compose file names,
/// the configuration). Files that were not read or are not judged are left out.
pub fn scan_remaining(model: &mut Model) {
    let scanned: FxHashSet<FileId> = model.suppressions.iter().map(|c| c.file).collect();
    let skipped: FxHashSet<FileId> = model
        .notes
        .iter()
        .filter(|n| {
            matches!(
                n.kind,
                NoteKind::Undeclared | NoteKind::Unreadable | NoteKind::TooLarge
            )
        })
        .map(|n| n.file)
        .collect();
    let root = model.root.clone();
    let remaining: Vec<(FileId, Utf8PathBuf)> = model
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (FileId(i as u32), f))
        .filter(|(id, _)| !scanned.contains(id) && !skipped.contains(id))
        .map(|(id, f)| (id, f.path.clone()))
        .collect();
    let found: Vec<FileComments> = remaining
        .into_par_iter()
        .filter_map(|(id, path)| {
            let text = crate::read::read_text(root.join(&path), class_of(&path)).ok()?;
            Some(scan(id, &path, &text))
        })
        .collect();
    model.suppressions.extend(found);
}

/// The read cap for a file scanned late, by its name.
fn class_of(path: &Utf8Path) -> FileClass {
    match (path.file_name(), path.extension()) {
        (_, Some("rs")) => FileClass::Rust,
        (_, Some("sql")) => FileClass::Sql,
        (Some("Cargo.toml" | "archlint.toml"), _) => FileClass::Manifest,
        _ => FileClass::Deployment,
    }
}

/// Applies the inline suppressions of the model's files to `findings` (as they come from
/// [`rules::judge`]) and adds the diagnostics about suppressions: unused, without reason,
/// unknown rule, malformed, and the `expired` exceptions. Returns how many findings at or
/// above the reported confidence the comments silenced.
pub fn apply(
    model: &mut Model,
    config: &Config,
    findings: &mut Vec<Finding>,
    expired: &[Exception],
) -> usize {
    let files = std::mem::take(&mut model.suppressions);
    let directives: Vec<&Directive> = files.iter().flat_map(|f| &f.directives).collect();
    let mut by_file: FxHashMap<FileId, Vec<usize>> = FxHashMap::default();
    for (i, directive) in directives.iter().enumerate() {
        by_file.entry(directive.span.file).or_default().push(i);
    }
    let canonical: Vec<Vec<String>> = directives
        .iter()
        .map(|d| d.rules.iter().map(|r| rules::canonical_name(r)).collect())
        .collect();
    let mut used: Vec<Vec<bool>> = canonical.iter().map(|r| vec![false; r.len()]).collect();
    let mut silenced = 0;
    findings.retain(|finding| {
        let Some(candidates) = by_file.get(&finding.span.file) else {
            return true;
        };
        let mut hit = false;
        for &d in candidates {
            if !directives[d].covers(finding.span.line) {
                continue;
            }
            for (k, rule) in canonical[d].iter().enumerate() {
                if rule == finding.rule {
                    used[d][k] = true;
                    hit = true;
                }
            }
        }
        if hit && finding.confidence >= config.min_confidence {
            silenced += 1;
        }
        !hit
    });

    let mut out = Diagnostics {
        model,
        config,
        found: Vec::new(),
    };
    for (d, directive) in directives.iter().enumerate() {
        let path = out.model.file(directive.span.file).path.clone();
        let mut unused = Vec::new();
        for (k, name) in canonical[d].iter().enumerate() {
            if rules::find(name).is_none() {
                out.unknown_rule(directive, &directive.rules[k], name);
            } else if !used[d][k] && config.level_at(name, &path) != Level::Allow {
                unused.push(name.as_str());
            }
        }
        if !unused.is_empty() {
            out.unused(directive, &unused);
        }
        if directive.reason.is_none() {
            out.push(
                WITHOUT_REASON,
                directive.span,
                format!(
                    "suppression of {} gives no reason",
                    rules::list_names(directive.rules.iter().map(String::as_str))
                ),
                "no `reason: ...` after the rule list".into(),
                "say why the finding is acceptable, for the next reader: `reason: ...` after \
                 the rule list"
                    .into(),
            );
        }
    }
    for malformed in files.iter().flat_map(|f| &f.malformed) {
        out.push(
            MALFORMED,
            malformed.span,
            format!("malformed suppression: {}", malformed.message),
            malformed.message.clone(),
            "write `archlint: allow(rule-name) reason: ...` (the line, or the statement or item \
             below), or `archlint: allow-file(rule-name) reason: ...` (the whole file)"
                .into(),
        );
    }
    for exception in expired {
        out.expired(exception);
    }
    let found = out.found;
    model.suppressions = files;
    findings.extend(found);
    silenced
}

/// Diagnostics about suppressions, at the level configured for their file.
struct Diagnostics<'a> {
    model: &'a mut Model,
    config: &'a Config,
    found: Vec<Finding>,
}

impl Diagnostics<'_> {
    fn push(&mut self, id: &'static str, span: Span, message: String, label: String, help: String) {
        let file = self.model.file(span.file);
        let level = self.config.level_at(id, &file.path);
        if level == Level::Allow {
            return;
        }
        let services = file
            .crate_id
            .map(|krate| {
                self.model
                    .services_of_crate(krate)
                    .map(|s| s.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        self.found.push(Finding {
            rule: id,
            confidence: Confidence::High,
            level,
            message,
            span,
            label,
            help,
            related: Vec::new(),
            services,
            table: None,
            database: None,
        });
    }

    fn unused(&mut self, directive: &Directive, rules: &[&str]) {
        let names = rules::list_names(rules.iter().copied());
        let (from, to) = directive.lines;
        let place = if directive.file_wide {
            "in this file".to_string()
        } else if from == 0 {
            "below it (no code follows)".to_string()
        } else if from == to {
            format!("on line {from}")
        } else {
            format!("on lines {from}-{to}")
        };
        self.push(
            UNUSED,
            directive.span,
            format!("suppression of {names} silences nothing"),
            format!("no {names} finding {place}"),
            "remove it (or the rule names that silence nothing); a suppression silences the \
             line it ends, or, on its own line, the statement or item that follows"
                .into(),
        );
    }

    fn unknown_rule(&mut self, directive: &Directive, written: &str, canonical: &str) {
        let known: Vec<String> = rules::REGISTRY.iter().map(|r| r.id().to_string()).collect();
        let help = if code(canonical).is_some() {
            format!(
                "`{canonical}` is about suppressions themselves: set its level in `[rules]` or \
                 `[[overrides]]` of archlint.toml instead"
            )
        } else {
            match did_you_mean(written, &known) {
                Some(close) => {
                    format!("did you mean `{close}`? `cargo archlint rules` lists them all")
                }
                None => "`cargo archlint rules` lists every rule".to_string(),
            }
        };
        self.push(
            UNKNOWN_RULE,
            directive.span,
            format!("suppression names unknown rule `{written}`"),
            format!("`{written}` is not a rule"),
            help,
        );
    }

    fn expired(&mut self, exception: &Exception) {
        let (Some(expires), Some((path, text, range))) = (exception.expires, &exception.declared)
        else {
            return;
        };
        let file = self.model.add_file(SourceFile {
            path: workspace_relative(&self.model.root, path),
            crate_id: None,
            is_test: false,
        });
        let span = LineIndex::new(text).span(file, text, range.start, range.end);
        self.push(
            EXPIRED,
            span,
            format!(
                "`[[allow]]` exception expired on {expires} and no longer applies (its reason: {})",
                exception.reason
            ),
            format!("expired on {expires}"),
            "fix the findings it silenced and remove it, or review it and move `expires` forward"
                .into(),
        );
    }
}

/// A configuration path as the model keeps paths: relative to the workspace root when it is
/// under it, else absolute.
fn workspace_relative(root: &Utf8Path, path: &Utf8Path) -> Utf8PathBuf {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else if root.join(path).exists() {
        return path.to_owned();
    } else {
        std::env::current_dir()
            .ok()
            .and_then(|dir| Utf8PathBuf::from_path_buf(dir).ok())
            .map_or_else(|| path.to_owned(), |dir| dir.join(path))
    };
    absolute
        .strip_prefix(root)
        .map_or_else(|_| absolute.clone(), Utf8Path::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanned(path: &str, text: &str) -> FileComments {
        scan(FileId(0), Utf8Path::new(path), text)
    }

    #[test]
    fn trailing_own_line_and_file_wide_scopes() {
        let text = "// archlint: allow-file(dual-write) reason: a\n\
                    fn f() {\n    \
                        let x = 1; // archlint: allow(shared-database) reason: b\n    \
                        // archlint: allow(cross-service-db-access)\n    \
                        // another comment\n\n    \
                        let rows = sqlx::query(\n        \"SELECT id\n         FROM payments\",\n    );\n}\n";
        let found = scanned("src/lib.rs", text);
        assert!(found.malformed.is_empty(), "{found:?}");
        let scopes: Vec<(bool, (u32, u32), Option<&str>)> = found
            .directives
            .iter()
            .map(|d| (d.file_wide, d.lines, d.reason.as_deref()))
            .collect();
        assert_eq!(
            scopes,
            [
                (true, (1, 1), Some("a")),
                (false, (3, 3), Some("b")),
                (false, (7, 10), None),
            ]
        );
    }

    #[test]
    fn sql_and_yaml_scopes() {
        let sql = "-- archlint: allow(duplicated-reference-data) reason: x\nCREATE TABLE currencies (\n  code TEXT\n);\nSELECT 1; -- archlint: allow(dual-write) reason: y\n";
        let found = scanned("migrations/0001.sql", sql);
        let lines: Vec<(u32, u32)> = found.directives.iter().map(|d| d.lines).collect();
        assert_eq!(lines, [(2, 4), (5, 5)]);
        let yaml = "services:\n  a:\n    # archlint: allow(shared-database) reason: z\n    environment:\n      URL: x\n    ports: [1]\n";
        let found = scanned("docker-compose.yml", yaml);
        assert_eq!(found.directives[0].lines, (4, 5));
    }

    #[test]
    fn a_file_without_the_marker_is_not_lexed() {
        let found = scanned("src/lib.rs", "use archlint::check; // archlint::rules\n");
        assert!(found.directives.is_empty() && found.malformed.is_empty());
        let found = scanned("src/lib.rs", "fn f() {} // archlint: allow(x\n");
        assert_eq!(found.malformed.len(), 1);
        assert_eq!(found.malformed[0].span.line, 1);
        assert_eq!(found.malformed[0].span.column, 14);
    }
}
