//! Function facts the behaviour rules rely on: transaction commits (and discarded ones), the
//! table of a diesel or sea-orm write, e-mail sends, publisher wrappers that are also calls,
//! SQL executions that are not calls into the project, requests to other services and the
//! idempotency keys a handler reads (not those it sends).

use std::fs;

use archlint::model::{EffectKind, Function, Model, StatementEffect};
use camino::Utf8PathBuf;

fn model_of(dependencies: &[&str], main: &str) -> Model {
    model_of_files(dependencies, &[("src/main.rs", main)])
}

fn model_of_files(dependencies: &[&str], files: &[(&str, &str)]) -> Model {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf())
        .unwrap_or_else(|p| panic!("non-UTF-8 temp dir {}", p.display()));
    let deps: String = dependencies
        .iter()
        .map(|d| format!("{d} = \"*\"\n"))
        .collect();
    fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"svc\"]\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    fs::create_dir_all(root.join("svc/src")).unwrap_or_else(|e| panic!("mkdir: {e}"));
    fs::write(
        root.join("svc/Cargo.toml"),
        format!("[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"),
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    for (path, text) in files {
        fs::write(root.join("svc").join(path), text).unwrap_or_else(|e| panic!("write: {e}"));
    }
    let (model, _) = archlint::analyze(&archlint::Options::new(root.join("Cargo.toml")))
        .unwrap_or_else(|e| panic!("analyze: {e}"));
    model
}

fn function<'m>(model: &'m Model, name: &str) -> &'m Function {
    model
        .functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function `{name}` in {:#?}", model.functions))
}

#[test]
fn commits_discarded_commits_and_sql_executions() {
    let model = model_of(
        &["axum", "sqlx", "tokio"],
        r#"
async fn save(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO orders (id) VALUES (1)").execute(&mut *tx).await?;
    tx.commit().await?;
    let mut other = pool.begin().await?;
    sqlx::query("UPDATE orders SET status = 'x'").execute(&mut *other).await?;
    let _ = other_tx(&mut other);
    let tx = pool.begin().await?;
    let _ = tx.commit().await;
    Ok(())
}
fn other_tx<T>(_: T) {}
fn main() {}
"#,
    );
    let save = function(&model, "save");
    let commits: Vec<bool> = save
        .effects
        .iter()
        .filter_map(|e| match e.kind {
            EffectKind::Commit { discarded } => Some(discarded),
            _ => None,
        })
        .collect();
    assert_eq!(commits, [false, true], "{:#?}", save.effects);
    assert!(
        !save
            .effects
            .iter()
            .any(|e| matches!(&e.kind, EffectKind::Call { name, .. } if name == "execute")),
        "{:#?}",
        save.effects
    );
}

#[test]
fn orm_writes_name_their_table() {
    let model = model_of(
        &["axum", "diesel", "diesel-async", "sea-orm", "tokio"],
        r#"
async fn write(conn: &mut Conn, db: &sea_orm::DatabaseConnection) {
    diesel::insert_into(transfers::table).values(&row).execute(conn).await.ok();
    diesel::update(accounts::table.find(1)).set(accounts::balance.eq(accounts::balance - 1)).execute(conn).await.ok();
    processed_message::ActiveModel { id: Set(1) }.insert(db).await.ok();
    inbox::Entity::insert(model).exec(db).await.ok();
}
fn main() {}
"#,
    );
    let apis: Vec<String> = function(&model, "write")
        .effects
        .iter()
        .filter_map(|e| match &e.kind {
            EffectKind::OrmWrite { api, .. } => Some(api.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        apis,
        [
            "diesel::insert_into(transfers)",
            "diesel::update(accounts)",
            "sea_orm insert(processed_message)",
            "inbox::Entity::insert(inbox)",
        ],
    );
}

#[test]
fn mail_sends_and_publisher_wrappers_are_calls() {
    let model = model_of(
        &["axum", "lettre", "tokio"],
        r#"
async fn notify(mailer: &Mailer, events: &Events) {
    mailer.send(email).await.ok();
    events.publish_order_placed(1).await.ok();
    publish_event("orders", 1).await.ok();
    client.send().await.ok();
}
fn main() {}
"#,
    );
    let effects = &function(&model, "notify").effects;
    let calls: Vec<(&str, Option<&str>)> = effects
        .iter()
        .filter_map(|e| match &e.kind {
            EffectKind::Call { name, receiver } => Some((name.as_str(), receiver.as_deref())),
            _ => None,
        })
        .collect();
    assert!(calls.contains(&("send", Some("mailer"))), "{calls:?}");
    assert!(!calls.contains(&("send", Some("client"))), "{calls:?}");
    for wrapper in ["publish_order_placed", "publish_event"] {
        let call = effects
            .iter()
            .find(|e| matches!(&e.kind, EffectKind::Call { name, .. } if name == wrapper))
            .unwrap_or_else(|| panic!("no call to {wrapper}: {effects:#?}"));
        assert!(
            effects
                .iter()
                .any(|e| matches!(e.kind, EffectKind::Publish { .. }) && e.span == call.span),
            "{wrapper} is a publish too: {effects:#?}"
        );
    }
}

#[test]
fn a_kafka_field_sending_a_record_built_earlier_is_a_publish() {
    let model = model_of(
        &["axum", "rdkafka", "tokio"],
        r#"
async fn announce(&self, id: &str) {
    let record = rdkafka::producer::FutureRecord::to("orders.placed").key(id).payload(id);
    self.kafka.send(record, std::time::Duration::from_secs(1)).await.ok();
}
fn main() {}
"#,
    );
    let destinations: Vec<Option<&str>> = function(&model, "announce")
        .effects
        .iter()
        .filter_map(|e| match &e.kind {
            EffectKind::Publish { destination, .. } => Some(destination.as_deref()),
            _ => None,
        })
        .collect();
    assert_eq!(destinations, [Some("orders.placed")]);
}

#[test]
fn sync_diesel_writes_are_writes_and_blocking() {
    let model = model_of(
        &["actix-web", "diesel", "r2d2"],
        r#"
fn save(conn: &mut diesel::PgConnection, row: &NewShipment) -> diesel::QueryResult<usize> {
    diesel::insert_into(shipments::table).values(row).execute(conn)
}
fn main() {}
"#,
    );
    let kinds: Vec<String> = function(&model, "save")
        .effects
        .iter()
        .map(|e| match &e.kind {
            EffectKind::OrmWrite { api, .. } => format!("write {api}"),
            EffectKind::Blocking { api } => format!("blocking {api}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "write diesel::insert_into(shipments)",
            "blocking diesel::RunQueryDsl::execute (sync connection)",
        ]
    );
}

#[test]
fn urls_joined_onto_a_base_are_remote_calls() {
    let model = model_of(
        &["axum", "reqwest", "url", "tokio"],
        r#"
struct ShippingClient { http: reqwest::Client, base: url::Url }
impl ShippingClient {
    async fn create_shipment(&self, order: u64) -> anyhow::Result<()> {
        self.http.post(self.base.join("/shipments")?).json(&order).send().await?;
        self.http.put(self.base.join(&format!("shipments/{order}/label"))?).send().await?;
        self.http.delete(url::Url::parse(&format!("{}/holds/{order}", self.base))?).send().await?;
        Ok(())
    }
}
fn main() {}
"#,
    );
    let remotes: Vec<(String, Option<String>)> = function(&model, "create_shipment")
        .effects
        .iter()
        .filter_map(|e| match &e.kind {
            EffectKind::Remote {
                operation, target, ..
            } => Some((operation.clone(), target.clone())),
            _ => None,
        })
        .collect();
    let base = Some("base".to_string());
    assert_eq!(
        remotes,
        [
            ("/shipments".to_string(), base.clone()),
            ("/shipments/{order}/label".to_string(), base.clone()),
            ("/holds/{order}".to_string(), base),
        ]
    );
}

fn effect_names(function: &Function) -> Vec<String> {
    function
        .effects
        .iter()
        .map(|e| match &e.kind {
            EffectKind::OrmWrite { api, .. } => format!("write {api}"),
            EffectKind::Blocking { api } => format!("blocking {api}"),
            EffectKind::Call { name, .. } => format!("call {name}"),
            EffectKind::IdempotencyKey => "idempotency key".to_string(),
            EffectKind::Remote {
                protocol,
                operation,
                target,
                ..
            } => format!("remote {protocol:?} {operation} on {target:?}"),
            EffectKind::Publish { destination, .. } => format!("publish {destination:?}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn idempotency_keys_sent_are_not_keys_read() {
    let model = model_of(
        &["axum", "reqwest", "tokio"],
        r#"
async fn charge(http: &reqwest::Client, headers: axum::http::HeaderMap) {
    let key = headers.get("Idempotency-Key");
    http.post("http://psp/charges").header("Idempotency-Key", uuid()).send().await.ok();
}
async fn refund(http: &reqwest::Client) {
    http.post("http://psp/refunds").header("Idempotency-Key", uuid()).send().await.ok();
}
fn uuid() -> String { String::new() }
fn main() {}
"#,
    );
    let reads = |name: &str| {
        effect_names(function(&model, name))
            .iter()
            .filter(|e| *e == "idempotency key")
            .count()
    };
    assert_eq!(reads("charge"), 1);
    assert_eq!(reads("refund"), 0);
}

#[test]
fn ureq_agent_requests_block_and_call() {
    let model = model_of(
        &["async-nats", "ureq", "tokio"],
        r#"
pub fn send(agent: &ureq::Agent, mailer_url: &str, body: &str) -> Result<(), ureq::Error> {
    agent.post(mailer_url).send_string(body)?;
    Ok(())
}
fn main() {}
"#,
    );
    assert_eq!(
        effect_names(function(&model, "send")),
        [
            "call send_string",
            "blocking ureq::Agent::post",
            "remote Http  on Some(\"mailer_url\")",
        ]
    );
}

#[test]
fn active_models_take_their_entity_from_the_binding() {
    let model = model_of(
        &["axum", "sea-orm", "tokio"],
        r#"
async fn mark_sent(db: &sea_orm::DatabaseConnection, row: outbox::Model) -> Result<(), sea_orm::DbErr> {
    let mut active: outbox::ActiveModel = row.into();
    active.published_at = Set(Some(now()));
    active.update(db).await?;
    let log = notification_log::ActiveModel { id: Set(1), ..Default::default() };
    log.insert(db).await?;
    Ok(())
}
fn main() {}
"#,
    );
    let writes: Vec<String> = effect_names(function(&model, "mark_sent"))
        .into_iter()
        .filter(|e| !e.starts_with("Event"))
        .collect();
    assert_eq!(
        writes,
        [
            "call now",
            "write sea_orm update(outbox)",
            "write sea_orm insert(notification_log)",
        ]
    );
}

#[test]
fn module_functions_named_like_std_methods_are_calls() {
    let model = model_of(
        &["axum", "tokio"],
        r#"
mod mailer { pub fn send(to: &str) {} }
async fn receipt(to: &str, mut queue: Vec<String>) {
    mailer::send(to);
    queue.push(to.to_string());
}
fn main() {}
"#,
    );
    assert_eq!(effect_names(function(&model, "receipt")), ["call send"]);
}

#[test]
fn publisher_wrappers_take_the_topic_from_any_argument() {
    let model = model_of(
        &["async-nats", "tokio"],
        r#"
const PAYMENT_REFUNDED: &str = "payments.v1.refunded";
async fn refund(js: &async_nats::jetstream::Context, event: &Refunded) -> anyhow::Result<()> {
    platform::publish_json(js, PAYMENT_REFUNDED, event).await?;
    Ok(())
}
fn main() {}
"#,
    );
    let names = effect_names(function(&model, "refund"));
    assert_eq!(
        names.first().map(String::as_str),
        Some("publish Some(\"payments.v1.refunded\")"),
        "{names:?}"
    );
}

#[test]
fn grpc_client_fields_declared_in_another_file_are_remote_calls() {
    let model = model_of_files(
        &["axum", "tonic", "tokio"],
        &[
            (
                "src/main.rs",
                r#"
mod routes;
#[derive(Clone)]
pub struct AppState {
    pub pricing: PricingClient<tonic::transport::Channel>,
}
fn main() {}
"#,
            ),
            (
                "src/routes.rs",
                r#"
pub async fn instant_buy(state: crate::AppState) -> Result<(), tonic::Status> {
    let mut pricing = state.pricing.clone();
    pricing.lock_quote(request()).await?;
    Ok(())
}
fn request() {}
"#,
            ),
        ],
    );
    assert_eq!(
        effect_names(function(&model, "instant_buy")),
        [
            "remote Grpc lock_quote on Some(\"pricing\")",
            "call request"
        ]
    );
}

#[test]
fn a_local_cloned_from_a_client_field_is_that_client() {
    // The client type is imported under another name.
    let model = model_of_files(
        &["axum", "tonic", "tokio"],
        &[
            (
                "src/main.rs",
                r#"
mod flights;
use proto::flights_client::FlightsClient as Grpc;
pub struct FlightsGateway {
    inner: Grpc<tonic::transport::Channel>,
}
fn main() {}
"#,
            ),
            (
                "src/flights.rs",
                r#"
impl crate::FlightsGateway {
    pub async fn hold(&self, seats: u32) -> Result<(), tonic::Status> {
        let mut c = self.inner.clone();
        c.reserve_seats(seats).await?;
        Ok(())
    }
}
"#,
            ),
        ],
    );
    assert_eq!(
        effect_names(function(&model, "hold")),
        ["remote Grpc reserve_seats on Some(\"inner\")"]
    );
}

#[test]
fn transactions_are_known_by_their_binding_whatever_the_name() {
    let model = model_of(
        &["axum", "sqlx", "tokio"],
        r#"
async fn archive(live: &sqlx::PgPool, arch: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    let mut t1 = live.begin().await?;
    let mut t2 = arch.begin().await?;
    t2.commit().await?;
    t1.commit().await?;
    let done = vec![1];
    done.commit();
    Ok(())
}
fn main() {}
"#,
    );
    let commits = function(&model, "archive")
        .effects
        .iter()
        .filter(|e| matches!(e.kind, EffectKind::Commit { .. }))
        .count();
    assert_eq!(commits, 2);
}

#[test]
fn blocking_clients_held_in_fields_and_locals_block() {
    let model = model_of(
        &["lapin", "reqwest", "tokio"],
        r#"
struct Notifier { http: reqwest::blocking::Client, base: String }
impl Notifier {
    async fn notify(&self, body: String) -> Result<(), reqwest::Error> {
        self.http.post(&self.base).body(body).send()?;
        Ok(())
    }
}
async fn ping(url: &str) -> Result<(), reqwest::Error> {
    let client = reqwest::blocking::Client::builder().build()?;
    client.get(url).send()?;
    let fast = reqwest::Client::new();
    fast.get(url).send().await?;
    Ok(())
}
fn main() {}
"#,
    );
    let blocking = |name: &str| -> Vec<String> {
        effect_names(function(&model, name))
            .into_iter()
            .filter(|e| e.starts_with("blocking"))
            .collect()
    };
    assert_eq!(
        blocking("notify"),
        ["blocking reqwest::blocking::Client::post"]
    );
    // Building the blocking client inside async code is itself a blocking call.
    assert_eq!(
        blocking("ping"),
        [
            "blocking reqwest::blocking::Client::builder",
            "blocking reqwest::blocking::Client::get",
        ]
    );
}

#[test]
fn diesel_upserts_that_add_to_a_column_are_relative() {
    let model = model_of(
        &["rdkafka", "diesel", "diesel-async", "tokio"],
        r#"
async fn count(conn: &mut Conn, sku: &str) -> QueryResult<usize> {
    diesel::insert_into(stock::table)
        .values((stock::sku.eq(sku), stock::qty.eq(1)))
        .on_conflict(stock::sku)
        .do_update()
        .set(stock::qty.eq(stock::qty + 1))
        .execute(conn)
        .await?;
    diesel::insert_into(prices::table)
        .values(&row)
        .on_conflict(prices::sku)
        .do_update()
        .set(prices::amount.eq(excluded(prices::amount)))
        .execute(conn)
        .await
}
fn main() {}
"#,
    );
    let effects: Vec<StatementEffect> = function(&model, "count")
        .effects
        .iter()
        .filter_map(|e| match &e.kind {
            EffectKind::OrmWrite { effect, .. } => Some(*effect),
            _ => None,
        })
        .collect();
    assert_eq!(
        effects,
        [StatementEffect::RelativeUpdate, StatementEffect::Upsert]
    );
}

#[test]
fn events_matched_by_let_else_and_if_let_are_handled() {
    let model = model_of(
        &["lapin", "tokio"],
        r#"
async fn on_payment(body: &[u8]) -> anyhow::Result<()> {
    let PaymentEvent::Succeeded { order_id, .. } = serde_json::from_slice(body)? else {
        return Ok(());
    };
    Ok(())
}
async fn on_order(event: OrderEvent) {
    if let OrderEvent::Cancelled { id } = event {
        release(id).await;
    }
    if let Some(id) = lookup() {
        release(id).await;
    }
}
async fn release(id: u64) {}
fn lookup() -> Option<u64> { None }
fn main() {}
"#,
    );
    let matched = |name: &str| -> Vec<String> {
        function(&model, name)
            .effects
            .iter()
            .filter_map(|e| match &e.kind {
                EffectKind::Event { name, role } if format!("{role:?}") == "Matched" => {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(matched("on_payment"), ["PaymentEvent::Succeeded"]);
    assert_eq!(matched("on_order"), ["OrderEvent::Cancelled"]);
}

#[test]
fn poem_and_salvo_routes_are_registrations() {
    let routes = |deps: &[&str], main: &str| -> Vec<String> {
        model_of(deps, main)
            .routes
            .iter()
            .map(|r| format!("{:?} {:?} {}", r.method, r.path, r.handler))
            .collect()
    };
    let poem = routes(
        &["poem", "tokio"],
        r#"
fn app() -> poem::Route {
    poem::Route::new()
        .at("/vehicles/:id/trips", poem::post(add_trip).get(list_trips))
}
fn main() {}
"#,
    );
    assert_eq!(
        poem,
        [
            "Post Some(\"/vehicles/:id/trips\") add_trip",
            "Get Some(\"/vehicles/:id/trips\") list_trips",
        ]
    );
    let salvo = routes(
        &["salvo", "tokio"],
        r#"
fn router() -> Router {
    Router::new()
        .push(Router::with_path("invoices").post(create_invoice).get(list_invoices))
        .push(Router::new().path("refunds").post(refund))
}
fn main() {}
"#,
    );
    // Chained handlers are met from the outermost call in.
    assert_eq!(
        salvo,
        [
            "Get Some(\"invoices\") list_invoices",
            "Post Some(\"invoices\") create_invoice",
            "Post Some(\"refunds\") refund",
        ]
    );
}

#[test]
fn log_lines_are_read_for_database_urls_and_idempotency_keys() {
    let model = model_of(
        &["axum", "sqlx", "tokio", "tracing"],
        r#"
async fn connect() {
    tracing::info!(url = "postgres://orders-db:5432/orders", "connecting");
}
async fn handle(cmd: Command) {
    tracing::info!("handling {} with key {}", cmd.id, cmd.idempotency_key);
}
async fn quiet(order: Order) {
    tracing::info!(id = %order.id, "handling {} of {}", order.total, "postgres");
}
fn main() {}
"#,
    );
    assert!(
        model
            .connections
            .iter()
            .any(|c| c.target.database.as_deref() == Some("orders")),
        "{:#?}",
        model.connections
    );
    let reads_key = |name: &str| {
        model
            .functions
            .iter()
            .filter(|f| f.name == name)
            .flat_map(|f| &f.effects)
            .any(|e| matches!(e.kind, EffectKind::IdempotencyKey))
    };
    assert!(reads_key("handle"));
    assert!(!reads_key("quiet"));
}
