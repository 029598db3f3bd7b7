//! ## What it does
//! Flags two or more services that use the same database: they connect to the same database
//! (same engine, host, port and database name once poolers and compose database containers are
//! followed), they run the same migrations directory (for example the migrations of a shared
//! schema or persistence crate), or their code uses the tables of a workspace-level migration
//! set (a `migrations/` directory outside every service's crate, run by one of them with
//! `migrate!("../migrations")`): a schema no single service owns. One finding per group of
//! services, at the first service's connection, migration run or query, with the others'
//! as related locations; a smaller group of the same services sharing a database in another
//! deployment (compose beside Kubernetes) is that unit again and is not reported twice.
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

use crate::model::{
    Access, DbEngine, DbTarget, MigrationSet, ServiceId, Span, SqlOrigin, TableName,
};
use crate::resolve::is_per_service_table;
use crate::rules::{list_names, Confidence, Finding, Related, Rule, RuleContext};

pub struct SharedDatabase;

/// Something two services share, with where each service declares its use of it.
enum Shared {
    Database(DbTarget),
    Migrations(usize),
    /// A workspace-level migration set whose tables several services use.
    Schema(usize),
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

        // A migration set kept outside the crates of the services that run it (a
        // workspace-level `migrations/` run with `migrate!("../migrations")`) is no single
        // service's schema: the services whose code uses its tables share its database.
        for (index, set) in model.migrations.iter().enumerate() {
            if !is_workspace_schema(cx, set) {
                continue;
            }
            let tables: BTreeSet<&TableName> = set
                .tables
                .iter()
                .filter(|t| t.access == Access::Create && !is_per_service_table(&t.table))
                .map(|t| &t.table)
                .collect();
            let mut services: BTreeMap<ServiceId, Span> = model
                .services
                .iter()
                .filter(|s| s.migration_sets.contains(&index))
                .map(|s| (s.id, migration_site(cx, s.id, index)))
                .collect();
            for query in &model.queries {
                if query.origin == SqlOrigin::Migration
                    || !cx.certain_enough(query.certainty)
                    || cx.is_test(query.span)
                {
                    continue;
                }
                let Some(used) = query.tables.iter().find(|t| tables.contains(&t.table)) else {
                    continue;
                };
                for service in cx.services_of_crate(query.crate_id) {
                    services.entry(service.id).or_insert(used.span);
                }
            }
            groups.push((Shared::Schema(index), services));
        }

        // One finding per group of services: the first evidence is enough. A group inside a
        // larger one already reported (the same services on one database in another
        // deployment, compose and Kubernetes) is that unit again.
        groups.sort_by_key(|(_, services)| std::cmp::Reverse(services.len()));
        let mut reported: Vec<BTreeSet<ServiceId>> = Vec::new();
        for (shared, services) in groups {
            let members: BTreeSet<ServiceId> = services.keys().copied().collect();
            if services.len() < 2 || reported.iter().any(|r| members.is_subset(r)) {
                continue;
            }
            reported.push(members);
            let mut sites = services.iter();
            let Some((&first, &span)) = sites.next() else {
                continue;
            };
            let names = list_names(services.keys().map(|s| cx.service_name(*s)));
            let related = sites
                .map(|(p, site)| Related {
                    span: *site,
                    label: format!("`{}` uses it here", cx.service_name(*p)),
                })
                .collect();
            let (message, label, database) = match &shared {
                Shared::Database(target) => (
                    format!("services {names} share database `{target}`"),
                    "connects to the shared database here".to_string(),
                    target.database.clone(),
                ),
                Shared::Migrations(index) => (
                    format!(
                        "services {names} run the same migrations in `{}`",
                        model.migrations[*index].dir
                    ),
                    "runs the shared migrations here".to_string(),
                    None,
                ),
                Shared::Schema(index) => (
                    format!(
                        "services {names} use the tables of the workspace-level migrations in \
                         `{}`, one database none of them owns",
                        model.migrations[*index].dir
                    ),
                    format!("`{}` uses the shared schema here", cx.service_name(first)),
                    None,
                ),
            };
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
                services: services.keys().map(|s| cx.service_name(*s).to_string()).collect(),
                table: None,
                database,
            });
        }
    }
}

/// A migration set whose directory lies outside the crate that runs it: a workspace-level
/// schema (`migrations/` beside the members), not one service's own.
pub(crate) fn is_workspace_schema(cx: &RuleContext<'_>, set: &MigrationSet) -> bool {
    let krate = cx.model.krate(set.crate_id);
    set.run_at.is_some() && !krate.dir.as_str().is_empty() && !set.dir.starts_with(&krate.dir)
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
