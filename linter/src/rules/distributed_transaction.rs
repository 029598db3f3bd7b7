//! ## What it does
//! Flags two-phase commit (2PC) in service code: SQL statements that prepare, commit, roll back
//! or recover transactions prepared for a distributed commit, and reads of the catalog that
//! lists them.
//!
//! - PostgreSQL: `PREPARE TRANSACTION`, `COMMIT PREPARED`, `ROLLBACK PREPARED`, and reads of
//!   `pg_prepared_xacts` (a coordinator's recovery loop);
//! - MySQL / MariaDB XA: `XA START` (`XA BEGIN`), `XA END`, `XA PREPARE`, `XA COMMIT`,
//!   `XA ROLLBACK`, `XA RECOVER`.
//!
//! One finding per statement, at the SQL string that holds it (the table name, for
//! `pg_prepared_xacts`), whichever client runs it (sqlx, tokio-postgres, diesel `sql_query`,
//! sea-orm, mysql_async). The transaction id is nearly always interpolated, so `format!`
//! templates such as `format!("PREPARE TRANSACTION '{}'", gid)` are judged like literals
//! (under `min-certainty = "exact"` they are not). Test code and migrations are not judged, and
//! neither are crates that belong to no service (a library implementing a transaction
//! manager is not a service coordinating one).
//!
//! A health check that only counts prepared transactions (`SELECT count(*) FROM
//! pg_prepared_xacts`) is reported too: it watches for the in-doubt transactions a 2PC leaves
//! behind. If nothing in the workspace runs one, allow it by path with a reason.
//!
//! Also flagged: one function that opens transactions on two different pools or connections
//! (`orders_db.begin()` and `billing_db.begin()`) and commits both, located at the second
//! `begin`: a two-phase commit done by hand, without the prepare phase that would make it
//! recoverable.
//!
//! Also flagged: a service function that coordinates a two-phase commit across services over
//! RPC, located at its first verdict call (or its first such request when it sends none): it
//! sends the services it calls requests that carry a prepared-transaction id
//! (`PaymentCreateRequest { prepared_transaction_id: Some(gid), .. }`), or it asks a
//! transaction manager to commit or roll back (`self.payments_tpc.commit(..)` on a
//! `TwoPhaseCommitServiceClient`, a client named for `tpc`, `2pc`, `xa`, a transaction or a
//! coordinator). A `commit` RPC of a client named for nothing of the kind (a catalog's
//! change sets) is not one, and neither is a participant that only reads the id it was sent.
//!
//! Not flagged: prepared statements (`PREPARE stmt AS SELECT ..`, `EXECUTE`, `DEALLOCATE`),
//! ordinary `BEGIN` / `COMMIT` / `ROLLBACK`, `SET TRANSACTION ISOLATION LEVEL ..`, and text
//! that only mentions 2PC (comments inside the SQL, log messages, UI strings).
//!
//! ## Why is this bad
//! A two-phase commit across services or databases makes every participant wait for the
//! slowest one and for the coordinator: a prepared transaction keeps its locks (and in
//! PostgreSQL holds back vacuum) until someone commits or rolls it back, so a coordinator that
//! crashes between the two phases leaves rows locked until an operator resolves them by hand.
//! All participants must be up for any of them to commit, which couples their availability as
//! tightly as a shared database, and few brokers or HTTP APIs can take part at all.
//!
//! ## Example
//! ```rust,ignore
//! // payments/src/transfer.rs
//! sqlx::query("UPDATE accounts SET balance = balance - $1 WHERE id = $2")
//!     .bind(amount).bind(from).execute(&mut *payments_tx).await?;
//! payments_tx.execute(format!("PREPARE TRANSACTION '{gid}'").as_str()).await?;
//! ledger_tx.execute(format!("PREPARE TRANSACTION '{gid}'").as_str()).await?;
//! payments.execute(format!("COMMIT PREPARED '{gid}'").as_str()).await?;
//! ledger.execute(format!("COMMIT PREPARED '{gid}'").as_str()).await?;
//! ```
//!
//! ## How to fix
//! Make each step a local transaction in the database of the service that owns the data and
//! coordinate the steps with a saga: on failure, run compensating actions (refund, release,
//! cancel) for the steps already done. To change data and tell other services about it
//! atomically, write the change and an event to an outbox table in one local transaction and
//! let a relay publish it (a transactional outbox), with idempotent consumers on the other side.
//! If a 2PC is deliberate (two databases of one service, with an operator runbook for
//! in-doubt transactions), record it:
//! ```toml
//! [[allow]]
//! rule = "distributed-transaction"
//! path = "ledger/src/archive.rs"
//! reason = "archive copy to the cold database; in-doubt transactions resolved by runbook OPS-7"
//! ```

use crate::model::{Access, CrateId, EffectKind, ServiceId, Span, SqlOrigin, SqlQuery, TableName};
use crate::rules::{list_names, Confidence, Finding, Related, Rule, RuleContext};

pub struct DistributedTransaction;

const HELP: &str = "use a saga with compensating actions, or a transactional outbox with \
                    idempotent consumers, instead of a two-phase commit across services or databases";

/// Which part of a two-phase commit a statement is, for the message; `None` for every other
/// statement.
fn two_phase_role(statement: &str) -> Option<&'static str> {
    Some(match statement {
        "PREPARE TRANSACTION" => "two-phase commit, first phase",
        "COMMIT PREPARED" => "two-phase commit, second phase",
        "ROLLBACK PREPARED" => "two-phase commit, abort of a prepared transaction",
        "XA START" | "XA BEGIN" => "XA two-phase commit, start of a branch",
        "XA END" => "XA two-phase commit, end of a branch",
        "XA PREPARE" => "XA two-phase commit, first phase",
        "XA COMMIT" => "XA two-phase commit, second phase",
        "XA ROLLBACK" => "XA two-phase commit, abort",
        "XA RECOVER" => "XA two-phase commit, recovery of prepared transactions",
        _ => return None,
    })
}

/// PostgreSQL's view of the transactions prepared for two-phase commit.
fn is_prepared_xacts(table: &TableName) -> bool {
    table.name == "pg_prepared_xacts" && table.schema.as_deref().is_none_or(|s| s == "pg_catalog")
}

impl Rule for DistributedTransaction {
    fn id(&self) -> &'static str {
        "distributed-transaction"
    }

    fn summary(&self) -> &'static str {
        "service code runs a two-phase commit (PREPARE TRANSACTION, COMMIT PREPARED, XA)"
    }

    fn source(&self) -> &'static str {
        include_str!("distributed_transaction.rs")
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let model = cx.model;
        for query in &model.queries {
            if !self.judged(cx, query) {
                continue;
            }
            let services: Vec<ServiceId> =
                cx.services_of_crate(query.crate_id).map(|s| s.id).collect();
            if services.is_empty() {
                continue;
            }
            for statement in &query.statements {
                let Some(role) = two_phase_role(statement) else {
                    continue;
                };
                out.push(self.finding(
                    cx,
                    &services,
                    query,
                    ("runs", "run", format!("`{statement}`")),
                    role,
                    query.span,
                    format!("`{statement}` here"),
                ));
            }
            for table in query
                .tables
                .iter()
                .filter(|t| t.access == Access::Read && is_prepared_xacts(&t.table))
            {
                out.push(self.finding(
                    cx,
                    &services,
                    query,
                    ("reads", "read", format!("`{}`", table.table)),
                    "two-phase commit, recovery of prepared transactions",
                    table.span,
                    format!("reads `{}` here", table.table),
                ));
            }
        }
        self.transactions_on_two_databases(cx, out);
        self.coordinators(cx, out);
    }
}

/// The verdict RPCs of a two-phase commit.
fn is_verdict_operation(operation: &str) -> bool {
    matches!(
        operation,
        "commit"
            | "rollback"
            | "abort"
            | "commit_prepared"
            | "rollback_prepared"
            | "commit_transaction"
            | "rollback_transaction"
            | "abort_transaction"
    )
}

/// A client (field or type) named for a transaction manager: `payment_tpc_client`,
/// `TwoPhaseCommitServiceClient`, `TransactionCoordinatorClient`, `xa_client`.
fn names_transaction_manager(name: &str) -> bool {
    let words = crate::behaviour::name_words(name);
    words.iter().any(|w| {
        matches!(
            w.as_str(),
            "tpc" | "2pc" | "xa" | "transaction" | "txn" | "tx" | "coordinator"
        )
    }) || words
        .windows(2)
        .any(|pair| pair[0] == "two" && pair[1] == "phase")
}

/// The services a crate belongs to, with their names listed for a message; `None` for a crate
/// of no service (a library implementing a transaction manager coordinates nothing).
fn services_of(cx: &RuleContext<'_>, krate: CrateId) -> Option<(Vec<String>, String)> {
    let services: Vec<String> = cx
        .services_of_crate(krate)
        .map(|s| cx.service_name(s.id).to_owned())
        .collect();
    let names = list_names(services.iter().map(String::as_str));
    (!services.is_empty()).then_some((services, names))
}

impl DistributedTransaction {
    /// A service function that coordinates a two-phase commit across services: it hands
    /// prepared-transaction ids to the services it calls, or asks a transaction manager's RPCs
    /// to commit or roll back.
    fn coordinators(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let model = cx.model;
        for function in &model.functions {
            if cx.is_test(function.span) {
                continue;
            }
            let client_type = |target: &str| {
                model
                    .client_fields
                    .iter()
                    .find(|f| f.crate_id == function.crate_id && f.name == target)
                    .map(|f| f.client.as_str())
            };
            let mut remote_calls = false;
            let mut verdict: Option<(&str, &str, Span)> = None;
            let mut prepared_ids: Vec<Span> = Vec::new();
            for effect in &function.effects {
                match &effect.kind {
                    EffectKind::Remote {
                        operation, target, ..
                    } => {
                        remote_calls = true;
                        let Some(target) = target.as_deref() else {
                            continue;
                        };
                        let manager = names_transaction_manager(target)
                            || client_type(target).is_some_and(names_transaction_manager);
                        if verdict.is_none() && manager && is_verdict_operation(operation) {
                            verdict = Some((operation, target, effect.span));
                        }
                    }
                    EffectKind::PreparedTransactionSent => prepared_ids.push(effect.span),
                    _ => {}
                }
            }
            let sends_prepared_ids = remote_calls && !prepared_ids.is_empty();
            if verdict.is_none() && !sends_prepared_ids {
                continue;
            }
            let Some((services, names)) = services_of(cx, function.crate_id) else {
                continue;
            };
            let mut what = Vec::new();
            if sends_prepared_ids {
                what.push("hands prepared-transaction ids to the services it calls".to_string());
            }
            if let Some((operation, target, _)) = verdict {
                what.push(format!(
                    "asks the transaction manager `{target}` to `{operation}`"
                ));
            }
            let mut related: Vec<Related> = prepared_ids
                .iter()
                .map(|span| Related {
                    span: *span,
                    label: "request carrying a prepared-transaction id".to_string(),
                })
                .collect();
            let (span, label) = match verdict {
                Some((operation, _, span)) => {
                    (span, format!("`{operation}` of a two-phase commit"))
                }
                None => (
                    related.remove(0).span,
                    "prepared-transaction id sent here".to_string(),
                ),
            };
            out.push(Finding {
                confidence: Confidence::High,
                rule: self.id(),
                level: self.default_level(),
                message: format!(
                    "`{}` in {names} coordinates a two-phase commit across services: it {}",
                    function.path,
                    what.join(" and ")
                ),
                span,
                label,
                help: HELP.to_string(),
                related,
                services,
                table: None,
                database: None,
            });
        }
    }

    /// Service code only: not migrations, not tests, and SQL resolved well enough.
    /// One function opening transactions on two different pools or connections and
    /// committing them: a hand-made distributed transaction without a protocol.
    fn transactions_on_two_databases(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let model = cx.model;
        for function in &model.functions {
            if cx.is_test(function.span) {
                continue;
            }
            let mut opened: Vec<(&str, Span)> = Vec::new();
            for effect in &function.effects {
                if let EffectKind::Begin {
                    receiver: Some(receiver),
                } = &effect.kind
                {
                    if !opened.iter().any(|(r, _)| r == receiver) {
                        opened.push((receiver.as_str(), effect.span));
                    }
                }
            }
            let commits = function
                .effects
                .iter()
                .filter(|e| matches!(e.kind, EffectKind::Commit { .. }))
                .count();
            if opened.len() < 2 || commits < 2 {
                continue;
            }
            let Some((services, names)) = services_of(cx, function.crate_id) else {
                continue;
            };
            let (first, first_span) = opened[0];
            let (second, second_span) = opened[1];
            out.push(Finding {
                confidence: Confidence::High,
                rule: self.id(),
                level: self.default_level(),
                message: format!(
                    "`{}` in {names} opens transactions on `{first}` and `{second}` and commits \
                     them one after the other: a failure between the commits leaves one database \
                     changed and the other not",
                    function.path
                ),
                span: second_span,
                label: format!("second transaction, on `{second}`"),
                help: HELP.to_string(),
                related: vec![Related {
                    span: first_span,
                    label: format!("first transaction, on `{first}`"),
                }],
                services,
                table: None,
                database: None,
            });
        }
    }

    fn judged(&self, cx: &RuleContext<'_>, query: &SqlQuery) -> bool {
        query.origin != SqlOrigin::Migration
            && !cx.is_test(query.span)
            && cx.certain_enough(query.certainty)
    }

    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        cx: &RuleContext<'_>,
        services: &[ServiceId],
        query: &SqlQuery,
        (verb_one, verb_many, object): (&str, &str, String),
        role: &str,
        span: Span,
        label: String,
    ) -> Finding {
        let names = list_names(services.iter().map(|s| cx.service_name(*s)));
        let (noun, verb) = if services.len() == 1 {
            ("service", verb_one)
        } else {
            ("services", verb_many)
        };
        let place = if query.function.is_empty() {
            String::new()
        } else {
            format!(" in `{}`", query.function)
        };
        Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message: format!("{noun} {names} {verb} {object}{place} ({role})"),
            span,
            label,
            help: HELP.to_string(),
            related: Vec::new(),
            services: services
                .iter()
                .map(|s| cx.service_name(*s).to_string())
                .collect(),
            table: None,
            database: None,
        }
    }
}
