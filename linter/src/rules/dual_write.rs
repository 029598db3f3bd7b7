//! ## What it does
//! Flags a database write and a publish to a broker in one flow, with no transactional
//! outbox between them: the publish and the write can each succeed without the other.
//!
//! The publish is a broker send (rdkafka `send` with `FutureRecord::to(..)`, lapin
//! `basic_publish`, async-nats / JetStream `publish`, SQS `send_message`, SNS `publish`, Google
//! Cloud Pub/Sub `publisher.publish`, Redis
//! `XADD` / `PUBLISH`, project wrappers named `publish*` / `emit*`, and a message handed to an
//! actor of the project whose `handle` publishes it: actix `addr.send(Publish { .. })`, kameo
//! `tell`/`ask`). The database write is any
//! `INSERT` / `UPDATE` / `DELETE` / upsert or ORM write on a business table, in the function
//! that publishes or in the functions it calls, or in a handler that calls the publishing
//! function. One finding per function that holds both (the publish or the call that leads to
//! it is the location; further publishes of the same function are related locations).
//!
//! Not flagged:
//! - a mutating HTTP or gRPC call to another service after a write: it is a saga step,
//!   judged by `missing-compensation`;
//! - a write and a publish in mutually exclusive branches: different arms of a `match` or an
//!   `if`/`else`, or an `if` that returns early and the code after it;
//! - a write and a publish in two tasks that only share the function spawning them (two
//!   `tokio::spawn` timers, one flushing counters to the database, one publishing a summary);
//! - a publish after the transaction holding the write was rolled back (a failure event about
//!   work that did not happen);
//! - the relay of an outbox: code that selects unsent outbox rows (usually `FOR UPDATE SKIP
//!   LOCKED`) or marks them sent after publishing them, also when the outbox is named
//!   otherwise (an `events` or `pending_messages` table read and updated by the same code, or
//!   MongoDB documents of an event collection deleted where they are published);
//! - writes only to bookkeeping tables (inbox, processed messages, idempotency keys);
//! - publishes that keep a record rather than propagate a change: to a destination named for
//!   an audit trail, activity, metrics or telemetry (`audit.events`), or, when the destination
//!   is not known, from a function so named (`publish_mfa_activity`);
//! - a consumer publishing back to the queue it consumes from (the delivery again, with a
//!   retry count): a retry of the message, not news of the write;
//! - publishes on an error path (`Err` arms, `map_err` closures): dead letters and failure
//!   events about work that did not happen;
//! - test code.
//!
//! An outbox protects only the messages that go through it: a row inserted into an outbox
//! table (`outbox`, `*_outbox`, `domain_events`, `integration_events`, `event_entity`) or
//! handed to an outbox library does not cover a direct publish beside it.
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
//! capture on the outbox table (Debezium) works as the relay too.

use std::collections::HashSet;

use crate::behaviour::{
    broker_name, is_dedup_table, is_outbox_table, orm_write_table, Behaviour, CALL_DEPTH,
};
use crate::model::{Access, Broker, Effect, EffectKind, PathContext, Span, StatementEffect};
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

/// A write to a business table.
#[derive(Clone)]
struct Write {
    span: Span,
    what: String,
    function: usize,
}

/// What the database side of a function's scope holds.
#[derive(Default)]
struct Writes {
    /// Writes to business tables: where, what, and the function holding each.
    business: Vec<Write>,
    /// Reads an outbox table: the relay.
    relay: bool,
    discarded_commit: bool,
}

impl Rule for DualWrite {
    fn id(&self) -> &'static str {
        "dual-write"
    }

    fn summary(&self) -> &'static str {
        "a handler writes its database and publishes to a broker without a transactional outbox"
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
        // One finding per unit: the function that holds the write (and reaches the publish).
        let mut units: Vec<(usize, Finding)> = Vec::new();
        for p in 0..count {
            let function = behaviour.function(p);
            if cx.is_test(function.span) || behaviour.services_of(p).is_empty() {
                continue;
            }
            for effect in &function.effects {
                if requeues(function, effect) {
                    continue;
                }
                let Some((sent, confidence)) = sent_description(behaviour, p, effect) else {
                    continue;
                };
                // An outbox protects the events that go through it, not a direct publish
                // beside it; the relay publishes what the outbox holds.
                let own = self.writes(cx, behaviour, reach[p].iter().map(|(g, _)| *g));
                if own.relay {
                    continue;
                }
                let evidence = match in_flow(behaviour, p, effect.span, &own.business) {
                    Some(write) => vec![(write, p, own.discarded_commit)],
                    None => self.caller_writes(cx, behaviour, p, &reach[p], &callers[p], &handlers),
                };
                for (
                    Write {
                        span: write_span,
                        what: write,
                        ..
                    },
                    writer,
                    discarded_commit,
                ) in evidence
                {
                    if let Some((_, unit)) = units.iter_mut().find(|(u, _)| *u == writer) {
                        if unit.span != effect.span {
                            unit.related.push(Related {
                                span: effect.span,
                                label: format!("also {sent} here"),
                            });
                        }
                        continue;
                    }
                    let mut worse = Vec::new();
                    if publishes_before_commit(function, effect) {
                        worse.push(
                        "it runs before the transaction commits, so a rollback leaves an event \
                         about a change that never happened",
                    );
                    }
                    if discarded_commit {
                        worse.push("`let _ = tx.commit()` throws the commit's result away");
                    }
                    if !effect.propagates {
                        worse.push(
                        "its error is not propagated with `?`, so a failed publish may only be \
                         logged while the write stays",
                    );
                    }
                    let writer_name = &behaviour.function(writer).name;
                    let at = cx.location(write_span);
                    // Reported inside the unit: at the publish, or at the writer's call that
                    // leads to it.
                    let (span, both) = if writer == p {
                        (
                            effect.span,
                            format!("`{}` writes {write} ({at}) and {sent} here", function.name),
                        )
                    } else {
                        (
                            call_leading_to(behaviour, writer, p).unwrap_or(write_span),
                            format!(
                                "`{writer_name}` writes {write} ({at}) and, through `{}`, {sent},",
                                function.name
                            ),
                        )
                    };
                    let mut message = format!(
                    "{both} without a transactional outbox: a crash or a failed publish between \
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
                    let mut related = vec![Related {
                        span: write_span,
                        label: format!("database write: {write}"),
                    }];
                    if span != effect.span {
                        related.push(Related {
                            span: effect.span,
                            label: format!("{sent} here"),
                        });
                    }
                    units.push((
                        writer,
                        Finding {
                            confidence,
                            rule: self.id(),
                            level: self.default_level(),
                            message,
                            span,
                            label: "published outside the database transaction".to_owned(),
                            help: HELP.to_owned(),
                            related,
                            services,
                            table: None,
                            database: None,
                        },
                    ));
                }
            }
        }
        out.extend(units.into_iter().map(|(_, finding)| finding));
    }
}

/// The first write that runs in the same flow as `at`, a site in function `f`: not in another
/// arm of a `match` or `if` than `at`, where a write in a callee counts at its call in `f`.
/// A rollback between the write and `at` undoes the write first: what is published then is
/// a failure about work that did not happen.
fn in_flow(behaviour: &Behaviour<'_>, f: usize, at: Span, writes: &[Write]) -> Option<Write> {
    let function = behaviour.function(f);
    let rolled_back = |site: Span| {
        function.effects.iter().any(|e| {
            matches!(e.kind, EffectKind::Rollback)
                && site.start < e.span.start
                && e.span.start < at.start
                && function.on_path_of(e.span.start, at.start)
        })
    };
    writes
        .iter()
        .find(|w| {
            let site = if w.function == f {
                Some(w.span)
            } else {
                call_leading_to(behaviour, f, w.function)
            };
            site.is_none_or(|site| {
                !function.exclusive(site.start, at.start)
                    && !function.in_separate_tasks(site.start, at.start)
                    && !rolled_back(site)
            })
        })
        .cloned()
}

/// The call in `writer` through which `target` runs.
fn call_leading_to(behaviour: &Behaviour<'_>, writer: usize, target: usize) -> Option<Span> {
    behaviour
        .function(writer)
        .effects
        .iter()
        .find(|effect| match &effect.kind {
            EffectKind::Call { name, receiver } => behaviour
                .resolve_call(writer, name, receiver.as_deref())
                .into_iter()
                .any(|c| {
                    c == target
                        || behaviour
                            .reachable(c, CALL_DEPTH)
                            .iter()
                            .any(|&(g, _)| g == target)
                }),
            _ => false,
        })
        .map(|effect| effect.span)
}

/// "publishes to `x` (Kafka)", for broker publishes on the normal path; `None` for everything
/// else. A mutating call to another service after a write is a saga step, judged by
/// `missing-compensation`, not a second finding here.
fn sent_description(
    behaviour: &Behaviour<'_>,
    f: usize,
    effect: &Effect,
) -> Option<(String, Confidence)> {
    // Error paths publish failures and dead letters about work that did not happen.
    if effect.context != PathContext::Normal {
        return None;
    }
    match &effect.kind {
        // An audit trail or activity feed keeps a record; no other service's state hangs
        // on it.
        EffectKind::Publish { .. } if behaviour.keeps_record(f, effect) => None,
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
            // A wrapper whose body is not in the workspace is a publish by its name alone.
            let confidence = if *broker == Broker::Wrapper && delegates.is_empty() {
                Confidence::Medium
            } else {
                Confidence::High
            };
            let text = match destination {
                Some(d) => format!("publishes to `{d}` ({})", broker_name(*broker)),
                None => format!("publishes ({})", broker_name(*broker)),
            };
            Some((text, confidence))
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
/// A consumer publishing back to the queue it consumes from (the delivery again, with a
/// retry count): a retry of the message, not news of the write.
fn requeues(function: &crate::model::Function, effect: &Effect) -> bool {
    let EffectKind::Publish {
        destination: Some(destination),
        ..
    } = &effect.kind
    else {
        return false;
    };
    function.effects.iter().any(|e| match &e.kind {
        EffectKind::Consume {
            source: Some(source),
            ..
        } => destination.split('/').any(|part| part == source),
        _ => false,
    })
}

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
                    // Marking rows sent (or deleting them) after publishing them is the relay's
                    // half, also when the publish is eager and a relay only backs it up.
                    let marks_sent = query.effects.iter().any(|e| {
                        e.is_write()
                            && !matches!(e, StatementEffect::Insert | StatementEffect::Upsert)
                    });
                    writes.relay |= reads || marks_sent;
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
                    writes.business.push(Write {
                        span: query.span,
                        what: format!("`{verb} {}`", table.table),
                        function: f,
                    });
                }
            }
            for effect in &behaviour.function(f).effects {
                match &effect.kind {
                    EffectKind::Commit { discarded: true } => writes.discarded_commit = true,
                    EffectKind::OrmWrite { api, effect: e } if e.is_write() => {
                        let table = orm_write_table(api);
                        if table.as_ref().is_some_and(is_outbox_table) {
                            continue;
                        }
                        // Deleting documents of an event collection where they are published
                        // (MongoDB has no `SELECT .. FOR UPDATE` to read them by) is a relay
                        // draining its outbox.
                        if *e == StatementEffect::Delete
                            && table.as_ref().is_some_and(|t| is_event_like(&t.name))
                        {
                            writes.relay = true;
                            continue;
                        } else if !table.as_ref().is_some_and(is_dedup_table) {
                            writes.business.push(Write {
                                span: effect.span,
                                what: format!("`{api}`"),
                                function: f,
                            });
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
    fn caller_writes(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        p: usize,
        publisher_scope: &[(usize, usize)],
        callers: &[(usize, usize)],
        handlers: &HashSet<usize>,
    ) -> Vec<(Write, usize, bool)> {
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
            return Vec::new();
        }
        let mut found: Vec<(Write, usize, bool)> = Vec::new();
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
            let mut writes = self.writes(cx, behaviour, scope.iter().map(|(g, _)| *g));
            if writes.relay {
                continue;
            }
            let Some(call) = call_leading_to(behaviour, caller, p) else {
                continue;
            };
            // Writes of the publisher's own scope were judged with it.
            writes
                .business
                .retain(|w| !publisher_scope.iter().any(|&(g, _)| g == w.function));
            if let Some(write) = in_flow(behaviour, caller, call, &writes.business) {
                found.push((write, caller, writes.discarded_commit));
            }
        }
        // Each caller that writes before calling the publisher is a flow of its own (`create`
        // and `update` both calling `send_event`); a caller that reaches another of them is
        // that flow seen from further out, reported once, at the innermost writer.
        let writers: Vec<usize> = found.iter().map(|(_, w, _)| *w).collect();
        found.retain(|(_, writer, _)| {
            !behaviour
                .reachable(*writer, CALL_DEPTH)
                .iter()
                .any(|&(g, _)| g != *writer && writers.contains(&g))
        });
        found
    }
}
