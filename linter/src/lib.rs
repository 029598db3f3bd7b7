//! archlint: reads a Cargo workspace without compiling it, builds a model of services,
//! databases, tables, calls and events, and reports data-management mistakes.
//!
//! Pipeline: discovery (which crates are services) -> extractors (Rust, SQL, deployment
//! files) feed facts into one [`model::Model`] -> rules judge the model -> reporters render
//! diagnostics. Rules never reparse source; extractors never judge.
//!
//! ```no_run
//! let options = archlint::Options::new("path/to/workspace");
//! let report = archlint::check(&options)?;
//! for finding in &report.findings {
//!     println!("{}: {}", finding.rule, finding.message);
//! }
//! # Ok::<(), archlint::Error>(())
//! ```

pub mod baseline;
pub mod behaviour;
pub mod bench;
pub mod cache;
pub mod collections;
pub mod config;
pub mod date;
pub mod discover;
pub mod extract;
pub mod model;
pub mod read;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod scaling;
pub mod source;
pub mod stack;
pub mod suppress;
pub mod walk;

use camino::Utf8PathBuf;

use crate::cache::Cache;
use crate::config::{Config, ConfigError, Level};
use crate::discover::{DiscoverError, Workspace};
use crate::model::{MigrationSet, Model};
use crate::rules::Finding;

/// What to check.
#[derive(Debug, Clone)]
pub struct Options {
    /// A workspace directory or its Cargo.toml.
    pub manifest_path: Utf8PathBuf,
    /// A config file to use instead of `archlint.toml` / `[workspace.metadata.archlint]`.
    pub config_path: Option<Utf8PathBuf>,
    /// Overrides the configured `min-confidence`: the lowest confidence reported.
    pub min_confidence: Option<rules::Confidence>,
    /// Only these rules and suppression codes run and are reported (`--select`); empty: all.
    pub select: Vec<String>,
    /// These are off (`--ignore`).
    pub ignore: Vec<String>,
    /// Warnings become errors (`--deny-warnings`).
    pub deny_warnings: bool,
    /// Leave out the findings this baseline records (`--baseline`).
    pub baseline: Option<Utf8PathBuf>,
    /// The date `[[allow]]` expiries are compared with; default: today in UTC.
    pub today: Option<date::Date>,
    /// Reuse the facts of unchanged files from the workspace's `target/archlint/` and keep
    /// this run's there ([`cache`]). On in the CLI unless `--no-cache`; off by default here.
    pub cache: bool,
}

impl Options {
    pub fn new(manifest_path: impl Into<Utf8PathBuf>) -> Self {
        Options {
            manifest_path: manifest_path.into(),
            config_path: None,
            min_confidence: None,
            select: Vec::new(),
            ignore: Vec::new(),
            deny_warnings: false,
            baseline: None,
            today: None,
            cache: false,
        }
    }
}

/// Why a workspace could not be checked at all (as opposed to findings in it).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(code(archlint::workspace))]
    Discover(#[from] DiscoverError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Baseline(#[from] baseline::BaselineError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Usage(#[from] UnknownRule),
}

/// A rule name on the command line (`--select`, `--ignore`) that is no rule.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("unknown rule `{name}` in {flag}")]
#[diagnostic(code(archlint::usage))]
pub struct UnknownRule {
    pub name: String,
    pub flag: &'static str,
    #[help]
    pub help: String,
}

/// The rule names given to a flag, as the registry spells them (`Dual_Write` is
/// `dual-write`), each checked to be a rule or suppression code.
pub fn rule_names(names: &[String], flag: &'static str) -> Result<Vec<String>, UnknownRule> {
    names
        .iter()
        .flat_map(|n| n.split(','))
        .filter(|n| !n.trim().is_empty())
        .map(|name| {
            let canonical = rules::canonical_name(name);
            if rules::is_known(&canonical) {
                return Ok(canonical);
            }
            let known: Vec<String> = rules::known_ids().map(str::to_string).collect();
            let help = match config::did_you_mean(name, &known) {
                Some(close) => {
                    format!("did you mean `{close}`? `cargo archlint rules` lists them all")
                }
                None => "`cargo archlint rules` lists every rule".to_string(),
            };
            Err(UnknownRule {
                name: name.trim().to_string(),
                flag,
                help,
            })
        })
        .collect()
}

/// The outcome of a check: the model, the findings at `warn` or `deny`, and the config used.
#[derive(Debug)]
pub struct Report {
    pub model: Model,
    pub findings: Vec<Finding>,
    pub config: Config,
    /// Findings silenced by `[[allow]]` exceptions.
    pub suppressed: usize,
    /// Findings silenced by inline suppression comments.
    pub silenced_inline: usize,
    /// The fingerprint of each finding, in the same order (see [`baseline`]).
    pub fingerprints: Vec<String>,
    /// What `--baseline` left out, and its entries that no longer occur.
    pub baseline: Option<baseline::Outcome>,
}

impl Report {
    /// True when a finding is at `deny` level (the CLI exits with 1).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Deny)
    }

    /// The entries of a baseline recording these findings (`--write-baseline`).
    pub fn baseline_entries(&self) -> Vec<baseline::Entry> {
        baseline::entries(&self.model, &self.findings, &self.fingerprints)
    }

    /// True when a workspace member could not be read (missing or invalid manifest): the
    /// check is incomplete, and the CLI exits with 2 unless `--keep-going`.
    pub fn skipped_members(&self) -> bool {
        self.model.skipped_members > 0
    }
}

/// Discovers, extracts, resolves and runs every rule; then applies, in turn, the
/// `[[allow]]` exceptions still in force, the inline suppressions (reporting those that are
/// unused or wrong), the `min-confidence`, the baseline and `deny_warnings`.
pub fn check(options: &Options) -> Result<Report, Error> {
    // Bad arguments and an unusable baseline stop the check before any work.
    let select = rule_names(&options.select, "--select")?;
    let ignore = rule_names(&options.ignore, "--ignore")?;
    let baseline = options
        .baseline
        .as_deref()
        .map(baseline::Baseline::load)
        .transpose()?;
    stack::with_deep_stacks(|| {
        let (mut model, mut config) = analyze(options)?;
        config.select(&select, &ignore);
        let expired = config.take_expired(options.today.unwrap_or_else(date::Date::today));
        let (mut findings, suppressed) = rules::judge(&model, &config);
        suppress::scan_remaining(&mut model);
        let silenced_inline = suppress::apply(&mut model, &config, &mut findings, &expired);
        findings.retain(|f| f.confidence >= config.min_confidence);
        rules::sort(&model, &mut findings);
        let mut fingerprints = baseline::fingerprints(&model, &findings);
        let baseline = baseline.map(|b| b.filter(&mut findings, &mut fingerprints));
        if options.deny_warnings {
            for finding in &mut findings {
                finding.level = Level::Deny;
            }
        }
        Ok(Report {
            model,
            findings,
            config,
            suppressed,
            silenced_inline,
            fingerprints,
            baseline,
        })
    })
}

/// Builds the resolved model of a workspace (what `cargo archlint map` prints).
///
/// `cargo metadata` is the authority on the workspace's members, but it runs as a child
/// process: the model is built from the manifests, read directly, while it runs, and built
/// again from cargo's answer in the rare case that the two differ.
pub fn analyze(options: &Options) -> Result<(Model, Config), Error> {
    stack::with_deep_stacks(|| analyze_here(options))
}

fn analyze_here(options: &Options) -> Result<(Model, Config), Error> {
    let (model, config) = build_checked(options)?;
    let mut known: Vec<String> = model.services.iter().map(|s| s.name.clone()).collect();
    known.extend(model.crates.iter().map(|c| c.name.clone()));
    known.extend(
        model
            .services
            .iter()
            .flat_map(|s| s.deploy_names.iter().cloned()),
    );
    known.sort();
    known.dedup();
    config.validate_allowed_services(
        |name| known.binary_search_by(|k| k.as_str().cmp(name)).is_ok(),
        &known,
    )?;
    Ok((model, config))
}

fn build_checked(options: &Options) -> Result<(Model, Config), Error> {
    // The configuration and the cache of the members read from the manifests, and the key
    // under which the cache remembers whether `cargo metadata` agreed with them.
    let mut early: Option<(Config, Option<Cache>, Option<String>)> = None;
    let speculative =
        discover::Speculative::start_unless(&options.manifest_path, |guess, reads| {
            let Ok(guess) = guess else {
                return false;
            };
            let Ok(config) = load_config(guess, options) else {
                return false;
            };
            let cache = open_cache(options, guess, &config);
            let key = cache.as_ref().map(|cache| cache.cargo_key(guess, reads));
            let agreed = match (&cache, &key) {
                (Some(cache), Some(key)) => cache.cargo_agreed(key),
                _ => false,
            };
            early = Some((config, cache, key));
            agreed
        })?;
    let early = match (&speculative.guess, early) {
        (Ok(guess), Some((config, mut cache, key))) => {
            let model = build_model_cached(guess, &config, cache.as_mut());
            Some((model, config, cache, key))
        }
        _ => None,
    };
    match (speculative.confirm()?, early) {
        (discover::Confirmation::Agrees(workspace), Some((mut model, config, cache, key))) => {
            // The guess the model was built from did not know yet whether cargo failed.
            discover::note_cargo_failure(&mut model, &workspace);
            if let (Some(cache), Some(key), None) = (&cache, &key, &workspace.cargo_failure) {
                cache.remember_cargo(key);
            }
            model.cache = cache.map(|cache| cache.finish());
            Ok((model, config))
        }
        (
            discover::Confirmation::Agrees(workspace) | discover::Confirmation::Differs(workspace),
            _,
        ) => {
            let config = load_config(&workspace, options)?;
            let mut cache = open_cache(options, &workspace, &config);
            let mut model = build_model_cached(&workspace, &config, cache.as_mut());
            model.cache = cache.map(|cache| cache.finish());
            Ok((model, config))
        }
    }
}

/// The workspace's cache, when the options ask for one and the tool can be identified.
fn open_cache(options: &Options, workspace: &Workspace, config: &Config) -> Option<Cache> {
    if !options.cache {
        return None;
    }
    Cache::open(&workspace.root, options.config_path.as_deref(), config)
}

/// Loads (and validates against the workspace's members) the configuration.
fn load_config(workspace: &Workspace, options: &Options) -> Result<Config, Error> {
    let mut config = Config::load(&workspace.root, options.config_path.as_deref())?;
    if let Some(min) = options.min_confidence {
        config.min_confidence = min;
    }
    let members: Vec<(String, Utf8PathBuf)> = workspace
        .packages
        .iter()
        .map(|p| {
            let dir = p.manifest_path.parent().unwrap_or(&workspace.root);
            let rel = dir.strip_prefix(&workspace.root).unwrap_or(dir);
            (p.name.clone(), rel.to_owned())
        })
        .collect();
    config.validate(&members)?;
    Ok(config)
}

/// Runs the extraction pipeline on a discovered workspace.
pub fn build_model(workspace: &Workspace, config: &Config) -> Model {
    build_model_cached(workspace, config, None)
}

/// [`build_model`], taking the facts of unchanged files from `cache` and writing the others'.
pub fn build_model_cached(
    workspace: &Workspace,
    config: &Config,
    mut cache: Option<&mut Cache>,
) -> Model {
    let mut model = Model::default();
    discover::add_crates(&mut model, workspace);
    if let Some(cache) = cache.as_deref_mut() {
        cache.set_crates(&model.crates);
    }
    let cache = cache.as_deref();
    let items = walk::collect(&mut model, config);
    // The migrations next to the manifests are read while the code is.
    let (mut facts, migrations) = rayon::join(
        || walk::extract_cached(&model, &items, cache),
        || walk::prepare_crate_migrations(&model),
    );
    walk::leave_out_undeclared(&model, &items, &mut facts);
    merge_facts(&mut model, facts, migrations);
    resolve::resolve(&mut model, workspace, config);
    model
}

/// Merges extracted facts into the model in file order, then reads every migrations
/// directory. Migration sets from Rust code are either calls naming a directory to read
/// (`migrate!("..")`, with `run_at`) or complete sets written in Rust (sea-orm).
pub fn merge_facts(
    model: &mut Model,
    facts: Vec<extract::Facts>,
    migrations: walk::CrateMigrations,
) {
    let mut requested: Vec<MigrationSet> = Vec::new();
    extract::Facts::reserve(model, &facts);
    for mut file_facts in facts {
        for set in std::mem::take(&mut file_facts.migrations) {
            if set.run_at.is_none() && !set.tables.is_empty() {
                add_code_migrations(model, set);
            } else {
                requested.push(set);
            }
        }
        file_facts.merge_into(model);
    }
    walk::extract_migrations(model, requested, migrations);
}

/// Adds a migration set found in code, merging the sets of one directory (one per migration
/// file) into one.
fn add_code_migrations(model: &mut Model, set: MigrationSet) {
    match model
        .migrations
        .iter_mut()
        .find(|m| m.dir == set.dir && m.crate_id == set.crate_id)
    {
        Some(existing) => {
            existing.tables.extend(set.tables);
            existing.unique_keys.extend(set.unique_keys);
            existing.primary_keys.extend(set.primary_keys);
        }
        None => model.migrations.push(set),
    }
}
