//! Rules judge the resolved [`Model`]; they never read source. One file per rule; the file's
//! `//!` comment is the rule's documentation (`cargo archlint explain <rule>` prints it).
//!
//! To add a rule: write `rules/<rule_name>.rs` with a unit struct implementing [`Rule`], declare
//! the module below and add one line to [`REGISTRY`].

mod blocking_saga_step;
mod cross_service_db_access;
mod distributed_transaction;
mod dual_write;
mod duplicated_reference_data;
mod missing_compensation;
mod missing_idempotency;
mod shared_database;
#[cfg(test)]
mod tests;
mod unversioned_event;

pub use blocking_saga_step::BlockingSagaStep;
pub use cross_service_db_access::CrossServiceDbAccess;
pub use distributed_transaction::DistributedTransaction;
pub use dual_write::DualWrite;
pub use duplicated_reference_data::DuplicatedReferenceData;
pub use missing_compensation::MissingCompensation;
pub use missing_idempotency::MissingIdempotency;
pub use shared_database::SharedDatabase;
pub use unversioned_event::UnversionedEvent;

use serde::Serialize;

use rayon::prelude::*;

use crate::behaviour::Behaviour;
use crate::config::{Config, Level, MinCertainty};
use crate::model::{Certainty, CrateId, FileId, Model, Service, ServiceId, Span};

/// Every rule, in documentation order.
pub static REGISTRY: &[&dyn Rule] = &[
    &SharedDatabase,
    &CrossServiceDbAccess,
    &MissingCompensation,
    &MissingIdempotency,
    &DualWrite,
    &DistributedTransaction,
    &BlockingSagaStep,
    &UnversionedEvent,
    &DuplicatedReferenceData,
];

/// A rule: an id (kebab-case, used everywhere: config, output, `explain`), its documentation,
/// and the check.
pub trait Rule: Sync {
    fn id(&self) -> &'static str;
    /// One line, for `cargo archlint rules` and SARIF `shortDescription`.
    fn summary(&self) -> &'static str;
    /// The source of the rule's module; its leading `//!` block is the documentation.
    fn source(&self) -> &'static str;
    fn default_level(&self) -> Level {
        Level::Deny
    }
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>);

    /// The rule's documentation (*What it does / Why is this bad / Example / How to fix*).
    fn doc(&self) -> String {
        module_doc(self.source())
    }
}

/// Finds a rule by id.
pub fn find(id: &str) -> Option<&'static dyn Rule> {
    REGISTRY.iter().copied().find(|r| r.id() == id)
}

/// Every id a level can be set for: the rules, then the suppression codes
/// ([`crate::suppress::CODES`]: unused or malformed suppressions, expired exceptions).
pub fn known_ids() -> impl Iterator<Item = &'static str> {
    REGISTRY
        .iter()
        .map(|r| r.id())
        .chain(crate::suppress::CODES.iter().map(|c| c.id))
}

/// True for a rule or a suppression code.
pub fn is_known(id: &str) -> bool {
    known_ids().any(|known| known == id)
}

/// The built-in level of a rule or suppression code (before any preset or configuration).
pub fn default_level(id: &str) -> Level {
    match (find(id), crate::suppress::code(id)) {
        (Some(rule), _) => rule.default_level(),
        (None, Some(code)) => code.default_level,
        (None, None) => Level::Deny,
    }
}

/// A rule name as the registry spells it: lower case, words joined by `-`
/// (`SHARED_DATABASE` and `Shared-Database` name `shared-database`).
pub fn canonical_name(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', ' '], "-")
}

/// The leading `//!` block of a module source, without the markers.
pub fn module_doc(source: &str) -> String {
    let mut doc = String::new();
    for line in source.lines() {
        let Some(rest) = line.strip_prefix("//!") else {
            break;
        };
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        // Examples are not compiled as doctests; readers see plain fences.
        doc.push_str(rest.strip_suffix(",ignore").unwrap_or(rest));
        doc.push('\n');
    }
    doc
}

/// What a rule sees.
pub struct RuleContext<'a> {
    pub model: &'a Model,
    pub config: &'a Config,
    behaviour: std::sync::OnceLock<Behaviour<'a>>,
    /// The services each crate is part of, by crate id.
    crate_services: std::sync::OnceLock<Vec<Vec<&'a Service>>>,
}

impl<'a> RuleContext<'a> {
    pub fn new(model: &'a Model, config: &'a Config) -> Self {
        RuleContext {
            model,
            config,
            behaviour: std::sync::OnceLock::new(),
            crate_services: std::sync::OnceLock::new(),
        }
    }

    /// The services a crate is part of (as [`Model::services_of_crate`]), from an index built
    /// once: rules ask for every query and function.
    pub fn services_of_crate(&self, id: CrateId) -> impl Iterator<Item = &'a Service> + '_ {
        let index = self.crate_services.get_or_init(|| {
            let mut index: Vec<Vec<&'a Service>> = vec![Vec::new(); self.model.crates.len()];
            for service in &self.model.services {
                for krate in &service.crates {
                    if let Some(services) = index.get_mut(krate.0 as usize) {
                        if !services.iter().any(|s| s.id == service.id) {
                            services.push(service);
                        }
                    }
                }
            }
            index
        });
        let indexed = index.get(id.0 as usize);
        // A crate id the model does not list falls back to a scan.
        let scanned = indexed
            .is_none()
            .then(|| self.model.services_of_crate(id))
            .into_iter()
            .flatten();
        indexed.into_iter().flatten().copied().chain(scanned)
    }

    /// The index of functions, handlers and calls, built once for every rule that needs it.
    pub fn behaviour(&self) -> &Behaviour<'a> {
        self.behaviour.get_or_init(|| Behaviour::new(self.model))
    }

    /// True when SQL of this certainty is judged under the configured minimum.
    pub fn certain_enough(&self, certainty: Certainty) -> bool {
        match self.config.min_certainty {
            MinCertainty::Exact => certainty == Certainty::Exact,
            MinCertainty::Template => certainty != Certainty::Unknown,
            MinCertainty::Unknown => true,
        }
    }

    pub fn service_name(&self, id: ServiceId) -> &str {
        &self.model.service(id).name
    }

    /// `path:line`, for messages.
    pub fn location(&self, span: Span) -> String {
        format!("{}:{}", self.model.file(span.file).path, span.line)
    }

    /// A span covering the start of a file (for findings about a whole manifest).
    pub fn file_start(&self, file: FileId) -> Span {
        Span {
            file,
            start: 0,
            end: 0,
            line: 1,
            column: 1,
        }
    }

    /// The manifest of a crate, as a span.
    pub fn manifest_span(&self, krate: CrateId) -> Span {
        self.file_start(self.model.krate(krate).manifest)
    }

    /// True for facts in test code that the configuration does not ask to judge.
    pub fn is_test(&self, span: Span) -> bool {
        !self.config.include_tests && self.model.file(span.file).is_test
    }
}

/// A secondary location shown with a finding (the owner's migration, the other service's
/// connection).
#[derive(Debug, Clone, Serialize)]
pub struct Related {
    pub span: Span,
    pub label: String,
}

/// How sure a rule is of a finding: `high` when every link of its evidence chain was
/// resolved (the SQL, the table's owner, the callee, the broker client), `medium` when one
/// link was inferred by name (a method resolved by its name alone, a client recognised by its
/// type's name), `low` when more than one was.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        })
    }
}

/// One problem found by a rule, located at the exact token.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub confidence: Confidence,
    /// Filled from the configuration after the rule ran.
    pub level: Level,
    pub message: String,
    pub span: Span,
    /// Label at the primary span.
    pub label: String,
    pub help: String,
    pub related: Vec<Related>,
    /// Every service involved: the one at fault first, then the others. Exceptions match on it.
    pub services: Vec<String>,
    pub table: Option<String>,
    pub database: Option<String>,
}

/// Runs every rule not set to `allow`, applies levels and exceptions, and sorts findings by
/// location. Returns the findings and how many exceptions silenced.
pub fn run(model: &Model, config: &Config) -> (Vec<Finding>, usize) {
    let (mut findings, suppressed) = judge(model, config);
    findings.retain(|f| f.confidence >= config.min_confidence);
    (findings, suppressed)
}

/// [`run`] before the `min-confidence` filter: every finding of every rule on for some file,
/// at the level of its file (`[[overrides]]`), less those `[[allow]]` exceptions silence,
/// sorted by location. Inline suppressions are matched against these, so one that silences
/// a finding below the reported confidence is not reported as unused. The count is of the
/// silenced findings at or above the reported confidence.
pub fn judge(model: &Model, config: &Config) -> (Vec<Finding>, usize) {
    let cx = RuleContext::new(model, config);
    // Rules are independent: they run in parallel, and their findings are concatenated in
    // registry order before sorting, so output does not depend on scheduling.
    let per_rule: Vec<Vec<Finding>> = REGISTRY
        .par_iter()
        .map(|rule| {
            let mut found = Vec::new();
            if config.enabled_somewhere(rule.id()) {
                rule.check(&cx, &mut found);
            }
            for finding in &mut found {
                finding.level = config.level_at(rule.id(), &model.file(finding.span.file).path);
            }
            found.retain(|f| f.level != Level::Allow);
            found
        })
        .collect();
    let mut findings: Vec<Finding> = per_rule.into_iter().flatten().collect();
    let mut suppressed = 0;
    findings.retain(|f| {
        let silenced = config
            .exceptions
            .iter()
            .any(|e| exception_matches(model, e, f));
        if silenced && f.confidence >= config.min_confidence {
            suppressed += 1;
        }
        !silenced
    });
    sort(model, &mut findings);
    (findings, suppressed)
}

/// Sorts findings by file, position, rule and message, and drops exact repeats (keeping the
/// most confident).
pub fn sort(model: &Model, findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        let path = |f: &Finding| &model.file(f.span.file).path;
        (path(a), a.span.start, a.rule, &a.message, b.confidence).cmp(&(
            path(b),
            b.span.start,
            b.rule,
            &b.message,
            a.confidence,
        ))
    });
    findings.dedup_by(|a, b| a.rule == b.rule && a.span == b.span && a.message == b.message);
}

fn exception_matches(
    model: &Model,
    exception: &crate::config::Exception,
    finding: &Finding,
) -> bool {
    exception.rule.as_deref().is_none_or(|r| r == finding.rule)
        && exception
            .services
            .iter()
            .all(|s| finding.services.iter().any(|f| f == s))
        && exception.table.as_deref().is_none_or(|t| {
            finding
                .table
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(t))
        })
        && exception.database.as_deref().is_none_or(|d| {
            finding
                .database
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(d))
        })
        && exception
            .path
            .as_ref()
            .is_none_or(|glob| glob.is_match(model.file(finding.span.file).path.as_str()))
}

/// "`a`", "`a` and `b`", "`a`, `b` and `c`".
pub fn list_names<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
