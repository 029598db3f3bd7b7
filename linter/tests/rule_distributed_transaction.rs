//! `distributed-transaction`: transactions on two databases committed one after the other.

mod behaviour_support;
use behaviour_support::*;

fn billing(source: &str) -> Checked {
    check(
        &[ServiceCrate {
            name: "billing",
            dependencies: &["axum", "sqlx", "tokio"],
            files: &[("src/main.rs", source)],
        }],
        None,
    )
}

#[test]
fn two_pools_committed_in_turn_are_reported_at_the_second_begin() {
    let checked = billing(
        r#"
pub struct Transfer { orders_db: sqlx::PgPool, ledger_db: sqlx::PgPool }

impl Transfer {
    pub async fn settle(&self, order_id: i64, cents: i64) -> anyhow::Result<()> {
        let mut orders_tx = self.orders_db.begin().await?;
        let mut ledger_tx = self.ledger_db.begin().await?;
        sqlx::query("UPDATE orders SET status = 'settled' WHERE id = $1")
            .bind(order_id)
            .execute(&mut *orders_tx)
            .await?;
        sqlx::query("INSERT INTO entries (order_id, cents) VALUES ($1, $2)")
            .bind(order_id)
            .bind(cents)
            .execute(&mut *ledger_tx)
            .await?;
        orders_tx.commit().await?;
        ledger_tx.commit().await?;
        Ok(())
    }
}
"#,
    );
    let found = checked.of("distributed-transaction");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("line 7:"), "{found:#?}");
    assert!(
        found[0].contains("opens transactions on `orders_db` and `ledger_db`"),
        "{found:#?}"
    );
}

#[test]
fn one_pool_two_transactions_in_turn_is_fine() {
    let checked = billing(
        r#"
pub async fn settle(pool: &sqlx::PgPool, order_id: i64) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE orders SET status = 'settled' WHERE id = $1").bind(order_id).execute(&mut *tx).await?;
    tx.commit().await?;
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO audit (order_id) VALUES ($1)").bind(order_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn copy(read_db: &sqlx::PgPool, write_db: &sqlx::PgPool) -> anyhow::Result<()> {
    // Two pools, but only one transaction is committed.
    let mut tx = write_db.begin().await?;
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM orders").fetch_all(read_db).await?;
    for (id,) in rows {
        sqlx::query("INSERT INTO copies (id) VALUES ($1)").bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
"#,
    );
    assert_eq!(checked.of("distributed-transaction"), Vec::<String>::new());
}
