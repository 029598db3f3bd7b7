//! ## What it does
//! Flags a service that reaches into data another service owns:
//! - SQL in the service reads or writes a table that another service's migrations create;
//! - the service maps such a table with an ORM (`diesel::table!`, a sea-orm entity);
//! - the service uses another service's persistence crate: its diesel schema, sea-orm
//!   entities or repository code (the modules and items that hold SQL or map tables; its API
//!   client, protocol types and events are its contract, not its persistence), or depends on
//!   it with no `use` to show which part (medium confidence);
//! - the service connects to the database `archlint.toml` declares another service's
//!   (`database = ".."`). Without that declaration, two services on one database are
//!   `shared-database`'s finding, and what one of them touches of the other's schema is
//!   reported here table by table; the connection is not reported a third time;
//! - the service reads, changes, deletes or opens a document collection (MongoDB) whose
//!   documents another service creates. With no migrations to say who owns a collection, the
//!   services that insert its documents do. Collections are followed however code names them:
//!   `db.collection::<T>("orders")`, an enum variant (`Store::Orders`, through its `Display`,
//!   a serde/strum rename or the macro declaring the enum) handed to the driver or to a
//!   workspace wrapper (`MongoStore::new(&db, &Store::Orders)`), a setting with a default
//!   (`config.orders_collection`), and the fields and locals holding the handle. Library code
//!   acts for a service only when the service's own code calls into it. A service that
//!   deletes documents it publishes to a broker is the owner's outbox relay, not a reader of
//!   its data. A name found only through a field of that name gives medium confidence.
//!
//! A table is owned by the service whose migration sets create it. A table that the migration
//! sets of several services each create (copies of one schema) belongs to none of them: the
//! services share it, which `shared-database` judges. Tables every service keeps
//! for itself (outbox, inbox, processed messages, idempotency keys, migration bookkeeping) are
//! never anyone's shared data. A service that runs no migrations of its own and is known to
//! connect only to databases other than the owner's has a table of that name of its own and
//! is not reported. Foreign keys and views in one migration set that name another set's
//! tables are not accesses by a service: they tie the schemas into one database, which is
//! `shared-database`'s concern, and so are the tables of a workspace-level migration set
//! (outside every service's crate), which no single service owns.
//!
//! One finding per unit: a service and a foreign table, crate or database. It points at the
//! first write (else the first access); every other site is a related location.
//!
//! ## Why is this bad
//! The owning service can no longer change its schema, enforce its invariants or move its data
//! without breaking a consumer it does not know about. Reads bypass the owner's business rules
//! (soft deletes, visibility, currency), writes bypass its validation and its events, and both
//! couple the two services' deployments as tightly as a shared database.
//!
//! ## Example
//! ```rust,ignore
//! // orders/src/stock.rs: `inventory` is created by inventory/migrations/0001_init.sql
//! let available: i64 = sqlx::query_scalar("SELECT quantity FROM inventory WHERE sku = $1")
//!     .bind(sku)
//!     .fetch_one(&pool)
//!     .await?;
//! ```
//!
//! ## How to fix
//! Ask the owner: call its API (`GET /inventory/{sku}`), or subscribe to the events it publishes
//! (`StockChanged`) and keep a local read model in your own database. If the access is
//! deliberate (a reporting job, an outbox relay, a migration tool), record it with a reason:
//! ```toml
//! [[allow]]
//! rule = "cross-service-db-access"
//! service = "reporting"
//! table = "orders"
//! reason = "nightly read-only export, replaced by the orders event feed in ARCH-31"
//! ```

mod collections;

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Access, CrateId, Model, ServiceId, Span, SqlOrigin, TableName};
use crate::rules::{list_names, Confidence, Finding, Related, Rule, RuleContext};

pub struct CrossServiceDbAccess;

const HELP_TABLE: &str =
    "read it through the owner's API or keep a local copy fed by the owner's events; \
                          only the owning service should touch its tables";
const HELP_WRITE: &str =
    "ask the owner to make the change through its API or a command message; only the \
                          owning service should write its tables";
const HELP_CRATE: &str =
    "depend on the owner's API client or event types instead of its persistence crate";
const HELP_DATABASE: &str =
    "connect only to this service's own database; get the owner's data from its API or events";

impl Rule for CrossServiceDbAccess {
    fn id(&self) -> &'static str {
        "cross-service-db-access"
    }

    fn summary(&self) -> &'static str {
        "a service reads or writes tables, persistence crates or databases another service owns"
    }

    fn source(&self) -> &'static str {
        include_str!("mod.rs")
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let ownership = Ownership::new(cx);
        self.check_queries(cx, &ownership, out);
        self.check_orm_tables(cx, &ownership, out);
        self.check_crate_uses(cx, &ownership, out);
        self.check_connections(cx, out);
        self.check_collections(cx, out);
        merge_units(out);
    }
}

/// One finding per unit: a service and a foreign table, crate or database. The site that
/// writes (or else the first one) is reported, and every other site is a related location.
fn merge_units(findings: &mut Vec<Finding>) {
    type Unit = (Vec<String>, Option<String>, Option<String>, String);
    let unit = |f: &Finding| -> Unit {
        let subject = if f.table.is_none() && f.database.is_none() {
            f.label.clone()
        } else {
            String::new()
        };
        (
            f.services.clone(),
            f.table.clone(),
            f.database.clone(),
            subject,
        )
    };
    let mut groups: Vec<(Unit, Vec<Finding>)> = Vec::new();
    for finding in findings.drain(..) {
        let key = unit(&finding);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push(finding),
            None => groups.push((key, vec![finding])),
        }
    }
    for (_, mut group) in groups {
        let first_write = group.iter().position(|f| f.help == HELP_WRITE).unwrap_or(0);
        let mut primary = group.remove(first_write);
        for other in group {
            if other.span != primary.span {
                primary.related.push(Related {
                    span: other.span,
                    label: format!("also {}", other.label),
                });
            }
        }
        findings.push(primary);
    }
}

/// Who owns what: tables, and the crates that declare them.
struct Ownership {
    tables: BTreeMap<TableName, Vec<(ServiceId, Span)>>,
    /// Services owning the tables a crate declares (its migrations and ORM declarations).
    crates: BTreeMap<CrateId, BTreeSet<ServiceId>>,
}

impl Ownership {
    fn new(cx: &RuleContext<'_>) -> Self {
        let model = cx.model;
        // A workspace-level schema is no one service's: `shared-database` reports the
        // services using it.
        let shared_schema: BTreeSet<&TableName> = model
            .migrations
            .iter()
            .filter(|set| super::shared_database::is_workspace_schema(cx, set))
            .flat_map(|set| set.tables.iter().filter(|t| t.access == Access::Create))
            .map(|t| &t.table)
            .collect();
        let mut tables: BTreeMap<TableName, Vec<(ServiceId, Span)>> = BTreeMap::new();
        for owner in model
            .table_owners
            .iter()
            .filter(|o| !shared_schema.contains(&o.table))
        {
            tables
                .entry(owner.table.clone())
                .or_default()
                .push((owner.service, owner.span));
        }
        // A table that the schemas of several services create (each keeps a copy of one
        // schema) has no single owner: the services share it, which `shared-database`
        // judges where they share a database.
        tables.retain(|_, owners| {
            let first = owners[0].0;
            owners.iter().all(|(s, _)| *s == first)
        });
        let mut crates: BTreeMap<CrateId, BTreeSet<ServiceId>> = BTreeMap::new();
        let mut declare = |krate: CrateId, table: &TableName| {
            if let Some(owners) = tables.get(table) {
                crates
                    .entry(krate)
                    .or_default()
                    .extend(owners.iter().map(|(s, _)| *s));
            }
        };
        for set in &model.migrations {
            for table in set.tables.iter().filter(|t| t.access == Access::Create) {
                declare(set.crate_id, &table.table);
            }
        }
        for orm in &model.orm_tables {
            declare(orm.crate_id, &orm.table);
        }
        Ownership { tables, crates }
    }

    fn owners(&self, table: &TableName) -> &[(ServiceId, Span)] {
        self.tables.get(table).map_or(&[], Vec::as_slice)
    }

    fn owns(&self, service: ServiceId, table: &TableName) -> bool {
        self.owners(table).iter().any(|(s, _)| *s == service)
    }

    /// True when `krate` is the persistence crate of other services, not of `service`: its
    /// accesses are reported once, where `service` uses the crate.
    fn foreign_persistence(&self, service: ServiceId, krate: CrateId) -> bool {
        self.crates
            .get(&krate)
            .is_some_and(|owners| !owners.is_empty() && !owners.contains(&service))
    }
}

/// True when a service whose schema is not in the workspace (it runs no migrations) is known
/// to connect only to databases other than every owner's: a table of the same name there is
/// its own table, not the owner's.
fn own_table_elsewhere(
    cx: &RuleContext<'_>,
    service: ServiceId,
    owners: &[(ServiceId, Span)],
) -> bool {
    let model = cx.model;
    let accessor = model.service(service);
    let resolved = |s: &crate::model::Service| {
        s.connections
            .iter()
            .filter(|c| c.target.is_resolved())
            .map(|c| (c.target.clone(), c.scope.clone()))
            .collect::<Vec<_>>()
    };
    let mine = resolved(accessor);
    if !accessor.migration_sets.is_empty() || mine.is_empty() {
        return false;
    }
    owners.iter().all(|(owner, _)| {
        let theirs = resolved(model.service(*owner));
        !theirs.is_empty() && !theirs.iter().any(|t| mine.contains(t))
    })
}

/// True when a `use` of another crate names its persistence: the module or item holds SQL or
/// an ORM table declaration (`store::db::OrderRepo`, `store::schema::orders`), as opposed to
/// its API client, protocol types or events.
fn is_persistence_item(model: &Model, usage: &crate::model::CrateUse) -> bool {
    let inner = usage
        .path
        .split_once("::")
        .map_or("", |(_, rest)| rest)
        .trim_end_matches("::*");
    if inner.is_empty() {
        return false;
    }
    // `db::OrderRepo` covers `db::OrderRepo::insert`; `db` covers everything under it.
    let covers = |path: &str| {
        path == inner
            || path
                .strip_prefix(inner)
                .is_some_and(|rest| rest.starts_with("::"))
    };
    // An item re-exported at the crate root (`store::OrderRepo`) is found by its name.
    let item = inner.rsplit("::").next().unwrap_or(inner);
    let names_item = |path: &str| !inner.contains("::") && path.split("::").any(|s| s == item);
    model
        .queries
        .iter()
        .filter(|q| q.crate_id == usage.used_crate && q.origin != SqlOrigin::Migration)
        .any(|q| covers(&q.function) || names_item(&q.function))
        || model
            .orm_tables
            .iter()
            .filter(|t| t.crate_id == usage.used_crate)
            .any(|t| covers(&t.rust_path) || names_item(&t.rust_path))
}

fn verb(access: Access) -> &'static str {
    match access {
        Access::Read => "reads",
        Access::Write => "writes",
        Access::Create => "creates",
        Access::Alter => "alters",
        Access::Drop => "drops",
    }
}

impl CrossServiceDbAccess {
    #[allow(clippy::too_many_arguments)]
    fn table_finding(
        &self,
        cx: &RuleContext<'_>,
        accessors: &[ServiceId],
        owners: &[(ServiceId, Span)],
        table: &TableName,
        action: &str,
        span: Span,
        label: &str,
    ) -> Finding {
        let (owner, owner_span) = owners[0];
        let accessor_names = list_names(accessors.iter().map(|s| cx.service_name(*s)));
        let noun = if accessors.len() == 1 {
            "service"
        } else {
            "services"
        };
        let owner_names = list_names(owners.iter().map(|(s, _)| cx.service_name(*s)));
        let mut services: Vec<String> = accessors
            .iter()
            .map(|s| cx.service_name(*s).to_string())
            .collect();
        services.extend(owners.iter().map(|(s, _)| cx.service_name(*s).to_string()));
        Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message: format!(
                "{noun} {accessor_names} {action} table `{table}` owned by service {owner_names} ({})",
                cx.location(owner_span)
            ),
            span,
            label: label.to_string(),
            help: HELP_TABLE.to_string(),
            related: vec![Related {
                span: owner_span,
                label: format!("`{}` creates `{table}` here", cx.service_name(owner)),
            }],
            services,
            table: Some(table.to_string()),
            database: None,
        }
    }

    fn check_queries(&self, cx: &RuleContext<'_>, ownership: &Ownership, out: &mut Vec<Finding>) {
        let model = cx.model;
        for query in &model.queries {
            // Foreign keys and views between migration sets tie schemas together inside one
            // database: that is the shared database's evidence, not a service's access.
            if query.origin == SqlOrigin::Migration
                || !cx.certain_enough(query.certainty)
                || cx.is_test(query.span)
            {
                continue;
            }
            for table in &query.tables {
                if table.access == Access::Create {
                    continue;
                }
                let owners = ownership.owners(&table.table);
                if owners.is_empty() {
                    continue;
                }
                let accessors: Vec<ServiceId> = cx
                    .services_of_crate(query.crate_id)
                    .map(|s| s.id)
                    .filter(|s| {
                        !ownership.owns(*s, &table.table)
                            && !ownership.foreign_persistence(*s, query.crate_id)
                            && !own_table_elsewhere(cx, *s, owners)
                    })
                    .collect();
                if accessors.is_empty() {
                    continue;
                }
                let action = verb(table.access);
                let mut finding = self.table_finding(
                    cx,
                    &accessors,
                    owners,
                    &table.table,
                    action,
                    table.span,
                    &format!("{action} `{}` here", table.table),
                );
                if table.access != Access::Read {
                    finding.help = HELP_WRITE.to_string();
                }
                out.push(finding);
            }
        }
    }

    fn check_orm_tables(
        &self,
        cx: &RuleContext<'_>,
        ownership: &Ownership,
        out: &mut Vec<Finding>,
    ) {
        let model = cx.model;
        for orm in &model.orm_tables {
            if cx.is_test(orm.span) {
                continue;
            }
            let owners = ownership.owners(&orm.table);
            if owners.is_empty() {
                continue;
            }
            let accessors: Vec<ServiceId> = cx
                .services_of_crate(orm.crate_id)
                .map(|s| s.id)
                .filter(|s| {
                    !ownership.owns(*s, &orm.table)
                        && !ownership.foreign_persistence(*s, orm.crate_id)
                        && !own_table_elsewhere(cx, *s, owners)
                })
                .collect();
            if accessors.is_empty() {
                continue;
            }
            out.push(self.table_finding(
                cx,
                &accessors,
                owners,
                &orm.table,
                "maps",
                orm.span,
                &format!("maps `{}` here", orm.table),
            ));
        }
    }

    fn check_crate_uses(
        &self,
        cx: &RuleContext<'_>,
        ownership: &Ownership,
        out: &mut Vec<Finding>,
    ) {
        let model = cx.model;
        // Every (service, crate) pair some `use` shows, persistence or not.
        let mut used: BTreeSet<(ServiceId, CrateId)> = BTreeSet::new();
        for usage in &model.crate_uses {
            if cx.is_test(usage.span) {
                continue;
            }
            let Some(crate_owners) = ownership.crates.get(&usage.used_crate) else {
                continue;
            };
            let used_name = &model.krate(usage.used_crate).name;
            for service in cx.services_of_crate(usage.crate_id) {
                if crate_owners.is_empty() || crate_owners.contains(&service.id) {
                    continue;
                }
                used.insert((service.id, usage.used_crate));
                // A service crate's API client, protocol types or events are its contract,
                // not its persistence.
                if usage.table.is_none() && !is_persistence_item(model, usage) {
                    continue;
                }
                let table_owners = usage
                    .table
                    .as_ref()
                    .map(|t| ownership.owners(t))
                    .unwrap_or(&[]);
                let finding = match &usage.table {
                    Some(table) if !table_owners.is_empty() => {
                        let mut finding = self.table_finding(
                            cx,
                            &[service.id],
                            table_owners,
                            table,
                            "uses",
                            usage.span,
                            &format!("`{}` reaches `{table}`", usage.path),
                        );
                        finding.help = HELP_CRATE.to_string();
                        finding
                    }
                    _ => self.crate_finding(
                        cx,
                        service.id,
                        crate_owners,
                        usage.used_crate,
                        usage.span,
                        || {
                            format!(
                                "service `{}` uses `{}` from `{used_name}`",
                                service.name, usage.path
                            )
                        },
                    ),
                };
                out.push(finding);
            }
        }
        // Dependencies on a foreign persistence crate that no extracted `use` shows: the
        // crate may be reached through a path the extractor did not follow, so the finding
        // rests on the dependency alone.
        for service in &model.services {
            for krate in &service.crates {
                for dep in &model.krate(*krate).dependencies {
                    let (Some(member), Some(span)) = (dep.member, dep.span) else {
                        continue;
                    };
                    let Some(crate_owners) = ownership.crates.get(&member) else {
                        continue;
                    };
                    if crate_owners.is_empty()
                        || crate_owners.contains(&service.id)
                        || !used.insert((service.id, member))
                    {
                        continue;
                    }
                    let mut finding =
                        self.crate_finding(cx, service.id, crate_owners, member, span, || {
                            format!("service `{}` depends on `{}`", service.name, dep.package)
                        });
                    finding.confidence = Confidence::Medium;
                    out.push(finding);
                }
            }
        }
    }

    fn crate_finding(
        &self,
        cx: &RuleContext<'_>,
        service: ServiceId,
        owners: &BTreeSet<ServiceId>,
        used: CrateId,
        span: Span,
        what: impl FnOnce() -> String,
    ) -> Finding {
        let model = cx.model;
        let owner_names = list_names(owners.iter().map(|s| cx.service_name(*s)));
        let used_name = &model.krate(used).name;
        let mut services = vec![cx.service_name(service).to_string()];
        services.extend(owners.iter().map(|s| cx.service_name(*s).to_string()));
        let owner_site = model
            .table_owners
            .iter()
            .find(|o| owners.contains(&o.service))
            .map(|o| Related {
                span: o.span,
                label: format!("`{}` owns this table", cx.service_name(o.service)),
            });
        Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message: format!("{}, the persistence crate of service {owner_names}", what()),
            span,
            label: format!("uses `{used_name}` here"),
            help: HELP_CRATE.to_string(),
            related: owner_site.into_iter().collect(),
            services,
            table: None,
            database: None,
        }
    }

    fn check_connections(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let model = cx.model;
        for service in &model.services {
            let mut reported: BTreeSet<usize> = BTreeSet::new();
            for connection in &service.connections {
                let Some(database) = connection.target.database.as_deref() else {
                    continue;
                };
                // Declared ownership.
                let declared_owner = model.services.iter().find(|o| {
                    o.id != service.id
                        && o.declared_database
                            .as_deref()
                            .is_some_and(|d| d.eq_ignore_ascii_case(database))
                        && !service
                            .declared_database
                            .as_deref()
                            .is_some_and(|d| d.eq_ignore_ascii_case(database))
                });
                let Some(owner) = declared_owner else {
                    continue;
                };
                if !reported.insert(connection.connection) {
                    continue;
                }
                let related = owner
                    .connections
                    .iter()
                    .find(|c| c.target.database.as_deref() == Some(database))
                    .map(|c| Related {
                        span: model.connections[c.connection].span,
                        label: format!("`{}` connects to its database here", owner.name),
                    });
                out.push(Finding {
                    confidence: Confidence::High,
                    rule: self.id(),
                    level: self.default_level(),
                    message: format!(
                        "service `{}` connects to database `{}` owned by service `{}`",
                        service.name, connection.target, owner.name
                    ),
                    span: model.connections[connection.connection].span,
                    label: "connects here".to_string(),
                    help: HELP_DATABASE.to_string(),
                    related: related.into_iter().collect(),
                    services: vec![service.name.clone(), owner.name.clone()],
                    table: None,
                    database: Some(database.to_string()),
                });
            }
        }
    }
}
