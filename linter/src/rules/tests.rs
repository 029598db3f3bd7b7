//! Rules against hand-built models: each positive case next to its look-alike negative.

use camino::Utf8PathBuf;

use crate::config::{Config, Exception, Level, MinCertainty};
use crate::model::*;
use crate::resolve::resolve_services;
use crate::rules::{run, Finding};

/// Builds a resolved model fact by fact.
struct Builder {
    model: Model,
}

fn span(file: FileId, line: u32) -> Span {
    Span {
        file,
        start: line * 10,
        end: line * 10 + 5,
        line,
        column: 1,
    }
}

impl Builder {
    fn new() -> Self {
        let mut model = Model::default();
        model.root = Utf8PathBuf::from("/ws");
        Builder { model }
    }

    fn file(&mut self, path: &str, crate_id: Option<CrateId>) -> FileId {
        self.model.add_file(SourceFile {
            path: path.into(),
            crate_id,
            is_test: false,
        })
    }

    /// A crate; `deps` are earlier crates it depends on by path.
    fn krate(&mut self, name: &str, has_bin: bool, deps: &[CrateId]) -> CrateId {
        let id = CrateId(self.model.crates.len() as u32);
        let manifest = self.file(&format!("{name}/Cargo.toml"), Some(id));
        let dependencies = deps
            .iter()
            .map(|d| {
                let dep_name = self.model.krate(*d).name.clone();
                Dependency {
                    code_name: dep_name.replace('-', "_"),
                    package: dep_name,
                    member: Some(*d),
                    span: Some(span(manifest, 7)),
                }
            })
            .collect();
        self.model.crates.push(Crate {
            id,
            name: name.into(),
            dir: name.into(),
            manifest,
            has_bin,
            has_lib: !has_bin,
            dockerfile: None,
            dependencies,
            dialect: SqlDialect::Postgres,
        });
        id
    }

    /// A service rooted at `root`, with every crate reachable from it.
    fn service(&mut self, root: CrateId) -> ServiceId {
        let mut crates = vec![root];
        let mut i = 0;
        while i < crates.len() {
            for dep in &self.model.krate(crates[i]).dependencies {
                if let Some(member) = dep.member {
                    if !crates.contains(&member) {
                        crates.push(member);
                    }
                }
            }
            i += 1;
        }
        let id = ServiceId(self.model.services.len() as u32);
        self.model.services.push(Service {
            id,
            name: self.model.krate(root).name.clone(),
            root_crate: root,
            crates,
            evidence: ServiceEvidence::Framework {
                dependency: "axum".into(),
            },
            declared_database: None,
            deploy_names: Vec::new(),
            connections: Vec::new(),
            migration_sets: Vec::new(),
        });
        id
    }

    /// `<crate>/migrations/0001_init.sql` creating `tables`.
    fn migrations(&mut self, krate: CrateId, tables: &[&str]) -> usize {
        let name = self.model.krate(krate).name.clone();
        let file = self.file(&format!("{name}/migrations/0001_init.sql"), Some(krate));
        self.model.migrations.push(MigrationSet {
            unique_keys: Vec::new(),
            primary_keys: Vec::new(),
            crate_id: krate,
            dir: format!("{name}/migrations").into(),
            tool: MigrationTool::Sqlx,
            run_at: None,
            holder: None,
            tables: tables
                .iter()
                .enumerate()
                .map(|(i, t)| TableRef {
                    table: table(t),
                    access: Access::Create,
                    span: span(file, i as u32 + 1),
                })
                .collect(),
        });
        self.model.migrations.len() - 1
    }

    fn run_migrations(&mut self, set: usize, from: CrateId) {
        let name = self.model.krate(from).name.clone();
        let file = self.file(&format!("{name}/src/main.rs"), Some(from));
        self.model.migration_runs.push(MigrationRun {
            set,
            crate_id: from,
            span: span(file, 20),
            holder: None,
        });
    }

    fn query(
        &mut self,
        krate: CrateId,
        sql_table: &str,
        access: Access,
        certainty: Certainty,
    ) -> Span {
        let name = self.model.krate(krate).name.clone();
        let file = self.file(&format!("{name}/src/db.rs"), Some(krate));
        let at = span(file, self.model.queries.len() as u32 + 3);
        self.model.queries.push(SqlQuery {
            crate_id: krate,
            span: at,
            origin: SqlOrigin::SqlxFunction,
            certainty,
            tables: vec![TableRef {
                table: table(sql_table),
                access,
                span: at,
            }],
            statements: vec!["SELECT".into()],
            function: "load".into(),
            effects: vec![StatementEffect::Read],
            inserted_columns: Vec::new(),
            state_columns: Default::default(),
        });
        at
    }

    fn compose_connection(&mut self, deployment: &str, host: Option<&str>, database: &str) -> Span {
        let file = self.file("docker-compose.yml", None);
        let at = span(file, self.model.connections.len() as u32 + 1);
        self.model.connections.push(DbConnection {
            owner: ConnectionOwner::Deployment(deployment.into()),
            target: DbTarget {
                engine: DbEngine::Postgres,
                host: host.map(str::to_string),
                port: Some(5432),
                database: Some(database.into()),
            },
            source: ConnectionSource::Compose,
            key: Some("DATABASE_URL".into()),
            span: at,
        });
        at
    }

    fn check(mut self, config: &Config) -> (Model, Vec<Finding>) {
        resolve_services(&mut self.model);
        let (findings, _) = run(&self.model, config);
        (self.model, findings)
    }
}

fn table(name: &str) -> TableName {
    TableName {
        schema: None,
        name: name.into(),
    }
}

fn rule_findings<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

#[test]
fn services_connecting_to_one_database_share_it() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    let shipping = b.krate("shipping", true, &[]);
    b.service(payments);
    b.service(shipping);
    let p = b.compose_connection("payments", Some("db"), "commerce");
    let s = b.compose_connection("shipping-service", Some("DB"), "commerce");
    let (_, findings) = b.check(&Config::default());
    let shared = rule_findings(&findings, "shared-database");
    // One finding for the group, at the first service, with the other as a related location.
    assert_eq!(shared.len(), 1, "{findings:#?}");
    assert_eq!(shared[0].span, p);
    assert_eq!(shared[0].related[0].span, s);
    assert_eq!(
        shared[0].message,
        "services `payments` and `shipping` share database `postgres://db:5432/commerce`"
    );
    assert_eq!(shared[0].level, Level::Deny);
}

#[test]
fn different_databases_on_one_server_are_not_shared() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    let shipping = b.krate("shipping", true, &[]);
    b.service(payments);
    b.service(shipping);
    b.compose_connection("payments", Some("db"), "payments");
    b.compose_connection("shipping", Some("db"), "shipping");
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn unresolved_targets_are_never_equal() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    let shipping = b.krate("shipping", true, &[]);
    b.service(payments);
    b.service(shipping);
    b.compose_connection("payments", None, "app");
    b.compose_connection("shipping", None, "app");
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn poolers_are_followed_to_the_real_database() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    let shipping = b.krate("shipping", true, &[]);
    b.service(payments);
    b.service(shipping);
    let compose = b.file("docker-compose.yml", None);
    b.model.deployments.push(Deployment {
        name: "pgbouncer".into(),
        kind: DeploymentKind::Compose,
        build_context: None,
        dockerfile: None,
        image: Some("edoburu/pgbouncer".into()),
        database_engine: None,
        databases: Vec::new(),
        forwards_to: Some("postgres".into()),
        span: span(compose, 30),
    });
    b.compose_connection("payments", Some("pgbouncer"), "commerce");
    b.compose_connection("shipping", Some("postgres"), "commerce");
    let (_, findings) = b.check(&Config::default());
    assert_eq!(
        rule_findings(&findings, "shared-database").len(),
        1,
        "{findings:#?}"
    );
}

#[test]
fn a_persistence_crate_whose_migrations_two_services_run_is_shared() {
    let mut b = Builder::new();
    let store = b.krate("commerce-store", false, &[]);
    let payments = b.krate("payments", true, &[store]);
    let shipping = b.krate("shipping", true, &[store]);
    b.service(payments);
    b.service(shipping);
    b.migrations(store, &["payments", "shipments"]);
    let (_, findings) = b.check(&Config::default());
    let shared = rule_findings(&findings, "shared-database");
    assert_eq!(shared.len(), 1, "{findings:#?}");
    assert!(shared[0].message.contains("commerce-store/migrations"));
    assert!(
        rule_findings(&findings, "cross-service-db-access").is_empty(),
        "{findings:#?}"
    );
}

#[test]
fn each_service_sharing_migrations_is_located_in_its_own_manifest() {
    let mut b = Builder::new();
    let store = b.krate("commerce-store", false, &[]);
    let payments = b.krate("payments", true, &[store]);
    let shipping = b.krate("shipping", true, &[store]);
    b.service(payments);
    b.service(shipping);
    let set = b.migrations(store, &["customers"]);
    // `pub async fn migrate(pool)` in the shared library runs them for both.
    b.run_migrations(set, store);
    let (model, findings) = b.check(&Config::default());
    let shared = rule_findings(&findings, "shared-database");
    let paths: Vec<&str> = shared
        .iter()
        .flat_map(|f| std::iter::once(f.span).chain(f.related.iter().map(|r| r.span)))
        .map(|span| model.file(span.file).path.as_str())
        .collect();
    assert_eq!(paths, ["payments/Cargo.toml", "shipping/Cargo.toml"]);
}

#[test]
fn a_library_used_by_one_service_only_is_not_shared() {
    let mut b = Builder::new();
    let store = b.krate("payments-store", false, &[]);
    let payments = b.krate("payments", true, &[store]);
    let shipping = b.krate("shipping", true, &[]);
    b.service(payments);
    b.service(shipping);
    b.migrations(store, &["payments"]);
    b.migrations(shipping, &["shipments"]);
    b.query(payments, "payments", Access::Read, Certainty::Exact);
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn reading_another_services_table_is_reported_at_the_table() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let inventory = b.krate("inventory", true, &[]);
    b.service(orders);
    b.service(inventory);
    b.migrations(orders, &["orders"]);
    b.migrations(inventory, &["inventory"]);
    let at = b.query(orders, "inventory", Access::Read, Certainty::Exact);
    b.query(inventory, "inventory", Access::Write, Certainty::Exact);
    let (_, findings) = b.check(&Config::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].rule, "cross-service-db-access");
    assert_eq!(findings[0].span, at);
    assert_eq!(
        findings[0].message,
        "service `orders` reads table `inventory` owned by service `inventory` (inventory/migrations/0001_init.sql:1)"
    );
    assert_eq!(findings[0].services, ["orders", "inventory"]);
}

#[test]
fn per_service_tables_are_nobodys_shared_data() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let inventory = b.krate("inventory", true, &[]);
    b.service(orders);
    b.service(inventory);
    b.migrations(orders, &["orders", "outbox", "processed_messages"]);
    b.migrations(inventory, &["inventory", "outbox", "processed_messages"]);
    b.query(orders, "outbox", Access::Write, Certainty::Exact);
    b.query(
        inventory,
        "processed_messages",
        Access::Write,
        Certainty::Exact,
    );
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn tables_found_by_keyword_scan_need_the_strict_preset() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let inventory = b.krate("inventory", true, &[]);
    b.service(orders);
    b.service(inventory);
    b.migrations(inventory, &["inventory"]);
    b.query(orders, "inventory", Access::Read, Certainty::Unknown);
    let (model, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
    let strict = Config {
        min_certainty: MinCertainty::Unknown,
        ..Config::default()
    };
    assert_eq!(run(&model, &strict).0.len(), 1);
}

#[test]
fn using_another_services_persistence_crate_is_reported_at_the_use() {
    let mut b = Builder::new();
    let store = b.krate("inventory-store", false, &[]);
    let inventory = b.krate("inventory", true, &[store]);
    let orders = b.krate("orders", true, &[store]);
    b.service(inventory);
    b.service(orders);
    let set = b.migrations(store, &["stock"]);
    b.run_migrations(set, inventory);
    let schema = b.file("inventory-store/src/schema.rs", Some(store));
    b.model.orm_tables.push(OrmTable {
        crate_id: store,
        kind: OrmKind::Diesel,
        table: table("stock"),
        rust_path: "schema::stock".into(),
        span: span(schema, 2),
    });
    // A query inside the store itself is reported once, at the use, not here.
    b.query(store, "stock", Access::Read, Certainty::Exact);
    let handler = b.file("orders/src/handlers.rs", Some(orders));
    let at = span(handler, 4);
    b.model.crate_uses.push(CrateUse {
        crate_id: orders,
        used_crate: store,
        path: "inventory_store::schema::stock::dsl".into(),
        table: None,
        span: at,
    });
    let (_, findings) = b.check(&Config::default());
    let cross = rule_findings(&findings, "cross-service-db-access");
    assert_eq!(cross.len(), 1, "{findings:#?}");
    assert_eq!(cross[0].span, at);
    assert!(cross[0]
        .message
        .starts_with("service `orders` uses table `stock` owned by service `inventory`"));
    assert!(
        rule_findings(&findings, "shared-database").is_empty(),
        "{findings:#?}"
    );
}

#[test]
fn a_dependency_on_a_foreign_persistence_crate_without_uses_is_reported_at_the_manifest() {
    let mut b = Builder::new();
    let store = b.krate("inventory-store", false, &[]);
    let inventory = b.krate("inventory", true, &[store]);
    let orders = b.krate("orders", true, &[store]);
    b.service(inventory);
    b.service(orders);
    let set = b.migrations(store, &["stock"]);
    b.run_migrations(set, inventory);
    let (model, findings) = b.check(&Config::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(model.file(findings[0].span.file).path, "orders/Cargo.toml");
    assert_eq!(
        findings[0].message,
        "service `orders` depends on `inventory-store`, the persistence crate of service `inventory`"
    );
}

#[test]
fn the_own_persistence_crate_is_fine() {
    let mut b = Builder::new();
    let store = b.krate("orders-store", false, &[]);
    let orders = b.krate("orders", true, &[store]);
    b.service(orders);
    b.migrations(store, &["orders"]);
    b.query(store, "orders", Access::Write, Certainty::Exact);
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn connecting_to_a_declared_database_of_another_service() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let reporting = b.krate("reporting", true, &[]);
    b.service(orders);
    b.service(reporting);
    b.model.services[0].declared_database = Some("orders".into());
    b.compose_connection("orders", Some("db"), "orders");
    let at = b.compose_connection("reporting", Some("replica"), "orders");
    let (_, findings) = b.check(&Config::default());
    let cross = rule_findings(&findings, "cross-service-db-access");
    assert_eq!(cross.len(), 1, "{findings:#?}");
    assert_eq!(cross[0].span, at);
}

#[test]
fn exceptions_silence_matching_findings_only() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let inventory = b.krate("inventory", true, &[]);
    let reporting = b.krate("reporting", true, &[]);
    b.service(orders);
    b.service(inventory);
    b.service(reporting);
    b.migrations(inventory, &["inventory"]);
    b.query(orders, "inventory", Access::Read, Certainty::Exact);
    b.query(reporting, "inventory", Access::Read, Certainty::Exact);
    let mut config = Config::default();
    config.exceptions.push(Exception {
        rule: Some("cross-service-db-access".into()),
        services: vec!["reporting".into()],
        table: Some("inventory".into()),
        database: None,
        path: None,
        reason: "nightly export".into(),
        expires: None,
        declared: None,
    });
    let (_, findings) = b.check(&config);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].services[0], "orders");
}

#[test]
fn levels_come_from_the_config() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let inventory = b.krate("inventory", true, &[]);
    b.service(orders);
    b.service(inventory);
    b.migrations(inventory, &["inventory"]);
    b.query(orders, "inventory", Access::Read, Certainty::Exact);
    let (model, _) = b.check(&Config::default());
    let mut config = Config::default();
    config
        .levels
        .insert("cross-service-db-access".into(), Level::Warn);
    assert_eq!(run(&model, &config).0[0].level, Level::Warn);
    config
        .levels
        .insert("cross-service-db-access".into(), Level::Allow);
    assert!(run(&model, &config).0.is_empty());
}

#[test]
fn every_rule_is_documented_in_the_four_sections() {
    for rule in crate::rules::REGISTRY {
        let doc = rule.doc();
        for section in [
            "## What it does",
            "## Why is this bad",
            "## Example",
            "## How to fix",
        ] {
            assert!(doc.contains(section), "{} lacks {section}", rule.id());
        }
    }
}

#[test]
fn deployments_match_services_by_image_when_names_differ() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    let shipping = b.krate("shipping", true, &[]);
    b.service(payments);
    b.service(shipping);
    let manifest = b.file("k8s/pay.yaml", None);
    b.model.deployments.push(Deployment {
        name: "pay".into(),
        kind: DeploymentKind::Kubernetes,
        build_context: None,
        dockerfile: None,
        image: Some("ghcr.io/acme/payments-svc:1.4".into()),
        database_engine: None,
        databases: Vec::new(),
        forwards_to: None,
        span: span(manifest, 1),
    });
    b.compose_connection("pay", Some("db"), "commerce");
    b.compose_connection("shipping", Some("db"), "commerce");
    let (model, findings) = b.check(&Config::default());
    assert_eq!(model.services[0].deploy_names, ["pay"]);
    assert_eq!(
        rule_findings(&findings, "shared-database").len(),
        1,
        "{findings:#?}"
    );
}

/// A compose project in `dir` with a `db` container and one service connecting to `app` on it.
fn compose_project(b: &mut Builder, dir: &str, service: &str) {
    let file = b.file(&format!("{dir}/docker-compose.yml"), None);
    b.model.deployments.push(Deployment {
        name: "db".into(),
        kind: DeploymentKind::Compose,
        build_context: None,
        dockerfile: None,
        image: Some("postgres:16".into()),
        database_engine: Some(DbEngine::Postgres),
        databases: vec!["app".into()],
        forwards_to: None,
        span: span(file, 2),
    });
    b.model.connections.push(DbConnection {
        owner: ConnectionOwner::Deployment(service.into()),
        target: DbTarget {
            engine: DbEngine::Postgres,
            host: Some("db".into()),
            port: None,
            database: Some("app".into()),
        },
        source: ConnectionSource::Compose,
        key: Some("DATABASE_URL".into()),
        span: span(file, 8),
    });
}

#[test]
fn each_compose_project_has_its_own_db_host() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    let shipping = b.krate("shipping", true, &[]);
    b.service(payments);
    b.service(shipping);
    compose_project(&mut b, "payments", "payments");
    compose_project(&mut b, "shipping", "shipping");
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn one_compose_project_shares_its_db_host() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    let shipping = b.krate("shipping", true, &[]);
    b.service(payments);
    b.service(shipping);
    compose_project(&mut b, "deploy", "payments");
    compose_project(&mut b, "deploy", "shipping");
    let (_, findings) = b.check(&Config::default());
    assert_eq!(
        rule_findings(&findings, "shared-database").len(),
        1,
        "{findings:#?}"
    );
}

#[test]
fn a_service_without_migrations_on_its_own_database_has_its_own_tables() {
    let mut b = Builder::new();
    let catalog = b.krate("catalog", true, &[]);
    let accounts = b.krate("accounts", true, &[]);
    b.service(catalog);
    b.service(accounts);
    b.migrations(accounts, &["users"]);
    b.compose_connection("accounts", Some("db"), "accounts");
    b.compose_connection("catalog", Some("db"), "catalog");
    // `catalog` keeps its schema outside the workspace; its `users` is its own.
    b.query(catalog, "users", Access::Read, Certainty::Exact);
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");

    // The same query from a service connected to the owner's database is reported.
    let mut b = Builder::new();
    let catalog = b.krate("catalog", true, &[]);
    let accounts = b.krate("accounts", true, &[]);
    b.service(catalog);
    b.service(accounts);
    b.migrations(accounts, &["users"]);
    b.compose_connection("accounts", Some("db"), "accounts");
    b.compose_connection("catalog", Some("db"), "accounts");
    b.query(catalog, "users", Access::Read, Certainty::Exact);
    let (_, findings) = b.check(&Config::default());
    // Once per table; the shared connection itself is `shared-database`'s finding.
    let cross = rule_findings(&findings, "cross-service-db-access");
    assert_eq!(cross.len(), 1, "{findings:#?}");
    assert_eq!(cross[0].table.as_deref(), Some("users"), "{findings:#?}");
    assert_eq!(
        rule_findings(&findings, "shared-database").len(),
        1,
        "{findings:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// distributed-transaction

/// SQL with the given statements (and tables, read) in `path` of `krate`.
fn sql_at(
    b: &mut Builder,
    krate: CrateId,
    path: &str,
    statements: &[&str],
    tables: &[TableName],
    certainty: Certainty,
    origin: SqlOrigin,
) -> Span {
    let file = b.file(path, Some(krate));
    let at = span(file, b.model.queries.len() as u32 + 3);
    b.model.queries.push(SqlQuery {
        crate_id: krate,
        span: at,
        origin,
        certainty,
        tables: tables
            .iter()
            .map(|t| TableRef {
                table: t.clone(),
                access: Access::Read,
                span: Span {
                    start: at.start + 16,
                    column: 17,
                    ..at
                },
            })
            .collect(),
        statements: statements.iter().map(|s| s.to_string()).collect(),
        function: "transfer::execute".into(),
        effects: vec![StatementEffect::Other; statements.len()],
        inserted_columns: Vec::new(),
        state_columns: Default::default(),
    });
    at
}

fn two_phase_sql(b: &mut Builder, krate: CrateId, statements: &[&str]) -> Span {
    let name = b.model.krate(krate).name.clone();
    sql_at(
        b,
        krate,
        &format!("{name}/src/transfer.rs"),
        statements,
        &[],
        Certainty::Template,
        SqlOrigin::TokioPostgres,
    )
}

#[test]
fn prepare_transaction_is_reported_at_the_sql() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    b.service(payments);
    let prepare = two_phase_sql(&mut b, payments, &["PREPARE TRANSACTION"]);
    let commit = two_phase_sql(&mut b, payments, &["COMMIT PREPARED"]);
    let rollback = two_phase_sql(&mut b, payments, &["ROLLBACK PREPARED"]);
    let (_, findings) = b.check(&Config::default());
    let found = rule_findings(&findings, "distributed-transaction");
    assert_eq!(found.len(), 3, "{findings:#?}");
    assert_eq!(
        found.iter().map(|f| f.span).collect::<Vec<_>>(),
        [prepare, commit, rollback]
    );
    assert_eq!(
        found[0].message,
        "service `payments` runs `PREPARE TRANSACTION` in `transfer::execute` (two-phase commit, first phase)"
    );
    assert_eq!(found[0].label, "`PREPARE TRANSACTION` here");
    assert!(found[0].help.contains("saga"), "{}", found[0].help);
    assert_eq!(found[0].level, Level::Deny);
    assert_eq!(found[0].services, ["payments"]);
}

#[test]
fn prepared_statements_and_plain_transactions_are_not_two_phase_commit() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    b.service(payments);
    // `PREPARE stmt AS SELECT ..`, `EXECUTE stmt`, ordinary transaction control.
    for statements in [
        &["PREPARE", "EXECUTE", "DEALLOCATE"][..],
        &["BEGIN", "SET", "UPDATE", "COMMIT"],
        &["START TRANSACTION", "ROLLBACK"],
        &["SAVEPOINT", "RELEASE"],
    ] {
        two_phase_sql(&mut b, payments, statements);
    }
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn each_xa_statement_is_a_finding_of_its_own() {
    let mut b = Builder::new();
    let ledger = b.krate("ledger", true, &[]);
    b.service(ledger);
    let at = two_phase_sql(&mut b, ledger, &["XA END", "XA PREPARE"]);
    two_phase_sql(&mut b, ledger, &["XA START", "INSERT"]);
    two_phase_sql(&mut b, ledger, &["XA COMMIT"]);
    two_phase_sql(&mut b, ledger, &["XA RECOVER"]);
    let (_, findings) = b.check(&Config::default());
    let found = rule_findings(&findings, "distributed-transaction");
    let statements: Vec<&str> = found
        .iter()
        .filter_map(|f| f.message.split('`').nth(3))
        .collect();
    assert_eq!(
        statements,
        [
            "XA END",
            "XA PREPARE",
            "XA START",
            "XA COMMIT",
            "XA RECOVER"
        ],
        "{findings:#?}"
    );
    assert_eq!(found[0].span, at);
    assert_eq!(found[1].span, at);
}

#[test]
fn two_phase_commit_in_a_library_of_no_service_is_not_judged() {
    // A transaction-manager library is not a service coordinating a distributed commit.
    let mut b = Builder::new();
    let toolkit = b.krate("xa-toolkit", false, &[]);
    let ledger = b.krate("ledger", true, &[]);
    b.service(ledger);
    two_phase_sql(&mut b, toolkit, &["XA PREPARE"]);
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");

    // The same library pulled in by two services is code of both.
    let mut b = Builder::new();
    let toolkit = b.krate("xa-toolkit", false, &[]);
    let ledger = b.krate("ledger", true, &[toolkit]);
    let payments = b.krate("payments", true, &[toolkit]);
    b.service(ledger);
    b.service(payments);
    two_phase_sql(&mut b, toolkit, &["XA PREPARE"]);
    let (_, findings) = b.check(&Config::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(
        findings[0]
            .message
            .starts_with("services `ledger` and `payments` run `XA PREPARE`"),
        "{}",
        findings[0].message
    );
    assert_eq!(findings[0].services, ["ledger", "payments"]);
}

#[test]
fn reading_pg_prepared_xacts_is_reported_at_the_table() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    b.service(payments);
    let catalog = |schema: Option<&str>| TableName {
        schema: schema.map(str::to_string),
        name: "pg_prepared_xacts".into(),
    };
    let plain = sql_at(
        &mut b,
        payments,
        "payments/src/recovery.rs",
        &["SELECT"],
        &[catalog(None)],
        Certainty::Exact,
        SqlOrigin::SqlxFunction,
    );
    let qualified = sql_at(
        &mut b,
        payments,
        "payments/src/recovery.rs",
        &["SELECT"],
        &[catalog(Some("pg_catalog"))],
        Certainty::Exact,
        SqlOrigin::SqlxFunction,
    );
    // A user table of that name in another schema is not the catalog view.
    sql_at(
        &mut b,
        payments,
        "payments/src/recovery.rs",
        &["SELECT"],
        &[catalog(Some("audit")), table("prepared_orders")],
        Certainty::Exact,
        SqlOrigin::SqlxFunction,
    );
    let (_, findings) = b.check(&Config::default());
    let found = rule_findings(&findings, "distributed-transaction");
    assert_eq!(found.len(), 2, "{findings:#?}");
    assert_eq!(found[0].span.start, plain.start + 16);
    assert_eq!(found[1].span.start, qualified.start + 16);
    assert_eq!(
        found[0].message,
        "service `payments` reads `pg_prepared_xacts` in `transfer::execute` (two-phase commit, recovery of prepared transactions)"
    );
}

#[test]
fn two_phase_commit_in_migrations_and_tests_is_not_judged() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    b.service(payments);
    b.migrations(payments, &["accounts"]);
    sql_at(
        &mut b,
        payments,
        "payments/migrations/0002_backfill.sql",
        &["PREPARE TRANSACTION"],
        &[],
        Certainty::Exact,
        SqlOrigin::Migration,
    );
    let test_file = b.model.add_file(SourceFile {
        path: "payments/tests/recovery.rs".into(),
        crate_id: Some(payments),
        is_test: true,
    });
    let at = span(test_file, 4);
    b.model.queries.push(SqlQuery {
        crate_id: payments,
        span: at,
        origin: SqlOrigin::TokioPostgres,
        certainty: Certainty::Exact,
        tables: Vec::new(),
        statements: vec!["ROLLBACK PREPARED".into()],
        function: "cleans_up".into(),
        effects: vec![StatementEffect::Other],
        inserted_columns: Vec::new(),
        state_columns: Default::default(),
    });
    let (model, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
    let with_tests = Config {
        include_tests: true,
        ..Config::default()
    };
    let (with_tests, _) = run(&model, &with_tests);
    assert_eq!(with_tests.len(), 1, "{with_tests:#?}");
    assert_eq!(with_tests[0].span, at);
}

#[test]
fn templated_two_phase_commit_is_judged_unless_only_exact_sql_is() {
    let mut b = Builder::new();
    let payments = b.krate("payments", true, &[]);
    b.service(payments);
    two_phase_sql(&mut b, payments, &["PREPARE TRANSACTION"]);
    let (model, findings) = b.check(&Config::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let exact = Config {
        min_certainty: MinCertainty::Exact,
        ..Config::default()
    };
    assert!(run(&model, &exact).0.is_empty());
}

// ---------------------------------------------------------------------------------------------
// duplicated-reference-data

/// Two services, each creating one table in its own migrations; the findings of the rule.
fn reference_findings(first: &str, second: &str) -> Vec<Finding> {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let billing = b.krate("billing", true, &[]);
    b.service(orders);
    b.service(billing);
    b.migrations(orders, &["orders", first]);
    b.migrations(billing, &["invoices", second]);
    let (_, findings) = b.check(&Config::default());
    findings
        .into_iter()
        .filter(|f| f.rule == "duplicated-reference-data")
        .collect()
}

#[test]
fn reference_tables_of_two_services_are_reported_once_per_copy() {
    let findings = reference_findings("currencies", "currency_codes");
    assert_eq!(findings.len(), 2, "{findings:#?}");
    // At each service's CREATE TABLE name (the second table of its migration).
    assert_eq!(findings[0].span.line, 2);
    assert_eq!(findings[0].services, ["billing", "orders"]);
    assert_eq!(
        findings[0].message,
        "service `billing` keeps its own copy of currency reference data (table `currency_codes`), as does service `orders` (`currencies`)"
    );
    assert_eq!(findings[0].level, Level::Warn);
    assert_eq!(findings[0].table.as_deref(), Some("currency_codes"));
    assert_eq!(findings[0].related.len(), 1);
    assert_eq!(
        findings[0].related[0].label,
        "`orders` creates `currencies` here"
    );
    assert!(
        findings[0].help.contains("GET /v1/currencies")
            && findings[0].help.contains("refdata-client"),
        "{}",
        findings[0].help
    );
    assert_eq!(findings[1].services, ["orders", "billing"]);
}

#[test]
fn a_reference_table_of_one_service_is_not_duplicated() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let billing = b.krate("billing", true, &[]);
    b.service(orders);
    b.service(billing);
    // Two country tables, one service: it may well be the service that serves them.
    b.migrations(orders, &["orders", "countries", "country_codes"]);
    b.migrations(billing, &["invoices"]);
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn reference_table_names_are_matched_by_their_words() {
    for (first, second) in [
        ("ref_countries", "countries"),
        ("iso_currency", "currency_codes"),
        ("currency_iso_codes", "currencies"),
        ("fx_rates", "exchange_rates"),
        ("currency_rates", "exchange_rate"),
        ("sales_tax_rates", "vat_rates"),
        ("product_categories", "categories"),
        ("locales", "languages"),
        ("timezones", "time_zones"),
        ("uom", "units_of_measure"),
        ("lookup_country", "tbl_country"),
        ("countrycodes", "countries"),
        ("exchangerates", "fx_rates"),
        ("isocurrencies", "currency"),
        ("unitsofmeasure", "uom"),
    ] {
        assert_eq!(
            reference_findings(first, second).len(),
            2,
            "{first} and {second} hold the same reference data"
        );
    }
    for (first, second) in [
        ("country_club_members", "countries"),
        ("user_countries", "countries"),
        ("currency_pairs_traded", "currencies"),
        ("shipping_rates", "tax_rates"),
        ("interest_rates", "exchange_rates"),
        ("expense_categories", "categories"),
        ("units", "units_of_measure"),
        ("countries", "currencies"),
        ("codes", "reference_codes"),
        ("subcategories", "categories"),
        ("countryclubs", "countries"),
        ("data", "countries"),
    ] {
        assert!(
            reference_findings(first, second).is_empty(),
            "{first} and {second} are not the same reference data"
        );
    }
}

#[test]
fn schema_qualified_reference_tables_are_matched_by_name() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let billing = b.krate("billing", true, &[]);
    b.service(orders);
    b.service(billing);
    b.migrations(orders, &["countries"]);
    b.migrations(billing, &["invoices"]);
    let set = b.model.migrations.len() - 1;
    b.model.migrations[set].tables[0].table = TableName {
        schema: Some("reference".into()),
        name: "countries".into(),
    };
    let (_, findings) = b.check(&Config::default());
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert!(findings
        .iter()
        .any(|f| f.message.contains("(table `reference.countries`)")));
}

#[test]
fn one_migration_set_shared_by_two_services_is_one_copy() {
    // Sharing the set is `shared-database`'s finding, not a duplicate.
    let mut b = Builder::new();
    let store = b.krate("commerce-store", false, &[]);
    let orders = b.krate("orders", true, &[store]);
    let billing = b.krate("billing", true, &[store]);
    b.service(orders);
    b.service(billing);
    b.migrations(store, &["currencies"]);
    let (model, findings) = b.check(&Config::default());
    assert!(
        rule_findings(&findings, "duplicated-reference-data").is_empty(),
        "{findings:#?}"
    );
    assert_eq!(rule_findings(&findings, "shared-database").len(), 1);
    assert_eq!(model.table_owners.len(), 2);

    // A third service with its own copy duplicates the shared one: one finding per copy.
    let mut b = Builder::new();
    let store = b.krate("commerce-store", false, &[]);
    let orders = b.krate("orders", true, &[store]);
    let billing = b.krate("billing", true, &[store]);
    let shipping = b.krate("shipping", true, &[]);
    b.service(orders);
    b.service(billing);
    b.service(shipping);
    b.migrations(store, &["currencies"]);
    b.migrations(shipping, &["currency"]);
    let (_, findings) = b.check(&Config::default());
    let found = rule_findings(&findings, "duplicated-reference-data");
    assert_eq!(found.len(), 2, "{findings:#?}");
    assert_eq!(
        found[0].message,
        "services `orders` and `billing` keep their own copy of currency reference data (table `currencies`), as does service `shipping` (`currency`)"
    );
    assert_eq!(
        found[1].message,
        "service `shipping` keeps its own copy of currency reference data (table `currency`), as do services `billing` (`currencies`) and `orders` (`currencies`)"
    );
    assert_eq!(
        found[1].related[0].label,
        "`orders` and `billing` create `currencies` here"
    );
}

#[test]
fn the_reference_data_services_copy_is_the_one_to_read() {
    let mut b = Builder::new();
    let refdata = b.krate("refdata", true, &[]);
    let orders = b.krate("orders", true, &[]);
    b.service(refdata);
    b.service(orders);
    b.migrations(refdata, &["countries", "exchange_rates"]);
    let copy = b.migrations(orders, &["orders", "fx_rates"]);
    let (model, findings) = b.check(&Config::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].span, model.migrations[copy].tables[1].span);
    assert_eq!(
        findings[0].message,
        "service `orders` keeps its own copy of exchange-rate reference data (table `fx_rates`); the reference-data service `refdata` (`exchange_rates`) holds it already"
    );
    assert!(findings[0].help.contains("GET /v1/exchange-rates"));
}

#[test]
fn a_service_with_two_tables_of_one_kind_is_one_finding() {
    let mut b = Builder::new();
    let catalog = b.krate("catalog", true, &[]);
    let search = b.krate("search", true, &[]);
    b.service(catalog);
    b.service(search);
    b.migrations(catalog, &["categories", "products", "product_categories"]);
    b.migrations(search, &["categories"]);
    let (_, findings) = b.check(&Config::default());
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert_eq!(
        findings[0].message,
        "service `catalog` keeps its own copy of product-category reference data (tables `categories` and `product_categories`), as does service `search` (`categories`)"
    );
    assert!(
        findings[0].help.contains("one service"),
        "{}",
        findings[0].help
    );
}

#[test]
fn runtime_reference_tables_in_tests_do_not_count() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let billing = b.krate("billing", true, &[]);
    b.service(orders);
    b.service(billing);
    b.migrations(orders, &["countries"]);
    let test_file = b.model.add_file(SourceFile {
        path: "billing/tests/fixtures.rs".into(),
        crate_id: Some(billing),
        is_test: true,
    });
    let at = span(test_file, 3);
    b.model.queries.push(SqlQuery {
        crate_id: billing,
        span: at,
        origin: SqlOrigin::SqlxFunction,
        certainty: Certainty::Exact,
        tables: vec![TableRef {
            table: table("countries"),
            access: Access::Create,
            span: at,
        }],
        statements: vec!["CREATE TABLE".into()],
        function: String::new(),
        effects: vec![StatementEffect::Other],
        inserted_columns: Vec::new(),
        state_columns: Default::default(),
    });
    let (_, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");

    // The same `CREATE TABLE` in service code is a copy.
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let billing = b.krate("billing", true, &[]);
    b.service(orders);
    b.service(billing);
    b.migrations(orders, &["countries"]);
    let file = b.file("billing/src/db.rs", Some(billing));
    let at = span(file, 3);
    b.model.queries.push(SqlQuery {
        crate_id: billing,
        span: at,
        origin: SqlOrigin::SqlxFunction,
        certainty: Certainty::Exact,
        tables: vec![TableRef {
            table: table("countries"),
            access: Access::Create,
            span: at,
        }],
        statements: vec!["CREATE TABLE".into()],
        function: "init".into(),
        effects: vec![StatementEffect::Other],
        inserted_columns: Vec::new(),
        state_columns: Default::default(),
    });
    let (_, findings) = b.check(&Config::default());
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert_eq!(findings[0].span, at);
}

#[test]
fn duplicated_reference_data_warns_by_default_and_denies_in_strict() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    let billing = b.krate("billing", true, &[]);
    b.service(orders);
    b.service(billing);
    b.migrations(orders, &["tax_rates"]);
    b.migrations(billing, &["vat_rates"]);
    let (model, findings) = b.check(&Config::default());
    assert!(
        findings.iter().all(|f| f.level == Level::Warn),
        "{findings:#?}"
    );
    let strict = Config::from_text(
        "extends = \"strict\"\n",
        camino::Utf8Path::new("archlint.toml"),
    )
    .expect("strict preset");
    let (strict_findings, _) = run(&model, &strict);
    assert_eq!(strict_findings.len(), 2);
    assert!(strict_findings.iter().all(|f| f.level == Level::Deny));
}

#[test]
fn a_services_own_copy_next_to_a_shared_one_names_only_the_other_holders() {
    let mut b = Builder::new();
    let store = b.krate("commerce-store", false, &[]);
    let orders = b.krate("orders", true, &[store]);
    let billing = b.krate("billing", true, &[store]);
    b.service(orders);
    b.service(billing);
    b.migrations(store, &["currencies"]);
    let own = b.migrations(orders, &["currency_codes"]);
    let (model, findings) = b.check(&Config::default());
    let found = rule_findings(&findings, "duplicated-reference-data");
    // The shared set's copy has no holder outside itself; `orders`' own copy duplicates it.
    assert_eq!(found.len(), 1, "{findings:#?}");
    assert_eq!(found[0].span, model.migrations[own].tables[0].span);
    assert_eq!(
        found[0].message,
        "service `orders` keeps its own copy of currency reference data (table `currency_codes`), as does service `billing` (`currencies`)"
    );
}

// ---------------------------------------------------------------------------------------------
// duplicated-reference-data: hard-coded code lists

/// A hard-coded list of `codes` codes in `<crate>/src/money.rs`.
fn hard_coded_list(
    b: &mut Builder,
    krate: CrateId,
    kind: IsoCodeList,
    shape: ReferenceListShape,
    codes: usize,
) -> Span {
    let name = b.model.krate(krate).name.clone();
    let file = b.file(&format!("{name}/src/money.rs"), Some(krate));
    let at = span(file, b.model.hard_coded_lists.len() as u32 + 4);
    let sample = match kind {
        IsoCodeList::Currency => ["USD", "EUR", "JPY"],
        IsoCodeList::CountryAlpha2 => ["US", "DE", "JP"],
        IsoCodeList::CountryAlpha3 => ["USA", "DEU", "JPN"],
    };
    b.model.hard_coded_lists.push(HardCodedReferenceList {
        crate_id: krate,
        kind,
        shape,
        codes,
        sample: sample.iter().take(codes).map(|c| c.to_string()).collect(),
        span: at,
    });
    at
}

#[test]
fn a_hard_coded_code_list_in_a_service_is_reported_at_the_list() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    b.service(orders);
    let list = hard_coded_list(
        &mut b,
        orders,
        IsoCodeList::Currency,
        ReferenceListShape::List,
        32,
    );
    let (_, findings) = b.check(&Config::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding.rule, "duplicated-reference-data");
    assert_eq!(finding.level, Level::Warn);
    assert_eq!(finding.span, list);
    assert_eq!(
        finding.message,
        "service `orders` hard-codes 32 ISO 4217 currency codes in a list (`USD`, `EUR`, `JPY`, ...)"
    );
    assert_eq!(finding.label, "currency codes copied here");
    assert!(
        finding.help.contains("GET /v1/currencies") && finding.help.contains("refdata-client"),
        "{}",
        finding.help
    );
    assert_eq!(finding.services, ["orders"]);
    assert_eq!(finding.table, None);
}

#[test]
fn every_shape_and_kind_of_code_list_is_named() {
    for (kind, shape, message, endpoint) in [
        (
            IsoCodeList::Currency,
            ReferenceListShape::Match,
            "service `orders` hard-codes 17 ISO 4217 currency codes in `match` patterns (`USD`, `EUR`, `JPY`, ...)",
            "GET /v1/currencies",
        ),
        (
            IsoCodeList::CountryAlpha2,
            ReferenceListShape::Table,
            "service `orders` hard-codes 17 ISO 3166-1 alpha-2 country codes as the keys of a table (`US`, `DE`, `JP`, ...)",
            "GET /v1/countries",
        ),
        (
            IsoCodeList::CountryAlpha3,
            ReferenceListShape::Enum,
            "service `orders` hard-codes 17 ISO 3166-1 alpha-3 country codes as enum variants (`USA`, `DEU`, `JPN`, ...)",
            "GET /v1/countries",
        ),
    ] {
        let mut b = Builder::new();
        let orders = b.krate("orders", true, &[]);
        b.service(orders);
        hard_coded_list(&mut b, orders, kind, shape, 17);
        let (_, findings) = b.check(&Config::default());
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].message, message);
        assert!(findings[0].help.contains(endpoint), "{}", findings[0].help);
    }
}

#[test]
fn a_code_list_in_a_shared_library_names_every_service_once() {
    let mut b = Builder::new();
    let money = b.krate("money", false, &[]);
    let orders = b.krate("orders", true, &[money]);
    let billing = b.krate("billing", true, &[money]);
    b.service(orders);
    b.service(billing);
    hard_coded_list(
        &mut b,
        money,
        IsoCodeList::Currency,
        ReferenceListShape::Table,
        12,
    );
    let (_, findings) = b.check(&Config::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        findings[0].message,
        "services `orders` and `billing` hard-code 12 ISO 4217 currency codes as the keys of a table (`USD`, `EUR`, `JPY`, ...)"
    );
    assert_eq!(findings[0].services, ["orders", "billing"]);
}

#[test]
fn code_lists_outside_services_and_in_the_reference_data_service_are_not_copies() {
    let mut b = Builder::new();
    // A library no service depends on (a seed tool's helpers).
    let tools = b.krate("seed-tools", false, &[]);
    // The reference-data service and its client library.
    let client = b.krate("refdata-client", false, &[]);
    let refdata = b.krate("refdata", true, &[]);
    let orders = b.krate("orders", true, &[client]);
    b.service(refdata);
    b.service(orders);
    for krate in [tools, client, refdata] {
        hard_coded_list(
            &mut b,
            krate,
            IsoCodeList::Currency,
            ReferenceListShape::List,
            30,
        );
    }
    // Test code of a service.
    let test_file = b.model.add_file(SourceFile {
        path: "orders/tests/money.rs".into(),
        crate_id: Some(orders),
        is_test: true,
    });
    b.model.hard_coded_lists.push(HardCodedReferenceList {
        crate_id: orders,
        kind: IsoCodeList::Currency,
        shape: ReferenceListShape::List,
        codes: 30,
        sample: vec!["USD".into()],
        span: span(test_file, 3),
    });
    let (model, findings) = b.check(&Config::default());
    assert!(findings.is_empty(), "{findings:#?}");

    // Judged when the configuration includes tests.
    let with_tests = Config {
        include_tests: true,
        ..Config::default()
    };
    let (findings, _) = run(&model, &with_tests);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].span, span(test_file, 3));
}

#[test]
fn a_code_list_is_silenced_by_an_exception_on_its_path() {
    let mut b = Builder::new();
    let orders = b.krate("orders", true, &[]);
    b.service(orders);
    hard_coded_list(
        &mut b,
        orders,
        IsoCodeList::Currency,
        ReferenceListShape::Match,
        10,
    );
    let config = Config::from_text(
        "[[allow]]\nrule = \"duplicated-reference-data\"\npath = \"orders/src/money.rs\"\nreason = \"minor units fixed by the processor contract\"\n",
        camino::Utf8Path::new("archlint.toml"),
    )
    .expect("config");
    let (_, findings) = b.check(&config);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn services_of_a_crate_come_from_the_index_as_from_the_model() {
    let mut b = Builder::new();
    let store = b.krate("store", false, &[]);
    let orders = b.krate("orders", true, &[store]);
    let billing = b.krate("billing", true, &[store]);
    let tool = b.krate("tool", false, &[]);
    b.service(orders);
    b.service(billing);
    let config = Config::default();
    let cx = crate::rules::RuleContext::new(&b.model, &config);
    for krate in [store, orders, billing, tool, CrateId(99)] {
        let indexed: Vec<ServiceId> = cx.services_of_crate(krate).map(|s| s.id).collect();
        let scanned: Vec<ServiceId> = b.model.services_of_crate(krate).map(|s| s.id).collect();
        assert_eq!(indexed, scanned, "{krate:?}");
    }
    assert_eq!(cx.services_of_crate(store).count(), 2);
}
