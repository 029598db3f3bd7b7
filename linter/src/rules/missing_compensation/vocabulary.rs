//! The words that decide what a step, a compensation, a read and an infrastructure client are,
//! and how an effect's names are read as an action.

use super::*;

/// Built-in pairs: a forward verb and the verbs that undo it.
pub(super) const VERB_PAIRS: &[(&str, &[&str])] = &[
    ("reserve", &["release", "cancel", "unreserve"]),
    ("hold", &["release", "unhold", "cancel"]),
    ("charge", &["refund", "void", "reverse"]),
    ("capture", &["refund", "reverse"]),
    ("debit", &["credit", "reverse"]),
    ("credit", &["debit", "reverse"]),
    ("book", &["cancel", "unbook"]),
    ("create", &["cancel", "delete", "remove"]),
    ("place", &["cancel"]),
    ("authorize", &["void", "cancel", "release"]),
    ("authorise", &["void", "cancel", "release"]),
    ("allocate", &["deallocate", "release", "free"]),
    ("lock", &["unlock", "release"]),
    ("provision", &["deprovision"]),
    ("apply", &["revert"]),
    ("approve", &["cancel", "reject", "revoke", "void"]),
];

/// Forward verbs that give something back rather than take it: a credit undoes a debit.
pub(super) const GIVING_VERBS: &[&str] = &["credit"];

/// A verb on the compensating side of a built-in pair (`release`, `refund`, `cancel`,
/// `credit`, ...): it undoes an action rather than holding something.
pub(super) fn gives_back(verb: &str) -> bool {
    GIVING_VERBS.contains(&verb)
        || !VERB_PAIRS.iter().any(|(v, _)| *v == verb)
            && VERB_PAIRS.iter().any(|(_, undo)| undo.contains(&verb))
}

/// Calls named for how they run, not for what they do: a callee reached through them tells
/// nothing (`execute` may be a database driver's).
pub(super) const GENERIC_CALLS: &[&str] = &[
    "execute", "exec", "run", "call", "process", "handle", "perform", "invoke", "send", "dispatch",
    "do", "start", "new", "build", "step", "next", "spawn",
];

/// Names that undo whatever was done before them.
pub(super) const GENERIC_UNDO: &[&str] =
    &["compensate", "compensation", "rollback", "undo", "revert"];

/// Outcomes that make an event a failure event.
pub(super) const FAILURE_OUTCOMES: &[&str] =
    &["failed", "rejected", "cancelled", "expired", "timedout"];

/// Words that carry no meaning in event and operation names.
pub(super) const STOP_WORDS: &[&str] = &[
    "event",
    "events",
    "evt",
    "msg",
    "message",
    "messages",
    "command",
    "cmd",
    "domain",
    "integration",
    "topic",
    "subject",
    "v",
    "api",
];

// ---------------------------------------------------------------------------------------------
// Names: words, verbs, nouns.

/// `reserveStock`, `reserve_stock`, `orders.v1.placed`, `Event::PaymentFailed` -> lower-case
/// words, versions and digits dropped, `canceled` spelled `cancelled`, `timed out` joined.
pub(super) fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            current.push(c.to_ascii_lowercase());
        } else {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = false;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    let mut cleaned: Vec<String> = Vec::new();
    for word in out {
        let version = word.starts_with('v') && word[1..].chars().all(|c| c.is_ascii_digit());
        if version || word.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let word = match word.as_str() {
            "canceled" => "cancelled".to_owned(),
            "out" if cleaned.last().is_some_and(|w| w == "timed") => {
                cleaned.pop();
                "timedout".to_owned()
            }
            _ => word,
        };
        cleaned.push(word);
    }
    cleaned
}

/// `reservations` -> `reservation`, `entries` -> `entry`.
pub(super) fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        if stem.len() > 1 {
            return format!("{stem}y");
        }
    }
    if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        return word[..word.len() - 1].to_owned();
    }
    word.to_owned()
}

/// The nouns of a name: its words except the verb, singular, stop words dropped.
pub(super) fn nouns(words: &[String]) -> Vec<String> {
    words
        .iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| singular(w))
        .collect()
}

/// Built-in and configured pairs.
pub(super) struct Lexicon<'c> {
    pub(super) config: &'c Config,
}

impl<'c> Lexicon<'c> {
    pub(super) fn new(config: &'c Config) -> Self {
        Self { config }
    }

    /// `[vocabulary]` of the presets and the configuration.
    pub(super) fn vocabulary(&self) -> &'c crate::config::Vocabulary {
        &self.config.vocabulary
    }

    /// What undoes an action with these verbs and operation names (lower case).
    pub(super) fn undo_of(&self, verbs: &[String], names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for verb in verbs {
            if let Some((_, undo)) = VERB_PAIRS.iter().find(|(v, _)| v == verb) {
                out.extend(undo.iter().map(|u| (*u).to_owned()));
            }
        }
        for key in verbs.iter().chain(names) {
            if let Some(undo) = self.config.compensations.get(key) {
                out.extend(undo.iter().cloned());
            }
        }
        let mut seen = HashSet::default();
        out.retain(|u| seen.insert(u.clone()));
        out
    }

    /// A verb that takes something another step may have to give back (stock, money, a seat):
    /// a forward verb other than the generic `create`, `place` and `apply` and other than a
    /// verb that itself gives back (`credit`, which undoes a debit), or a configured one.
    pub(super) fn holds_resources(&self, verb: &str) -> bool {
        self.config.compensations.contains_key(verb)
            || self.is_forward(verb)
                && !matches!(verb, "create" | "place" | "apply")
                && !gives_back(verb)
    }

    /// A path segment that names an action rather than a resource: a verb of the compensation
    /// pairs (either side), a read verb, or a configured action verb.
    pub(super) fn is_action_verb(&self, word: &str) -> bool {
        let vocabulary = self.vocabulary();
        VERB_PAIRS
            .iter()
            .any(|(v, undo)| *v == word || undo.contains(&word))
            || vocabulary.read_verbs.contains(word)
            || vocabulary.action_verbs.contains(word)
            || self.config.compensations.contains_key(word)
    }

    /// A verb that has a compensation: a command verb.
    pub(super) fn is_forward(&self, verb: &str) -> bool {
        VERB_PAIRS.iter().any(|(v, _)| *v == verb) || self.config.compensations.contains_key(verb)
    }
}

/// What an effect does, read from its names: verbs, nouns, and the operation names (for
/// configured pairs).
#[derive(Debug, Clone, Default)]
pub(super) struct Action {
    /// How the message names it: `reserve_stock`, `POST /reservations`.
    pub(super) label: String,
    pub(super) verbs: Vec<String>,
    pub(super) nouns: Vec<String>,
    pub(super) names: Vec<String>,
    /// Undoes whatever came before (`compensate_all`, `undo_stack.run()`).
    pub(super) generic: bool,
}

/// `POST /stock/{}/reserve` -> reserve stock; `POST /reservations` -> create/reserve
/// reservation; `DELETE /reservations/{}` -> delete reservation.
pub(super) fn http_action(method: HttpMethod, operation: &str, lexicon: &Lexicon<'_>) -> Action {
    let path = operation.split('?').next().unwrap_or(operation);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let literal = |s: &&str| !s.starts_with('{') && !s.starts_with(':') && !s.starts_with('<');
    let literals: Vec<&str> = segments.iter().copied().filter(literal).collect();
    let ends_in_hole = segments.last().is_some_and(|s| !literal(s));
    let mut action = Action {
        label: if operation.is_empty() {
            method.as_str().to_owned()
        } else {
            format!("{} {operation}", method.as_str())
        },
        ..Action::default()
    };
    let last_words = literals.last().map(|s| words(s)).unwrap_or_default();
    // A plural last segment, or a hole after it, names a resource (`/reservations`,
    // `/reservations/{id}`); a singular last segment names an action on what precedes it
    // (`/stock/{}/reserve`, `/orders/{id}/confirm`).
    let collection = last_words.last().is_some_and(|w| singular(w) != *w);
    // A singular segment is an action only when it is a verb (`/orders/{id}/confirm`);
    // `POST /api/v1/warehouse` creates a warehouse record as `POST /warehouses` would.
    let action_word = last_words
        .first()
        .is_some_and(|w| lexicon.is_action_verb(w));
    if ends_in_hole || collection || last_words.is_empty() || !action_word {
        action.nouns = nouns(&last_words);
        let verb = match method {
            // A `PUT` may create or replace: only its noun (`/reservations/{id}`) says it holds
            // something.
            HttpMethod::Post => "create",
            HttpMethod::Delete => "delete",
            _ => "update",
        };
        let sent = last_words
            .iter()
            .any(|w| lexicon.vocabulary().not_undone.contains(&singular(w)));
        action.verbs.push(
            if sent && verb == "create" {
                "send"
            } else {
                verb
            }
            .to_owned(),
        );
        if matches!(method, HttpMethod::Post | HttpMethod::Put) {
            for noun in &action.nouns {
                if let Some(verb) = lexicon.vocabulary().nominals.get(noun) {
                    action.verbs.push(verb.clone());
                }
            }
        }
    } else {
        action.verbs.push(last_words[0].clone());
        action.nouns = nouns(&last_words[1..]);
        if literals.len() >= 2 {
            action
                .nouns
                .extend(nouns(&words(literals[literals.len() - 2])));
        }
    }
    action.names.push(literals.join("_").to_ascii_lowercase());
    action
}

/// `reserve_stock` -> reserve stock.
/// Words before an operation's verb that say how many things it acts on.
const QUANTITY_QUALIFIERS: &[&str] = &["batch", "bulk", "multi", "mass"];

pub(super) fn name_action(name: &str) -> Action {
    let ws = words(name);
    // `batch_reserve_stock` reserves: a leading word saying how many is no verb.
    let skip = ws
        .iter()
        .take_while(|w| QUANTITY_QUALIFIERS.contains(&w.as_str()))
        .count()
        .min(ws.len().saturating_sub(1));
    let ws = &ws[skip..];
    let mut action = Action {
        label: name.to_owned(),
        names: vec![name.to_ascii_lowercase()],
        ..Action::default()
    };
    if let Some((verb, rest)) = ws.split_first() {
        action.verbs.push(verb.clone());
        action.nouns = nouns(rest);
    }
    action
}

pub(super) fn is_read(action: &Action, lexicon: &Lexicon<'_>) -> bool {
    action
        .verbs
        .first()
        .is_some_and(|v| lexicon.vocabulary().read_verbs.contains(v))
}

/// The remote action of a mutating effect on another service, if the effect is one:
/// a mutating HTTP call, a gRPC or typed-client call that is not a read, or a published
/// command (a topic naming a command verb).
pub(super) fn remote_action(effect: &Effect, lexicon: &Lexicon<'_>) -> Option<Action> {
    match &effect.kind {
        EffectKind::Remote {
            protocol: RemoteProtocol::Http,
            method: Some(method),
            operation,
            ..
        } if method.is_mutating() => Some(http_action(*method, operation, lexicon)),
        EffectKind::Remote {
            protocol,
            operation,
            target,
            ..
        } if *protocol != RemoteProtocol::Http => {
            let infrastructure = *protocol == RemoteProtocol::Client
                && target.as_deref().is_some_and(|t| {
                    words(t).iter().any(|w| {
                        lexicon
                            .vocabulary()
                            .infrastructure_clients
                            .contains(&singular(w))
                    })
                });
            let action = name_action(operation);
            (!infrastructure && !action.verbs.is_empty() && !is_read(&action, lexicon))
                .then_some(action)
        }
        EffectKind::Publish {
            destination: Some(destination),
            ..
        } => {
            let ws = words(destination);
            let at = ws.iter().position(|w| lexicon.is_forward(w))?;
            let mut nouns_of = nouns(&ws[at + 1..]);
            nouns_of.extend(nouns(&ws[..at]));
            Some(Action {
                label: destination.clone(),
                verbs: vec![ws[at].clone()],
                nouns: nouns_of,
                names: vec![destination.to_ascii_lowercase()],
                generic: false,
            })
        }
        _ => None,
    }
}

/// Last words of a type that is a request or response body rather than a message.
pub(super) const BODY_WORDS: &[&str] = &[
    "request", "response", "body", "payload", "dto", "params", "input", "form", "query", "reply",
];

/// A command payload named as an imperative (`FlightCommand::HoldSeats`, `ReserveStock`,
/// `ChargeCardCommand`): a forward verb first, and no outcome (`StockReserved` is an event).
pub(super) fn command_action(name: &str, lexicon: &Lexicon<'_>) -> Option<Action> {
    let event = EventName::new(name)?;
    if event.outcome.is_some() {
        return None;
    }
    let last = name.rsplit("::").next().unwrap_or(name);
    let ws: Vec<String> = words(last)
        .into_iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect();
    let (verb, rest) = ws.split_first()?;
    // `ChargeRequest`, `ReserveBody`: the body of an HTTP call, not a message.
    let body = rest
        .last()
        .is_some_and(|w| BODY_WORDS.contains(&w.as_str()));
    if !lexicon.is_forward(verb) || body {
        return None;
    }
    let mut nouns_of = nouns(rest);
    if nouns_of.is_empty() {
        // `PaymentCommand::Charge`: the enum names what is charged.
        let owner = name.rsplit("::").nth(1).unwrap_or_default();
        nouns_of = nouns(&words(owner));
    }
    Some(Action {
        label: name.to_owned(),
        verbs: vec![verb.clone()],
        nouns: nouns_of,
        names: vec![ws.join("_"), name.to_ascii_lowercase()],
        generic: false,
    })
}

/// The command a publish without an imperative destination sends, from its payload: an
/// imperative payload built in the publish's arguments or chain (`send_command(&app,
/// FlightCommand::HoldSeats { .. })`, `.message_body(..)`), else the last one built before
/// it with no other remote call or publish in between.
pub(super) fn published_command(
    function: &Function,
    effect: &Effect,
    lexicon: &Lexicon<'_>,
) -> Option<Action> {
    if !matches!(effect.kind, EffectKind::Publish { .. }) {
        return None;
    }
    let boundary = |e: &Effect| {
        e.span.start != effect.span.start
            && matches!(
                e.kind,
                EffectKind::Publish { .. } | EffectKind::Remote { .. }
            )
    };
    let next = function
        .effects
        .iter()
        .filter(|e| boundary(e) && e.span.start > effect.span.start)
        .map(|e| e.span.start)
        .min()
        .unwrap_or(u32::MAX);
    let previous = function
        .effects
        .iter()
        .filter(|e| boundary(e) && e.span.start < effect.span.start)
        .map(|e| e.span.start)
        .max();
    let payloads: Vec<(u32, Action)> = function
        .effects
        .iter()
        .filter(|e| e.context == effect.context)
        .filter_map(|e| match &e.kind {
            EffectKind::Event {
                name,
                role: EventRole::Constructed,
            } => command_action(name, lexicon).map(|a| (e.span.start, a)),
            _ => None,
        })
        .collect();
    let within = payloads
        .iter()
        .filter(|(at, _)| *at >= effect.span.start && *at < next)
        .min_by_key(|(at, _)| *at);
    let before = || {
        payloads
            .iter()
            .filter(|(at, _)| *at < effect.span.start && previous.is_none_or(|p| *at > p))
            .max_by_key(|(at, _)| *at)
    };
    within.or_else(before).map(|(_, a)| a.clone())
}
