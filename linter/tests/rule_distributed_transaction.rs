//! `distributed-transaction`: transactions on two databases committed one after the other, and
//! coordinators that drive a two-phase commit across services.

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

fn orders_with_clients(source: &str) -> Checked {
    check(
        &[ServiceCrate {
            name: "orders",
            dependencies: &["tonic", "prost", "sqlx", "tokio"],
            files: &[("src/main.rs", source)],
        }],
        None,
    )
}

#[test]
fn coordinator_sending_prepared_ids_and_calling_the_managers_commit_is_reported() {
    let checked = orders_with_clients(
        r#"
pub struct Orders {
    payments: PaymentServiceClient<tonic::transport::Channel>,
    payments_tpc: TwoPhaseCommitServiceClient<tonic::transport::Channel>,
}

impl Orders {
    pub async fn create(&self, order_id: String, cents: i64) -> anyhow::Result<()> {
        let gid = uuid::Uuid::new_v4().to_string();
        let request = PaymentCreateRequest {
            external_ref: order_id,
            amount: cents,
            prepared_transaction_id: Some(gid.clone()),
        };
        self.payments.clone().create(tonic::Request::new(request)).await?;
        let _ = self
            .payments_tpc
            .clone()
            .commit(tonic::Request::new(TwoPhaseCommitRequest { id: gid }))
            .await;
        Ok(())
    }
}

fn main() {}
"#,
    );
    let found = checked.of("distributed-transaction");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("line 19:"), "{found:#?}");
    assert!(
        found[0].contains("hands prepared-transaction ids to the services it calls and asks the transaction manager `payments_tpc` to `commit`"),
        "{found:#?}"
    );
}

#[test]
fn prepared_ids_alone_are_reported_at_the_request() {
    let checked = orders_with_clients(
        r#"
pub struct Orders { payments: PaymentServiceClient<tonic::transport::Channel> }

impl Orders {
    pub async fn approve(&self, id: String, gid: String) -> anyhow::Result<()> {
        let request = PaymentApproveRequest { id, prepared_tx_id: Some(gid) };
        self.payments.clone().approve(tonic::Request::new(request)).await?;
        Ok(())
    }
}

fn main() {}
"#,
    );
    let found = checked.of("distributed-transaction");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("line 6:"), "{found:#?}");
}

#[test]
fn commit_rpcs_of_other_services_and_prepared_ids_never_sent_are_fine() {
    let checked = orders_with_clients(
        r#"
pub struct Orders {
    // A version-control style service whose `commit` records a change set: no transaction
    // manager in its name.
    catalog: CatalogServiceClient<tonic::transport::Channel>,
}

impl Orders {
    pub async fn publish_menu(&self, draft: String) -> anyhow::Result<()> {
        self.catalog.clone().commit(tonic::Request::new(CommitDraft { draft })).await?;
        Ok(())
    }
}

// A participant answering the coordinator: it reads the id it was sent, calls no one.
pub async fn prepare_locally(pool: &sqlx::PgPool, request: PaymentCreateRequest) -> anyhow::Result<()> {
    let record = Prepared { prepared_transaction_id: request.prepared_transaction_id };
    store(pool, record).await
}

fn main() {}
"#,
    );
    assert_eq!(checked.of("distributed-transaction"), Vec::<String>::new());
}
