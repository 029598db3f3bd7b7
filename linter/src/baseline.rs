//! Baselines: today's findings, recorded so that later checks report only new ones.
//!
//! A finding is recorded by a fingerprint that survives unrelated edits: a hash of its rule,
//! the service at fault, the file's path and the text of the lines its primary location
//! spans (whitespace collapsed) with the located text itself, plus its occurrence among the
//! findings sharing all of that. Line numbers are not part of it, so lines inserted above a
//! finding keep it in the baseline; an edit of the finding's own lines makes it new. SARIF
//! results carry the same fingerprint (`partialFingerprints`).
//!
//! ```json
//! {
//!   "version": 1,
//!   "tool": "archlint",
//!   "entries": [
//!     { "fingerprint": "5f0c8d2e9b1a7c34", "rule": "shared-database", "service": "payments",
//!       "path": "docker-compose.yml", "message": "services `payments` and ..." }
//!   ]
//! }
//! ```
//!
//! `rule`, `service`, `path` and `message` are for the people reading the file; only the
//! fingerprint is matched.

use std::ops::Range;

use camino::{Utf8Path, Utf8PathBuf};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::model::{FileId, Model, Span};
use crate::read::FileClass;
use crate::rules::Finding;
use crate::source::LineIndex;

/// The format version this archlint writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub path: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u64,
    #[serde(default)]
    tool: Option<String>,
    entries: Vec<Entry>,
}

/// A baseline read from a file.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub path: Utf8PathBuf,
    pub entries: Vec<Entry>,
}

/// What a baseline did to a check's findings.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub path: Utf8PathBuf,
    /// Entries that matched a finding (the finding was left out), in file order.
    pub matched: Vec<Entry>,
    /// Entries that matched none: fixed, moved or edited since. `--prune-baseline` drops them.
    pub stale: Vec<Entry>,
}

/// A baseline that cannot be used: the check stops (exit 2) rather than report everything
/// or nothing.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {message}")]
    Read { path: Utf8PathBuf, message: String },
    #[error("baseline {path} is not valid: {message}")]
    Invalid {
        path: Utf8PathBuf,
        message: String,
        /// The file's text and where the problem is, when it points at a place.
        at: Option<(Box<miette::NamedSource<String>>, Range<usize>)>,
    },
    #[error(
        "baseline {path} has format version {found}, written by a newer archlint; this one reads \
         version {FORMAT_VERSION}"
    )]
    FutureVersion { path: Utf8PathBuf, found: u64 },
    #[error("cannot write baseline {path}: {message}")]
    Write { path: Utf8PathBuf, message: String },
}

impl BaselineError {
    /// The 1-based line and column an invalid baseline's problem is at, if known.
    pub fn position(&self) -> Option<(u32, u32)> {
        match self {
            BaselineError::Invalid {
                at: Some((source, range)),
                ..
            } => {
                let text = source.inner();
                Some(LineIndex::new(text).position(text, range.start))
            }
            _ => None,
        }
    }
}

impl miette::Diagnostic for BaselineError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("archlint::baseline"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let help = match self {
            BaselineError::Read { .. } => "check the path given to --baseline",
            BaselineError::Invalid { .. } => {
                "a baseline is written by `cargo archlint --write-baseline FILE`; write it again \
                 rather than edit it by hand"
            }
            BaselineError::FutureVersion { .. } => {
                "upgrade archlint, or write the baseline again with this version"
            }
            BaselineError::Write { .. } => "check that the directory exists and is writable",
        };
        Some(Box::new(help))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match self {
            BaselineError::Invalid {
                at: Some((source, _)),
                ..
            } => Some(source.as_ref() as &dyn miette::SourceCode),
            _ => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        match self {
            BaselineError::Invalid {
                at: Some((_, range)),
                message,
                ..
            } => Some(Box::new(std::iter::once(
                miette::LabeledSpan::new_primary_with_span(
                    Some(message.clone()),
                    miette::SourceSpan::from(range.clone()),
                ),
            ))),
            _ => None,
        }
    }
}

impl Baseline {
    /// Reads and checks a baseline file.
    pub fn load(path: &Utf8Path) -> Result<Baseline, BaselineError> {
        let text =
            crate::read::read_text(path, FileClass::Baseline).map_err(|e| BaselineError::Read {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        let invalid = |message: String, at: Option<Range<usize>>| BaselineError::Invalid {
            path: path.to_owned(),
            message,
            at: at.map(|range| {
                (
                    Box::new(miette::NamedSource::new(path.as_str(), text.clone())),
                    range,
                )
            }),
        };
        let at_json_error = |error: &serde_json::Error| {
            let index = LineIndex::new(&text);
            let offset = index.offset(&text, error.line(), error.column().saturating_sub(1));
            Some(offset..offset)
        };
        // The version first: a newer format may not parse as this one.
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| invalid(format!("not JSON: {e}"), at_json_error(&e)))?;
        let version = match value.get("version") {
            Some(serde_json::Value::Number(n)) if n.as_u64().is_some_and(|v| v >= 1) => {
                n.as_u64().unwrap_or(FORMAT_VERSION)
            }
            Some(other) => {
                return Err(invalid(
                    format!(
                        "`version` must be a format version such as {FORMAT_VERSION}, not {other}"
                    ),
                    None,
                ))
            }
            None => {
                return Err(invalid(
                    "no `version`: not an archlint baseline".to_string(),
                    None,
                ))
            }
        };
        if version > FORMAT_VERSION {
            return Err(BaselineError::FutureVersion {
                path: path.to_owned(),
                found: version,
            });
        }
        let file: BaselineFile =
            serde_json::from_str(&text).map_err(|e| invalid(e.to_string(), at_json_error(&e)))?;
        for (i, entry) in file.entries.iter().enumerate() {
            let problem = if !is_fingerprint(&entry.fingerprint) {
                Some(format!(
                    "`{}` is not a fingerprint (16 lower-case hex digits)",
                    entry.fingerprint
                ))
            } else if !crate::rules::is_known(&entry.rule) {
                Some(format!("unknown rule `{}`", entry.rule))
            } else if entry.path.is_empty() {
                Some("an empty `path`".to_string())
            } else {
                None
            };
            if let Some(problem) = problem {
                let at = text
                    .find(&format!("\"{}\"", entry.fingerprint))
                    .map(|start| start..start + entry.fingerprint.len() + 2);
                return Err(invalid(format!("entry {}: {problem}", i + 1), at));
            }
        }
        Ok(Baseline {
            path: path.to_owned(),
            entries: file.entries,
        })
    }

    /// Leaves out the findings this baseline records (with their fingerprints, which are
    /// kept aligned), and says which entries matched and which did not.
    pub fn filter(self, findings: &mut Vec<Finding>, fingerprints: &mut Vec<String>) -> Outcome {
        let mut unmatched: FxHashMap<&str, usize> = FxHashMap::default();
        for (i, entry) in self.entries.iter().enumerate() {
            unmatched.entry(entry.fingerprint.as_str()).or_insert(i);
        }
        let mut matched = vec![false; self.entries.len()];
        let mut keep = Vec::with_capacity(findings.len());
        for fingerprint in fingerprints.iter() {
            match unmatched.remove(fingerprint.as_str()) {
                Some(i) => {
                    matched[i] = true;
                    keep.push(false);
                }
                None => keep.push(true),
            }
        }
        let mut flags = keep.iter();
        findings.retain(|_| flags.next().copied().unwrap_or(true));
        let mut flags = keep.iter();
        fingerprints.retain(|_| flags.next().copied().unwrap_or(true));
        let (matched, stale): (Vec<_>, Vec<_>) = self
            .entries
            .into_iter()
            .zip(matched)
            .partition(|(_, matched)| *matched);
        Outcome {
            path: self.path,
            matched: matched.into_iter().map(|(e, _)| e).collect(),
            stale: stale.into_iter().map(|(e, _)| e).collect(),
        }
    }
}

fn is_fingerprint(text: &str) -> bool {
    text.len() == 16
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The baseline entries of these findings (with their fingerprints, aligned).
pub fn entries(model: &Model, findings: &[Finding], fingerprints: &[String]) -> Vec<Entry> {
    findings
        .iter()
        .zip(fingerprints)
        .map(|(f, fingerprint)| Entry {
            fingerprint: fingerprint.clone(),
            rule: f.rule.to_string(),
            service: f.services.first().cloned(),
            path: model.file(f.span.file).path.to_string(),
            message: f.message.clone(),
        })
        .collect()
}

/// Writes a baseline file (through a temporary file beside it, so a failed write leaves the
/// old one whole).
pub fn write(path: &Utf8Path, entries: Vec<Entry>) -> Result<(), BaselineError> {
    let failed = |e: std::io::Error| BaselineError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let file = BaselineFile {
        version: FORMAT_VERSION,
        tool: Some("archlint".to_string()),
        entries,
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| BaselineError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    })? + "\n";
    let name = path.file_name().unwrap_or("baseline.json");
    let temporary = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&temporary, text).map_err(failed)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        failed(e)
    })
}

/// The fingerprint of each finding (findings sorted by location, as a check returns them).
pub fn fingerprints(model: &Model, findings: &[Finding]) -> Vec<String> {
    let mut texts: FxHashMap<FileId, Option<String>> = FxHashMap::default();
    let mut occurrences: FxHashMap<u64, u64> = FxHashMap::default();
    findings
        .iter()
        .map(|finding| {
            let path = &model.file(finding.span.file).path;
            let text = texts.entry(finding.span.file).or_insert_with(|| {
                // Findings only point into files that were read, under the largest cap.
                crate::read::read_text(model.root.join(path), FileClass::Rust).ok()
            });
            let snippet = text
                .as_deref()
                .map(|text| snippet(text, finding.span))
                .unwrap_or_default();
            let mut key = Fnv::new();
            for part in [
                finding.rule,
                finding.services.first().map_or("", String::as_str),
                path.as_str(),
                &snippet,
            ] {
                key.write(part.as_bytes());
                key.write(&[0]);
            }
            let key = key.finish();
            let occurrence = occurrences.entry(key).or_insert(0);
            let mut hash = Fnv::new();
            hash.write(&key.to_le_bytes());
            hash.write(&occurrence.to_le_bytes());
            *occurrence += 1;
            format!("{:016x}", hash.finish())
        })
        .collect()
}

/// The lines a span touches and the span's own text, each with runs of whitespace made one
/// space.
fn snippet(text: &str, span: Span) -> String {
    let start = (span.start as usize).min(text.len());
    let end = (span.end as usize).clamp(start, text.len());
    let line_start = memchr::memrchr(b'\n', &text.as_bytes()[..start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &text.as_bytes()[end..]).map_or(text.len(), |i| end + i);
    let collapse = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let lines = text.get(line_start..line_end).unwrap_or_default();
    let own = text.get(start..end).unwrap_or_default();
    format!("{}\u{0}{}", collapse(lines), collapse(own))
}

/// FNV-1a, 64 bits: stable across platforms, versions and runs, as a fingerprint must be.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_ignore_indentation_and_take_whole_lines() {
        let text = "fn f() {\n    let x = query(\"SELECT a\n        FROM t\");\n}\n";
        let start = text.find("t\"").expect("t");
        let span = Span {
            file: FileId(0),
            start: start as u32,
            end: start as u32 + 1,
            line: 3,
            column: 14,
        };
        assert_eq!(snippet(text, span), "FROM t\");\u{0}t");
        let moved = format!(
            "\n\n// a comment\n{}",
            text.replace("        FROM", "  FROM")
        );
        let start = moved.find("t\"").expect("t");
        let span = Span {
            start: start as u32,
            end: start as u32 + 1,
            line: 6,
            ..span
        };
        assert_eq!(snippet(&moved, span), "FROM t\");\u{0}t");
    }

    #[test]
    fn fnv_is_the_published_function() {
        // Test vectors of FNV-1a 64.
        let hash = |s: &str| {
            let mut h = Fnv::new();
            h.write(s.as_bytes());
            h.finish()
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }
}
