//! Document collections (MongoDB): no migration says who owns one, so the services that create
//! its documents do. Another service that reads, changes or opens it reaches into their data.
//!
//! Code in a library crate acts for a service only when the service's own code reaches it
//! through calls: a shared crate that several binaries depend on is not every binary's access.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::{CollectionAccessKind, CollectionUse, DbEngine, ServiceId, Span, TableName};
use crate::resolve::is_per_service_table;
use crate::rules::{list_names, Confidence, Finding, Related, Rule, RuleContext};

use super::{CrossServiceDbAccess, HELP_TABLE, HELP_WRITE};

/// How many calls deep a service's own code is followed into its libraries.
const REACH_DEPTH: usize = 8;
/// How many calls apart a relay's delete and publish may be.
const RELAY_DEPTH: usize = 3;

/// Which services each collection use acts for.
struct Attribution<'c, 'a> {
    cx: &'c RuleContext<'a>,
    /// Functions each service's own crate reaches, computed when first asked.
    reached: HashMap<ServiceId, HashSet<usize>>,
}

impl<'c, 'a> Attribution<'c, 'a> {
    fn services_of(&mut self, used: &CollectionUse) -> Vec<ServiceId> {
        let services: Vec<ServiceId> = self
            .cx
            .services_of_crate(used.crate_id)
            .map(|s| s.id)
            .collect();
        let mut out = Vec::new();
        let mut holder: Option<Option<usize>> = None;
        for service in services {
            if self.cx.model.service(service).root_crate == used.crate_id {
                out.push(service);
                continue;
            }
            let function = *holder.get_or_insert_with(|| self.function_at(used.span));
            let Some(function) = function else {
                continue;
            };
            if self.reached_by(service).contains(&function) {
                out.push(service);
            }
        }
        out
    }

    /// True when the accesses drain the collection into a broker: a function deletes its
    /// documents and, in the same flow (it or a function calling both, a few calls deep),
    /// publishes. That is the owner's outbox relay, a polling publisher working for it.
    fn relays(&self, uses: &[&CollectionUse]) -> bool {
        let behaviour = self.cx.behaviour();
        let publishes = |f: usize| {
            behaviour
                .function(f)
                .effects
                .iter()
                .any(|e| matches!(e.kind, crate::model::EffectKind::Publish { .. }))
        };
        uses.iter()
            .filter(|u| u.kind == CollectionAccessKind::Delete)
            .filter_map(|u| Some((u.crate_id, self.function_at(u.span)?)))
            .any(|(krate, deleting)| {
                self.cx
                    .model
                    .functions
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.crate_id == krate)
                    .any(|(g, _)| {
                        let reached = behaviour.reachable(g, RELAY_DEPTH);
                        reached.iter().any(|(f, _)| *f == deleting)
                            && reached.iter().any(|(f, _)| publishes(*f))
                    })
            })
    }

    /// The innermost function whose body holds `span`.
    fn function_at(&self, span: Span) -> Option<usize> {
        self.cx
            .model
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.body.file == span.file && f.body.start <= span.start && span.end <= f.body.end
            })
            .min_by_key(|(_, f)| f.body.end - f.body.start)
            .map(|(i, _)| i)
    }

    fn reached_by(&mut self, service: ServiceId) -> &HashSet<usize> {
        let cx = self.cx;
        self.reached.entry(service).or_insert_with(|| {
            let behaviour = cx.behaviour();
            let root = cx.model.service(service).root_crate;
            let mut frontier: Vec<usize> = cx
                .model
                .functions
                .iter()
                .enumerate()
                .filter(|(_, f)| f.crate_id == root)
                .map(|(i, _)| i)
                .collect();
            let mut seen: HashSet<usize> = frontier.iter().copied().collect();
            for _ in 0..REACH_DEPTH {
                let mut next = Vec::new();
                for &f in &frontier {
                    for effect in &behaviour.function(f).effects {
                        if let crate::model::EffectKind::Call { name, receiver } = &effect.kind {
                            for callee in behaviour.resolve_call(f, name, receiver.as_deref()) {
                                if seen.insert(callee) {
                                    next.push(callee);
                                }
                            }
                        }
                    }
                }
                if next.is_empty() {
                    break;
                }
                frontier = next;
            }
            seen
        })
    }
}

/// True when both sides connect to resolved MongoDB databases and none of them is shared: a
/// collection of the same name there is another collection.
fn other_database(cx: &RuleContext<'_>, service: ServiceId, owners: &[ServiceId]) -> bool {
    let mongo = |s: ServiceId| -> Vec<_> {
        cx.model
            .service(s)
            .connections
            .iter()
            .filter(|c| c.target.engine == DbEngine::Mongo && c.target.is_resolved())
            .map(|c| (c.target.clone(), c.scope.clone()))
            .collect()
    };
    let mine = mongo(service);
    !mine.is_empty()
        && owners.iter().all(|o| {
            let theirs = mongo(*o);
            !theirs.is_empty() && !theirs.iter().any(|t| mine.contains(t))
        })
}

fn verb(kind: CollectionAccessKind) -> &'static str {
    match kind {
        CollectionAccessKind::Open => "opens",
        CollectionAccessKind::Read => "reads",
        CollectionAccessKind::Update => "changes documents of",
        CollectionAccessKind::Delete => "deletes documents of",
        CollectionAccessKind::Insert => "inserts into",
    }
}

impl CrossServiceDbAccess {
    pub(super) fn check_collections(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let model = cx.model;
        if model.collection_uses.is_empty() {
            return;
        }
        let mut attribution = Attribution {
            cx,
            reached: HashMap::new(),
        };
        let mut owners: BTreeMap<&str, BTreeMap<ServiceId, Span>> = BTreeMap::new();
        let mut accesses: BTreeMap<(ServiceId, &str), Vec<&CollectionUse>> = BTreeMap::new();
        for used in &model.collection_uses {
            if cx.is_test(used.span) {
                continue;
            }
            for service in attribution.services_of(used) {
                if used.kind == CollectionAccessKind::Insert {
                    owners
                        .entry(used.collection.as_str())
                        .or_default()
                        .entry(service)
                        .or_insert(used.span);
                }
                accesses
                    .entry((service, used.collection.as_str()))
                    .or_default()
                    .push(used);
            }
        }
        for ((service, collection), uses) in accesses {
            let Some(owned_by) = owners.get(collection) else {
                continue;
            };
            let table = TableName {
                schema: None,
                name: collection.to_ascii_lowercase(),
            };
            if owned_by.contains_key(&service) || is_per_service_table(&table) {
                continue;
            }
            let owner_ids: Vec<ServiceId> = owned_by.keys().copied().collect();
            if other_database(cx, service, &owner_ids) || attribution.relays(&uses) {
                continue;
            }
            // The strongest access is the finding; the others are related locations.
            let Some(primary) = uses.iter().copied().max_by_key(|u| {
                let rank = match u.kind {
                    CollectionAccessKind::Update
                    | CollectionAccessKind::Delete
                    | CollectionAccessKind::Insert => 3,
                    CollectionAccessKind::Read => 2,
                    CollectionAccessKind::Open => 1,
                };
                (rank, std::cmp::Reverse((u.span.file, u.span.start)))
            }) else {
                continue;
            };
            let owner_names = list_names(owner_ids.iter().map(|s| cx.service_name(*s)));
            let (owner_noun, create) = if owner_ids.len() == 1 {
                ("service", "creates")
            } else {
                ("services", "create")
            };
            let mut related: Vec<Related> = owned_by
                .iter()
                .map(|(owner, span)| Related {
                    span: *span,
                    label: format!(
                        "`{}` creates the documents of `{collection}` here",
                        cx.service_name(*owner)
                    ),
                })
                .collect();
            related.extend(
                uses.iter()
                    .filter(|u| u.span != primary.span)
                    .map(|u| Related {
                        span: u.span,
                        label: format!("also {} it here", verb(u.kind)),
                    }),
            );
            let writes = matches!(
                primary.kind,
                CollectionAccessKind::Update | CollectionAccessKind::Delete
            );
            let mut services = vec![cx.service_name(service).to_string()];
            services.extend(owner_ids.iter().map(|s| cx.service_name(*s).to_string()));
            out.push(Finding {
                // A name found through a field or setting of that name is a good guess, not
                // a certainty.
                confidence: if uses.iter().all(|u| u.through_field) {
                    Confidence::Medium
                } else {
                    Confidence::High
                },
                rule: "cross-service-db-access",
                level: self.default_level(),
                message: format!(
                    "service `{}` {} collection `{collection}`, whose documents {owner_noun} {owner_names} {create} ({})",
                    cx.service_name(service),
                    verb(primary.kind),
                    cx.location(owned_by.values().next().copied().unwrap_or(primary.span)),
                ),
                span: primary.span,
                label: format!("{} `{collection}` here", verb(primary.kind)),
                help: if writes { HELP_WRITE } else { HELP_TABLE }.to_string(),
                related,
                services,
                table: Some(collection.to_string()),
                database: None,
            });
        }
    }
}
