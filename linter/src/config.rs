//! `archlint.toml` (or `[workspace.metadata.archlint]` in the root manifest): presets, explicit
//! services, rule levels and exceptions. Errors point into the file that holds the key.

use std::collections::BTreeMap;
use std::ops::Range;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;
use toml::Spanned;

use crate::date::Date;
use crate::read::{read_text, FileClass};
use crate::rules;

/// How a rule's findings are treated.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        })
    }
}

/// The minimum certainty a piece of SQL needs before rules judge the tables in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MinCertainty {
    /// Only literals, consts, `concat!`, `include_str!`.
    Exact,
    /// Also `format!` templates whose table part is static.
    Template,
    /// Also tables found by keyword scan in SQL the parser rejected.
    Unknown,
}

const RECOMMENDED: &str = include_str!("../../rules/recommended.toml");
const STRICT: &str = include_str!("../../rules/strict.toml");

/// A config file as written. Every key is checked: an unknown key is an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    extends: Option<Spanned<String>>,
    include_tests: Option<bool>,
    /// Detect services from binary targets and framework dependencies (default true).
    detect_services: Option<bool>,
    min_certainty: Option<MinCertainty>,
    min_confidence: Option<rules::Confidence>,
    #[serde(default)]
    services: BTreeMap<Spanned<String>, RawService>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Level>,
    #[serde(default)]
    allow: Vec<Spanned<RawException>>,
    /// Rule levels for some paths: later entries win.
    #[serde(default)]
    overrides: Vec<Spanned<RawOverride>>,
    /// Compensating actions: a forward action (verb or operation name) and what undoes it.
    #[serde(default)]
    compensations: BTreeMap<Spanned<String>, Spanned<RawCompensation>>,
    /// Words that decide what a step, a read and an infrastructure client are.
    #[serde(default)]
    vocabulary: RawVocabulary,
}

/// `[vocabulary]`: each list extends the one the preset gives.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawVocabulary {
    #[serde(default)]
    read_verbs: Vec<String>,
    #[serde(default)]
    infrastructure_clients: Vec<String>,
    #[serde(default)]
    not_undone: Vec<String>,
    #[serde(default)]
    action_verbs: Vec<String>,
    #[serde(default)]
    nominals: BTreeMap<String, String>,
}

/// Words `missing-compensation` reads names with; the presets hold the built-in ones.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    /// First words of operations that only read (`get`, `list`): never a step.
    pub read_verbs: std::collections::BTreeSet<String>,
    /// Words of client names that are infrastructure, not another service (`cache`, `s3`).
    pub infrastructure_clients: std::collections::BTreeSet<String>,
    /// What is sent rather than created: a `POST /notifications` is not undone.
    pub not_undone: std::collections::BTreeSet<String>,
    /// Last path segments that name an action on what precedes them (`POST
    /// /orders/{id}/confirm`) rather than a resource (`POST /api/v1/warehouse` creates).
    pub action_verbs: std::collections::BTreeSet<String>,
    /// Nouns naming the result of a forward verb: `reservation` -> `reserve`.
    pub nominals: BTreeMap<String, String>,
}

/// `reserve = "release"` or `book_room = ["cancel_room", "release_room"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawCompensation {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawService {
    /// Crate names or path globs (relative to the workspace root); default: the crate named
    /// like the service.
    #[serde(default)]
    crates: Vec<String>,
    database: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawException {
    rule: Option<Spanned<String>>,
    service: Option<String>,
    #[serde(default)]
    services: Vec<String>,
    table: Option<String>,
    database: Option<String>,
    path: Option<Spanned<String>>,
    reason: String,
    /// `"YYYY-MM-DD"` (or a TOML date): the last day the exception applies.
    expires: Option<Spanned<toml::Value>>,
}

/// `[[overrides]] paths = ["legacy/**"] rules = { dual-write = "warn" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawOverride {
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Level>,
}

/// A service named in the config.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: String,
    /// Crate names or path globs.
    pub crates: Vec<String>,
    pub database: Option<String>,
    /// Where the service is declared: the config file, its text and the key's byte range.
    pub declared_at: Option<(Utf8PathBuf, std::sync::Arc<str>, Range<usize>)>,
}

/// An allowed exception: every field that is set must match a finding to silence it.
#[derive(Debug, Clone)]
pub struct Exception {
    pub rule: Option<String>,
    /// Every listed service must be among the finding's services.
    pub services: Vec<String>,
    pub table: Option<String>,
    pub database: Option<String>,
    pub path: Option<globset::GlobMatcher>,
    pub reason: String,
    /// The last day the exception applies; after it, it silences nothing and is reported.
    pub expires: Option<Date>,
    /// Where the exception is written, when it comes from a file: its `expires` value, else
    /// the whole entry.
    pub declared: Option<Declared>,
}

/// Levels of some rules for the files under some paths (`[[overrides]]`).
#[derive(Debug, Clone)]
pub struct Override {
    /// Paths relative to the workspace root; a pattern also matches everything below it.
    pub paths: globset::GlobSet,
    pub rules: BTreeMap<String, Level>,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub include_tests: bool,
    pub detect_services: bool,
    pub min_certainty: MinCertainty,
    /// The lowest confidence a finding needs to be reported.
    pub min_confidence: rules::Confidence,
    pub services: Vec<ServiceSpec>,
    pub levels: BTreeMap<String, Level>,
    pub exceptions: Vec<Exception>,
    /// `[[overrides]]`, in file order: a later entry wins over an earlier one.
    pub overrides: Vec<Override>,
    /// The file the configuration came from, if any.
    pub source: Option<Utf8PathBuf>,
    /// `[compensations]`: forward action (a verb such as `reserve`, or an operation name such
    /// as `reserve_stock`), lower case, to the actions that undo it (verbs or operation names).
    /// Added to the built-in verb pairs of `missing-compensation`.
    pub compensations: BTreeMap<String, Vec<String>>,
    /// `[vocabulary]`, the preset's lists extended by the configuration's.
    pub vocabulary: Vocabulary,
    /// The services `[[allow]]` exceptions name, with where, checked against the workspace
    /// once its services are known ([`Config::validate_allowed_services`]).
    pub allowed_services: Vec<(String, Declared)>,
}

/// Where a configuration entry is written: the file, its text and the entry's byte range.
pub type Declared = (Utf8PathBuf, std::sync::Arc<str>, Range<usize>);

impl Default for Config {
    fn default() -> Self {
        let mut config = Config {
            include_tests: false,
            detect_services: true,
            min_certainty: MinCertainty::Template,
            min_confidence: rules::Confidence::Medium,
            services: Vec::new(),
            levels: rules::REGISTRY
                .iter()
                .map(|r| (r.id().to_string(), r.default_level()))
                .chain(
                    crate::suppress::CODES
                        .iter()
                        .map(|c| (c.id.to_string(), c.default_level)),
                )
                .collect(),
            exceptions: Vec::new(),
            overrides: Vec::new(),
            source: None,
            compensations: BTreeMap::new(),
            vocabulary: Vocabulary::default(),
            allowed_services: Vec::new(),
        };
        // The embedded preset is part of the binary and covered by tests; if it ever failed to
        // parse, the registry defaults above stay in force.
        if let Ok(preset) = parse_raw(RECOMMENDED, Utf8Path::new("rules/recommended.toml")) {
            let _ = config.apply(preset, RECOMMENDED, Utf8Path::new("rules/recommended.toml"));
        }
        config
    }
}

impl Config {
    /// Checks the configuration against the workspace: every configured service must match
    /// at least one member (by crate name or directory glob).
    pub fn validate(&self, crates: &[(String, Utf8PathBuf)]) -> Result<(), ConfigError> {
        for spec in &self.services {
            let matches = spec.crates.iter().any(|pattern| {
                let glob = globset::Glob::new(pattern.trim_end_matches('/'))
                    .ok()
                    .map(|g| g.compile_matcher());
                crates.iter().any(|(name, dir)| {
                    name == pattern || glob.as_ref().is_some_and(|g| g.is_match(dir.as_str()))
                })
            });
            if matches {
                continue;
            }
            if let Some((path, text, span)) = &spec.declared_at {
                return Err(ConfigError::Invalid {
                    path: path.clone(),
                    code: Box::new(miette::NamedSource::new(path.as_str(), text.to_string())),
                    span: span.clone(),
                    message: format!("no workspace member matches service `{}`", spec.name),
                    help: Some(
                        "list its crates by name or directory glob: `crates = [\"orders-api\"]`"
                            .into(),
                    ),
                });
            }
        }
        Ok(())
    }

    /// Checks that every service an `[[allow]]` names is one archlint knows (`known`): an
    /// exception for a misspelt or removed service silences nothing, and would do so silently.
    pub fn validate_allowed_services(
        &self,
        known: impl Fn(&str) -> bool,
        all_known: &[String],
    ) -> Result<(), ConfigError> {
        for (service, (path, text, span)) in &self.allowed_services {
            if known(service) {
                continue;
            }
            let help = match did_you_mean(service, all_known) {
                Some(close) => format!(
                    "did you mean `{close}`? known services: {}",
                    all_known.join(", ")
                ),
                None => format!("known services: {}", all_known.join(", ")),
            };
            return Err(ConfigError::Invalid {
                path: path.clone(),
                code: Box::new(miette::NamedSource::new(path.as_str(), text.to_string())),
                span: span.clone(),
                message: format!(
                    "`[[allow]]` names service `{service}`, which is not in the workspace"
                ),
                help: Some(help),
            });
        }
        Ok(())
    }

    pub fn level(&self, rule: &str) -> Level {
        self.levels.get(rule).copied().unwrap_or(Level::Deny)
    }

    /// The level of a rule's findings in a file (a path relative to the workspace root):
    /// the configured level, changed by every `[[overrides]]` entry whose paths match.
    pub fn level_at(&self, rule: &str, path: &Utf8Path) -> Level {
        let mut level = self.level(rule);
        for entry in &self.overrides {
            if let Some(at) = entry.rules.get(rule) {
                if entry.paths.is_match(path.as_std_path()) {
                    level = *at;
                }
            }
        }
        level
    }

    /// True when a rule is on for some files: its level, or an override's, is not `allow`.
    pub fn enabled_somewhere(&self, rule: &str) -> bool {
        self.level(rule) != Level::Allow
            || self
                .overrides
                .iter()
                .any(|o| o.rules.get(rule).is_some_and(|l| *l != Level::Allow))
    }

    /// Keeps the rules and codes a command line selects (`--select`, `--ignore`, names
    /// already checked): every other one is off everywhere, overrides included. A selected
    /// rule the configuration turns off is turned on at its default level.
    pub fn select(&mut self, select: &[String], ignore: &[String]) {
        if select.is_empty() && ignore.is_empty() {
            return;
        }
        let named = |names: &[String], id: &str| names.iter().any(|n| n == id);
        for id in rules::known_ids() {
            let keep = (select.is_empty() || named(select, id)) && !named(ignore, id);
            if !keep {
                self.levels.insert(id.to_string(), Level::Allow);
                for entry in &mut self.overrides {
                    entry.rules.remove(id);
                }
            } else if named(select, id) && self.level(id) == Level::Allow {
                self.levels.insert(id.to_string(), rules::default_level(id));
            }
        }
    }

    /// Takes out the exceptions whose `expires` date is before `today`: they no longer
    /// apply, and are returned to be reported.
    pub fn take_expired(&mut self, today: Date) -> Vec<Exception> {
        let (expired, active) = std::mem::take(&mut self.exceptions)
            .into_iter()
            .partition(|e| e.expires.is_some_and(|last| last < today));
        self.exceptions = active;
        expired
    }

    /// Loads the configuration of the workspace at `root`: `explicit` if given, else
    /// `archlint.toml`, else `[workspace.metadata.archlint]` in `Cargo.toml`, else the
    /// recommended preset.
    pub fn load(root: &Utf8Path, explicit: Option<&Utf8Path>) -> Result<Config, ConfigError> {
        let read = |path: &Utf8Path| {
            read_text(path, FileClass::Manifest).map_err(|e| ConfigError::Io {
                path: path.to_owned(),
                message: e.to_string(),
            })
        };
        if let Some(path) = explicit {
            return Config::from_text(&read(path)?, path);
        }
        let file = root.join("archlint.toml");
        let manifest = read(&root.join("Cargo.toml")).ok();
        if file.exists() {
            // Two configurations would leave the user guessing which one is in force.
            if manifest.as_deref().is_some_and(has_manifest_config) {
                return Err(ConfigError::TwoConfigs);
            }
            return Config::from_text(&read(&file)?, Utf8Path::new("archlint.toml"));
        }
        if let Some(text) = manifest {
            return Config::from_manifest(&text, Utf8Path::new("Cargo.toml"));
        }
        Ok(Config::default())
    }

    /// Parses an `archlint.toml`.
    pub fn from_text(text: &str, path: &Utf8Path) -> Result<Config, ConfigError> {
        let raw = parse_raw(text, path)?;
        let mut config = Config {
            source: Some(path.to_owned()),
            ..Config::default()
        };
        config.apply(raw, text, path)?;
        Ok(config)
    }

    /// Reads `[workspace.metadata.archlint]` from a root manifest (other keys are ignored).
    pub fn from_manifest(text: &str, path: &Utf8Path) -> Result<Config, ConfigError> {
        #[derive(Deserialize)]
        struct Manifest {
            workspace: Option<Workspace>,
        }
        #[derive(Deserialize)]
        struct Workspace {
            metadata: Option<Metadata>,
        }
        #[derive(Deserialize)]
        struct Metadata {
            archlint: Option<RawConfig>,
        }
        let manifest: Manifest = toml::from_str(text).map_err(|e| toml_error(e, text, path))?;
        let raw = manifest
            .workspace
            .and_then(|w| w.metadata)
            .and_then(|m| m.archlint);
        let mut config = Config::default();
        if let Some(raw) = raw {
            config.source = Some(path.to_owned());
            config.apply(raw, text, path)?;
        }
        Ok(config)
    }

    fn apply(&mut self, raw: RawConfig, text: &str, path: &Utf8Path) -> Result<(), ConfigError> {
        let invalid =
            |span: Range<usize>, message: String, help: Option<String>| ConfigError::Invalid {
                path: path.to_owned(),
                code: Box::new(miette::NamedSource::new(path.as_str(), text.to_string())),
                span,
                message,
                help,
            };
        let unknown_rule = |rule: &Spanned<String>| {
            invalid(
                rule.span(),
                format!("unknown rule `{}`", rule.get_ref()),
                Some(known_rules()),
            )
        };
        if let Some(extends) = &raw.extends {
            let (preset, preset_path) = match extends.get_ref().as_str() {
                "recommended" => (RECOMMENDED, "rules/recommended.toml"),
                "strict" => (STRICT, "rules/strict.toml"),
                other => {
                    return Err(invalid(
                        extends.span(),
                        format!("unknown preset `{other}`"),
                        Some("use `recommended` or `strict`".into()),
                    ))
                }
            };
            let preset_raw = parse_raw(preset, Utf8Path::new(preset_path))?;
            self.apply(preset_raw, preset, Utf8Path::new(preset_path))?;
        }
        if let Some(include_tests) = raw.include_tests {
            self.include_tests = include_tests;
        }
        if let Some(detect) = raw.detect_services {
            self.detect_services = detect;
        }
        if let Some(min) = raw.min_certainty {
            self.min_certainty = min;
        }
        if let Some(min) = raw.min_confidence {
            self.min_confidence = min;
        }
        let shared_text: std::sync::Arc<str> = std::sync::Arc::from(text);
        for (name, spec) in raw.services {
            let span = name.span();
            let name = name.into_inner();
            let crates = if spec.crates.is_empty() {
                vec![name.clone()]
            } else {
                spec.crates
            };
            self.services.retain(|s| s.name != name);
            self.services.push(ServiceSpec {
                name,
                crates,
                database: spec.database,
                declared_at: Some((path.to_owned(), shared_text.clone(), span)),
            });
        }
        for (rule, level) in raw.rules {
            if !rules::is_known(rule.get_ref()) {
                return Err(unknown_rule(&rule));
            }
            self.levels.insert(rule.into_inner(), level);
        }
        for exception in raw.allow {
            let span = exception.span();
            let exception = exception.into_inner();
            if exception.reason.trim().is_empty() {
                return Err(invalid(
                    span,
                    "an exception needs a non-empty `reason`".into(),
                    Some("say why this access is acceptable, for the next reader".into()),
                ));
            }
            if let Some(rule) = &exception.rule {
                if rules::find(rule.get_ref()).is_none() {
                    return Err(unknown_rule(rule));
                }
            }
            let path_matcher = match &exception.path {
                Some(glob) => Some(
                    globset::Glob::new(glob.get_ref())
                        .map_err(|e| invalid(glob.span(), format!("invalid glob: {e}"), None))?
                        .compile_matcher(),
                ),
                None => None,
            };
            let expires = match &exception.expires {
                Some(value) => Some(parse_expiry(value).map_err(|message| {
                    invalid(
                        value.span(),
                        message,
                        Some(
                            "the last day the exception applies: `expires = \"2027-03-31\"`".into(),
                        ),
                    )
                })?),
                None => None,
            };
            let mut services = exception.services;
            services.extend(exception.service);
            let declared: Declared = (path.to_owned(), shared_text.clone(), span.clone());
            self.allowed_services.extend(
                services
                    .iter()
                    .map(|service| (service.clone(), declared.clone())),
            );
            if services.is_empty()
                && exception.table.is_none()
                && exception.database.is_none()
                && path_matcher.is_none()
            {
                return Err(invalid(
                    span,
                    "an exception must name at least one of `service`, `services`, `table`, `database` or `path`"
                        .into(),
                    None,
                ));
            }
            self.exceptions.push(Exception {
                rule: exception.rule.map(Spanned::into_inner),
                services,
                table: exception.table.map(|t| t.to_ascii_lowercase()),
                database: exception.database,
                path: path_matcher,
                reason: exception.reason,
                declared: Some((
                    path.to_owned(),
                    shared_text.clone(),
                    exception
                        .expires
                        .as_ref()
                        .map_or(span.clone(), Spanned::span),
                )),
                expires,
            });
        }
        for entry in raw.overrides {
            let span = entry.span();
            let entry = entry.into_inner();
            if entry.paths.is_empty() {
                return Err(invalid(
                    span,
                    "an override needs at least one path in `paths`".into(),
                    Some("for example `paths = [\"legacy/**\"]`".into()),
                ));
            }
            let mut paths = globset::GlobSetBuilder::new();
            for pattern in &entry.paths {
                let text = pattern.get_ref().trim_end_matches('/');
                let glob = globset::Glob::new(text)
                    .map_err(|e| invalid(pattern.span(), format!("invalid glob: {e}"), None))?;
                paths.add(glob);
                // `legacy` and `legacy/*` also cover what is below them.
                if !text.ends_with("**") {
                    if let Ok(below) = globset::Glob::new(&format!("{text}/**")) {
                        paths.add(below);
                    }
                }
            }
            let paths = paths
                .build()
                .map_err(|e| invalid(span.clone(), format!("invalid glob: {e}"), None))?;
            if entry.rules.is_empty() {
                return Err(invalid(
                    span,
                    "an override needs at least one rule in `rules`".into(),
                    Some("for example `rules = { dual-write = \"warn\" }`".into()),
                ));
            }
            let mut levels = BTreeMap::new();
            for (rule, level) in entry.rules {
                if !rules::is_known(rule.get_ref()) {
                    return Err(unknown_rule(&rule));
                }
                levels.insert(rule.into_inner(), level);
            }
            self.overrides.push(Override {
                paths,
                rules: levels,
            });
        }
        let lower = |words: Vec<String>| {
            words
                .into_iter()
                .map(|w| w.trim().to_ascii_lowercase())
                .filter(|w| !w.is_empty())
        };
        let vocabulary = raw.vocabulary;
        self.vocabulary
            .read_verbs
            .extend(lower(vocabulary.read_verbs));
        self.vocabulary
            .infrastructure_clients
            .extend(lower(vocabulary.infrastructure_clients));
        self.vocabulary
            .not_undone
            .extend(lower(vocabulary.not_undone));
        self.vocabulary
            .action_verbs
            .extend(lower(vocabulary.action_verbs));
        for (noun, verb) in vocabulary.nominals {
            self.vocabulary.nominals.insert(
                noun.trim().to_ascii_lowercase(),
                verb.trim().to_ascii_lowercase(),
            );
        }
        for (forward, undo) in raw.compensations {
            let undo_span = undo.span();
            let undo = match undo.into_inner() {
                RawCompensation::One(one) => vec![one],
                RawCompensation::Many(many) => many,
            };
            let undo: Vec<String> = undo
                .iter()
                .map(|u| u.trim().to_ascii_lowercase())
                .filter(|u| !u.is_empty())
                .collect();
            let action = forward.get_ref().trim().to_ascii_lowercase();
            if action.is_empty() {
                return Err(invalid(
                    forward.span(),
                    "a compensation needs a forward action".into(),
                    Some("name the verb or operation it undoes: `reserve = \"release\"`".into()),
                ));
            }
            if undo.is_empty() {
                return Err(invalid(
                    undo_span,
                    format!("no compensating action given for `{action}`"),
                    Some(
                        "name the verb or operation that undoes it: `reserve = \"release\"`".into(),
                    ),
                ));
            }
            let entry = self.compensations.entry(action).or_default();
            for u in undo {
                if !entry.contains(&u) {
                    entry.push(u);
                }
            }
        }
        Ok(())
    }
}

fn known_rules() -> String {
    let names: Vec<&str> = rules::known_ids().collect();
    format!("known rules: {}", names.join(", "))
}

/// An `expires` value: a `"YYYY-MM-DD"` string or a TOML local date.
fn parse_expiry(value: &Spanned<toml::Value>) -> Result<Date, String> {
    match value.get_ref() {
        toml::Value::String(text) => text.parse::<Date>().map_err(|e| e.to_string()),
        toml::Value::Datetime(toml::value::Datetime {
            date: Some(date),
            time: None,
            offset: None,
        }) => Date::new(i32::from(date.year), date.month, date.day)
            .ok_or_else(|| format!("`{date}` is not a date")),
        other => Err(format!(
            "`expires` must be a date such as \"2027-03-31\", not `{other}`"
        )),
    }
}

fn parse_raw(text: &str, path: &Utf8Path) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| toml_error(e, text, path))
}

fn toml_error(error: toml::de::Error, text: &str, path: &Utf8Path) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_owned(),
        code: Box::new(miette::NamedSource::new(path.as_str(), text.to_string())),
        span: error.span().unwrap_or(0..0),
        message: error.message().trim().to_string(),
        help: None,
    }
}

/// A configuration that cannot be used. Rendered by miette, pointing into the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {message}")]
    Io { path: Utf8PathBuf, message: String },
    #[error(
        "both archlint.toml and [workspace.metadata.archlint] in Cargo.toml configure archlint"
    )]
    TwoConfigs,
    #[error("invalid configuration in {path}")]
    Invalid {
        path: Utf8PathBuf,
        code: Box<miette::NamedSource<String>>,
        span: Range<usize>,
        message: String,
        help: Option<String>,
    },
}

impl miette::Diagnostic for ConfigError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("archlint::config"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            ConfigError::Invalid {
                help: Some(help), ..
            } => Some(Box::new(help.clone())),
            ConfigError::TwoConfigs => {
                Some(Box::new("keep one of them (or choose one with --config)"))
            }
            _ => None,
        }
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match self {
            ConfigError::Invalid { code, .. } => Some(code.as_ref() as &dyn miette::SourceCode),
            ConfigError::Io { .. } | ConfigError::TwoConfigs => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        match self {
            ConfigError::Invalid { span, message, .. } => Some(Box::new(std::iter::once(
                miette::LabeledSpan::new_primary_with_span(
                    Some(message.clone()),
                    miette::SourceSpan::from(span.start..span.end.max(span.start)),
                ),
            ))),
            ConfigError::Io { .. } | ConfigError::TwoConfigs => None,
        }
    }
}

/// The closest of `candidates` to `name`, if it is close enough to be a likely misspelling
/// (edit distance at most a third of the name, ignoring case, `-` and `_`).
pub fn did_you_mean<'c>(name: &str, candidates: &'c [String]) -> Option<&'c str> {
    let simplify = |s: &str| s.to_ascii_lowercase().replace(['-', '_'], "");
    let wanted = simplify(name);
    candidates
        .iter()
        .map(|c| (edit_distance(&wanted, &simplify(c)), c))
        .filter(|(distance, _)| *distance <= wanted.chars().count().max(3) / 3)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c.as_str())
}

/// Levenshtein distance, in chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// True when a root manifest has a `[workspace.metadata.archlint]` table.
fn has_manifest_config(manifest: &str) -> bool {
    manifest.parse::<toml::Table>().is_ok_and(|table| {
        table
            .get("workspace")
            .and_then(|w| w.get("metadata"))
            .and_then(|m| m.get("archlint"))
            .is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse() {
        parse_raw(RECOMMENDED, Utf8Path::new("recommended.toml"))
            .expect("recommended preset parses");
        parse_raw(STRICT, Utf8Path::new("strict.toml")).expect("strict preset parses");
        let strict = Config::from_text("extends = \"strict\"\n", Utf8Path::new("archlint.toml"))
            .expect("strict");
        assert_eq!(strict.min_certainty, MinCertainty::Unknown);
        // `recommended` sets each rule to its default level, `strict` denies every rule.
        let recommended = Config::default();
        for rule in rules::REGISTRY {
            assert_eq!(
                recommended.level(rule.id()),
                rule.default_level(),
                "{}",
                rule.id()
            );
            assert_eq!(strict.level(rule.id()), Level::Deny, "{}", rule.id());
        }
    }

    #[test]
    fn min_confidence_defaults_to_medium_and_is_checked() {
        let default = Config::from_text("", Utf8Path::new("archlint.toml")).expect("empty");
        assert_eq!(default.min_confidence, rules::Confidence::Medium);
        let strict = Config::from_text("extends = \"strict\"\n", Utf8Path::new("archlint.toml"))
            .expect("strict");
        assert_eq!(strict.min_confidence, rules::Confidence::Low);
        let high = Config::from_text("min-confidence = \"high\"\n", Utf8Path::new("a.toml"))
            .expect("high");
        assert_eq!(high.min_confidence, rules::Confidence::High);
        let Err(ConfigError::Invalid { message, .. }) =
            Config::from_text("min-confidence = \"sure\"\n", Utf8Path::new("a.toml"))
        else {
            panic!("expected an error");
        };
        assert!(
            message.contains("sure") || message.contains("variant"),
            "{message}"
        );
    }

    #[test]
    fn unknown_key_points_at_the_key() {
        let text = "extends = \"recommended\"\ninclude-test = true\n";
        let Err(ConfigError::Invalid { span, message, .. }) =
            Config::from_text(text, Utf8Path::new("archlint.toml"))
        else {
            panic!("expected an error");
        };
        assert!(message.contains("include-test"), "{message}");
        assert_eq!(&text[span], "include-test");
    }

    #[test]
    fn exception_without_reason_is_an_error() {
        let text = "[[allow]]\nrule = \"shared-database\"\nservices = [\"a\", \"b\"]\n";
        let Err(ConfigError::Invalid { message, .. }) =
            Config::from_text(text, Utf8Path::new("archlint.toml"))
        else {
            panic!("expected an error");
        };
        assert!(message.contains("reason"), "{message}");
    }

    #[test]
    fn unknown_rule_points_at_the_rule() {
        let text = "[rules]\nshared-db = \"deny\"\n";
        let Err(ConfigError::Invalid { span, .. }) =
            Config::from_text(text, Utf8Path::new("archlint.toml"))
        else {
            panic!("expected an error");
        };
        assert_eq!(&text[span], "shared-db");
    }

    #[test]
    fn compensations_are_read_and_checked() {
        let text =
            "[compensations]\nship = \"recall\"\nbook_room = [\"Cancel_Room\", \"release_room\"]\n";
        let config = Config::from_text(text, Utf8Path::new("archlint.toml")).expect("valid");
        assert_eq!(config.compensations["ship"], vec!["recall".to_string()]);
        assert_eq!(
            config.compensations["book_room"],
            vec!["cancel_room".to_string(), "release_room".to_string()]
        );
        let text = "[compensations]\nship = []\n";
        let Err(ConfigError::Invalid { span, message, .. }) =
            Config::from_text(text, Utf8Path::new("archlint.toml"))
        else {
            panic!("expected an error");
        };
        assert!(message.contains("ship"), "{message}");
        assert_eq!(&text[span], "[]");
        let text = "[compensations]\nship = 3\n";
        let Err(ConfigError::Invalid { span, .. }) =
            Config::from_text(text, Utf8Path::new("archlint.toml"))
        else {
            panic!("expected an error");
        };
        assert_eq!(&text[span], "3");
    }

    fn date(text: &str) -> Date {
        text.parse().expect("a date")
    }

    #[test]
    fn exceptions_expire_after_their_last_day() {
        let text = "[[allow]]\nrule = \"dual-write\"\npath = \"a/**\"\nreason = \"r\"\nexpires = \"2027-03-31\"\n\n\
                    [[allow]]\npath = \"b/**\"\nreason = \"r\"\nexpires = 2027-04-30\n\n\
                    [[allow]]\npath = \"c/**\"\nreason = \"for good\"\n";
        let config = Config::from_text(text, Utf8Path::new("archlint.toml")).expect("valid");
        let expires: Vec<Option<String>> = config
            .exceptions
            .iter()
            .map(|e| e.expires.map(|d| d.to_string()))
            .collect();
        assert_eq!(
            expires,
            [Some("2027-03-31".into()), Some("2027-04-30".into()), None]
        );
        let mut on_the_day = config.clone();
        assert!(on_the_day.take_expired(date("2027-03-31")).is_empty());
        assert_eq!(on_the_day.exceptions.len(), 3);
        let mut later = config.clone();
        let expired = later.take_expired(date("2027-04-01"));
        assert_eq!(expired.len(), 1);
        assert_eq!(later.exceptions.len(), 2);
        // It points at its `expires` value.
        let (_, source, span) = expired[0].declared.clone().expect("declared");
        assert_eq!(&source[span], "\"2027-03-31\"");
    }

    #[test]
    fn a_bad_expiry_points_at_the_value() {
        for (value, message) in [
            ("\"2027-02-29\"", "`2027-02-29` is not a date"),
            ("\"31.03.2027\"", "`31.03.2027` is not a date"),
            ("20270331", "must be a date"),
            ("2027-03-31T10:00:00", "must be a date"),
        ] {
            let text = format!("[[allow]]\npath = \"a\"\nreason = \"r\"\nexpires = {value}\n");
            let Err(ConfigError::Invalid {
                span,
                message: found,
                ..
            }) = Config::from_text(&text, Utf8Path::new("archlint.toml"))
            else {
                panic!("{value}: expected an error");
            };
            assert!(found.contains(message), "{value}: {found}");
            assert_eq!(&text[span], value);
        }
    }

    #[test]
    fn overrides_set_levels_by_path_and_later_ones_win() {
        let text = "[rules]\ndual-write = \"allow\"\n\n\
                    [[overrides]]\npaths = [\"legacy\", \"tools/*.rs\"]\nrules = { shared-database = \"warn\", dual-write = \"deny\" }\n\n\
                    [[overrides]]\npaths = [\"legacy/keep/**\"]\nrules = { shared-database = \"allow\", unused-suppression = \"deny\" }\n";
        let config = Config::from_text(text, Utf8Path::new("archlint.toml")).expect("valid");
        let at = |rule: &str, path: &str| config.level_at(rule, Utf8Path::new(path));
        assert_eq!(at("shared-database", "src/main.rs"), Level::Deny);
        assert_eq!(at("shared-database", "legacy/a/b.rs"), Level::Warn);
        assert_eq!(at("shared-database", "tools/x.rs"), Level::Warn);
        assert_eq!(at("shared-database", "legacy/keep/x.rs"), Level::Allow);
        assert_eq!(at("unused-suppression", "legacy/keep/x.rs"), Level::Deny);
        assert_eq!(at("unused-suppression", "legacy/x.rs"), Level::Warn);
        assert_eq!(at("dual-write", "src/main.rs"), Level::Allow);
        assert_eq!(at("dual-write", "legacy/x.rs"), Level::Deny);
        // `dual-write` is off by default but on under `legacy`: it runs.
        assert!(config.enabled_somewhere("dual-write"));
        let mut ignored = config.clone();
        ignored.select(&[], &["dual-write".to_string()]);
        assert!(!ignored.enabled_somewhere("dual-write"));
        assert_eq!(
            ignored.level_at("dual-write", Utf8Path::new("legacy/x.rs")),
            Level::Allow
        );
        let mut selected = config;
        selected.select(&["dual-write".to_string()], &[]);
        assert_eq!(selected.level("dual-write"), Level::Deny);
        assert_eq!(selected.level("shared-database"), Level::Allow);
        assert_eq!(selected.level("unused-suppression"), Level::Allow);
        assert!(!selected.enabled_somewhere("unused-suppression"));
    }

    #[test]
    fn manifest_metadata_is_read() {
        let text = "[workspace]\nmembers = []\n[workspace.metadata.archlint]\ninclude-tests = true\n[workspace.metadata.archlint.rules]\nshared-database = \"warn\"\n";
        let config = Config::from_manifest(text, Utf8Path::new("Cargo.toml")).expect("valid");
        assert!(config.include_tests);
        assert_eq!(config.level("shared-database"), Level::Warn);
    }
}
