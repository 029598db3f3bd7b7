//! Choreographed sagas: services that take resources on an event and must give them back on
//! the flow's failure events.

use super::*;

impl MissingCompensation {
    // -----------------------------------------------------------------------------------------
    // Choreographed sagas.

    pub(super) fn choreography(
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
                .flat_map(|&g| actions_on_messages(behaviour, lexicon, g))
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
    pub(super) fn choreography_finding(
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

/// An event name as published or handled, normalised for comparison.
#[derive(Debug, Clone)]
pub(super) struct EventName {
    pub(super) display: String,
    /// Words joined: `PaymentFailed`, `payment.failed`, `payment_failed` -> `paymentfailed`.
    pub(super) key: String,
    /// The words naming what happened to what, without the outcome (`payment`).
    pub(super) subject: Vec<String>,
    pub(super) outcome: Option<String>,
}

impl EventName {
    pub(super) fn new(name: &str) -> Option<Self> {
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

    pub(super) fn is_failure(&self) -> bool {
        self.outcome
            .as_deref()
            .is_some_and(|o| FAILURE_OUTCOMES.contains(&o))
    }
}

/// An event name the workspace publishes and the services that send it.
pub(super) struct Published {
    pub(super) event: EventName,
    pub(super) publishers: Vec<ServiceId>,
}

/// Event names the workspace publishes, with the services that publish them: published
/// topics and payloads constructed by a service, and serialized types (and their variants).
/// A type is published by the services that construct or publish it; a type nobody
/// constructs by the service whose crate declares it, when one service alone has that
/// crate (a type of a shared crate is not sent by every service that links it).
pub(super) fn published_events(cx: &RuleContext<'_>, behaviour: &Behaviour<'_>) -> Vec<Published> {
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
pub(super) fn published_names(behaviour: &Behaviour<'_>) -> Vec<(EventName, CrateId)> {
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
pub(super) struct Handled {
    pub(super) event: EventName,
    /// False for an arm that only logs or returns (`Event::PaymentFailed(_) => Ok(())`).
    pub(super) acts: bool,
    pub(super) span: Span,
}

/// Event names a function handles: matched in a `match`/`if let`, subscribed to, or taken as
/// a handler's parameter. A matched event's handling runs up to the next matched event (or
/// the end of the function); it acts when it calls something, talks to another service or a
/// broker, or runs SQL.
pub(super) fn handled_in(behaviour: &Behaviour<'_>, g: usize) -> Vec<Handled> {
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
pub(super) fn effects_on_messages<'m>(
    behaviour: &Behaviour<'m>,
    g: usize,
) -> Vec<(EventName, &'m Effect)> {
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
pub(super) fn triggered_actions<'m>(
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
                    (holds && call_writes(behaviour, lexicon, g, name, receiver.as_deref()))
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
pub(super) fn actions_on_messages(
    behaviour: &Behaviour<'_>,
    lexicon: &Lexicon<'_>,
    g: usize,
) -> Vec<(String, Action)> {
    let mut out = Vec::new();
    for (trigger, effect) in effects_on_messages(behaviour, g) {
        let mut actions = Vec::new();
        match &effect.kind {
            EffectKind::Call { name, .. } => actions.push(name_action(name)),
            _ => direct_undo_action(effect, lexicon, &mut actions),
        }
        out.extend(actions.into_iter().map(|a| (trigger.key.clone(), a)));
    }
    out
}

/// True when a call reaches a change: SQL or ORM writes, a mutating remote call, a publish.
pub(super) fn call_writes(
    behaviour: &Behaviour<'_>,
    lexicon: &Lexicon<'_>,
    f: usize,
    name: &str,
    receiver: Option<&str>,
) -> bool {
    callees(behaviour, f, name, receiver)
        .into_iter()
        .any(|callee| first_change(behaviour, lexicon, callee).is_some())
}

/// The failure events of the flow `trigger` belongs to, with the services publishing them:
/// failure events naming the same subject as the trigger, and failure events published by a
/// service that consumes something `service` publishes. Events published only by `service`
/// itself are its own outcomes, not failures it must react to.
pub(super) fn failure_events_of_flow(
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
