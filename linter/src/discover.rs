//! Workspace discovery: members, their targets and dependencies, without compiling or
//! resolving anything. `cargo metadata --no-deps --offline` first; when cargo is missing or
//! fails, the manifests are read directly.

use std::collections::{BTreeMap, HashMap};

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;

use crate::model::{Crate, CrateId, Dependency, Model, SourceFile, SqlDialect};
use crate::source::LineIndex;

/// Server frameworks: a binary depending on one of these serves requests.
pub const SERVER_FRAMEWORKS: &[&str] = &[
    "axum",
    "actix-web",
    "warp",
    "rocket",
    "poem",
    "tonic",
    "hyper",
    "tide",
    "salvo",
];

/// Broker clients: a binary depending on one of these consumes or produces messages.
pub const BROKER_CLIENTS: &[&str] = &[
    "rdkafka",
    "kafka",
    "lapin",
    "async-nats",
    "nats",
    "aws-sdk-sqs",
    "google-cloud-pubsub",
    "pulsar",
    "fe2o3-amqp",
];

/// A member package as discovered, before it becomes a [`Crate`].
#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    /// Absolute path of its Cargo.toml.
    pub manifest_path: Utf8PathBuf,
    pub has_bin: bool,
    pub has_lib: bool,
    pub dependencies: Vec<PackageDependency>,
}

#[derive(Debug, Clone)]
pub struct PackageDependency {
    pub package: String,
    pub rename: Option<String>,
    /// Absolute directory of a path dependency.
    pub path: Option<Utf8PathBuf>,
    pub features: Vec<String>,
    /// Dev-dependencies do not make a crate part of a service.
    pub dev: bool,
}

/// The discovered workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Absolute workspace root.
    pub root: Utf8PathBuf,
    pub packages: Vec<Package>,
    /// How the members were found (`cargo metadata` or `manifests`).
    pub method: &'static str,
    /// Members that could not be read (absolute manifest path, why); the members are
    /// skipped, reported as notes, and the run fails unless told to keep going.
    pub problems: Vec<(Utf8PathBuf, MemberProblem)>,
    /// Why `cargo metadata` failed, when it ran and failed (its first error line): the
    /// members were read from the manifests instead.
    pub cargo_failure: Option<String>,
}

/// Why a workspace member was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberProblem {
    /// `members` names a directory without a `Cargo.toml`.
    Missing { pattern: String },
    /// The member's manifest cannot be read or does not parse.
    Invalid(String),
}

impl std::fmt::Display for MemberProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemberProblem::Missing { pattern } => write!(
                f,
                "workspace member `{pattern}` has no Cargo.toml here; member skipped"
            ),
            MemberProblem::Invalid(message) => {
                write!(
                    f,
                    "manifest does not parse ({}); member skipped",
                    message.trim()
                )
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("no Cargo.toml found at {0}")]
    NoManifest(Utf8PathBuf),
    #[error("cannot read {path}: {message}")]
    Manifest { path: Utf8PathBuf, message: String },
}

/// Finds the workspace around `manifest_path` (a Cargo.toml or a directory).
/// `cargo metadata` decides; the manifests are read for when it cannot.
pub fn discover(manifest_path: &Utf8Path) -> Result<Workspace, DiscoverError> {
    match Speculative::start(manifest_path)?.confirm()? {
        Confirmation::Agrees(workspace) | Confirmation::Differs(workspace) => Ok(workspace),
    }
}

/// Discovery with `cargo metadata` running in the background: the manifests are read at
/// once ([`Speculative::guess`]) so that work can start on them, and
/// [`Speculative::confirm`] says later whether cargo agrees.
pub struct Speculative {
    /// Waits for `cargo metadata` and reads its answer (or why it failed), off the thread
    /// doing the work.
    cargo: Option<std::thread::JoinHandle<Result<Workspace, String>>>,
    /// The members as read from the manifests (an error when they cannot be read).
    pub guess: Result<Workspace, DiscoverError>,
    /// `cargo metadata` was not run: an earlier run's answer on the same manifests stands.
    trusted: bool,
}

/// What `cargo metadata` said about a [`Speculative::guess`].
pub enum Confirmation {
    /// Same members, targets and dependencies (or cargo could not tell): the guess stands.
    Agrees(Workspace),
    /// Cargo sees the workspace differently; its answer replaces the guess.
    Differs(Workspace),
}

impl Speculative {
    pub fn start(manifest_path: &Utf8Path) -> Result<Self, DiscoverError> {
        let manifest = locate(manifest_path)?;
        let cargo = spawn_cargo(&manifest);
        let guess = from_manifests(&manifest);
        Ok(Speculative {
            cargo,
            guess,
            trusted: false,
        })
    }

    /// Like [`Speculative::start`], but reads the manifests first and starts `cargo
    /// metadata` only when `trusted` (handed the members read and what was read for them)
    /// does not vouch that cargo agreed with exactly these members before. A trusted guess is
    /// confirmed as cargo's answer.
    pub fn start_unless(
        manifest_path: &Utf8Path,
        trusted: impl FnOnce(&Result<Workspace, DiscoverError>, &[crate::cache::Dep]) -> bool,
    ) -> Result<Self, DiscoverError> {
        let manifest = locate(manifest_path)?;
        let (guess, reads) = crate::cache::deps::recording(|| from_manifests(&manifest));
        if trusted(&guess, &reads) {
            return Ok(Speculative {
                cargo: None,
                guess,
                trusted: true,
            });
        }
        let cargo = spawn_cargo(&manifest);
        Ok(Speculative {
            cargo,
            guess,
            trusted: false,
        })
    }

    /// Waits for `cargo metadata` and compares. Without cargo (not installed, failing on a
    /// broken manifest) the manifests are all there is, as in [`discover`].
    pub fn confirm(self) -> Result<Confirmation, DiscoverError> {
        let from_cargo = self.cargo.and_then(|waiting| waiting.join().ok());
        match (self.guess, from_cargo) {
            (Ok(guess), Some(Ok(cargo))) if guess.same_members(&cargo) => {
                Ok(Confirmation::Agrees(Workspace {
                    method: cargo.method,
                    ..guess
                }))
            }
            (_, Some(Ok(cargo))) => Ok(Confirmation::Differs(cargo)),
            (Ok(guess), Some(Err(failure))) => Ok(Confirmation::Agrees(Workspace {
                cargo_failure: Some(failure),
                ..guess
            })),
            (Ok(guess), None) if self.trusted => Ok(Confirmation::Agrees(Workspace {
                method: "cargo metadata",
                ..guess
            })),
            (Ok(guess), None) => Ok(Confirmation::Agrees(guess)),
            (Err(error), _) => Err(error),
        }
    }
}

/// Starts `cargo metadata` and a thread that waits for its answer; `None` without cargo.
fn spawn_cargo(manifest: &Utf8Path) -> Option<std::thread::JoinHandle<Result<Workspace, String>>> {
    metadata_command(manifest)
        .cargo_command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()
        .map(|child| std::thread::spawn(move || workspace_from_cargo(child)))
}

/// The workspace as a finished `cargo metadata` child describes it, or why it failed.
fn workspace_from_cargo(child: std::process::Child) -> Result<Workspace, String> {
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // cargo's first `error:` line names the cause; the rest is context.
        let cause = stderr
            .lines()
            .find(|line| line.starts_with("error"))
            .or_else(|| stderr.lines().find(|line| !line.trim().is_empty()))
            .map_or_else(|| output.status.to_string(), |line| line.trim().to_string());
        return Err(cause);
    }
    let text = String::from_utf8(output.stdout).map_err(|e| e.to_string())?;
    let metadata = cargo_metadata::MetadataCommand::parse(text).map_err(|e| e.to_string())?;
    Ok(workspace_of(metadata))
}

impl Workspace {
    /// True when both list the same members with the same targets and dependencies (in any
    /// order), and neither skipped a member it could not read.
    pub fn same_members(&self, other: &Workspace) -> bool {
        type DependencyKey<'w> = (&'w str, Option<&'w str>, Option<&'w Utf8Path>, bool);
        type PackageKey<'w> = (&'w str, &'w Utf8Path, bool, bool, Vec<DependencyKey<'w>>);
        fn key(w: &Workspace) -> Vec<PackageKey<'_>> {
            let mut packages: Vec<PackageKey<'_>> = w
                .packages
                .iter()
                .map(|p| {
                    let mut deps: Vec<DependencyKey<'_>> = p
                        .dependencies
                        .iter()
                        .map(|d| {
                            (
                                d.package.as_str(),
                                d.rename.as_deref(),
                                d.path.as_deref(),
                                d.dev,
                            )
                        })
                        .collect();
                    deps.sort_unstable();
                    deps.dedup();
                    (
                        p.name.as_str(),
                        p.manifest_path.as_path(),
                        p.has_bin,
                        p.has_lib,
                        deps,
                    )
                })
                .collect();
            packages.sort_unstable();
            packages
        }
        self.root == other.root
            && self.problems.is_empty()
            && other.problems.is_empty()
            && key(self) == key(other)
    }
}

/// The manifest a path names: a Cargo.toml, or the one in a directory.
fn locate(manifest_path: &Utf8Path) -> Result<Utf8PathBuf, DiscoverError> {
    let manifest = if manifest_path.is_dir() {
        manifest_path.join("Cargo.toml")
    } else {
        manifest_path.to_owned()
    };
    if !manifest.is_file() {
        return Err(DiscoverError::NoManifest(manifest));
    }
    Ok(manifest.canonicalize_utf8().unwrap_or(manifest))
}

/// `cargo metadata --no-deps --offline`: members only, nothing resolved or downloaded.
fn metadata_command(manifest: &Utf8Path) -> cargo_metadata::MetadataCommand {
    let mut command = cargo_metadata::MetadataCommand::new();
    command
        .manifest_path(manifest)
        .no_deps()
        .other_options(vec!["--offline".to_string()]);
    command
}

fn workspace_of(metadata: cargo_metadata::Metadata) -> Workspace {
    let mut packages: Vec<Package> = metadata
        .workspace_packages()
        .into_iter()
        .map(|package| {
            use cargo_metadata::TargetKind;
            let has_bin = package
                .targets
                .iter()
                .any(|t| t.kind.contains(&TargetKind::Bin));
            let has_lib = package.targets.iter().any(|t| {
                t.kind.iter().any(|k| {
                    matches!(
                        k,
                        TargetKind::Lib
                            | TargetKind::RLib
                            | TargetKind::DyLib
                            | TargetKind::ProcMacro
                    )
                })
            });
            let dependencies = package
                .dependencies
                .iter()
                .map(|d| PackageDependency {
                    package: d.name.clone(),
                    rename: d.rename.clone(),
                    path: d.path.clone(),
                    features: d.features.clone(),
                    dev: d.kind == cargo_metadata::DependencyKind::Development,
                })
                .collect();
            Package {
                name: package.name.to_string(),
                manifest_path: package.manifest_path.clone(),
                has_bin,
                has_lib,
                dependencies,
            }
        })
        .collect();
    packages.sort_by(|a, b| a.manifest_path.cmp(&b.manifest_path));
    Workspace {
        root: metadata.workspace_root.clone(),
        packages,
        method: "cargo metadata",
        problems: Vec::new(),
        cargo_failure: None,
    }
}

// ---- manifest fallback ------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct Manifest {
    package: Option<ManifestPackage>,
    workspace: Option<ManifestWorkspace>,
    lib: Option<toml::Value>,
    #[serde(default)]
    bin: Vec<toml::Value>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default, rename = "build-dependencies")]
    build_dependencies: BTreeMap<String, toml::Value>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    target: BTreeMap<String, ManifestTarget>,
}

#[derive(Debug, Default, Deserialize)]
struct ManifestPackage {
    name: Option<String>,
    autobins: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct ManifestWorkspace {
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
struct ManifestTarget {
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
}

fn read_manifest(path: &Utf8Path) -> Result<Manifest, DiscoverError> {
    let text = crate::read::read_text(path, crate::read::FileClass::Manifest).map_err(|e| {
        DiscoverError::Manifest {
            path: path.to_owned(),
            message: e.to_string(),
        }
    })?;
    toml::from_str(&text).map_err(|e| {
        // Where the error is, as `line:column`, so an editor can jump to it.
        let at = e.span().map(|span| {
            let (line, column) = LineIndex::new(&text).position(&text, span.start);
            format!("line {line}, column {column}: ")
        });
        DiscoverError::Manifest {
            path: path.to_owned(),
            message: format!("{}{}", at.unwrap_or_default(), e.message().trim()),
        }
    })
}

/// Finds the workspace root: the nearest ancestor manifest with `[workspace]` that lists (or
/// globs) the starting package, else the starting manifest itself.
fn find_root(manifest: &Utf8Path) -> Utf8PathBuf {
    if let Ok(m) = read_manifest(manifest) {
        if m.workspace.is_some() {
            return manifest.to_owned();
        }
    }
    let Some(package_dir) = manifest.parent() else {
        return manifest.to_owned();
    };
    let mut dir = package_dir.parent();
    while let Some(current) = dir {
        let candidate = current.join("Cargo.toml");
        if let Ok(m) = read_manifest(&candidate) {
            if let Some(workspace) = &m.workspace {
                // Cargo stops at the nearest `[workspace]`: a package it does not list is in no
                // workspace (cargo refuses to build it as it stands), so it is linted on its own
                // rather than as the unrelated workspace around it.
                return if lists_member(current, workspace, package_dir) {
                    candidate
                } else {
                    manifest.to_owned()
                };
            }
        }
        dir = current.parent();
    }
    manifest.to_owned()
}

/// True when a workspace's `members` (globs expanded) name the package directory and its
/// `exclude` does not.
fn lists_member(
    root_dir: &Utf8Path,
    workspace: &ManifestWorkspace,
    package_dir: &Utf8Path,
) -> bool {
    let package_dir = normalize(package_dir);
    let excluded = workspace
        .exclude
        .iter()
        .any(|e| package_dir.starts_with(normalize(&root_dir.join(e))));
    !excluded
        && workspace.members.iter().any(|pattern| {
            expand_member_glob(root_dir, pattern)
                .iter()
                .any(|dir| normalize(dir) == package_dir)
        })
}

fn from_manifests(start: &Utf8Path) -> Result<Workspace, DiscoverError> {
    let root_manifest = find_root(start);
    let root_dir = root_manifest
        .parent()
        .map(Utf8Path::to_owned)
        .unwrap_or_default();
    let root = read_manifest(&root_manifest)?;
    let workspace = root.workspace.as_ref();
    let workspace_deps = workspace
        .map(|w| w.dependencies.clone())
        .unwrap_or_default();

    let mut member_dirs: Vec<Utf8PathBuf> = Vec::new();
    let mut missing: Vec<(Utf8PathBuf, MemberProblem)> = Vec::new();
    if root.package.is_some() {
        member_dirs.push(root_dir.clone());
    }
    if let Some(workspace) = workspace {
        let excluded: Vec<Utf8PathBuf> =
            workspace.exclude.iter().map(|e| root_dir.join(e)).collect();
        for pattern in &workspace.members {
            let is_glob = pattern.contains(['*', '?', '[']);
            for dir in expand_member_glob(&root_dir, pattern) {
                if excluded.iter().any(|e| dir.starts_with(e)) {
                    continue;
                }
                if crate::read::exists(&dir.join("Cargo.toml")) {
                    member_dirs.push(dir);
                } else if !is_glob {
                    // Cargo refuses such a workspace; without a note the member's findings
                    // would vanish silently.
                    missing.push((
                        dir.join("Cargo.toml"),
                        MemberProblem::Missing {
                            pattern: pattern.clone(),
                        },
                    ));
                }
            }
        }
    }
    member_dirs.sort();
    member_dirs.dedup();

    let mut packages = Vec::new();
    let mut problems = missing;
    for dir in member_dirs {
        let manifest_path = dir.join("Cargo.toml");
        let manifest = if dir == root_dir {
            root_manifest_clone(&root)
        } else {
            match read_manifest(&manifest_path) {
                Ok(manifest) => manifest,
                Err(error) => {
                    let message = match error {
                        DiscoverError::Manifest { message, .. } => message,
                        other => other.to_string(),
                    };
                    problems.push((manifest_path, MemberProblem::Invalid(message)));
                    continue;
                }
            }
        };
        let Some(name) = manifest.package.as_ref().and_then(|p| p.name.clone()) else {
            continue;
        };
        let autobins = manifest
            .package
            .as_ref()
            .and_then(|p| p.autobins)
            .unwrap_or(true);
        let has_bin = !manifest.bin.is_empty()
            || autobins && (dir.join("src/main.rs").is_file() || dir.join("src/bin").is_dir());
        let has_lib = manifest.lib.is_some() || dir.join("src/lib.rs").is_file();
        let mut dependencies = Vec::new();
        let mut add = |table: &BTreeMap<String, toml::Value>, dev: bool| {
            for (key, value) in table {
                dependencies.push(manifest_dependency(
                    key,
                    value,
                    dev,
                    &dir,
                    &root_dir,
                    &workspace_deps,
                ));
            }
        };
        add(&manifest.dependencies, false);
        add(&manifest.build_dependencies, false);
        add(&manifest.dev_dependencies, true);
        for target in manifest.target.values() {
            add(&target.dependencies, false);
        }
        packages.push(Package {
            name,
            manifest_path,
            has_bin,
            has_lib,
            dependencies,
        });
    }
    Ok(Workspace {
        root: root_dir,
        packages,
        method: "manifests",
        problems,
        cargo_failure: None,
    })
}

fn root_manifest_clone(root: &Manifest) -> Manifest {
    Manifest {
        package: root.package.as_ref().map(|p| ManifestPackage {
            name: p.name.clone(),
            autobins: p.autobins,
        }),
        workspace: None,
        lib: root.lib.clone(),
        bin: root.bin.clone(),
        dependencies: root.dependencies.clone(),
        build_dependencies: root.build_dependencies.clone(),
        dev_dependencies: root.dev_dependencies.clone(),
        target: root
            .target
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    ManifestTarget {
                        dependencies: v.dependencies.clone(),
                    },
                )
            })
            .collect(),
    }
}

fn manifest_dependency(
    key: &str,
    value: &toml::Value,
    dev: bool,
    dir: &Utf8Path,
    root_dir: &Utf8Path,
    workspace_deps: &BTreeMap<String, toml::Value>,
) -> PackageDependency {
    let table = value.as_table();
    let inherited = table
        .and_then(|t| t.get("workspace"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(false);
    let (source, base) = match (inherited, workspace_deps.get(key)) {
        (true, Some(ws)) => (ws, root_dir),
        _ => (value, dir),
    };
    let source_table = source.as_table();
    let package = source_table
        .and_then(|t| t.get("package"))
        .and_then(toml::Value::as_str)
        .unwrap_or(key)
        .to_string();
    let path = source_table
        .and_then(|t| t.get("path"))
        .and_then(toml::Value::as_str)
        .map(|p| normalize(&base.join(p)));
    let mut features: Vec<String> = Vec::new();
    for t in [source_table, table].into_iter().flatten() {
        if let Some(list) = t.get("features").and_then(toml::Value::as_array) {
            features.extend(
                list.iter()
                    .filter_map(toml::Value::as_str)
                    .map(str::to_string),
            );
        }
    }
    PackageDependency {
        rename: (package != key).then(|| key.to_string()),
        package,
        path,
        features,
        dev,
    }
}

/// Expands a `members` entry (`crates/*`, `services/**`, `api`) into directories.
fn expand_member_glob(root: &Utf8Path, pattern: &str) -> Vec<Utf8PathBuf> {
    if !pattern.contains(['*', '?', '[']) {
        return vec![normalize(&root.join(pattern))];
    }
    let Ok(glob) = globset::Glob::new(pattern.trim_end_matches('/')) else {
        return Vec::new();
    };
    let matcher = glob.compile_matcher();
    let depth = pattern.split('/').count().max(1) + usize::from(pattern.contains("**")) * 8;
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .max_depth(depth)
        .into_iter()
        .filter_entry(|e| !is_skipped_dir_name(&e.file_name().to_string_lossy()))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir())
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.into_path()).ok())
        .filter(|p| {
            p.strip_prefix(root)
                .is_ok_and(|rel| matcher.is_match(rel.as_str()))
        })
        .collect()
}

fn is_skipped_dir_name(name: &str) -> bool {
    name == "target" || name == "node_modules" || name.starts_with('.')
}

/// Removes `.` and `..` components without touching the file system.
pub fn normalize(path: &Utf8Path) -> Utf8PathBuf {
    let mut out = Utf8PathBuf::new();
    for component in path.components() {
        match component {
            camino::Utf8Component::CurDir => {}
            camino::Utf8Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_str()),
        }
    }
    out
}

// ---- into the model ---------------------------------------------------------------------

/// Registers every member as a [`Crate`] (and its manifest as a file) in `model`.
pub fn add_crates(model: &mut Model, workspace: &Workspace) {
    model.root = workspace.root.clone();
    let mut by_dir: HashMap<Utf8PathBuf, CrateId> = HashMap::new();
    let mut manifests: Vec<(String, Option<String>)> = Vec::new();
    for (index, package) in workspace.packages.iter().enumerate() {
        let abs_dir = package
            .manifest_path
            .parent()
            .map(Utf8Path::to_owned)
            .unwrap_or_default();
        let dir = abs_dir
            .strip_prefix(&workspace.root)
            .map(Utf8Path::to_owned)
            .unwrap_or_else(|_| abs_dir.clone());
        let manifest_rel = if dir.as_str().is_empty() {
            Utf8PathBuf::from("Cargo.toml")
        } else {
            dir.join("Cargo.toml")
        };
        let manifest = model.add_file(SourceFile {
            path: manifest_rel,
            crate_id: Some(CrateId(index as u32)),
            is_test: false,
        });
        by_dir.insert(normalize(&abs_dir), CrateId(index as u32));
        let text =
            crate::read::read_text(&package.manifest_path, crate::read::FileClass::Manifest).ok();
        manifests.push((package.name.clone(), text));
        let dockerfile = package
            .has_bin
            .then(|| own_dockerfile(&abs_dir))
            .flatten()
            .map(|name| dir.join(name));
        model.crates.push(Crate {
            id: CrateId(index as u32),
            name: package.name.clone(),
            dir,
            manifest,
            has_bin: package.has_bin,
            has_lib: package.has_lib,
            dockerfile,
            dependencies: Vec::new(),
            dialect: dialect_of(package),
        });
    }
    for (path, problem) in &workspace.problems {
        let rel = path
            .strip_prefix(&workspace.root)
            .map(Utf8Path::to_owned)
            .unwrap_or_else(|_| path.clone());
        let file = model.add_file(SourceFile {
            path: rel,
            crate_id: None,
            is_test: false,
        });
        model.notes.push(crate::model::Note {
            kind: match problem {
                MemberProblem::Missing { .. } => crate::model::NoteKind::MissingMember,
                MemberProblem::Invalid(_) => crate::model::NoteKind::ConfigSyntax,
            },
            file,
            span: None,
            message: problem.to_string(),
        });
    }
    model.skipped_members = workspace.problems.len();
    note_cargo_failure(model, workspace);
    for (index, package) in workspace.packages.iter().enumerate() {
        let manifest = model.crates[index].manifest;
        let text = manifests[index].1.as_deref().unwrap_or("");
        let lines = LineIndex::new(text);
        let mut dependencies: Vec<Dependency> = Vec::new();
        for dep in package.dependencies.iter().filter(|d| !d.dev) {
            let key = dep.rename.as_deref().unwrap_or(&dep.package);
            if dependencies
                .iter()
                .any(|d| d.package == dep.package && d.code_name == key.replace('-', "_"))
            {
                continue;
            }
            let member = dep
                .path
                .as_ref()
                .and_then(|p| by_dir.get(&normalize(p)).copied());
            let span = dependency_span(text, key).map(|(s, e)| lines.span(manifest, text, s, e));
            dependencies.push(Dependency {
                code_name: key.replace('-', "_"),
                package: dep.package.clone(),
                member,
                span,
            });
        }
        model.crates[index].dependencies = dependencies;
    }
}

/// Notes that `cargo metadata` failed, when it did (known only once it has answered, after
/// a model may already be built from the manifests).
pub fn note_cargo_failure(model: &mut Model, workspace: &Workspace) {
    if let Some(failure) = &workspace.cargo_failure {
        let file = model.add_file(SourceFile {
            path: Utf8PathBuf::from("Cargo.toml"),
            crate_id: None,
            is_test: false,
        });
        model.notes.push(crate::model::Note {
            kind: crate::model::NoteKind::CargoMetadata,
            file,
            span: None,
            message: format!(
                "`cargo metadata` failed, so the members were read from the manifests: {failure}"
            ),
        });
    }
}

/// Byte range of a dependency key in a manifest: `name = ...`, `"name" = ...` or
/// `[dependencies.name]`, inside a dependencies table.
fn dependency_span(text: &str, key: &str) -> Option<(usize, usize)> {
    let mut in_deps = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with('[') {
            let header = trimmed
                .trim_end()
                .trim_start_matches('[')
                .trim_end_matches(']');
            in_deps = header.ends_with("dependencies") && !header.contains("dev-dependencies");
            for prefix in ["dependencies.", "build-dependencies."] {
                if let Some(pos) = header.find(prefix) {
                    let name = &header[pos + prefix.len()..];
                    if name.trim_matches('"') == key && !header.contains("dev-") {
                        let start = offset + indent + 1 + header.find(name).unwrap_or(0);
                        return Some((start, start + name.len()));
                    }
                }
            }
        } else if in_deps {
            let bare = trimmed.trim_start_matches('"');
            let quoted = bare.len() != trimmed.len();
            if let Some(rest) = bare.strip_prefix(key) {
                let rest = rest.strip_prefix('"').unwrap_or(rest);
                if rest.trim_start().starts_with(['=', '.']) {
                    let start = offset + indent + usize::from(quoted);
                    return Some((start, start + key.len()));
                }
            }
        }
        offset += line.len();
    }
    None
}

fn dialect_of(package: &Package) -> SqlDialect {
    let mut found = Vec::new();
    for dep in &package.dependencies {
        let features = &dep.features;
        let has = |f: &str| features.iter().any(|x| x == f);
        match dep.package.as_str() {
            "sqlx" | "diesel" | "diesel-async" => {
                if has("postgres") || has("runtime-tokio-postgres") {
                    found.push(SqlDialect::Postgres);
                }
                if has("mysql") {
                    found.push(SqlDialect::MySql);
                }
                if has("sqlite") {
                    found.push(SqlDialect::Sqlite);
                }
            }
            "sea-orm" | "sea-orm-migration" => {
                if has("sqlx-postgres") {
                    found.push(SqlDialect::Postgres);
                }
                if has("sqlx-mysql") {
                    found.push(SqlDialect::MySql);
                }
                if has("sqlx-sqlite") {
                    found.push(SqlDialect::Sqlite);
                }
            }
            "tokio-postgres" | "postgres" | "deadpool-postgres" | "bb8-postgres"
            | "r2d2_postgres" => found.push(SqlDialect::Postgres),
            "mysql_async" | "mysql" => found.push(SqlDialect::MySql),
            "rusqlite" | "r2d2_sqlite" => found.push(SqlDialect::Sqlite),
            _ => {}
        }
    }
    found.dedup();
    match found.as_slice() {
        [one] => *one,
        [first, rest @ ..] if rest.iter().all(|d| d == first) => *first,
        _ => SqlDialect::Generic,
    }
}

/// The framework or broker dependency that makes a binary crate a service, if any.
/// The Dockerfile (`Dockerfile`, `Dockerfile.prod`, `api.Dockerfile`, `Containerfile`) kept in a
/// crate's own directory, by file name. Subdirectories are not searched: a Dockerfile there
/// packages something else (a test database, a sidecar).
fn own_dockerfile(dir: &Utf8Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            // Only regular files: a FIFO or a link to a device is not a Dockerfile.
            entry.file_type().ok()?.is_file().then_some(())?;
            let name = entry.file_name().into_string().ok()?;
            let lower = name.to_ascii_lowercase();
            let is_dockerfile = lower == "dockerfile"
                || lower == "containerfile"
                || lower.starts_with("dockerfile.")
                || lower.ends_with(".dockerfile");
            is_dockerfile.then_some(name)
        })
        .collect();
    // `Dockerfile` before its variants, so the choice does not depend on directory order.
    names.sort_by_key(|name| (name.len(), name.clone()));
    names.into_iter().next()
}

pub fn service_framework(krate: &Crate, package: &Package) -> Option<String> {
    if !krate.has_bin {
        return None;
    }
    package
        .dependencies
        .iter()
        .filter(|d| !d.dev)
        .find_map(|d| {
            let name = d.package.as_str();
            let is_framework = SERVER_FRAMEWORKS.contains(&name)
                || BROKER_CLIENTS.contains(&name)
                || name == "redis" && d.features.iter().any(|f| f == "streams");
            is_framework.then(|| name.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The manifest reader is what the model is first built from: on every fixture, corpus
    /// workspace and example that cargo can read, cargo must agree with it.
    #[test]
    fn cargo_metadata_agrees_with_the_manifests_on_every_fixture() {
        let repo = Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut workspaces: Vec<Utf8PathBuf> = ["tests/fixtures", "tests/corpus", "examples"]
            .iter()
            .flat_map(|dir| std::fs::read_dir(repo.join(dir)).into_iter().flatten())
            .filter_map(|entry| Utf8PathBuf::from_path_buf(entry.ok()?.path()).ok())
            .filter(|dir| dir.join("Cargo.toml").is_file())
            .collect();
        workspaces.sort();
        assert!(workspaces.len() > 40, "{workspaces:?}");
        for workspace in workspaces {
            let Ok(speculative) = Speculative::start(&workspace) else {
                continue;
            };
            let has_problems = speculative
                .guess
                .as_ref()
                .map_or(true, |g| !g.problems.is_empty());
            match speculative.confirm() {
                Ok(Confirmation::Agrees(found)) => {
                    assert!(
                        has_problems || found.method == "cargo metadata",
                        "{workspace}: cargo did not run"
                    );
                }
                Ok(Confirmation::Differs(_)) => panic!("{workspace}: cargo disagrees"),
                Err(error) => assert!(has_problems, "{workspace}: {error}"),
            }
        }
    }

    #[test]
    fn members_compare_in_any_order_but_not_with_other_dependencies() {
        let package = |name: &str, deps: &[&str]| Package {
            name: name.to_string(),
            manifest_path: Utf8PathBuf::from(format!("/w/{name}/Cargo.toml")),
            has_bin: true,
            has_lib: false,
            dependencies: deps
                .iter()
                .map(|d| PackageDependency {
                    package: d.to_string(),
                    rename: None,
                    path: None,
                    features: Vec::new(),
                    dev: false,
                })
                .collect(),
        };
        let workspace = |packages: Vec<Package>| Workspace {
            root: Utf8PathBuf::from("/w"),
            packages,
            method: "manifests",
            problems: Vec::new(),
            cargo_failure: None,
        };
        let a = workspace(vec![package("a", &["axum", "sqlx"]), package("b", &[])]);
        let reordered = workspace(vec![package("b", &[]), package("a", &["sqlx", "axum"])]);
        let other = workspace(vec![package("a", &["axum"]), package("b", &[])]);
        assert!(a.same_members(&reordered));
        assert!(!a.same_members(&other));
    }

    #[test]
    fn dependency_spans_cover_every_manifest_form() {
        let text = "[package]\nname = \"a\"\n\n[dependencies]\nsqlx = { workspace = true }\n\"axum\" = \"0.8\"\ninventory-db.path = \"../inventory-db\"\n\n[dependencies.tokio]\nversion = \"1\"\n\n[dev-dependencies]\ninsta = \"1\"\n";
        for key in ["sqlx", "axum", "inventory-db", "tokio"] {
            let (s, e) = dependency_span(text, key).unwrap_or_else(|| panic!("{key} not found"));
            assert_eq!(&text[s..e], key);
        }
        assert_eq!(dependency_span(text, "insta"), None);
    }

    #[test]
    fn normalize_removes_dot_components() {
        assert_eq!(
            normalize(Utf8Path::new("/a/b/../c/./d")),
            Utf8PathBuf::from("/a/c/d")
        );
    }
}
