//! Reporters: human (miette), JSON, SARIF 2.1.0 and GitHub workflow commands, and the
//! architecture map (`map`). Every finding
//! at `warn` or `deny` appears in every format; notes (files that could not be read or
//! parsed) appear once, as notes.

pub mod map;
mod sarif;
mod statistics;

use std::collections::HashMap;
use std::fmt::Write as _;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity,
    SourceSpan,
};
use serde::Serialize;

use crate::config::Level;
use crate::model::{FileId, Model, Note, NoteKind, Span};
use crate::rules::Finding;
use crate::Report;

pub use map::{map_text, render_map, ArchMap, MapFormat};
pub use sarif::{fatal_sarif, sarif, FINGERPRINT_KEY};
pub use statistics::Statistics;

/// An error that stopped the check, in the shape the machine-readable formats print it.
#[derive(Debug, Clone, Serialize)]
pub struct Fatal {
    /// `archlint::config`, `archlint::workspace`, `archlint::usage`.
    pub code: String,
    pub message: String,
    /// What is wrong at `location`, when the error points into a file.
    pub detail: Option<String>,
    pub help: Option<String>,
    pub location: Option<FatalLocation>,
}

/// Where a fatal error points: a path as given or relative to the workspace, 1-based.
#[derive(Debug, Clone, Serialize)]
pub struct FatalLocation {
    pub path: camino::Utf8PathBuf,
    pub line: u32,
    pub column: u32,
}

impl Fatal {
    /// The error of a check that could not run.
    pub fn of(error: &crate::Error) -> Self {
        use miette::Diagnostic as _;
        let code = error
            .code()
            .map_or_else(|| "archlint".to_string(), |c| c.to_string());
        let help = error.help().map(|h| h.to_string());
        let (detail, location) = match error {
            crate::Error::Config(crate::config::ConfigError::Invalid {
                path,
                code,
                span,
                message,
                ..
            }) => {
                let text = code.inner();
                let index = crate::source::LineIndex::new(text);
                let (line, column) = index.position(text, span.start);
                (
                    Some(message.clone()),
                    Some(FatalLocation {
                        path: path.clone(),
                        line,
                        column,
                    }),
                )
            }
            crate::Error::Baseline(
                baseline @ crate::baseline::BaselineError::Invalid { path, message, .. },
            ) => (
                Some(message.clone()),
                baseline.position().map(|(line, column)| FatalLocation {
                    path: path.clone(),
                    line,
                    column,
                }),
            ),
            _ => (None, None),
        };
        Fatal {
            code,
            message: error.to_string(),
            detail,
            help,
            location,
        }
    }

    /// A usage error (bad arguments).
    pub fn usage(message: String) -> Self {
        Fatal {
            code: "archlint::usage".to_string(),
            message,
            detail: None,
            help: None,
            location: None,
        }
    }

    /// One line: the message, what is wrong where, and the help.
    pub fn text(&self) -> String {
        let mut text = self.message.clone();
        if let Some(location) = &self.location {
            let _ = write!(
                text,
                " ({}:{}:{}",
                location.path, location.line, location.column
            );
            if let Some(detail) = &self.detail {
                let _ = write!(text, ": {detail}");
            }
            text.push(')');
        }
        if let Some(help) = &self.help {
            let _ = write!(text, "; help: {help}");
        }
        text
    }
}

/// Renders an error that stopped the check in a machine-readable format: a SARIF run with
/// the error as a `toolExecutionNotification`, or a JSON object `{"error": {..}}`. `None` for
/// the formats people read (the error goes to stderr as a diagnostic).
pub fn render_fatal(fatal: &Fatal, format: Format) -> Option<String> {
    match format {
        Format::Json => Some(
            serde_json::to_string_pretty(&serde_json::json!({ "error": fatal }))
                .unwrap_or_default()
                + "\n",
        ),
        Format::Sarif => {
            Some(serde_json::to_string_pretty(&fatal_sarif(fatal)).unwrap_or_default() + "\n")
        }
        Format::Human | Format::Github => None,
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

/// Options of the human format.
#[derive(Debug, Clone, Copy)]
pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
}

/// Renders a report in the given format.
pub fn render(report: &Report, format: Format, human: HumanOptions) -> String {
    match format {
        Format::Human => render_human(report, human),
        Format::Json => json(report),
        Format::Sarif => serde_json::to_string_pretty(&sarif(report)).unwrap_or_default() + "\n",
        Format::Github => github(report),
    }
}

/// `--statistics`: counts per rule and per service instead of the findings, in `human` or
/// `json`; `None` for the formats that are read by other tools (SARIF, GitHub commands).
pub fn render_statistics(report: &Report, format: Format) -> Option<String> {
    let statistics = Statistics::of(report);
    match format {
        Format::Human => Some(statistics.human(report)),
        Format::Json => Some(statistics.json(report)),
        Format::Sarif | Format::Github => None,
    }
}

/// Reads the files findings point into, once each. Unreadable files render without source.
struct Sources<'a> {
    model: &'a Model,
    texts: HashMap<FileId, Option<String>>,
}

impl<'a> Sources<'a> {
    fn new(model: &'a Model) -> Self {
        Sources {
            model,
            texts: HashMap::new(),
        }
    }

    fn named(&mut self, file: FileId) -> Option<NamedSource<String>> {
        let model = self.model;
        let text = self.texts.entry(file).or_insert_with(|| {
            // Findings only point into files that were read, under the largest cap.
            crate::read::read_text(
                model.root.join(&model.file(file).path),
                crate::read::FileClass::Rust,
            )
            .ok()
        });
        text.as_ref()
            .map(|t| NamedSource::new(model.file(file).path.as_str(), t.clone()))
    }
}

fn source_span(span: Span, text_len: usize) -> SourceSpan {
    let start = (span.start as usize).min(text_len);
    let end = (span.end as usize).clamp(start, text_len);
    SourceSpan::from(start..end)
}

/// A finding (or a note) as a miette diagnostic.
#[derive(Debug)]
struct Rendered {
    message: String,
    code: Option<String>,
    severity: Severity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered>,
}

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn std::fmt::Display>)
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.source.is_none() || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
    }
}

fn rendered_finding(sources: &mut Sources<'_>, finding: &Finding) -> Rendered {
    let model = sources.model;
    let source = sources.named(finding.span.file);
    let len = source.as_ref().map_or(0, |s| s.inner().len());
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(finding.label.clone()),
        source_span(finding.span, len),
    )];
    let mut related = Vec::new();
    for other in &finding.related {
        // Labels close to the primary span share its snippet; distant ones get their own.
        if other.span.file == finding.span.file && other.span.line.abs_diff(finding.span.line) <= 6
        {
            labels.push(LabeledSpan::new_with_span(
                Some(other.label.clone()),
                source_span(other.span, len),
            ));
        } else {
            let other_source = sources.named(other.span.file);
            let other_len = other_source.as_ref().map_or(0, |s| s.inner().len());
            related.push(Rendered {
                message: other.label.clone(),
                code: None,
                severity: Severity::Advice,
                help: None,
                source: other_source,
                labels: vec![LabeledSpan::new_primary_with_span(
                    None,
                    source_span(other.span, other_len),
                )],
                related: Vec::new(),
            });
        }
    }
    let message = match &source {
        Some(_) => finding.message.clone(),
        None => format!(
            "{} ({}:{}:{})",
            finding.message,
            model.file(finding.span.file).path,
            finding.span.line,
            finding.span.column
        ),
    };
    Rendered {
        message,
        // Diagnostics about suppressions are not inferred: no confidence to show.
        code: Some(if crate::suppress::code(finding.rule).is_some() {
            finding.rule.to_string()
        } else {
            format!("{} (confidence: {})", finding.rule, finding.confidence)
        }),
        severity: match finding.level {
            Level::Deny => Severity::Error,
            Level::Warn | Level::Allow => Severity::Warning,
        },
        help: Some(finding.help.clone()),
        source,
        labels,
        related,
    }
}

/// Splits a line into words for wrapping at spaces, except spaces inside a `code span`:
/// a path, a command or a config line stays on one line, so it can be copied.
fn words_outside_code_spans(line: &str) -> Box<dyn Iterator<Item = textwrap::core::Word<'_>> + '_> {
    let mut words = Vec::new();
    let mut start = 0;
    let mut in_code = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'`' => in_code = !in_code,
            b' ' if !in_code => {
                // The word takes the run of spaces after it.
                while i + 1 < bytes.len() && bytes[i + 1] == b' ' {
                    i += 1;
                }
                words.push(textwrap::core::Word::from(&line[start..=i]));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < line.len() {
        words.push(textwrap::core::Word::from(&line[start..]));
    }
    Box::new(words.into_iter())
}

fn note_kind(kind: NoteKind) -> &'static str {
    match kind {
        NoteKind::Unreadable => "unreadable",
        NoteKind::RustSyntax => "rust-syntax",
        NoteKind::SqlSyntax => "sql-syntax",
        NoteKind::ConfigSyntax => "config-syntax",
        NoteKind::Undeclared => "undeclared",
        NoteKind::TooDeep => "too-deep",
        NoteKind::TooLarge => "too-large",
        NoteKind::MissingMember => "missing-member",
        NoteKind::CargoMetadata => "cargo-metadata",
    }
}

fn render_human(report: &Report, options: HumanOptions) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false)
        .with_urls(false)
        .with_word_separator(textwrap::WordSeparator::Custom(words_outside_code_spans))
        .with_break_words(false);
    let mut sources = Sources::new(&report.model);
    let mut out = String::new();
    for finding in &report.findings {
        let mut rendered = rendered_finding(&mut sources, finding);
        // miette heads related diagnostics with their severity ("Advice:"); rendered on
        // their own they read as what they are: the label, then the place.
        let related = std::mem::take(&mut rendered.related);
        let _ = handler.render_report(&mut out, &rendered);
        for other in &related {
            let _ = handler.render_report(&mut out, other);
        }
        out.push('\n');
    }
    for note in unique_notes(&report.model) {
        let path = &report.model.file(note.file).path;
        let _ = writeln!(
            out,
            "note[{}]: {path}: {}",
            note_kind(note.kind),
            note_message(&report.model, note)
        );
    }
    if let (Some(text), Some(baseline)) = (stale_baseline_text(report), &report.baseline) {
        let _ = writeln!(out, "note[baseline]: {text}:");
        for entry in &baseline.stale {
            let _ = writeln!(out, "  {} {}: {}", entry.rule, entry.path, entry.message);
        }
    }
    out.push_str(&summary_line(report));
    out
}

/// `archlint: 2 errors, 1 warning in 4 services (1 silenced by exceptions)`.
fn summary_line(report: &Report) -> String {
    let denied = report
        .findings
        .iter()
        .filter(|f| f.level == Level::Deny)
        .count();
    let warned = report.findings.len() - denied;
    let services = report.model.services.len();
    let mut out = format!(
        "archlint: {}, {} in {}",
        counted(denied, "error", "errors"),
        counted(warned, "warning", "warnings"),
        counted(services, "service", "services"),
    );
    let mut aside = Vec::new();
    if report.suppressed > 0 {
        aside.push(format!("{} silenced by exceptions", report.suppressed));
    }
    if report.silenced_inline > 0 {
        aside.push(format!("{} silenced by comments", report.silenced_inline));
    }
    if let Some(baseline) = &report.baseline {
        aside.push(format!("{} in the baseline", baseline.matched.len()));
    }
    if !aside.is_empty() {
        let _ = write!(out, " ({})", aside.join(", "));
    }
    out.push('\n');
    out
}

/// `1 error`, `2 errors`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A note's message without a leading copy of its file's path (the path is printed with it).
pub fn note_message<'a>(model: &Model, note: &'a Note) -> &'a str {
    let path = model.file(note.file).path.as_str();
    note.message
        .strip_prefix(path)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(&note.message)
}

/// Notes, each reported once per file and message.
pub fn unique_notes(model: &Model) -> Vec<&Note> {
    let mut seen = std::collections::HashSet::new();
    model
        .notes
        .iter()
        .filter(|n| seen.insert((n.file, n.kind, n.message.clone())))
        .collect()
}

#[derive(Serialize)]
struct JsonLocation<'a> {
    path: &'a str,
    line: u32,
    column: u32,
    start: u32,
    end: u32,
}

fn location(model: &Model, span: Span) -> JsonLocation<'_> {
    JsonLocation {
        path: model.file(span.file).path.as_str(),
        line: span.line,
        column: span.column,
        start: span.start,
        end: span.end,
    }
}

fn json(report: &Report) -> String {
    let model = &report.model;
    let findings: Vec<serde_json::Value> = report
        .findings
        .iter()
        .zip(
            report
                .fingerprints
                .iter()
                .map(Some)
                .chain(std::iter::repeat(None)),
        )
        .map(|(f, fingerprint)| {
            serde_json::json!({
                "rule": f.rule,
                "fingerprint": fingerprint,
                "level": f.level,
                "confidence": f.confidence,
                "message": f.message,
                "location": location(model, f.span),
                "label": f.label,
                "help": f.help,
                "related": f.related.iter().map(|r| serde_json::json!({
                    "location": location(model, r.span),
                    "label": r.label,
                })).collect::<Vec<_>>(),
                "services": f.services,
                "table": f.table,
                "database": f.database,
            })
        })
        .collect();
    let notes: Vec<serde_json::Value> = unique_notes(model)
        .into_iter()
        .map(|n| {
            serde_json::json!({
                "kind": note_kind(n.kind),
                "path": model.file(n.file).path,
                "line": n.span.map(|s| s.line),
                "message": note_message(model, n),
            })
        })
        .collect();
    let mut value = serde_json::json!({
        "findings": findings,
        "notes": notes,
    });
    add_silenced(report, &mut value);
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// What `[[allow]]` exceptions (`suppressed`), comments (`silenced_inline`) and the baseline
/// left out, added to a JSON document.
fn add_silenced(report: &Report, value: &mut serde_json::Value) {
    value["suppressed"] = report.suppressed.into();
    value["silenced_inline"] = report.silenced_inline.into();
    if let Some(baseline) = &report.baseline {
        value["baseline"] = serde_json::json!({
            "path": baseline.path,
            "matched": baseline.matched.len(),
            "stale": baseline.stale,
        });
    }
}

/// Escapes a GitHub workflow command's data (`%`, CR, LF) or property (also `:` and `,`).
fn github_escape(text: &str, property: bool) -> String {
    let mut out = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// How many annotations of each type (error, warning, notice) GitHub shows for one step;
/// it drops the rest.
pub const GITHUB_ANNOTATIONS_PER_TYPE: usize = 10;

/// GitHub workflow commands. GitHub shows only the first ten annotations of each type a step
/// prints, so errors come first, at most ten of each level (and nine notices) are printed as
/// annotations, the rest as plain lines in the step's log, and a summary notice always ends
/// the output, saying how many were left unannotated.
fn github(report: &Report) -> String {
    let model = &report.model;
    let mut out = String::new();
    let mut in_log: Vec<String> = Vec::new();
    let mut unannotated = (0, 0);
    for (command, deny) in [("error", true), ("warning", false)] {
        let findings = report
            .findings
            .iter()
            .filter(|f| (f.level == Level::Deny) == deny);
        for (shown, f) in findings.enumerate() {
            let path = model.file(f.span.file).path.as_str();
            if shown < GITHUB_ANNOTATIONS_PER_TYPE {
                let message = format!(
                    "{} (confidence: {}; help: {})",
                    f.message, f.confidence, f.help
                );
                let _ = writeln!(
                    out,
                    "::{command} file={},line={},col={},title={}::{}",
                    github_escape(path, true),
                    f.span.line,
                    f.span.column,
                    github_escape(f.rule, true),
                    github_escape(&message, false)
                );
                continue;
            }
            in_log.push(one_line(&format!(
                "{command}[{}] {path}:{}:{}: {} (confidence: {})",
                f.rule, f.span.line, f.span.column, f.message, f.confidence
            )));
            if deny {
                unannotated.0 += 1;
            } else {
                unannotated.1 += 1;
            }
        }
    }
    // The summary is the last notice shown.
    let mut notices = 0;
    for note in unique_notes(model) {
        let path = model.file(note.file).path.as_str();
        let kind = note_kind(note.kind);
        let message = note_message(model, note);
        if notices + 1 < GITHUB_ANNOTATIONS_PER_TYPE {
            notices += 1;
            let line = note.span.map_or(1, |s| s.line);
            let _ = writeln!(
                out,
                "::notice file={},line={line},title=archlint {kind}::{}",
                github_escape(path, true),
                github_escape(message, false)
            );
        } else {
            in_log.push(one_line(&format!("note[{kind}]: {path}: {message}")));
        }
    }
    if let Some(text) = stale_baseline_text(report) {
        if notices + 1 < GITHUB_ANNOTATIONS_PER_TYPE {
            let _ = writeln!(
                out,
                "::notice title=archlint baseline::{}",
                github_escape(&text, false)
            );
        } else {
            in_log.push(one_line(&format!("note[baseline]: {text}")));
        }
    }
    for line in &in_log {
        let _ = writeln!(out, "{line}");
    }
    let mut summary = summary_line(report).trim_end().to_string();
    let left = match unannotated {
        (0, 0) => None,
        (errors, 0) => Some(counted(errors, "error", "errors")),
        (0, warnings) => Some(counted(warnings, "warning", "warnings")),
        (errors, warnings) => Some(format!(
            "{} and {}",
            counted(errors, "error", "errors"),
            counted(warnings, "warning", "warnings")
        )),
    };
    if let Some(left) = left {
        let _ = write!(
            summary,
            "; GitHub shows the first {GITHUB_ANNOTATIONS_PER_TYPE} errors and \
             {GITHUB_ANNOTATIONS_PER_TYPE} warnings of a step as annotations, so {left} \
             {} listed in this step's log only (--format sarif has every finding)",
            if unannotated.0 + unannotated.1 == 1 {
                "is"
            } else {
                "are"
            }
        );
    } else if !in_log.is_empty() {
        summary.push_str("; more notes are listed in this step's log");
    }
    let _ = writeln!(
        out,
        "::notice title=archlint summary::{}",
        github_escape(&summary, false)
    );
    out
}

/// A line of the log: no line break inside, and never a workflow command.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// One line on the baseline entries that no longer occur, if any.
pub fn stale_baseline_text(report: &Report) -> Option<String> {
    let baseline = report.baseline.as_ref()?;
    (!baseline.stale.is_empty()).then(|| {
        format!(
            "{} of {} no longer occur{} (fixed, or the lines changed); --prune-baseline removes {}",
            counted(baseline.stale.len(), "entry", "entries"),
            baseline.path,
            if baseline.stale.len() == 1 { "s" } else { "" },
            if baseline.stale.len() == 1 {
                "it"
            } else {
                "them"
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_are_single_words() {
        let words: Vec<String> =
            words_outside_code_spans("add an `[[allow]] with a reason` to  archlint.toml")
                .map(|w| w.word.to_string())
                .collect();
        assert_eq!(
            words,
            [
                "add",
                "an",
                "`[[allow]] with a reason`",
                "to",
                "archlint.toml"
            ]
        );
    }
    use crate::config::Config;
    use crate::model::{CrateId, SourceFile};
    use crate::rules::{Confidence, Related};
    use crate::source::LineIndex;

    /// A workspace on disk with one SQL literal and the migration creating its table.
    fn report_with_one_finding(dir: &camino::Utf8Path) -> Report {
        let query = "pub async fn on_hand(pool: &PgPool) -> i32 {\n    sqlx::query_scalar(\"SELECT on_hand FROM inventory WHERE sku = $1\")\n}\n";
        let migration = "CREATE TABLE inventory (\n    sku TEXT PRIMARY KEY\n);\n";
        std::fs::create_dir_all(dir.join("orders/src")).expect("mkdir");
        std::fs::create_dir_all(dir.join("inventory/migrations")).expect("mkdir");
        std::fs::write(dir.join("orders/src/stock.rs"), query).expect("write");
        std::fs::write(dir.join("inventory/migrations/0001_init.sql"), migration).expect("write");
        let mut model = Model::default();
        model.root = dir.to_owned();
        let stock = model.add_file(SourceFile {
            path: "orders/src/stock.rs".into(),
            crate_id: Some(CrateId(0)),
            is_test: false,
        });
        let init = model.add_file(SourceFile {
            path: "inventory/migrations/0001_init.sql".into(),
            crate_id: Some(CrateId(1)),
            is_test: false,
        });
        let at = query.find("inventory").expect("table in query");
        let created = migration.find("inventory").expect("table in migration");
        let span = LineIndex::new(query).span(stock, query, at, at + 9);
        let owner = LineIndex::new(migration).span(init, migration, created, created + 9);
        let finding = Finding {
            confidence: Confidence::High,
            rule: "cross-service-db-access",
            level: Level::Deny,
            message: "service `orders` reads table `inventory` owned by service `inventory` (inventory/migrations/0001_init.sql:1)".into(),
            span,
            label: "reads `inventory` here".into(),
            help: "read it through the owner's API".into(),
            related: vec![Related {
                span: owner,
                label: "`inventory` creates `inventory` here".into(),
            }],
            services: vec!["orders".into(), "inventory".into()],
            table: Some("inventory".into()),
            database: None,
        };
        Report {
            model,
            findings: vec![finding],
            config: Config::default(),
            suppressed: 0,
            silenced_inline: 0,
            fingerprints: vec!["0123456789abcdef".into()],
            baseline: None,
        }
    }

    #[test]
    fn sarif_and_json_carry_every_finding() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root =
            camino::Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf-8 temp dir");
        let report = report_with_one_finding(&root);
        let log = sarif(&report);
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["ruleId"], "cross-service-db-access");
        assert_eq!(result["level"], "error");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "orders/src/stock.rs");
        assert_eq!(location["region"]["startLine"], 2);
        assert_eq!(location["region"]["startColumn"], 45);
        assert_eq!(
            result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "inventory/migrations/0001_init.sql"
        );
        let json: serde_json::Value = serde_json::from_str(&render(
            &report,
            Format::Json,
            HumanOptions {
                color: false,
                width: 100,
            },
        ))
        .expect("valid JSON");
        assert_eq!(
            json["findings"][0]["location"]["path"],
            "orders/src/stock.rs"
        );
        assert_eq!(
            json["findings"][0]["services"],
            serde_json::json!(["orders", "inventory"])
        );
    }

    #[test]
    fn human_output_points_at_the_table_and_its_owner() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root =
            camino::Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf-8 temp dir");
        let report = report_with_one_finding(&root);
        let human = render(
            &report,
            Format::Human,
            HumanOptions {
                color: false,
                width: 100,
            },
        );
        insta::assert_snapshot!(human);
        let github = render(
            &report,
            Format::Github,
            HumanOptions {
                color: false,
                width: 100,
            },
        );
        assert!(
            github.starts_with(
                "::error file=orders/src/stock.rs,line=2,col=45,title=cross-service-db-access::"
            ),
            "{github}"
        );
    }

    #[test]
    fn github_annotations_stop_at_githubs_limits_and_end_with_a_summary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root =
            camino::Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf-8 temp dir");
        let mut report = report_with_one_finding(&root);
        let finding = report.findings[0].clone();
        report.findings.clear();
        // Warnings first in the file: annotations still take the errors first.
        for (level, count) in [(Level::Warn, 12), (Level::Deny, 25)] {
            for line in 0..count {
                let mut f = finding.clone();
                f.level = level;
                f.span.line = 100 + line;
                report.findings.push(f);
            }
        }
        let file = report.findings[0].span.file;
        for n in 0..12 {
            report.model.notes.push(Note {
                kind: NoteKind::RustSyntax,
                file,
                span: None,
                message: format!("does not parse ({n})"),
            });
        }
        let out = github(&report);
        let lines: Vec<&str> = out.lines().collect();
        let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(count("::error "), GITHUB_ANNOTATIONS_PER_TYPE);
        assert_eq!(count("::warning "), GITHUB_ANNOTATIONS_PER_TYPE);
        assert_eq!(count("::notice "), GITHUB_ANNOTATIONS_PER_TYPE);
        assert_eq!(count("error[cross-service-db-access] "), 15);
        assert_eq!(count("warning[cross-service-db-access] "), 2);
        assert_eq!(count("note[rust-syntax]: "), 3);
        let first_warning = lines.iter().position(|l| l.starts_with("::warning "));
        let last_error = lines.iter().rposition(|l| l.starts_with("::error "));
        assert!(last_error < first_warning, "{out}");
        assert!(
            lines[0].contains("line=100,"),
            "the first error in file order: {out}"
        );
        assert_eq!(
            lines.last().copied(),
            Some(
                "::notice title=archlint summary::archlint: 25 errors, 12 warnings in 0 services; \
                 GitHub shows the first 10 errors and 10 warnings of a step as annotations, so 15 \
                 errors and 2 warnings are listed in this step's log only (--format sarif has \
                 every finding)"
            )
        );
    }

    #[test]
    fn github_output_within_the_limits_is_all_annotations() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root =
            camino::Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf-8 temp dir");
        let out = github(&report_with_one_finding(&root));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].starts_with("::error "));
        assert_eq!(
            lines[1],
            "::notice title=archlint summary::archlint: 1 error, 0 warnings in 0 services"
        );
    }

    #[test]
    fn github_commands_escape_their_data() {
        assert_eq!(github_escape("a,b:c%", true), "a%2Cb%3Ac%25");
        assert_eq!(github_escape("x\ny", false), "x%0Ay");
    }
}
