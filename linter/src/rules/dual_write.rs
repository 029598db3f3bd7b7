//! ## What it does
//! Flags a publish to a broker (or a mutating call to another service) made by code that also
//! writes its own database, when no transactional outbox is in sight: the publish and the
//! write can each succeed without the other.
//!
//! The publish is a broker send (rdkafka `send` with `FutureRecord::to(..)`, lapin
//! `basic_publish`, async-nats / JetStream `publish`, SQS `send_message`, SNS `publish`, Redis
//! `XADD` / `PUBLISH`, project wrappers named `publish*` / `emit*`), or an HTTP `POST` / `PUT`
//! / `PATCH` / `DELETE`, gRPC or typed-client call that changes something in another service
//! (`charge`, `reserve`, `create_*`). The database write is any `INSERT` / `UPDATE` /
//! `DELETE` / upsert or ORM write on a business table, in the function that publishes or in
//! the functions it calls; for broker publishes also in the handler that calls the
//! publishing function.
//!
//! Not flagged:
//! - an outbox: the event row is inserted into an outbox table (`outbox`, `*_outbox`,
//!   `domain_events`, `integration_events`, `event_entity`) or handed to an outbox library
//!   (`outbox.add(..)`, `save_to_outbox`) by the same code, in the transaction of the business
//!   write (transaction helpers that take a closure included), and relayed later;
//! - the relay itself: code that selects unsent outbox rows (usually `FOR UPDATE SKIP
//!   LOCKED`), publishes them and marks or deletes them, also when the outbox is named
//!   otherwise (an `events` or `pending_messages` table read and updated by the same code);
//! - writes only to bookkeeping tables (inbox, processed messages, idempotency keys);
//! - publishes on an error path (`Err` arms, `map_err` closures): dead letters and failure
//!   events about work that did not happen;
//! - test code.
//!
//! The message names the write and the publish and says when it is worse: when the publish
//! runs before the transaction commits (a rollback leaves an event about a change that never
//! happened), when `let _ = tx.commit()` throws the commit's result away, and when the
//! publish's error is not propagated with `?` (a failed publish is only logged, and the event
//! is lost). Producer-side settings (Kafka `enable.idempotence`, JetStream `Nats-Msg-Id`) do
//! not help: they deduplicate retries of a publish, not a publish that never happened.
//!
//! Default level: `deny`. A write and a publish side by side without an outbox lose or invent
//! events whenever the process, the database or the broker fails between them.
//!
//! ## Why is this bad
//! The database and the broker do not share a transaction. If the service crashes, the broker
//! is down, or the publish times out after the commit, the change is stored but nobody hears
//! about it: other services keep a stale view forever (an order cancelled but its stock still
//! reserved). Publishing first is no better: the event goes out, then the write fails or rolls
//! back, and the other services act on a change that never happened.
//!
//! ## Example
//! ```rust,ignore
//! sqlx::query("UPDATE orders SET status = 'cancelled' WHERE id = $1")
//!     .bind(order_id)
//!     .execute(&state.pool)
//!     .await?;
//! let published = state
//!     .channel
//!     .basic_publish(EXCHANGE, ORDER_CANCELLED, BasicPublishOptions::default(), &body, props)
//!     .await;
//! if let Err(error) = published {
//!     tracing::error!(%error, "publishing OrderCancelled failed"); // the event is lost
//! }
//! ```
//!
//! ## How to fix
//! Use a transactional outbox: insert the event into an `outbox` table in the same
//! transaction as the business write, and let a relay publish committed rows and mark them
//! published:
//! ```rust,ignore
//! let mut tx = state.pool.begin().await?;
//! sqlx::query("UPDATE orders SET status = 'cancelled' WHERE id = $1")
//!     .bind(order_id).execute(&mut *tx).await?;
//! sqlx::query("INSERT INTO outbox (routing_key, payload) VALUES ($1, $2)")
//!     .bind(ORDER_CANCELLED).bind(payload).execute(&mut *tx).await?;
//! tx.commit().await?;
//! // relay: SELECT .. FROM outbox WHERE published_at IS NULL FOR UPDATE SKIP LOCKED,
//! // publish, UPDATE outbox SET published_at = now()
//! ```
//! Consumers must then be idempotent (the relay publishes at least once). Change data
//! capture on the outbox table (Debezium) works as the relay too. For a call to another
//! service, record the request in the outbox and make the call from the relay, or make the
//! call a step of a saga with a compensation.

use std::collections::HashSet;

use crate::behaviour::{
    broker_name, is_dedup_table, is_mutating_operation, is_outbox_table, is_read_like_operation,
    orm_write_table, Behaviour, CALL_DEPTH,
};
use crate::model::{
    Access, Effect, EffectKind, PathContext, RemoteProtocol, Span, StatementEffect,
};
use crate::rules::{Confidence, Finding, Related, Rule, RuleContext};

pub struct DualWrite;

const HELP: &str = "insert the event into an outbox table in the same database transaction as \
                    the write and let a relay publish it (a transactional outbox)";

/// Calls that run a closure inside a database transaction.
const TRANSACTION_HELPERS: &[&str] = &[
    "transaction",
    "in_transaction",
    "transactional",
    "with_transaction",
    "run_in_transaction",
    "build_transaction",
];

/// What the database side of a function's scope holds.
#[derive(Default)]
struct Writes {
    /// The first write to a business table: where and what.
    business: Option<(Span, String)>,
    outbox: bool,
    /// Reads an outbox table: the relay.
    relay: bool,
    discarded_commit: bool,
}

impl Rule for DualWrite {
    fn id(&self) -> &'static str {
        "dual-write"
    }

    fn summary(&self) -> &'static str {
        "a handler writes its database and publishes (or calls another service) without a transactional outbox"
    }

    fn source(&self) -> &'static str {
        include_str!("dual_write.rs")
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let behaviour = cx.behaviour();
        let count = cx.model.functions.len();
        let mut handlers: HashSet<usize> = behaviour
            .message_handlers()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        handlers.extend(behaviour.write_handlers().into_iter().map(|(f, _)| f));
        // Who reaches whom, for the handler that calls a publishing function.
        let reach: Vec<Vec<(usize, usize)>> = (0..count)
            .map(|f| behaviour.reachable(f, CALL_DEPTH))
            .collect();
        let mut callers: Vec<Vec<(usize, usize)>> = vec![Vec::new(); count];
        for (f, reached) in reach.iter().enumerate() {
            for &(g, depth) in reached {
                if g != f {
                    callers[g].push((f, depth));
                }
            }
        }
        for list in &mut callers {
            list.sort_by_key(|&(f, depth)| (depth, f));
        }
        for p in 0..count {
            let function = behaviour.function(p);
            if cx.is_test(function.span) || behaviour.services_of(p).is_empty() {
                continue;
            }
            for effect in &function.effects {
                let Some(sent) = sent_description(behaviour, p, effect) else {
                    continue;
                };
                let own = self.writes(cx, behaviour, reach[p].iter().map(|(g, _)| *g));
                if own.relay || own.outbox {
                    continue;
                }
                let broker_publish = matches!(effect.kind, EffectKind::Publish { .. });
                let mut evidence = own.business.clone().map(|w| (w, p, own.discarded_commit));
                if evidence.is_none() && broker_publish {
                    evidence = self.caller_write(cx, behaviour, p, &callers[p], &handlers);
                }
                let Some(((write_span, write), writer, discarded_commit)) = evidence else {
                    continue;
                };
                let mut worse = Vec::new();
                if publishes_before_commit(function, effect) {
                    worse.push(if broker_publish {
                        "it runs before the transaction commits, so a rollback leaves an event \
                         about a change that never happened"
                            .to_owned()
                    } else {
                        "it runs before the transaction commits, so a rollback leaves the other \
                         service acting on a change that never happened"
                            .to_owned()
                    });
                }
                if discarded_commit {
                    worse.push("`let _ = tx.commit()` throws the commit's result away".to_owned());
                }
                let noun = if broker_publish { "publish" } else { "call" };
                if !effect.propagates {
                    worse.push(format!(
                        "its error is not propagated with `?`, so a failed {noun} may only be \
                         logged while the write stays"
                    ));
                }
                let writer_name = &behaviour.function(writer).name;
                let at = cx.location(write_span);
                let both = if writer == p {
                    format!("`{}` writes {write} ({at}) and {sent} here", function.name)
                } else {
                    format!(
                        "`{}` {sent} here, and its caller `{writer_name}` writes {write} ({at}),",
                        function.name
                    )
                };
                let mut message = format!(
                    "{both} without a transactional outbox: a crash or a failed {noun} between \
                     the two leaves the database and the other services out of step"
                );
                if !worse.is_empty() {
                    message.push_str("; ");
                    message.push_str(&worse.join("; "));
                }
                let services = behaviour
                    .services_of(p)
                    .iter()
                    .map(|s| cx.service_name(*s).to_owned())
                    .collect();
                out.push(Finding {
                    confidence: Confidence::High,
                    rule: self.id(),
                    level: self.default_level(),
                    message,
                    span: effect.span,
                    label: if broker_publish {
                        "published outside the database transaction"
                    } else {
                        "called outside the database transaction"
                    }
                    .to_owned(),
                    help: HELP.to_owned(),
                    related: vec![Related {
                        span: write_span,
                        label: format!("database write: {write}"),
                    }],
                    services,
                    table: None,
                    database: None,
                });
            }
        }
    }
}

/// "publishes to `x` (Kafka)" / "calls `POST /refunds` on `payments_url`", for effects that
/// leave the service; `None` for everything else.
fn sent_description(behaviour: &Behaviour<'_>, f: usize, effect: &Effect) -> Option<String> {
    // Error paths publish failures and dead letters about work that did not happen.
    if effect.context != PathContext::Normal {
        return None;
    }
    match &effect.kind {
        EffectKind::Publish {
            broker,
            destination,
        } => {
            let delegates = behaviour.publish_delegates(f, effect);
            // A project wrapper is a publish when its body publishes (not when it writes an
            // outbox row); reported here, at the call, rather than inside the wrapper.
            if !delegates.is_empty() && !delegates_publish(behaviour, &delegates) {
                return None;
            }
            Some(match destination {
                Some(d) => format!("publishes to `{d}` ({})", broker_name(*broker)),
                None => format!("publishes ({})", broker_name(*broker)),
            })
        }
        EffectKind::Remote {
            protocol,
            method,
            operation,
            target,
        } => {
            let target = target.as_deref().unwrap_or("another service");
            match protocol {
                RemoteProtocol::Http => {
                    let method = method.filter(|m| m.is_mutating())?;
                    if is_read_like_operation(operation) {
                        return None;
                    }
                    Some(format!(
                        "calls `{} {operation}` on `{target}`",
                        method.as_str()
                    ))
                }
                RemoteProtocol::Grpc | RemoteProtocol::Client => is_mutating_operation(operation)
                    .then(|| format!("calls `{target}.{operation}(..)`")),
            }
        }
        _ => None,
    }
}

/// Tables that hold events or messages to send (`events`, `pending_messages`, `event_queue`).
fn is_event_like(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["event", "message", "outbox", "queue"]
        .iter()
        .any(|w| name.contains(w))
}

/// Some function reached from a wrapper's definitions publishes to a broker.
fn delegates_publish(behaviour: &Behaviour<'_>, delegates: &[usize]) -> bool {
    delegates.iter().any(|&d| {
        behaviour.reachable(d, CALL_DEPTH).iter().any(|&(g, _)| {
            behaviour.function(g).effects.iter().any(|e| {
                matches!(e.kind, EffectKind::Publish { .. })
                    && behaviour.publish_delegates(g, e).is_empty()
            })
        })
    })
}

/// The publish sits before a commit of the same function, or inside a transaction closure.
fn publishes_before_commit(function: &crate::model::Function, publish: &Effect) -> bool {
    function.effects.iter().any(|e| match &e.kind {
        EffectKind::Commit { .. } => e.span.start > publish.span.start,
        EffectKind::Call { name, .. } => {
            TRANSACTION_HELPERS.contains(&name.as_str())
                && e.span.start < publish.span.start
                && publish.span.end <= e.span.end
        }
        // `conn.transaction(|conn| ..)`: the closure runs inside the transaction.
        EffectKind::Begin { .. } => {
            e.span.start < publish.span.start && publish.span.end <= e.span.end
        }
        _ => false,
    })
}

impl DualWrite {
    /// The database side of a set of functions.
    fn writes(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        functions: impl Iterator<Item = usize>,
    ) -> Writes {
        let mut writes = Writes::default();
        // Event-like tables read and written by the same code: a relay of a differently named
        // outbox (`SELECT .. FROM events WHERE published = false`, then mark them published).
        let mut read_events: HashSet<String> = HashSet::new();
        let mut written_events: HashSet<String> = HashSet::new();
        for f in functions {
            for query in behaviour.queries_of(f) {
                if !cx.certain_enough(query.certainty) {
                    continue;
                }
                for t in query.tables.iter().filter(|t| is_event_like(&t.table.name)) {
                    let names = if t.access == Access::Read {
                        &mut read_events
                    } else {
                        &mut written_events
                    };
                    names.insert(t.table.name.clone());
                }
                let outbox = query.tables.iter().any(|t| is_outbox_table(&t.table));
                if outbox {
                    let reads = query.effects.contains(&StatementEffect::Read)
                        || query
                            .tables
                            .iter()
                            .any(|t| t.access == Access::Read && is_outbox_table(&t.table));
                    let writes_outbox = query.effects.iter().any(|e| e.is_write());
                    writes.relay |= reads;
                    writes.outbox |= writes_outbox
                        && query.effects.iter().any(|e| {
                            matches!(e, StatementEffect::Insert | StatementEffect::Upsert)
                        });
                    continue;
                }
                if writes.business.is_some() {
                    continue;
                }
                let business = query
                    .tables
                    .iter()
                    .find(|t| t.access == Access::Write && !is_dedup_table(&t.table));
                let write = query
                    .statements
                    .iter()
                    .zip(&query.effects)
                    .find(|(_, e)| e.is_write());
                if let (Some(table), Some((statement, _))) = (business, write) {
                    let verb = match statement.as_str() {
                        "INSERT" => "INSERT INTO",
                        "DELETE" => "DELETE FROM",
                        other => other,
                    };
                    writes.business = Some((query.span, format!("`{verb} {}`", table.table)));
                }
            }
            for effect in &behaviour.function(f).effects {
                match &effect.kind {
                    EffectKind::OutboxWrite => writes.outbox = true,
                    EffectKind::Commit { discarded: true } => writes.discarded_commit = true,
                    EffectKind::OrmWrite { api, effect: e } if e.is_write() => {
                        let table = orm_write_table(api);
                        if table.as_ref().is_some_and(is_outbox_table) {
                            writes.outbox = true;
                        } else if !table.as_ref().is_some_and(is_dedup_table)
                            && writes.business.is_none()
                        {
                            writes.business = Some((effect.span, format!("`{api}`")));
                        }
                    }
                    _ => {}
                }
            }
        }
        writes.relay |= read_events.intersection(&written_events).next().is_some();
        writes
    }

    /// A business write in a handler (or a direct caller) that calls the publishing function
    /// `p`, when that caller has no outbox and is no relay.
    #[allow(clippy::type_complexity)]
    fn caller_write(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        p: usize,
        callers: &[(usize, usize)],
        handlers: &HashSet<usize>,
    ) -> Option<((Span, String), usize, bool)> {
        // A publisher wrapper (`emit`, `publish_event`) is reported at its call sites, each
        // with the writes around it; its own publish is not reported again for a caller
        // further up.
        let is_wrapper = callers.iter().any(|&(caller, _)| {
            behaviour
                .function(caller)
                .effects
                .iter()
                .any(|e| behaviour.publish_delegates(caller, e).contains(&p))
        });
        if is_wrapper {
            return None;
        }
        for &(caller, depth) in callers {
            let caller_fn = behaviour.function(caller);
            if cx.is_test(caller_fn.span) {
                continue;
            }
            let scope_depth = if handlers.contains(&caller) {
                CALL_DEPTH
            } else if depth == 1 {
                1
            } else {
                continue;
            };
            let scope = behaviour.reachable(caller, scope_depth);
            let writes = self.writes(cx, behaviour, scope.iter().map(|(g, _)| *g));
            if writes.relay || writes.outbox {
                continue;
            }
            if let Some(write) = writes.business {
                return Some((write, caller, writes.discarded_commit));
            }
        }
        None
    }
}
