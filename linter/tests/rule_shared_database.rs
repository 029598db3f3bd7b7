//! shared-database on real Rust source: a workspace-level schema used by several services.

mod behaviour_support;

use behaviour_support::{check, ServiceCrate};

const AXUM: &[&str] = &["axum", "sqlx", "tokio"];

const READ_ORDERS: &str = r#"
async fn totals(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT id FROM orders").execute(pool).await?;
    Ok(())
}
fn main() {}
"#;

fn orders_running(migrate: &str) -> String {
    format!(
        r#"
async fn start(pool: &sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {{
    {migrate}.run(pool).await?;
    sqlx::query("INSERT INTO orders (id) VALUES (1)").execute(pool).await?;
    Ok(())
}}
fn main() {{}}
"#
    )
}

const MIGRATION: &str = "CREATE TABLE orders (id BIGINT PRIMARY KEY);\n";

/// `orders` running its migrations with `migrate` from `migration_path` (relative to its
/// crate), and `billing` reading the `orders` table.
fn orders_and_billing(migrate: &str, migration_path: &str) -> behaviour_support::Checked {
    let orders_main = orders_running(migrate);
    let orders_files = [
        ("src/main.rs", orders_main.as_str()),
        (migration_path, MIGRATION),
    ];
    check(
        &[
            ServiceCrate {
                name: "orders",
                dependencies: AXUM,
                files: &orders_files,
            },
            ServiceCrate {
                name: "billing",
                dependencies: AXUM,
                files: &[("src/main.rs", READ_ORDERS)],
            },
        ],
        None,
    )
}

#[test]
fn a_workspace_level_schema_used_by_two_services_is_one_shared_database() {
    let checked = orders_and_billing(
        r#"sqlx::migrate!("../migrations")"#,
        "../migrations/0001_orders.sql",
    );
    let shared = checked.of("shared-database");
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert!(
        shared[0].contains(
            "services `billing` and `orders` use the tables of the workspace-level migrations in `migrations`"
        ),
        "{shared:?}"
    );
    assert!(checked.of("cross-service-db-access").is_empty());
}

#[test]
fn migrations_inside_the_running_crate_are_its_own_and_a_reader_reaches_into_them() {
    let checked = orders_and_billing("sqlx::migrate!()", "migrations/0001_orders.sql");
    assert!(checked.of("shared-database").is_empty());
    let cross = checked.of("cross-service-db-access");
    assert_eq!(cross.len(), 1, "{cross:?}");
}
