//! Model resolution: services from crates, deployments and connections matched to services,
//! connection targets followed through poolers, table ownership from migration sets.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::config::Config;
use crate::discover::{self, Workspace};
use camino::{Utf8Path, Utf8PathBuf};

use crate::model::{
    Access, ConnectionOwner, ConnectionSource, CrateId, DbEngine, DbTarget, Deployment,
    DeploymentKind, EffectKind, MigrationRun, Model, RemoteProtocol, Service, ServiceConnection,
    ServiceEvidence, ServiceId, Span, SqlOrigin, TableName, TableOwner,
};

/// Tables every service creates for itself (outbox, inbox, dedup, migration bookkeeping).
/// Two services creating one of these do not share data.
pub const PER_SERVICE_TABLES: &[&str] = &[
    "outbox",
    "outbox_events",
    "outbox_messages",
    "inbox",
    "inbox_messages",
    "processed_messages",
    "processed_events",
    "idempotency_keys",
    "_sqlx_migrations",
    "__diesel_schema_migrations",
    "refinery_schema_history",
    "seaql_migrations",
    "schema_migrations",
    "flyway_schema_history",
];

pub fn is_per_service_table(table: &TableName) -> bool {
    PER_SERVICE_TABLES.contains(&table.name.as_str())
}

/// Runs every resolution step, in order.
pub fn resolve(model: &mut Model, workspace: &Workspace, config: &Config) {
    build_services(model, workspace, config);
    resolve_services(model);
}

/// The steps after services are known: deployments, connections, migrations, ownership and
/// cross-crate uses.
pub fn resolve_services(model: &mut Model) {
    match_deployments(model);
    attach_connections(model);
    relocate_library_migration_runs(model);
    assign_migrations(model);
    compute_ownership(model);
    resolve_crate_uses(model);
    resolve_destination_consts(model);
    resolve_client_fields(model);
    resolve_project_clients(model);
    crate::collections::resolve_collections(model);
}

/// A call taken for another service's client by its receiver's name
/// (`stripe_client.refund_payment(..)`) that the workspace itself defines, on the type the
/// receiver names (`StripeClient::refund_payment`), is a call into the project: the rules
/// follow it into the wrapper, which makes the remote call (and may send an idempotency key
/// with it). Generated gRPC stubs checked into the tree make no remote call of their own that
/// archlint sees, so calls into them stay remote.
fn resolve_project_clients(model: &mut Model) {
    let mut wrappers: HashMap<(CrateId, &str), Vec<(usize, &str)>> = HashMap::new();
    for (index, function) in model.functions.iter().enumerate() {
        let Some(impl_type) = function.impl_type.as_deref() else {
            continue;
        };
        let works = function.effects.iter().any(|e| {
            matches!(
                e.kind,
                EffectKind::Remote { .. }
                    | EffectKind::Publish { .. }
                    | EffectKind::OrmWrite { .. }
                    | EffectKind::Blocking { .. }
            )
        });
        if works {
            wrappers
                .entry((function.crate_id, function.name.as_str()))
                .or_default()
                .push((index, impl_type));
        }
    }
    if wrappers.is_empty() {
        return;
    }
    let mut converted: Vec<(usize, usize)> = Vec::new();
    for (index, function) in model.functions.iter().enumerate() {
        let krate = function.crate_id;
        let visible = || {
            std::iter::once(krate).chain(
                model
                    .krate(krate)
                    .dependencies
                    .iter()
                    .filter_map(|d| d.member),
            )
        };
        for (e, effect) in function.effects.iter().enumerate() {
            let EffectKind::Remote {
                protocol: RemoteProtocol::Grpc | RemoteProtocol::Client,
                operation,
                target: Some(receiver),
                ..
            } = &effect.kind
            else {
                continue;
            };
            let defined = visible().any(|c| {
                wrappers.get(&(c, operation.as_str())).is_some_and(|found| {
                    found
                        .iter()
                        .any(|&(w, impl_type)| w != index && names_client_type(receiver, impl_type))
                })
            });
            if defined {
                converted.push((index, e));
            }
        }
    }
    for (index, e) in converted {
        let effect = &mut model.functions[index].effects[e];
        if let EffectKind::Remote {
            operation, target, ..
        } = &effect.kind
        {
            effect.kind = EffectKind::Call {
                name: operation.clone(),
                receiver: target.clone(),
            };
        }
    }
}

/// True when a receiver's name is its type's (`stripe_client` for `StripeClient`, `payments`
/// for `PaymentsServiceClient`), ignoring the words every client has.
fn names_client_type(receiver: &str, type_name: &str) -> bool {
    let words = |name: &str| {
        let mut out = crate::behaviour::name_words(name);
        while out.last().is_some_and(|w| {
            matches!(
                w.as_str(),
                "client" | "api" | "service" | "svc" | "stub" | "grpc" | "http" | "rest"
            )
        }) {
            out.pop();
        }
        out
    };
    let receiver = words(receiver);
    !receiver.is_empty() && receiver == words(type_name)
}

/// Calls on a receiver named like a gRPC client field of the crate or of a library it
/// depends on (`let mut pricing = state.pricing.clone(); pricing.lock_quote(..)`, the struct
/// declared in another file) go to another service.
fn resolve_client_fields(model: &mut Model) {
    if model.client_fields.is_empty() {
        return;
    }
    let fields = std::mem::take(&mut model.client_fields);
    for index in 0..model.functions.len() {
        let krate = model.functions[index].crate_id;
        let visible: Vec<&str> = fields
            .iter()
            .filter(|f| {
                f.crate_id == krate
                    || model
                        .krate(krate)
                        .dependencies
                        .iter()
                        .any(|d| d.member == Some(f.crate_id))
            })
            .map(|f| f.name.as_str())
            .collect();
        if visible.is_empty() {
            continue;
        }
        for effect in &mut model.functions[index].effects {
            let EffectKind::Call {
                name,
                receiver: Some(receiver),
            } = &effect.kind
            else {
                continue;
            };
            if visible.contains(&receiver.as_str())
                && !crate::extract::rust::is_client_plumbing(name)
            {
                effect.kind = EffectKind::Remote {
                    protocol: RemoteProtocol::Grpc,
                    method: None,
                    operation: name.clone(),
                    target: Some(receiver.clone()),
                };
            }
        }
    }
    model.client_fields = fields;
}

/// Normalises a service or deployment name for comparison: lower case, `_` as `-`, without
/// `-service`/`-svc` suffixes.
pub fn normalize_name(name: &str) -> String {
    let mut name = name.to_ascii_lowercase().replace('_', "-");
    for suffix in ["-service", "-svc"] {
        if let Some(stripped) = name.strip_suffix(suffix) {
            if !stripped.is_empty() {
                name = stripped.to_string();
            }
        }
    }
    name
}

/// A service before its crates are collected: name, root crate, seed crates, evidence and
/// declared database.
type ServiceSeed = (
    String,
    CrateId,
    Vec<CrateId>,
    ServiceEvidence,
    Option<String>,
);

fn build_services(model: &mut Model, workspace: &Workspace, config: &Config) {
    let mut roots: Vec<ServiceSeed> = Vec::new();
    let mut claimed: HashSet<CrateId> = HashSet::new();
    for spec in &config.services {
        let mut matched: Vec<CrateId> = Vec::new();
        for pattern in &spec.crates {
            let glob = globset::Glob::new(pattern.trim_end_matches('/'))
                .ok()
                .map(|g| g.compile_matcher());
            for krate in &model.crates {
                let by_name = krate.name == *pattern;
                let by_path = glob
                    .as_ref()
                    .is_some_and(|g| g.is_match(krate.dir.as_str()));
                if (by_name || by_path) && !matched.contains(&krate.id) {
                    matched.push(krate.id);
                }
            }
        }
        let Some(root) = matched
            .iter()
            .copied()
            .find(|id| model.krate(*id).has_bin)
            .or_else(|| matched.first().copied())
        else {
            continue;
        };
        claimed.extend(matched.iter().copied());
        roots.push((
            spec.name.clone(),
            root,
            matched,
            ServiceEvidence::Configured,
            spec.database.clone(),
        ));
    }
    if config.detect_services {
        for (krate, package) in model.crates.iter().zip(&workspace.packages) {
            if claimed.contains(&krate.id) {
                continue;
            }
            let evidence = discover::service_framework(krate, package)
                .map(|dependency| ServiceEvidence::Framework { dependency })
                .or_else(|| {
                    krate
                        .dockerfile
                        .clone()
                        .map(|path| ServiceEvidence::Dockerfile { path })
                });
            if let Some(evidence) = evidence {
                roots.push((krate.name.clone(), krate.id, vec![krate.id], evidence, None));
            }
        }
    }
    let root_crates: HashSet<CrateId> = roots.iter().map(|r| r.1).collect();
    for (index, (name, root, seeds, evidence, database)) in roots.into_iter().enumerate() {
        // Library crates reached by path dependencies belong to the service; another
        // service's root crate does not (depending on it is reported, not absorbed).
        let mut crates: Vec<CrateId> = Vec::new();
        let mut stack = seeds;
        while let Some(id) = stack.pop() {
            if crates.contains(&id) {
                continue;
            }
            crates.push(id);
            for dep in &model.krate(id).dependencies {
                if let Some(member) = dep.member {
                    if !root_crates.contains(&member) || member == root {
                        stack.push(member);
                    }
                }
            }
        }
        crates.sort();
        model.services.push(Service {
            id: ServiceId(index as u32),
            name,
            root_crate: root,
            crates,
            evidence,
            declared_database: database,
            deploy_names: Vec::new(),
            connections: Vec::new(),
            migration_sets: Vec::new(),
        });
    }
}

fn match_deployments(model: &mut Model) {
    let mut names: Vec<Vec<String>> = vec![Vec::new(); model.services.len()];
    let prefix = common_name_prefix(model.services.iter().map(|s| normalize_name(&s.name)));
    for deployment in &model.deployments {
        if deployment.database_engine.is_some() || deployment.forwards_to.is_some() {
            continue;
        }
        let by_location = model
            .services
            .iter()
            .filter_map(|service| {
                let dir = &model.krate(service.root_crate).dir;
                if dir.as_str().is_empty() {
                    return None;
                }
                let inside = |p: &Option<camino::Utf8PathBuf>| {
                    p.as_ref()
                        .is_some_and(|p| discover::normalize(p).starts_with(dir))
                };
                (inside(&deployment.build_context) || inside(&deployment.dockerfile))
                    .then_some((dir.as_str().len(), service.id))
            })
            .max();
        let by_name = |name: &str| {
            let wanted = normalize_name(name);
            let named = |s: &&Service| {
                normalize_name(&s.name) == wanted
                    || normalize_name(&model.krate(s.root_crate).name) == wanted
            };
            // `gateway` deploys `acme-gateway` when every service is named `acme-..`.
            let named_without_prefix = |s: &&Service| {
                !prefix.is_empty()
                    && normalize_name(&s.name)
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest == wanted)
            };
            let unique = |found: Vec<ServiceId>| (found.len() == 1).then(|| found[0]);
            model.services.iter().find(named).map(|s| s.id).or_else(|| {
                unique(
                    model
                        .services
                        .iter()
                        .filter(named_without_prefix)
                        .map(|s| s.id)
                        .collect(),
                )
            })
        };
        let service = by_location
            .map(|(_, id)| id)
            .or_else(|| by_name(&deployment.name))
            .or_else(|| {
                deployment
                    .image
                    .as_deref()
                    .and_then(image_name)
                    .and_then(by_name)
            });
        if let Some(id) = service {
            let list = &mut names[id.0 as usize];
            if !list.contains(&deployment.name) {
                list.push(deployment.name.clone());
            }
        }
    }
    for (service, list) in model.services.iter_mut().zip(names) {
        service.deploy_names = list;
    }
}

/// The project prefix every service name starts with (`acme-` for `acme-orders`, `acme-api`),
/// ending at a `-`; empty with fewer than two services or no such prefix.
fn common_name_prefix(names: impl Iterator<Item = String>) -> String {
    let mut prefix: Option<String> = None;
    let mut count = 0;
    for name in names {
        count += 1;
        prefix = Some(match prefix {
            None => name,
            Some(p) => p
                .chars()
                .zip(name.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    let prefix = prefix.unwrap_or_default();
    match prefix.rfind('-') {
        Some(end) if count >= 2 && end > 0 => prefix[..=end].to_string(),
        _ => String::new(),
    }
}

/// The repository name of a container image: `ghcr.io/acme/orders-service:1.4` ->
/// `orders-service`.
fn image_name(image: &str) -> Option<&str> {
    let last = image.rsplit('/').next()?;
    let name = last.split([':', '@']).next()?;
    (!name.is_empty()).then_some(name)
}

/// Lower is better: deployment files describe what really runs; code defaults are a fallback.
fn source_tier(source: ConnectionSource) -> u8 {
    match source {
        ConnectionSource::Compose | ConnectionSource::Kubernetes => 0,
        ConnectionSource::ConfigFile | ConnectionSource::DotEnv => 1,
        ConnectionSource::RustLiteral | ConnectionSource::EnvDefault => 2,
    }
}

fn default_port(engine: DbEngine) -> Option<u16> {
    match engine {
        DbEngine::Postgres => Some(5432),
        DbEngine::MySql => Some(3306),
        DbEngine::Mongo => Some(27017),
        DbEngine::Redis => Some(6379),
        DbEngine::Sqlite | DbEngine::Unknown => None,
    }
}

/// Follows poolers to the database they forward to, takes the engine from the database
/// container when the URL did not say, and fills the engine's default port.
///
/// A compose host is a name on that compose project's network: deployments of the same
/// project (compose files in one directory) are preferred, and the returned scope is that
/// directory when the host is one of them, so two projects' `db` are not one database.
pub fn resolve_target(
    model: &Model,
    connection: &crate::model::DbConnection,
) -> (DbTarget, Option<Utf8PathBuf>) {
    let project = (connection.source == ConnectionSource::Compose)
        .then(|| compose_project(model, connection.span.file));
    let same_project = |d: &&Deployment| {
        d.kind == DeploymentKind::Compose
            && project.as_ref() == Some(&compose_project(model, d.span.file))
    };
    let mut resolved = connection.target.clone();
    resolved.host = resolved.host.map(|h| h.to_ascii_lowercase());
    let mut seen: Vec<String> = Vec::new();
    while let Some(host) = resolved.host.clone() {
        if seen.contains(&host) {
            break;
        }
        seen.push(host.clone());
        let named = |d: &&Deployment| d.name.eq_ignore_ascii_case(&host);
        let local = model.deployments.iter().filter(named).find(same_project);
        let Some(deployment) = local.or_else(|| model.deployments.iter().find(named)) else {
            break;
        };
        if let Some(engine) = deployment.database_engine {
            if resolved.engine == DbEngine::Unknown {
                resolved.engine = engine;
            }
        }
        match &deployment.forwards_to {
            Some(next) => {
                resolved.host = Some(next.to_ascii_lowercase());
                resolved.port = None;
            }
            None => break,
        }
    }
    if resolved.port.is_none() && resolved.host.is_some() {
        resolved.port = default_port(resolved.engine);
    }
    resolved.database = resolved.database.map(|d| d.to_ascii_lowercase());
    // Scoped only when the database itself is a compose container: of this project for a
    // compose connection; of the one project that has it for a config file, `.env` or code
    // default naming it (the service reaches that host on that project's network).
    let scope = resolved.host.as_deref().and_then(|host| match &project {
        Some(_) => model
            .deployments
            .iter()
            .filter(|d| d.name.eq_ignore_ascii_case(host))
            .find(same_project)
            .and(project.clone()),
        None => {
            let projects: BTreeSet<Utf8PathBuf> = model
                .deployments
                .iter()
                .filter(|d| d.kind == DeploymentKind::Compose && d.name.eq_ignore_ascii_case(host))
                .map(|d| compose_project(model, d.span.file))
                .collect();
            match projects.len() {
                1 => projects.into_iter().next(),
                _ => None,
            }
        }
    });
    (resolved, scope)
}

/// The compose project of a file: its directory.
fn compose_project(model: &Model, file: crate::model::FileId) -> Utf8PathBuf {
    model
        .file(file)
        .path
        .parent()
        .map(Utf8Path::to_owned)
        .unwrap_or_default()
}

fn attach_connections(model: &mut Model) {
    let mut per_service: Vec<Vec<(u8, ServiceConnection)>> = vec![Vec::new(); model.services.len()];
    for (index, connection) in model.connections.iter().enumerate() {
        let services: Vec<ServiceId> = match &connection.owner {
            ConnectionOwner::Crate(crate_id) => {
                let owners: Vec<ServiceId> =
                    model.services_of_crate(*crate_id).map(|s| s.id).collect();
                // A default in a library shared by several services says nothing about any one.
                if owners.len() > 1 && connection.source == ConnectionSource::EnvDefault {
                    continue;
                }
                owners
            }
            ConnectionOwner::Deployment(name) => {
                let exact: Vec<ServiceId> = model
                    .services
                    .iter()
                    .filter(|s| s.deploy_names.iter().any(|d| d.eq_ignore_ascii_case(name)))
                    .map(|s| s.id)
                    .collect();
                if exact.is_empty() {
                    // A container or workload named after the service but not matched as a
                    // deployment (a k8s container inside a differently named Deployment).
                    let wanted = normalize_name(name);
                    model
                        .services
                        .iter()
                        .filter(|s| {
                            normalize_name(&s.name) == wanted
                                || normalize_name(&model.krate(s.root_crate).name) == wanted
                                || s.deploy_names.iter().any(|d| normalize_name(d) == wanted)
                        })
                        .map(|s| s.id)
                        .collect()
                } else {
                    exact
                }
            }
        };
        let (target, scope) = resolve_target(model, connection);
        // `POSTS_DATABASE_URL` in an `env_file` every container loads is the posts service's
        // database, not that of the users service that receives it too and never reads it.
        let key = connection
            .key
            .as_deref()
            .filter(|_| matches!(connection.owner, ConnectionOwner::Deployment(_)));
        let named_for = key.and_then(|key| service_named_by_variable(model, key));
        let services: Vec<ServiceId> = match (key, named_for) {
            (Some(key), Some(named)) => services
                .into_iter()
                .filter(|s| *s == named || reads_variable(model, *s, key))
                .collect(),
            _ => services,
        };
        for service in services {
            per_service[service.0 as usize].push((
                source_tier(connection.source),
                ServiceConnection {
                    connection: index,
                    target: target.clone(),
                    scope: scope.clone(),
                },
            ));
        }
    }
    for (service, mut found) in model.services.iter_mut().zip(per_service) {
        let best = found.iter().map(|(tier, _)| *tier).min();
        found.retain(|(tier, _)| Some(*tier) == best);
        // `mongodb://mongo:27017` names no database: the one the service's code opens by
        // name (`client.database("shop")`) is it, when there is exactly one.
        let opened: BTreeSet<&str> = model
            .collection_facts
            .databases
            .iter()
            .filter(|(krate, _)| service.crates.contains(krate))
            .map(|(_, name)| name.as_str())
            .collect();
        if let [only] = opened.into_iter().collect::<Vec<_>>().as_slice() {
            for (_, connection) in &mut found {
                if connection.target.engine == DbEngine::Mongo
                    && connection.target.database.is_none()
                {
                    connection.target.database = Some(only.to_string());
                }
            }
        }
        service.connections = found.into_iter().map(|(_, c)| c).collect();
    }
}

/// The service a connection variable is named for: the words before its database words
/// (`POSTS` in `POSTS_DATABASE_URL`, `ORDER_SERVICE` in `ORDER_SERVICE_DB_DSN`), when they name
/// exactly one service of the workspace.
fn service_named_by_variable(model: &Model, key: &str) -> Option<ServiceId> {
    const DATABASE_WORDS: &[&str] = &[
        "database",
        "db",
        "url",
        "uri",
        "dsn",
        "conn",
        "connection",
        "string",
        "pg",
        "postgres",
        "postgresql",
        "mysql",
        "mongo",
        "mongodb",
        "host",
        "name",
        "address",
        "addr",
    ];
    let lower = key.to_ascii_lowercase();
    let words: Vec<&str> = lower.split('_').filter(|w| !w.is_empty()).collect();
    let first_database_word = words.iter().position(|w| DATABASE_WORDS.contains(w))?;
    if first_database_word == 0
        || !words[first_database_word..]
            .iter()
            .all(|w| DATABASE_WORDS.contains(w))
    {
        return None;
    }
    let prefix = normalize_name(&words[..first_database_word].join("-"));
    let mut named = model.services.iter().filter(|s| {
        normalize_name(&s.name) == prefix
            || s.deploy_names.iter().any(|d| normalize_name(d) == prefix)
    });
    let service = named.next()?;
    named.next().is_none().then_some(service.id)
}

/// True when the code of a service reads an environment variable by that name.
fn reads_variable(model: &Model, service: ServiceId, key: &str) -> bool {
    let crates = &model.services[service.0 as usize].crates;
    model
        .env_lookups
        .iter()
        .any(|lookup| lookup.name == key && crates.contains(&lookup.crate_id))
}

/// A migration macro held by a library's const, static, function or module only defines the
/// set; the crates that use that name run it (`billing_store::MIGRATOR.run(&pool)`,
/// `conn.run_pending_migrations(MIGRATIONS)` after `use inventory_store::MIGRATIONS`,
/// `store::migrate(&pool)`). Such a run moves to each crate using the name, at the use. When no
/// other crate uses it, the library's dependants keep running the set, as before.
fn relocate_library_migration_runs(model: &mut Model) {
    let roots: HashSet<CrateId> = model.services.iter().map(|s| s.root_crate).collect();
    let mut runs = Vec::with_capacity(model.migration_runs.len());
    for run in std::mem::take(&mut model.migration_runs) {
        let library = run.crate_id;
        let Some(holder) = run.holder.as_deref().filter(|_| !roots.contains(&library)) else {
            runs.push(run);
            continue;
        };
        let mut users: Vec<(CrateId, Span)> = Vec::new();
        let mut add = |krate: CrateId, span: Span| {
            if krate != library && !users.iter().any(|(c, _)| *c == krate) {
                users.push((krate, span));
            }
        };
        for used in &model.crate_uses {
            if used.used_crate == library && used.path.split("::").skip(1).any(|s| s == holder) {
                add(used.crate_id, used.span);
            }
        }
        // `db.migrate().await` on a type of the library: a call by name from a dependant that
        // has no function of that name itself.
        let defines = |krate: CrateId| {
            model
                .functions
                .iter()
                .any(|f| f.crate_id == krate && f.name == holder)
        };
        for function in &model.functions {
            let krate = function.crate_id;
            let depends = model
                .krate(krate)
                .dependencies
                .iter()
                .any(|d| d.member == Some(library));
            if !depends || defines(krate) {
                continue;
            }
            for effect in &function.effects {
                if matches!(&effect.kind, EffectKind::Call { name, .. } if name == holder) {
                    add(krate, effect.span);
                }
            }
        }
        if users.is_empty() {
            runs.push(run);
            continue;
        }
        for (crate_id, span) in users {
            runs.push(MigrationRun {
                set: run.set,
                crate_id,
                span,
                holder: None,
            });
        }
    }
    model.migration_runs = runs;
}

/// Which migration sets each service runs: those a call in its crates runs, the one next to
/// its own manifest, and those of its libraries that nothing runs explicitly.
fn assign_migrations(model: &mut Model) {
    let root_crates: HashSet<CrateId> = model.services.iter().map(|s| s.root_crate).collect();
    let mut assigned: Vec<Vec<usize>> = vec![Vec::new(); model.services.len()];
    for (index, set) in model.migrations.iter().enumerate() {
        let runs: Vec<CrateId> = model
            .migration_runs
            .iter()
            .filter(|r| r.set == index)
            .map(|r| r.crate_id)
            .collect();
        for service in &model.services {
            let runs_it = runs.iter().any(|c| service.crates.contains(c))
                || set.crate_id == service.root_crate
                || runs.is_empty()
                    && service.crates.contains(&set.crate_id)
                    && !root_crates.contains(&set.crate_id);
            if runs_it {
                assigned[service.id.0 as usize].push(index);
            }
        }
    }
    for (service, sets) in model.services.iter_mut().zip(assigned) {
        service.migration_sets = sets;
    }
}

fn compute_ownership(model: &mut Model) {
    let mut owners: Vec<TableOwner> = Vec::new();
    let mut seen: BTreeSet<(TableName, ServiceId)> = BTreeSet::new();
    for service in &model.services {
        for &set in &service.migration_sets {
            for table in &model.migrations[set].tables {
                if table.access == Access::Create
                    && !is_per_service_table(&table.table)
                    && seen.insert((table.table.clone(), service.id))
                {
                    owners.push(TableOwner {
                        table: table.table.clone(),
                        service: service.id,
                        span: table.span,
                    });
                }
            }
        }
    }
    // Runtime `CREATE TABLE IF NOT EXISTS` in a service's own code.
    let mut services_by_crate: HashMap<CrateId, Vec<ServiceId>> = HashMap::new();
    for service in &model.services {
        for krate in &service.crates {
            services_by_crate
                .entry(*krate)
                .or_default()
                .push(service.id);
        }
    }
    for query in &model.queries {
        // Migration files grant ownership through the services that run their set.
        if query.origin == SqlOrigin::Migration || model.file(query.span.file).is_test {
            continue;
        }
        let Some(services) = services_by_crate.get(&query.crate_id) else {
            continue;
        };
        for table in query.tables.iter().filter(|t| t.access == Access::Create) {
            if is_per_service_table(&table.table) {
                continue;
            }
            for service in services {
                if seen.insert((table.table.clone(), *service)) {
                    owners.push(TableOwner {
                        table: table.table.clone(),
                        service: *service,
                        span: table.span,
                    });
                }
            }
        }
    }
    model.table_owners = owners;
}

/// Fills `CrateUse::table` from the ORM declarations of the used crate.
fn resolve_crate_uses(model: &mut Model) {
    for index in 0..model.crate_uses.len() {
        if model.crate_uses[index].table.is_some() {
            continue;
        }
        let used = model.crate_uses[index].used_crate;
        let segments: Vec<&str> = model.crate_uses[index]
            .path
            .split("::")
            .map(str::trim)
            .skip(1)
            .filter(|s| !s.is_empty() && *s != "*")
            .collect();
        if segments.is_empty() {
            continue;
        }
        let table = model
            .orm_tables
            .iter()
            .filter(|t| t.crate_id == used)
            .find(|t| path_reaches(&segments, &t.rust_path))
            .map(|t| t.table.clone());
        model.crate_uses[index].table = table;
    }
}

/// True when a use path (without its crate name) names an ORM declaration or something in it:
/// `schema::orders::dsl` reaches `schema::orders`; `entity::order` reaches
/// `entity::order::Entity`.
fn path_reaches(used: &[&str], declared: &str) -> bool {
    let declared: Vec<&str> = declared.split("::").collect();
    if used.len() >= declared.len() {
        return used[..declared.len()] == declared[..];
    }
    let is_entity_item = declared.last().is_some_and(|last| {
        matches!(
            *last,
            "Entity" | "Model" | "ActiveModel" | "Column" | "table"
        )
    });
    is_entity_item && used.len() == declared.len() - 1 && used[..] == declared[..used.len()]
}

/// Fills `{NAME}` holes in publish and consume destinations with the value of the string
/// constant `NAME` defined in another file of the same crate, or else of a crate of the same
/// service. A name defined with two different values there stays a hole.
fn resolve_destination_consts(model: &mut Model) {
    use crate::model::EffectKind;
    if model.string_consts.is_empty() {
        return;
    }
    let mut by_name: HashMap<&str, Vec<(CrateId, &str)>> = HashMap::new();
    for c in &model.string_consts {
        by_name
            .entry(c.name.as_str())
            .or_default()
            .push((c.crate_id, c.value.as_str()));
    }
    let mut updates: Vec<(usize, usize, String)> = Vec::new();
    for (f, function) in model.functions.iter().enumerate() {
        let related: Vec<CrateId> = model
            .services_of_crate(function.crate_id)
            .flat_map(|s| s.crates.iter().copied())
            .collect();
        for (e, effect) in function.effects.iter().enumerate() {
            let (EffectKind::Publish {
                destination: Some(d),
                ..
            }
            | EffectKind::Consume {
                source: Some(d), ..
            }) = &effect.kind
            else {
                continue;
            };
            // Every `{NAME}` hole naming a known constant is filled (`{EXCHANGE}/{KEY}`).
            let mut filled = String::new();
            let mut rest = d.as_str();
            let mut changed = false;
            while let Some(open) = rest.find('{') {
                let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                    break;
                };
                filled.push_str(&rest[..open]);
                let name = &rest[open + 1..close];
                let pick = |filter: &dyn Fn(CrateId) -> bool| {
                    let mut values: Vec<&str> = by_name
                        .get(name)?
                        .iter()
                        .filter(|(c, _)| filter(*c))
                        .map(|(_, v)| *v)
                        .collect();
                    values.dedup();
                    (values.len() == 1).then(|| values[0])
                };
                match pick(&|c| c == function.crate_id).or_else(|| pick(&|c| related.contains(&c)))
                {
                    Some(value) => {
                        filled.push_str(value);
                        changed = true;
                    }
                    None => filled.push_str(&rest[open..=close]),
                }
                rest = &rest[close + 1..];
            }
            filled.push_str(rest);
            if changed {
                updates.push((f, e, filled));
            }
        }
    }
    for (f, e, value) in updates {
        match &mut model.functions[f].effects[e].kind {
            EffectKind::Publish { destination, .. } => *destination = Some(value),
            EffectKind::Consume { source, .. } => *source = Some(value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_service_suffixes() {
        assert_eq!(normalize_name("orders_service"), "orders");
        assert_eq!(normalize_name("Orders-SVC"), "orders");
        assert_eq!(normalize_name("service"), "service");
    }

    #[test]
    fn image_names_drop_registry_and_tag() {
        assert_eq!(
            image_name("ghcr.io/acme/orders-service:1.4"),
            Some("orders-service")
        );
        assert_eq!(image_name("orders@sha256:abc"), Some("orders"));
        assert_eq!(image_name("registry:5000/x/"), None);
    }

    #[test]
    fn use_paths_reach_orm_declarations() {
        assert!(path_reaches(&["schema", "orders", "dsl"], "schema::orders"));
        assert!(path_reaches(&["entity", "order"], "entity::order::Entity"));
        assert!(!path_reaches(&["entity"], "entity::order::Entity"));
        assert!(!path_reaches(&["schema", "stock"], "schema::orders"));
    }
}
