//! ## What it does
//! Flags event types that are serialized and published to a broker without a schema version.
//! A type is published when a function constructs it (`OrderPlaced { .. }`,
//! `OrderEvent::Placed { .. }`) and, in the same function, publishes (rdkafka `send` with a
//! `FutureRecord`, lapin `basic_publish`, async-nats `publish`, SQS `send_message`, Redis
//! `XADD`, a project `publish*`/`emit*` wrapper) or writes to an outbox, and the type derives
//! `Serialize`.
//!
//! The event carries a version when any of these holds:
//! - a field named `version`, `schema_version`, `event_version`, `v`, `specversion` or
//!   `dataschema` (CloudEvents), on the type or on an envelope constructed in the same function;
//! - a versioned name: the type or a variant ends in `V1`, `V2`, ...;
//! - a versioned serde tag or rename (`#[serde(rename = "order.placed.v1")]`);
//! - a versioned destination: the topic, subject, routing key or stream it is published to
//!   has a `v1`/`v2`... segment (`orders.v1.placed`, `orders-v2`).
//!
//! One finding per type, at the type's name, naming where it is published.
//!
//! ## Why is this bad
//! Events outlive the code that writes them: they sit in topics and outboxes for days, are
//! replayed to rebuild projections, and are read by services deployed on their own schedule.
//! Without a version, a consumer cannot tell an old message from a new one; the first field
//! renamed or made required breaks every consumer that has not been redeployed, and replays of
//! old messages break the new code. With a version, consumers can support two versions during
//! a migration, and producers can publish both.
//!
//! ## Example
//! ```rust,ignore
//! #[derive(Serialize)]
//! struct OrderPlaced {
//!     order_id: Uuid,
//!     total: Decimal,
//! }
//!
//! let payload = serde_json::to_vec(&OrderPlaced { order_id, total })?;
//! producer.send(FutureRecord::to("orders.placed").payload(&payload).key(&key), timeout).await?;
//! ```
//!
//! ## How to fix
//! Put the version in the event (or its envelope) and let consumers dispatch on it:
//! ```rust,ignore
//! #[derive(Serialize)]
//! struct OrderPlaced {
//!     schema_version: u16, // 1
//!     order_id: Uuid,
//!     total: Decimal,
//! }
//! ```
//! or version the destination (`orders.v1.placed`) or the serde tag
//! (`#[serde(tag = "type")] enum OrderEvent { #[serde(rename = "order.placed.v1")] Placed {..} }`).

use std::collections::{HashMap, HashSet};

use crate::model::{EffectKind, EventRole, Span, TypeDecl};
use crate::rules::{Finding, Related, Rule, RuleContext};

pub struct UnversionedEvent;

const HELP: &str = "add a `schema_version` field (or a versioned envelope, serde tag or topic \
                    such as `orders.v1.placed`) so consumers can tell versions apart";

const VERSION_FIELDS: &[&str] = &[
    "version",
    "schema_version",
    "event_version",
    "schemaversion",
    "v",
    "specversion",
    "spec_version",
    "dataschema",
    "schema",
];

/// `v1`, `V2` as a separate segment (`orders.v1.placed`, `order-placed-v2`, `OrderPlacedV1`).
pub fn has_version_token(text: &str) -> bool {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'v' && b != b'V' {
            continue;
        }
        let digits = bytes[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            continue;
        }
        let before_ok = i == 0
            || !bytes[i - 1].is_ascii_alphanumeric()
            || b == b'V' && bytes[i - 1].is_ascii_lowercase();
        let after = bytes.get(i + 1 + digits);
        let after_ok = after.is_none_or(|c| !c.is_ascii_alphanumeric() || c.is_ascii_uppercase());
        if before_ok && after_ok {
            return true;
        }
    }
    text.to_ascii_lowercase().contains("version")
}

fn is_versioned(decl: &TypeDecl) -> bool {
    decl.fields
        .iter()
        .any(|f| VERSION_FIELDS.contains(&f.as_str()))
        || has_version_token(&decl.name)
        || decl.variants.iter().any(|v| has_version_token(v))
        || decl.serde_names.iter().any(|n| has_version_token(n))
}

/// The type a constructed name refers to: `OrderPlaced` -> `OrderPlaced`,
/// `events::OrderEvent::Placed` -> `OrderEvent` (a variant) or `Placed` (a type in a module).
fn type_candidates(name: &str) -> Vec<&str> {
    let parts: Vec<&str> = name.split("::").collect();
    let mut out = Vec::new();
    if let Some(last) = parts.last() {
        out.push(*last);
    }
    if parts.len() >= 2 {
        out.push(parts[parts.len() - 2]);
    }
    out
}

impl Rule for UnversionedEvent {
    fn id(&self) -> &'static str {
        "unversioned-event"
    }

    fn summary(&self) -> &'static str {
        "an event type published to a broker carries no schema version"
    }

    fn source(&self) -> &'static str {
        include_str!("unversioned_event.rs")
    }

    fn default_level(&self) -> crate::config::Level {
        crate::config::Level::Warn
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let model = cx.model;
        let behaviour = cx.behaviour();
        let mut types: HashMap<&str, Vec<&TypeDecl>> = HashMap::new();
        for decl in &model.types {
            types.entry(decl.name.as_str()).or_default().push(decl);
        }
        let mut reported: HashSet<(u32, u32)> = HashSet::new();
        for (f, function) in model.functions.iter().enumerate() {
            if cx.is_test(function.span) || behaviour.services_of(f).is_empty() {
                continue;
            }
            let publish: Option<(Span, Option<&str>)> =
                function.effects.iter().find_map(|e| match &e.kind {
                    EffectKind::Publish { destination, .. } => {
                        Some((e.span, destination.as_deref()))
                    }
                    EffectKind::OutboxWrite => Some((e.span, None)),
                    _ => None,
                });
            let outbox_sql = behaviour
                .queries_of(f)
                .find(|q| {
                    q.tables
                        .iter()
                        .any(|t| crate::behaviour::is_outbox_table(&t.table))
                })
                .map(|q| (q.span, None));
            let Some((publish_span, _)) = publish.or(outbox_sql) else {
                continue;
            };
            let versioned_destination = function.effects.iter().any(|e| match &e.kind {
                EffectKind::Publish {
                    destination: Some(d),
                    ..
                } => has_version_token(d),
                _ => false,
            });
            // A version constant sent along (`OrderPlaced::SCHEMA_VERSION`).
            let version_sent = function.effects.iter().any(|e| match &e.kind {
                EffectKind::Event {
                    name,
                    role: EventRole::Constructed,
                } => name.rsplit("::").next().is_some_and(has_version_token),
                _ => false,
            });
            if versioned_destination || version_sent {
                continue;
            }
            // The serializable types constructed here, resolved within the function's crates.
            let crates: Vec<_> = behaviour
                .services_of(f)
                .iter()
                .flat_map(|s| model.service(*s).crates.iter().copied())
                .chain([function.crate_id])
                .collect();
            let mut constructed: Vec<&TypeDecl> = Vec::new();
            for effect in &function.effects {
                let EffectKind::Event {
                    name,
                    role: EventRole::Constructed,
                } = &effect.kind
                else {
                    continue;
                };
                for candidate in type_candidates(name) {
                    if let Some(decls) = types.get(candidate) {
                        for decl in decls.iter().filter(|d| crates.contains(&d.crate_id)) {
                            if !constructed.iter().any(|c| std::ptr::eq(*c, *decl)) {
                                constructed.push(decl);
                            }
                        }
                    }
                }
            }
            // An envelope with a version covers what it carries.
            if constructed.iter().any(|d| is_versioned(d)) {
                continue;
            }
            for decl in constructed {
                if !reported.insert((decl.span.file.0, decl.span.start)) {
                    continue;
                }
                let services = behaviour
                    .services_of(f)
                    .iter()
                    .map(|s| cx.service_name(*s).to_owned())
                    .collect();
                let destination = publish
                    .and_then(|(_, d)| d)
                    .map(|d| format!(" to `{d}`"))
                    .unwrap_or_default();
                out.push(Finding {
                    rule: self.id(),
                    level: self.default_level(),
                    message: format!(
                        "event `{}` is published{destination} by `{}` ({}) without a schema \
                         version: no version field, versioned name, serde tag or topic",
                        decl.name,
                        function.name,
                        cx.location(publish_span)
                    ),
                    span: decl.span,
                    label: "no schema version".to_owned(),
                    help: HELP.to_owned(),
                    related: vec![Related {
                        span: publish_span,
                        label: "published here".to_owned(),
                    }],
                    services,
                    table: None,
                    database: None,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_tokens() {
        for versioned in [
            "orders.v1.placed",
            "order-placed-v2",
            "OrderPlacedV1",
            "v3/orders",
            "schema_version",
        ] {
            assert!(has_version_token(versioned), "{versioned}");
        }
        for plain in ["orders.placed", "invoice", "Movie", "dev1", "env2"] {
            assert!(!has_version_token(plain), "{plain}");
        }
    }
}
