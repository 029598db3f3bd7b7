//! Mutation fuzzing of every reader of user input, with proptest: the Rust extractor, the SQL
//! analysis (and the migrations reader built on it), the configuration parser and the
//! compose, Kubernetes, `.env` and config-file readers. Each target starts from a corpus of the
//! project's own files of its kind (fixtures, the corpus workspaces, the examples, the presets)
//! and mutates them: cuts, duplicated and repeated slices (nesting, long chains), splices of
//! another file, tokens from a dictionary of the shapes that once broke a reader. A case fails
//! on a panic, a span outside the text or a run over [`TIME_LIMIT`].
//!
//! `ARCHLINT_FUZZ_CASES` sets the cases per target (default 48, so the suite stays quick);
//! each target prints its executions, corpus size and slowest case. The figures in the README
//! come from `ARCHLINT_FUZZ_CASES=... cargo test --release -p archlint --test fuzz -- --nocapture`.

mod deploy_support;
mod extract_support;

use std::cell::Cell;
use std::time::{Duration, Instant};

use archlint::extract::deploy::DeployFileKind;
use archlint::extract::migrations::extract_dir;
use archlint::extract::rust::extract_file;
use archlint::extract::sql::{analyze, analyze_known_sql};
use archlint::extract::{CrateContext, Facts};
use archlint::model::{CrateId, FileId, Model, Span, SqlDialect};
use camino::{Utf8Path, Utf8PathBuf};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// The longest one input may take to be read, in an unoptimised build on a busy 2-core
/// machine; the largest corpus files take well under a second.
const TIME_LIMIT: Duration = Duration::from_secs(20);

const DIALECTS: [SqlDialect; 4] = [
    SqlDialect::Postgres,
    SqlDialect::MySql,
    SqlDialect::Sqlite,
    SqlDialect::Generic,
];

/// Tokens inserted by the mutations: delimiters, quotes, escapes, multi-byte characters,
/// macro and SQL keywords, YAML and TOML syntax.
const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "'",
    "`",
    "r#\"",
    "\"#",
    "\\",
    "$$",
    "$a$",
    "/*",
    "*/",
    "//",
    "--",
    "#",
    "\n",
    "\r\n",
    "\t",
    " ",
    ";",
    ",",
    ":",
    "::",
    "=",
    "=>",
    "?",
    ".",
    "é",
    "🚐",
    "\u{feff}",
    "\0",
    "sqlx::query!(",
    "format!(",
    "concat!(",
    "include_str!(",
    "macro_rules! m ",
    "#[cfg(test)]",
    "else if x ",
    ".await?",
    " + ",
    "SELECT ",
    " FROM ",
    "INSERT INTO ",
    "UPDATE ",
    " SET ",
    "CREATE TABLE ",
    "WITH ",
    "BEGIN",
    "END",
    "$1",
    "&",
    "*",
    "<<: ",
    "!!binary ",
    "- ",
    "---\n",
    "...",
    "|\n",
    ">\n",
    "[[",
    "]]",
    "${",
    "key = ",
    "postgres://",
    "@",
    "%",
    "\u{202e}",
    "9999999999999999999999",
];

#[derive(Debug, Clone)]
enum Edit {
    /// Remove a slice.
    Delete(u16, u16),
    /// Insert a dictionary token.
    Insert(u16, usize),
    /// Repeat a short slice up to a few hundred times in place (nesting, long chains).
    Repeat(u16, u8, u16),
    /// Insert a slice of another corpus file.
    Splice(usize, u16, u16, u16),
    /// Keep a prefix.
    Truncate(u16),
    /// Replace one character by a byte-ish oddity.
    Replace(u16, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| Edit::Delete(a, b)),
        (any::<u16>(), 0..DICTIONARY.len()).prop_map(|(a, t)| Edit::Insert(a, t)),
        (any::<u16>(), 1..64u8, 1..400u16).prop_map(|(a, l, n)| Edit::Repeat(a, l, n)),
        (any::<usize>(), any::<u16>(), any::<u16>(), any::<u16>())
            .prop_map(|(f, a, b, at)| Edit::Splice(f, a, b, at)),
        any::<u16>().prop_map(Edit::Truncate),
        (any::<u16>(), 0..DICTIONARY.len()).prop_map(|(a, t)| Edit::Replace(a, t)),
    ]
}

/// The char boundary at or before `fraction` (of `u16::MAX`) of `text`.
fn at(text: &str, fraction: u16) -> usize {
    let mut index = text.len() * usize::from(fraction) / usize::from(u16::MAX);
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn slice(text: &str, a: u16, b: u16) -> std::ops::Range<usize> {
    let (a, b) = (at(text, a), at(text, b));
    a.min(b)..a.max(b)
}

fn mutate(corpus: &[String], seed: usize, edits: &[Edit]) -> String {
    let mut text = corpus[seed % corpus.len()].clone();
    for edit in edits {
        match *edit {
            Edit::Delete(a, b) => {
                let range = slice(&text, a, b);
                // Cuts of at most a few hundred bytes keep the input recognisable.
                let end = range.end.min(range.start + 400);
                let end = (end..=range.end)
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(range.end);
                text.replace_range(range.start..end, "");
            }
            Edit::Insert(a, token) => text.insert_str(at(&text, a), DICTIONARY[token]),
            Edit::Repeat(a, len, times) => {
                let start = at(&text, a);
                let end = (start + usize::from(len)..=text.len())
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(text.len());
                let piece = text[start..end].repeat(usize::from(times));
                text.insert_str(start, &piece);
            }
            Edit::Splice(file, a, b, into) => {
                let other = &corpus[file % corpus.len()];
                let range = slice(other, a, b);
                let piece = other[range].to_owned();
                text.insert_str(at(&text, into), &piece);
            }
            Edit::Truncate(a) => text.truncate(at(&text, a)),
            Edit::Replace(a, token) => {
                let start = at(&text, a);
                let end = text[start..]
                    .chars()
                    .next()
                    .map_or(start, |c| start + c.len_utf8());
                text.replace_range(start..end, DICTIONARY[token]);
            }
        }
    }
    text
}

fn repo_root() -> Utf8PathBuf {
    Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Utf8Path::to_path_buf)
        .unwrap_or_default()
}

/// The project's files whose name passes `keep`, under the fixture, corpus, example and preset
/// directories, in a fixed order.
fn corpus(keep: impl Fn(&str, &str) -> bool) -> Vec<String> {
    let root = repo_root();
    let mut files: Vec<(String, String)> = [
        "tests/fixtures",
        "tests/corpus",
        "examples",
        "rules",
        "linter/tests/fixtures",
    ]
    .iter()
    .flat_map(|dir| walkdir::WalkDir::new(root.join(dir)).into_iter())
    .filter_map(Result::ok)
    .filter(|entry| entry.file_type().is_file())
    .filter_map(|entry| {
        let path = entry.path().to_string_lossy().into_owned();
        let name = entry.file_name().to_string_lossy().into_owned();
        keep(&path, &name).then_some(path)
    })
    .filter_map(|path| Some((path.clone(), std::fs::read_to_string(&path).ok()?)))
    .collect();
    files.sort();
    assert!(files.len() > 5, "a corpus of a few files at least");
    files.into_iter().map(|(_, text)| text).collect()
}

fn cases() -> u32 {
    std::env::var("ARCHLINT_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48)
}

/// Runs `check` on mutated corpus files and prints what was run.
fn fuzz(target: &str, corpus: &[String], check: impl Fn(&str) -> Result<(), TestCaseError>) {
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let (executions, bytes, slowest) = (
        Cell::new(0u64),
        Cell::new(0usize),
        Cell::new(Duration::ZERO),
    );
    let started = Instant::now();
    let inputs = (any::<usize>(), prop::collection::vec(edit(), 0..6));
    let result = runner.run(&inputs, |(seed, edits)| {
        let text = mutate(corpus, seed, &edits);
        let start = Instant::now();
        check(&text)?;
        let took = start.elapsed();
        executions.set(executions.get() + 1);
        bytes.set(bytes.get() + text.len());
        slowest.set(slowest.get().max(took));
        prop_assert!(
            took < TIME_LIMIT,
            "{} bytes took {took:?}: {:?}",
            text.len(),
            text.get(..200)
        );
        Ok(())
    });
    eprintln!(
        "fuzz {target}: {} executions ({} MB) in {:.1} s, corpus {} files, slowest {:?}",
        executions.get(),
        bytes.get() / 1_000_000,
        started.elapsed().as_secs_f64(),
        corpus.len(),
        slowest.get()
    );
    if let Err(failure) = result {
        panic!("{target}: {failure}");
    }
}

fn inside(span: &Span, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        span.start <= span.end && text.get(span.start as usize..span.end as usize).is_some(),
        "span {span:?} outside the text"
    );
    Ok(())
}

#[test]
fn rust_extractor() {
    let corpus = corpus(|_, name| name.ends_with(".rs"));
    let root = extract_support::fixture_root();
    let crates = extract_support::crates();
    let cx = CrateContext {
        root: &root,
        krate: &crates[1],
        crates: &crates,
    };
    fuzz("rust extractor", &corpus, |text| {
        let mut facts = Facts::default();
        // On the analysis threads' deep stacks, as `check` runs it.
        archlint::stack::with_deep_stacks(|| {
            extract_file(
                &cx,
                FileId(0),
                Utf8Path::new("billing/src/lib.rs"),
                text,
                &mut facts,
            )
        });
        for query in &facts.queries {
            inside(&query.span, text)?;
            for table in &query.tables {
                inside(&table.span, text)?;
            }
        }
        for connection in &facts.connections {
            inside(&connection.span, text)?;
        }
        Ok(())
    });
}

#[test]
fn sql_analysis() {
    let corpus = corpus(|_, name| name.ends_with(".sql"));
    fuzz("sql analysis", &corpus, |text| {
        for dialect in DIALECTS {
            let analyses = archlint::stack::with_deep_stacks(|| {
                [analyze(text, dialect), analyze_known_sql(text, dialect)]
            });
            for analysis in analyses {
                for table in &analysis.tables {
                    prop_assert!(text.get(table.range.clone()).is_some(), "{table:?}");
                }
                for range in &analysis.statement_ranges {
                    prop_assert!(text.get(range.clone()).is_some(), "{range:?}");
                }
            }
        }
        Ok(())
    });
}

#[test]
fn migrations_reader() {
    let corpus = corpus(|_, name| name.ends_with(".sql"));
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("UTF-8 path");
    let migrations = root.join("billing/migrations");
    std::fs::create_dir_all(&migrations).expect("migrations directory");
    let crates = extract_support::crates();
    let cx = CrateContext {
        root: &root,
        krate: &crates[1],
        crates: &crates,
    };
    fuzz("migrations reader", &corpus, |text| {
        std::fs::write(migrations.join("0001_init.sql"), text)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut model = Model::default();
        model.root = root.clone();
        let facts = archlint::stack::with_deep_stacks(|| {
            extract_dir(
                &mut model,
                &cx,
                Utf8Path::new("billing/migrations"),
                None,
                None,
            )
        });
        for query in &facts.queries {
            inside(&query.span, text)?;
        }
        Ok(())
    });
}

#[test]
fn config_parser() {
    let corpus = corpus(|path, name| {
        name == "archlint.toml" || (path.contains("/rules/") && name.ends_with(".toml"))
    });
    fuzz("config parser", &corpus, |text| {
        // Errors are the expected answer to most mutants; only a panic or a hang fails.
        let _ = archlint::config::Config::from_text(text, Utf8Path::new("archlint.toml"));
        Ok(())
    });
}

fn deployment_corpus() -> Vec<String> {
    corpus(|path, name| {
        name.ends_with(".yml")
            || name.ends_with(".yaml")
            || name.starts_with(".env")
            || (path.contains("/config/") && name.ends_with(".toml"))
    })
}

fn deployment_target(target: &str, kinds: &[(DeployFileKind, &str)]) {
    let corpus = deployment_corpus();
    let root = deploy_support::fixture_root("compose_basic");
    fuzz(target, &corpus, |text| {
        for (kind, path) in kinds {
            let facts = deploy_support::extract_text(&root, path, *kind, Some(CrateId(0)), text);
            for connection in &facts.connections {
                inside(&connection.span, text)?;
            }
            for deployment in &facts.deployments {
                inside(&deployment.span, text)?;
            }
            for note in &facts.notes {
                if let Some(span) = &note.span {
                    inside(span, text)?;
                }
            }
        }
        Ok(())
    });
}

#[test]
fn compose_reader() {
    deployment_target(
        "compose reader",
        &[(DeployFileKind::Compose, "docker-compose.yml")],
    );
}

#[test]
fn kubernetes_reader() {
    deployment_target(
        "kubernetes reader",
        &[(DeployFileKind::Kubernetes, "k8s/app.yaml")],
    );
}

#[test]
fn env_and_config_file_readers() {
    deployment_target(
        "env and config-file readers",
        &[
            (DeployFileKind::DotEnv, ".env"),
            (DeployFileKind::ConfigFile, "config/default.toml"),
            (DeployFileKind::ConfigFile, "config/default.yaml"),
        ],
    );
}
