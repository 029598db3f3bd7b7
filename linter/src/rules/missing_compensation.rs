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
//!   *create reservation*, `HoldSeats` is *hold seats*. A step whose verb has a known
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
//!   result thrown away with `let _ =`, or an `Err` arm that only logs and goes on, does not
//!   count.
//!   A later step whose failure is handled right where it happens (an `Err` arm or `map_err`
//!   before the next step) must undo every earlier step there. Steps on different messages
//!   of a dispatching function (`match` arms on event names) are not a sequence. A binary's
//!   `main` is not a saga: it wires and starts a service, or drives another service's API as
//!   a command-line tool.
//!   When the function registers undo actions itself, draining the stack on error is not taken
//!   for a compensation of every step: each step needs its own registration. Compensations are
//!   recognised by verb pairs (reserve/release, hold/release, charge|capture/refund,
//!   debit/credit, book/cancel, create|place/cancel|delete, authorize/void,
//!   allocate/deallocate, lock/unlock, provision/deprovision, apply/revert), by pairs declared
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
//! Each message names its evidence: the step, the later step that can fail and the missing
//! compensation (or the failure events left unhandled). Test code is not judged.
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

pub struct MissingCompensation;

const HELP: &str = "undo every completed step when a later one fails (an error arm or a stack of \
                    compensations), or declare the compensating action in `[compensations]`";

/// Built-in pairs: a forward verb and the verbs that undo it.
const VERB_PAIRS: &[(&str, &[&str])] = &[
    ("reserve", &["release", "cancel", "unreserve"]),
    ("hold", &["release", "unhold", "cancel"]),
    ("charge", &["refund", "void", "reverse"]),
    ("capture", &["refund", "reverse"]),
    ("debit", &["credit", "reverse"]),
    ("credit", &["debit", "reverse"]),
    ("book", &["cancel", "unbook"]),
    ("create", &["cancel", "delete", "remove"]),
    ("place", &["cancel"]),
    ("authorize", &["void", "cancel", "release"]),
    ("authorise", &["void", "cancel", "release"]),
    ("allocate", &["deallocate", "release", "free"]),
    ("lock", &["unlock", "release"]),
    ("provision", &["deprovision"]),
    ("apply", &["revert"]),
];

/// Forward verbs that give something back rather than take it: a credit undoes a debit.
const GIVING_VERBS: &[&str] = &["credit"];

/// A verb on the compensating side of a built-in pair (`release`, `refund`, `cancel`,
/// `credit`, ...): it undoes an action rather than holding something.
fn gives_back(verb: &str) -> bool {
    GIVING_VERBS.contains(&verb)
        || !VERB_PAIRS.iter().any(|(v, _)| *v == verb)
            && VERB_PAIRS.iter().any(|(_, undo)| undo.contains(&verb))
}

/// Nouns that name the result of a forward verb (`POST /reservations` reserves).
const NOMINALS: &[(&str, &str)] = &[
    ("reservation", "reserve"),
    ("hold", "hold"),
    ("charge", "charge"),
    ("payment", "charge"),
    ("capture", "capture"),
    ("debit", "debit"),
    ("credit", "credit"),
    ("booking", "book"),
    ("authorization", "authorize"),
    ("authorisation", "authorise"),
    ("allocation", "allocate"),
    ("lock", "lock"),
];

/// What is sent rather than created: a `POST /notifications` is not undone.
const NOT_UNDONE: &[&str] = &[
    "notification",
    "email",
    "mail",
    "sms",
    "message",
    "event",
    "log",
    "metric",
    "webhook",
    "callback",
    "audit",
    "alert",
    "token",
    "session",
    "login",
    "search",
    "quote",
    "estimate",
    "trace",
    "span",
    "graphql",
    "batch",
    "report",
];

/// Clients of infrastructure rather than of another service (caches, stores, telemetry), by
/// a word of the client's name.
const INFRASTRUCTURE_CLIENTS: &[&str] = &[
    "cache",
    "redis",
    "metric",
    "log",
    "logger",
    "tracing",
    "tracer",
    "telemetry",
    "s3",
    "storage",
    "blob",
    "db",
    "database",
    "dynamo",
    "dynamodb",
    "mongo",
    "elastic",
    "elasticsearch",
    "search",
    "kv",
    "etcd",
    "vault",
    "secret",
    "sqs",
    "sns",
    "kafka",
];

/// Operations that only read: never a step.
const READ_VERBS: &[&str] = &[
    "get",
    "list",
    "find",
    "fetch",
    "query",
    "search",
    "check",
    "lookup",
    "look",
    "read",
    "load",
    "count",
    "exists",
    "exist",
    "validate",
    "verify",
    "quote",
    "estimate",
    "preview",
    "describe",
    "watch",
    "stream",
    "subscribe",
    "is",
    "has",
    "can",
    "health",
    "ping",
    "status",
    "calculate",
    "compute",
    "connect",
    "ready",
    "poll",
    "show",
    "view",
    "retrieve",
    "download",
    "resolve",
];

/// Calls named for how they run, not for what they do: a callee reached through them tells
/// nothing (`execute` may be a database driver's).
const GENERIC_CALLS: &[&str] = &[
    "execute", "exec", "run", "call", "process", "handle", "perform", "invoke", "send", "dispatch",
    "do", "start", "new", "build", "step", "next", "spawn",
];

/// Names that undo whatever was done before them.
const GENERIC_UNDO: &[&str] = &["compensate", "compensation", "rollback", "undo", "revert"];

/// Outcomes that make an event a failure event.
const FAILURE_OUTCOMES: &[&str] = &["failed", "rejected", "cancelled", "expired", "timedout"];

/// Words that carry no meaning in event and operation names.
const STOP_WORDS: &[&str] = &[
    "event",
    "events",
    "evt",
    "msg",
    "message",
    "messages",
    "command",
    "cmd",
    "domain",
    "integration",
    "topic",
    "subject",
    "v",
    "api",
];

impl Rule for MissingCompensation {
    fn id(&self) -> &'static str {
        "missing-compensation"
    }

    fn summary(&self) -> &'static str {
        "a saga step on another service is not undone when a later step fails"
    }

    fn source(&self) -> &'static str {
        include_str!("missing_compensation.rs")
    }

    fn default_level(&self) -> Level {
        Level::Warn
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let behaviour = cx.behaviour();
        let lexicon = Lexicon::new(cx.config);
        // Functions are judged in parallel, each worker with its own memo of the remote
        // actions behind a call; findings are sorted after every rule ran.
        let found: Vec<Finding> = (0..cx.model.functions.len())
            .into_par_iter()
            .filter(|&f| !cx.is_test(cx.model.functions[f].span))
            .map_init(RemoteIndex::new, |index, f| {
                let mut found = Vec::new();
                self.orchestrated(cx, behaviour, &lexicon, index, f, &mut found);
                self.step_object(cx, behaviour, f, &mut found);
                found
            })
            .flatten_iter()
            .collect();
        out.extend(found);
        self.choreography(cx, behaviour, &lexicon, out);
    }
}

// ---------------------------------------------------------------------------------------------
// Names: words, verbs, nouns.

/// `reserveStock`, `reserve_stock`, `orders.v1.placed`, `Event::PaymentFailed` -> lower-case
/// words, versions and digits dropped, `canceled` spelled `cancelled`, `timed out` joined.
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            current.push(c.to_ascii_lowercase());
        } else {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = false;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    let mut cleaned: Vec<String> = Vec::new();
    for word in out {
        let version = word.starts_with('v') && word[1..].chars().all(|c| c.is_ascii_digit());
        if version || word.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let word = match word.as_str() {
            "canceled" => "cancelled".to_owned(),
            "out" if cleaned.last().is_some_and(|w| w == "timed") => {
                cleaned.pop();
                "timedout".to_owned()
            }
            _ => word,
        };
        cleaned.push(word);
    }
    cleaned
}

/// `reservations` -> `reservation`, `entries` -> `entry`.
fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        if stem.len() > 1 {
            return format!("{stem}y");
        }
    }
    if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        return word[..word.len() - 1].to_owned();
    }
    word.to_owned()
}

/// The nouns of a name: its words except the verb, singular, stop words dropped.
fn nouns(words: &[String]) -> Vec<String> {
    words
        .iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| singular(w))
        .collect()
}

/// Built-in and configured pairs.
struct Lexicon<'c> {
    config: &'c Config,
}

impl<'c> Lexicon<'c> {
    fn new(config: &'c Config) -> Self {
        Self { config }
    }

    /// What undoes an action with these verbs and operation names (lower case).
    fn undo_of(&self, verbs: &[String], names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for verb in verbs {
            if let Some((_, undo)) = VERB_PAIRS.iter().find(|(v, _)| v == verb) {
                out.extend(undo.iter().map(|u| (*u).to_owned()));
            }
        }
        for key in verbs.iter().chain(names) {
            if let Some(undo) = self.config.compensations.get(key) {
                out.extend(undo.iter().cloned());
            }
        }
        let mut seen = HashSet::default();
        out.retain(|u| seen.insert(u.clone()));
        out
    }

    /// A verb that takes something another step may have to give back (stock, money, a seat):
    /// a forward verb other than the generic `create`, `place` and `apply` and other than a
    /// verb that itself gives back (`credit`, which undoes a debit), or a configured one.
    fn holds_resources(&self, verb: &str) -> bool {
        self.config.compensations.contains_key(verb)
            || self.is_forward(verb)
                && !matches!(verb, "create" | "place" | "apply")
                && !gives_back(verb)
    }

    /// A verb that has a compensation: a command verb.
    fn is_forward(&self, verb: &str) -> bool {
        VERB_PAIRS.iter().any(|(v, _)| *v == verb) || self.config.compensations.contains_key(verb)
    }
}

/// What an effect does, read from its names: verbs, nouns, and the operation names (for
/// configured pairs).
#[derive(Debug, Clone, Default)]
struct Action {
    /// How the message names it: `reserve_stock`, `POST /reservations`.
    label: String,
    verbs: Vec<String>,
    nouns: Vec<String>,
    names: Vec<String>,
    /// Undoes whatever came before (`compensate_all`, `undo_stack.run()`).
    generic: bool,
}

/// `POST /stock/{}/reserve` -> reserve stock; `POST /reservations` -> create/reserve
/// reservation; `DELETE /reservations/{}` -> delete reservation.
fn http_action(method: HttpMethod, operation: &str) -> Action {
    let path = operation.split('?').next().unwrap_or(operation);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let literal = |s: &&str| !s.starts_with('{') && !s.starts_with(':') && !s.starts_with('<');
    let literals: Vec<&str> = segments.iter().copied().filter(literal).collect();
    let ends_in_hole = segments.last().is_some_and(|s| !literal(s));
    let mut action = Action {
        label: if operation.is_empty() {
            method.as_str().to_owned()
        } else {
            format!("{} {operation}", method.as_str())
        },
        ..Action::default()
    };
    let last_words = literals.last().map(|s| words(s)).unwrap_or_default();
    // A plural last segment, or a hole after it, names a resource (`/reservations`,
    // `/reservations/{id}`); a singular last segment names an action on what precedes it
    // (`/stock/{}/reserve`, `/orders/{id}/confirm`).
    let collection = last_words.last().is_some_and(|w| singular(w) != *w);
    if ends_in_hole || collection || last_words.is_empty() {
        action.nouns = nouns(&last_words);
        let verb = match method {
            // A `PUT` may create or replace: only its noun (`/reservations/{id}`) says it holds
            // something.
            HttpMethod::Post => "create",
            HttpMethod::Delete => "delete",
            _ => "update",
        };
        let sent = last_words
            .iter()
            .any(|w| NOT_UNDONE.contains(&singular(w).as_str()));
        action.verbs.push(
            if sent && verb == "create" {
                "send"
            } else {
                verb
            }
            .to_owned(),
        );
        if matches!(method, HttpMethod::Post | HttpMethod::Put) {
            for noun in &action.nouns {
                if let Some((_, verb)) = NOMINALS.iter().find(|(n, _)| n == noun) {
                    action.verbs.push((*verb).to_owned());
                }
            }
        }
    } else {
        action.verbs.push(last_words[0].clone());
        action.nouns = nouns(&last_words[1..]);
        if literals.len() >= 2 {
            action
                .nouns
                .extend(nouns(&words(literals[literals.len() - 2])));
        }
    }
    action.names.push(literals.join("_").to_ascii_lowercase());
    action
}

/// `reserve_stock` -> reserve stock.
fn name_action(name: &str) -> Action {
    let ws = words(name);
    let mut action = Action {
        label: name.to_owned(),
        names: vec![name.to_ascii_lowercase()],
        ..Action::default()
    };
    if let Some((verb, rest)) = ws.split_first() {
        action.verbs.push(verb.clone());
        action.nouns = nouns(rest);
    }
    action
}

fn is_read(action: &Action) -> bool {
    action
        .verbs
        .first()
        .is_some_and(|v| READ_VERBS.contains(&v.as_str()))
}

/// The remote action of a mutating effect on another service, if the effect is one:
/// a mutating HTTP call, a gRPC or typed-client call that is not a read, or a published
/// command (a topic naming a command verb).
fn remote_action(effect: &Effect, lexicon: &Lexicon<'_>) -> Option<Action> {
    match &effect.kind {
        EffectKind::Remote {
            protocol: RemoteProtocol::Http,
            method: Some(method),
            operation,
            ..
        } if method.is_mutating() => Some(http_action(*method, operation)),
        EffectKind::Remote {
            protocol,
            operation,
            target,
            ..
        } if *protocol != RemoteProtocol::Http => {
            let infrastructure = *protocol == RemoteProtocol::Client
                && target.as_deref().is_some_and(|t| {
                    words(t)
                        .iter()
                        .any(|w| INFRASTRUCTURE_CLIENTS.contains(&singular(w).as_str()))
                });
            let action = name_action(operation);
            (!infrastructure && !action.verbs.is_empty() && !is_read(&action)).then_some(action)
        }
        EffectKind::Publish {
            destination: Some(destination),
            ..
        } => {
            let ws = words(destination);
            let at = ws.iter().position(|w| lexicon.is_forward(w))?;
            let mut nouns_of = nouns(&ws[at + 1..]);
            nouns_of.extend(nouns(&ws[..at]));
            Some(Action {
                label: destination.clone(),
                verbs: vec![ws[at].clone()],
                nouns: nouns_of,
                names: vec![destination.to_ascii_lowercase()],
                generic: false,
            })
        }
        _ => None,
    }
}

/// Last words of a type that is a request or response body rather than a message.
const BODY_WORDS: &[&str] = &[
    "request", "response", "body", "payload", "dto", "params", "input", "form", "query", "reply",
];

/// A command payload named as an imperative (`FlightCommand::HoldSeats`, `ReserveStock`,
/// `ChargeCardCommand`): a forward verb first, and no outcome (`StockReserved` is an event).
fn command_action(name: &str, lexicon: &Lexicon<'_>) -> Option<Action> {
    let event = EventName::new(name)?;
    if event.outcome.is_some() {
        return None;
    }
    let last = name.rsplit("::").next().unwrap_or(name);
    let ws: Vec<String> = words(last)
        .into_iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect();
    let (verb, rest) = ws.split_first()?;
    // `ChargeRequest`, `ReserveBody`: the body of an HTTP call, not a message.
    let body = rest
        .last()
        .is_some_and(|w| BODY_WORDS.contains(&w.as_str()));
    if !lexicon.is_forward(verb) || body {
        return None;
    }
    let mut nouns_of = nouns(rest);
    if nouns_of.is_empty() {
        // `PaymentCommand::Charge`: the enum names what is charged.
        let owner = name.rsplit("::").nth(1).unwrap_or_default();
        nouns_of = nouns(&words(owner));
    }
    Some(Action {
        label: name.to_owned(),
        verbs: vec![verb.clone()],
        nouns: nouns_of,
        names: vec![ws.join("_"), name.to_ascii_lowercase()],
        generic: false,
    })
}

/// The command a publish without an imperative destination sends, from its payload: an
/// imperative payload built in the publish's arguments or chain (`send_command(&app,
/// FlightCommand::HoldSeats { .. })`, `.message_body(..)`), else the last one built before
/// it with no other remote call or publish in between.
fn published_command(
    function: &Function,
    effect: &Effect,
    lexicon: &Lexicon<'_>,
) -> Option<Action> {
    if !matches!(effect.kind, EffectKind::Publish { .. }) {
        return None;
    }
    let boundary = |e: &Effect| {
        e.span.start != effect.span.start
            && matches!(
                e.kind,
                EffectKind::Publish { .. } | EffectKind::Remote { .. }
            )
    };
    let next = function
        .effects
        .iter()
        .filter(|e| boundary(e) && e.span.start > effect.span.start)
        .map(|e| e.span.start)
        .min()
        .unwrap_or(u32::MAX);
    let previous = function
        .effects
        .iter()
        .filter(|e| boundary(e) && e.span.start < effect.span.start)
        .map(|e| e.span.start)
        .max();
    let payloads: Vec<(u32, Action)> = function
        .effects
        .iter()
        .filter(|e| e.context == effect.context)
        .filter_map(|e| match &e.kind {
            EffectKind::Event {
                name,
                role: EventRole::Constructed,
            } => command_action(name, lexicon).map(|a| (e.span.start, a)),
            _ => None,
        })
        .collect();
    let within = payloads
        .iter()
        .filter(|(at, _)| *at >= effect.span.start && *at < next)
        .min_by_key(|(at, _)| *at);
    let before = || {
        payloads
            .iter()
            .filter(|(at, _)| *at < effect.span.start && previous.is_none_or(|p| *at > p))
            .max_by_key(|(at, _)| *at)
    };
    within.or_else(before).map(|(_, a)| a.clone())
}

// ---------------------------------------------------------------------------------------------
// Orchestrated sagas.

/// One step of a saga: the effect in the orchestrating function and what it does.
struct Step<'m> {
    effect: &'m Effect,
    action: Action,
    /// The remote call behind a wrapper (`POST /reservations` behind `reserve_stock`).
    via: Option<String>,
}

/// Remote actions each function reaches (itself and its callees, up to `CALL_DEPTH - 1` calls
/// deep), computed once per function: every call of the workspace asks.
struct RemoteIndex {
    behind: std::cell::RefCell<HashMap<usize, std::rc::Rc<Vec<Action>>>>,
    /// The action each called name spells: names repeat across a workspace.
    named: std::cell::RefCell<HashMap<String, std::rc::Rc<Action>>>,
}

impl RemoteIndex {
    fn new() -> Self {
        Self {
            behind: std::cell::RefCell::new(HashMap::default()),
            named: std::cell::RefCell::new(HashMap::default()),
        }
    }

    fn name_action(&self, name: &str) -> std::rc::Rc<Action> {
        if let Some(found) = self.named.borrow().get(name) {
            return found.clone();
        }
        let action = std::rc::Rc::new(name_action(name));
        self.named
            .borrow_mut()
            .insert(name.to_owned(), action.clone());
        action
    }

    fn of(
        &self,
        behaviour: &Behaviour<'_>,
        lexicon: &Lexicon<'_>,
        callee: usize,
    ) -> std::rc::Rc<Vec<Action>> {
        if let Some(found) = self.behind.borrow().get(&callee) {
            return found.clone();
        }
        let mut actions = Vec::new();
        for g in reach(behaviour, callee, CALL_DEPTH - 1) {
            for effect in &behaviour.function(g).effects {
                if effect.context != PathContext::Normal {
                    continue;
                }
                if let Some(action) = remote_action(effect, lexicon) {
                    actions.push(action);
                }
            }
        }
        let actions = std::rc::Rc::new(actions);
        self.behind.borrow_mut().insert(callee, actions.clone());
        actions
    }
}

/// Remote actions reachable from a call.
fn remote_actions_behind(
    behaviour: &Behaviour<'_>,
    lexicon: &Lexicon<'_>,
    index: &RemoteIndex,
    f: usize,
    name: &str,
    receiver: Option<&str>,
) -> Vec<Action> {
    let mut out = Vec::new();
    for callee in callees(behaviour, f, name, receiver) {
        out.extend(index.of(behaviour, lexicon, callee).iter().cloned());
    }
    out
}

fn step_of<'m>(
    behaviour: &Behaviour<'m>,
    lexicon: &Lexicon<'_>,
    index: &RemoteIndex,
    f: usize,
    effect: &'m Effect,
) -> Option<Step<'m>> {
    if effect.context != PathContext::Normal {
        return None;
    }
    let function = behaviour.function(f);
    if let Some(action) =
        remote_action(effect, lexicon).or_else(|| published_command(function, effect, lexicon))
    {
        return Some(Step {
            effect,
            action,
            via: None,
        });
    }
    let EffectKind::Call { name, receiver } = &effect.kind else {
        return None;
    };
    // A publisher wrapper's call is also recorded as a publish at the same place: one step
    // when that publish is one.
    let publish_is_step = function.effects.iter().any(|e| {
        e.span.start == effect.span.start
            && matches!(e.kind, EffectKind::Publish { .. })
            && remote_action(e, lexicon)
                .or_else(|| published_command(function, e, lexicon))
                .is_some()
    });
    if publish_is_step {
        return None;
    }
    let named = index.name_action(name);
    if is_read(&named) {
        return None;
    }
    let behind = remote_actions_behind(behaviour, lexicon, index, f, name, receiver.as_deref());
    if behind.is_empty() {
        // A client of another service the project does not define (generated from a proto
        // in another crate, or external), held under that service's name:
        // `pricing.lock_quote(..)`.
        // Cheapest test first: most calls are not forward actions.
        let forward = named.verbs.first().is_some_and(|v| lexicon.is_forward(v));
        let unresolved = forward
            && receiver
                .as_deref()
                .is_some_and(|r| names_other_service(behaviour, f, r))
            && callees(behaviour, f, name, receiver.as_deref()).is_empty();
        return unresolved.then(|| Step {
            effect,
            action: Action::clone(&named),
            via: None,
        });
    }
    let mut action = Action::clone(&named);
    let first = behind.first()?;
    let via = Some(first.label.clone());
    let named_verb_known = action.verbs.iter().any(|v| lexicon.is_forward(v));
    let generic_name = action
        .verbs
        .first()
        .is_some_and(|v| GENERIC_CALLS.contains(&v.as_str()));
    if behind.len() == 1 && !generic_name {
        // A thin wrapper: what it calls tells what it does when its name does not.
        if !named_verb_known {
            action.verbs.extend(first.verbs.iter().cloned());
        }
        action.nouns.extend(first.nouns.iter().cloned());
        action.names.extend(first.names.iter().cloned());
    }
    Some(Step {
        effect,
        action,
        via,
    })
}

/// Words of a receiver that say it is a client rather than what it talks to.
const CLIENT_WORDS: &[&str] = &["client", "svc", "service", "api", "grpc", "rpc", "stub"];

/// A receiver named after another service of the workspace (`pricing`, `pricing_svc`), by
/// the service's name or a name its deployment gives it.
fn names_other_service(behaviour: &Behaviour<'_>, f: usize, receiver: &str) -> bool {
    let significant = |name: &str| -> Vec<String> {
        words(name)
            .iter()
            .map(|w| singular(w))
            .filter(|w| !CLIENT_WORDS.contains(&w.as_str()))
            .collect()
    };
    let wanted = significant(receiver);
    if wanted.is_empty() {
        return false;
    }
    let own = behaviour.services_of(f);
    behaviour
        .model
        .services
        .iter()
        .filter(|s| !own.contains(&s.id))
        .any(|s| {
            std::iter::once(&s.name)
                .chain(&s.deploy_names)
                .any(|n| significant(n) == wanted)
        })
}

/// Compensations that run outside the saga function: on the error paths of its callers after
/// the call (a caller that compensates when the whole saga fails), and in `Drop` guards of
/// its crate (a guard that releases unless disarmed).
fn outside_compensations(behaviour: &Behaviour<'_>, f: usize) -> Vec<Action> {
    let saga = behaviour.function(f);
    let mut out = Vec::new();
    for (g, caller) in behaviour.model.functions.iter().enumerate() {
        if g == f {
            continue;
        }
        if caller.name == "drop"
            && caller.impl_trait.as_deref() == Some("Drop")
            && caller.crate_id == saga.crate_id
        {
            for effect in &caller.effects {
                undo_actions(behaviour, g, effect, &mut out);
            }
            continue;
        }
        let calls_saga: Vec<u32> = caller
            .effects
            .iter()
            .filter_map(|e| match &e.kind {
                EffectKind::Call { name, receiver }
                    if *name == saga.name
                        && callees(behaviour, g, name, receiver.as_deref()).contains(&f) =>
                {
                    Some(e.span.start)
                }
                _ => None,
            })
            .collect();
        let Some(first_call) = calls_saga.into_iter().min() else {
            continue;
        };
        for effect in &caller.effects {
            let undo_path = match effect.context {
                PathContext::Error => effect.span.start > first_call,
                PathContext::Deferred => true,
                PathContext::Normal => false,
            };
            if undo_path {
                undo_actions(behaviour, g, effect, &mut out);
            }
        }
    }
    out
}

/// Receivers of a database transaction: its `rollback` undoes only local writes.
fn is_transaction(receiver: Option<&str>) -> bool {
    receiver.is_some_and(|r| {
        let r = r.to_ascii_lowercase();
        matches!(r.as_str(), "tx" | "txn" | "trx" | "t")
            || ["transaction", "conn", "db", "pool", "session"]
                .iter()
                .any(|w| r.contains(w))
    })
}

/// What an effect on a compensation path does, with what the functions it calls do.
fn undo_actions(behaviour: &Behaviour<'_>, f: usize, effect: &Effect, out: &mut Vec<Action>) {
    match &effect.kind {
        EffectKind::Call { name, receiver } => {
            if name == "rollback" && is_transaction(receiver.as_deref()) {
                return;
            }
            let mut action = name_action(name);
            action.generic = receiver.as_deref().is_some_and(|r| {
                let r = r.to_ascii_lowercase();
                ["compensat", "undo", "rollback", "revert"]
                    .iter()
                    .any(|w| r.contains(w))
            });
            out.push(action);
            let mut seen = HashSet::default();
            for callee in callees(behaviour, f, name, receiver.as_deref()) {
                for g in reach(behaviour, callee, CALL_DEPTH - 1) {
                    if !seen.insert(g) {
                        continue;
                    }
                    for inner in &behaviour.function(g).effects {
                        match &inner.kind {
                            EffectKind::Call { name, receiver } => {
                                // Their callees are already among the reached functions.
                                if !(name == "rollback" && is_transaction(receiver.as_deref())) {
                                    out.push(name_action(name));
                                }
                            }
                            // A request to a URL whose path is unknown tells only its method;
                            // the call's name tells more.
                            EffectKind::Remote {
                                protocol: RemoteProtocol::Http,
                                operation,
                                ..
                            } if operation.is_empty() => {}
                            _ => direct_undo_action(inner, out),
                        }
                    }
                }
            }
        }
        _ => direct_undo_action(effect, out),
    }
}

fn direct_undo_action(effect: &Effect, out: &mut Vec<Action>) {
    match &effect.kind {
        EffectKind::Remote {
            protocol: RemoteProtocol::Http,
            method: Some(method),
            operation,
            ..
        } => out.push(http_action(*method, operation)),
        EffectKind::Remote { operation, .. } => out.push(name_action(operation)),
        EffectKind::Publish {
            destination: Some(destination),
            ..
        } => {
            let ws = words(destination);
            out.push(Action {
                label: destination.clone(),
                verbs: ws.clone(),
                nouns: nouns(&ws),
                names: vec![destination.to_ascii_lowercase()],
                generic: false,
            });
        }
        EffectKind::Event { name, .. } => {
            let last = name.rsplit("::").next().unwrap_or(name);
            let mut action = name_action(last);
            action.names.push(name.to_ascii_lowercase());
            out.push(action);
        }
        _ => {}
    }
}

/// Subjects naming the same aggregate: one starts with the other (`order` and `order line`,
/// not `order` and `marketplace order`).
fn same_aggregate(a: &[String], b: &[String]) -> bool {
    !a.is_empty() && !b.is_empty() && (a.starts_with(b) || b.starts_with(a))
}

fn overlaps(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| b.contains(x))
}

fn is_generic_undo(candidate: &Action) -> bool {
    candidate.generic
        || candidate
            .verbs
            .iter()
            .any(|v| GENERIC_UNDO.iter().any(|g| v.starts_with(g)))
        || candidate.names.iter().any(|n| n.starts_with("roll_back"))
}

/// True when `candidate` undoes `step` (among `others`, the other steps of the saga).
/// `generic_counts`: a generic undo (`compensate_all()`, draining an undo stack) counts.
fn compensates(
    candidate: &Action,
    step: &Action,
    undo: &[String],
    others: &[&Action],
    generic_counts: bool,
) -> bool {
    if is_generic_undo(candidate) {
        return generic_counts;
    }
    let verb_matches = candidate.verbs.iter().any(|v| undo.contains(v))
        || candidate.names.iter().any(|n| undo.contains(n));
    if !verb_matches {
        return false;
    }
    // Nouns: unknown on either side, shared, or at least not another step's.
    candidate.nouns.is_empty()
        || step.nouns.is_empty()
        || overlaps(&candidate.nouns, &step.nouns)
        || !others.iter().any(|o| overlaps(&candidate.nouns, &o.nouns))
}

impl MissingCompensation {
    fn orchestrated(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        lexicon: &Lexicon<'_>,
        index: &RemoteIndex,
        f: usize,
        out: &mut Vec<Finding>,
    ) {
        let function = behaviour.function(f);
        // A binary's entry point wires and starts a service, or drives another service's API
        // as a command-line tool; it serves no request that a failure leaves half done.
        if function.name == "main" && function.impl_type.is_none() {
            return;
        }
        let mut effects: Vec<&Effect> = function.effects.iter().collect();
        effects.sort_by_key(|e| e.span.start);
        let steps: Vec<Step<'_>> = effects
            .iter()
            .filter_map(|e| step_of(behaviour, lexicon, index, f, e))
            .collect();
        if steps.len() < 2 {
            return;
        }
        // What each effect on an undo path (an error path, a registered undo closure) does.
        let undo_paths: Vec<(&Effect, Vec<Action>)> = effects
            .iter()
            .filter(|e| e.context != PathContext::Normal)
            .map(|e| {
                let mut candidates = Vec::new();
                undo_actions(behaviour, f, e, &mut candidates);
                (*e, candidates)
            })
            .collect();
        let undo_of: Vec<Vec<String>> = steps
            .iter()
            .map(|s| lexicon.undo_of(&s.action.verbs, &s.action.names))
            .collect();
        let others_of = |k: usize| -> Vec<&Action> {
            steps
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .map(|(_, s)| &s.action)
                .collect()
        };
        // When the function registers undo actions of its own steps, draining the stack runs
        // only those: the registrations are the evidence, not the drain.
        let registers = undo_paths
            .iter()
            .filter(|(e, _)| e.context == PathContext::Deferred)
            .any(|(_, candidates)| {
                candidates.iter().any(|c| {
                    steps.iter().enumerate().any(|(k, s)| {
                        !undo_of[k].is_empty()
                            && compensates(c, &s.action, &undo_of[k], &others_of(k), false)
                    })
                })
            });
        // In a dispatching function, steps run on different messages (`match` arms on event
        // names) are alternatives, not a sequence.
        let matched: Vec<u32> = effects
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EffectKind::Event {
                        role: EventRole::Matched,
                        ..
                    }
                )
            })
            .map(|e| e.span.start)
            .collect();
        let same_message = |a: &Step<'_>, b: &Step<'_>| {
            !matched
                .iter()
                .any(|m| *m > a.effect.span.start && *m < b.effect.span.start)
        };
        let outside = outside_compensations(behaviour, f);
        // A later step fails the saga when its error is propagated (`?`), returned by the arm
        // that matches it, or handled on an error path after it and before the next step; a
        // step whose result is thrown away (`let _ =`, `.ok()`, a best-effort notification)
        // does not.
        let fails_saga = |j: usize, s: &Step<'_>| {
            let next = steps.get(j + 1).map_or(u32::MAX, |n| n.effect.span.start);
            s.effect.propagates
                || s.effect.error_returned
                || effects.iter().any(|e| {
                    e.context == PathContext::Error
                        && e.span.start > s.effect.span.start
                        && e.span.start < next
                })
        };
        for (k, step) in steps.iter().enumerate() {
            let undo = &undo_of[k];
            if undo.is_empty() {
                continue;
            }
            let others = others_of(k);
            let undoes = |(e, candidates): &(&Effect, Vec<Action>)| {
                let generic_counts = e.context == PathContext::Deferred || !registers;
                candidates
                    .iter()
                    .any(|c| compensates(c, &step.action, undo, &others, generic_counts))
            };
            // Registered undo actions and compensations outside the function cover every
            // later failure.
            let registered = undo_paths
                .iter()
                .filter(|(e, _)| e.context == PathContext::Deferred)
                .any(undoes)
                || outside
                    .iter()
                    .any(|c| compensates(c, &step.action, undo, &others, true));
            if registered {
                continue;
            }
            let on_any_error_path = undo_paths
                .iter()
                .filter(|(e, _)| {
                    e.context == PathContext::Error && e.span.start > step.effect.span.start
                })
                .any(undoes);
            // The first later step whose failure leaves this one undone: one handled right
            // there (an `Err` arm after it, before the next step) without this compensation,
            // or, when its error goes further up (`?`), one with no compensation of this step
            // on any error path after it.
            let uncovered = steps
                .iter()
                .enumerate()
                .skip(k + 1)
                .filter(|(j, s)| fails_saga(*j, s) && same_message(step, s))
                .find(|(j, later)| {
                    let next = steps.get(j + 1).map_or(u32::MAX, |n| n.effect.span.start);
                    let local: Vec<&(&Effect, Vec<Action>)> = undo_paths
                        .iter()
                        .filter(|(e, _)| {
                            e.context == PathContext::Error
                                && e.span.start > later.effect.span.start
                                && e.span.start < next
                        })
                        .collect();
                    if later.effect.error_returned && !later.effect.propagates {
                        // Its error arm returns: the undo must run there.
                        !local.into_iter().any(undoes)
                    } else if later.effect.propagates || local.is_empty() {
                        !on_any_error_path
                    } else {
                        !local.into_iter().any(undoes)
                    }
                });
            if let Some((j, later)) = uncovered {
                out.push(self.orchestrated_finding(cx, behaviour, f, (k, step), (j, later), undo));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn orchestrated_finding(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        f: usize,
        (k, step): (usize, &Step<'_>),
        (j, later): (usize, &Step<'_>),
        undo: &[String],
    ) -> Finding {
        let function = behaviour.function(f);
        let via = step
            .via
            .as_deref()
            .map(|v| format!(", `{v}`"))
            .unwrap_or_default();
        let message = format!(
            "`{}` (step {} of `{}`{via}) is not undone when `{}` (step {}) fails: no {} on the error path",
            step.action.label,
            k + 1,
            function.name,
            later.action.label,
            j + 1,
            undo.iter()
                .map(|u| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join("/"),
        );
        Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message,
            span: step.effect.span,
            label: "completed step without compensation".into(),
            help: HELP.into(),
            related: vec![Related {
                span: later.effect.span,
                label: "a later step that can fail".into(),
            }],
            services: service_names(cx, behaviour.services_of(f)),
            table: None,
            database: None,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Step objects.

    fn step_object(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        g: usize,
        out: &mut Vec<Finding>,
    ) {
        let undo = behaviour.function(g);
        if !undo.trivial_body || undo.impl_trait.is_none() || undo.impl_type.is_none() {
            return;
        }
        let forward_names: Vec<&str> = STEP_METHODS
            .iter()
            .filter(|(_, back)| *back == undo.name)
            .map(|(forward, _)| *forward)
            .collect();
        if forward_names.is_empty() {
            return;
        }
        let forward = cx.model.functions.iter().enumerate().find(|(_, h)| {
            h.crate_id == undo.crate_id
                && h.body.file == undo.body.file
                && h.impl_type == undo.impl_type
                && h.impl_trait == undo.impl_trait
                && forward_names.contains(&h.name.as_str())
        });
        let Some((h, forward)) = forward else {
            return;
        };
        // Database writes made in a transaction the step is given are undone by its rollback.
        let in_transaction = forward
            .param_types
            .iter()
            .any(|t| t.ends_with("Transaction") || t == "Tx");
        let Some(change) = first_change_where(behaviour, h, false).or_else(|| {
            (!in_transaction)
                .then(|| first_change(behaviour, h))
                .flatten()
        }) else {
            return;
        };
        let ty = undo.impl_type.as_deref().unwrap_or_default();
        let message = format!(
            "`{ty}::{}` does nothing, but `{ty}::{}` ({} step) changes another system ({change}): \
             when a later step fails, it stays done",
            undo.name,
            forward.name,
            undo.impl_trait.as_deref().unwrap_or_default(),
        );
        out.push(Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message,
            span: undo.span,
            label: "empty compensation".into(),
            help: HELP.into(),
            related: vec![Related {
                span: forward.span,
                label: "the forward action it should undo".into(),
            }],
            services: service_names(cx, behaviour.services_of(g)),
            table: None,
            database: None,
        });
    }

    // -----------------------------------------------------------------------------------------
    // Choreographed sagas.

    fn choreography(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        lexicon: &Lexicon<'_>,
        out: &mut Vec<Finding>,
    ) {
        let model = cx.model;
        let published = published_events(cx, behaviour);
        // Each function is read once, its handled events going to every service of its crate.
        let mut handled_by: HashMap<ServiceId, Vec<Handled>> =
            model.services.iter().map(|s| (s.id, Vec::new())).collect();
        for (g, function) in model.functions.iter().enumerate() {
            let mut services = cx.services_of_crate(function.crate_id).peekable();
            if services.peek().is_none() {
                continue;
            }
            let handled = handled_in(behaviour, g);
            if handled.is_empty() {
                continue;
            }
            for service in services {
                if let Some(list) = handled_by.get_mut(&service.id) {
                    list.extend(handled.iter().cloned());
                }
            }
        }
        let handlers: Vec<usize> = behaviour
            .message_handlers()
            .into_iter()
            .filter(|(_, kind)| matches!(kind, HandlerKind::Message(_)))
            .map(|(f, _)| f)
            .collect();
        let mut reported: HashSet<(ServiceId, Span)> = HashSet::default();
        for service in &model.services {
            let mut dispatchers = BTreeSet::new();
            for &h in &handlers {
                if !service.crates.contains(&behaviour.function(h).crate_id) {
                    continue;
                }
                for g in reach(behaviour, h, CALL_DEPTH) {
                    if service.crates.contains(&behaviour.function(g).crate_id) {
                        dispatchers.insert(g);
                    }
                }
            }
            let handled = handled_by
                .get(&service.id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let undo_run: Vec<(String, Action)> = dispatchers
                .iter()
                .flat_map(|&g| actions_on_messages(behaviour, g))
                .collect();
            for &g in &dispatchers {
                if cx.is_test(behaviour.function(g).span) {
                    continue;
                }
                for (trigger, effect, action) in triggered_actions(behaviour, lexicon, g) {
                    if trigger.is_failure() {
                        continue;
                    }
                    let undo = lexicon.undo_of(&action.verbs, &action.names);
                    if undo.is_empty() {
                        continue;
                    }
                    // A participant that runs the undo on a message it handles (a
                    // `ReleaseSeats` command next to `HoldSeats`) has the flow's undo.
                    let undone = undo_run.iter().any(|(on, c)| {
                        *on != trigger.key
                            && !c.generic
                            && (c.verbs.iter().any(|v| undo.contains(v))
                                || c.names.iter().any(|n| undo.contains(n)))
                            && (c.nouns.is_empty()
                                || action.nouns.is_empty()
                                || overlaps(&c.nouns, &action.nouns))
                    });
                    if undone {
                        continue;
                    }
                    let flow =
                        failure_events_of_flow(cx, &published, &handled_by, service.id, &trigger);
                    if flow.is_empty() {
                        continue;
                    }
                    let in_flow: Vec<&Handled> = handled
                        .iter()
                        .filter(|h| {
                            h.event.is_failure()
                                && flow.iter().any(|(f, _)| {
                                    f.key == h.event.key || overlaps(&f.subject, &h.event.subject)
                                })
                        })
                        .collect();
                    if in_flow.iter().any(|h| h.acts) || !reported.insert((service.id, effect.span))
                    {
                        continue;
                    }
                    out.push(self.choreography_finding(
                        cx,
                        service.id,
                        (&trigger, effect, &action),
                        &flow,
                        in_flow.first().copied(),
                        &undo,
                    ));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn choreography_finding(
        &self,
        cx: &RuleContext<'_>,
        service: ServiceId,
        (trigger, effect, action): (&EventName, &Effect, &Action),
        flow: &[(EventName, Vec<String>)],
        ignored: Option<&Handled>,
        undo: &[String],
    ) -> Finding {
        let mut events: Vec<String> = Vec::new();
        for (event, publishers) in flow {
            let by = if publishers.is_empty() {
                String::new()
            } else {
                format!(
                    " (from {})",
                    list_names(publishers.iter().map(String::as_str))
                )
            };
            let text = format!("`{}`{by}", event.display);
            if !events.contains(&text) {
                events.push(text);
            }
        }
        events.truncate(4);
        let undo_names = undo
            .iter()
            .map(|u| format!("`{u}`"))
            .collect::<Vec<_>>()
            .join("/");
        let message = match ignored {
            Some(handled) => format!(
                "service `{}` runs `{}` on `{}` but does nothing on `{}`, the failure event of \
                 that flow it handles: nothing runs {undo_names} when the saga fails later",
                cx.service_name(service),
                action.label,
                trigger.display,
                handled.event.display,
            ),
            None => format!(
                "service `{}` runs `{}` on `{}` but handles none of the failure events of that \
                 flow ({}): nothing runs {undo_names} when the saga fails later",
                cx.service_name(service),
                action.label,
                trigger.display,
                events.join(", "),
            ),
        };
        let related = ignored
            .map(|h| Related {
                span: h.span,
                label: "failure event handled without compensation".into(),
            })
            .into_iter()
            .collect();
        let mut services = vec![cx.service_name(service).to_string()];
        for (_, publishers) in flow {
            for p in publishers {
                if !services.contains(p) {
                    services.push(p.clone());
                }
            }
        }
        Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message,
            span: effect.span,
            label: "compensable action without a failure handler".into(),
            help: HELP.into(),
            related,
            services,
            table: None,
            database: None,
        }
    }
}

/// Project functions a call can reach. A generic method name on an unnamed receiver
/// (`sqlx::query(..).execute(&pool)`) is a library's method, not one of the project's methods
/// of the same name (a step object's `execute`), so only free functions are followed there.
fn callees(behaviour: &Behaviour<'_>, f: usize, name: &str, receiver: Option<&str>) -> Vec<usize> {
    let mut found = behaviour.resolve_call(f, name, receiver);
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

/// `f` and the functions it reaches through [`callees`], up to `depth` calls deep.
fn reach(behaviour: &Behaviour<'_>, f: usize, depth: usize) -> Vec<usize> {
    let mut seen = vec![f];
    let mut frontier = vec![f];
    for _ in 0..depth {
        let mut next = Vec::new();
        for &g in &frontier {
            for effect in &behaviour.function(g).effects {
                if let EffectKind::Call { name, receiver } = &effect.kind {
                    for callee in callees(behaviour, g, name, receiver.as_deref()) {
                        if !seen.contains(&callee) {
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
fn first_change(behaviour: &Behaviour<'_>, f: usize) -> Option<String> {
    first_change_where(behaviour, f, true)
}

/// [`first_change`], counting database writes only when `local` is set.
fn first_change_where(behaviour: &Behaviour<'_>, f: usize, local: bool) -> Option<String> {
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
                } if !is_read(&name_action(operation)) => Some(format!("`{operation}`")),
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

/// An event name as published or handled, normalised for comparison.
#[derive(Debug, Clone)]
struct EventName {
    display: String,
    /// Words joined: `PaymentFailed`, `payment.failed`, `payment_failed` -> `paymentfailed`.
    key: String,
    /// The words naming what happened to what, without the outcome (`payment`).
    subject: Vec<String>,
    outcome: Option<String>,
}

impl EventName {
    fn new(name: &str) -> Option<Self> {
        let last = name.rsplit("::").next().unwrap_or(name);
        let mut ws: Vec<String> = words(last)
            .into_iter()
            .filter(|w| !STOP_WORDS.contains(&w.as_str()))
            .collect();
        // `OrderEvent::Cancelled`: the enum names the subject.
        if ws.len() == 1 && name.contains("::") {
            let mut segments = name.rsplit("::");
            let _ = segments.next();
            if let Some(owner) = segments.next() {
                let mut owner_words: Vec<String> = words(owner)
                    .into_iter()
                    .filter(|w| !STOP_WORDS.contains(&w.as_str()))
                    .collect();
                owner_words.append(&mut ws);
                ws = owner_words;
            }
        }
        if ws.is_empty() {
            return None;
        }
        let ws: Vec<String> = ws.iter().map(|w| singular(w)).collect();
        let outcome = ws
            .last()
            .filter(|w| w.ends_with("ed") || FAILURE_OUTCOMES.contains(&w.as_str()))
            .cloned();
        let subject_len = ws.len() - usize::from(outcome.is_some());
        Some(Self {
            display: name.to_owned(),
            key: ws.concat(),
            subject: ws[..subject_len].to_vec(),
            outcome,
        })
    }

    fn is_failure(&self) -> bool {
        self.outcome
            .as_deref()
            .is_some_and(|o| FAILURE_OUTCOMES.contains(&o))
    }
}

/// An event name the workspace publishes and the services that send it.
struct Published {
    event: EventName,
    publishers: Vec<ServiceId>,
}

/// Event names the workspace publishes, with the services that publish them: published
/// topics and payloads constructed by a service, and serialized types (and their variants).
/// A type is published by the services that construct or publish it; a type nobody
/// constructs by the service whose crate declares it, when one service alone has that
/// crate (a type of a shared crate is not sent by every service that links it).
fn published_events(cx: &RuleContext<'_>, behaviour: &Behaviour<'_>) -> Vec<Published> {
    let model = cx.model;
    let services_of =
        |krate: CrateId| -> Vec<ServiceId> { cx.services_of_crate(krate).map(|s| s.id).collect() };
    let mut out: Vec<Published> = Vec::new();
    let mut sent: HashMap<String, Vec<ServiceId>> = HashMap::default();
    for (event, krate) in published_names(behaviour) {
        let publishers = services_of(krate);
        let senders = sent.entry(event.key.clone()).or_default();
        for p in &publishers {
            if !senders.contains(p) {
                senders.push(*p);
            }
        }
        out.push(Published { event, publishers });
    }
    for ty in &model.types {
        let mut names = vec![ty.name.clone()];
        for variant in &ty.variants {
            names.push(format!("{}::{variant}", ty.name));
        }
        names.extend(ty.serde_names.iter().cloned());
        for name in names {
            let Some(event) = EventName::new(&name) else {
                continue;
            };
            let publishers = match sent.get(&event.key) {
                Some(senders) => senders.clone(),
                None => {
                    let declaring = services_of(ty.crate_id);
                    if declaring.len() == 1 {
                        declaring
                    } else {
                        Vec::new()
                    }
                }
            };
            out.push(Published { event, publishers });
        }
    }
    out
}

/// Event names constructed or published in code, with the crate of the function doing it.
fn published_names(behaviour: &Behaviour<'_>) -> Vec<(EventName, CrateId)> {
    let model = behaviour.model;
    let mut out = Vec::new();
    for function in &model.functions {
        for effect in &function.effects {
            let name = match &effect.kind {
                EffectKind::Publish {
                    destination: Some(d),
                    ..
                } => d,
                EffectKind::Event {
                    name,
                    role: EventRole::Constructed,
                } if effect.context != PathContext::Deferred => name,
                _ => continue,
            };
            if let Some(event) = EventName::new(name) {
                out.push((event, function.crate_id));
            }
        }
    }
    out
}

/// An event a service handles, and whether its handling does anything at all.
#[derive(Debug, Clone)]
struct Handled {
    event: EventName,
    /// False for an arm that only logs or returns (`Event::PaymentFailed(_) => Ok(())`).
    acts: bool,
    span: Span,
}

/// Event names a function handles: matched in a `match`/`if let`, subscribed to, or taken as
/// a handler's parameter. A matched event's handling runs up to the next matched event (or
/// the end of the function); it acts when it calls something, talks to another service or a
/// broker, or runs SQL.
fn handled_in(behaviour: &Behaviour<'_>, g: usize) -> Vec<Handled> {
    let mut out = Vec::new();
    let function = behaviour.function(g);
    let mut effects: Vec<&Effect> = function.effects.iter().collect();
    effects.sort_by_key(|e| e.span.start);
    for (i, effect) in effects.iter().enumerate() {
        let (name, acts) = match &effect.kind {
            EffectKind::Event {
                name,
                role: EventRole::Matched,
            } => {
                let end = effects[i + 1..]
                    .iter()
                    .find(|e| {
                        matches!(
                            e.kind,
                            EffectKind::Event {
                                role: EventRole::Matched,
                                ..
                            }
                        )
                    })
                    .map_or(function.body.end, |e| e.span.start);
                let region = effect.span.start..end;
                let acts = effects[i + 1..].iter().any(|e| {
                    region.contains(&e.span.start) && !matches!(e.kind, EffectKind::Event { .. })
                }) || behaviour
                    .queries_of(g)
                    .any(|q| region.contains(&q.span.start));
                (name, acts)
            }
            EffectKind::Consume {
                source: Some(source),
                ..
            } => (source, true),
            _ => continue,
        };
        if let Some(event) = EventName::new(name) {
            out.push(Handled {
                event,
                acts,
                span: effect.span,
            });
        }
    }
    for ty in &function.param_types {
        if crate::extract::rust::looks_like_event(ty) {
            if let Some(event) = EventName::new(ty) {
                out.push(Handled {
                    event,
                    acts: !function.trivial_body,
                    span: function.span,
                });
            }
        }
    }
    out
}

/// The normal-path effects of a dispatching function with the message each runs on: the
/// effects after a matched event up to the next one. A handler taking the event as a
/// parameter triggers on it in its whole body.
fn effects_on_messages<'m>(behaviour: &Behaviour<'m>, g: usize) -> Vec<(EventName, &'m Effect)> {
    let function: &'m Function = behaviour.function(g);
    let mut effects: Vec<&'m Effect> = function.effects.iter().collect();
    effects.sort_by_key(|e| e.span.start);
    let mut trigger: Option<EventName> = function
        .param_types
        .iter()
        .find(|t| crate::extract::rust::looks_like_event(t))
        .and_then(|t| EventName::new(t));
    let mut out = Vec::new();
    for effect in effects {
        if let EffectKind::Event {
            name,
            role: EventRole::Matched,
        } = &effect.kind
        {
            trigger = EventName::new(name);
            continue;
        }
        if let Some(current) = &trigger {
            if effect.context == PathContext::Normal {
                out.push((current.clone(), effect));
            }
        }
    }
    out
}

/// In a dispatching function, the compensable actions run on each matched event.
fn triggered_actions<'m>(
    behaviour: &Behaviour<'m>,
    lexicon: &Lexicon<'_>,
    g: usize,
) -> Vec<(EventName, &'m Effect, Action)> {
    effects_on_messages(behaviour, g)
        .into_iter()
        .filter_map(|(trigger, effect)| {
            let action = match &effect.kind {
                EffectKind::Call { name, receiver } => {
                    let action = name_action(name);
                    let holds = action.verbs.iter().any(|v| lexicon.holds_resources(v));
                    (holds && call_writes(behaviour, g, name, receiver.as_deref()))
                        .then_some(action)?
                }
                _ => remote_action(effect, lexicon)
                    .filter(|a| a.verbs.iter().any(|v| lexicon.holds_resources(v)))?,
            };
            Some((trigger, effect, action))
        })
        .collect()
}

/// Everything a dispatching function runs on the messages it handles, named as actions, with
/// the key of the message they run on.
fn actions_on_messages(behaviour: &Behaviour<'_>, g: usize) -> Vec<(String, Action)> {
    let mut out = Vec::new();
    for (trigger, effect) in effects_on_messages(behaviour, g) {
        let mut actions = Vec::new();
        match &effect.kind {
            EffectKind::Call { name, .. } => actions.push(name_action(name)),
            _ => direct_undo_action(effect, &mut actions),
        }
        out.extend(actions.into_iter().map(|a| (trigger.key.clone(), a)));
    }
    out
}

/// True when a call reaches a change: SQL or ORM writes, a mutating remote call, a publish.
fn call_writes(behaviour: &Behaviour<'_>, f: usize, name: &str, receiver: Option<&str>) -> bool {
    callees(behaviour, f, name, receiver)
        .into_iter()
        .any(|callee| first_change(behaviour, callee).is_some())
}

/// The failure events of the flow `trigger` belongs to, with the services publishing them:
/// failure events naming the same subject as the trigger, and failure events published by a
/// service that consumes something `service` publishes. Events published only by `service`
/// itself are its own outcomes, not failures it must react to.
fn failure_events_of_flow(
    cx: &RuleContext<'_>,
    published: &[Published],
    handled_by: &HashMap<ServiceId, Vec<Handled>>,
    service: ServiceId,
    trigger: &EventName,
) -> Vec<(EventName, Vec<String>)> {
    let own_keys: HashSet<&str> = published
        .iter()
        .filter(|p| p.publishers.contains(&service))
        .map(|p| p.event.key.as_str())
        .collect();
    // Services that consume what this service publishes.
    let downstream: Vec<ServiceId> = handled_by
        .iter()
        .filter(|(s, _)| **s != service)
        .filter(|(_, handled)| {
            handled
                .iter()
                .any(|h| own_keys.contains(h.event.key.as_str()))
        })
        .map(|(s, _)| *s)
        .collect();
    let mut out: Vec<(EventName, Vec<String>)> = Vec::new();
    for Published { event, publishers } in published {
        if !event.is_failure() {
            continue;
        }
        let only_own = !publishers.is_empty() && publishers.iter().all(|p| *p == service);
        if only_own {
            continue;
        }
        let same_subject = same_aggregate(&event.subject, &trigger.subject);
        let from_downstream = publishers.iter().any(|p| downstream.contains(p));
        if !same_subject && !from_downstream {
            continue;
        }
        let names: Vec<String> = publishers
            .iter()
            .filter(|p| **p != service)
            .map(|p| cx.service_name(*p).to_string())
            .collect();
        match out.iter_mut().find(|(e, _)| e.key == event.key) {
            Some((_, existing)) => {
                for n in names {
                    if !existing.contains(&n) {
                        existing.push(n);
                    }
                }
            }
            None => out.push((event.clone(), names)),
        }
    }
    out
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
    fn http_paths_name_actions() {
        let a = http_action(HttpMethod::Post, "/stock/{}/reserve");
        assert_eq!(a.verbs, ["reserve"]);
        assert_eq!(a.nouns, ["stock"]);
        let a = http_action(HttpMethod::Post, "/reservations");
        assert_eq!(a.verbs, ["create", "reserve"]);
        assert_eq!(a.nouns, ["reservation"]);
        let a = http_action(HttpMethod::Delete, "/reservations/{}");
        assert_eq!(a.verbs, ["delete"]);
        let a = http_action(HttpMethod::Post, "/charges/{}/refund");
        assert_eq!(a.verbs, ["refund"]);
        assert_eq!(a.nouns, ["charge"]);
        let a = http_action(HttpMethod::Post, "/orders/{id}/confirm");
        assert_eq!(a.verbs, ["confirm"]);
        let a = http_action(HttpMethod::Post, "/api/v1/notifications");
        assert_eq!(a.verbs, ["send"]);
        let a = http_action(HttpMethod::Post, "/events");
        assert_eq!(a.verbs, ["send"]);
        let a = http_action(HttpMethod::Put, "/bookings/{id}");
        assert_eq!(a.verbs, ["update", "book"]);
        let a = http_action(HttpMethod::Put, "/users/{id}");
        assert_eq!(a.verbs, ["update"]);
    }
}
