//! Orchestrated sagas: one function takes steps on other services in sequence.

use super::*;
use crate::behaviour::names_record;

// ---------------------------------------------------------------------------------------------
// Orchestrated sagas.

/// One step of a saga: the effect in the orchestrating function and what it does.
pub(super) struct Step<'m> {
    pub(super) effect: &'m Effect,
    pub(super) action: Action,
    /// The remote call behind a wrapper (`POST /reservations` behind `reserve_stock`).
    pub(super) via: Option<String>,
    /// A write to the service's own database (`repo.save(order).await?`): a later step that
    /// can fail, never one that needs undoing by this rule (a transaction undoes it).
    pub(super) local: bool,
}

/// A step left undone when a later one fails.
pub(super) struct Undone<'s, 'm> {
    /// The step's number among the remote steps, from 0.
    k: usize,
    step: &'s Step<'m>,
    /// The later step's number among the remote steps (its own when it is a local write).
    j: usize,
    later: &'s Step<'m>,
    /// What would undo the step.
    undo: &'s [String],
}

/// The step's request carries an `Idempotency-Key`: set where the saga sends it, or in the
/// project's client the step calls.
fn sends_idempotency_key(behaviour: &Behaviour<'_>, f: usize, step: &Effect) -> bool {
    let sets_key = |g: usize| {
        behaviour
            .function(g)
            .effects
            .iter()
            .any(|e| e.kind == EffectKind::IdempotencyKeySent)
    };
    match &step.kind {
        EffectKind::Call { name, receiver } => callees(behaviour, f, name, receiver.as_deref())
            .into_iter()
            .any(|callee| {
                reach(behaviour, callee, CALL_DEPTH - 1)
                    .into_iter()
                    .any(sets_key)
            }),
        _ => sets_key(f),
    }
}

/// A call whose error the saga propagates into a function of the project that writes the
/// database (`self.orders.save(order).await?`), or an ORM write whose error it propagates:
/// a local step that can fail after the remote ones.
pub(super) fn local_write_step<'m>(
    behaviour: &Behaviour<'m>,
    f: usize,
    effect: &'m Effect,
) -> Option<Step<'m>> {
    if effect.context != PathContext::Normal || !(effect.propagates || effect.error_returned) {
        return None;
    }
    let writes_in = |g: usize| {
        behaviour
            .queries_of(g)
            .any(|q| q.effects.iter().any(|e| e.is_write()))
            || behaviour
                .function(g)
                .effects
                .iter()
                .any(|e| matches!(e.kind, EffectKind::OrmWrite { .. }))
    };
    let name = match &effect.kind {
        EffectKind::OrmWrite { api, .. } => api.clone(),
        EffectKind::Call { name, receiver } => {
            let writes = callees(behaviour, f, name, receiver.as_deref())
                .into_iter()
                .any(|callee| {
                    reach(behaviour, callee, CALL_DEPTH - 1)
                        .into_iter()
                        .any(writes_in)
                });
            if !writes {
                return None;
            }
            match receiver {
                Some(r) => format!("{r}.{name}"),
                None => name.clone(),
            }
        }
        _ => return None,
    };
    let mut action = name_action(&name);
    action.label = name;
    Some(Step {
        effect,
        action,
        via: None,
        local: true,
    })
}

/// Remote actions each function reaches (itself and its callees, up to `CALL_DEPTH - 1` calls
/// deep), computed once per function: every call of the workspace asks.
pub(super) struct RemoteIndex {
    pub(super) behind: std::cell::RefCell<HashMap<usize, std::rc::Rc<Vec<Action>>>>,
    /// The action each called name spells: names repeat across a workspace.
    pub(super) named: std::cell::RefCell<HashMap<String, std::rc::Rc<Action>>>,
}

impl RemoteIndex {
    pub(super) fn new() -> Self {
        Self {
            behind: std::cell::RefCell::new(HashMap::default()),
            named: std::cell::RefCell::new(HashMap::default()),
        }
    }

    pub(super) fn name_action(&self, name: &str) -> std::rc::Rc<Action> {
        if let Some(found) = self.named.borrow().get(name) {
            return found.clone();
        }
        let action = std::rc::Rc::new(name_action(name));
        self.named
            .borrow_mut()
            .insert(name.to_owned(), action.clone());
        action
    }

    pub(super) fn of(
        &self,
        behaviour: &Behaviour<'_>,
        lexicon: &Lexicon<'_>,
        callee: usize,
    ) -> std::rc::Rc<Vec<Action>> {
        if let Some(found) = self.behind.borrow().get(&callee) {
            return found.clone();
        }
        let mut actions = Vec::new();
        // What a helper named for audit, activity or metrics does keeps a record (an alert
        // to a security webhook): nothing a saga undoes.
        let records = |g: usize| names_record(&behaviour.function(g).name);
        let reached = if records(callee) {
            Vec::new()
        } else {
            reach_where(behaviour, callee, CALL_DEPTH - 1, |g| !records(g))
        };
        for g in reached {
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
pub(super) fn remote_actions_behind(
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

pub(super) fn step_of<'m>(
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
            local: false,
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
    if is_read(&named, lexicon) {
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
            local: false,
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
    // A request to a URL whose path is unknown tells only its method: a wrapper whose name
    // names no forward action (`exchange_code` posting to a token endpoint) is no known step.
    let vague = behind
        .iter()
        .all(|b| b.nouns.is_empty() && b.label.split(' ').count() == 1);
    if vague && !named_verb_known {
        return None;
    }
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
        local: false,
    })
}

/// Words of a receiver that say it is a client rather than what it talks to.
pub(super) const CLIENT_WORDS: &[&str] =
    &["client", "svc", "service", "api", "grpc", "rpc", "stub"];

/// A receiver named after another service of the workspace (`pricing`, `pricing_svc`), by
/// the service's name or a name its deployment gives it.
pub(super) fn names_other_service(behaviour: &Behaviour<'_>, f: usize, receiver: &str) -> bool {
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
pub(super) fn outside_compensations(
    behaviour: &Behaviour<'_>,
    lexicon: &Lexicon<'_>,
    f: usize,
) -> Vec<Action> {
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
                undo_actions(behaviour, lexicon, g, effect, &mut out);
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
                undo_actions(behaviour, lexicon, g, effect, &mut out);
            }
        }
    }
    out
}

/// Receivers of a database transaction: its `rollback` undoes only local writes.
pub(super) fn is_transaction(receiver: Option<&str>) -> bool {
    receiver.is_some_and(|r| {
        let r = r.to_ascii_lowercase();
        matches!(r.as_str(), "tx" | "txn" | "trx" | "t")
            || ["transaction", "conn", "db", "pool", "session"]
                .iter()
                .any(|w| r.contains(w))
    })
}

/// What an effect on a compensation path does, with what the functions it calls do.
pub(super) fn undo_actions(
    behaviour: &Behaviour<'_>,
    lexicon: &Lexicon<'_>,
    f: usize,
    effect: &Effect,
    out: &mut Vec<Action>,
) {
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
                            _ => direct_undo_action(inner, lexicon, out),
                        }
                    }
                }
            }
        }
        _ => direct_undo_action(effect, lexicon, out),
    }
}

pub(super) fn direct_undo_action(effect: &Effect, lexicon: &Lexicon<'_>, out: &mut Vec<Action>) {
    match &effect.kind {
        EffectKind::Remote {
            protocol: RemoteProtocol::Http,
            method: Some(method),
            operation,
            ..
        } => out.push(http_action(*method, operation, lexicon)),
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
pub(super) fn same_aggregate(a: &[String], b: &[String]) -> bool {
    !a.is_empty() && !b.is_empty() && (a.starts_with(b) || b.starts_with(a))
}

pub(super) fn overlaps(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| b.contains(x))
}

pub(super) fn is_generic_undo(candidate: &Action) -> bool {
    candidate.generic
        || candidate
            .verbs
            .iter()
            .any(|v| GENERIC_UNDO.iter().any(|g| v.starts_with(g)))
        || candidate.names.iter().any(|n| n.starts_with("roll_back"))
}

/// True when `candidate` undoes `step` (among `others`, the other steps of the saga).
/// `generic_counts`: a generic undo (`compensate_all()`, draining an undo stack) counts.
pub(super) fn compensates(
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
    pub(super) fn orchestrated(
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
        if steps.is_empty() {
            return;
        }
        // Later steps also include the saga's own database writes whose error it propagates
        // (`repo.save(order).await?` after the remote steps).
        let local_writes: Vec<Step<'_>> = effects
            .iter()
            .filter(|e| !steps.iter().any(|s| s.effect.span.start == e.span.start))
            .filter_map(|e| local_write_step(behaviour, f, e))
            .collect();
        if steps.len() + local_writes.len() < 2 {
            return;
        }
        // What each effect on an undo path (an error path, a registered undo closure) does.
        let undo_paths: Vec<(&Effect, Vec<Action>)> = effects
            .iter()
            .filter(|e| e.context != PathContext::Normal)
            .map(|e| {
                let mut candidates = Vec::new();
                undo_actions(behaviour, lexicon, f, e, &mut candidates);
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
        // An error variant matched on an error path (`map_err(|e| match e { .. })`) is no
        // message.
        let matched: Vec<u32> = effects
            .iter()
            .filter(|e| e.context == PathContext::Normal)
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
        let outside = outside_compensations(behaviour, lexicon, f);
        // A later step fails the saga when its error is propagated (`?`), returned by the arm
        // that matches it, or handled on an error path after it and before the next step; a
        // step whose result is thrown away (`let _ =`, `.ok()`, a best-effort notification)
        // does not.
        let mut sequence: Vec<&Step<'_>> = steps.iter().chain(&local_writes).collect();
        sequence.sort_by_key(|s| s.effect.span.start);
        // The step after the `j`th, past any call nested in it (`call_order(|c| c.create_order(..))`
        // is one step: the inner call is part of the outer one).
        let next_after = |j: usize| {
            let end = sequence[j].effect.span.end;
            sequence[j + 1..]
                .iter()
                .map(|n| n.effect.span.start)
                .find(|&start| start >= end)
                .unwrap_or(u32::MAX)
        };
        let fails_saga = |j: usize, s: &Step<'_>| {
            let next = next_after(j);
            // A call of the project's own functions that return nothing cannot fail the saga
            // (`record_activity(..).await;` logs its own errors).
            let infallible = match &s.effect.kind {
                EffectKind::Call { name, receiver } => {
                    let targets = callees(behaviour, f, name, receiver.as_deref());
                    !targets.is_empty()
                        && targets
                            .iter()
                            .all(|&g| behaviour.function(g).returns_nothing)
                }
                _ => false,
            };
            !infallible
                && (s.effect.propagates
                    || s.effect.error_returned
                    || effects.iter().any(|e| {
                        e.context == PathContext::Error
                            && e.span.start > s.effect.span.start
                            && e.span.start < next
                    }))
        };
        let mut undone: Vec<Undone<'_, '_>> = Vec::new();
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
            // An error path can handle only the failures of what runs before it: a
            // compensation in an earlier branch (`else { release(..)?; return Err(..) }`) does
            // not cover a `?` further down.
            let on_error_path_after = |later: &Step<'_>| {
                undo_paths
                    .iter()
                    .filter(|(e, _)| {
                        e.context == PathContext::Error && e.span.start > later.effect.span.start
                    })
                    .any(undoes)
            };
            // The first later step whose failure leaves this one undone: one handled right
            // there (an `Err` arm after it, before the next step) without this compensation,
            // or, when its error goes further up (`?`), one with no compensation of this step
            // on any error path after it.
            // A step sent with an idempotency key is recovered forward: when only a local
            // write fails after it (a transient failure), a retry of the handler repeats the
            // step safely and completes the write.
            let retry_safe = sends_idempotency_key(behaviour, f, step.effect);
            let uncovered = sequence
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, s)| s.effect.span.start > step.effect.span.start)
                .filter(|(_, s)| !(s.local && retry_safe))
                .filter(|(j, s)| fails_saga(*j, s) && same_message(step, s))
                .find(|(j, later)| {
                    let next = next_after(*j);
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
                        !on_error_path_after(later)
                    } else {
                        !local.into_iter().any(undoes)
                    }
                });
            if let Some((_, later)) = uncovered {
                // Numbered among the remote steps, as `step` is.
                let j = steps
                    .iter()
                    .position(|s| std::ptr::eq(s, later))
                    .unwrap_or(k);
                undone.push(Undone {
                    k,
                    step,
                    j,
                    later,
                    undo,
                });
            }
        }
        // One saga function, one finding: its first undone step, with the others beside it.
        if !undone.is_empty() {
            out.push(self.orchestrated_finding(cx, behaviour, f, &undone));
        }
    }

    pub(super) fn orchestrated_finding(
        &self,
        cx: &RuleContext<'_>,
        behaviour: &Behaviour<'_>,
        f: usize,
        undone: &[Undone<'_, '_>],
    ) -> Finding {
        let function = behaviour.function(f);
        let describe = |u: &Undone<'_, '_>| {
            let later_step = if u.later.local {
                format!("the local write `{}`", u.later.action.label)
            } else {
                format!("`{}` (step {})", u.later.action.label, u.j + 1)
            };
            let undo = u
                .undo
                .iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join("/");
            (later_step, undo)
        };
        let first = &undone[0];
        let via = first
            .step
            .via
            .as_deref()
            .map(|v| format!(", `{v}`"))
            .unwrap_or_default();
        let (later_step, undo) = describe(first);
        let mut message = format!(
            "`{}` (step {} of `{}`{via}) is not undone when {later_step} fails: no {undo} on the error path",
            first.step.action.label,
            first.k + 1,
            function.name,
        );
        let mut related = vec![Related {
            span: first.later.effect.span,
            label: "a later step that can fail".into(),
        }];
        for other in &undone[1..] {
            let (later_step, undo) = describe(other);
            message.push_str(&format!(
                "; nor is `{}` (step {}) when {later_step} fails (no {undo})",
                other.step.action.label,
                other.k + 1,
            ));
            related.push(Related {
                span: other.step.effect.span,
                label: "another completed step without compensation".into(),
            });
        }
        Finding {
            confidence: Confidence::High,
            rule: self.id(),
            level: self.default_level(),
            message,
            span: first.step.effect.span,
            label: "completed step without compensation".into(),
            help: HELP.into(),
            related,
            services: service_names(cx, behaviour.services_of(f)),
            table: None,
            database: None,
        }
    }
}
