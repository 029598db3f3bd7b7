//! `missing-compensation` on workspaces written from strings: orchestrated sagas (reqwest,
//! tonic and typed clients), step objects and choreographies, each positive case next to the
//! look-alike that must stay silent; and the extractor facts the rule depends on.

mod behaviour_support;
use behaviour_support::*;

use archlint::model::{EffectKind, EventRole, PathContext, RemoteProtocol};

const RULE: &str = "missing-compensation";

const HTTP_DEPS: &[&str] = &["axum", "reqwest", "serde", "serde_json", "tokio", "uuid"];

/// Typed HTTP clients of inventory and payments, used by the orchestrated sagas below.
const CLIENTS: &str = r#"
pub struct InventoryClient { http: reqwest::Client, base_url: String }

impl InventoryClient {
    pub async fn reserve_stock(&self, order_id: u64, qty: u32) -> reqwest::Result<u64> {
        self.http
            .post(format!("{}/reservations", self.base_url))
            .json(&serde_json::json!({ "order_id": order_id, "qty": qty }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    pub async fn release_stock(&self, reservation: u64) -> reqwest::Result<()> {
        self.http
            .delete(format!("{}/reservations/{}", self.base_url, reservation))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

impl InventoryClient {
    pub async fn batch_reserve_stock(&self, order_id: u64, qty: u32) -> reqwest::Result<u64> {
        self.http
            .post(format!("{}/reservations/batch", self.base_url))
            .json(&serde_json::json!({ "order_id": order_id, "qty": qty }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

pub struct PaymentsClient { http: reqwest::Client, base_url: String }

impl PaymentsClient {
    pub async fn charge_card(&self, order_id: u64, cents: i64) -> reqwest::Result<u64> {
        self.http
            .post(format!("{}/charges", self.base_url))
            .json(&serde_json::json!({ "order_id": order_id, "cents": cents }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    pub async fn refund(&self, charge: u64) -> reqwest::Result<()> {
        self.http
            .post(format!("{}/charges/{}/refund", self.base_url, charge))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

pub struct ShippingClient { http: reqwest::Client, base_url: String }

impl ShippingClient {
    pub async fn book_shipment(&self, order_id: u64) -> reqwest::Result<u64> {
        self.http
            .post(format!("{}/shipments", self.base_url))
            .json(&serde_json::json!({ "order_id": order_id }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}
"#;

fn checkout(saga: &str) -> Vec<String> {
    let main = format!("mod clients;\nuse clients::*;\n\nfn main() {{}}\n\n{saga}");
    check(
        &[ServiceCrate {
            name: "checkout",
            dependencies: HTTP_DEPS,
            files: &[("src/main.rs", &main), ("src/clients.rs", CLIENTS)],
        }],
        None,
    )
    .of(RULE)
}

const SAGA_STRUCT: &str = r#"
pub struct Checkout {
    inventory: InventoryClient,
    payments: PaymentsClient,
    shipping: ShippingClient,
}
"#;

#[test]
fn orchestrated_saga_without_compensation_is_one_finding_naming_each_undone_step() {
    let saga = format!(
        "{SAGA_STRUCT}{}",
        r#"
impl Checkout {
    pub async fn place_order(&self, order_id: u64) -> Result<(), reqwest::Error> {
        let reservation = self.inventory.reserve_stock(order_id, 2).await?;
        let charge = self.payments.charge_card(order_id, 1200).await?;
        self.shipping.book_shipment(order_id).await?;
        Ok(())
    }
}
"#
    );
    let found = checkout(&saga);
    // One saga function, one finding: at its first undone step, naming the second.
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`reserve_stock` (step 1 of `place_order`")
            && found[0].contains("`charge_card` (step 2) fails")
            && found[0].contains("`release`"),
        "{found:#?}"
    );
    assert!(
        found[0].contains("nor is `charge_card` (step 2) when `book_shipment` (step 3) fails")
            && found[0].contains("`refund`"),
        "{found:#?}"
    );
}

#[test]
fn error_arms_that_release_and_refund_are_silent() {
    let saga = format!(
        "{SAGA_STRUCT}{}",
        r#"
impl Checkout {
    pub async fn place_order(&self, order_id: u64) -> Result<(), reqwest::Error> {
        let reservation = self.inventory.reserve_stock(order_id, 2).await?;
        let charge = match self.payments.charge_card(order_id, 1200).await {
            Ok(charge) => charge,
            Err(error) => {
                let _ = self.inventory.release_stock(reservation).await;
                return Err(error);
            }
        };
        if let Err(error) = self.shipping.book_shipment(order_id).await {
            let _ = self.payments.refund(charge).await;
            let _ = self.inventory.release_stock(reservation).await;
            return Err(error);
        }
        Ok(())
    }
}
"#
    );
    assert_eq!(checkout(&saga), Vec::<String>::new());
}

#[test]
fn an_error_arm_that_forgets_the_reservation_is_flagged_even_if_a_later_arm_releases_it() {
    let saga = format!(
        "{SAGA_STRUCT}{}",
        r#"
impl Checkout {
    pub async fn place_order(&self, order_id: u64) -> Result<(), reqwest::Error> {
        let reservation = self.inventory.reserve_stock(order_id, 2).await?;
        let charge = match self.payments.charge_card(order_id, 1200).await {
            Ok(charge) => charge,
            Err(error) => {
                tracing::warn!("charge failed");
                self.audit(order_id).await;
                return Err(error);
            }
        };
        if let Err(error) = self.shipping.book_shipment(order_id).await {
            let _ = self.payments.refund(charge).await;
            let _ = self.inventory.release_stock(reservation).await;
            return Err(error);
        }
        Ok(())
    }

    async fn audit(&self, order_id: u64) {}
}
"#
    );
    let found = checkout(&saga);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`reserve_stock` (step 1")
            && found[0].contains("`charge_card` (step 2) fails"),
        "{found:#?}"
    );
}

#[test]
fn an_error_arm_that_only_refunds_leaves_the_reservation_flagged() {
    let saga = format!(
        "{SAGA_STRUCT}{}",
        r#"
impl Checkout {
    pub async fn place_order(&self, order_id: u64) -> Result<(), reqwest::Error> {
        let reservation = self.inventory.reserve_stock(order_id, 2).await?;
        let charge = self.payments.charge_card(order_id, 1200).await?;
        self.shipping
            .book_shipment(order_id)
            .await
            .map_err(|e| { let _ = self.payments.refund(charge); e })?;
        Ok(())
    }
}
"#
    );
    let found = checkout(&saga);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`reserve_stock` (step 1"), "{found:#?}");
}

#[test]
fn a_lifo_stack_of_undo_closures_is_silent() {
    let saga = format!(
        "{SAGA_STRUCT}{}",
        r#"
type Undo<'a> = Box<dyn FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> + 'a>;

impl Checkout {
    pub async fn place_order(&self, order_id: u64) -> Result<(), reqwest::Error> {
        let mut undo: Vec<Undo<'_>> = Vec::new();
        let result = async {
            let reservation = self.inventory.reserve_stock(order_id, 2).await?;
            undo.push(Box::new(move || Box::pin(async move {
                let _ = self.inventory.release_stock(reservation).await;
            })));
            let charge = self.payments.charge_card(order_id, 1200).await?;
            undo.push(Box::new(move || Box::pin(async move {
                let _ = self.payments.refund(charge).await;
            })));
            self.shipping.book_shipment(order_id).await?;
            Ok::<(), reqwest::Error>(())
        }
        .await;
        if let Err(error) = result {
            while let Some(step) = undo.pop() {
                step().await;
            }
            return Err(error);
        }
        Ok(())
    }
}
"#
    );
    assert_eq!(checkout(&saga), Vec::<String>::new());
    // Without the refund on the stack, the charge stays when the shipment fails.
    let without_refund = saga.replace("let _ = self.payments.refund(charge).await;", "");
    let found = checkout(&without_refund);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`charge_card` (step 2"), "{found:#?}");
}

#[test]
fn one_compensation_struct_per_undo_is_silent() {
    let saga = format!(
        "{SAGA_STRUCT}{}",
        r#"
pub struct ReleaseStock { reservation: u64 }
pub struct RefundCharge { charge: u64 }

impl Checkout {
    pub async fn place_order(&self, order_id: u64) -> Result<(), reqwest::Error> {
        let mut compensations: Vec<Box<dyn std::any::Any>> = Vec::new();
        let reservation = self.inventory.reserve_stock(order_id, 2).await?;
        compensations.push(Box::new(ReleaseStock { reservation }));
        let charge = self.payments.charge_card(order_id, 1200).await?;
        compensations.push(Box::new(RefundCharge { charge }));
        self.shipping.book_shipment(order_id).await?;
        Ok(())
    }
}
"#
    );
    assert_eq!(checkout(&saga), Vec::<String>::new());
    let without_release = saga.replace(
        "compensations.push(Box::new(ReleaseStock { reservation }));",
        "",
    );
    let found = checkout(&without_release);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`reserve_stock` (step 1"), "{found:#?}");
}

#[test]
fn a_caller_that_compensates_on_failure_or_a_drop_guard_is_silent() {
    let saga = format!(
        "{SAGA_STRUCT}{}",
        r#"
impl Checkout {
    async fn steps(&self, order_id: u64) -> Result<(), reqwest::Error> {
        self.inventory.reserve_stock(order_id, 2).await?;
        self.payments.charge_card(order_id, 1200).await?;
        Ok(())
    }

    pub async fn place_order(&self, order_id: u64) -> Result<(), reqwest::Error> {
        if let Err(error) = self.steps(order_id).await {
            self.compensate_all(order_id).await;
            return Err(error);
        }
        Ok(())
    }

    async fn compensate_all(&self, order_id: u64) {}
}
"#
    );
    assert_eq!(checkout(&saga), Vec::<String>::new());

    let guarded = format!(
        "{SAGA_STRUCT}{}",
        r#"
pub struct ReservationGuard { inventory: InventoryClient, reservation: u64, armed: bool }

impl Drop for ReservationGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.inventory.release_stock(self.reservation);
        }
    }
}

impl Checkout {
    pub async fn place_order(&self, order_id: u64) -> Result<(), reqwest::Error> {
        let reservation = self.inventory.reserve_stock(order_id, 2).await?;
        self.payments.charge_card(order_id, 1200).await?;
        Ok(())
    }
}
"#
    );
    assert_eq!(checkout(&guarded), Vec::<String>::new());
}

/// Durable-execution style (restate, temporal): steps in `ctx.run(..)`, one compensation
/// value per step, drained in reverse on error.
const WORKFLOW: &str = r#"
fn main() {}
pub struct TripSaga { flight_client: FlightClient, car_client: CarClient, payment_client: PaymentClient }

impl TripSaga {
    // restate style: compensations collected as an enum, drained in reverse on error
    pub async fn run(&self, ctx: Context, trip: Trip) -> Result<(), TerminalError> {
        let mut compensations: Vec<Compensation> = Vec::new();
        let res = async {
            let flight = ctx.run(|| self.flight_client.reserve_flight(trip.id)).await?;
            compensations.push(Compensation::CancelFlight(flight));
            let car = ctx.run(|| self.car_client.reserve_car(trip.id)).await?;
            compensations.push(Compensation::CancelCar(car));
            ctx.run(|| self.payment_client.charge_payment(trip.id)).await?;
            Ok(())
        }.await;
        if let Err(e) = res {
            for c in compensations.into_iter().rev() {
                ctx.run(|| c.apply()).await?;
            }
            return Err(e);
        }
        Ok(())
    }
}
"#;

#[test]
fn workflow_steps_with_registered_compensations_are_silent() {
    let run = |source: &str| {
        check(
            &[ServiceCrate {
                name: "trips",
                dependencies: &["axum", "restate-sdk", "tokio", "anyhow"],
                files: &[("src/main.rs", source)],
            }],
            None,
        )
        .of(RULE)
    };
    assert_eq!(run(WORKFLOW), Vec::<String>::new());
    // The car's compensation is never registered: draining the stack does not cancel it.
    let buggy = WORKFLOW.replace("compensations.push(Compensation::CancelCar(car));", "");
    let found = run(&buggy);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`reserve_car` (step 2 of `run`)")
            && found[0].contains("`charge_payment` (step 3) fails"),
        "{found:#?}"
    );
}

#[test]
fn reqwest_calls_in_the_saga_itself_are_steps() {
    let saga = r#"
pub async fn book_trip(http: &reqwest::Client, flights_url: &str, payments_url: &str) -> reqwest::Result<()> {
    http.post(format!("{flights_url}/seats/{}/reserve", 7)).send().await?.error_for_status()?;
    http.post(format!("{payments_url}/charges")).send().await?.error_for_status()?;
    Ok(())
}
"#;
    let found = checkout(saga);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`POST /seats/{}/reserve` (step 1 of `book_trip`)")
            && found[0].contains("`POST /charges` (step 2) fails"),
        "{found:#?}"
    );

    let compensated = r#"
pub async fn book_trip(http: &reqwest::Client, flights_url: &str, payments_url: &str) -> reqwest::Result<()> {
    http.post(format!("{flights_url}/seats/{}/reserve", 7)).send().await?.error_for_status()?;
    if let Err(error) = http.post(format!("{payments_url}/charges")).send().await {
        http.post(format!("{flights_url}/seats/{}/release", 7)).send().await?;
        return Err(error);
    }
    Ok(())
}
"#;
    assert_eq!(checkout(compensated), Vec::<String>::new());
}

#[test]
fn a_later_step_whose_failure_is_ignored_does_not_fail_the_saga() {
    let saga = r#"
pub struct Checkout { payments: PaymentsClient, email_client: mailer::Client }

impl Checkout {
    pub async fn pay(&self, order_id: u64) -> Result<(), reqwest::Error> {
        self.payments.charge_card(order_id, 1200).await?;
        let _ = self.email_client.send_receipt(order_id).await;
        Ok(())
    }

    pub async fn pay_and_notify(&self, order_id: u64) -> Result<(), reqwest::Error> {
        self.payments.charge_card(order_id, 1200).await?;
        self.email_client.send_receipt(order_id).await?;
        Ok(())
    }
}
"#;
    let found = checkout(saga);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("step 1 of `pay_and_notify`")
            && found[0].contains("`send_receipt` (step 2) fails"),
        "{found:#?}"
    );
}

#[test]
fn notifications_actions_and_infrastructure_clients_need_no_undo() {
    let saga = r#"
pub async fn confirm(http: &reqwest::Client, orders_url: &str, notify_url: &str, cache_client: &CacheClient) -> reqwest::Result<()> {
    http.post(format!("{notify_url}/notifications")).send().await?;
    http.post(format!("{orders_url}/orders/{}/confirm", 7)).send().await?;
    cache_client.book_slot(7).await?;
    http.post(format!("{orders_url}/orders/{}/ship", 7)).send().await?;
    Ok(())
}
"#;
    assert_eq!(checkout(saga), Vec::<String>::new());
}

#[test]
fn reads_and_single_steps_are_not_sagas() {
    let saga = format!(
        "{SAGA_STRUCT}{}",
        r#"
impl Checkout {
    pub async fn reserve_only(&self, order_id: u64) -> Result<(), reqwest::Error> {
        self.inventory.reserve_stock(order_id, 2).await?;
        Ok(())
    }
}
"#
    );
    assert_eq!(checkout(&saga), Vec::<String>::new());
}

const GRPC_SAGA: &str = r#"
use tonic::transport::Channel;
use travel::flights_client::FlightsClient;
use travel::payments_client::PaymentsClient;
use travel::hotels_client::HotelsClient;

fn main() {}

pub struct TripBooker {
    flights: FlightsClient<Channel>,
    payments: PaymentsClient<Channel>,
    hotels: HotelsClient<Channel>,
}

impl TripBooker {
    pub async fn book_trip(&self, trip: u64) -> Result<(), tonic::Status> {
        let seat = self.flights.clone().reserve_seat(trip).await?.into_inner();
        let auth = self.payments.clone().authorize_payment(trip).await?.into_inner();
        BODY
        Ok(())
    }
}
"#;

fn grpc(body: &str) -> Vec<String> {
    let main = GRPC_SAGA.replace("BODY", body);
    check(
        &[ServiceCrate {
            name: "bookings",
            dependencies: &["tonic", "prost", "tokio"],
            files: &[("src/main.rs", &main)],
        }],
        None,
    )
    .of(RULE)
}

#[test]
fn tonic_saga_without_compensation_is_flagged() {
    let found = grpc("self.hotels.clone().book_room(trip).await?;");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`reserve_seat` (step 1 of `book_trip`)")
            && found[0].contains("`authorize_payment` (step 2) fails"),
        "{found:#?}"
    );
    assert!(
        found[0].contains("nor is `authorize_payment` (step 2) when `book_room` (step 3) fails")
            && found[0].contains("`void`"),
        "{found:#?}"
    );
}

#[test]
fn tonic_saga_that_releases_and_voids_is_silent() {
    let found = grpc(
        r#"if let Err(status) = self.hotels.clone().book_room(trip).await {
            let _ = self.payments.clone().void_payment(auth).await;
            let _ = self.flights.clone().release_seat(seat).await;
            return Err(status);
        }"#,
    );
    // A compensation on an error path after the step counts for it.
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn typed_client_fields_named_client_are_steps() {
    let main = r#"
fn main() {}

pub struct Orders { stock_client: inventory_api::Client, billing_client: billing_api::Client }

impl Orders {
    pub async fn place(&self, id: u64) -> anyhow::Result<()> {
        self.stock_client.hold_items(id).await?;
        self.billing_client.debit_account(id).await?;
        Ok(())
    }

    pub async fn place_safely(&self, id: u64) -> anyhow::Result<()> {
        self.stock_client.hold_items(id).await?;
        self.billing_client.debit_account(id).await.map_err(|e| {
            let _ = self.stock_client.release_items(id);
            e
        })?;
        Ok(())
    }
}
"#;
    let found = check(
        &[ServiceCrate {
            name: "orders",
            dependencies: &["axum", "tokio", "anyhow"],
            files: &[("src/main.rs", main)],
        }],
        None,
    )
    .of(RULE);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`hold_items` (step 1 of `place`)")
            && found[0].contains("`debit_account` (step 2) fails"),
        "{found:#?}"
    );
}

#[test]
fn configured_pairs_add_compensations() {
    let main = r#"
fn main() {}

pub struct Fulfil { warehouse_client: wh::Client, carrier_client: carrier::Client }

impl Fulfil {
    pub async fn run(&self, id: u64) -> anyhow::Result<()> {
        self.warehouse_client.pick_parcel(id).await?;
        self.carrier_client.collect_parcel(id).await?;
        Ok(())
    }

    pub async fn run_safely(&self, id: u64) -> anyhow::Result<()> {
        self.warehouse_client.pick_parcel(id).await?;
        if let Err(e) = self.carrier_client.collect_parcel(id).await {
            self.warehouse_client.restock_parcel(id).await?;
            return Err(e);
        }
        Ok(())
    }
}
"#;
    let crates = [ServiceCrate {
        name: "fulfilment",
        dependencies: &["axum", "tokio", "anyhow"],
        files: &[("src/main.rs", main)],
    }];
    // `pick` has no built-in compensation: nothing to judge.
    assert_eq!(check(&crates, None).of(RULE), Vec::<String>::new());
    let found = check(&crates, Some("[compensations]\npick = [\"restock\"]\n")).of(RULE);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`pick_parcel` (step 1 of `run`)") && found[0].contains("`restock`"),
        "{found:#?}"
    );
}

const STEPS: &str = r#"
fn main() {}

#[async_trait::async_trait]
pub trait SagaStep {
    async fn execute(&self, trip: u64) -> Result<(), reqwest::Error>;
    async fn compensate(&self, trip: u64) -> Result<(), reqwest::Error>;
}

pub struct BookHotel { http: reqwest::Client }

#[async_trait::async_trait]
impl SagaStep for BookHotel {
    async fn execute(&self, trip: u64) -> Result<(), reqwest::Error> {
        self.http.post(format!("{}/bookings", "http://hotels")).send().await?;
        Ok(())
    }

    async fn compensate(&self, trip: u64) -> Result<(), reqwest::Error> {
        COMPENSATE
    }
}

pub struct CheckAvailability;

#[async_trait::async_trait]
impl SagaStep for CheckAvailability {
    async fn execute(&self, trip: u64) -> Result<(), reqwest::Error> {
        tracing::info!(trip, "checking");
        Ok(())
    }

    async fn compensate(&self, _trip: u64) -> Result<(), reqwest::Error> {
        Ok(())
    }
}
"#;

fn steps(compensate: &str) -> Vec<String> {
    let main = STEPS.replace("COMPENSATE", compensate);
    check(
        &[ServiceCrate {
            name: "trips",
            dependencies: &["axum", "reqwest", "tokio", "async-trait", "tracing"],
            files: &[("src/main.rs", &main)],
        }],
        None,
    )
    .of(RULE)
}

#[test]
fn step_object_with_empty_compensate_is_flagged() {
    let found = steps("// TODO: cancel\n        Ok(())");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`BookHotel::compensate` does nothing")
            && found[0].contains("`BookHotel::execute`")
            && found[0].contains("POST /bookings"),
        "{found:#?}"
    );
    assert_eq!(steps("todo!()").len(), 1);
}

#[test]
fn step_object_writing_in_the_given_transaction_is_silent() {
    let main = r#"
fn main() {}

pub struct ReserveSeat;

impl SagaStep for ReserveSeat {
    async fn execute(&self, tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> sqlx::Result<()> {
        sqlx::query("UPDATE seats SET held = held + 1 WHERE id = 1").execute(&mut **tx).await?;
        Ok(())
    }

    async fn compensate(&self, _tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> sqlx::Result<()> {
        Ok(())
    }
}

pub struct HoldRoom;

impl SagaStep for HoldRoom {
    async fn execute(&self, pool: &sqlx::PgPool) -> sqlx::Result<()> {
        sqlx::query("UPDATE rooms SET held = held + 1 WHERE id = 1").execute(pool).await?;
        Ok(())
    }

    async fn compensate(&self, _pool: &sqlx::PgPool) -> sqlx::Result<()> {
        Ok(())
    }
}
"#;
    let found = check(
        &[ServiceCrate {
            name: "trips",
            dependencies: &["axum", "sqlx", "tokio"],
            files: &[("src/main.rs", main)],
        }],
        None,
    )
    .of(RULE);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`HoldRoom::compensate`") && found[0].contains("UPDATE rooms"),
        "{found:#?}"
    );
}

#[test]
fn step_object_that_cancels_is_silent() {
    let found = steps(
        r#"self.http.post(format!("{}/bookings/{}/cancel", "http://hotels", trip)).send().await?;
        Ok(())"#,
    );
    assert_eq!(found, Vec::<String>::new());
}

const ORDERS: &str = r#"
use serde::Serialize;

#[derive(Serialize)]
pub struct OrderPlaced { pub order_id: u64 }

fn main() {}

pub async fn place(producer: &rdkafka::producer::FutureProducer, id: u64) {
    let event = OrderPlaced { order_id: id };
    publish(producer, "orders.placed", &event).await;
}
"#;

const PAYMENTS: &str = r#"
use serde::Serialize;

#[derive(Serialize)]
pub struct PaymentFailed { pub order_id: u64 }
#[derive(Serialize)]
pub struct PaymentCaptured { pub order_id: u64 }

fn main() {}

pub async fn on_message(msg: &rdkafka::message::BorrowedMessage<'_>, db: &sqlx::PgPool) -> anyhow::Result<()> {
    match msg.topic() {
        "inventory.stock_reserved" => {
            let failed = PaymentFailed { order_id: 1 };
            publish("payments.failed", &failed).await;
        }
        _ => {}
    }
    Ok(())
}
"#;

fn inventory(extra_arm: &str) -> String {
    format!(
        r#"
use serde::Serialize;

#[derive(Serialize)]
pub struct StockReserved {{ pub order_id: u64 }}

fn main() {{}}

pub async fn on_message(msg: &rdkafka::message::BorrowedMessage<'_>, db: &sqlx::PgPool) -> anyhow::Result<()> {{
    match msg.topic() {{
        "orders.placed" => {{
            reserve_stock(db, 1).await?;
        }}
        {extra_arm}
        _ => {{}}
    }}
    Ok(())
}}

async fn reserve_stock(db: &sqlx::PgPool, order: i64) -> anyhow::Result<()> {{
    sqlx::query("UPDATE stock SET reserved = reserved + 1 WHERE order_id = $1")
        .bind(order)
        .execute(db)
        .await?;
    let event = StockReserved {{ order_id: 1 }};
    publish("inventory.stock_reserved", &event).await;
    Ok(())
}}

async fn release_stock(db: &sqlx::PgPool, order: i64) -> anyhow::Result<()> {{
    sqlx::query("UPDATE stock SET reserved = reserved - 1 WHERE order_id = $1")
        .bind(order)
        .execute(db)
        .await?;
    Ok(())
}}
"#
    )
}

fn choreography(inventory_main: &str) -> Vec<String> {
    let deps: &[&str] = &["rdkafka", "sqlx", "serde", "anyhow", "tokio"];
    check(
        &[
            ServiceCrate {
                name: "orders",
                dependencies: deps,
                files: &[("src/main.rs", ORDERS)],
            },
            ServiceCrate {
                name: "inventory",
                dependencies: deps,
                files: &[("src/main.rs", inventory_main)],
            },
            ServiceCrate {
                name: "payments",
                dependencies: deps,
                files: &[("src/main.rs", PAYMENTS)],
            },
        ],
        None,
    )
    .of(RULE)
}

#[test]
fn choreography_that_ignores_payment_failed_is_flagged() {
    let found = choreography(&inventory(""));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("service `inventory` runs `reserve_stock` on `orders.placed`")
            && found[0].contains("`PaymentFailed` (from `payments`)")
            && found[0].contains("`release`"),
        "{found:#?}"
    );
}

#[test]
fn choreography_that_releases_on_payment_failed_is_silent() {
    let found = choreography(&inventory(
        r#""payments.failed" => { release_stock(db, 1).await?; }"#,
    ));
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn choreography_that_only_logs_payment_failed_is_flagged() {
    let found = choreography(&inventory(
        r#""payments.failed" => { tracing::warn!("payment failed"); }"#,
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("does nothing on `payments.failed`"),
        "{found:#?}"
    );
}

#[test]
fn choreography_without_failure_events_in_the_flow_is_silent() {
    // Nobody downstream of inventory publishes a failure: nothing to react to.
    let payments = PAYMENTS.replace("PaymentFailed", "PaymentCompleted");
    let payments = payments.replace("payments.failed", "payments.completed");
    let deps: &[&str] = &["rdkafka", "sqlx", "serde", "anyhow", "tokio"];
    let inventory_main = inventory("");
    let found = check(
        &[
            ServiceCrate {
                name: "orders",
                dependencies: deps,
                files: &[("src/main.rs", ORDERS)],
            },
            ServiceCrate {
                name: "inventory",
                dependencies: deps,
                files: &[("src/main.rs", &inventory_main)],
            },
            ServiceCrate {
                name: "payments",
                dependencies: deps,
                files: &[("src/main.rs", &payments)],
            },
        ],
        None,
    )
    .of(RULE);
    assert_eq!(found, Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Extractor facts the rule relies on.

fn model_of(name: &str, dependencies: &[&str], main: &str) -> archlint::model::Model {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let root = dir.path();
    let write = |path: std::path::PathBuf, text: &str| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write: {e}"));
    };
    write(
        root.join("Cargo.toml"),
        &format!("[workspace]\nresolver = \"2\"\nmembers = [\"{name}\"]\n"),
    );
    let deps: String = dependencies
        .iter()
        .map(|d| format!("{d} = \"*\"\n"))
        .collect();
    write(
        root.join(name).join("Cargo.toml"),
        &format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"),
    );
    write(root.join(name).join("src/main.rs"), main);
    let manifest = camino::Utf8PathBuf::from_path_buf(root.join("Cargo.toml"))
        .unwrap_or_else(|p| panic!("non-UTF-8 path {}", p.display()));
    let (model, _) = archlint::analyze(&archlint::Options::new(manifest))
        .unwrap_or_else(|e| panic!("analyze failed: {e}"));
    model
}

#[test]
fn generic_client_fields_are_grpc_clients() {
    let model = model_of(
        "bookings",
        &["tonic", "tokio"],
        r#"
fn main() {}
pub struct Booker { flights: FlightsClient<Channel>, name: String, cache: Cache<String> }
impl Booker {
    pub async fn book(&self) {
        self.flights.clone().reserve_seat(1).await;
        self.cache.reserve_slot(1).await;
    }
}
"#,
    );
    let book = model
        .functions
        .iter()
        .find(|f| f.name == "book")
        .unwrap_or_else(|| panic!("no `book` in {:#?}", model.functions));
    let remotes: Vec<&str> = book
        .effects
        .iter()
        .filter_map(|e| match &e.kind {
            EffectKind::Remote {
                protocol: RemoteProtocol::Grpc,
                operation,
                ..
            } => Some(operation.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(remotes, ["reserve_seat"], "{:#?}", book.effects);
}

#[test]
fn payloads_registered_as_compensations_are_kept() {
    let model = model_of(
        "orders",
        &["axum", "tokio"],
        r#"
fn main() {}
pub struct ReleaseStock { id: u64 }
pub fn plan(stack: &mut Vec<Box<ReleaseStock>>) {
    stack.push(Box::new(ReleaseStock { id: 1 }));
    let local = ReleaseStock { id: 2 };
}
"#,
    );
    let plan = model
        .functions
        .iter()
        .find(|f| f.name == "plan")
        .unwrap_or_else(|| panic!("no `plan` in {:#?}", model.functions));
    let names: Vec<(&str, PathContext)> = plan
        .effects
        .iter()
        .filter_map(|e| match &e.kind {
            EffectKind::Event {
                name,
                role: EventRole::Constructed,
            } => Some((name.as_str(), e.context)),
            _ => None,
        })
        .collect();
    // The payload pushed on the stack is kept; the one only built locally is not.
    assert!(
        names.contains(&("ReleaseStock", PathContext::Deferred))
            && names
                .iter()
                .all(|(_, context)| *context == PathContext::Deferred),
        "{names:?}"
    );
}

#[test]
fn subject_constants_in_match_arms_are_handled_events() {
    let model = model_of(
        "inventory",
        &["async-nats", "tokio"],
        r#"
fn main() {}
mod subjects {
    pub const ORDER_PLACED: &str = "orders.v1.placed";
}
const ORDER_CANCELLED: &str = "orders.v1.cancelled";
pub async fn dispatch(subject: &str, status: StatusCode) {
    match subject {
        subjects::ORDER_PLACED => reserve().await,
        ORDER_CANCELLED => release().await,
        _ => {}
    }
    match status {
        StatusCode::NOT_FOUND => missing().await,
        _ => {}
    }
}
"#,
    );
    let dispatch = model
        .functions
        .iter()
        .find(|f| f.name == "dispatch")
        .unwrap_or_else(|| panic!("no `dispatch` in {:#?}", model.functions));
    let matched: Vec<&str> = dispatch
        .effects
        .iter()
        .filter_map(|e| match &e.kind {
            EffectKind::Event {
                name,
                role: EventRole::Matched,
            } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    // The value when the constant is known in the file, else the constant's name; an
    // associated constant of a type is no subject.
    assert!(
        !matched.contains(&"NOT_FOUND")
            && matched.contains(&"orders.v1.cancelled")
            && (matched.contains(&"orders.v1.placed") || matched.contains(&"ORDER_PLACED")),
        "{matched:?}"
    );
}

#[test]
fn choreography_on_enum_variants_that_ignores_the_cancellation_is_flagged() {
    let orders = r#"
#[derive(serde::Serialize)]
pub enum OrderEvent { Placed { id: u64 }, Cancelled { id: u64 } }
fn main() {}
pub async fn cancel(id: u64) {
    let event = OrderEvent::Cancelled { id };
    publish_event("orders", &event).await;
}
"#;
    let inventory = |cancelled_arm: &str| {
        format!(
            r#"
#[derive(serde::Deserialize)]
pub enum OrderEvent {{ Placed {{ id: u64 }}, Cancelled {{ id: u64 }} }}
fn main() {{}}
pub async fn handle(msg: &rdkafka::message::BorrowedMessage<'_>, pool: &sqlx::PgPool) -> anyhow::Result<()> {{
    let event: OrderEvent = serde_json::from_slice(msg.payload().unwrap_or_default())?;
    match event {{
        OrderEvent::Placed {{ id }} => reserve_stock(pool, id).await?,
        {cancelled_arm}
    }}
    Ok(())
}}
async fn reserve_stock(pool: &sqlx::PgPool, id: u64) -> anyhow::Result<()> {{
    sqlx::query("UPDATE stock SET reserved = reserved + 1 WHERE id = $1").bind(id as i64).execute(pool).await?;
    Ok(())
}}
async fn release_stock(pool: &sqlx::PgPool, id: u64) -> anyhow::Result<()> {{
    sqlx::query("UPDATE stock SET reserved = reserved - 1 WHERE id = $1").bind(id as i64).execute(pool).await?;
    Ok(())
}}
"#
        )
    };
    let run = |inventory_main: &str| {
        let deps: &[&str] = &["rdkafka", "sqlx", "serde", "serde_json", "anyhow"];
        check(
            &[
                ServiceCrate {
                    name: "orders",
                    dependencies: deps,
                    files: &[("src/main.rs", orders)],
                },
                ServiceCrate {
                    name: "inventory",
                    dependencies: deps,
                    files: &[("src/main.rs", inventory_main)],
                },
            ],
            None,
        )
        .of(RULE)
    };
    let found = run(&inventory("OrderEvent::Cancelled { .. } => {}"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("runs `reserve_stock` on `OrderEvent::Placed`")
            && found[0].contains("does nothing on `OrderEvent::Cancelled`"),
        "{found:#?}"
    );
    let found = run(&inventory(
        "OrderEvent::Cancelled { id } => release_stock(pool, id).await?,",
    ));
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn command_messages_are_steps() {
    let run = |charge: &str| {
        let main = format!(
            r#"
fn main() {{}}
pub async fn place_order(nats: &async_nats::Client, order: Vec<u8>) -> anyhow::Result<()> {{
    nats.publish("inventory.reserve_stock", order.clone().into()).await?;
    {charge}
    Ok(())
}}
"#
        );
        check(
            &[ServiceCrate {
                name: "orders",
                dependencies: &["async-nats", "tokio", "anyhow"],
                files: &[("src/main.rs", &main)],
            }],
            None,
        )
        .of(RULE)
    };
    let found = run(r#"nats.publish("payments.charge_card", order.into()).await?;"#);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`inventory.reserve_stock` (step 1 of `place_order`)")
            && found[0].contains("`payments.charge_card` (step 2) fails"),
        "{found:#?}"
    );
    let found = run(
        r#"if let Err(error) = nats.publish("payments.charge_card", order.clone().into()).await {
        nats.publish("inventory.release_stock", order.into()).await?;
        return Err(error.into());
    }"#,
    );
    assert_eq!(found, Vec::<String>::new());
}

/// Steps whose result is matched rather than propagated with `?`: the charge is bound with
/// `.and_then(|r| r.error_for_status())`, the shipment's response is matched by status.
const MATCHED_STEPS: &str = r#"
pub struct Checkout { inventory: InventoryClient, http: reqwest::Client, payments_url: String, shipping_url: String }

impl Checkout {
    pub async fn place_order(&self, order_id: u64) -> anyhow::Result<u64> {
        let reservation = self.inventory.reserve_stock(order_id, 2).await?;
        let charge_result = self
            .http
            .post(format!("{}/v1/charges", self.payments_url))
            .send()
            .await
            .and_then(|r| r.error_for_status());
        let charge: u64 = match charge_result {
            Ok(resp) => resp.json().await?,
            Err(err) => {
                if let Err(e) = self.inventory.release_stock(reservation).await {
                    tracing::warn!("release failed: {e}");
                }
                return Err(err.into());
            }
        };
        let shipment = self
            .http
            .post(format!("{}/v1/shipments", self.shipping_url))
            .send()
            .await;
        let shipment: u64 = match shipment {
            Ok(resp) if resp.status().is_success() => resp.json().await?,
            Ok(resp) => {
                self.inventory.release_stock(reservation).await.ok();
                REFUND_ON_STATUS
                return Err(anyhow::anyhow!("shipping rejected the order: {}", resp.status()));
            }
            Err(err) => {
                self.inventory.release_stock(reservation).await.ok();
                REFUND_ON_ERROR
                return Err(err.into());
            }
        };
        Ok(charge + shipment)
    }
}
"#;

#[test]
fn matched_step_results_fail_the_saga_and_their_error_arms_must_undo_every_step() {
    let refund = "self.http.post(format!(\"{}/v1/charges/{}/refund\", self.payments_url, charge)).send().await.ok();";
    let found = checkout(
        &MATCHED_STEPS
            .replace("REFUND_ON_STATUS", "")
            .replace("REFUND_ON_ERROR", ""),
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`POST /v1/charges` (step 2 of `place_order`)")
            && found[0].contains("`POST /v1/shipments` (step 3) fails")
            && found[0].contains("`refund`"),
        "{found:#?}"
    );
    let found = checkout(
        &MATCHED_STEPS
            .replace("REFUND_ON_STATUS", refund)
            .replace("REFUND_ON_ERROR", refund),
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_later_step_whose_error_arm_returns_fails_the_saga() {
    let run = |handling: &str| {
        let saga = format!(
            "{SAGA_STRUCT}{}",
            r#"
impl Checkout {
    pub async fn place_order(&self, order_id: u64) -> anyhow::Result<()> {
        let reservation = self.inventory.reserve_stock(order_id, 2).await?;
        HANDLING
        Ok(())
    }
}
"#
        );
        checkout(&saga.replace("HANDLING", handling))
    };
    // The charge's error is returned from its arm (directly, or through the variable it is
    // bound to): the reservation stays.
    for handling in [
        r#"match self.payments.charge_card(order_id, 1200).await {
            Ok(_) => {}
            Err(error) => return Err(error.into()),
        }"#,
        r#"let charged = self.payments.charge_card(order_id, 1200).await;
        if let Err(error) = charged {
            tracing::warn!("charge failed: {error}");
            return Err(error.into());
        }"#,
        r#"let Ok(charge) = self.payments.charge_card(order_id, 1200).await else {
            anyhow::bail!("charge failed");
        };"#,
        r#"let charged = self.payments.charge_card(order_id, 1200).await;
        if charged.is_err() {
            return Err(anyhow::anyhow!("charge failed"));
        }"#,
    ] {
        let found = run(handling);
        assert_eq!(found.len(), 1, "{handling}\n{found:#?}");
        assert!(
            found[0].contains("`reserve_stock` (step 1 of `place_order`")
                && found[0].contains("`charge_card` (step 2) fails"),
            "{found:#?}"
        );
    }
    // The look-alikes: the arm releases before returning, or the failure is only logged.
    let found = run(
        r#"let charged = self.payments.charge_card(order_id, 1200).await;
        if let Err(error) = charged {
            self.inventory.release_stock(reservation).await.ok();
            return Err(error.into());
        }"#,
    );
    assert_eq!(found, Vec::<String>::new());
    let found = run(r#"match self.payments.charge_card(order_id, 1200).await {
            Ok(_) => {}
            Err(error) => tracing::warn!("charge failed, settled later: {error}"),
        }"#);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_compensation_behind_a_url_of_unknown_path_is_named_by_its_call() {
    // `release` sends a DELETE to a URL the extractor cannot read: its name says it releases
    // stock, not that it undoes the charge.
    let clients = format!(
        "{CLIENTS}{}",
        r#"
impl InventoryClient {
    pub async fn release(&self, url: reqwest::Url) -> reqwest::Result<()> {
        self.http.delete(url).send().await?.error_for_status()?;
        Ok(())
    }
}
"#
    );
    let saga = format!(
        "{SAGA_STRUCT}{}",
        r#"
impl Checkout {
    pub async fn place_order(&self, order_id: u64, url: reqwest::Url) -> anyhow::Result<()> {
        let charge = self.payments.charge_card(order_id, 1200).await?;
        if let Err(error) = self.shipping.book_shipment(order_id).await {
            self.inventory.release(url).await.ok();
            return Err(error.into());
        }
        Ok(())
    }
}
"#
    );
    let main = format!("mod clients;\nuse clients::*;\n\nfn main() {{}}\n\n{saga}");
    let found = check(
        &[ServiceCrate {
            name: "checkout",
            dependencies: HTTP_DEPS,
            files: &[("src/main.rs", &main), ("src/clients.rs", &clients)],
        }],
        None,
    )
    .of(RULE);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`charge_card` (step 1"), "{found:#?}");
}

#[test]
fn urls_joined_to_a_base_are_read() {
    let model = model_of(
        "checkout",
        &["reqwest", "tokio", "url"],
        r#"
fn main() {}
pub struct InventoryClient { http: reqwest::Client, base: url::Url }
impl InventoryClient {
    pub async fn reserve(&self) -> anyhow::Result<()> {
        self.http.post(self.base.join("/v1/reservations")?).send().await?;
        Ok(())
    }
    pub async fn release(&self, id: u64) -> anyhow::Result<()> {
        self.http.delete(self.base.join(&format!("/v1/reservations/{id}"))?).send().await?;
        Ok(())
    }
    pub async fn confirm(&self, id: u64) -> anyhow::Result<()> {
        let url = self.base.join(&format!("v1/reservations/{id}/confirm"))?;
        self.http.post(url).send().await?;
        Ok(())
    }
}
"#,
    );
    let operations: Vec<&str> = model
        .functions
        .iter()
        .flat_map(|f| &f.effects)
        .filter_map(|e| match &e.kind {
            EffectKind::Remote {
                protocol: RemoteProtocol::Http,
                operation,
                ..
            } => Some(operation.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        operations,
        [
            "/v1/reservations",
            "/v1/reservations/{id}",
            "/v1/reservations/{id}/confirm"
        ],
        "{:#?}",
        model.functions
    );
}

/// A booking service sending commands over SQS through its own helper.
const SQS_COMMANDS: &str = r#"
fn main() {}

pub enum FlightCommand {
    HoldSeats { hold_id: u64, seats: i32 },
    ReleaseSeats { hold_id: u64 },
}

pub struct App { sqs: aws_sdk_sqs::Client, http: reqwest::Client, queue_url: String, billing_url: String }

async fn send_command(app: &App, cmd: FlightCommand) -> anyhow::Result<()> {
    let body = serde_json::to_string(&cmd)?;
    app.sqs.send_message().queue_url(&app.queue_url).message_body(body).send().await?;
    Ok(())
}

pub async fn change_flight(app: &App, hold_id: u64) -> anyhow::Result<()> {
    send_command(app, FlightCommand::HoldSeats { hold_id, seats: 2 }).await?;
    CHARGE
    Ok(())
}
"#;

#[test]
fn commands_sent_through_a_helper_are_steps() {
    let run = |charge: &str| {
        let main = SQS_COMMANDS.replace("CHARGE", charge);
        check(
            &[ServiceCrate {
                name: "booking",
                dependencies: &[
                    "axum",
                    "aws-sdk-sqs",
                    "reqwest",
                    "serde_json",
                    "tokio",
                    "anyhow",
                ],
                files: &[("src/main.rs", &main)],
            }],
            None,
        )
        .of(RULE)
    };
    let found = run(
        r#"app.http.post(format!("{}/v1/charges", app.billing_url)).send().await?.error_for_status()?;"#,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`FlightCommand::HoldSeats` (step 1 of `change_flight`)")
            && found[0].contains("`POST /v1/charges` (step 2) fails")
            && found[0].contains("`release`"),
        "{found:#?}"
    );
    let found = run(
        r#"if let Err(error) = app.http.post(format!("{}/v1/charges", app.billing_url)).send().await {
        send_command(app, FlightCommand::ReleaseSeats { hold_id }).await?;
        return Err(error.into());
    }"#,
    );
    assert_eq!(found, Vec::<String>::new());
    // The same command sent inline, wrapped in an envelope.
    let inline = SQS_COMMANDS.replace(
        "send_command(app, FlightCommand::HoldSeats { hold_id, seats: 2 }).await?;",
        r#"let body = serde_json::to_string(&CommandEnvelope::new(FlightCommand::HoldSeats { hold_id, seats: 2 }))?;
    app.sqs.send_message().queue_url(&app.queue_url).message_body(body).send().await?;"#,
    );
    let found = check(
        &[ServiceCrate {
            name: "booking",
            dependencies: &[
                "axum",
                "aws-sdk-sqs",
                "reqwest",
                "serde_json",
                "tokio",
                "anyhow",
            ],
            files: &[(
                "src/main.rs",
                &inline.replace(
                    "CHARGE",
                    r#"app.http.post(format!("{}/v1/charges", app.billing_url)).send().await?;"#,
                ),
            )],
        }],
        None,
    )
    .of(RULE);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`FlightCommand::HoldSeats` (step 1 of `change_flight`)"),
        "{found:#?}"
    );
    // The body of an HTTP call built before a publish is not the message it sends.
    let found = run(r#"Ok(())
}

pub struct ChargeRequest { id: u64 }

pub async fn audit(app: &App) -> anyhow::Result<()> {
    app.http.post(format!("{}/v1/audit", app.billing_url)).json(&ChargeRequest { id: 1 }).send().await?;
    let body = serde_json::to_string(&1)?;
    app.sqs.send_message().queue_url(&app.queue_url).message_body(body).send().await?;
    app.http.post(format!("{}/v1/charges", app.billing_url)).send().await?;"#);
    assert_eq!(found.len(), 0, "{found:#?}");
    // A command that is itself an undo (`ReleaseSeats`) is no step to undo.
    let released = SQS_COMMANDS.replace(
        "FlightCommand::HoldSeats { hold_id, seats: 2 }",
        "FlightCommand::ReleaseSeats { hold_id }",
    );
    let found = check(
        &[ServiceCrate {
            name: "booking",
            dependencies: &[
                "axum",
                "aws-sdk-sqs",
                "reqwest",
                "serde_json",
                "tokio",
                "anyhow",
            ],
            files: &[(
                "src/main.rs",
                &released.replace(
                    "CHARGE",
                    r#"app.http.post(format!("{}/v1/charges", app.billing_url)).send().await?;"#,
                ),
            )],
        }],
        None,
    )
    .of(RULE);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn choreography_actions_that_give_back_need_no_compensation() {
    // Crediting a wallet on an event is itself the undo of a debit.
    let credit = inventory("").replace("reserve_stock", "credit_wallet");
    assert_eq!(choreography(&credit), Vec::<String>::new());
    let debit = inventory("").replace("reserve_stock", "debit_wallet");
    let found = choreography(&debit);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("runs `debit_wallet` on `orders.placed`"),
        "{found:#?}"
    );
}

#[test]
fn a_participant_that_handles_the_undo_command_is_silent() {
    // Commands from an orchestrator: `release_stock` runs on the compensating command.
    let found = choreography(&inventory(
        r#""inventory.release_stock" => { release_stock(db, 1).await?; }"#,
    ));
    assert_eq!(found, Vec::<String>::new());
    // Releasing on the message that reserves is no undo of the flow.
    let found = choreography(&inventory(
        r#""orders.placed" => { release_stock(db, 1).await?; }"#,
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
    // Releasing something else on a message does not undo the reservation.
    let found = choreography(&inventory(
        r#""payments.release_funds" => { release_funds(db, 1).await?; }"#,
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
}

/// Services linking a shared `events` crate (a path dependency) that declares the events.
fn with_shared_events(services: &[(&str, &str)], events: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let root = dir.path();
    let write = |path: std::path::PathBuf, text: &str| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write: {e}"));
    };
    let mut members = vec!["\"events\"".to_owned()];
    members.extend(services.iter().map(|(name, _)| format!("\"{name}\"")));
    write(
        root.join("Cargo.toml"),
        &format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    );
    write(
        root.join("events/Cargo.toml"),
        "[package]\nname = \"events\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde = \"*\"\n",
    );
    write(root.join("events/src/lib.rs"), events);
    for (name, main) in services {
        write(
            root.join(name).join("Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nevents = {{ path = \"../events\" }}\nrdkafka = \"*\"\nsqlx = \"*\"\nserde = \"*\"\nanyhow = \"*\"\ntokio = \"*\"\n"
            ),
        );
        write(root.join(name).join("src/main.rs"), main);
    }
    let manifest = camino::Utf8PathBuf::from_path_buf(root.join("Cargo.toml"))
        .unwrap_or_else(|p| panic!("non-UTF-8 path {}", p.display()));
    let report = archlint::check(&archlint::Options::new(manifest))
        .unwrap_or_else(|e| panic!("check failed: {e}"));
    report
        .findings
        .iter()
        .filter(|f| f.rule == RULE)
        .map(|f| format!("line {}: {}", f.span.line, f.message))
        .collect()
}

#[test]
fn failure_events_name_the_services_that_send_them_and_belong_to_the_flow() {
    let events = r#"
#[derive(serde::Serialize, serde::Deserialize)]
pub struct OrderConfirmed { pub order_id: u64 }
#[derive(serde::Serialize, serde::Deserialize)]
pub struct OrderCancelled { pub order_id: u64 }
#[derive(serde::Serialize, serde::Deserialize)]
pub struct MarketplaceOrderCancelled { pub order_id: u64 }
"#;
    let checkout = r#"
use events::{OrderCancelled, OrderConfirmed};
fn main() {}
pub async fn confirm(producer: &rdkafka::producer::FutureProducer, id: u64) {
    publish(producer, "orders", &OrderConfirmed { order_id: id }).await;
}
pub async fn cancel(producer: &rdkafka::producer::FutureProducer, id: u64) {
    publish(producer, "orders", &OrderCancelled { order_id: id }).await;
}
"#;
    let shipping = r#"
use events::OrderConfirmed;
fn main() {}
pub async fn handle(msg: &rdkafka::message::BorrowedMessage<'_>, pool: &sqlx::PgPool) -> anyhow::Result<()> {
    match msg.key() {
        Some(b"OrderConfirmed") | None => {
            let event: OrderConfirmed = serde_json::from_slice(msg.payload().unwrap_or_default())?;
            on_order_confirmed(pool, event).await?;
        }
        _ => {}
    }
    Ok(())
}
async fn on_order_confirmed(pool: &sqlx::PgPool, event: OrderConfirmed) -> anyhow::Result<()> {
    book_pickup(pool, event.order_id).await
}
async fn book_pickup(pool: &sqlx::PgPool, id: u64) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO pickups (order_id) VALUES ($1)").bind(id as i64).execute(pool).await?;
    Ok(())
}
"#;
    let payments = r#"
use events::OrderConfirmed;
fn main() {}
pub async fn handle(msg: &rdkafka::message::BorrowedMessage<'_>) -> anyhow::Result<()> {
    Ok(())
}
"#;
    let found = with_shared_events(
        &[
            ("checkout", checkout),
            ("shipping", shipping),
            ("payments", payments),
        ],
        events,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("runs `book_pickup` on `OrderConfirmed`")
            && found[0].contains("`OrderCancelled` (from `checkout`)")
            && !found[0].contains("Marketplace"),
        "{found:#?}"
    );
}

#[test]
fn a_status_check_that_returns_an_error_is_an_error_path() {
    let run = |undo: &str| {
        let saga = format!(
            "{SAGA_STRUCT}{}",
            r#"
impl Checkout {
    pub async fn place_order(&self, http: &reqwest::Client, payments_url: &str, order_id: u64) -> anyhow::Result<()> {
        let reservation = self.inventory.reserve_stock(order_id, 2).await?;
        let resp = http.post(format!("{payments_url}/charges")).send().await?;
        if !resp.status().is_success() {
            UNDO
            anyhow::bail!("payment declined: {}", resp.status());
        }
        Ok(())
    }
}
"#
        );
        checkout(&saga.replace("UNDO", undo))
    };
    assert_eq!(
        run("self.inventory.release_stock(reservation).await?;"),
        Vec::<String>::new()
    );
    let found = run("tracing::warn!(\"declined\");");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`reserve_stock` (step 1"), "{found:#?}");
}

#[test]
fn a_client_held_under_another_services_name_is_a_step() {
    let run = |receiver: &str, ty: &str| {
        let main = r#"
mod state;
fn main() {}
pub async fn instant_buy(state: &state::AppState, order_id: u64) -> anyhow::Result<()> {
    let mut RECEIVER = state.RECEIVER.clone();
    let quote = RECEIVER.lock_quote(order_id).await?;
    state.http.post(format!("{}/payments", state.payments_url)).send().await?.error_for_status()?;
    Ok(())
}
"#
        .replace("RECEIVER", receiver);
        let state = format!(
            "pub struct AppState {{ pub {receiver}: {ty}, pub http: reqwest::Client, pub payments_url: String }}\n"
        );
        check(
            &[
                ServiceCrate {
                    name: "orders",
                    dependencies: &["axum", "tonic", "reqwest", "tokio", "anyhow"],
                    files: &[("src/main.rs", &main), ("src/state.rs", &state)],
                },
                ServiceCrate {
                    name: "pricing",
                    dependencies: &["tonic", "tokio"],
                    files: &[("src/main.rs", "fn main() {}\n")],
                },
            ],
            None,
        )
        .of(RULE)
    };
    let expect_step = |found: Vec<String>| {
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].contains("`lock_quote` (step 1 of `instant_buy`)")
                && found[0].contains("`POST /payments` (step 2) fails")
                && found[0].contains("`unlock`"),
            "{found:#?}"
        );
    };
    // Named after a service of the workspace, whatever its type says.
    expect_step(run("pricing", "Arc<dyn QuoteApi>"));
    // Typed as a generated client, declared in another file, whatever its name.
    expect_step(run(
        "quotes",
        "pricing_proto::PricingClient<tonic::transport::Channel>",
    ));
    // Neither: a local cache is not another service.
    assert_eq!(run("quotes", "QuoteCache"), Vec::<String>::new());
}

#[test]
fn only_branches_returning_an_error_are_error_paths() {
    let model = model_of(
        "orders",
        &["axum", "reqwest", "tokio"],
        r#"
fn main() {}
pub async fn handler(http: &reqwest::Client, cached: bool) -> Result<Json<u64>, AppError> {
    if cached {
        notify_cache_hit().await;
        return Ok(Json(1));
    }
    let resp = http.post("http://payments/charges").send().await?;
    if !resp.status().is_success() {
        release_hold().await;
        return Err(AppError::Declined);
    }
    match http.post("http://shipping/shipments").send().await {
        Ok(r) if r.status().is_success() => {}
        Ok(_) => {
            refund_charge().await;
            return Err(AppError::Declined);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Json(2))
}
"#,
    );
    let handler = model
        .functions
        .iter()
        .find(|f| f.name == "handler")
        .unwrap_or_else(|| panic!("no `handler` in {:#?}", model.functions));
    let context_of = |wanted: &str| {
        handler
            .effects
            .iter()
            .find(|e| matches!(&e.kind, EffectKind::Call { name, .. } if name == wanted))
            .map(|e| e.context)
    };
    assert_eq!(context_of("notify_cache_hit"), Some(PathContext::Normal));
    assert_eq!(context_of("release_hold"), Some(PathContext::Error));
    assert_eq!(context_of("refund_charge"), Some(PathContext::Error));
    let shipment = handler
        .effects
        .iter()
        .find(|e| matches!(&e.kind, EffectKind::Remote { operation, .. } if operation == "/shipments"))
        .unwrap_or_else(|| panic!("no shipment call in {:#?}", handler.effects));
    assert!(
        shipment.error_returned && !shipment.propagates,
        "{shipment:#?}"
    );
}

#[test]
fn a_batch_reservation_reserves_and_is_released_like_one() {
    let saga = r#"
pub struct Orders { inventory: InventoryClient, payments: PaymentsClient }

impl Orders {
    pub async fn place_order(&self, order_id: u64) -> Result<(), reqwest::Error> {
        let reservation = self.inventory.batch_reserve_stock(order_id, 2).await?;
        self.payments.charge_card(order_id, 1200).await?;
        Ok(())
    }
}
"#;
    let found = checkout(saga);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`batch_reserve_stock` (step 1 of `place_order`")
            && found[0].contains("`release`"),
        "{found:#?}"
    );
}

#[test]
fn opening_a_broker_channel_is_no_step_to_undo() {
    let found = checkout(
        r#"
pub struct Relay {
    rmq_client: lapin::Connection,
    inventory: InventoryClient,
}

impl Relay {
    pub async fn start(&self, order_id: u64) -> Result<(), Box<dyn std::error::Error>> {
        let channel = self.rmq_client.create_channel().await?;
        self.inventory.reserve_stock(order_id, 1).await?;
        Ok(())
    }
}
"#,
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_call_wrapping_another_is_one_step_and_its_error_arm_compensates() {
    let found = checkout(
        r#"
pub struct Gateway { inventory: InventoryClient, clients: Clients }
pub struct Clients;
impl Clients {
    pub async fn call_order<F, Fut>(&self, f: F) -> Result<u64, String> { Err(String::new()) }
}

impl Gateway {
    pub async fn create_order(&self, order_id: u64) -> Result<u64, String> {
        let reservation = self.inventory.reserve_stock(order_id, 1).await.map_err(|e| e.to_string())?;
        let created = self.clients.call_order(|client| async move { client.create_order(order_id).await }).await;
        match created {
            Ok(id) => Ok(id),
            Err(e) => {
                let _ = self.inventory.release_stock(reservation).await;
                Err(e)
            }
        }
    }
}
"#,
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_later_step_that_returns_nothing_cannot_fail_the_saga() {
    // `book_quietly` logs its own failure and returns `()`; `book` returns the error.
    let saga = format!(
        "{SAGA_STRUCT}{}",
        r#"
impl Checkout {
    async fn book_quietly(&self, order_id: u64) {
        if let Err(error) = self.shipping.book_shipment(order_id).await {
            eprintln!("booking failed: {error}");
        }
    }

    async fn book(&self, order_id: u64) -> Result<(), reqwest::Error> {
        self.shipping.book_shipment(order_id).await?;
        Ok(())
    }

    pub async fn pay_then_book_quietly(&self, order_id: u64) -> Result<(), reqwest::Error> {
        self.payments.charge_card(order_id, 1200).await?;
        self.book_quietly(order_id).await;
        Ok(())
    }

    pub async fn pay_then_book(&self, order_id: u64) -> Result<(), reqwest::Error> {
        self.payments.charge_card(order_id, 1200).await?;
        self.book(order_id).await?;
        Ok(())
    }
}
"#
    );
    let found = checkout(&saga);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("step 1 of `pay_then_book`") && found[0].contains("`book`"),
        "{found:#?}"
    );
}

/// `place_order` reserves stock in inventory and then saves the order in its own database.
fn reserve_then_save(reserve_call: &str) -> Vec<String> {
    let saga = format!(
        r#"mod clients;
use clients::*;

fn main() {{}}

pub struct Orders {{ pool: sqlx::PgPool }}

impl Orders {{
    pub async fn save(&self, order_id: u64) -> Result<(), sqlx::Error> {{
        sqlx::query("INSERT INTO orders (id) VALUES ($1)")
            .bind(order_id as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }}
}}

pub struct Checkout {{ inventory: InventoryClient, orders: Orders }}

impl Checkout {{
    pub async fn place_order(&self, order_id: u64) -> anyhow::Result<()> {{
        {reserve_call}
        self.orders.save(order_id).await?;
        Ok(())
    }}
}}
"#
    );
    let clients = format!(
        "{CLIENTS}{}",
        r#"
impl InventoryClient {
    pub async fn reserve_stock_once(&self, order_id: u64, qty: u32) -> reqwest::Result<u64> {
        self.http
            .post(format!("{}/reservations", self.base_url))
            .header("Idempotency-Key", format!("reserve-{order_id}"))
            .json(&serde_json::json!({ "order_id": order_id, "qty": qty }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}
"#
    );
    check(
        &[ServiceCrate {
            name: "checkout",
            dependencies: &[
                "axum",
                "reqwest",
                "serde",
                "serde_json",
                "tokio",
                "sqlx",
                "anyhow",
            ],
            files: &[("src/main.rs", &saga), ("src/clients.rs", &clients)],
        }],
        None,
    )
    .of(RULE)
}

#[test]
fn a_failing_local_write_after_a_remote_step_leaves_the_step_undone() {
    let found = reserve_then_save("self.inventory.reserve_stock(order_id, 2).await?;");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`reserve_stock` (step 1 of `place_order`")
            && found[0].contains("the local write `orders.save` fails"),
        "{found:#?}"
    );
}

#[test]
fn a_step_sent_with_an_idempotency_key_is_retried_forward_past_a_local_write() {
    let found = reserve_then_save("self.inventory.reserve_stock_once(order_id, 2).await?;");
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_saga_run_only_while_the_binary_starts_is_not_judged() {
    // `bootstrap` runs from `main` alone and serves no request; `place_order` is routed.
    let saga = |routed: bool| {
        let route = if routed {
            r#"let _app: axum::Router = axum::Router::new().route("/orders", axum::routing::post(place_order));"#
        } else {
            ""
        };
        format!(
            r#"
#[tokio::main]
async fn main() {{
    {route}
    let checkout = Checkout {{ inventory: todo!(), payments: todo!(), shipping: todo!() }};
    let _ = bootstrap(&checkout).await;
}}

async fn place_order() -> &'static str {{
    let checkout = Checkout {{ inventory: todo!(), payments: todo!(), shipping: todo!() }};
    let _ = bootstrap(&checkout).await;
    "ok"
}}

async fn bootstrap(checkout: &Checkout) -> Result<(), reqwest::Error> {{
    checkout.inventory.reserve_stock(1, 2).await?;
    checkout.payments.charge_card(1, 1200).await?;
    Ok(())
}}
{SAGA_STRUCT}"#
        )
    };
    let check_main = |main: &str| {
        let main = format!("mod clients;\nuse clients::*;\n{main}");
        check(
            &[ServiceCrate {
                name: "checkout",
                dependencies: HTTP_DEPS,
                files: &[("src/main.rs", &main), ("src/clients.rs", CLIENTS)],
            }],
            None,
        )
        .of(RULE)
    };
    let found = check_main(&saga(false).replace(
        "async fn place_order() -> &'static str {\n    let checkout = Checkout { inventory: todo!(), payments: todo!(), shipping: todo!() };\n    let _ = bootstrap(&checkout).await;\n    \"ok\"\n}",
        "",
    ));
    assert!(found.is_empty(), "{found:#?}");
    let found = check_main(&saga(true));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("step 1 of `bootstrap`"), "{found:#?}");
}

/// `Checkout::pay` calls `wrapper`, which posts to a URL from the environment, and then
/// `later` as its next step.
fn wrapper_then(wrapper: &str, later: &str) -> Vec<String> {
    checkout(&format!(
        r#"{SAGA_STRUCT}
async fn {wrapper}(http: &reqwest::Client, order_id: u64) -> reqwest::Result<()> {{
    let url = std::env::var("PROVIDER_URL").unwrap_or_default();
    http.post(url).json(&order_id).send().await?.error_for_status()?;
    Ok(())
}}

impl Checkout {{
    pub async fn pay(&self, http: &reqwest::Client, order_id: u64) -> Result<(), reqwest::Error> {{
        {wrapper}(http, order_id).await?;
        {later}
        Ok(())
    }}
}}
"#
    ))
}

#[test]
fn what_a_helper_named_for_activity_sends_is_no_saga_step() {
    let charge = "self.payments.charge_card(order_id, 1200).await?;";
    let found = wrapper_then("record_order_activity", charge);
    assert!(found.is_empty(), "{found:#?}");
    let found = wrapper_then("create_partner_order", charge);
    assert_eq!(found.len(), 1, "{found:#?}");
}

#[test]
fn a_request_to_an_unknown_url_is_a_step_only_when_its_wrapper_names_an_action() {
    let book = "self.shipping.book_shipment(order_id).await?;";
    let found = wrapper_then("exchange_code", book);
    assert!(found.is_empty(), "{found:#?}");
    let found = wrapper_then("reserve_items", book);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`reserve_items` (step 1 of `pay`"),
        "{found:#?}"
    );
}

/// A blocking gateway to a warehouse whose API names its resources in the singular, and a
/// repository writing the order: the shape of a Rocket + diesel order service.
const WAREHOUSE_SAGA: &str = r#"
use std::fmt;

#[derive(Debug)]
pub enum AccessError { Data(String), Unavailable }

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{self:?}") }
}

pub fn request_warehouse_item(host: &str, order: u64) -> Result<u64, AccessError> {
    let client = reqwest::blocking::Client::new();
    let response = client
        .post(host.to_string() + "/api/v1/warehouse")
        .json(&order)
        .send()
        .map_err(|_| AccessError::Unavailable)?;
    response.json().map_err(|_| AccessError::Unavailable)
}

pub fn request_warehouse_return(host: &str, item: u64) -> Result<(), AccessError> {
    let client = reqwest::blocking::Client::new();
    client
        .delete(host.to_string() + "/api/v1/warehouse/" + &item.to_string())
        .send()
        .map_err(|_| AccessError::Unavailable)?;
    Ok(())
}

pub fn request_warranty_start(host: &str, item: u64) -> Result<(), AccessError> {
    let client = reqwest::blocking::Client::new();
    client
        .post(host.to_string() + "/api/v1/warranty/" + &item.to_string())
        .send()
        .map_err(|_| AccessError::Unavailable)?;
    Ok(())
}

pub fn request_warranty_stop(host: &str, item: u64) -> Result<(), AccessError> {
    let client = reqwest::blocking::Client::new();
    client
        .delete(host.to_string() + "/api/v1/warranty/" + &item.to_string())
        .send()
        .map_err(|_| AccessError::Unavailable)?;
    Ok(())
}

pub struct OrdersDb { pool: sqlx::PgPool }

impl OrdersDb {
    pub async fn insert_order(&self, order: u64, item: u64) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO orders (id, item_id) VALUES ($1, $2)")
            .bind(order as i64)
            .bind(item as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

pub async fn create_order(db: &OrdersDb, host: &str, order: u64) -> Result<u64, AccessError> {
    let item = request_warehouse_item(host, order).map_err(|e| match e {
        AccessError::Data(message) => AccessError::Data(message),
        _ => AccessError::Unavailable,
    })?;
    if let Err(error) = request_warranty_start(host, item) {
        request_warehouse_return(host, item)?;
        return Err(error);
    }
    TAIL
    Ok(order)
}

#[tokio::main]
async fn main() {
    let app: axum::Router = axum::Router::new().route("/orders", axum::routing::post(handler));
    let _ = app;
}

async fn handler(axum::extract::State(db): axum::extract::State<std::sync::Arc<OrdersDb>>) -> String {
    match create_order(&db, "http://warehouse", 7).await {
        Ok(order) => order.to_string(),
        Err(error) => error.to_string(),
    }
}
"#;

fn warehouse(tail: &str) -> Vec<String> {
    let main = WAREHOUSE_SAGA.replace("TAIL", tail);
    check(
        &[ServiceCrate {
            name: "orders",
            dependencies: &["axum", "reqwest", "sqlx", "tokio"],
            files: &[("src/main.rs", &main)],
        }],
        None,
    )
    .of(RULE)
}

#[test]
fn a_compensation_in_an_earlier_branch_does_not_cover_a_later_failing_write() {
    // `POST /api/v1/warehouse` creates a warehouse item (a singular resource, not a verb), the
    // warranty's failure returns it, but the insert's `?` further down does not.
    let found = warehouse(
        "db.insert_order(order, item).await.map_err(|e| AccessError::Data(e.to_string()))?;",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains(
            "`request_warehouse_item` (step 1 of `create_order`, `POST /api/v1/warehouse`)"
        ) && found[0].contains("the local write `db.insert_order` fails")
            && found[0].contains("`delete`"),
        "{found:#?}"
    );
}

#[test]
fn a_later_write_whose_error_path_stops_the_warranty_and_returns_the_item_is_silent() {
    let found = warehouse(
        r#"if let Err(error) = db.insert_order(order, item).await {
        request_warranty_stop(host, item)?;
        request_warehouse_return(host, item)?;
        return Err(AccessError::Data(error.to_string()));
    }"#,
    );
    assert_eq!(found, Vec::<String>::new());
}
