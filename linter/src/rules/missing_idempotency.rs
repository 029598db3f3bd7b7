//! ## What it does
//! Flags message handlers and HTTP `POST` handlers that make a non-idempotent write without a
//! deduplication guard, so that a redelivered message or a retried request repeats it.
//!
//! Handlers are consumer loops and what they dispatch to (rdkafka `StreamConsumer` /
//! `BaseConsumer` loops, lapin `basic_consume`, async-nats subscriptions and JetStream
//! consumers, aws-sdk-sqs `receive_message`, Google Cloud Pub/Sub `subscription.pull` /
//! `receive`, Redis streams `XREADGROUP`), functions taking a
//! broker message (`BorrowedMessage`, `Delivery`, `jetstream::Message`, or a `Message` the file
//! imports from async-nats or the SQS SDK, however the stream was built), `handle*` methods of
//! message-handler trait impls, functions that hand a closure to a project function that
//! consumes (`streams::consume_json(url, group, move |envelope| async move { .. })`: the
//! closure is the per-message handler; what the caller does around it runs once), and
//! functions routed for `POST` (axum `post(handler)`, actix
//! `#[post]` / `web::post().to(handler)`, poem `.at(path, post(handler))`, salvo
//! `Router::with_path(path).post(handler)`). Each handler is followed a few calls deep; a
//! method named like a collection's (`insert`, `get`, `remove`, `push`, `find`) is followed
//! into the project type named like its receiver (`ctx.invoices.insert(&mut tx, &inv)` into
//! `InvoiceRepo::insert`), never into a local `Vec` or `HashMap`.
//!
//! Routes name their handler by its last path segment; a function of the route's own crate
//! and a free function are preferred, so a client method of the same name is not taken for
//! the handler.
//!
//! Write RPCs are judged like `POST` handlers: the async methods of a tonic service
//! implementation (a trait impl taking a `Request<..>` in a crate that depends on tonic), unless
//! named for asking (`get_*`, `list_*`, `check_*`, ...) or forwarding the call elsewhere.
//!
//! A `POST` handler (or write RPC) is judged only when a retry does more than create one more
//! row of its own: when it moves money or stock (a relative update), publishes, calls another service,
//! charges or sends. A plain create is common and not, on its own, the pitfall; nor is
//! announcing a state the handler sets (`SET status = 'refunded'`, then a `payment.refunded`
//! event), since a retry announces the same state of the same entity and creates nothing new.
//! Every message consumer with a non-idempotent effect is judged.
//!
//! Non-idempotent: an `INSERT` without `ON CONFLICT` / `INSERT IGNORE`, a relative update
//! (`SET qty = qty - $1`, diesel `.set(qty.eq(qty - n))`), a MongoDB `insert_one` /
//! `insert_many` or an update with `$inc` / `$push`, a publish to a broker, an HTTP
//! `POST` to another service (not one that only asks: `/search`, `/quotes`, `/validate`, nor
//! one that a route of another workspace crate serves with a handler that changes nothing), and
//! calls that charge or send (`charge`, `refund`, `send_email`, `mailer.send(..)`), and RPCs or
//! typed-client calls to another service that move money or stock (`reserve_funds`,
//! `batch_reserve_stock`, `deposit`, `post_transaction`; a remote plain create such as
//! `create_user` is a plain create). A request that carries an `Idempotency-Key` (a header, a
//! field of the request message, or a key handed to the client's call) is deduplicated by the
//! API it goes to, unless the handler makes the key afresh (`Uuid::new_v4()`) for each request. A call on a client the
//! workspace defines itself (`stripe_client.refund(..)` on `StripeClient`) is followed into it. Absolute
//! updates (`SET status = 'shipped' WHERE id = $1`), upserts, guarded updates (`WHERE
//! version = $2`) and deletes by key are idempotent and never flagged.
//!
//! Guards (any of them in the handler or the functions it calls silences it): a look-up or
//! insert on an inbox / processed-messages / idempotency-keys table, Redis `SET NX`, reading
//! an `Idempotency-Key` header (or an `idempotency_key` field), or a call to an idempotency
//! helper (`mark_processed`, `check_idempotency`). An `ON CONFLICT DO NOTHING` claim (or
//! another upsert) covers the writes made after it in the same function and in the functions
//! it calls after it, however deep: a repository method that claims the order id and then
//! calls the helper that updates the stock. So does a compare-and-set update, whose `WHERE`
//! tests the state it changes (`UPDATE charges SET status = 'refunded' WHERE id = $1 AND
//! status = 'succeeded' RETURNING ..`, `.. AND processed_at IS NULL`): a redelivery finds
//! the row already moved on. So does a sweep that picks rows by their state and sets it on
//! each (`SELECT .. FROM reservations WHERE released = false FOR UPDATE`, then `UPDATE
//! reservations SET released = true WHERE id = $1` for each row): a repeat finds no row left
//! in that state. So does an early return on what the handler looked up: the
//! state of the row (`if order.status == "CANCELLED" { return .. }`, `if row.released`, a
//! `match quote.state()` with arms that return, a helper handed that state whose error ends
//! the function, `check_status("pay", payment.status, &[Held])?`; rows looked up by key and
//! walked in a loop count, `for q in repo.get_quotes_by_ids(..)`, as do reads of a store,
//! `self.storage.get_with_items(id)`), or
//! whether it is there at all (`if existing.is_some()`, `if let Some(_) = repo.find_by_order(..)`,
//! a `match` on a look-up whose `Ok` arm returns, `if !rows.is_empty()` or `rows.len() > 0` on
//! the rows a `fetch_all`/`load` found; not `rows.is_empty()` or a count compared with another), which a repeat meets after the first run has
//! written; a test of the message's or the request's own fields is no such check, nor is a
//! precondition on a row of a table the handler never writes (`if market.status == SETTLED`
//! before placing an order, the local named for the table): a repeat passes it again. As with
//! `ON CONFLICT DO NOTHING`, archlint does not check that the code tests the affected rows
//! before the writes that follow; but an upsert followed by a `SELECT` of the same table makes
//! sure a row exists and reads it (get-or-create) and claims nothing, and a sweep's `SELECT
//! SUM(..)` (an aggregate with no `GROUP BY`, one row whatever matches) picks no rows.
//!
//! An insert into a table with a natural key (a `UNIQUE` constraint or unique index in the
//! migrations) claims like an `ON CONFLICT DO NOTHING`: a repeat fails on the key. So does an
//! insert that supplies the table's primary key (the key has no default in the migrations, or
//! the `INSERT` names its columns) when the handler makes no fresh id (`Uuid::new_v4()` other
//! than as a fallback for a missing value): the key is the message's or the request's own. A claim in
//! a function whose caller propagates its error (`repo.create(..).await?`, or a tail `match`
//! whose `Err` arm ends the handler) covers what the caller does after the call.
//!
//! An idempotency middleware guards every `POST` handler of its service: a function taking
//! `Next` or `ServiceRequest` (actix `.wrap(from_fn(require_idempotency_key))`, axum
//! `.layer(middleware::from_fn(..))` / `from_fn_with_state`), a tower `Service`/`Layer` impl
//! taking the `Request`, or a function registering a `wrap_fn` closure, that reads the
//! `Idempotency-Key` and claims it (Redis `SET NX`, an insert into an idempotency-keys table,
//! an `ON CONFLICT DO NOTHING` insert, a `claim` helper), itself or in the functions it
//! calls. A middleware that only reads the header guards nothing.
//!
//! Producer-side settings (Kafka `enable.idempotence`, JetStream `Nats-Msg-Id`, SQS FIFO
//! deduplication ids) do not make a consumer idempotent and are not guards.
//!
//! A message handler that no consumer loop is seen calling (a `Handler` trait impl invoked
//! through a trait object by a consumer framework) is not reported when the service guards
//! messages somewhere else: the framework may check the message id before dispatching.
//!
//! One finding per handler function, at its name: a consumer loop that dispatches to a
//! per-event handler (handing it the message, its payload or a deserialised type, or picking
//! one of several handlers in separate arms, by message kind) is reported at that handler; a
//! loop that takes the message apart itself and passes fields to a service function, or calls
//! several functions one after another for the same message, is the handler and is reported
//! at the loop; a handler called by another is reported
//! once, at the outermost one. Each consumer loop is judged on its own, also when the `main`
//! that starts it subscribes the consumers: a guard in one loop does not cover another. `PUT`, `PATCH` and `DELETE` handlers are not judged: `PUT` and
//! `DELETE` are idempotent by HTTP semantics and `PATCH` bodies usually set fields to given
//! values, so their relative writes are a different design question.
//! Writes to sessions, tokens, audit and log tables are not counted (a duplicate row there
//! does no harm), nor are publishes that keep a record (to `audit.events`, or from a function
//! named for activity, audit or metrics, when the topic is not known), nor what helpers named
//! so do (`emit_mfa_activity(..)`), nor are outbox rows (a duplicate event is the consumers' to drop), nor the
//! set-up a consumer loop runs before it subscribes.
//!
//! Default level: `warn` (`strict`: `deny`). A guard can live where archlint does not look
//! (a middleware crate from outside the workspace, a constraint created outside the
//! migrations), so a finding deserves a look before it blocks a merge.
//!
//! ## Why is this bad
//! Brokers deliver at least once: a consumer that crashes or times out after its write but
//! before the acknowledgement gets the same message again, and HTTP clients, proxies and
//! load balancers retry `POST`s that timed out. Without a guard every redelivery inserts a
//! second row, applies the increment twice, charges the card again or sends a second e-mail.
//!
//! ## Example
//! ```rust,ignore
//! loop {
//!     let message = consumer.recv().await?;
//!     points::on_order_completed(&pool, message.payload().unwrap_or_default()).await?;
//!     consumer.commit_message(&message, CommitMode::Async)?;
//! }
//!
//! pub async fn on_order_completed(pool: &Pool, payload: &[u8]) -> Result<(), Error> {
//!     let event: OrderCompleted = serde_json::from_slice(payload)?;
//!     let tx = client.transaction().await?;
//!     tx.execute("UPDATE accounts SET points = points + $1 WHERE customer_id = $2", ..).await?;
//!     tx.commit().await?;
//!     Ok(())
//! }
//! ```
//!
//! ## How to fix
//! Record the message id in the transaction that applies the message, and skip the message
//! when it was already recorded:
//! ```rust,ignore
//! let claimed = tx
//!     .execute("INSERT INTO processed_messages (message_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&event.event_id])
//!     .await?;
//! if claimed == 0 {
//!     return Ok(()); // a redelivery
//! }
//! tx.execute("UPDATE accounts SET points = points + $1 WHERE customer_id = $2", ..).await?;
//! tx.commit().await?;
//! ```
//! Without a database, claim the id with Redis `SET key value NX EX ttl`. For `POST`
//! handlers, require an `Idempotency-Key` header, store it with the result in the same
//! transaction, and answer a retry with the stored result. Or make the write itself
//! idempotent: an upsert keyed on the message id, or an absolute update.

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::VecDeque;

use crate::behaviour::{
    broker_name, contains_any_ignore_case, creates_or_moves, is_charge_or_send, is_dedup_table,
    is_outbox_table, is_read_like_operation, name_words, names_record, orm_write_table, Behaviour,
    HandlerKind, CALL_DEPTH,
};
use crate::config::Level;
use crate::model::{
    Access, Broker, Effect, EffectKind, Function, HttpMethod, PrimaryKey, RemoteProtocol,
    ServiceId, Span, SqlQuery, StatementEffect, TableName,
};
use crate::rules::{Confidence, Finding, Related, Rule, RuleContext};

pub struct MissingIdempotency;

const MESSAGE_HELP: &str = "record the message id in an inbox / processed-messages table in the \
                            same transaction as the write, with `ON CONFLICT DO NOTHING`, and \
                            skip the message when it was already there (or claim the id with \
                            Redis `SET NX`)";

const POST_HELP: &str = "require an `Idempotency-Key` header, store it with the result in the \
                         same transaction as the write, and answer a retry with the stored result";

/// How many writes a message lists before "and N more".
const LISTED: usize = 4;

/// What a judged handler is.
#[derive(Clone, Copy)]
enum Judged {
    Message(Option<Broker>),
    Post,
    /// A write RPC of a tonic service.
    Rpc,
}

/// A non-idempotent write found under a handler.
struct Write {
    function: usize,
    span: Span,
    what: String,
    /// A plain insert of a new row: on its own, no reason to judge a `POST` handler.
    plain_insert: bool,
    /// A publish to a broker.
    publish: bool,
    /// Recognised by a name alone: a charge or send the workspace does not define, a
    /// publisher wrapper whose body is not in sight.
    by_name: bool,
}

/// The keys that make a repeated insert fail.
struct Keys<'a> {
    /// Tables with a `UNIQUE` constraint or index in the migrations.
    unique: &'a HashSet<&'a TableName>,
    primary: &'a HashMap<&'a TableName, &'a PrimaryKey>,
    /// The handler's code makes a fresh id, which may become a key.
    fresh_ids: bool,
    /// The workspace's tables, by [`record_name`].
    tables: &'a HashSet<String>,
    /// The tables the handler's code writes, by [`record_name`].
    written: HashSet<String>,
}

/// A table's or a record's name, singular and without schema (`polymarket.markets` and
/// `market` are both `market`), to tell which table a looked-up local is a row of.
fn record_name(name: &str) -> String {
    let base = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
    match base.strip_suffix("ies") {
        Some(stem) if !stem.is_empty() => format!("{stem}y"),
        _ if base.ends_with("ss") || base.ends_with("us") => base,
        _ => base.strip_suffix('s').map(str::to_owned).unwrap_or(base),
    }
}

/// The tables a function writes, by [`record_name`]: its SQL and its ORM writes.
fn written_records(behaviour: &Behaviour<'_>, f: usize, out: &mut HashSet<String>) {
    for query in behaviour.queries_of(f) {
        for table in query.tables.iter().filter(|t| t.access == Access::Write) {
            out.insert(record_name(&table.table.name));
        }
    }
    for effect in &behaviour.function(f).effects {
        if let EffectKind::OrmWrite { api, .. } = &effect.kind {
            if let Some(table) = crate::behaviour::orm_write_table(api) {
                out.insert(record_name(&table.name));
            }
        }
    }
}

impl Keys<'_> {
    /// An insert into `table` supplies its primary key, and the key comes from the input
    /// (the message's id, the request's): a repeat fails on it. The key is supplied when
    /// the database makes none of its own, or when the insert names its columns
    /// (`inserted`, for SQL).
    fn takes_key(&self, table: &TableName, inserted: Option<&[String]>) -> bool {
        let Some(key) = self.primary.get(table) else {
            return false;
        };
        let supplied = !key.generated
            || inserted.is_some_and(|columns| key.columns.iter().all(|c| columns.contains(c)));
        supplied && !self.fresh_ids
    }
}

/// A function reached from a handler, and the handler's direct callee it was reached through
/// (the handler itself for its own body).
struct Reached {
    function: usize,
    branch: usize,
    /// The caller it was first reached from (an index into the reached list), and where in
    /// the caller the call starts.
    caller: Option<(usize, u32)>,
}

impl Rule for MissingIdempotency {
    fn id(&self) -> &'static str {
        "missing-idempotency"
    }

    fn summary(&self) -> &'static str {
        "a message handler or POST handler makes a non-idempotent write without a deduplication guard"
    }

    fn source(&self) -> &'static str {
        include_str!("missing_idempotency.rs")
    }

    fn default_level(&self) -> Level {
        Level::Warn
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let behaviour = cx.behaviour();
        let mut handlers: Vec<(usize, Judged)> = Vec::new();
        for (f, kind) in behaviour.message_handlers() {
            if let HandlerKind::Message(broker) = kind {
                handlers.push((f, Judged::Message(broker)));
            }
        }
        let message_handlers: HashSet<usize> = handlers.iter().map(|(f, _)| *f).collect();
        for (f, method) in behaviour.write_handlers() {
            if method == HttpMethod::Post && !message_handlers.contains(&f) {
                handlers.push((f, Judged::Post));
            }
        }
        for f in behaviour.write_rpc_handlers() {
            if !message_handlers.contains(&f) && !handlers.iter().any(|(h, _)| *h == f) {
                handlers.push((f, Judged::Rpc));
            }
        }
        handlers.retain(|&(f, judged)| {
            let function = behaviour.function(f);
            !cx.is_test(function.span)
                && !behaviour.services_of(f).is_empty()
                && (!matches!(judged, Judged::Message(_))
                    || takes_broker_messages(cx, behaviour, f))
        });
        let handler_set: HashSet<usize> = handlers.iter().map(|(f, _)| *f).collect();
        let scopes: HashMap<usize, Vec<Reached>> = handlers
            .par_iter()
            .map(|(f, _)| (*f, scope(behaviour, *f, &handler_set)))
            .collect();
        let scope_sets: HashMap<usize, HashSet<usize>> = scopes
            .iter()
            .map(|(f, reached)| (*f, reached.iter().map(|r| r.function).collect()))
            .collect();
        let reaches =
            |from: usize, to: usize| scope_sets.get(&from).is_some_and(|s| s.contains(&to));
        // Handlers that reach each handler (a loop dispatching to it).
        let mut reached_by: HashMap<usize, Vec<usize>> = HashMap::default();
        for (from, reached) in &scope_sets {
            for to in reached
                .iter()
                .filter(|to| *to != from && handler_set.contains(to))
            {
                reached_by.entry(*to).or_default().push(*from);
            }
        }
        // Services with a deduplication guard somewhere: a consumer framework that checks
        // the message id before it dispatches through a trait object.
        let guarded_services: HashSet<ServiceId> = (0..cx.model.functions.len())
            .into_par_iter()
            .filter(|&f| has_guard(cx, behaviour, f))
            .flat_map_iter(|f| behaviour.services_of(f).iter().copied())
            .collect();
        // Services whose HTTP requests pass an idempotency middleware that claims the key.
        let mut middleware_guarded: HashSet<ServiceId> = HashSet::default();
        for f in 0..cx.model.functions.len() {
            if !cx.is_test(behaviour.function(f).span)
                && is_middleware(behaviour, f)
                && claims_idempotency_key(cx, behaviour, f)
            {
                middleware_guarded.extend(behaviour.services_of(f).iter().copied());
            }
        }
        let unique_keys: HashSet<&TableName> = cx
            .model
            .migrations
            .iter()
            .flat_map(|set| &set.unique_keys)
            .collect();
        let primary_keys: HashMap<&TableName, &PrimaryKey> = cx
            .model
            .migrations
            .iter()
            .flat_map(|set| &set.primary_keys)
            .map(|key| (&key.table, key))
            .collect();
        let tables: HashSet<String> = cx
            .model
            .migrations
            .iter()
            .flat_map(|set| &set.tables)
            .map(|t| &t.table)
            .chain(
                cx.model
                    .queries
                    .iter()
                    .flat_map(|q| q.tables.iter().map(|t| &t.table)),
            )
            .chain(cx.model.orm_tables.iter().map(|t| &t.table))
            .map(|t| record_name(&t.name))
            .collect();
        // A handler function two loops dispatch to is reported once.
        let mut reported: HashSet<usize> = HashSet::default();
        for &(handler, judged) in &handlers {
            // Judged once, from the outermost handler (a loop reaching a message handler).
            let nested = reached_by
                .get(&handler)
                .into_iter()
                .flatten()
                .any(|&other| !reaches(handler, other) || other < handler);
            // A consumer loop is a unit of its own, even when the `main` that starts it
            // subscribes too; that `main` is no handler of the loops' messages.
            let runs_loop = |f: usize| {
                behaviour
                    .function(f)
                    .effects
                    .iter()
                    .any(|e| matches!(e.kind, EffectKind::Consume { .. }))
                    || behaviour.consumes_through_callback(f).is_some()
            };
            let through_callback = behaviour.consumes_through_callback(handler).is_some();
            let starts_loops = !through_callback
                && scope_sets.get(&handler).is_some_and(|reached| {
                    reached.iter().any(|&other| {
                        other != handler && handler_set.contains(&other) && runs_loop(other)
                    })
                });
            if nested && !runs_loop(handler) || starts_loops {
                continue;
            }
            if matches!(judged, Judged::Post)
                && behaviour
                    .services_of(handler)
                    .iter()
                    .all(|s| middleware_guarded.contains(s))
            {
                continue;
            }
            let Some(reached) = scopes.get(&handler) else {
                continue;
            };
            let mut writes = Vec::new();
            let mut guarded = false;
            let mut claims: Vec<Option<u32>> = Vec::with_capacity(reached.len());
            // A key sent to another API, or inserted as a row's primary key, dedupes a retry
            // only when the retry uses the same key: none of the handler's code makes a
            // fresh id.
            let keys = Keys {
                unique: &unique_keys,
                primary: &primary_keys,
                fresh_ids: reached
                    .iter()
                    .any(|r| makes_fresh_key(behaviour.function(r.function))),
                tables: &tables,
                written: {
                    let mut written = HashSet::default();
                    for r in reached {
                        written_records(behaviour, r.function, &mut written);
                    }
                    written
                },
            };
            for r in reached {
                let (guard, claim) = self.collect(cx, behaviour, r.function, &keys, &mut writes);
                guarded |= guard;
                claims.push(claim);
            }
            sweep_claims(cx, behaviour, reached, &mut claims);
            // A claim in a callee whose failure the caller propagates stops the caller too:
            // `AuthService::register(..).await?` inserting on a natural key claims what the
            // handler does after the call.
            propagate_claims(behaviour, reached, &mut claims);
            // A claim covers the functions called after it, however deep: a repository
            // method that claims the order id and then calls the helper that writes.
            let claimed: Vec<bool> = (0..reached.len())
                .map(|i| claimed_by_caller(reached, &claims, i))
                .collect();
            writes.retain(|w| {
                let Some(i) = reached.iter().position(|r| r.function == w.function) else {
                    return true;
                };
                !claimed[i] && claims[i].is_none_or(|claim| w.span.start < claim)
            });
            if guarded || writes.is_empty() {
                continue;
            }
            // A `POST` handler is judged when a retry does more than create one more row of
            // its own: it moves money or stock, publishes, calls out, charges or sends.
            if !matches!(judged, Judged::Message(_)) && writes.iter().all(|w| w.plain_insert) {
                continue;
            }
            // Events that announce a state the handler sets (`SET status = 'refunded'`, then
            // `payment.refunded`): a retry announces the same state of the same entity again,
            // which its consumers can recognise; no new entity is created.
            if !matches!(judged, Judged::Message(_))
                && writes.iter().all(|w| w.publish)
                && reached
                    .iter()
                    .any(|r| sets_state(cx, behaviour, r.function))
            {
                continue;
            }
            // A consumer loop is reported at the handlers it dispatches to.
            let is_loop = through_callback
                || behaviour
                    .function(handler)
                    .effects
                    .iter()
                    .any(|e| matches!(e.kind, EffectKind::Consume { .. }));
            // A message handler no loop is seen calling is dispatched by code that may guard
            // it; with a guard elsewhere in the service, it is given the benefit of the doubt.
            let dispatched_unseen = matches!(judged, Judged::Message(_)) && !is_loop;
            if dispatched_unseen
                && behaviour
                    .services_of(handler)
                    .iter()
                    .any(|s| guarded_services.contains(s))
            {
                continue;
            }
            // At the per-message functions the loop dispatches to (by message kind, or
            // handing each the message), not at a repository or client method, nor at a
            // service function given fields taken out of the message.
            let persistence = |branch: usize| {
                behaviour
                    .function(branch)
                    .impl_type
                    .as_deref()
                    .is_some_and(|t| {
                        [
                            "Repo",
                            "Repository",
                            "Store",
                            "Dao",
                            "Db",
                            "Database",
                            "Storage",
                            "Client",
                        ]
                        .iter()
                        .any(|suffix| t.ends_with(suffix))
                    })
            };
            let branch_of = |write: &Write| {
                reached
                    .iter()
                    .find(|r| r.function == write.function)
                    .map(|r| r.branch)
                    .filter(|&branch| !persistence(branch))
            };
            let mut branches: Vec<usize> = writes.iter().filter_map(branch_of).collect();
            branches.sort_unstable();
            branches.dedup();
            // Several per-message functions are one handler each only when the loop picks one
            // of them per message (they sit in different arms); called one after another for
            // the same message, they are steps of one handler.
            let by_kind = branches.len() > 1 && called_apart(behaviour, handler, &branches);
            // Otherwise a loop handing the message to one function and doing nothing else is
            // reported there; any other loop is the handler, reported once, at the loop.
            let receiving: Vec<usize> = branches
                .iter()
                .copied()
                .filter(|&b| behaviour.receives_message(b))
                .collect();
            let single = match receiving.as_slice() {
                [only] if writes.iter().all(|w| branch_of(w) == Some(*only)) => Some(*only),
                _ => None,
            };
            let mut groups: Vec<(usize, Vec<Write>)> = Vec::new();
            for write in writes {
                let at = if !is_loop {
                    handler
                } else if by_kind {
                    branch_of(&write).unwrap_or(handler)
                } else {
                    single.unwrap_or(handler)
                };
                match groups.iter_mut().find(|(g, _)| *g == at) {
                    Some((_, list)) => list.push(write),
                    None => groups.push((at, vec![write])),
                }
            }
            for (at, list) in groups {
                if !reported.insert(at) {
                    continue;
                }
                out.push(self.finding(cx, behaviour, handler, judged, at, list));
            }
        }
    }
}

/// True when the loop calls each of `branches` only in arms apart from the others' calls
/// (`match event { Created(e) => on_created(e), Paid(e) => on_paid(e) }`).
fn called_apart(behaviour: &Behaviour<'_>, handler: usize, branches: &[usize]) -> bool {
    let function = behaviour.function(handler);
    let sites: Vec<Vec<u32>> = branches
        .iter()
        .map(|&branch| {
            function
                .effects
                .iter()
                .filter_map(|e| match &e.kind {
                    EffectKind::Call { name, receiver } => behaviour
                        .resolve_call(handler, name, receiver.as_deref())
                        .contains(&branch)
                        .then_some(e.span.start),
                    _ => None,
                })
                .collect()
        })
        .collect();
    sites.iter().enumerate().all(|(i, mine)| {
        sites[i + 1..].iter().all(|theirs| {
            mine.iter()
                .all(|&a| theirs.iter().all(|&b| function.exclusive(a, b)))
        })
    })
}

/// A `POST` to another service of the workspace whose handlers change nothing (a verdict, a
/// quote, a search sent as a body): asking again does no harm.
fn answered_without_change(behaviour: &Behaviour<'_>, caller: usize, operation: &str) -> bool {
    let served = behaviour.post_handlers_serving(caller, operation);
    !served.is_empty() && served.iter().all(|&h| !behaviour.changes_state(h, 2))
}

/// An HTTP middleware function: an actix `from_fn` middleware (`req: ServiceRequest,
/// next: Next<B>`), an axum one (`req: Request, next: Next`, also with `State`), a tower
/// `Service` or `Layer` impl taking the `Request`, or a function registering a `wrap_fn`
/// closure (whose body is part of the function).
fn is_middleware(behaviour: &Behaviour<'_>, f: usize) -> bool {
    let function = behaviour.function(f);
    let takes = |name: &str| function.param_types.iter().any(|t| t == name);
    takes("Next")
        || takes("ServiceRequest")
        || function
            .impl_trait
            .as_deref()
            .is_some_and(|t| t == "Service" || t == "Layer")
            && takes("Request")
        || function
            .effects
            .iter()
            .any(|e| matches!(&e.kind, EffectKind::Call { name, .. } if name == "wrap_fn"))
}

/// A middleware reads the `Idempotency-Key` and claims it, itself or in the functions it
/// calls: Redis `SET NX`, a write to an idempotency-keys table, an `ON CONFLICT DO NOTHING`
/// insert, or a call to a claiming helper (`store.claim(&key)`). Reading the header alone
/// (to log it or pass it on) does not guard anything.
fn claims_idempotency_key(cx: &RuleContext<'_>, behaviour: &Behaviour<'_>, f: usize) -> bool {
    let mut reads = false;
    let mut claims = false;
    for (g, _) in behaviour.reachable(f, CALL_DEPTH) {
        let function = behaviour.function(g);
        reads |= function
            .param_types
            .iter()
            .any(|t| t.to_ascii_lowercase().contains("idempot"));
        for effect in &function.effects {
            match &effect.kind {
                EffectKind::IdempotencyKey => reads = true,
                EffectKind::SetIfAbsent => claims = true,
                EffectKind::OrmWrite { api, effect: write } => {
                    claims |= *write == StatementEffect::Upsert
                        || orm_write_table(api).is_some_and(|t| is_dedup_table(&t));
                }
                EffectKind::Call { name, .. } => {
                    let lower = name.to_ascii_lowercase();
                    claims |= lower.contains("claim") || lower.contains("dedup");
                }
                _ => {}
            }
        }
        for query in behaviour.queries_of(g) {
            if !cx.certain_enough(query.certainty) {
                continue;
            }
            let dedup = query.tables.iter().any(|t| is_dedup_table(&t.table));
            claims |= query.effects.iter().any(|e| {
                *e == StatementEffect::Upsert
                    || dedup
                        && matches!(e, StatementEffect::Insert | StatementEffect::AbsoluteUpdate)
            });
        }
    }
    reads && claims
}

/// The part of a function that runs for each message: a consumer loop's, from its first
/// subscription or receive on; a caller's, the closure it hands a consuming function; all of
/// any other function.
fn per_message(behaviour: &Behaviour<'_>, f: usize) -> std::ops::Range<u32> {
    let function = behaviour.function(f);
    let consume = function
        .effects
        .iter()
        .filter(|e| matches!(e.kind, EffectKind::Consume { .. }))
        .map(|e| e.span.start)
        .min();
    if let Some(start) = consume {
        return start..u32::MAX;
    }
    // The closure handed to a consuming function handles each message; the rest of the
    // caller runs once (`tokio::spawn(consume(.., |payload| ..))` beside a loop that
    // publishes a batch).
    match behaviour.callback_consumer_call(f) {
        Some(call) => call.span.start..call.span.end,
        None => 0..u32::MAX,
    }
}

/// Broker client crates: a `Handler` trait impl is a message handler only next to one (an
/// actix actor's `Handler::handle` is an in-process message).
const BROKER_CRATES: &[&str] = &[
    "rdkafka",
    "lapin",
    "async_nats",
    "nats",
    "aws_sdk_sqs",
    "rusoto_sqs",
    "redis",
    "fred",
    "pulsar",
    "fe2o3_amqp",
    "amqprs",
    "kafka",
    "rskafka",
];

/// The handler consumes, takes a broker message type, or sits in a service with a broker
/// client.
fn takes_broker_messages(cx: &RuleContext<'_>, behaviour: &Behaviour<'_>, f: usize) -> bool {
    let function = behaviour.function(f);
    let consumes = function
        .effects
        .iter()
        .any(|e| matches!(e.kind, EffectKind::Consume { .. }));
    if consumes || function.impl_trait.is_none() {
        return true;
    }
    // `fn handle(&mut self, msg: M, ctx: &mut Context<Self>)`: an actor's mailbox.
    if function
        .param_types
        .iter()
        .any(|t| t == "Context" || t == "ActorContext")
    {
        return false;
    }
    behaviour.services_of(f).iter().any(|s| {
        cx.model.service(*s).crates.iter().any(|c| {
            cx.model
                .krate(*c)
                .dependencies
                .iter()
                .any(|d| BROKER_CRATES.contains(&d.code_name.as_str()))
        })
    })
}

/// The functions a handler reaches: `CALL_DEPTH` calls deep, and as deep again below every
/// other handler it reaches (a loop dispatching to a message handler).
fn scope(behaviour: &Behaviour<'_>, root: usize, handlers: &HashSet<usize>) -> Vec<Reached> {
    let mut reached = vec![Reached {
        function: root,
        branch: root,
        caller: None,
    }];
    let services = behaviour.services_of(root);
    // A library shared by two services must not lead into the other service's code.
    let same_service = |f: usize| {
        behaviour.function(f).crate_id == behaviour.function(root).crate_id
            || behaviour
                .services_of(f)
                .iter()
                .any(|s| services.contains(s))
    };
    let mut seen: HashSet<usize> = std::iter::once(root).collect();
    let mut queue: VecDeque<(usize, usize, usize, usize)> =
        VecDeque::from([(root, CALL_DEPTH, root, 0)]);
    let root_region = per_message(behaviour, root);
    while let Some((f, budget, branch, at)) = queue.pop_front() {
        if budget == 0 {
            continue;
        }
        for effect in &behaviour.function(f).effects {
            let EffectKind::Call { name, receiver } = &effect.kind else {
                continue;
            };
            if f == root && !root_region.contains(&effect.span.start) {
                continue;
            }
            for callee in behaviour.resolve_call(f, name, receiver.as_deref()) {
                // What a helper named for audit, activity or metrics does keeps a record
                // (`emit_mfa_activity` publishing and alerting a webhook): repeated, it does
                // no harm.
                if !same_service(callee)
                    || names_record(&behaviour.function(callee).name)
                    || !seen.insert(callee)
                {
                    continue;
                }
                let branch = if f == root { callee } else { branch };
                let budget = if handlers.contains(&callee) {
                    CALL_DEPTH
                } else {
                    budget - 1
                };
                reached.push(Reached {
                    function: callee,
                    branch,
                    caller: Some((at, effect.span.start)),
                });
                queue.push_back((callee, budget, branch, reached.len() - 1));
            }
        }
    }
    reached
}

/// A sweep claims the rows it works on: a `SELECT` that picks rows by their state (`WHERE
/// released = false`, `status = 'pending'`) in a handler that sets that state on the same
/// table (`UPDATE reservations SET released = true WHERE id = $1`), in the same function after
/// it or in another function of the handler. A repeat finds no row left in that state, so
/// what the sweep does for each row is not done twice: the claim starts at the `SELECT`.
fn sweep_claims(
    cx: &RuleContext<'_>,
    behaviour: &Behaviour<'_>,
    reached: &[Reached],
    claims: &mut [Option<u32>],
) {
    let certain = |q: &&SqlQuery| cx.certain_enough(q.certainty);
    // Every (function, table, column) a handler's `UPDATE`s set.
    let mut sets: Vec<(usize, &TableName, &str, u32)> = Vec::new();
    for r in reached {
        for query in behaviour.queries_of(r.function).filter(certain) {
            for table in query.tables.iter().filter(|t| t.access == Access::Write) {
                for column in &query.state_columns.set {
                    sets.push((r.function, &table.table, column, query.span.start));
                }
            }
        }
    }
    if sets.is_empty() {
        return;
    }
    for (i, r) in reached.iter().enumerate() {
        for query in behaviour.queries_of(r.function).filter(certain) {
            let reads_only = query.effects.iter().all(|e| *e == StatementEffect::Read);
            if !reads_only || query.state_columns.tested.is_empty() {
                continue;
            }
            let moves_on = query.tables.iter().any(|read| {
                sets.iter().any(|&(f, table, column, at)| {
                    *table == read.table
                        && (f != r.function || at > query.span.start)
                        && query.state_columns.tested.iter().any(|t| t == column)
                })
            });
            if moves_on {
                let at = query.span.start;
                claims[i] = Some(claims[i].map_or(at, |c| c.min(at)));
            }
        }
    }
}

/// Lifts each claim to the calls that lead to it, when a call's error is propagated (`?`, or
/// an arm that returns the error) or its `Ok` value gates what follows (`if let Ok(order) =
/// claim(..) { .. }`, `match claim(..) { Ok(order) => .., Err(e) => log(e) }`).
fn propagate_claims(behaviour: &Behaviour<'_>, reached: &[Reached], claims: &mut [Option<u32>]) {
    // A function is reached once, through its first caller; other callers that reach it too
    // are matched by name, so a claim lifts into each of them. Lifting repeats until nothing
    // changes (a claim can climb several calls).
    for _ in 0..reached.len().min(CALL_DEPTH + 1) {
        let mut changed = false;
        for i in 0..reached.len() {
            let caller = reached[i].function;
            for effect in &behaviour.function(caller).effects {
                let EffectKind::Call { name, receiver } = &effect.kind else {
                    continue;
                };
                if !(effect.propagates || effect.error_returned || effect.gates_what_follows) {
                    continue;
                }
                let call = effect.span.start;
                if claims[i].is_some_and(|c| c <= call) {
                    continue;
                }
                let claimed_callee = behaviour
                    .resolve_call(caller, name, receiver.as_deref())
                    .into_iter()
                    .any(|callee| {
                        reached
                            .iter()
                            .zip(claims.iter())
                            .any(|(r, claim)| r.function == callee && claim.is_some())
                    });
                if claimed_callee {
                    claims[i] = Some(claims[i].map_or(call, |c| c.min(call)));
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// A caller on the path from the handler to `reached[i]` made a claim before the call that
/// leads there.
fn claimed_by_caller(reached: &[Reached], claims: &[Option<u32>], i: usize) -> bool {
    let mut at = i;
    let mut hops = 0;
    while let Some((caller, call)) = reached[at].caller {
        if claims[caller].is_some_and(|claim| claim < call) {
            return true;
        }
        at = caller;
        hops += 1;
        if hops > reached.len() {
            break;
        }
    }
    false
}

/// "a", "a and b", "a, b and c".
fn join_plain(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Tables whose duplicate rows do no harm: sessions, tokens, audit and log rows.
/// A function that holds deduplication evidence of its own (what [`MissingIdempotency::collect`]
/// counts as a guard), without describing its writes.
fn has_guard(cx: &RuleContext<'_>, behaviour: &Behaviour<'_>, f: usize) -> bool {
    let function = behaviour.function(f);
    takes_idempotency_key(function)
        || behaviour
            .queries_of(f)
            .any(|q| cx.certain_enough(q.certainty) && is_guard_query(q))
        || function.effects.iter().any(is_guard_effect)
}

/// A typed `Idempotency-Key` extractor (`TypedHeader<IdempotencyKey>`).
fn takes_idempotency_key(function: &Function) -> bool {
    function
        .param_types
        .iter()
        .any(|t| contains_any_ignore_case(t, &["idempot"]))
}

/// A query on an inbox / processed-messages / idempotency-keys table.
fn is_guard_query(query: &SqlQuery) -> bool {
    query.tables.iter().any(|t| is_dedup_table(&t.table))
}

/// `SET NX`, an `Idempotency-Key` read, a call named like a deduplication check, an ORM write
/// to a deduplication table.
/// The function makes a fresh id that may become the key it sends: not one made only on a
/// path that sends none (a mock's early return), nor after the key is sent.
fn makes_fresh_key(function: &Function) -> bool {
    let sent: Vec<u32> = function
        .effects
        .iter()
        .filter(|e| e.kind == EffectKind::IdempotencyKeySent)
        .map(|e| e.span.start)
        .collect();
    function.effects.iter().any(|e| {
        e.kind == EffectKind::FreshId
            && !sent.iter().any(|&k| {
                let at = e.span.start;
                at > k || function.exclusive(at, k)
            })
    })
}

/// The function sets a row to given values: an absolute `UPDATE` (in SQL or through an ORM).
fn sets_state(cx: &RuleContext<'_>, behaviour: &Behaviour<'_>, f: usize) -> bool {
    behaviour.queries_of(f).any(|q| {
        cx.certain_enough(q.certainty)
            && q.effects
                .iter()
                .any(|e| matches!(e, StatementEffect::AbsoluteUpdate))
    }) || behaviour.function(f).effects.iter().any(|e| {
        matches!(
            e.kind,
            EffectKind::OrmWrite {
                effect: StatementEffect::AbsoluteUpdate,
                ..
            }
        )
    })
}

fn is_guard_effect(effect: &Effect) -> bool {
    match &effect.kind {
        EffectKind::SetIfAbsent | EffectKind::IdempotencyKey => true,
        EffectKind::Call { name, .. } => is_guard_call(name),
        EffectKind::OrmWrite { api, .. } => {
            orm_write_table(api).as_ref().is_some_and(is_dedup_table)
        }
        _ => false,
    }
}

/// A call to an idempotency helper, by the words of its name: `check_idempotency`,
/// `dedupe_event`, `is_already_applied`, `mark_processed`, `was_handled`, `seen_before`,
/// `try_claim_message`. A name that only mentions a state (`list_processed_orders`) or a
/// claim as a thing (`process_insurance_claim`, `claim_reward`) guards nothing, nor does the
/// deduplication id a producer sets on what it sends (SQS FIFO `message_deduplication_id`).
fn is_guard_call(name: &str) -> bool {
    let words = name_words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    let has_any = |list: &[&str]| list.iter().any(|w| has(w));
    if has("deduplication") && has("id") {
        return false;
    }
    if has_any(&[
        "idempotency",
        "idempotent",
        "idempotence",
        "dedup",
        "dedupe",
        "deduplicate",
        "deduplication",
        "inbox",
        "already",
    ]) {
        return true;
    }
    // A state a message reaches once, asked or recorded: `mark_processed`, `is_duplicate`.
    let state = has_any(&["processed", "handled", "seen", "consumed", "duplicate"]);
    let asked_or_recorded = has_any(&[
        "mark", "is", "was", "has", "check", "record", "remember", "insert", "store", "save",
        "set", "before", "message", "event", "delivery", "id", "key", "detect", "reject", "skip",
        "if", "not", "ensure",
    ]);
    if state && asked_or_recorded {
        return true;
    }
    // `claim`, `try_claim_message`: claiming the message (or a job, a key) for this run.
    let claim_at = match words.as_slice() {
        [first, ..] if first == "claim" => Some(1),
        [first, second, ..] if first == "try" && second == "claim" => Some(2),
        _ => None,
    };
    claim_at.is_some_and(|at| {
        words.get(at).is_none_or(|object| {
            [
                "message", "event", "delivery", "key", "id", "request", "job", "task", "lock",
                "slot", "lease", "work", "once",
            ]
            .contains(&object.as_str())
        })
    })
}

/// Tables where a duplicate row does no harm: sessions, tokens, nonces, one-time passwords,
/// logs and audit trails (`user_sessions`, `refresh_tokens`, `audit_events`,
/// `login_attempts`, `order_status_log`). A table named for something else that mentions
/// one of them (`token_transfers`, `session_bookings`) holds data that counts.
fn is_harmless_table(name: &str) -> bool {
    let table = name.rsplit('.').next().unwrap_or(name);
    let words = name_words(table);
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return false;
    };
    ["session", "token", "nonce", "otp", "log", "audit", "trail"].contains(&last.as_str())
        || ["audit", "login"].contains(&first.as_str())
}

/// A query's written table, for messages: the first written one, else the first one.
fn written_table(query: &SqlQuery) -> Option<String> {
    query
        .tables
        .iter()
        .find(|t| t.access == Access::Write)
        .or_else(|| query.tables.first())
        .map(|t| t.table.to_string())
}

impl MissingIdempotency {
    /// Adds the non-idempotent writes of one function; returns whether it holds a guard, and
    /// where its first claim (an `ON CONFLICT DO NOTHING` insert, an upsert, a compare-and-set
    /// update) starts: what runs after it, there and in the functions called after it, is
    /// claimed.
    fn collect(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        f: usize,
        keys: &Keys<'_>,
        writes: &mut Vec<Write>,
    ) -> (bool, Option<u32>) {
        let function = behaviour.function(f);
        let mut guarded = false;
        // Start of the first upsert in the body: writes after it are claimed by it.
        let mut claimed_from: Option<u32> = None;
        let mut found: Vec<Write> = Vec::new();
        if takes_idempotency_key(function) {
            guarded = true;
        }
        // In a consumer loop, the set-up before the first subscription runs once, not per
        // message.
        let region = per_message(behaviour, f);
        let queries: Vec<&SqlQuery> = behaviour.queries_of(f).collect();
        // `INSERT .. ON CONFLICT DO NOTHING` and then a `SELECT` of the same table makes sure a
        // row exists and reads it (get-or-create): a repeat passes through it, it claims
        // nothing. A `SELECT` in an arm the insert is not in (`None => { read the existing
        // row; return }`) is the duplicate's path: the insert's outcome decides, a claim.
        let in_other_arm = |at: u32, of: u32| {
            function
                .branches
                .iter()
                .flatten()
                .any(|&(start, end)| (start..end).contains(&at) && !(start..end).contains(&of))
        };
        let read_back = |query: &SqlQuery| {
            let written: Vec<&TableName> = query
                .tables
                .iter()
                .filter(|t| t.access == Access::Write)
                .map(|t| &t.table)
                .collect();
            queries.iter().any(|later| {
                later.span.start > query.span.start
                    && !in_other_arm(later.span.start, query.span.start)
                    && later.effects.iter().all(|e| *e == StatementEffect::Read)
                    && later
                        .tables
                        .iter()
                        .any(|t| t.access == Access::Read && written.contains(&&t.table))
            })
        };
        for query in queries.iter().copied() {
            if !cx.certain_enough(query.certainty) {
                continue;
            }
            if is_guard_query(query) {
                guarded = true;
                continue;
            }
            for (statement, effect) in query.statements.iter().zip(&query.effects) {
                match effect {
                    StatementEffect::Upsert if read_back(query) => {}
                    // A conditional state transition (`WHERE status = 'succeeded'`) or an
                    // optimistic lock claims what follows like an `ON CONFLICT DO NOTHING`.
                    StatementEffect::Upsert | StatementEffect::GuardedUpdate => {
                        claimed_from = Some(
                            claimed_from.map_or(query.span.start, |c| c.min(query.span.start)),
                        );
                    }
                    // A natural key from the migrations, or a primary key taken from the
                    // input: a repeated insert fails on it.
                    StatementEffect::Insert
                        if query.tables.iter().any(|t| {
                            t.access == Access::Write
                                && (keys.unique.contains(&t.table)
                                    || keys.takes_key(&t.table, Some(&query.inserted_columns)))
                        }) =>
                    {
                        claimed_from = Some(
                            claimed_from.map_or(query.span.start, |c| c.min(query.span.start)),
                        );
                    }
                    StatementEffect::Insert | StatementEffect::RelativeUpdate => {
                        let table = written_table(query).unwrap_or_default();
                        let event_row = is_outbox_table(&crate::model::TableName {
                            schema: None,
                            name: table.clone(),
                        });
                        // An outbox row per retry is a duplicate event, which consumers
                        // deduplicate; the handler's own data is what counts here.
                        if event_row
                            || is_harmless_table(&table)
                            || !region.contains(&query.span.start)
                        {
                            continue;
                        }
                        let what = match effect {
                            StatementEffect::RelativeUpdate => {
                                format!("relative `{statement} {table}`")
                            }
                            _ => format!("`{statement} INTO {table}`"),
                        };
                        found.push(Write {
                            function: f,
                            span: query.span,
                            what,
                            plain_insert: *effect == StatementEffect::Insert,
                            publish: false,
                            by_name: false,
                        });
                    }
                    _ => {}
                }
            }
        }
        // A request sent with an `Idempotency-Key` is deduplicated by the API it goes to,
        // unless the key is made afresh for each request.
        let sends_key = !keys.fresh_ids
            && function
                .effects
                .iter()
                .any(|e| e.kind == EffectKind::IdempotencyKeySent);
        for effect in &function.effects {
            if is_guard_effect(effect) {
                guarded = true;
                continue;
            }
            if sends_key && matches!(effect.kind, EffectKind::Remote { .. }) {
                continue;
            }
            // `if order.status == "CANCELLED" { return .. }`: a repeat finds the row moved on
            // and stops before the writes that follow, like a compare-and-set update. A check
            // of a row of a table the handler never writes (`if market.status == SETTLED`
            // before inserting an order) is a precondition: a repeat passes it again.
            if let EffectKind::StateCheck { subject } = &effect.kind {
                let precondition = subject.as_deref().is_some_and(|s| {
                    let record = record_name(s);
                    keys.tables.contains(&record) && !keys.written.contains(&record)
                });
                if precondition {
                    continue;
                }
                claimed_from =
                    Some(claimed_from.map_or(effect.span.start, |c| c.min(effect.span.start)));
                continue;
            }
            let what = match &effect.kind {
                EffectKind::Call { name, receiver } => {
                    // A project method without effects (`TransactionEntry::debit(..)` building
                    // a journal line) charges nothing.
                    let quiet = receiver
                        .as_ref()
                        .is_some_and(|r| cx.model.quiet_methods.contains(&format!("{r}::{name}")));
                    // `addr.send(msg)` to an actor the project does not define sends nothing
                    // out by itself; a mailer's `send` does.
                    let actor_dispatch = name == "send"
                        && !receiver.as_deref().is_some_and(|r| {
                            crate::behaviour::is_mail_sender(&r.to_ascii_lowercase())
                        });
                    if !is_charge_or_send(name)
                        || actor_dispatch
                        || quiet
                        || !behaviour
                            .resolve_call(f, name, receiver.as_deref())
                            .is_empty()
                    {
                        continue;
                    }
                    match receiver {
                        Some(r) => format!("`{r}.{name}(..)`"),
                        None => format!("`{name}(..)`"),
                    }
                }
                EffectKind::OrmWrite { api, effect: write } => {
                    let table = orm_write_table(api);
                    if table.as_ref().is_some_and(|t| is_harmless_table(&t.name)) {
                        continue;
                    }
                    // An upsert, or an insert on a natural key: a repeat stops there.
                    let claims = *write == StatementEffect::Upsert
                        || *write == StatementEffect::Insert
                            && table.as_ref().is_some_and(|t| {
                                keys.unique.contains(t) || keys.takes_key(t, None)
                            });
                    match write {
                        _ if claims => {
                            claimed_from = Some(
                                claimed_from
                                    .map_or(effect.span.start, |c| c.min(effect.span.start)),
                            );
                            continue;
                        }
                        StatementEffect::Insert => format!("`{api}` (insert)"),
                        StatementEffect::RelativeUpdate => format!("`{api}` (relative update)"),
                        _ => continue,
                    }
                }
                // A repeated audit or activity record does no harm, like a duplicate row in
                // an audit table.
                EffectKind::Publish { .. } if behaviour.keeps_record(f, effect) => continue,
                EffectKind::Publish { .. }
                    if !behaviour.publish_delegates(f, effect).is_empty() =>
                {
                    // The wrapper's own body is followed as a call.
                    continue;
                }
                EffectKind::Publish {
                    broker,
                    destination,
                } => match destination {
                    Some(d) => format!("publish to `{d}` ({})", broker_name(*broker)),
                    None => format!("publish ({})", broker_name(*broker)),
                },
                EffectKind::Remote {
                    protocol,
                    method,
                    operation,
                    target,
                } => {
                    let counts = match protocol {
                        RemoteProtocol::Http => {
                            // A URL whose path is unknown is named by the function sending
                            // it (`generate(..)` asking a model).
                            let path = operation.split(['?', '&']).next().unwrap_or_default();
                            let asks = if path.is_empty() {
                                is_read_like_operation(&function.name)
                            } else {
                                is_read_like_operation(path)
                            };
                            *method == Some(HttpMethod::Post)
                                && !asks
                                && !answered_without_change(behaviour, f, operation)
                        }
                        RemoteProtocol::Grpc | RemoteProtocol::Client => {
                            creates_or_moves(operation)
                        }
                    };
                    if !counts {
                        continue;
                    }
                    let target = target.as_deref().unwrap_or("another service");
                    match protocol {
                        RemoteProtocol::Http if operation.is_empty() => {
                            format!("`POST` to `{target}`")
                        }
                        RemoteProtocol::Http => format!("`POST {operation}` to `{target}`"),
                        _ => format!("`{target}.{operation}(..)`"),
                    }
                }
                _ => continue,
            };
            if effect.context != crate::model::PathContext::Normal
                || !region.contains(&effect.span.start)
            {
                continue;
            }
            let plain_insert = matches!(
                &effect.kind,
                EffectKind::OrmWrite {
                    effect: StatementEffect::Insert,
                    ..
                }
            );
            let by_name = matches!(
                &effect.kind,
                EffectKind::Call { .. }
                    | EffectKind::Publish {
                        broker: Broker::Wrapper,
                        ..
                    }
            );
            found.push(Write {
                function: f,
                span: effect.span,
                what,
                plain_insert,
                publish: matches!(effect.kind, EffectKind::Publish { .. }),
                by_name,
            });
        }
        if let Some(from) = claimed_from {
            found.retain(|w| w.span.start < from);
        }
        found.sort_by_key(|w| w.span.start);
        writes.extend(found);
        (guarded, claimed_from)
    }

    fn finding(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        handler: usize,
        judged: Judged,
        at: usize,
        writes: Vec<Write>,
    ) -> Finding {
        let model = cx.model;
        let function = behaviour.function(at);
        let name = &function.name;
        let mut listed: Vec<String> = writes
            .iter()
            .take(LISTED)
            .map(|w| format!("{} at {}", w.what, cx.location(w.span)))
            .collect();
        if writes.len() > LISTED {
            listed.push(format!("{} more", writes.len() - LISTED));
        }
        let evidence = join_plain(&listed);
        let message = match judged {
            Judged::Message(broker) => {
                let source =
                    behaviour
                        .function(handler)
                        .effects
                        .iter()
                        .find_map(|e| match &e.kind {
                            EffectKind::Consume { source, .. } => source.clone(),
                            _ => None,
                        });
                let consumer = match (broker, &source) {
                    (Some(b), Some(s)) => format!("{} messages from `{s}`", broker_name(b)),
                    (Some(b), None) => format!("{} messages", broker_name(b)),
                    (None, _) => "broker messages".to_owned(),
                };
                let role = if at == handler {
                    format!("message handler `{name}` ({consumer})")
                } else {
                    format!(
                        "`{name}`, which the consumer loop `{}` ({}) runs for {consumer},",
                        behaviour.function(handler).name,
                        cx.location(behaviour.function(handler).span)
                    )
                };
                format!(
                    "{role} has non-idempotent effects and no deduplication guard: {evidence}; \
                     a redelivered message repeats them (no look-up or insert of the message id \
                     in an inbox / processed-messages table, no `ON CONFLICT DO NOTHING` claim, \
                     no Redis `SET NX`)"
                )
            }
            Judged::Rpc => format!(
                "write RPC `{name}`{} has non-idempotent effects and no idempotency guard: \
                 {evidence}; a retried call repeats them (no request id or idempotency key \
                 read and stored, no `ON CONFLICT DO NOTHING` claim)",
                function
                    .impl_trait
                    .as_deref()
                    .map(|t| format!(" of `{t}`"))
                    .unwrap_or_default()
            ),
            Judged::Post => {
                let path = model
                    .routes
                    .iter()
                    .find(|r| r.handler == *name && r.method == HttpMethod::Post)
                    .and_then(|r| r.path.clone())
                    // A route registered under a scope (`web::scope("/orders").route("", ..)`)
                    // has no path of its own.
                    .filter(|p| !p.is_empty());
                let route = match path {
                    Some(p) => format!(" (`POST {p}`)"),
                    None => String::new(),
                };
                format!(
                    "POST handler `{name}`{route} has non-idempotent effects and no \
                     idempotency guard: {evidence}; a retried request repeats them (no \
                     `Idempotency-Key` read and stored, no idempotency-keys table, no \
                     `ON CONFLICT DO NOTHING` claim)"
                )
            }
        };
        let related = writes
            .iter()
            .map(|w| Related {
                span: w.span,
                label: format!("non-idempotent: {}", w.what),
            })
            .collect();
        let services = behaviour
            .services_of(at)
            .iter()
            .map(|s| cx.service_name(*s).to_owned())
            .collect();
        // Evidence recognised by names alone is one inferred link.
        let confidence = if writes.iter().all(|w| w.by_name) {
            Confidence::Medium
        } else {
            Confidence::High
        };
        Finding {
            confidence,
            rule: self.id(),
            level: self.default_level(),
            message,
            span: function.span,
            label: match judged {
                Judged::Message(_) => "message handler without a deduplication guard",
                Judged::Post => "POST handler without an idempotency key",
                Judged::Rpc => "write RPC without an idempotency key",
            }
            .to_owned(),
            help: match judged {
                Judged::Message(_) => MESSAGE_HELP,
                Judged::Post | Judged::Rpc => POST_HELP,
            }
            .to_owned(),
            related,
            services,
            table: None,
            database: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_guard_call, is_harmless_table};

    #[test]
    fn guard_calls_are_told_by_the_words_of_their_names() {
        for guard in [
            "check_idempotency",
            "markIdempotencyKey",
            "dedupe_event",
            "is_already_applied",
            "mark_processed",
            "was_handled",
            "seen_before",
            "is_duplicate",
            "insert_inbox",
            "claim",
            "try_claim_message",
            "claim_job",
        ] {
            assert!(is_guard_call(guard), "{guard}");
        }
        for effect in [
            "process_insurance_claim",
            "approve_claim",
            "claim_reward",
            "list_processed_orders",
            "duplicate_order",
            "set_message_deduplication_id",
            "handle",
            "process_payment",
        ] {
            assert!(!is_guard_call(effect), "{effect}");
        }
    }

    #[test]
    fn harmless_tables_are_named_for_sessions_tokens_and_logs() {
        for table in [
            "user_sessions",
            "auth.refresh_tokens",
            "audit_events",
            "login_attempts",
            "order_status_log",
            "logs",
            "otps",
        ] {
            assert!(is_harmless_table(table), "{table}");
        }
        for table in [
            "token_transfers",
            "session_bookings",
            "catalog",
            "blogs",
            "dialogs",
        ] {
            assert!(!is_harmless_table(table), "{table}");
        }
    }
}
