//! ## What it does
//! Flags event types that are serialized and published to a broker without a schema version.
//! A type derives `Serialize` and is published when it flows into a publish (rdkafka `send`
//! with a `FutureRecord`, lapin `basic_publish`, async-nats `publish`, SQS `send_message`,
//! Redis `XADD`, a project `publish*`/`emit*`/`send_command*` wrapper) or an outbox write
//! (an outbox helper, or an insert into an outbox table through SQL, diesel or sea-orm):
//! constructed in the payload argument (`OrderPlaced { .. }`, `OrderEvent::Placed { .. }`,
//! `Envelope::new(..)`), or bound to a local or parameter that reaches it, or serialized
//! (`serde_json::to_vec`, `to_string`, `to_value`, sqlx `Json(..)` in a `bind`) before the
//! publish. Types that only go into an HTTP response (`Json(..)`, `HttpResponse::Ok().json(..)`,
//! `warp::reply::json(..)`) or a database row (`.values(&rows)`) are not events. Only the
//! outermost types of a message are events: value types nested in their fields
//! (`OrderPlaced { total: Money { .. }, currency: Currency::Eur }`) are not reported.
//!
//! The event carries a version when any of these holds:
//! - a field named `version`, `schema_version`, `event_version`, `v`, `specversion` or
//!   `dataschema` (CloudEvents), on the type or on an envelope serialized with it, or one
//!   level down in the type of a metadata field (named `meta`, `metadata`, `header(s)`,
//!   `envelope`, `attributes`, `*_meta`, `*_metadata`, `*_header(s)`, or typed `*Meta`,
//!   `*Metadata`, `*Header(s)`): `Envelope<T> { meta: EventMeta, payload: T }` with
//!   `EventMeta { schema_version, .. }`; a version field of any other nested type (a
//!   `product.version`) is not the event's;
//! - a versioned name: the type or a variant ends in `V1`, `V2`, ...;
//! - a versioned serde tag or rename (`#[serde(rename = "order.placed.v1")]`);
//! - a versioned destination: the topic, subject, routing key or stream it is published to
//!   has a `v1`/`v2`... segment (`orders.v1.placed`, `orders-v2`), also when it is set on
//!   the outbox row next to the payload (`subject: Set(subjects::PAYMENT_COMPLETED)`, a
//!   `.bind(SUBJECT)` or a quoted literal in the same sqlx insert as `.bind(Json(&event))`
//!   or `.bind(serde_json::to_value(&event)?)`)
//!   or written as a type tag or `version` key into a JSON envelope around it;
//! - it is handed to a publishing wrapper of the project that wraps it in a versioned
//!   envelope (`send_command(&app, id, cmd)` serializing `CommandEnvelope::new(cmd)`) or
//!   publishes to a versioned destination.
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

use crate::behaviour::{is_outbox_table, orm_write_table, Behaviour};
use crate::model::{
    CrateId, EffectKind, EventRole, Function, PayloadKind, Span, StringConst, TypeDecl,
};
use crate::rules::{Confidence, Finding, Related, Rule, RuleContext};

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

fn versioned_itself(decl: &TypeDecl) -> bool {
    has_version_field(decl)
        || has_version_token(&decl.name)
        || decl.variants.iter().any(|v| has_version_token(v))
        || decl.serde_names.iter().any(|n| has_version_token(n))
}

fn has_version_field(decl: &TypeDecl) -> bool {
    decl.fields
        .iter()
        .any(|f| VERSION_FIELDS.contains(&f.as_str()))
}

/// A field that holds an event's metadata: named `meta`, `metadata`, `header(s)`, `envelope`,
/// `attributes`, `*_meta`, `*_metadata`, `*_header(s)`, or typed `*Meta`, `*Metadata`,
/// `*Header(s)`.
fn is_metadata_field(name: &str, type_name: &str) -> bool {
    matches!(
        name,
        "meta" | "metadata" | "header" | "headers" | "envelope" | "attributes"
    ) || ["_meta", "_metadata", "_header", "_headers"]
        .iter()
        .any(|s| name.ends_with(s))
        || ["Meta", "Metadata", "MetaData", "Header", "Headers"]
            .iter()
            .any(|s| type_name.ends_with(s))
}

/// How deep types nested in a payload's fields are followed.
const MAX_NESTING: usize = 4;

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
        let mut consts: HashMap<&str, Vec<&StringConst>> = HashMap::new();
        for c in &model.string_consts {
            consts.entry(c.name.as_str()).or_default().push(c);
        }
        let lookup = Lookup {
            types: &types,
            consts: &consts,
        };
        let mut reported: HashSet<(u32, u32)> = HashSet::new();
        for (f, function) in model.functions.iter().enumerate() {
            if cx.is_test(function.span)
                || behaviour.services_of(f).is_empty()
                || function.payloads.is_empty()
            {
                continue;
            }
            let publishes: Vec<(Span, Option<&str>)> = function
                .effects
                .iter()
                .filter_map(|e| match &e.kind {
                    EffectKind::Publish { destination, .. } => {
                        Some((e.span, destination.as_deref()))
                    }
                    EffectKind::OutboxWrite => Some((e.span, None)),
                    EffectKind::OrmWrite { api, .. }
                        if orm_write_table(api).is_some_and(|t| is_outbox_table(&t)) =>
                    {
                        Some((e.span, None))
                    }
                    _ => None,
                })
                .chain(
                    behaviour
                        .queries_of(f)
                        .filter(|q| q.tables.iter().any(|t| is_outbox_table(&t.table)))
                        .map(|q| (q.span, None)),
                )
                .collect();
            if publishes.is_empty() || versions_everything(function) {
                continue;
            }
            let crates = crates_of(behaviour, f);
            // Each payload type with the sink it reaches; a sink that carries a versioned type
            // (an envelope) or hands its payload to a wrapper that versions it covers the
            // types it carries.
            let mut sinks: Vec<(Span, Vec<&TypeDecl>)> = Vec::new();
            for payload in &function.payloads {
                let decls = match payload.kind {
                    PayloadKind::Type => lookup.decls(&payload.name, &crates),
                    PayloadKind::Text => Vec::new(),
                };
                match sinks.iter_mut().find(|(s, _)| *s == payload.sink) {
                    Some((_, list)) => list.extend(decls),
                    None => sinks.push((payload.sink, decls)),
                }
            }
            for (_, decls) in &mut sinks {
                *decls = lookup.outermost(std::mem::take(decls), &crates);
            }
            let covered: Vec<bool> = sinks
                .iter()
                .map(|(sink, decls)| {
                    decls.iter().any(|d| lookup.is_versioned(d, &crates))
                        || versioned_text(&lookup, function, *sink, &crates)
                        || wrapper_versions(behaviour, &lookup, f, *sink, 3)
                })
                .collect();
            for (i, (sink, decls)) in sinks.iter().enumerate() {
                if covered[i] {
                    continue;
                }
                for decl in decls {
                    let elsewhere_covered = sinks
                        .iter()
                        .zip(&covered)
                        .any(|((_, other), c)| *c && other.iter().any(|o| std::ptr::eq(*o, *decl)));
                    if elsewhere_covered || !reported.insert((decl.span.file.0, decl.span.start)) {
                        continue;
                    }
                    // Where it is published: its own publish, else the first one after the
                    // serializer.
                    let (publish_span, destination) = publishes
                        .iter()
                        .find(|(p, _)| p.start == sink.start)
                        .or_else(|| {
                            publishes
                                .iter()
                                .filter(|(p, _)| p.start > sink.start)
                                .min_by_key(|(p, _)| p.start)
                        })
                        .copied()
                        .unwrap_or(publishes[0]);
                    out.push(self.finding(cx, behaviour, f, decl, publish_span, destination));
                }
            }
        }
    }
}

/// Serializable types and string constants by name.
struct Lookup<'a, 'm> {
    types: &'a HashMap<&'m str, Vec<&'m TypeDecl>>,
    consts: &'a HashMap<&'m str, Vec<&'m StringConst>>,
}

/// A string that goes into the message at `sink` carries a version: a versioned subject set
/// on the outbox row, a versioned type tag or a `version` key in a JSON envelope.
fn versioned_text(
    lookup: &Lookup<'_, '_>,
    function: &Function,
    sink: Span,
    crates: &[CrateId],
) -> bool {
    function
        .payloads
        .iter()
        .filter(|p| p.kind == PayloadKind::Text && p.sink == sink)
        .any(
            |p| match p.name.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
                Some(name) => {
                    has_version_token(name)
                        || lookup
                            .consts
                            .get(name)
                            .into_iter()
                            .flatten()
                            .any(|c| crates.contains(&c.crate_id) && has_version_token(&c.value))
                }
                None => has_version_token(&p.name),
            },
        )
}

impl<'m> Lookup<'_, 'm> {
    /// The type carries a version itself, or in the type of a metadata field one level down
    /// (`Envelope { meta: EventMeta, payload: T }` with `EventMeta { schema_version, .. }`).
    fn is_versioned(&self, decl: &TypeDecl, crates: &[CrateId]) -> bool {
        versioned_itself(decl)
            || decl.field_types.iter().any(|(field, types)| {
                types.iter().any(|t| {
                    is_metadata_field(field, t)
                        && self
                            .decls(t, crates)
                            .iter()
                            .any(|inner| has_version_field(inner))
                })
            })
    }

    /// The serializable types nested in the fields of `decl`, a few levels deep.
    fn nested(&self, decl: &TypeDecl, crates: &[CrateId]) -> Vec<&'m TypeDecl> {
        let mut out: Vec<&'m TypeDecl> = Vec::new();
        let mut frontier: Vec<&TypeDecl> = vec![decl];
        for _ in 0..MAX_NESTING {
            let mut next = Vec::new();
            for d in frontier {
                for name in d.field_types.iter().flat_map(|(_, types)| types) {
                    for inner in self.decls(name, crates) {
                        if !std::ptr::eq(inner, decl)
                            && !out.iter().any(|o| std::ptr::eq(*o, inner))
                        {
                            out.push(inner);
                            next.push(inner);
                        }
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        out
    }

    /// The outermost of the types carried into one message: those not nested in the fields
    /// of another (`Money` and `Currency` inside `OrderPlaced { total: Money { .. } }` are
    /// values, not events). All of them when they nest in each other.
    fn outermost(&self, decls: Vec<&'m TypeDecl>, crates: &[CrateId]) -> Vec<&'m TypeDecl> {
        let nested: Vec<&TypeDecl> = decls.iter().flat_map(|d| self.nested(d, crates)).collect();
        let outer: Vec<&TypeDecl> = decls
            .iter()
            .copied()
            .filter(|d| !nested.iter().any(|n| std::ptr::eq(*n, *d)))
            .collect();
        if outer.is_empty() {
            decls
        } else {
            outer
        }
    }

    /// The serializable types a payload name refers to within some crates.
    fn decls(&self, name: &str, crates: &[CrateId]) -> Vec<&'m TypeDecl> {
        let mut out: Vec<&TypeDecl> = Vec::new();
        for candidate in type_candidates(name) {
            for decl in self.types.get(candidate).into_iter().flatten() {
                if crates.contains(&decl.crate_id) && !out.iter().any(|d| std::ptr::eq(*d, *decl)) {
                    out.push(decl);
                }
            }
        }
        out
    }
}

/// The crates a function's code sees: its own and those of its services.
fn crates_of(behaviour: &Behaviour<'_>, f: usize) -> Vec<CrateId> {
    behaviour
        .services_of(f)
        .iter()
        .flat_map(|s| behaviour.model.service(*s).crates.iter().copied())
        .chain([behaviour.function(f).crate_id])
        .collect()
}

/// A function that versions whatever it publishes: a versioned destination, or a version
/// constant sent along (`OrderPlaced::SCHEMA_VERSION`).
fn versions_everything(function: &Function) -> bool {
    function.effects.iter().any(|e| match &e.kind {
        EffectKind::Publish {
            destination: Some(d),
            ..
        } => has_version_token(d),
        EffectKind::Event {
            name,
            role: EventRole::Constructed,
        } => name.rsplit("::").next().is_some_and(has_version_token),
        _ => false,
    })
}

/// The publishing wrapper called at `sink` (`send_command(&app, id, cmd)`) versions what it is
/// given: it wraps it in a versioned envelope (`CommandEnvelope::new(cmd)`), publishes to a
/// versioned destination, or hands it on to a wrapper that does.
fn wrapper_versions(
    behaviour: &Behaviour<'_>,
    lookup: &Lookup<'_, '_>,
    f: usize,
    sink: Span,
    depth: usize,
) -> bool {
    if depth == 0 {
        return false;
    }
    let Some(effect) = behaviour
        .function(f)
        .effects
        .iter()
        .find(|e| e.span == sink && matches!(e.kind, EffectKind::Publish { .. }))
    else {
        return false;
    };
    behaviour.publish_delegates(f, effect).into_iter().any(|d| {
        let delegate = behaviour.function(d);
        let crates = crates_of(behaviour, d);
        versions_everything(delegate)
            || delegate.payloads.iter().any(|p| {
                (p.kind == PayloadKind::Type
                    && lookup
                        .decls(&p.name, &crates)
                        .iter()
                        .any(|decl| lookup.is_versioned(decl, &crates)))
                    || versioned_text(lookup, delegate, p.sink, &crates)
                    || wrapper_versions(behaviour, lookup, d, p.sink, depth - 1)
            })
    })
}

impl UnversionedEvent {
    fn finding(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        f: usize,
        decl: &TypeDecl,
        publish_span: Span,
        destination: Option<&str>,
    ) -> Finding {
        let services = behaviour
            .services_of(f)
            .iter()
            .map(|s| cx.service_name(*s).to_owned())
            .collect();
        let destination = destination
            .map(|d| format!(" to `{d}`"))
            .unwrap_or_default();
        Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message: format!(
                "event `{}` is published{destination} by `{}` ({}) without a schema \
                 version: no version field, versioned name, serde tag or topic",
                decl.name,
                behaviour.function(f).name,
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
