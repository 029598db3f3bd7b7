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

// ------------------------------------------------------------------ document collections

const MONGO_AXUM: &[&str] = &["axum", "mongodb", "tokio"];

fn mongo_service<'a>(name: &'a str, code: &'a str) -> [ServiceCrate<'a>; 1] {
    [ServiceCrate {
        name,
        dependencies: MONGO_AXUM,
        files: std::slice::from_ref(Box::leak(Box::new(("src/main.rs", code)))),
    }]
}

const ORDERS_INSERTING: &str = r#"
use mongodb::{bson::doc, Database};
pub async fn place(db: &Database, order: Order) -> mongodb::error::Result<()> {
    let orders = db.collection::<Order>("orders");
    orders.insert_one(order, None).await?;
    Ok(())
}
fn main() {}
"#;

fn check_mongo(services: &[(&str, &str)]) -> Vec<String> {
    let crates: Vec<ServiceCrate<'_>> = services
        .iter()
        .flat_map(|(name, code)| mongo_service(name, code))
        .collect();
    check(&crates, None).of(RULE)
}

#[test]
fn reading_documents_another_service_creates_is_reported_once_at_the_read() {
    let billing = r#"
use mongodb::{bson::doc, Database};
pub async fn total(db: &Database) -> mongodb::error::Result<()> {
    let orders = db.collection::<Order>("orders");
    let first = orders.find_one(doc! { "status": "paid" }, None).await?;
    let again = orders.count_documents(doc! {}, None).await?;
    Ok(())
}
fn main() {}
"#;
    let found = check_mongo(&[("orders", ORDERS_INSERTING), ("billing", billing)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("line 5:")
            && found[0].contains("service `billing` reads collection `orders`")
            && found[0].contains("service `orders` creates"),
        "{found:?}"
    );
}

#[test]
fn collections_nobody_creates_or_that_both_create_have_no_single_owner() {
    let reader = r#"
use mongodb::{bson::doc, Database};
pub async fn look(db: &Database) -> mongodb::error::Result<()> {
    db.collection::<Order>("orders").find_one(doc! {}, None).await?;
    Ok(())
}
fn main() {}
"#;
    // Both only read: nobody's documents.
    assert_eq!(
        check_mongo(&[("orders", reader), ("billing", reader)]),
        Vec::<String>::new()
    );
    // Both create: co-owners, not one reaching into the other.
    assert_eq!(
        check_mongo(&[("orders", ORDERS_INSERTING), ("billing", ORDERS_INSERTING)]),
        Vec::<String>::new()
    );
}

#[test]
fn an_outbox_relay_that_deletes_what_it_publishes_works_for_the_owner() {
    let relay = r#"
use mongodb::{bson::doc, Database};
async fn drain(db: &Database, producer: &rdkafka::producer::FutureProducer) -> anyhow::Result<()> {
    let events = next_batch(db).await?;
    producer.send(rdkafka::producer::FutureRecord::to("orders").payload(&events), None).await;
    forget_sent(db).await?;
    Ok(())
}
async fn next_batch(db: &Database) -> anyhow::Result<Vec<u8>> {
    db.collection::<Event>("orders").find(doc! {}, None).await?;
    Ok(Vec::new())
}
async fn forget_sent(db: &Database) -> anyhow::Result<()> {
    db.collection::<Event>("orders").delete_many(doc! {}, None).await?;
    Ok(())
}
fn main() {}
"#;
    let relay_crate = ServiceCrate {
        name: "relay",
        dependencies: &["axum", "mongodb", "rdkafka", "tokio", "anyhow"],
        files: &[("src/main.rs", relay)],
    };
    let [orders] = mongo_service("orders", ORDERS_INSERTING);
    assert_eq!(
        check(&[orders, relay_crate], None).of(RULE),
        Vec::<String>::new()
    );
    // The same deletes without the publish: another service purging the owner's documents.
    let purge = relay.replace(
        "producer.send(rdkafka::producer::FutureRecord::to(\"orders\").payload(&events), None).await;",
        "",
    );
    let found = check_mongo(&[("orders", ORDERS_INSERTING), ("relay", &purge)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`relay` deletes documents of collection `orders`"),
        "{found:?}"
    );
}

/// A shared `store` library: an enum naming the collections (through `Display`) and a generic
/// store opened on one of them, as a workspace wraps the driver.
const STORE_LIB: &str = r#"
use std::fmt;
pub enum Store { Orders, Events }
impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Store::Orders => write!(f, "orders"),
            Store::Events => write!(f, "external-events"),
        }
    }
}
pub struct MongoStore<T> { pub collection: mongodb::Collection<T> }
impl<T> MongoStore<T> {
    pub async fn new(db: &mongodb::Database, store: &Store) -> Self {
        let collection = db.collection::<T>(store.to_string().as_str());
        Self { collection }
    }
    pub async fn create_one(&self, value: &T) {}
    pub async fn get_one(&self, id: &str) {}
}
/// Not a collection: an enum handed to a constructor for something else.
pub enum Colour { Red }
pub struct Painter;
impl Painter { pub fn new(colour: Colour) -> Self { Painter } pub fn get_brush(&self) {} }
"#;

#[test]
fn collections_named_by_an_enum_through_a_wrapper_and_a_field_are_followed() {
    let orders = r#"
use store::{MongoStore, Store};
struct Stores { orders: MongoStore<Order> }
async fn start(db: &mongodb::Database) -> Stores {
    let orders = MongoStore::new(db, &Store::Orders).await;
    Stores { orders }
}
async fn place(stores: &Stores, order: &Order) {
    stores.orders.create_one(order).await;
}
fn main() {}
"#;
    let billing = r#"
use store::{MongoStore, Painter, Colour, Store};
struct State { orders: MongoStore<Order>, painter: Painter }
async fn start(db: &mongodb::Database) -> State {
    let orders = MongoStore::new(db, &Store::Orders).await;
    State { orders, painter: Painter::new(Colour::Red) }
}
async fn total(state: &State) {
    state.orders.get_one("1").await;
    state.painter.get_brush();
}
fn main() {}
"#;
    let store_dep = "store = { path = \"../store\" }";
    let crates = [
        ServiceCrate {
            name: "store",
            dependencies: &["mongodb"],
            files: &[("src/lib.rs", STORE_LIB)],
        },
        ServiceCrate {
            name: "orders",
            dependencies: &["axum", "mongodb", "tokio", store_dep],
            files: &[("src/main.rs", orders)],
        },
        ServiceCrate {
            name: "billing",
            dependencies: &["axum", "mongodb", "tokio", store_dep],
            files: &[("src/main.rs", billing)],
        },
    ];
    let found = check(&crates, None).of(RULE);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("line 9:") && found[0].contains("`billing` reads collection `orders`"),
        "{found:?}"
    );
}

#[test]
fn a_table_several_services_migrations_create_has_no_single_owner() {
    let reads = r#"
async fn report(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT status FROM orders").execute(pool).await?;
    Ok(())
}
fn main() {}
"#;
    let reporting_files = [("src/main.rs", reads)];
    let reporting = || ServiceCrate {
        name: "reporting",
        dependencies: AXUM,
        files: &reporting_files,
    };
    // billing keeps its own copy of the orders schema: the table is shared, not one
    // service's, and `shared-database` judges the services where they share a database.
    let copy = [
        ("src/main.rs", "fn main() {}\n"),
        ("migrations/0001_orders.sql", ORDERS_MIGRATION),
    ];
    let found = check(&[orders(), billing_reading(&copy), reporting()], None).of(RULE);
    assert!(found.is_empty(), "{found:?}");

    // With one owner, the same read is reported.
    let own = [("src/main.rs", "fn main() {}\n")];
    let found = check(&[orders(), billing_reading(&own), reporting()], None).of(RULE);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("service `reporting` reads table `orders`"),
        "{found:?}"
    );
}
