//! An index over the function facts for the behaviour rules: which SQL runs in which
//! function, which project functions a function calls (a few levels deep), which functions
//! are message handlers or HTTP write handlers, which calls are steps on other services, and
//! the table names that mean "outbox" or "deduplication".
//!
//! Calls are resolved by name within the crates of the caller's services; a name defined more
//! than a few times there is too ambiguous to follow. A method named like a std collection's
//! (`insert`, `get`, `remove`, `push`, `find`) is followed only into a type named like its
//! receiver (`ctx.invoices.insert(..)` into `InvoiceRepo::insert`).

use rustc_hash::FxHashMap as HashMap;

use crate::model::{
    Broker, CrateId, Effect, EffectKind, EventRole, Function, HttpMethod, Model, PathContext,
    RemoteProtocol, ServiceId, SqlQuery, TableName,
};

/// How deep handlers are followed into their callees.
pub const CALL_DEPTH: usize = 3;

/// How deep a search for one kind of effect (a blocking call) follows calls: helpers such as
/// `backoff()` or `with_retry()` sit several calls below the handler.
pub const DEEP_CALL_DEPTH: usize = 6;

/// Calls named for how they run rather than what they do: what they reach is no step of
/// the caller's.
const RUNNING_CALLS: &[&str] = &[
    "run", "new", "build", "start", "spawn", "serve", "listen", "init", "setup", "main", "call",
    "execute", "exec", "process", "handle", "dispatch", "poll", "next", "connect", "from",
];

/// Method names of std collections (and of query runners) that are also common methods of
/// project objects (`ctx.invoices.insert(&mut tx, &inv)`, `self.process_movement.execute(..)`):
/// followed only into the type named most like the receiver.
pub const CONTAINER_METHODS: &[&str] = &["insert", "get", "remove", "push", "find", "execute"];

/// Tables that hold an outbox of events to relay.
pub fn is_outbox_table(table: &TableName) -> bool {
    let name = table.name.as_str();
    name == "outbox"
        || name.ends_with("_outbox")
        || name.starts_with("outbox_")
        || matches!(
            name,
            "domain_events"
                | "integration_events"
                | "event_entity"
                | "outbox_events"
                | "event_outbox"
        )
}

/// Tables that record handled messages or idempotency keys.
pub fn is_dedup_table(table: &TableName) -> bool {
    contains_any(
        &table.name,
        &[
            "processed",
            "inbox",
            "idempotency",
            "dedup",
            "message_log",
            "handled_",
            "consumed_",
            "seen_",
        ],
    )
}

/// True when one of the lower-case `needles` occurs in `haystack`. One pass over the
/// haystack: for the short names judged here, cheaper than a substring search per needle.
pub fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    let hay = haystack.as_bytes();
    (0..hay.len()).any(|i| {
        needles.iter().any(|needle| {
            let needle = needle.as_bytes();
            needle.first() == Some(&hay[i]) && hay[i..].starts_with(needle)
        })
    })
}

/// [`contains_any`] ignoring ASCII case in `haystack`.
pub fn contains_any_ignore_case(haystack: &str, needles: &[&str]) -> bool {
    let hay = haystack.as_bytes();
    (0..hay.len()).any(|i| {
        let first = hay[i].to_ascii_lowercase();
        needles.iter().any(|needle| {
            let needle = needle.as_bytes();
            needle.first() == Some(&first)
                && hay
                    .get(i..i + needle.len())
                    .is_some_and(|window| window.eq_ignore_ascii_case(needle))
        })
    })
}

/// Parameter types that mark a message handler.
const MESSAGE_TYPES: &[&str] = &[
    "BorrowedMessage",
    "OwnedMessage",
    // A broker client's `Message` (async-nats, SQS), told apart from other `Message`s.
    "BrokerMessage",
    "Delivery",
    "JetStreamMessage",
    "StreamReadReply",
    "StreamId",
];

/// Why a function is a handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerKind {
    /// It consumes messages (a consumer loop) or takes a broker message.
    Message(Option<Broker>),
    /// It is registered for a mutating HTTP method.
    Http(HttpMethod),
}

pub struct Behaviour<'m> {
    pub model: &'m Model,
    /// Function indexes by crate and name.
    by_name: HashMap<(CrateId, &'m str), Vec<usize>>,
    /// The crates code of a crate can call into: its own and those of its services.
    visible: HashMap<CrateId, Vec<CrateId>>,
    /// Query indexes per function (the innermost function containing the query).
    queries: Vec<Vec<usize>>,
    /// Services per crate.
    services: HashMap<CrateId, Vec<ServiceId>>,
    /// Per function: whether it (or what it calls) makes a mutating remote call.
    remote_behind: Vec<std::sync::OnceLock<bool>>,
}

impl<'m> Behaviour<'m> {
    pub fn new(model: &'m Model) -> Self {
        let mut by_name: HashMap<(CrateId, &str), Vec<usize>> = HashMap::default();
        for (i, f) in model.functions.iter().enumerate() {
            by_name
                .entry((f.crate_id, f.name.as_str()))
                .or_default()
                .push(i);
        }
        let mut by_file: HashMap<_, Vec<usize>> = HashMap::default();
        for (i, f) in model.functions.iter().enumerate() {
            by_file.entry(f.body.file).or_default().push(i);
        }
        let mut queries = vec![Vec::new(); model.functions.len()];
        for (q, query) in model.queries.iter().enumerate() {
            let Some(candidates) = by_file.get(&query.span.file) else {
                continue;
            };
            let innermost = candidates
                .iter()
                .copied()
                .filter(|&f| {
                    let body = model.functions[f].body;
                    body.start <= query.span.start && query.span.end <= body.end
                })
                .min_by_key(|&f| {
                    let body = model.functions[f].body;
                    body.end - body.start
                });
            if let Some(f) = innermost {
                queries[f].push(q);
            }
        }
        let mut services: HashMap<CrateId, Vec<ServiceId>> = HashMap::default();
        for service in &model.services {
            for krate in &service.crates {
                services.entry(*krate).or_default().push(service.id);
            }
        }
        let mut visible: HashMap<CrateId, Vec<CrateId>> = HashMap::default();
        for krate in &model.crates {
            let mut crates = vec![krate.id];
            for service in services.get(&krate.id).into_iter().flatten() {
                for other in &model.service(*service).crates {
                    if !crates.contains(other) {
                        crates.push(*other);
                    }
                }
            }
            visible.insert(krate.id, crates);
        }
        Self {
            model,
            by_name,
            visible,
            queries,
            services,
            remote_behind: (0..model.functions.len())
                .map(|_| std::sync::OnceLock::new())
                .collect(),
        }
    }

    /// Functions named `name` that code in `krate` can call.
    fn named_in_reach(&self, krate: CrateId, name: &str) -> Vec<usize> {
        let own = [krate];
        let crates = self.visible.get(&krate).map_or(&own[..], Vec::as_slice);
        crates
            .iter()
            .filter_map(|c| self.by_name.get(&(*c, name)))
            .flatten()
            .copied()
            .collect()
    }

    pub fn function(&self, f: usize) -> &'m Function {
        &self.model.functions[f]
    }

    /// Services a function's crate belongs to.
    pub fn services_of(&self, f: usize) -> &[ServiceId] {
        self.services
            .get(&self.function(f).crate_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The SQL run directly in a function's body.
    pub fn queries_of(&self, f: usize) -> impl Iterator<Item = &'m SqlQuery> + '_ {
        self.queries[f].iter().map(|&q| &self.model.queries[q])
    }

    /// Project functions a call named `name` can reach from function `f`: same name, in a
    /// crate of one of `f`'s services (or `f`'s own crate). Ambiguous names (more than three
    /// candidates) are not followed; a method on `self` prefers the caller's own type.
    pub fn resolve_call(&self, f: usize, name: &str, receiver: Option<&str>) -> Vec<usize> {
        let caller = self.function(f);
        let reachable: Vec<usize> = self
            .named_in_reach(caller.crate_id, name)
            .into_iter()
            .filter(|&c| c != f)
            .collect();
        if reachable.is_empty() && receiver.is_some() && ACTOR_SENDS.contains(&name) {
            return self.actor_handlers(f);
        }
        // `OrderRepo::insert(..)`, `Self::load(..)`: the type is known, so only its own
        // (or its trait's) function is followed, never another type's of the same name.
        if let Some(type_name) = receiver.filter(|r| is_type_name(r)) {
            let type_name = match type_name {
                "Self" => caller.impl_type.as_deref(),
                other => Some(other),
            };
            return reachable
                .into_iter()
                .filter(|&c| {
                    let callee = self.function(c);
                    type_name.is_some()
                        && (callee.impl_type.as_deref() == type_name
                            || callee.impl_trait.as_deref() == type_name)
                })
                .collect();
        }
        if receiver == Some("self") {
            let own: Vec<usize> = reachable
                .iter()
                .copied()
                .filter(|&c| {
                    self.function(c).impl_type.is_some()
                        && self.function(c).impl_type == caller.impl_type
                })
                .collect();
            if !own.is_empty() {
                return own;
            }
        }
        // `insert_event(..)` with no path: a free function of the caller's own module
        // shadows the same name elsewhere (a sibling module's `insert_event`).
        if receiver.is_none() {
            let module = module_of(caller);
            let local: Vec<usize> = reachable
                .iter()
                .copied()
                .filter(|&c| {
                    let callee = self.function(c);
                    callee.impl_type.is_none()
                        && callee.crate_id == caller.crate_id
                        && module_of(callee) == module
                })
                .collect();
            if !local.is_empty() {
                return local;
            }
        }
        if CONTAINER_METHODS.contains(&name) {
            // `lines.push(..)` is a `Vec`'s; `ctx.invoices.insert(..)` is `InvoiceRepo`'s.
            // The types sharing the most words with the receiver (`process_movement_use_case`
            // is `ProcessMovementUseCase`'s, not `CreateUserUseCase`'s).
            return match receiver {
                Some(r) if r != "self" => {
                    let words = name_words(r);
                    let score = |c: usize| {
                        let callee = self.function(c);
                        [&callee.impl_type, &callee.impl_trait]
                            .into_iter()
                            .flatten()
                            .filter(|t| receiver_names_type(r, t))
                            .map(|t| {
                                let type_words = name_words(t);
                                words.iter().filter(|w| type_words.contains(w)).count() + 1
                            })
                            .max()
                            .unwrap_or(0)
                    };
                    let scored: Vec<(usize, usize)> =
                        reachable.into_iter().map(|c| (score(c), c)).collect();
                    let best = scored.iter().map(|(s, _)| *s).max().unwrap_or(0);
                    scored
                        .into_iter()
                        .filter(|(s, _)| best > 0 && *s == best)
                        .map(|(_, c)| c)
                        .take(3)
                        .collect()
                }
                _ => Vec::new(),
            };
        }
        if reachable.len() > 3 {
            return Vec::new();
        }
        reachable
    }

    /// `addr.send(Publish { .. })` to an actor (actix's `Addr`, kameo's and xtra's actor
    /// references): the actor's `handle` of a message type the caller builds (`impl
    /// Handler<Publish<T>> for Publisher`).
    fn actor_handlers(&self, f: usize) -> Vec<usize> {
        let caller = self.function(f);
        let built: Vec<&str> = caller
            .effects
            .iter()
            .filter_map(|e| match &e.kind {
                EffectKind::Event {
                    name,
                    role: EventRole::Constructed,
                } => Some(name.rsplit("::").next().unwrap_or(name)),
                _ => None,
            })
            .collect();
        if built.is_empty() {
            return Vec::new();
        }
        self.named_in_reach(caller.crate_id, "handle")
            .into_iter()
            .filter(|&c| {
                let handler = self.function(c);
                handler
                    .impl_trait
                    .as_deref()
                    .is_some_and(|t| matches!(t, "Handler" | "Message"))
                    && handler
                        .param_types
                        .first()
                        .is_some_and(|message| built.contains(&message.as_str()))
            })
            .collect()
    }

    /// `f` and the project functions it calls, breadth first, up to `depth` calls deep, each
    /// with its depth.
    pub fn reachable(&self, f: usize, depth: usize) -> Vec<(usize, usize)> {
        self.reachable_through(f, depth, |_| true)
    }

    /// [`Behaviour::reachable`], following only the calls `follow` accepts.
    pub fn reachable_through(
        &self,
        f: usize,
        depth: usize,
        follow: impl Fn(&Effect) -> bool,
    ) -> Vec<(usize, usize)> {
        let mut seen = vec![(f, 0)];
        let mut visited: std::collections::HashSet<usize> = std::collections::HashSet::from([f]);
        let mut frontier = vec![f];
        for level in 1..=depth {
            let mut next = Vec::new();
            for &g in &frontier {
                for effect in self.function(g).effects.iter().filter(|e| follow(e)) {
                    if let EffectKind::Call { name, receiver } = &effect.kind {
                        for callee in self.resolve_call(g, name, receiver.as_deref()) {
                            if visited.insert(callee) {
                                seen.push((callee, level));
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
    }

    /// The steps an orchestrating function takes on other services, in source order: its own
    /// mutating remote calls ([`is_remote_step`]) and its calls into project functions that
    /// make one themselves or in a function they call (`clients.inventory.reserve(..)`,
    /// `reserve_stock(..)`), on the normal path. Calls named for how they run (`run`, `new`,
    /// `spawn`) are not steps: start-up code starting a consumer is no saga.
    pub fn remote_steps(&self, f: usize) -> Vec<&'m Effect> {
        self.function(f)
            .effects
            .iter()
            .filter(|e| e.context == PathContext::Normal)
            .filter(|e| match &e.kind {
                EffectKind::Call { name, receiver } => {
                    !RUNNING_CALLS.contains(&first_word(name).as_str())
                        && self
                            .resolve_call(f, name, receiver.as_deref())
                            .into_iter()
                            .any(|c| self.makes_remote_step(c))
                }
                _ => is_remote_step(e),
            })
            .collect()
    }

    /// `f` or a function it calls makes a mutating call to another service; computed once
    /// per function.
    fn makes_remote_step(&self, f: usize) -> bool {
        *self.remote_behind[f].get_or_init(|| {
            self.reachable(f, 1).iter().any(|&(g, _)| {
                self.function(g)
                    .effects
                    .iter()
                    .any(|e| e.context == PathContext::Normal && is_remote_step(e))
            })
        })
    }

    /// Functions that handle messages: consumer loops, functions taking a broker message, and
    /// the `handle*` methods of message-handler trait impls.
    pub fn message_handlers(&self) -> Vec<(usize, HandlerKind)> {
        let mut out = Vec::new();
        for (i, f) in self.model.functions.iter().enumerate() {
            let consumer = f.effects.iter().find_map(|e| match &e.kind {
                EffectKind::Consume { broker, .. } => Some(*broker),
                _ => None,
            });
            let takes_message = f
                .param_types
                .iter()
                .any(|t| MESSAGE_TYPES.contains(&t.as_str()));
            let handler_impl = f.impl_trait.as_deref().is_some_and(|t| {
                ["Handler", "Consumer", "Subscriber", "Listener", "Processor"]
                    .iter()
                    .any(|w| t.ends_with(w))
            }) && (f.name.starts_with("handle")
                || f.name.starts_with("on_")
                || f.name == "process"
                || f.name == "consume");
            let consumer = consumer.or_else(|| self.consumes_through_callback(i));
            if consumer.is_some() || takes_message || handler_impl {
                out.push((i, HandlerKind::Message(consumer)));
            }
        }
        out
    }

    /// True when a function is handed the message itself: a broker message, its raw payload
    /// (`&[u8]`, `&str`, `Bytes`), a JSON value, a type the workspace declares and
    /// (de)serialises, or a type named as a message (`OrderEvent`, `CreateUserCommand`), not
    /// just fields taken out of it.
    pub fn receives_message(&self, f: usize) -> bool {
        self.function(f).param_types.iter().any(|t| {
            MESSAGE_TYPES.contains(&t.as_str())
                || matches!(t.as_str(), "Value" | "[u8]" | "str" | "Bytes")
                || [
                    "Event", "Message", "Command", "Payload", "Envelope", "Reply",
                ]
                .iter()
                .any(|suffix| t.ends_with(suffix))
                || self.model.deserialized_types.contains(t)
                || self.model.types.iter().any(|decl| decl.name == *t)
        })
    }

    /// `streams::consume_json(url, group, .., move |envelope| async move { .. })`: a call to
    /// a project function that consumes from a broker and takes a closure. The closure, in
    /// the caller's body, handles each message: the caller is the consumer loop.
    pub fn consumes_through_callback(&self, f: usize) -> Option<Broker> {
        self.callback_consumer(f).map(|(_, broker)| broker)
    }

    /// The call handing the closure to the consuming function: its span holds the closure.
    pub fn callback_consumer_call(&self, f: usize) -> Option<&'m Effect> {
        self.callback_consumer(f).map(|(call, _)| call)
    }

    fn callback_consumer(&self, f: usize) -> Option<(&'m Effect, Broker)> {
        self.function(f).effects.iter().find_map(|e| {
            let EffectKind::Call { name, receiver } = &e.kind else {
                return None;
            };
            self.resolve_call(f, name, receiver.as_deref())
                .into_iter()
                .find_map(|w| {
                    let wrapper = self.function(w);
                    if !wrapper.param_types.iter().any(|t| t == "Callback") {
                        return None;
                    }
                    wrapper.effects.iter().find_map(|c| match c.kind {
                        EffectKind::Consume { broker, .. } => Some((e, broker)),
                        _ => None,
                    })
                })
        })
    }

    /// Functions registered for a mutating HTTP method (by route or attribute), with the
    /// method. Handlers are matched to routes by name within the route's crate.
    /// The functions a route registration names: by name, preferring the route's own crate
    /// and free functions, so that a client method of the same name (`create_payment_intent`
    /// on a payment provider's client) is not taken for the handler.
    fn route_handlers(&self, route: &crate::model::Route) -> Vec<usize> {
        let named = self.named_in_reach(route.crate_id, &route.handler);
        let prefer = |candidates: Vec<usize>, keep: &dyn Fn(&Function) -> bool| {
            let preferred: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&c| keep(self.function(c)))
                .collect();
            if preferred.is_empty() {
                candidates
            } else {
                preferred
            }
        };
        let own = prefer(named, &|f| f.crate_id == route.crate_id);
        prefer(own, &|f| f.impl_type.is_none())
    }

    /// The `POST` handlers of other crates of the workspace that serve `operation` (a URL
    /// path, holes as `{}`) called from `caller`: routes whose path, with its parameters as
    /// holes, ends the operation's path (a route attribute does not show its mount prefix).
    pub fn post_handlers_serving(&self, caller: usize, operation: &str) -> Vec<usize> {
        let wanted = path_segments(operation);
        let serves = |path: &str| {
            let route = path_segments(path);
            route.len() >= 2 && route.iter().any(|s| s != "{}") && wanted.ends_with(&route)
        };
        let own = self.function(caller).crate_id;
        let mut out: Vec<usize> = self
            .model
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.crate_id != own
                    && f.route_attribute == Some(HttpMethod::Post)
                    && f.route_path.as_deref().is_some_and(serves)
            })
            .map(|(i, _)| i)
            .collect();
        for route in &self.model.routes {
            if route.crate_id != own
                && route.method == HttpMethod::Post
                && route.path.as_deref().is_some_and(serves)
            {
                out.extend(self.route_handlers(route));
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// True when a handler changes something, in its body or the functions it calls: a
    /// database write, a publish, a charge or send, a mutating gRPC or client call, or a
    /// `POST`/`PUT`/`PATCH`/`DELETE` to another service, unless that `POST` is served in the
    /// workspace by handlers that change nothing themselves (followed `depth` services deep;
    /// beyond that, a call is taken to change something).
    pub fn changes_state(&self, f: usize, depth: usize) -> bool {
        self.reachable(f, 4).iter().any(|&(g, _)| {
            self.queries_of(g)
                .any(|q| q.effects.iter().any(|e| e.is_write()))
                || self.function(g).effects.iter().any(|e| match &e.kind {
                    EffectKind::OrmWrite { effect, .. } => effect.is_write(),
                    EffectKind::Publish { .. } | EffectKind::OutboxWrite => true,
                    EffectKind::Call { name, .. } => is_charge_or_send(name),
                    EffectKind::Remote {
                        protocol: RemoteProtocol::Http,
                        method,
                        operation,
                        ..
                    } => match method {
                        Some(HttpMethod::Post) => {
                            let served = self.post_handlers_serving(g, operation);
                            depth == 0
                                || served.is_empty()
                                || served.iter().any(|&h| self.changes_state(h, depth - 1))
                        }
                        Some(m) => m.is_mutating(),
                        None => false,
                    },
                    EffectKind::Remote { operation, .. } => is_mutating_operation(operation),
                    _ => false,
                })
        })
    }

    /// Methods of a tonic service implementation that change something: `async fn
    /// create_order(&self, request: Request<CreateOrderRequest>)` in an `impl OrderService for
    /// ..` of a crate that depends on tonic, unless named for asking (`get_*`, `list_*`).
    pub fn write_rpc_handlers(&self) -> Vec<usize> {
        (0..self.model.functions.len())
            .filter(|&f| {
                let function = self.function(f);
                function.is_async
                    && function
                        .impl_trait
                        .as_deref()
                        .is_some_and(|t| !matches!(t, "Service" | "Layer"))
                    && function.param_types.iter().any(|t| t == "Request")
                    && !is_read_rpc(&function.name)
                    // A client wrapper forwarding the request to the same RPC elsewhere (a
                    // call of that name that is no project function, a generated client's, or
                    // one that takes the `Request` on), not an RPC delegating to its
                    // application service's method of that name.
                    && !function.effects.iter().any(|e| match &e.kind {
                        EffectKind::Remote { operation, .. } => *operation == function.name,
                        EffectKind::Call { name, receiver } => {
                            *name == function.name
                                && self
                                    .resolve_call(f, name, receiver.as_deref())
                                    .iter()
                                    .all(|&c| {
                                        self.function(c).param_types.iter().any(|t| t == "Request")
                                    })
                        }
                        _ => false,
                    })
                    && self
                        .model
                        .krate(function.crate_id)
                        .dependencies
                        .iter()
                        .any(|d| d.code_name == "tonic")
            })
            .collect()
    }

    pub fn write_handlers(&self) -> Vec<(usize, HttpMethod)> {
        let mut out: Vec<(usize, HttpMethod)> = Vec::new();
        for (i, f) in self.model.functions.iter().enumerate() {
            if let Some(method) = f.route_attribute.filter(|m| m.is_mutating()) {
                out.push((i, method));
            }
        }
        let mut seen: std::collections::HashSet<usize> = out.iter().map(|(f, _)| *f).collect();
        for route in self.model.routes.iter().filter(|r| r.method.is_mutating()) {
            for c in self.route_handlers(route) {
                if seen.insert(c) {
                    out.push((c, route.method));
                }
            }
        }
        out.sort();
        out
    }
}

/// A URL path's segments, lower case, with parameters (`{}`, `{id}`, `<id>`, `:id`) as `{}`.
fn path_segments(path: &str) -> Vec<String> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('{') || s.starts_with('<') || s.starts_with(':') {
                "{}".to_owned()
            } else {
                s.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The table of an ORM write whose api names it (`diesel::insert_into(orders)`).
pub fn orm_write_table(api: &str) -> Option<TableName> {
    let (_, rest) = api.split_once('(')?;
    let name = rest.strip_suffix(')')?;
    (!name.is_empty()).then(|| TableName {
        schema: None,
        name: name.to_owned(),
    })
}

/// Verbs of operations that change something on the other side of a typed or gRPC client
/// call (`charge`, `reserve_stock`, `CreateShipment`); reads (`get_price`) are not.
pub fn is_mutating_operation(operation: &str) -> bool {
    const VERBS: &[&str] = &[
        "add",
        "allocate",
        "approve",
        "authorize",
        "book",
        "cancel",
        "capture",
        "charge",
        "create",
        "credit",
        "debit",
        "delete",
        "deposit",
        "dispatch",
        "enqueue",
        "hold",
        "insert",
        "issue",
        "notify",
        "pay",
        "place",
        "post",
        "refund",
        "register",
        "release",
        "remove",
        "reserve",
        "schedule",
        "send",
        "ship",
        "submit",
        "transfer",
        "update",
        "void",
        "withdraw",
    ];
    let first = first_word(operation);
    VERBS.contains(&first.as_str())
}

/// Verbs of calls that move money or send something to a person: repeated, they charge or
/// notify twice (`charge`, `send_email`, `mailer.send`).
/// Receivers that send e-mail or text messages (`mailer`, `smtp`, `sms_client`), lower case.
pub(crate) fn is_mail_sender(receiver: &str) -> bool {
    ["mail", "smtp", "sms", "twilio", "sendgrid", "ses_client"]
        .iter()
        .any(|w| receiver.contains(w))
}

pub fn is_charge_or_send(name: &str) -> bool {
    let first = first_word(name);
    matches!(
        first.as_str(),
        "charge"
            | "capture"
            | "pay"
            | "payout"
            | "refund"
            | "debit"
            | "credit"
            | "transfer"
            | "withdraw"
    ) || name == "send"
        || name.starts_with("send_email")
        || name.starts_with("send_mail")
        || name.starts_with("send_sms")
        || name.starts_with("send_notification")
        || name.starts_with("send_push")
}

/// An RPC or client operation that moves money or stock on the other side
/// (`batch_reserve_stock`, `deposit_account`, `post_transaction`), besides those that charge
/// or send: a retry does it again.
pub fn creates_or_moves(operation: &str) -> bool {
    // Creating one row over there is a plain create, as it would be here; these move money
    // or stock.
    const VERBS: &[&str] = &[
        "reserve",
        "deduct",
        "deduction",
        "withdraw",
        "deposit",
        "allocate",
        "book",
        "post",
        "increment",
        "decrement",
    ];
    let words = name_words(operation);
    let skip = words
        .iter()
        .take_while(|w| ["batch", "bulk", "multi", "try"].contains(&w.as_str()))
        .count();
    is_charge_or_send(operation)
        || words
            .get(skip)
            .is_some_and(|verb| VERBS.contains(&verb.as_str()))
}

/// A call to another service that changes something there: an HTTP `POST`/`PUT`/`PATCH`/
/// `DELETE`, or a gRPC or typed-client call that does not only ask (`get_price`).
pub fn is_remote_step(effect: &Effect) -> bool {
    match &effect.kind {
        EffectKind::Remote {
            protocol: RemoteProtocol::Http,
            method,
            ..
        } => method.is_some_and(HttpMethod::is_mutating),
        EffectKind::Remote { operation, .. } => !is_read_like_operation(operation),
        _ => false,
    }
}

/// A receiver that is a type (`OrderRepo` in `OrderRepo::insert(..)`), not a value.
fn is_type_name(receiver: &str) -> bool {
    receiver.starts_with(|c: char| c.is_ascii_uppercase())
        && receiver
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A receiver named like a type: `invoices` -> `InvoiceRepo`, `repo` -> `OrderRepository`,
/// `order_store` -> `OrderStore`.
pub fn receiver_names_type(receiver: &str, type_name: &str) -> bool {
    let type_words = name_words(type_name);
    name_words(receiver).iter().any(|r| {
        type_words
            .iter()
            .any(|t| t == r || r.len() >= 4 && t.starts_with(r.as_str()))
    })
}

/// The module a function is declared in: its path without its name and `impl` type.
fn module_of(function: &Function) -> &str {
    let mut path = function.path.rsplit_once("::").map_or("", |(m, _)| m);
    if function.impl_type.is_some() {
        path = path.rsplit_once("::").map_or("", |(m, _)| m);
    }
    path
}

/// The words of a snake_case or CamelCase name, lower case and singular.
/// Methods that hand a message to an actor (actix `send`/`do_send`/`try_send`, kameo
/// `tell`/`ask`).
pub(crate) const ACTOR_SENDS: &[&str] = &["ask", "do_send", "send", "tell", "try_send"];

pub(crate) fn name_words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let boundary = c == '_' || c == '-' || c.is_ascii_uppercase() && previous_lower;
        if boundary && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        if c != '_' && c != '-' {
            word.push(c.to_ascii_lowercase());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    for w in &mut out {
        if let Some(stem) = w.strip_suffix("ies").filter(|s| s.len() >= 2) {
            *w = format!("{stem}y");
        } else if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
            w.pop();
        }
    }
    out
}

/// The first word of a snake_case or CamelCase name, lower case.
fn first_word(name: &str) -> String {
    let name = name.rsplit('/').next().unwrap_or(name);
    let mut word = String::new();
    for (i, c) in name.chars().enumerate() {
        if c == '_' || c == '-' || (i > 0 && c.is_ascii_uppercase()) {
            if !word.is_empty() {
                break;
            }
            continue;
        }
        word.push(c.to_ascii_lowercase());
    }
    word
}

/// Words of destinations and publishers that keep a record rather than tell other services
/// of a change: audit trails, activity feeds kept for review, metrics, telemetry. Analytics
/// and statistics are not among them: a service builds its own data from those events.
const RECORD_WORDS: &[&str] = &[
    "audit",
    "activity",
    "metric",
    "telemetry",
    "trace",
    "tracing",
    "heartbeat",
];

/// A topic or function named for keeping records: `audit.events`, `publish_mfa_activity`,
/// `metrics-{env}`.
pub(crate) fn names_record(name: &str) -> bool {
    name.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .flat_map(name_words)
        .any(|w| RECORD_WORDS.contains(&w.as_str()))
}

impl Behaviour<'_> {
    /// A publish that keeps a record (an audit trail, an activity feed, metrics) rather than
    /// propagating a change: its destination is named so, or, when the destination is not
    /// known, the function that publishes is (`publish_mfa_activity`), or every publish of the
    /// project wrapper it calls is.
    pub fn keeps_record(&self, f: usize, effect: &crate::model::Effect) -> bool {
        self.keeps_record_within(f, effect, 3)
    }

    fn keeps_record_within(&self, f: usize, effect: &crate::model::Effect, depth: usize) -> bool {
        let EffectKind::Publish { destination, .. } = &effect.kind else {
            return false;
        };
        if let Some(destination) = destination {
            return names_record(destination);
        }
        if names_record(&self.function(f).name) {
            return true;
        }
        let delegates = self.publish_delegates(f, effect);
        depth > 0
            && !delegates.is_empty()
            && delegates.iter().all(|&d| {
                let function = self.function(d);
                if names_record(&function.name) {
                    return true;
                }
                let mut publishes = function
                    .effects
                    .iter()
                    .filter(|e| matches!(e.kind, EffectKind::Publish { .. }))
                    .peekable();
                publishes.peek().is_some()
                    && publishes.all(|e| self.keeps_record_within(d, e, depth - 1))
            })
    }

    /// The project functions a publisher-wrapper call delegates to (`publish_event(..)`
    /// defined in the project): the extractor records the wrapper as a publish and as a call
    /// at the same place. Empty for real broker publishes and unresolved wrappers.
    pub fn publish_delegates(&self, f: usize, effect: &crate::model::Effect) -> Vec<usize> {
        if !matches!(
            effect.kind,
            EffectKind::Publish {
                broker: Broker::Wrapper,
                ..
            }
        ) {
            return Vec::new();
        }
        self.function(f)
            .effects
            .iter()
            .find_map(|e| match &e.kind {
                EffectKind::Call { name, receiver } if e.span.start == effect.span.start => {
                    Some(self.resolve_call(f, name, receiver.as_deref()))
                }
                _ => None,
            })
            .unwrap_or_default()
    }
}

/// A broker's name, for messages.
pub fn broker_name(broker: Broker) -> &'static str {
    match broker {
        Broker::Kafka => "Kafka",
        Broker::Amqp => "AMQP",
        Broker::Nats => "NATS",
        Broker::Sqs => "SQS",
        Broker::Sns => "SNS",
        Broker::PubSub => "Pub/Sub",
        Broker::Redis => "Redis",
        Broker::Wrapper => "broker",
    }
}

/// An HTTP path or operation that asks rather than changes, though it may be sent as a
/// `POST` (`/search`, `/quotes`, `/validate`, `/token`).
/// An RPC named for asking: its first word is a read verb (`get_order`, `ListOrders`).
fn is_read_rpc(name: &str) -> bool {
    const READS: &[&str] = &[
        "get",
        "list",
        "find",
        "search",
        "query",
        "check",
        "validate",
        "verify",
        "fetch",
        "lookup",
        "count",
        "watch",
        "stream",
        "describe",
        "read",
        "health",
        "ping",
        "login",
        "authenticate",
        "exists",
    ];
    // `validate_and_reserve`: a check that goes on to change something is no read.
    let changes_after = name.split("_and_").skip(1).any(is_mutating_operation);
    !changes_after
        && name_words(name)
            .first()
            .is_some_and(|w| READS.contains(&w.as_str()))
}

pub fn is_read_like_operation(operation: &str) -> bool {
    const ASKS: &[&str] = &[
        "search",
        "query",
        "queries",
        "quote",
        "quotes",
        "validate",
        "validation",
        "verify",
        "price",
        "prices",
        "pricing",
        "estimate",
        "estimates",
        "calculate",
        "check",
        "lookup",
        "find",
        "get",
        "list",
        "graphql",
        "token",
        "login",
        "auth",
        "introspect",
        "preview",
        "simulate",
        // Model inference: the answer is computed, nothing is kept (`/v1/embeddings`,
        // `/v1/chat/completions`, `:generateContent`).
        "generate",
        "completion",
        "completions",
        "embed",
        "embedding",
        "embeddings",
        "predict",
        "infer",
        "inference",
        "classify",
        "translate",
        "summarize",
        "transcribe",
    ];
    operation
        .split('/')
        .rev()
        .find(|segment| !segment.is_empty() && !segment.starts_with('{'))
        .is_some_and(|segment| ASKS.contains(&first_word(segment).as_str()))
}

#[cfg(test)]
mod write_helper_tests {
    use super::*;

    #[test]
    fn orm_write_tables() {
        let table = |api: &str| orm_write_table(api).map(|t| t.name);
        assert_eq!(
            table("diesel::insert_into(orders)").as_deref(),
            Some("orders")
        );
        assert_eq!(table("sea_orm `insert`"), None);
        assert_eq!(table("diesel::update"), None);
    }

    #[test]
    fn receivers_named_like_types() {
        assert!(receiver_names_type("invoices", "InvoiceRepo"));
        assert!(receiver_names_type("repo", "InvoiceRepository"));
        assert!(receiver_names_type("order_store", "OrderStore"));
        assert!(receiver_names_type("categories", "CategoryStore"));
        assert!(!receiver_names_type("lines", "InvoiceRepo"));
        assert!(!receiver_names_type("map", "InvoiceRepo"));
    }

    #[test]
    fn substrings_found_in_one_pass() {
        assert!(contains_any("processed_messages", &["inbox", "processed"]));
        assert!(contains_any("order_inbox", &["inbox"]));
        assert!(!contains_any("orders", &["inbox", "processed"]));
        assert!(!contains_any("inbo", &["inbox"]));
        assert!(!contains_any("", &["inbox"]));
        assert!(contains_any_ignore_case("markIdempotencyKey", &["idempot"]));
        assert!(contains_any_ignore_case("AUDIT_LOG", &["audit"]));
        assert!(!contains_any_ignore_case("Auditor", &["audits"]));
        assert!(contains_any_ignore_case("émetteur_token", &["token"]));
    }

    #[test]
    fn operations_that_change_or_ask() {
        assert!(is_mutating_operation("reserve_stock"));
        assert!(is_mutating_operation("CreateShipment"));
        assert!(!is_mutating_operation("get_price"));
        assert!(is_charge_or_send("charge"));
        assert!(is_charge_or_send("send_email"));
        assert!(!is_charge_or_send("send_event"));
        assert!(is_read_like_operation("/v1/products/search"));
        assert!(is_read_like_operation("/quotes/{}"));
        assert!(!is_read_like_operation("/refunds"));
        assert!(!is_read_like_operation(""));
    }
}
