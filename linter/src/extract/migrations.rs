//! Migration directories (sqlx, diesel, refinery, sea-orm, plain `*.sql`): which tables a
//! crate's migrations create, alter and drop.
//!
//! Layouts: sqlx `<version>_<desc>.sql` and reversible `<version>_<desc>.up.sql`/`.down.sql`;
//! diesel `<version>_<name>/up.sql` + `down.sql`; refinery `V<n>__<name>.sql`; anything else
//! is read as plain `*.sql` files. Down migrations undo earlier ones and are not read: dropping
//! a table there says nothing about who owns it.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;

use crate::extract::sql::SqlAnalysis;
use crate::extract::{sql, CrateContext, Facts};
use crate::model::{
    Access, Certainty, MigrationSet, MigrationTool, Model, Note, NoteKind, SourceFile, Span,
    SqlDialect, SqlOrigin, SqlQuery, StatementEffect, TableName, TableRef,
};
use crate::source::LineIndex;

/// One migration file, in apply order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MigrationFile {
    /// Relative to the workspace root.
    path: Utf8PathBuf,
    /// Version digits (`20240101000000`, `2024-01-01-000000` -> `20240101000000`, `V3` -> `3`).
    version: Option<u128>,
    /// Name used to break ties and order unversioned files.
    name: String,
}

impl Ord for MigrationFile {
    fn cmp(&self, other: &Self) -> Ordering {
        // Versioned files first, by version; unversioned (refinery `U`, plain) after, by name.
        match (self.version, other.version) {
            (Some(a), Some(b)) => a.cmp(&b).then_with(|| self.name.cmp(&other.name)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => self.name.cmp(&other.name),
        }
        .then_with(|| self.path.cmp(&other.path))
    }
}

impl PartialOrd for MigrationFile {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reads one migrations directory (relative to the workspace root) belonging to `cx.krate`,
/// registers its files in `model`, and returns the migration set it defines.
///
/// sea-orm migrations are Rust code, found by the Rust extractor; with that hint the directory
/// (the crate itself) is not scanned for SQL.
pub fn extract_dir(
    model: &mut Model,
    cx: &CrateContext<'_>,
    dir: &Utf8Path,
    tool_hint: Option<MigrationTool>,
    run_at: Option<Span>,
) -> Facts {
    extract_prepared_dir(model, cx, dir, tool_hint, run_at, &mut Prepared::default())
}

/// A migration file's text and analysis, or the note saying why it was not read.
type Analysed = Result<(String, SqlAnalysis), (NoteKind, String)>;

/// Migration files read and analysed ahead of time, in parallel, for [`extract_prepared_dir`].
#[derive(Default)]
pub struct Prepared {
    files: HashMap<Utf8PathBuf, Analysed>,
    dirs: HashSet<Utf8PathBuf>,
}

impl Prepared {
    /// Whether this directory's files were read.
    pub fn has_dir(&self, dir: &Utf8Path) -> bool {
        self.dirs.contains(dir)
    }

    pub fn add(&mut self, other: Prepared) {
        self.files.extend(other.files);
        self.dirs.extend(other.dirs);
    }
}

/// Reads and analyses every migration file of these directories (relative to `root`, each
/// with its crate's dialect) in parallel.
pub fn prepare(root: &Utf8Path, dirs: &[(Utf8PathBuf, SqlDialect)]) -> Prepared {
    let files: Vec<(Utf8PathBuf, SqlDialect)> = dirs
        .iter()
        .filter(|(dir, _)| root.join(dir).is_dir())
        .flat_map(|(dir, dialect)| {
            list_files(root, dir)
                .0
                .into_iter()
                .map(|file| (file.path, *dialect))
        })
        .collect();
    Prepared {
        files: files
            .into_par_iter()
            .map(|(path, dialect)| {
                let analysed = read_and_analyse(root, &path, dialect);
                (path, analysed)
            })
            .collect(),
        dirs: dirs.iter().map(|(dir, _)| dir.clone()).collect(),
    }
}

/// A migration file's text and its analysis, or why it could not be read.
fn read_and_analyse(root: &Utf8Path, path: &Utf8Path, dialect: SqlDialect) -> Analysed {
    let text = match crate::read::read_text(root.join(path), crate::read::FileClass::Sql) {
        Ok(text) => text,
        Err(crate::read::ReadError::NotUtf8) => {
            return Err((
                NoteKind::Unreadable,
                format!("migration {path} is not UTF-8"),
            ))
        }
        Err(error) => {
            return Err((
                NoteKind::of_read_error(&error),
                format!("migration {path} {error}"),
            ))
        }
    };
    let analysis = sql::analyze(&text, dialect);
    Ok((text, analysis))
}

/// [`extract_dir`], taking each file's text and analysis from `prepared` when it is there.
pub fn extract_prepared_dir(
    model: &mut Model,
    cx: &CrateContext<'_>,
    dir: &Utf8Path,
    tool_hint: Option<MigrationTool>,
    run_at: Option<Span>,
    prepared: &mut Prepared,
) -> Facts {
    let mut facts = Facts::default();
    if tool_hint == Some(MigrationTool::SeaOrm) {
        return facts;
    }
    let absolute = cx.root.join(dir);
    if !absolute.is_dir() {
        return facts;
    }
    let (files, layout) = list_files(cx.root, dir);
    let tool = tool_hint.unwrap_or(layout);
    let mut set = MigrationSet {
        unique_keys: Vec::new(),
        primary_keys: Vec::new(),
        crate_id: cx.krate.id,
        dir: dir.to_owned(),
        tool,
        run_at,
        holder: None,
        tables: Vec::new(),
    };
    // What the set already holds, for look-ups that stay constant-time in large migrations.
    let mut keyed_tables: HashSet<TableName> = HashSet::new();
    let mut unique_tables: HashSet<TableName> = HashSet::new();
    for migration in files {
        let file = model.add_file(SourceFile {
            path: migration.path.clone(),
            crate_id: Some(cx.krate.id),
            is_test: false,
        });
        let analysed = match prepared.files.remove(&migration.path) {
            Some(analysed) => analysed,
            None => read_and_analyse(cx.root, &migration.path, cx.krate.dialect),
        };
        let (text, analysis) = match analysed {
            Ok(analysed) => analysed,
            Err((kind, message)) => {
                facts.notes.push(Note {
                    kind,
                    file,
                    span: None,
                    message,
                });
                continue;
            }
        };
        facts
            .suppressions
            .push(crate::suppress::scan(file, &migration.path, &text));
        let index = LineIndex::new(&text);
        let span = |start: usize, end: usize| index.span(file, &text, start, end);
        if let Some(error) = &analysis.parse_error {
            let at = analysis.parse_error_range.clone().unwrap_or(0..0);
            facts.notes.push(Note {
                kind: NoteKind::SqlSyntax,
                file,
                span: Some(span(at.start, at.end)),
                message: format!(
                    "SQL in migration {} does not parse ({error}); its tables were found by keyword scan",
                    migration.path
                ),
            });
        }
        for table in &analysis.tables {
            if matches!(table.access, Access::Create | Access::Alter | Access::Drop) {
                set.tables.push(TableRef {
                    table: table.table.clone(),
                    access: table.access,
                    span: span(table.range.start, table.range.end),
                });
            }
        }
        for key in &analysis.primary_keys {
            if keyed_tables.insert(key.table.clone()) {
                set.primary_keys.push(key.clone());
            }
        }
        // The tables of each statement, found by binary search over the tables in source
        // order (filtering every table for every statement is quadratic in a large file).
        let tables_by_start = TablesByStart::new(&analysis.tables);
        // `UNIQUE` in a table's definition or index: a natural key.
        for range in &analysis.statement_ranges {
            let statement = text.get(range.clone()).unwrap_or_default();
            if !has_word_ignore_case(statement, "UNIQUE") {
                continue;
            }
            for table in tables_by_start.within(&analysis.tables, range) {
                if matches!(table.access, Access::Create | Access::Alter)
                    && unique_tables.insert(table.table.clone())
                {
                    set.unique_keys.push(table.table.clone());
                }
            }
        }
        let scanned: HashSet<&Range<usize>> = analysis.scanned.iter().collect();
        // Data statements (seeds, backfills) and references to other tables (foreign keys).
        for (keyword, range) in analysis.statements.iter().zip(&analysis.statement_ranges) {
            let tables: Vec<TableRef> = tables_by_start
                .within(&analysis.tables, range)
                .filter(|t| matches!(t.access, Access::Read | Access::Write))
                .map(|t| TableRef {
                    table: t.table.clone(),
                    access: t.access,
                    span: span(t.range.start, t.range.end),
                })
                .collect();
            if tables.is_empty() {
                continue;
            }
            facts.queries.push(SqlQuery {
                crate_id: cx.krate.id,
                span: span(range.start, range.end),
                origin: SqlOrigin::Migration,
                certainty: if scanned.contains(range) {
                    Certainty::Unknown
                } else {
                    Certainty::Exact
                },
                tables,
                statements: vec![keyword.clone()],
                function: String::new(),
                effects: vec![StatementEffect::Other],
                inserted_columns: Vec::new(),
                state_columns: Default::default(),
            });
        }
    }
    facts.migrations.push(set);
    facts
}

/// The tables of an analysis ordered by where they start, to find those inside a statement
/// without looking at every table.
struct TablesByStart {
    /// Indexes into the analysis' tables, by `range.start`.
    order: Vec<usize>,
}

impl TablesByStart {
    fn new(tables: &[crate::extract::sql::SqlTable]) -> Self {
        let mut order: Vec<usize> = (0..tables.len()).collect();
        order.sort_by_key(|&i| tables[i].range.start);
        TablesByStart { order }
    }

    /// The tables lying inside `range`, in the analysis' own order.
    fn within<'t>(
        &self,
        tables: &'t [crate::extract::sql::SqlTable],
        range: &Range<usize>,
    ) -> impl Iterator<Item = &'t crate::extract::sql::SqlTable> {
        let first = self
            .order
            .partition_point(|&i| tables[i].range.start < range.start);
        let mut inside: Vec<usize> = self.order[first..]
            .iter()
            .copied()
            .take_while(|&i| tables[i].range.start <= range.end)
            .filter(|&i| tables[i].range.end <= range.end)
            .collect();
        inside.sort_unstable();
        inside.into_iter().map(move |i| &tables[i])
    }
}

/// The migration files of a directory in apply order, and the tool its layout suggests.
fn list_files(root: &Utf8Path, dir: &Utf8Path) -> (Vec<MigrationFile>, MigrationTool) {
    let mut files = Vec::new();
    let mut diesel_dirs = 0usize;
    let mut refinery_files = 0usize;
    let mut sqlx_files = 0usize;
    for entry in read_dir_sorted(&root.join(dir)) {
        let name = entry.as_str().rsplit('/').next().unwrap_or("").to_owned();
        let relative = dir.join(&name);
        if entry.is_dir() {
            // diesel (and similar): one directory per migration holding up.sql.
            let up = entry.join("up.sql");
            // Anything but a directory is listed: the reader refuses, with a note, what is
            // not a regular file.
            if up.exists() {
                diesel_dirs += 1;
                files.push(MigrationFile {
                    path: relative.join("up.sql"),
                    version: version_of(&name),
                    name: name.clone(),
                });
            } else {
                for inner in read_dir_sorted(&entry) {
                    let inner_name = inner.as_str().rsplit('/').next().unwrap_or("").to_owned();
                    if !inner.is_dir() && is_up_sql(&inner_name) {
                        files.push(MigrationFile {
                            path: relative.join(&inner_name),
                            version: version_of(&name),
                            name: format!("{name}/{inner_name}"),
                        });
                    }
                }
            }
            continue;
        }
        if !is_up_sql(&name) {
            continue;
        }
        let refinery = refinery_version(&name);
        if refinery.is_some() || name.starts_with('U') && name.contains("__") {
            refinery_files += 1;
        } else if name.starts_with(|c: char| c.is_ascii_digit()) && name.contains('_') {
            sqlx_files += 1;
        }
        files.push(MigrationFile {
            path: relative,
            version: refinery.or_else(|| version_of(&name)),
            name,
        });
    }
    files.sort();
    let layout = if refinery_files > 0 && refinery_files >= sqlx_files {
        MigrationTool::Refinery
    } else if diesel_dirs > 0 {
        MigrationTool::Diesel
    } else if sqlx_files > 0 {
        MigrationTool::Sqlx
    } else {
        MigrationTool::Plain
    };
    (files, layout)
}

fn read_dir_sorted(dir: &Utf8Path) -> Vec<Utf8PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<Utf8PathBuf> = entries
        .filter_map(Result::ok)
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
        .filter(|p| !p.file_name().is_some_and(|n| n.starts_with('.')))
        .collect();
    paths.sort();
    paths
}

/// `.sql` files that apply a migration (not `down.sql`, `*.down.sql`, `*.undo.sql`).
fn is_up_sql(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".sql")
        && lower != "down.sql"
        && !lower.ends_with(".down.sql")
        && !lower.ends_with(".undo.sql")
}

/// Leading version digits (`-` separators ignored): `20240101000000_x.sql`, `2024-01-01-000000_x`.
fn version_of(name: &str) -> Option<u128> {
    let digits: String = name
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .filter(char::is_ascii_digit)
        .take(38)
        .collect();
    digits.parse().ok()
}

/// refinery `V<n>__<name>.sql` (also lower-case `v`).
fn refinery_version(name: &str) -> Option<u128> {
    let rest = name.strip_prefix(['V', 'v'])?;
    let (version, _) = rest.split_once("__")?;
    version.parse().ok()
}

/// `word` as a whole word in `text`, ignoring ASCII case.
fn has_word_ignore_case(text: &str, word: &str) -> bool {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    (0..bytes.len().saturating_sub(word.len() - 1)).any(|i| {
        bytes[i..i + word.len()].eq_ignore_ascii_case(word.as_bytes())
            && (i == 0 || !is_word(bytes[i - 1]))
            && bytes.get(i + word.len()).is_none_or(|b| !is_word(*b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let file = |name: &str, version: Option<u128>| MigrationFile {
            path: Utf8PathBuf::from(name),
            version,
            name: name.to_owned(),
        };
        let mut files = [
            file("V10__c.sql", refinery_version("V10__c.sql")),
            file("seed.sql", None),
            file("V2__b.sql", refinery_version("V2__b.sql")),
        ];
        files.sort();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["V2__b.sql", "V10__c.sql", "seed.sql"]);
        assert_eq!(version_of("2024-01-01-000000_create"), Some(20240101000000));
        assert_eq!(version_of("20240101_x.up.sql"), Some(20240101));
        assert_eq!(version_of("init.sql"), None);
    }

    #[test]
    fn down_files_are_not_read() {
        assert!(is_up_sql("0001_init.up.sql"));
        assert!(is_up_sql("up.sql"));
        assert!(is_up_sql("V1__init.sql"));
        assert!(!is_up_sql("0001_init.down.sql"));
        assert!(!is_up_sql("down.sql"));
        assert!(!is_up_sql("README.md"));
    }

    #[test]
    fn unique_is_found_as_a_whole_word() {
        assert!(super::has_word_ignore_case("email TEXT unique,", "UNIQUE"));
        assert!(super::has_word_ignore_case("CREATE UNIQUE INDEX", "UNIQUE"));
        assert!(!super::has_word_ignore_case(
            "is_unique_name TEXT",
            "UNIQUE"
        ));
        assert!(!super::has_word_ignore_case("", "UNIQUE"));
    }
}
