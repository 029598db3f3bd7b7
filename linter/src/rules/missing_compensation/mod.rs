//! ## What it does
//! Flags a saga step that changes another service and is never undone when a later step fails.
//! Three shapes are checked:
//!
//! - **Orchestrated sagas.** A function that performs two or more mutating steps on other
//!   services in sequence: a reqwest `POST`/`PUT`/`PATCH`/`DELETE` (also to a base URL's
//!   `join(..)`), a tonic client call, a typed client of another service
//!   (`self.payments_client.charge(..)`, or a project function that wraps such a call), a
//!   client the project does not define held under another service's name
//!   (`pricing.lock_quote(..)` when `pricing` is a service of the workspace), or a
//!   command sent over a broker (a publish, or a project helper named like one: `publish*`,
//!   `emit*`, `send_command*`, `send_event*`, `produce_*`) whose topic names an action
//!   (`inventory.reserve-stock`) or whose payload is named as one (`FlightCommand::HoldSeats`,
//!   `ReserveStock`, `ChargeCardCommand`: a verb of the pairs below first, no past tense, not
//!   a `*Request`/`*Response` body). Each step gets a verb and a noun from its operation:
//!   `reserve_stock` is *reserve stock*, `POST /stock/{}/reserve` too, `POST /reservations` is
//!   *create reservation*, `POST /api/v1/warehouse` *create warehouse* (a singular last
//!   segment is an action only when it is a verb: `[vocabulary] action-verbs`), `HoldSeats` is *hold seats*, `batch_reserve_stock` *reserve stock*.
//!   A call wrapping another (`call_order(|c| c.create_order(..))`) is one step. Broker
//!   channels, caches and stores are infrastructure, not steps. A step whose verb has a known
//!   compensation is flagged, at its call, when a later step can fail the saga and nothing on
//!   the function's error paths after it (an `Err` arm, `if let Err`, `let .. else`, a
//!   `map_err`/`or_else` closure, an `Ok` arm or an `if` branch that returns an error, as in
//!   `if !resp.status().is_success() { ..; return Err(..) }`) or in a registered undo closure
//!   (`undo.push(..)`, `on_failure(..)`) runs a compensation of it, directly or through the
//!   functions it calls; an error path of a caller after the call, and a `Drop` guard of the
//!   crate, count too. A later step can fail the saga when its error is propagated with `?`,
//!   when its result is matched (directly, or through the variable it is bound to, as in
//!   `let r = ...send().await.and_then(|r| r.error_for_status()); match r { .. }`) by an arm
//!   that returns an error, or when it is handled on an error path before the next step; a
//!   result thrown away with `let _ =`, an `Err` arm that only logs and goes on, or a call
//!   of a project function that returns nothing (it cannot report a failure), does not
//!   count. A write to the service's own database whose error is propagated
//!   (`self.orders.save(order).await?`, an ORM write with `?`) is a later step too, unless the
//!   earlier step is sent with an `Idempotency-Key`: a retry of the handler then repeats that
//!   step safely and completes the write (forward recovery).
//!   What a helper named for audit, activity, metrics or telemetry sends
//!   (`record_order_activity(..)` posting to a webhook) keeps a record and is no step.
//!   A later step whose failure is handled right where it happens (an `Err` arm or `map_err`
//!   before the next step) must undo every earlier step there; one whose error goes further up
//!   (`?`) is covered only by an error path after it (a compensation in an earlier branch,
//!   `else { release(..)?; return Err(..) }`, does not run when a later write fails). Steps on
//!   different messages of a dispatching function (`match` arms on event names, not error
//!   variants matched on an error path) are not a sequence. A binary's
//!   `main` is not a saga: it wires and starts a service, or drives another service's API as
//!   a command-line tool; nor is a function that only `main` reaches and no handler of
//!   requests or messages does (start-up code).
//!   When the function registers undo actions itself, draining the stack on error is not taken
//!   for a compensation of every step: each step needs its own registration. Compensations are
//!   recognised by verb pairs (reserve/release, hold/release, charge|capture/refund,
//!   debit/credit, book/cancel, create|place/cancel|delete, authorize/void,
//!   allocate/deallocate, lock/unlock, provision/deprovision, apply/revert,
//!   approve/cancel|reject|revoke|void), by pairs declared
//!   in `[compensations]`, and by generic names (`compensate*`, `rollback*`, `undo*`,
//!   `revert*`; a database transaction's `rollback` does not count); a compensating command is
//!   recognised by its payload (`FlightCommand::ReleaseSeats`). A request to a URL whose path
//!   is unknown, made inside a called function, is named by that call (`inventory.release(..)`
//!   releases; it does not undo a charge). When both sides name a noun they must agree, unless
//!   the compensation's noun belongs to no other step.
//! - **Step objects.** An `impl` of a step trait with a forward/compensating pair
//!   (`execute`/`compensate`, `do`/`undo`, `forward`/`backward`, ...) whose forward method changes
//!   something (another service, a broker, the database) while the compensating method does
//!   nothing (`Ok(())`, `{}`, `todo!()`, `unimplemented!()`, only logging). Flagged at the
//!   compensating method's name.
//! - **Choreographed sagas.** A service that, on an event it consumes, performs a compensable
//!   action (a call such as `reserve_stock` or `charge_card` that writes somewhere; the generic
//!   `create`, `place` and `apply` do not count here, nor do actions that give something back:
//!   `credit`, `refund`, `release`, `cancel`, `void`, `deallocate`, `unlock`, `deprovision`,
//!   `revert`) while the workspace publishes failure events for that flow (`*Failed`,
//!   `*Rejected`, `*Cancelled`/`*Canceled`, `*Expired`, `*TimedOut`: types that are
//!   serialized, published topics and payloads) and the service handles none of them. A
//!   failure event belongs to the flow when it names the same aggregate as the triggering
//!   event (`OrderPlaced` and `orders.v1.cancelled`, not `MarketplaceOrderCancelled`), or when
//!   a service that consumes an event this service publishes publishes it (inventory publishes
//!   `StockReserved`, payments consumes it and publishes `PaymentFailed`). An event is
//!   published by the services that construct or publish it; a type of a shared crate that no
//!   service is seen sending is linked to a flow only by its aggregate. Handling one failure
//!   event of the flow with some action (a `match` arm that calls something or runs SQL, a
//!   subscription, a handler taking the event) is enough to stay silent; an arm that only logs
//!   or returns is reported. Which compensation the handler runs is not checked. A participant
//!   driven by commands that runs the compensation on another message it handles
//!   (`HoldSeats` holds, `ReleaseSeats` releases the seats) is silent too. Flagged at the
//!   action's call in the handler.
//!
//! One finding per saga function, at its first undone step; the other undone steps of the
//! function are named in the message and listed beside it. Each message names its evidence: the
//! step, the later step that can fail and the missing compensation (or the failure events left
//! unhandled). Test code is not judged.
//!
//! The rule warns by default (`strict` denies): steps and compensations are paired by name, so
//! a compensation the naming does not reveal (run by a caller, by a workflow engine, by a
//! reconciliation job) can hide from it.
//!
//! ## Why is this bad
//! A saga replaces one distributed transaction by a sequence of local ones, and its only
//! guarantee of consistency is that every completed step is undone when a later one fails. A
//! step without its compensation leaves stock reserved for an order that was never paid, a card
//! charged for a trip that was never booked, a seat held forever. Nothing fails loudly: the
//! request returns an error, and the other service keeps the effect of the half-finished saga
//! until someone reconciles it by hand.
//!
//! ## Example
//! ```rust,ignore
//! pub async fn place_order(&self, order: &Order) -> Result<(), Error> {
//!     let reservation = self.inventory.reserve_stock(order.id, &order.lines).await?;
//!     // if this fails, the stock stays reserved: nothing calls `release_stock`
//!     let charge = self.payments.charge_card(order.id, order.total).await?;
//!     self.shipping.book_shipment(order.id, &order.address).await?;
//!     Ok(())
//! }
//! ```
//!
//! ## How to fix
//! Undo every completed step on every failure path, most recent first, for instance with a
//! stack of compensations drained on error:
//! ```rust,ignore
//! let reservation = self.inventory.reserve_stock(order.id, &order.lines).await?;
//! let charge = match self.payments.charge_card(order.id, order.total).await {
//!     Ok(charge) => charge,
//!     Err(error) => {
//!         self.inventory.release_stock(reservation.id).await?;
//!         return Err(error.into());
//!     }
//! };
//! ```
//! Give every step object a real compensation, and in a choreography subscribe to the failure
//! events of the flow and release what the service reserved. When a compensation has a name the
//! verb pairs do not know, declare it:
//! ```toml
//! [compensations]
//! ship = "recall"                        # verbs
//! book_room = ["cancel_room_booking"]    # or operation names
//! ```

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;

use crate::behaviour::{Behaviour, HandlerKind, CALL_DEPTH};
use crate::config::{Config, Level};
use crate::extract::rust::STEP_METHODS;
use crate::model::{
    CrateId, Effect, EffectKind, EventRole, Function, HttpMethod, PathContext, RemoteProtocol,
    ServiceId, Span,
};
use crate::rules::{list_names, Confidence, Finding, Related, Rule, RuleContext};

mod choreography;
mod orchestrated;
mod step_objects;
mod vocabulary;

use choreography::*;
use orchestrated::*;
use vocabulary::*;

pub struct MissingCompensation;

const HELP: &str = "undo every completed step when a later one fails (an error arm or a stack of \
                    compensations), or declare the compensating action in `[compensations]`";

impl Rule for MissingCompensation {
    fn id(&self) -> &'static str {
        "missing-compensation"
    }

    fn summary(&self) -> &'static str {
        "a saga step on another service is not undone when a later step fails"
    }

    fn source(&self) -> &'static str {
        include_str!("mod.rs")
    }

    fn default_level(&self) -> Level {
        Level::Warn
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let behaviour = cx.behaviour();
        let lexicon = Lexicon::new(cx.config);
        // Functions are judged in parallel, each worker with its own memo of the remote
        // actions behind a call; findings are sorted after every rule ran.
        let startup_only = startup_only(behaviour);
        let found: Vec<Finding> = (0..cx.model.functions.len())
            .into_par_iter()
            .filter(|&f| !cx.is_test(cx.model.functions[f].span))
            .map_init(RemoteIndex::new, |index, f| {
                let mut found = Vec::new();
                if !startup_only.contains(&f) {
                    self.orchestrated(cx, behaviour, &lexicon, index, f, &mut found);
                }
                self.step_object(cx, behaviour, &lexicon, f, &mut found);
                found
            })
            .flatten_iter()
            .collect();
        out.extend(found);
        self.choreography(cx, behaviour, &lexicon, out);
    }
}

/// Project functions a call can reach. A generic method name on an unnamed receiver
/// (`sqlx::query(..).execute(&pool)`) is a library's method, not one of the project's methods
/// of the same name (a step object's `execute`), so only free functions are followed there.
fn callees(behaviour: &Behaviour<'_>, f: usize, name: &str, receiver: Option<&str>) -> Vec<usize> {
    let mut found = behaviour.resolve_call(f, name, receiver);
    // `repository.create_transaction(..)`: the method of the type named like the receiver
    // (`PaymentRepository`), not a client's method of the same name.
    if let Some(r) = receiver.filter(|r| *r != "self" && found.len() > 1) {
        let named_like = |&c: &usize| {
            behaviour
                .function(c)
                .impl_type
                .as_deref()
                .is_some_and(|t| crate::behaviour::receiver_names_type(r, t))
        };
        if found.iter().any(named_like) {
            found.retain(named_like);
        }
    }
    let generic = words(name)
        .first()
        .is_some_and(|w| GENERIC_CALLS.contains(&w.as_str()));
    match receiver {
        None if generic => found.retain(|&c| behaviour.function(c).impl_type.is_none()),
        // `ctx.run(..)` is the workflow engine's, not the saga's own `run`: a generic method
        // is followed only into a type (or trait) named like its receiver (`saga.run(..)` into
        // `CheckoutSaga::run`, `step.execute(..)` into an `impl SagaStep`).
        Some(r) if generic && r != "self" => {
            let receiver_words: Vec<String> = words(r).iter().map(|w| singular(w)).collect();
            found.retain(|&c| {
                let callee = behaviour.function(c);
                [&callee.impl_type, &callee.impl_trait]
                    .into_iter()
                    .flatten()
                    .any(|t| {
                        words(t)
                            .iter()
                            .any(|w| receiver_words.contains(&singular(w)))
                    })
            });
        }
        _ => {}
    }
    found
}

/// Functions that run only while a binary starts: reached from a `main`, and from no handler
/// of requests or messages. Like `main` itself, they serve no request that a failure leaves
/// half done (`start_services(..)` preparing clients and activating a configuration).
fn startup_only(behaviour: &Behaviour<'_>) -> HashSet<usize> {
    let functions = &behaviour.model.functions;
    let reached_from = |roots: &mut dyn Iterator<Item = usize>| -> HashSet<usize> {
        roots
            .flat_map(|r| behaviour.reachable(r, CALL_DEPTH))
            .map(|(g, _)| g)
            .collect()
    };
    let mains = (0..functions.len())
        .filter(|&f| functions[f].name == "main" && functions[f].impl_type.is_none());
    let mut startup = reached_from(&mut mains.into_iter());
    if startup.is_empty() {
        return startup;
    }
    let handlers = behaviour
        .message_handlers()
        .into_iter()
        .map(|(f, _)| f)
        .chain(behaviour.write_handlers().into_iter().map(|(f, _)| f))
        .chain(behaviour.write_rpc_handlers());
    let serving = reached_from(&mut handlers.into_iter());
    startup.retain(|f| !serving.contains(f));
    startup
}

/// `f` and the functions it reaches through [`callees`], up to `depth` calls deep.
fn reach(behaviour: &Behaviour<'_>, f: usize, depth: usize) -> Vec<usize> {
    reach_where(behaviour, f, depth, |_| true)
}

/// [`reach`], entering only the functions `enter` accepts.
fn reach_where(
    behaviour: &Behaviour<'_>,
    f: usize,
    depth: usize,
    enter: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let mut seen = vec![f];
    let mut frontier = vec![f];
    for _ in 0..depth {
        let mut next = Vec::new();
        for &g in &frontier {
            for effect in &behaviour.function(g).effects {
                if let EffectKind::Call { name, receiver } = &effect.kind {
                    for callee in callees(behaviour, g, name, receiver.as_deref()) {
                        if !seen.contains(&callee) && enter(callee) {
                            seen.push(callee);
                            next.push(callee);
                        }
                    }
                }
            }
        }
        frontier = next;
    }
    seen
}

fn service_names(cx: &RuleContext<'_>, services: &[ServiceId]) -> Vec<String> {
    services
        .iter()
        .map(|s| cx.service_name(*s).to_string())
        .collect()
}

/// The first change a function (or what it calls) makes outside its own memory: another
/// service, a broker, the database.
fn first_change(behaviour: &Behaviour<'_>, lexicon: &Lexicon<'_>, f: usize) -> Option<String> {
    first_change_where(behaviour, lexicon, f, true)
}

/// [`first_change`], counting database writes only when `local` is set.
fn first_change_where(
    behaviour: &Behaviour<'_>,
    lexicon: &Lexicon<'_>,
    f: usize,
    local: bool,
) -> Option<String> {
    for g in reach(behaviour, f, CALL_DEPTH) {
        let function = behaviour.function(g);
        for effect in &function.effects {
            let change = match &effect.kind {
                EffectKind::Remote {
                    protocol: RemoteProtocol::Http,
                    method: Some(method),
                    operation,
                    ..
                } if method.is_mutating() => Some(format!("`{} {operation}`", method.as_str())),
                EffectKind::Remote {
                    protocol: RemoteProtocol::Grpc | RemoteProtocol::Client,
                    operation,
                    ..
                } if !is_read(&name_action(operation), lexicon) => Some(format!("`{operation}`")),
                EffectKind::Publish { destination, .. } => Some(match destination {
                    Some(d) => format!("publishes to `{d}`"),
                    None => "publishes a message".to_owned(),
                }),
                EffectKind::OrmWrite { api, effect } if local && effect.is_write() => {
                    Some(format!("`{api}`"))
                }
                _ => None,
            };
            if change.is_some() {
                return change;
            }
        }
        for query in behaviour.queries_of(g).filter(|_| local) {
            if let Some(statement) = query
                .effects
                .iter()
                .zip(&query.statements)
                .find(|(e, _)| e.is_write())
                .map(|(_, s)| s)
            {
                let table = query
                    .tables
                    .first()
                    .map(|t| format!(" {}", t.table))
                    .unwrap_or_default();
                return Some(format!("`{statement}{table}`"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_event_names() {
        assert_eq!(words("reserveStock"), ["reserve", "stock"]);
        assert_eq!(words("orders.v1.placed"), ["orders", "placed"]);
        assert_eq!(words("PaymentTimedOut"), ["payment", "timedout"]);
        let a = EventName::new("PaymentFailed").map(|e| e.key);
        let b = EventName::new("payment.failed").map(|e| e.key);
        let c = EventName::new("Event::PaymentFailed").map(|e| e.key);
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert!(EventName::new("OrderEvent::Canceled")
            .is_some_and(|e| e.is_failure() && e.subject == ["order"]));
        assert!(EventName::new("orders.v1.cancelled").is_some_and(|e| e.subject == ["order"]));
    }

    #[test]
    fn the_vocabulary_is_data_the_configuration_extends() {
        let config = Config::default();
        let lexicon = Lexicon::new(&config);
        assert!(is_read(&name_action("get_order"), &lexicon));
        assert!(!is_read(&name_action("peek_order"), &lexicon));
        let text =
            "[vocabulary]\nread-verbs = [\"Peek\"]\n\n[vocabulary.nominals]\nshipment = \"ship\"\n";
        let extended = Config::from_text(text, camino::Utf8Path::new("archlint.toml"))
            .expect("vocabulary config");
        let lexicon = Lexicon::new(&extended);
        assert!(is_read(&name_action("peek_order"), &lexicon));
        assert!(
            is_read(&name_action("get_order"), &lexicon),
            "the preset's words stay"
        );
        assert!(http_action(HttpMethod::Post, "/shipments", &lexicon)
            .verbs
            .contains(&"ship".to_string()));
        let typo = "[vocabulary]\nread-verb = [\"peek\"]\n";
        assert!(Config::from_text(typo, camino::Utf8Path::new("archlint.toml")).is_err());
    }

    #[test]
    fn http_paths_name_actions() {
        let config = Config::default();
        let lexicon = Lexicon::new(&config);
        let a = http_action(HttpMethod::Post, "/stock/{}/reserve", &lexicon);
        assert_eq!(a.verbs, ["reserve"]);
        assert_eq!(a.nouns, ["stock"]);
        let a = http_action(HttpMethod::Post, "/reservations", &lexicon);
        assert_eq!(a.verbs, ["create", "reserve"]);
        assert_eq!(a.nouns, ["reservation"]);
        let a = http_action(HttpMethod::Delete, "/reservations/{}", &lexicon);
        assert_eq!(a.verbs, ["delete"]);
        let a = http_action(HttpMethod::Post, "/charges/{}/refund", &lexicon);
        assert_eq!(a.verbs, ["refund"]);
        assert_eq!(a.nouns, ["charge"]);
        let a = http_action(HttpMethod::Post, "/orders/{id}/confirm", &lexicon);
        assert_eq!(a.verbs, ["confirm"]);
        let a = http_action(HttpMethod::Post, "/api/v1/notifications", &lexicon);
        assert_eq!(a.verbs, ["send"]);
        let a = http_action(HttpMethod::Post, "/events", &lexicon);
        assert_eq!(a.verbs, ["send"]);
        let a = http_action(HttpMethod::Put, "/bookings/{id}", &lexicon);
        assert_eq!(a.verbs, ["update", "book"]);
        // Approving a payment holds the customer's funds: cancelling it releases them.
        assert!(lexicon
            .undo_of(&["approve".to_string()], &[])
            .contains(&"cancel".to_string()));
        let a = http_action(HttpMethod::Post, "/api/v1/warehouse", &lexicon);
        assert_eq!(a.verbs, ["create"]);
        assert_eq!(a.nouns, ["warehouse"]);
        let a = http_action(HttpMethod::Post, "/payments/{id}/capture", &lexicon);
        assert_eq!(a.verbs, ["capture"]);
        let a = http_action(HttpMethod::Put, "/users/{id}", &lexicon);
        assert_eq!(a.verbs, ["update"]);
    }
}
