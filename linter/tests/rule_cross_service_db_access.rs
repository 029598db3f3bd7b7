//! cross-service-db-access on real Rust source: one finding per service and foreign table or
//! crate, migrations' references left to shared-database, contracts told from persistence.

mod behaviour_support;

use behaviour_support::{check, ServiceCrate};

const RULE: &str = "cross-service-db-access";

const AXUM: &[&str] = &["axum", "sqlx", "tokio"];

const ORDERS_MIGRATION: &str = "CREATE TABLE orders (id BIGINT PRIMARY KEY, status TEXT);\n";

fn orders() -> ServiceCrate<'static> {
    ServiceCrate {
        name: "orders",
        dependencies: AXUM,
        files: &[("migrations/0001_orders.sql", ORDERS_MIGRATION)],
    }
}

fn billing_reading<'a>(code: &'a [(&'a str, &'a str)]) -> ServiceCrate<'a> {
    ServiceCrate {
        name: "billing",
        dependencies: AXUM,
        files: code,
    }
}

#[test]
fn every_access_to_one_foreign_table_is_one_finding_at_the_write() {
    let code = r#"
async fn bill(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT status FROM orders WHERE id = 1").execute(pool).await?;
    sqlx::query("UPDATE orders SET status = 'billed' WHERE id = 1").execute(pool).await?;
    sqlx::query("SELECT id FROM orders").execute(pool).await?;
    Ok(())
}
fn main() {}
"#;
    let files = [
        ("src/main.rs", code),
        (
            "migrations/0001_invoices.sql",
            "CREATE TABLE invoices (id BIGINT);\n",
        ),
    ];
    let checked = check(&[orders(), billing_reading(&files)], None);
    let found = checked.of(RULE);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("line 4: service `billing` writes table `orders`"),
        "{found:?}"
    );
    let finding = checked
        .findings
        .iter()
        .find(|f| f.rule == RULE)
        .expect("one finding");
    let also: Vec<&str> = finding.related.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        also.iter().filter(|l| l.starts_with("also reads")).count(),
        2,
        "{also:?}"
    );
}

#[test]
fn a_foreign_key_in_a_migration_is_no_access_but_a_query_is() {
    let migration = "CREATE TABLE invoices (id BIGINT, order_id BIGINT REFERENCES orders(id));\n";
    let files = [
        ("src/main.rs", "fn main() {}\n"),
        ("migrations/0001_invoices.sql", migration),
    ];
    let found = check(&[orders(), billing_reading(&files)], None).of(RULE);
    assert!(found.is_empty(), "{found:?}");

    let query = r#"
async fn open(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT id FROM orders").execute(pool).await?;
    Ok(())
}
fn main() {}
"#;
    let files = [
        ("src/main.rs", query),
        ("migrations/0001_invoices.sql", migration),
    ];
    let found = check(&[orders(), billing_reading(&files)], None).of(RULE);
    assert_eq!(found.len(), 1, "{found:?}");
}

const AUTH_LIB: &str = "pub mod client;\npub mod db;\n";
const AUTH_CLIENT: &str = r#"
pub struct AuthClient { pub url: String }
impl AuthClient {
    pub async fn create_session(&self, user: i64) -> Result<(), String> { let _ = user; Ok(()) }
}
"#;
const AUTH_DB: &str = r#"
pub struct SessionRepo;
impl SessionRepo {
    pub async fn insert(pool: &sqlx::PgPool, user: i64) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO sessions (user_id) VALUES ($1)").bind(user).execute(pool).await?;
        Ok(())
    }
}
"#;

fn auth() -> ServiceCrate<'static> {
    ServiceCrate {
        name: "auth",
        dependencies: AXUM,
        files: &[
            ("src/lib.rs", AUTH_LIB),
            ("src/client.rs", AUTH_CLIENT),
            ("src/db.rs", AUTH_DB),
            (
                "migrations/0001_sessions.sql",
                "CREATE TABLE sessions (user_id BIGINT);\n",
            ),
        ],
    }
}

const GATEWAY_DEPS: &[&str] = &["axum", "sqlx", "tokio", "auth = { path = \"../auth\" }"];

#[test]
fn a_service_crates_client_is_its_contract_but_its_repository_is_persistence() {
    let gateway_using = |code: &str| {
        let gateway = ServiceCrate {
            name: "gateway",
            dependencies: GATEWAY_DEPS,
            files: &[("src/main.rs", code)],
        };
        check(&[auth(), gateway], None).of(RULE)
    };
    let found = gateway_using(
        r#"
use auth::client::AuthClient;
async fn login(client: &AuthClient) -> Result<(), String> { client.create_session(1).await }
fn main() {}
"#,
    );
    assert!(found.is_empty(), "{found:?}");

    let found = gateway_using(
        r#"
use auth::db::SessionRepo;
async fn login(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> { SessionRepo::insert(pool, 1).await }
fn main() {}
"#,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("uses `auth::db::SessionRepo` from `auth`"),
        "{found:?}"
    );
}
