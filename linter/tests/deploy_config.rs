mod deploy_support;

use archlint::extract::deploy::DeployFileKind;
use archlint::model::{ConnectionOwner, ConnectionSource, CrateId, DbEngine, NoteKind};
use deploy_support::*;

const ORDERS: CrateId = CrateId(3);

fn read(path: &str) -> String {
    std::fs::read_to_string(fixture_root("config").join(path)).unwrap()
}

#[test]
fn toml_split_settings_and_urls() {
    let path = "services/orders/config/default.toml";
    let text = read(path);
    let facts = extract("config", path, DeployFileKind::ConfigFile, Some(ORDERS));
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
    let found: Vec<_> = facts
        .connections
        .iter()
        .map(|c| {
            (
                c.key.as_deref().unwrap_or(""),
                c.target.clone(),
                spanned(&text, &c.span),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "cache.url",
                target(DbEngine::Redis, Some("cache"), None, Some("3")),
                "redis://cache:6379/3"
            ),
            (
                "app.database.host, app.database.port, app.database.name",
                // The engine follows from the port.
                pg("orders-db", "orders"),
                "orders-db"
            ),
        ],
        "server.host and clients.inventory_url are not databases"
    );
    assert!(facts
        .connections
        .iter()
        .all(|c| c.owner == ConnectionOwner::Crate(ORDERS)
            && c.source == ConnectionSource::ConfigFile));
}

#[test]
fn yaml_urls_and_unresolved_values() {
    let path = "services/orders/config/production.yaml";
    let text = read(path);
    let facts = extract("config", path, DeployFileKind::ConfigFile, Some(ORDERS));
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
    let found: Vec<_> = facts
        .connections
        .iter()
        .map(|c| {
            (
                c.key.as_deref().unwrap_or(""),
                c.target.clone(),
                spanned(&text, &c.span),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "database.url",
                pg("orders-db", "orders"),
                "postgres://orders:${DB_PASSWORD}@orders-db.prod.svc.cluster.local/orders"
            ),
            (
                "analytics.database_url",
                target(DbEngine::Unknown, None, None, None),
                "${ANALYTICS_DATABASE_URL}"
            ),
        ]
    );
}

#[test]
fn malformed_toml_is_a_note_with_a_location() {
    let path = "services/orders/config/broken.toml";
    let facts = extract("config", path, DeployFileKind::ConfigFile, Some(ORDERS));
    assert!(facts.connections.is_empty());
    assert_eq!(facts.notes.len(), 1);
    assert_eq!(facts.notes[0].kind, NoteKind::ConfigSyntax);
    assert_eq!(
        facts.notes[0].span.map(|s| s.line),
        Some(2),
        "{:?}",
        facts.notes[0]
    );
}

#[test]
fn config_files_outside_crates_yield_no_connections() {
    let path = "services/orders/config/default.toml";
    let facts = extract("config", path, DeployFileKind::ConfigFile, None);
    assert!(facts.connections.is_empty());
}

#[test]
fn dotenv_connections_of_a_crate() {
    let path = "services/orders/.env";
    let text = read(path);
    let facts = extract("config", path, DeployFileKind::DotEnv, Some(ORDERS));
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
    let found: Vec<_> = facts
        .connections
        .iter()
        .map(|c| {
            (
                c.key.as_deref().unwrap_or(""),
                c.target.clone(),
                spanned(&text, &c.span),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "DATABASE_URL",
                target(
                    DbEngine::Postgres,
                    Some("localhost"),
                    Some(5433),
                    Some("orders")
                ),
                "postgres://orders:pw@${DB_HOST}:${DB_PORT}/orders"
            ),
            (
                "LEGACY_DSN",
                pg("legacy-db", "legacy"),
                "host=legacy-db dbname=legacy user=app"
            ),
            (
                "REDIS_URL",
                target(DbEngine::Redis, Some("localhost"), None, Some("0")),
                "redis://localhost"
            ),
        ],
        "DB_HOST/DB_PORT repeat DATABASE_URL; API_URL is not a database"
    );
    assert!(
        facts
            .connections
            .iter()
            .all(|c| c.source == ConnectionSource::DotEnv
                && c.owner == ConnectionOwner::Crate(ORDERS))
    );
}

#[test]
fn dotenv_unresolved_and_malformed_lines() {
    let path = "services/billing/.env";
    let root = fixture_root("config");
    let text = read(path);
    let crates = [bin_crate(4, "billing")];
    let mut crates = crates;
    crates[0].dir = "services/billing".into();
    let facts = extract_with_crates(
        &root,
        path,
        DeployFileKind::DotEnv,
        Some(CrateId(4)),
        &text,
        &crates,
    );
    assert_eq!(facts.notes.len(), 1);
    assert_eq!(facts.notes[0].span.map(|s| s.line), Some(2));
    let targets: Vec<_> = facts.connections.iter().map(|c| c.target.clone()).collect();
    assert_eq!(
        targets,
        [
            target(DbEngine::Unknown, None, None, None),
            // Relative to the crate directory, where the service runs.
            target(
                DbEngine::Sqlite,
                None,
                None,
                Some("services/billing/billing.db")
            ),
        ]
    );
}

#[test]
fn root_dotenv_has_no_owner_and_no_connections() {
    let facts = extract(
        "config",
        "services/orders/.env",
        DeployFileKind::DotEnv,
        None,
    );
    assert!(facts.connections.is_empty());
}
