//! ## What it does
//! Flags blocking I/O on the async runtime inside the code that keeps data consistent across
//! services: message handlers (rdkafka, lapin, async-nats, SQS and Redis-stream consumers and
//! the functions they dispatch to), saga orchestrators (an async function that takes two or
//! more steps on other services: mutating HTTP, gRPC or typed-client calls, made directly or
//! through a project function that makes one itself or one call further down, such as
//! `clients.inventory.reserve(..)`; calls named for how they run, `run`, `spawn`, `new`, are
//! no steps, so start-up code is no orchestrator; however the orchestrator is triggered, by a
//! message or an HTTP request) and saga step objects (`execute`/`compensate` methods of a
//! step trait).
//!
//! Blocking calls: `reqwest::blocking`, `ureq`, `std::thread::sleep`, diesel on a sync
//! connection (`PgConnection::establish`, `.load(&mut conn)` without diesel-async), the sync
//! `postgres` crate and `rusqlite`. The call is located where it is made, which may be a
//! helper the handler calls (followed up to six calls deep, e.g. a `backoff()` or
//! `with_retry()` utility below a mailer); the message names the handler.
//!
//! Not flagged: start-up code that runs once before a consumer loop receives its first
//! message (establishing a connection, running migrations in `main` before the subscription);
//! the same calls inside a closure given to `tokio::task::spawn_blocking`,
//! `block_in_place`, `actix_web::web::block`, deadpool's `interact` or tokio-rusqlite's
//! `call`; helpers reached only through such a closure; and blocking code outside handlers,
//! sagas and steps (start-up code, CLI tools, sync services).
//!
//! ## Why is this bad
//! An async runtime runs many tasks on a few worker threads. A handler that sleeps or waits
//! for a blocking HTTP call or database query holds its worker thread for the whole wait: the
//! other consumers, the broker heartbeats and the HTTP server on that thread stall with it.
//! Under load the broker sees slow consumers and rebalances or redelivers messages, and saga
//! timeouts fire for steps that actually succeeded, which triggers compensations for work that
//! is done: the inconsistencies the saga was meant to prevent.
//!
//! ## Example
//! ```rust,ignore
//! async fn handle_payment_failed(msg: &BorrowedMessage<'_>) -> anyhow::Result<()> {
//!     // Blocks the runtime thread until the inventory service answers.
//!     reqwest::blocking::Client::new()
//!         .post("http://inventory/stock/release")
//!         .send()?;
//!     std::thread::sleep(Duration::from_millis(200)); // back-off
//!     Ok(())
//! }
//! ```
//!
//! ## How to fix
//! Use the async client (`reqwest::Client`, `tokio::time::sleep`, sqlx, diesel-async,
//! tokio-postgres). When a blocking library must be used, move the call off the runtime:
//! ```rust,ignore
//! let rows = tokio::task::spawn_blocking(move || {
//!     let mut conn = pool.get()?;
//!     stock.filter(sku.eq(&item)).load::<Stock>(&mut conn)
//! })
//! .await??;
//! ```

use std::collections::HashSet;

use crate::behaviour::{broker_name, Behaviour, HandlerKind, DEEP_CALL_DEPTH};
use crate::extract::rust::STEP_METHODS;
use crate::model::{EffectKind, Function};
use crate::rules::{Confidence, Finding, Related, Rule, RuleContext};

pub struct BlockingSagaStep;

const HELP: &str = "use the async API (reqwest::Client, tokio::time::sleep, sqlx, diesel-async, \
                    tokio-postgres) or move the call into tokio::task::spawn_blocking";

/// Why a function is judged: the role the message names.
fn role_of(behaviour: &Behaviour<'_>, f: usize) -> Option<String> {
    let function = behaviour.function(f);
    if !function.is_async {
        return None;
    }
    // Cheap first: a function with fewer than two calls or remote calls takes no two steps.
    let candidates = function
        .effects
        .iter()
        .filter(|e| matches!(e.kind, EffectKind::Call { .. } | EffectKind::Remote { .. }))
        .count();
    if candidates >= 2 && behaviour.remote_steps(f).len() >= 2 {
        return Some(format!("saga orchestrator `{}`", function.name));
    }
    if is_step_method(function) {
        return Some(format!(
            "saga step `{}::{}`",
            function.impl_type.as_deref().unwrap_or("?"),
            function.name
        ));
    }
    None
}

fn is_step_method(function: &Function) -> bool {
    function.impl_trait.is_some()
        && STEP_METHODS
            .iter()
            .any(|(forward, back)| function.name == *forward || function.name == *back)
        && function
            .impl_trait
            .as_deref()
            .is_some_and(|t| t.contains("Step") || t.contains("Saga") || t.contains("Compensat"))
}

impl Rule for BlockingSagaStep {
    fn id(&self) -> &'static str {
        "blocking-saga-step"
    }

    fn summary(&self) -> &'static str {
        "blocking I/O inside an async message handler, saga orchestrator or saga step"
    }

    fn source(&self) -> &'static str {
        include_str!("blocking_saga_step.rs")
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let behaviour = cx.behaviour();
        // Steps and orchestrators first: a blocking call in a step is reported as the
        // step's, even when a handler also reaches it.
        let mut roots: Vec<(usize, String)> = (0..cx.model.functions.len())
            .filter_map(|f| role_of(behaviour, f).map(|role| (f, role)))
            .collect();
        for (f, kind) in behaviour.message_handlers() {
            if !behaviour.function(f).is_async {
                continue;
            }
            let name = &behaviour.function(f).name;
            let role = match kind {
                HandlerKind::Message(Some(broker)) => {
                    format!("the {} consumer loop in `{name}`", broker_name(broker))
                }
                HandlerKind::Message(None) => format!("message handler `{name}`"),
                HandlerKind::Http(_) => continue,
            };
            if !roots.iter().any(|(r, _)| *r == f) {
                roots.push((f, role));
            }
        }
        let mut reported: HashSet<(u32, u32)> = HashSet::new();
        for (root, role) in roots {
            let root_fn = behaviour.function(root);
            if cx.is_test(root_fn.span) || behaviour.services_of(root).is_empty() {
                continue;
            }
            // A consumer loop's set-up before its first subscription or receive (connecting,
            // running migrations) runs once, before any message: start-up, not a step.
            let loop_start = root_fn
                .effects
                .iter()
                .filter(|e| matches!(e.kind, EffectKind::Consume { .. }))
                .map(|e| e.span.start)
                .min()
                .unwrap_or(0);
            let start_up = |e: &crate::model::Effect| {
                e.span.file == root_fn.body.file
                    && root_fn.body.start <= e.span.start
                    && e.span.start < loop_start
            };
            // Calls made inside `spawn_blocking` run off the runtime: not followed.
            let reached = behaviour
                .reachable_through(root, DEEP_CALL_DEPTH, |e| !e.offloaded && !start_up(e));
            for (f, depth) in reached {
                let function = behaviour.function(f);
                for effect in &function.effects {
                    let EffectKind::Blocking { api } = &effect.kind else {
                        continue;
                    };
                    if effect.offloaded || cx.is_test(effect.span) || depth == 0 && start_up(effect)
                    {
                        continue;
                    }
                    if !reported.insert((effect.span.file.0, effect.span.start)) {
                        continue;
                    }
                    let place = if depth == 0 {
                        format!("in {role}")
                    } else {
                        format!("in `{}`, called from {role}", function.name)
                    };
                    let services = behaviour
                        .services_of(root)
                        .iter()
                        .map(|s| cx.service_name(*s).to_owned())
                        .collect();
                    let mut related = Vec::new();
                    if depth > 0 {
                        related.push(Related {
                            span: root_fn.span,
                            label: format!("{role} ({})", cx.location(root_fn.span)),
                        });
                    }
                    out.push(Finding {
                        confidence: Confidence::High,
                        rule: self.id(),
                        level: self.default_level(),
                        message: format!(
                            "blocking call `{api}` {place}: it holds an async runtime thread \
                             for the whole wait"
                        ),
                        span: effect.span,
                        label: "blocks the async runtime".to_owned(),
                        help: HELP.to_owned(),
                        related,
                        services,
                        table: None,
                        database: None,
                    });
                }
            }
        }
    }
}
