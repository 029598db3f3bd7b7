//! ## What it does
//! Flags two or more services that use the same database: they connect to the same database
//! (same engine, host, port and database name once poolers and compose database containers are
//! followed), or they run the same migrations directory (for example the migrations of a shared
//! schema or persistence crate). One finding per service involved, at the place where that
//! service declares the connection or runs the migrations.
//!
//! Connections whose host or database name cannot be resolved statically are never compared:
//! two services reading `DATABASE_URL` from an unknown environment are not assumed to share.
//!
//! ## Why is this bad
//! A shared database couples services at their most intimate point: any schema change must be
//! coordinated across teams and deployed in lockstep, one service's slow queries or locks stall
//! the others, and no service can guarantee its invariants because someone else can write its
//! rows. The services are a distributed monolith that only looks independent.
//!
//! ## Example
//! ```yaml
//! # docker-compose.yml
//! services:
//!   payments:
//!     environment:
//!       DATABASE_URL: postgres://app:secret@db:5432/commerce
//!   shipping:
//!     environment:
//!       DATABASE_URL: postgres://app:secret@db:5432/commerce
//! ```
//!
//! ## How to fix
//! Give each service its own database (at least its own schema and database user) and its own
//! migrations. Data another service needs is served through the owner's API or published as
//! events the other service keeps a local projection of. If the sharing is deliberate and
//! temporary (a migration in progress), record it in `archlint.toml`:
//! ```toml
//! [[allow]]
//! rule = "shared-database"
//! services = ["payments", "shipping"]
//! reason = "shipping moves to its own database in Q3 (ticket ARCH-12)"
//! ```

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8PathBuf;

use crate::model::{DbEngine, DbTarget, ServiceId, Span};
use crate::resolve::is_per_service_table;
use crate::rules::{list_names, Confidence, Finding, Related, Rule, RuleContext};

pub struct SharedDatabase;

/// Something two services share, with where each service declares its use of it.
enum Shared {
    Database(DbTarget),
    Migrations(usize),
}

impl Rule for SharedDatabase {
    fn id(&self) -> &'static str {
        "shared-database"
    }

    fn summary(&self) -> &'static str {
        "two or more services use the same database or run the same migrations"
    }

    fn source(&self) -> &'static str {
        include_str!("shared_database.rs")
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let model = cx.model;
        let mut groups: Vec<(Shared, BTreeMap<ServiceId, Span>)> = Vec::new();

        let mut by_target: BTreeMap<(DbTarget, Option<Utf8PathBuf>), BTreeMap<ServiceId, Span>> =
            BTreeMap::new();
        for service in &model.services {
            for connection in &service.connections {
                // Redis and unknown engines are caches and brokers as often as databases.
                if !connection.target.is_resolved()
                    || matches!(connection.target.engine, DbEngine::Redis)
                {
                    continue;
                }
                let span = model.connections[connection.connection].span;
                by_target
                    .entry((connection.target.clone(), connection.scope.clone()))
                    .or_default()
                    .entry(service.id)
                    .or_insert(span);
            }
        }
        groups.extend(
            by_target
                .into_iter()
                .map(|((t, _), s)| (Shared::Database(t), s)),
        );

        for (index, set) in model.migrations.iter().enumerate() {
            let only_bookkeeping =
                !set.tables.is_empty() && set.tables.iter().all(|t| is_per_service_table(&t.table));
            if only_bookkeeping {
                continue;
            }
            let mut services = BTreeMap::new();
            for service in model
                .services
                .iter()
                .filter(|s| s.migration_sets.contains(&index))
            {
                services.insert(service.id, migration_site(cx, service.id, index));
            }
            groups.push((Shared::Migrations(index), services));
        }

        // One finding per service and group of peers: the first evidence is enough.
        let mut reported: BTreeSet<(ServiceId, Vec<ServiceId>)> = BTreeSet::new();
        for (shared, services) in groups {
            if services.len() < 2 {
                continue;
            }
            for (&service, &span) in &services {
                let peers: Vec<ServiceId> =
                    services.keys().copied().filter(|s| *s != service).collect();
                if !reported.insert((service, peers.clone())) {
                    continue;
                }
                let name = cx.service_name(service);
                let peer_names = list_names(peers.iter().map(|p| cx.service_name(*p)));
                let peer_word = if peers.len() == 1 {
                    "service"
                } else {
                    "services"
                };
                let related = peers
                    .iter()
                    .map(|p| Related {
                        span: services[p],
                        label: format!("`{}` uses it here", cx.service_name(*p)),
                    })
                    .collect();
                let (message, label, database) = match &shared {
                    Shared::Database(target) => (
                        format!("service `{name}` shares database `{target}` with {peer_word} {peer_names}"),
                        "connects to the shared database here".to_string(),
                        target.database.clone(),
                    ),
                    Shared::Migrations(index) => (
                        format!(
                            "service `{name}` runs the migrations in `{}`, which {peer_word} {peer_names} also run{}",
                            model.migrations[*index].dir,
                            if peers.len() == 1 { "s" } else { "" }
                        ),
                        "runs the shared migrations here".to_string(),
                        None,
                    ),
                };
                let mut involved = vec![name.to_string()];
                involved.extend(peers.iter().map(|p| cx.service_name(*p).to_string()));
                out.push(Finding {
                    confidence: Confidence::High,
                    rule: self.id(),
                    level: self.default_level(),
                    message,
                    span,
                    label,
                    help: "give each service its own database and migrations; let the others call its API or \
                           consume its events (or add an [[allow]] with a reason to archlint.toml)"
                        .to_string(),
                    related,
                    services: involved,
                    table: None,
                    database,
                });
            }
        }
    }
}

/// Where a service runs a migration set, so that each service's finding points into its own
/// code: a `migrate!` call in its root crate; else its dependency on the crate holding the
/// call or the migrations (the call may sit in a library several services share); else the
/// call, wherever it is; else the first table the set creates.
fn migration_site(cx: &RuleContext<'_>, service: ServiceId, set: usize) -> Span {
    let model = cx.model;
    let service = model.service(service);
    let runs: Vec<_> = model
        .migration_runs
        .iter()
        .filter(|r| r.set == set && service.crates.contains(&r.crate_id))
        .collect();
    if let Some(run) = runs.iter().find(|r| r.crate_id == service.root_crate) {
        return run.span;
    }
    let holder = model.migrations[set].crate_id;
    let mut targets: Vec<_> = runs.iter().map(|r| r.crate_id).collect();
    targets.push(holder);
    // The root crate first, then the libraries it pulls in.
    let mut crates = vec![service.root_crate];
    crates.extend(
        service
            .crates
            .iter()
            .copied()
            .filter(|c| *c != service.root_crate),
    );
    for krate in crates {
        if let Some(span) = model
            .krate(krate)
            .dependencies
            .iter()
            .find(|d| d.member.is_some_and(|m| targets.contains(&m)))
            .and_then(|d| d.span)
        {
            return span;
        }
    }
    runs.first()
        .map(|r| r.span)
        .or(model.migrations[set].run_at)
        .or_else(|| model.migrations[set].tables.first().map(|t| t.span))
        .unwrap_or_else(|| cx.manifest_span(holder))
}
