//! The workspace walker: finds the files each extractor reads, registers them in the model,
//! extracts them in parallel and merges the facts in file order.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;

use crate::cache::Cache;
use crate::config::Config;
use crate::extract::deploy::{DeployFile, DeployFileKind};
use crate::extract::{self, CrateContext, Facts};
use crate::model::{
    CrateId, FileId, MigrationRun, MigrationSet, MigrationTool, Model, Note, NoteKind, SourceFile,
};
use crate::read::FileClass;

/// What the walker does with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Rust,
    Deploy(DeployFileKind),
    /// A `.yaml`/`.yml` that is a Kubernetes manifest if it has `apiVersion:` and `kind:`.
    MaybeKubernetes,
}

impl FileKind {
    /// How the kind is named in cache keys.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Rust => "rust",
            FileKind::Deploy(DeployFileKind::DotEnv) => "dotenv",
            FileKind::Deploy(DeployFileKind::Compose) => "compose",
            FileKind::Deploy(DeployFileKind::Kubernetes) => "kubernetes",
            FileKind::Deploy(DeployFileKind::ConfigFile) => "config-file",
            FileKind::MaybeKubernetes => "maybe-kubernetes",
        }
    }
}

/// A file to extract.
#[derive(Debug, Clone, Copy)]
pub struct WorkItem {
    pub file: FileId,
    pub kind: FileKind,
    pub crate_id: Option<CrateId>,
}

/// Leaves out the facts of Rust files that no crate root reaches through `mod`
/// declarations: the compiler never builds them, so they are not judged, and a note names
/// each. A crate is left whole when one of its files may declare modules archlint cannot
/// see (an item macro, a file that did not parse) or when none of its roots is found.
pub fn leave_out_undeclared(model: &Model, items: &[WorkItem], facts: &mut [Facts]) {
    let mut by_crate: BTreeMap<CrateId, Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        if let (FileKind::Rust, Some(krate)) = (item.kind, item.crate_id) {
            if !model.file(item.file).is_test {
                by_crate.entry(krate).or_default().push(i);
            }
        }
    }
    for (krate, files) in by_crate {
        let opaque = files
            .iter()
            .any(|&i| facts[i].modules.as_ref().is_none_or(|m| m.opaque));
        if opaque {
            continue;
        }
        let roots = crate_roots(model, krate);
        let index: BTreeMap<&Utf8Path, usize> = files
            .iter()
            .map(|&i| (model.file(items[i].file).path.as_path(), i))
            .collect();
        let mut queue: Vec<usize> = files
            .iter()
            .copied()
            .filter(|&i| roots.iter().any(|r| *r == model.file(items[i].file).path))
            .collect();
        if queue.is_empty() {
            continue;
        }
        let mut reached = vec![false; items.len()];
        for &i in &queue {
            reached[i] = true;
        }
        while let Some(i) = queue.pop() {
            let children = facts[i].modules.iter().flat_map(|m| &m.children);
            for j in children.filter_map(|child| index.get(child.as_path()).copied()) {
                if !reached[j] {
                    reached[j] = true;
                    queue.push(j);
                }
            }
        }
        for &i in files.iter().filter(|&&i| !reached[i]) {
            let file = items[i].file;
            facts[i] = Facts {
                notes: vec![Note {
                    kind: NoteKind::Undeclared,
                    file,
                    span: None,
                    message: format!(
                        "{}: no `mod` of crate `{}` declares this file, so it is not compiled and not judged",
                        model.file(file).path,
                        model.krate(krate).name
                    ),
                }],
                ..Facts::default()
            };
        }
    }
}

/// The files the compiler starts a crate from: `src/lib.rs`, `src/main.rs`, `src/bin/*.rs`,
/// `src/bin/*/main.rs`, `build.rs`, and the `path`s of `[lib]`, `[[bin]]` and `build` in its
/// manifest. Paths are relative to the workspace root.
fn crate_roots(model: &Model, krate: CrateId) -> Vec<Utf8PathBuf> {
    let krate = model.krate(krate);
    let dir = &krate.dir;
    let mut roots: Vec<Utf8PathBuf> = ["src/lib.rs", "src/main.rs", "build.rs"]
        .iter()
        .map(|p| dir.join(p))
        .collect();
    if let Ok(entries) = std::fs::read_dir(model.root.join(dir).join("src/bin")) {
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            roots.push(dir.join("src/bin").join(&name));
            roots.push(dir.join("src/bin").join(&name).join("main.rs"));
        }
    }
    let manifest = model.root.join(&model.file(krate.manifest).path);
    let Ok(text) = crate::read::read_text(&manifest, FileClass::Manifest) else {
        return roots;
    };
    let Ok(value) = text.parse::<toml::Table>() else {
        return roots;
    };
    let mut declared: Vec<&str> = Vec::new();
    if let Some(path) = value
        .get("lib")
        .and_then(|l| l.get("path"))
        .and_then(|p| p.as_str())
    {
        declared.push(path);
    }
    for bin in value
        .get("bin")
        .and_then(|b| b.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(path) = bin.get("path").and_then(|p| p.as_str()) {
            declared.push(path);
        }
    }
    if let Some(path) = value
        .get("package")
        .and_then(|p| p.get("build"))
        .and_then(|b| b.as_str())
    {
        declared.push(path);
    }
    roots.extend(
        declared
            .into_iter()
            .filter_map(|p| extract::rust::normalise_path(dir, p)),
    );
    roots
}

/// Walks the workspace, registering every file of interest. Returns the work list, in
/// deterministic (sorted path) order, and the migration directories found next to manifests.
pub fn collect(model: &mut Model, config: &Config) -> Vec<WorkItem> {
    let root = model.root.clone();
    let crate_dirs: BTreeMap<Utf8PathBuf, CrateId> =
        model.crates.iter().map(|c| (c.dir.clone(), c.id)).collect();
    let mut found: Vec<(Utf8PathBuf, FileKind, Option<CrateId>, bool)> = Vec::new();
    let walker = walkdir::WalkDir::new(&root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            if !entry.file_type().is_dir() || entry.depth() == 0 {
                return true;
            }
            let Some(path) = Utf8Path::from_path(entry.path()) else {
                return false;
            };
            let Ok(rel) = path.strip_prefix(&root) else {
                return false;
            };
            keep_dir(rel, path, &crate_dirs, config)
        });
    for entry in walker.filter_map(Result::ok) {
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(path) = Utf8Path::from_path(entry.path()) else {
            continue;
        };
        let Ok(rel) = path.strip_prefix(&root) else {
            continue;
        };
        let owner = owning_crate(rel, &crate_dirs);
        let Some(kind) = classify(rel, owner.map(|id| model.krate(id).dir.as_path())) else {
            continue;
        };
        if kind == FileKind::Rust && owner.is_none() {
            continue;
        }
        let is_test = owner.is_some_and(|id| is_test_path(rel, &model.krate(id).dir));
        found.push((rel.to_owned(), kind, owner, is_test));
    }
    found.extend(
        deployment_files_above(&root)
            .into_iter()
            .map(|(path, kind)| (path, kind, None, false)),
    );
    found
        .into_iter()
        .map(|(path, kind, crate_id, is_test)| {
            let file = model.add_file(SourceFile {
                path,
                crate_id,
                is_test,
            });
            WorkItem {
                file,
                kind,
                crate_id,
            }
        })
        .collect()
}

/// How far above the workspace deployment files are looked for, at most.
const MAX_LEVELS_ABOVE: usize = 6;
/// How deep below each directory above the workspace they are looked for.
const MAX_DEPTH_ABOVE: usize = 4;

/// Deployment files (compose, `.env`, Kubernetes manifests) above a workspace that sits in a
/// subdirectory of its repository: a compose file at the repository root says how the
/// workspace's services run and which databases they share. Looked for only inside the
/// repository (up to the nearest directory holding `.git`; nowhere when there is none, or when
/// the workspace is the repository root), leaving out the branch already walked and any
/// directory that is another Cargo project. Paths are relative to the workspace root
/// (`../docker-compose.yml`).
fn deployment_files_above(root: &Utf8Path) -> Vec<(Utf8PathBuf, FileKind)> {
    if root.join(".git").exists() {
        return Vec::new();
    }
    let Some(levels) = root
        .ancestors()
        .skip(1)
        .take(MAX_LEVELS_ABOVE)
        .position(|dir| dir.join(".git").exists())
        .map(|index| index + 1)
    else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut walked = root;
    for (level, dir) in root.ancestors().skip(1).take(levels).enumerate() {
        // The root of another Cargo project: what lies above belongs to that project.
        if dir.join("Cargo.toml").is_file() {
            break;
        }
        let up = "../".repeat(level + 1);
        let walker = walkdir::WalkDir::new(dir)
            .max_depth(MAX_DEPTH_ABOVE)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| {
                if !entry.file_type().is_dir() || entry.depth() == 0 {
                    return true;
                }
                let Some(path) = Utf8Path::from_path(entry.path()) else {
                    return false;
                };
                let name = path.file_name().unwrap_or("");
                let helm_templates = name == "templates"
                    && path
                        .parent()
                        .is_some_and(|p| p.join("Chart.yaml").is_file());
                let skipped = path == walked
                    || matches!(name, "target" | "node_modules")
                    || name.starts_with('.')
                    || helm_templates
                    || path.join("Cargo.toml").is_file();
                !skipped
            });
        for entry in walker.filter_map(Result::ok) {
            if !entry.file_type().is_file() {
                continue;
            }
            let Some(path) = Utf8Path::from_path(entry.path()) else {
                continue;
            };
            let Ok(rel) = path.strip_prefix(dir) else {
                continue;
            };
            let kind = classify(rel, None);
            if let Some(
                kind @ (FileKind::Deploy(DeployFileKind::Compose | DeployFileKind::DotEnv)
                | FileKind::MaybeKubernetes),
            ) = kind
            {
                found.push((Utf8PathBuf::from(format!("{up}{rel}")), kind));
            }
        }
        walked = dir;
    }
    found
}

fn keep_dir(
    rel: &Utf8Path,
    abs: &Utf8Path,
    crate_dirs: &BTreeMap<Utf8PathBuf, CrateId>,
    config: &Config,
) -> bool {
    let Some(name) = rel.file_name() else {
        return true;
    };
    if name == "target" || name == "node_modules" || name.starts_with('.') && name != ".sqlx" {
        return false;
    }
    // A crate's migration files are registered by the migrations extractor.
    if name == "migrations" && rel.parent().is_some_and(|p| crate_dirs.contains_key(p)) {
        return false;
    }
    // A nested workspace or crate that is not a member is not part of this workspace.
    if !crate_dirs.contains_key(rel) && abs.join("Cargo.toml").is_file() {
        return false;
    }
    // Unrendered Helm templates are not YAML.
    if name == "templates" && abs.parent().is_some_and(|p| p.join("Chart.yaml").is_file()) {
        return false;
    }
    if !config.include_tests {
        if let Some(parent) = rel.parent() {
            if crate_dirs.contains_key(parent) && matches!(name, "tests" | "benches" | "examples") {
                return false;
            }
        }
    }
    true
}

fn owning_crate(rel: &Utf8Path, crate_dirs: &BTreeMap<Utf8PathBuf, CrateId>) -> Option<CrateId> {
    rel.ancestors()
        .skip(1)
        .find_map(|dir| crate_dirs.get(dir).copied())
}

fn is_test_path(rel: &Utf8Path, crate_dir: &Utf8Path) -> bool {
    // A workspace member kept under the workspace's `examples/` shows how to use the others;
    // like a crate's own examples, it is not deployed code.
    let example_member = crate_dir
        .components()
        .next()
        .is_some_and(|first| matches!(first.as_str(), "examples" | "example"));
    example_member
        || rel
            .strip_prefix(crate_dir)
            .ok()
            .and_then(|inner| inner.components().next())
            .is_some_and(|first| matches!(first.as_str(), "tests" | "benches" | "examples"))
}

/// Decides a file's kind from its path (relative to the workspace root).
pub fn classify(rel: &Utf8Path, crate_dir: Option<&Utf8Path>) -> Option<FileKind> {
    let name = rel.file_name()?;
    let extension = rel.extension().unwrap_or("");
    if extension == "rs" {
        return Some(FileKind::Rust);
    }
    if name == ".env" || name.starts_with(".env.") {
        return Some(FileKind::Deploy(DeployFileKind::DotEnv));
    }
    let is_yaml = matches!(extension, "yaml" | "yml");
    if is_yaml && (name.starts_with("docker-compose") || name.starts_with("compose")) {
        return Some(FileKind::Deploy(DeployFileKind::Compose));
    }
    let parent = rel.parent().unwrap_or(Utf8Path::new(""));
    let in_config_dir = parent.file_name() == Some("config")
        && parent
            .parent()
            .is_some_and(|p| p.as_str().is_empty() || Some(p) == crate_dir);
    if in_config_dir && (is_yaml || extension == "toml") {
        return Some(FileKind::Deploy(DeployFileKind::ConfigFile));
    }
    if is_yaml {
        return Some(FileKind::MaybeKubernetes);
    }
    None
}

fn looks_like_kubernetes(text: &str) -> bool {
    let mut api_version = false;
    let mut kind = false;
    for line in text.lines() {
        api_version |= line.starts_with("apiVersion:");
        kind |= line.starts_with("kind:");
        if api_version && kind {
            return true;
        }
    }
    false
}

/// Reads every work item and runs its extractor, in parallel; facts come back in item order.
pub fn extract(model: &Model, items: &[WorkItem]) -> Vec<Facts> {
    extract_cached(model, items, None)
}

/// [`extract`], taking the facts of each file whose entry in `cache` is current from there,
/// and writing the entries of the others.
pub fn extract_cached(model: &Model, items: &[WorkItem], cache: Option<&Cache>) -> Vec<Facts> {
    let root = model.root.as_path();
    items
        .par_iter()
        .map(|item| {
            let path = &model.file(item.file).path;
            let text = match read_text(root, path, item.kind) {
                Ok(text) => text,
                Err(error) => return unread(item.file, error),
            };
            let Some(cache) = cache else {
                return extract_text(model, item, &text);
            };
            let slot = cache.slot(path, item.kind.name(), item.crate_id);
            let content = crate::cache::content_hash(&text);
            if let Some(facts) = cache.load(&slot, &content, item.file) {
                return facts;
            }
            let (facts, deps) = crate::cache::deps::recording(|| extract_text(model, item, &text));
            cache.store(&slot, &content, item.file, deps, &facts);
            facts
        })
        .collect()
}

/// The note for a file of the walk that could not be read.
fn unread(file: FileId, error: crate::read::ReadError) -> Facts {
    let mut facts = Facts::default();
    let (kind, message) = match error {
        crate::read::ReadError::NotUtf8 => {
            (NoteKind::Unreadable, "not valid UTF-8; skipped".to_string())
        }
        error => (NoteKind::of_read_error(&error), error.to_string()),
    };
    facts.notes.push(Note {
        kind,
        file,
        span: None,
        message,
    });
    facts
}

/// Runs a file's extractor on its text (and scans it for suppression comments).
fn extract_text(model: &Model, item: &WorkItem, text: &str) -> Facts {
    let root = model.root.as_path();
    let path = &model.file(item.file).path;
    let mut facts = Facts::default();
    facts
        .suppressions
        .push(crate::suppress::scan(item.file, path, text));
    let deploy_kind = match item.kind {
        FileKind::Rust => {
            if let Some(crate_id) = item.crate_id {
                let cx = CrateContext {
                    root,
                    krate: model.krate(crate_id),
                    crates: &model.crates,
                };
                extract::rust::extract_file(&cx, item.file, path, text, &mut facts);
            }
            return facts;
        }
        FileKind::Deploy(kind) => kind,
        FileKind::MaybeKubernetes if looks_like_kubernetes(text) => DeployFileKind::Kubernetes,
        FileKind::MaybeKubernetes => return facts,
    };
    let input = DeployFile {
        kind: deploy_kind,
        file: item.file,
        root,
        path,
        owner: item.crate_id,
        text,
    };
    extract::deploy::extract_file(&input, &model.crates, &mut facts);
    facts
}

/// Reads a file of the walk; the error is shown after the file's path.
fn read_text(
    root: &Utf8Path,
    path: &Utf8Path,
    kind: FileKind,
) -> Result<String, crate::read::ReadError> {
    let class = match kind {
        FileKind::Rust => FileClass::Rust,
        FileKind::Deploy(DeployFileKind::DotEnv | DeployFileKind::ConfigFile) => {
            FileClass::Settings
        }
        FileKind::Deploy(_) | FileKind::MaybeKubernetes => FileClass::Deployment,
    };
    crate::read::read_text(root.join(path), class)
}

/// A migrations directory to read, with the calls that run it.
#[derive(Debug, Clone)]
struct MigrationDir {
    crate_id: CrateId,
    tool: Option<MigrationTool>,
    runs: Vec<(CrateId, crate::model::Span, Option<String>)>,
}

/// The migrations directories next to the manifests (each crate's `migrations/`, or the one
/// its `diesel.toml` names), known before any code is read.
fn crate_migration_dirs(
    model: &Model,
    refused: &mut Vec<RefusedFile>,
) -> BTreeMap<Utf8PathBuf, MigrationDir> {
    let root = &model.root;
    let mut dirs: BTreeMap<Utf8PathBuf, MigrationDir> = BTreeMap::new();
    for krate in &model.crates {
        let tool = tool_of(krate);
        let mut candidates = vec![krate.dir.join("migrations")];
        if let Some(dir) = diesel_migrations_dir(root, krate, refused) {
            candidates.push(dir);
        }
        for dir in candidates {
            let dir = crate::discover::normalize(&dir);
            if root.join(&dir).is_dir() {
                dirs.entry(dir).or_insert(MigrationDir {
                    crate_id: krate.id,
                    tool,
                    runs: Vec::new(),
                });
            }
        }
    }
    dirs
}

/// The migrations directories next to the manifests, read and analysed.
pub struct CrateMigrations {
    dirs: BTreeMap<Utf8PathBuf, MigrationDir>,
    prepared: extract::migrations::Prepared,
    /// Settings files next to the manifests that were refused, noted when merged.
    refused: Vec<RefusedFile>,
}

/// A file the reader refused, found where the model cannot be written to yet.
struct RefusedFile {
    path: Utf8PathBuf,
    crate_id: CrateId,
    error: crate::read::ReadError,
}

/// Reads and analyses the migrations directories next to the manifests; run alongside the
/// code's extraction, whose `migrate!` calls name the directories (the same ones, mostly).
pub fn prepare_crate_migrations(model: &Model) -> CrateMigrations {
    let mut refused = Vec::new();
    let dirs = crate_migration_dirs(model, &mut refused);
    let ahead: Vec<(Utf8PathBuf, crate::model::SqlDialect)> = dirs
        .iter()
        .map(|(dir, found)| (dir.clone(), model.krate(found.crate_id).dialect))
        .collect();
    let prepared = extract::migrations::prepare(&model.root, &ahead);
    CrateMigrations {
        dirs,
        prepared,
        refused,
    }
}

/// Reads every migrations directory: each crate's `migrations/` (or the one `diesel.toml`
/// names) plus the directories named by `migrate!`/`embed_migrations!` calls (`requested`).
/// sea-orm migrations are Rust and arrive from the Rust extractor as complete sets.
/// One set per directory; every call that runs it is kept in [`Model::migration_runs`].
/// The directories next to the manifests come read from [`prepare_crate_migrations`].
pub fn extract_migrations(
    model: &mut Model,
    requested: Vec<MigrationSet>,
    crate_migrations: CrateMigrations,
) {
    let root = model.root.clone();
    let CrateMigrations {
        mut dirs,
        mut prepared,
        refused,
    } = crate_migrations;
    for RefusedFile {
        path,
        crate_id,
        error,
    } in refused
    {
        let file = model.add_file(SourceFile {
            path,
            crate_id: Some(crate_id),
            is_test: false,
        });
        model.notes.push(Note {
            kind: NoteKind::of_read_error(&error),
            file,
            span: None,
            message: error.to_string(),
        });
    }
    let crate_dirs: BTreeMap<Utf8PathBuf, CrateId> =
        model.crates.iter().map(|c| (c.dir.clone(), c.id)).collect();
    for set in requested {
        let dir = crate::discover::normalize(&set.dir);
        let holder = owning_crate(&dir.join("x"), &crate_dirs).unwrap_or(set.crate_id);
        let entry = dirs.entry(dir).or_insert(MigrationDir {
            crate_id: holder,
            tool: Some(set.tool),
            runs: Vec::new(),
        });
        if let Some(span) = set.run_at {
            entry.runs.push((set.crate_id, span, set.holder));
        }
    }
    // The extractor registers files in the model while reading the crate list.
    let crates = model.crates.clone();
    let ahead: Vec<(Utf8PathBuf, crate::model::SqlDialect)> = dirs
        .iter()
        .filter(|(dir, found)| found.tool != Some(MigrationTool::SeaOrm) && !prepared.has_dir(dir))
        .map(|(dir, found)| (dir.clone(), crates[found.crate_id.0 as usize].dialect))
        .collect();
    prepared.add(extract::migrations::prepare(&root, &ahead));
    for (dir, found) in dirs {
        let run_at = found.runs.first().map(|(_, span, _)| *span);
        let cx = CrateContext {
            root: &root,
            krate: &crates[found.crate_id.0 as usize],
            crates: &crates,
        };
        let mut facts = extract::migrations::extract_prepared_dir(
            model,
            &cx,
            &dir,
            found.tool,
            run_at,
            &mut prepared,
        );
        if facts.migrations.is_empty() && !found.runs.is_empty() {
            facts.migrations.push(MigrationSet {
                unique_keys: Vec::new(),
                primary_keys: Vec::new(),
                crate_id: found.crate_id,
                dir: dir.clone(),
                tool: found.tool.unwrap_or(MigrationTool::Plain),
                run_at,
                holder: None,
                tables: Vec::new(),
            });
        }
        let first_set = model.migrations.len();
        let sets = facts.migrations.len();
        facts.merge_into(model);
        for index in first_set..first_set + sets {
            if model.migrations[index].run_at.is_none() {
                model.migrations[index].run_at = run_at;
            }
            for (crate_id, span, holder) in &found.runs {
                model.migration_runs.push(MigrationRun {
                    set: index,
                    crate_id: *crate_id,
                    span: *span,
                    holder: holder.clone(),
                });
            }
        }
    }
}

fn tool_of(krate: &crate::model::Crate) -> Option<MigrationTool> {
    let has = |name: &str| krate.dependencies.iter().any(|d| d.package == name);
    if has("diesel_migrations") || has("diesel") {
        Some(MigrationTool::Diesel)
    } else if has("refinery") {
        Some(MigrationTool::Refinery)
    } else if has("sqlx") {
        Some(MigrationTool::Sqlx)
    } else {
        None
    }
}

/// `[migrations_directory] dir = ".."` of a crate's `diesel.toml`.
fn diesel_migrations_dir(
    root: &Utf8Path,
    krate: &crate::model::Crate,
    refused: &mut Vec<RefusedFile>,
) -> Option<Utf8PathBuf> {
    let crate_dir = &krate.dir;
    let path = crate_dir.join("diesel.toml");
    let text = match crate::read::read_text(root.join(&path), FileClass::Settings) {
        Ok(text) => text,
        Err(error) if error.is_missing() => return None,
        Err(error) => {
            refused.push(RefusedFile {
                path,
                crate_id: krate.id,
                error,
            });
            return None;
        }
    };
    let value: toml::Table = toml::from_str(&text).ok()?;
    let dir = value.get("migrations_directory")?.get("dir")?.as_str()?;
    Some(crate_dir.join(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_deployment_files() {
        let krate = Some(Utf8Path::new("orders"));
        let kind = |p: &str| classify(Utf8Path::new(p), krate);
        assert_eq!(kind("orders/src/main.rs"), Some(FileKind::Rust));
        assert_eq!(kind(".env"), Some(FileKind::Deploy(DeployFileKind::DotEnv)));
        assert_eq!(
            kind("orders/.env.production"),
            Some(FileKind::Deploy(DeployFileKind::DotEnv))
        );
        assert_eq!(
            kind("docker-compose.override.yml"),
            Some(FileKind::Deploy(DeployFileKind::Compose))
        );
        assert_eq!(
            kind("compose.yaml"),
            Some(FileKind::Deploy(DeployFileKind::Compose))
        );
        assert_eq!(
            kind("orders/config/default.toml"),
            Some(FileKind::Deploy(DeployFileKind::ConfigFile))
        );
        assert_eq!(
            kind("config/prod.yaml"),
            Some(FileKind::Deploy(DeployFileKind::ConfigFile))
        );
        assert_eq!(kind("k8s/orders.yaml"), Some(FileKind::MaybeKubernetes));
        assert_eq!(kind("orders/Cargo.toml"), None);
        assert_eq!(kind("README.md"), None);
    }

    #[test]
    fn kubernetes_needs_api_version_and_kind() {
        assert!(looks_like_kubernetes(
            "apiVersion: apps/v1\nkind: Deployment\n"
        ));
        assert!(!looks_like_kubernetes("name: ci\non: push\n"));
    }
}
