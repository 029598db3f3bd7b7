//! Behaviour: what each function does across service boundaries, in source order. Calls to
//! other services (reqwest, tonic, typed clients), broker publishes and consumers (rdkafka,
//! lapin, async-nats, SQS, Redis streams), blocking I/O, ORM writes, idempotency guards, event
//! names, route registrations and serializable types. Recorded in the same syntax-tree walk as
//! the SQL facts; every effect knows whether it sits on an error path, in a registered
//! compensation closure, behind `?`, or inside `spawn_blocking`.

use super::ranges::expr_bounds;
use super::*;
use crate::behaviour::is_outbox_table;
use crate::model::{
    Broker, Effect, EffectKind, EventRole, Function, HttpMethod, PathContext, Payload, PayloadKind,
    RemoteProtocol, Route, Span, StatementEffect, TypeDecl,
};

/// Where an effect is, computed only when one is recorded: converting a token position to a
/// byte offset is not free.
#[derive(Clone, Copy)]
pub(super) enum At<'a> {
    /// From the method name to the closing parenthesis.
    Method(&'a ExprMethodCall),
    /// From the called path to the closing parenthesis.
    Call(&'a syn::ExprCall),
    Bytes(usize, usize),
}

impl From<Range<usize>> for At<'_> {
    fn from(range: Range<usize>) -> Self {
        At::Bytes(range.start, range.end)
    }
}

/// Identity of a call node while its file is visited (calls are matched to the `?` or
/// `.await` applied to them).
fn node_key<T>(node: &T) -> usize {
    node as *const T as usize
}

/// Per-function state while its body is visited.
pub(super) struct FunctionBuilder {
    pub function: Function,
    queries_before: usize,
    /// Topic of the last `FutureRecord::to(..)` seen, for `producer.send(record, ..)`.
    last_record_topic: Option<String>,
    /// What is handed to publishes, outbox writes and serializers, resolved into
    /// [`Function::payloads`] when the function is left.
    sinks: Vec<Sink>,
    /// Locals and parameters that may hold a project object (a repository, a store): the
    /// receivers through which `insert`/`get`/`remove`/`push` calls are kept.
    objects: HashSet<String>,
    /// Locals bound to a field they clone or borrow (`let mut c = self.inner.clone()`): calls
    /// on them are calls on the field.
    aliases: HashMap<String, String>,
    /// Locals bound to a database transaction (`let t1 = pool.begin().await?`).
    transactions: HashSet<String>,
    /// Where the body block opens: its tail expression is what the function returns.
    body_start: usize,
    /// Locals holding a row the function looked up (`let order = sqlx::query_as(..)
    /// .fetch_optional(..).await?`), or a value taken from one.
    looked_up: HashSet<String>,
    /// Locals holding every row a query found (`let rows = ..fetch_all(..)`): whether any
    /// is there is an existence check.
    listed: HashSet<String>,
}

/// The arguments of one payload sink.
struct Sink {
    span: Span,
    /// A serializer: counts only before the function's last publish.
    serializer: bool,
    parts: PayloadParts,
}

/// What an expression carries: the types it constructs and the locals it reads.
#[derive(Default)]
struct PayloadParts {
    names: Vec<String>,
    locals: Vec<String>,
    /// Short string literals and `{NAME}` for constants.
    strings: Vec<String>,
}

impl PayloadParts {
    fn is_empty(&self) -> bool {
        self.names.is_empty() && self.locals.is_empty() && self.strings.is_empty()
    }

    fn extend(&mut self, other: &PayloadParts) {
        self.names.extend(other.names.iter().cloned());
        self.locals.extend(other.locals.iter().cloned());
        self.strings.extend(other.strings.iter().cloned());
    }
}

/// A string literal's value when it can name a subject or type tag.
fn short_string(value: String) -> Option<String> {
    (!value.is_empty() && value.len() <= 80 && !value.contains(char::is_whitespace))
        .then_some(value)
}

/// Behaviour-tracking state of the extractor.
#[derive(Default)]
pub(super) struct FlowState {
    pub stack: Vec<FunctionBuilder>,
    pub contexts: Vec<PathContext>,
    pub offloaded: usize,
    /// Inside a fallback (`unwrap_or_else(|| ..)`, a `None =>` arm): what runs only when the
    /// expected value is missing.
    pub fallback: usize,
    /// Start offsets (method name or call path) of calls whose result is `?`-propagated,
    /// awaited, or discarded with `let _ =`.
    pub propagated: HashSet<usize>,
    pub awaited: HashSet<usize>,
    pub discarded: HashSet<usize>,
    /// Calls whose error an arm returns (see [`crate::model::Effect::error_returned`]).
    pub error_returned: HashSet<usize>,
    /// Calls whose `Ok` value an `if let` with no `else` runs its block on.
    pub gating: HashSet<usize>,
    /// Local names bound to tonic clients (`let mut inventory = InventoryClient::connect(..)`).
    pub grpc_bindings: HashSet<String>,
    /// Start offsets of header names being set (`.header("Idempotency-Key", key)` on an
    /// outgoing request or a response): a key sent, not one received.
    pub header_writes: HashSet<usize>,
    /// Fields and locals holding a blocking HTTP client (`http: reqwest::blocking::Client`,
    /// `let agent = ureq::agent()`), with the client's name.
    pub blocking_clients: HashMap<String, String>,
    /// Locals holding a sea-orm active model, with its entity module
    /// (`let mut row: outbox::ActiveModel = model.into();` -> `row` -> `outbox`).
    pub active_models: HashMap<String, String>,
    /// Locals holding an ORM statement built in one place and run in another
    /// (`let mut insert = wb_post::Entity::insert(model); .. insert.exec(db)`): its builder.
    pub orm_statements: HashMap<String, Expr>,
    /// Locals holding a MongoDB collection, with the collection's name
    /// (`let users = db.collection::<User>("users")` -> `users` -> `users`).
    pub mongo_collections: HashMap<String, String>,
    /// The name of the method call being visited, spelled once for the SQL and the
    /// behaviour facts (keyed by the call node).
    pub method_name: Option<(usize, String)>,
    /// The path of the call being visited, split once for the SQL and the behaviour facts
    /// (keyed by the call node).
    pub call_path: Option<(usize, Vec<String>)>,
    /// The last token of the `else if` chain being visited, keyed by the `if` node whose
    /// `else` it ends: each link asks once, instead of walking the rest of the chain.
    pub if_chain_end: Option<(usize, PmSpan)>,
}

/// Actor frameworks whose actors run the messages handed to them (`addr.send(msg)`) in a
/// `handle` of the project's.
const ACTOR_CRATES: &[&str] = &["actix", "kameo", "xtra"];

/// Methods that never matter across services: std plumbing, builders, iterator adapters and
/// the database calls already recorded as SQL.
/// Sorted, for binary search.
const PLUMBING: &[&str] = &[
    "acquire",
    "as_deref",
    "as_mut",
    "as_ref",
    "as_str",
    "await",
    "begin",
    "bind",
    "borrow",
    "build",
    "clone",
    "cloned",
    "collect",
    "commit",
    "contains",
    "contains_key",
    "context",
    "copied",
    "default",
    "entry",
    "enumerate",
    "eq",
    "execute",
    "execute_many",
    "expect",
    "extend",
    "fetch",
    "fetch_all",
    "fetch_many",
    "fetch_one",
    "fetch_optional",
    "filter",
    "filter_map",
    "find",
    "first",
    "flat_map",
    "flatten",
    "fmt",
    "fold",
    "for_each",
    "format",
    "from",
    "get",
    "get_connection",
    "get_multiplexed_async_connection",
    "get_mut",
    "header",
    "headers",
    "insert",
    "into",
    "into_inner",
    "into_iter",
    "is_empty",
    "is_err",
    "is_none",
    "is_ok",
    "is_some",
    "iter",
    "iter_mut",
    "join",
    "json",
    "last",
    "len",
    "lock",
    "map",
    "map_err",
    "max",
    "min",
    "new",
    "next",
    "ok",
    "ok_or",
    "ok_or_else",
    "or_else",
    "parse",
    "payload",
    "push",
    "push_str",
    "query",
    "query_as",
    "query_scalar",
    "read",
    "remove",
    "rev",
    "rollback",
    "send",
    "skip",
    "sort",
    "split",
    "sum",
    "take",
    "to_lowercase",
    "to_owned",
    "to_string",
    "to_uppercase",
    "trim",
    "try_from",
    "try_get",
    "try_into",
    "unwrap",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "values",
    "with_context",
    "write",
    "zip",
];

/// True for a method of HTTP and gRPC client objects that builds or sends a request rather
/// than names an operation (`clone`, `send`, `into_inner`).
pub fn is_client_plumbing(method: &str) -> bool {
    CLIENT_PLUMBING.binary_search(&method).is_ok()
        || PLUMBING.binary_search(&method).is_ok()
        || method.starts_with("with_")
}

/// Methods of HTTP and gRPC client objects that build or send a request rather than name an
/// operation. Sorted, for binary search.
const CLIENT_PLUMBING: &[&str] = &[
    "accept_compressed",
    "basic_auth",
    "bearer_auth",
    "body",
    "build",
    "call",
    "clone",
    "delete",
    "execute",
    "form",
    "get",
    "head",
    "header",
    "headers",
    "into_inner",
    "json",
    "max_decoding_message_size",
    "max_encoding_message_size",
    "multipart",
    "patch",
    "poll_ready",
    "post",
    "put",
    "query",
    "ready",
    "request",
    "send",
    "send_compressed",
    "timeout",
    "try_clone",
    "version",
];

/// Methods of a generated gRPC client (tonic) that are not RPCs, and the std methods called on
/// it. Sorted, for binary search.
const GRPC_CLIENT_PLUMBING: &[&str] = &[
    "accept_compressed",
    "as_mut",
    "as_ref",
    "borrow",
    "clone",
    "connect",
    "into_inner",
    "max_decoding_message_size",
    "max_encoding_message_size",
    "new",
    "poll_ready",
    "ready",
    "send_compressed",
    "to_owned",
];

/// HTTP client crates besides `ureq`, whose requests do not block.
const ASYNC_HTTP_CLIENT_CRATES: &[&str] = &[
    "reqwest",
    "reqwest_middleware",
    "surf",
    "awc",
    "isahc",
    "hyper",
    "hyper_util",
];

/// Closures handed to these run on a blocking-capable thread.
const OFFLOADERS: &[&str] = &["spawn_blocking", "block_in_place", "unblock", "interact"];

/// Closures handed to these run on failure, later: a compensation stack.
const DEFERRERS: &[&str] = &[
    "push",
    "push_back",
    "push_front",
    "add_compensation",
    "compensate_with",
    "on_failure",
    "on_error",
    "on_rollback",
    "register_compensation",
    "with_compensation",
    "defer",
];

/// Combinators whose closure runs on the error path.
const ERROR_COMBINATORS: &[&str] = &[
    "map_err",
    "or_else",
    "unwrap_or_else",
    "inspect_err",
    "map_or_else",
];

fn ident_is(ident: &syn::Ident, names: &[&str]) -> bool {
    names.iter().any(|n| ident == n)
}

/// A field naming the id of a transaction prepared for two-phase commit
/// (`prepared_transaction_id`, `prepared_tx_id`, `prepared_xact`).
fn names_prepared_transaction(field: &str) -> bool {
    let lower = field.to_ascii_lowercase();
    let mut words = lower.split('_');
    words.any(|w| w == "prepared")
        && lower
            .split('_')
            .any(|w| matches!(w, "transaction" | "tx" | "txn" | "xact" | "xid" | "gid"))
}

/// True for constant names (`ORDER_PLACED`).
fn is_screaming(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// True for names spelled like a type or variant (`OrderPlaced`).
fn is_pascal(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().any(|c| c.is_lowercase())
}

/// Names that read as a message: past-tense facts and failure outcomes (`OrderPlaced`,
/// `PaymentFailed`), or `*Event`/`*Command`.
pub fn looks_like_event(name: &str) -> bool {
    let last = name.rsplit("::").next().unwrap_or(name);
    if !is_pascal(last) || matches!(last, "Ok" | "Err" | "Some" | "None" | "Self") {
        return false;
    }
    last.ends_with("ed")
        || last.ends_with("Event")
        || last.ends_with("Command")
        || last.ends_with("Out")
        || last.ends_with("Message")
}

/// The last name of a receiver: `inventory_client` in `self.clients.inventory_client` or
/// `inventory_client.clone()`.
pub(super) fn receiver_name(expr: &Expr) -> Option<String> {
    // A loop with a bound: this runs for every call, and a generated chain of thousands of
    // `.clone()`s would make walking it to the end quadratic.
    const MAX_STEPS: usize = 64;
    let mut expr = expr;
    for _ in 0..MAX_STEPS {
        expr = match expr {
            Expr::Path(p) => return p.path.segments.last().map(|s| s.ident.to_string()),
            Expr::Field(f) => match &f.member {
                syn::Member::Named(ident) => return Some(ident.to_string()),
                syn::Member::Unnamed(_) => &f.base,
            },
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && ident_is(
                        &m.method,
                        &[
                            "clone", "as_ref", "as_mut", "lock", "read", "write", "unwrap",
                            "get_ref",
                        ],
                    ) =>
            {
                &m.receiver
            }
            Expr::Await(a) => &a.base,
            Expr::Try(t) => &t.expr,
            Expr::Reference(r) => &r.expr,
            Expr::Paren(p) => &p.expr,
            Expr::Unary(u) => &u.expr,
            _ => return None,
        };
    }
    None
}

/// Start offsets of the calls in a method chain (`a.b().c().await?` -> c, b), each keyed by
/// its method name (or the called path for a plain call).
fn chain_keys(expr: &Expr, out: &mut Vec<usize>) {
    let mut expr = expr;
    loop {
        match expr {
            Expr::MethodCall(m) => {
                out.push(node_key(m));
                expr = &m.receiver;
            }
            Expr::Await(a) => expr = &a.base,
            Expr::Paren(p) => expr = &p.expr,
            Expr::Call(c) => {
                out.push(node_key(c));
                return;
            }
            _ => return,
        }
    }
}

/// The error-path side of a condition: `let Err(..) = ..` / `x.is_err()` -> then-branch;
/// `let Ok(..) = ..` / `x.is_ok()` -> else-branch.
fn error_branches(cond: &Expr) -> (bool, bool) {
    match cond {
        Expr::Let(l) => (
            is_result_pattern(&l.pat, "Err"),
            is_result_pattern(&l.pat, "Ok"),
        ),
        Expr::MethodCall(m) if m.args.is_empty() => (m.method == "is_err", m.method == "is_ok"),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
            let (then_err, else_err) = error_branches(&u.expr);
            (else_err, then_err)
        }
        Expr::Paren(p) => error_branches(&p.expr),
        _ => (false, false),
    }
}

/// `Err(..)` / `Ok(..)` (also inside `|` alternatives and references).
pub(super) fn is_result_pattern(pat: &syn::Pat, variant: &str) -> bool {
    match pat {
        syn::Pat::TupleStruct(t) => t.path.segments.last().is_some_and(|s| s.ident == variant),
        syn::Pat::Or(o) => o.cases.iter().any(|c| is_result_pattern(c, variant)),
        syn::Pat::Reference(r) => is_result_pattern(&r.pat, variant),
        syn::Pat::Paren(p) => is_result_pattern(&p.pat, variant),
        _ => false,
    }
}

/// A `let` binding `ident` (`x`, `mut x`, `x: T`).
fn local_is(pat: &syn::Pat, ident: &syn::Ident) -> bool {
    match pat {
        syn::Pat::Ident(p) => p.ident == *ident,
        syn::Pat::Type(t) => local_is(&t.pat, ident),
        _ => false,
    }
}

/// The matched value of a `match` with a result arm that returns an error, or of an
/// `if let Err(..) = ..` (`if r.is_err()`) whose body returns an error.
fn error_returning_match(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::Match(m)
            if m.arms.iter().any(|a| {
                (is_result_pattern(&a.pat, "Err") || is_result_pattern(&a.pat, "Ok"))
                    && returns_error(&a.body)
            }) =>
        {
            Some(&m.expr)
        }
        Expr::If(e) if error_branches(&e.cond).0 && block_returns_error(&e.then_branch) => {
            match e.cond.as_ref() {
                Expr::Let(l) => Some(&l.expr),
                Expr::MethodCall(m) if m.method == "is_err" => Some(&m.receiver),
                _ => None,
            }
        }
        _ => None,
    }
}

/// An expression that always returns an error: `return Err(..)`, `Err(..)?`, `bail!(..)`, or
/// a block with such a statement.
fn returns_error(expr: &Expr) -> bool {
    match expr {
        Expr::Return(r) => r.expr.as_deref().is_some_and(is_err_value),
        Expr::Try(t) => is_err_value(&t.expr),
        Expr::Macro(m) => is_bail(&m.mac),
        Expr::Block(b) => block_returns_error(&b.block),
        Expr::Paren(p) => returns_error(&p.expr),
        _ => false,
    }
}

/// `Err(..)`, also with methods applied to it (`Err(e).context(..)`).
fn is_err_value(expr: &Expr) -> bool {
    let mut expr = expr;
    while let Expr::MethodCall(m) = expr {
        expr = &m.receiver;
    }
    matches!(expr, Expr::Call(c) if matches!(c.func.as_ref(), Expr::Path(p) if p.path.is_ident("Err")))
}

fn block_returns_error(block: &syn::Block) -> bool {
    block.stmts.iter().any(|stmt| match stmt {
        Stmt::Expr(expr, _) => returns_error(expr),
        Stmt::Macro(m) => is_bail(&m.mac),
        _ => false,
    })
}

/// A block whose last statement leaves it: `return`, `break`, `continue`, `bail!`.
fn block_diverges(block: &syn::Block) -> bool {
    match block.stmts.last() {
        Some(Stmt::Expr(Expr::Return(_) | Expr::Break(_) | Expr::Continue(_), _)) => true,
        Some(Stmt::Expr(Expr::Macro(m), _)) => is_bail(&m.mac),
        Some(Stmt::Macro(m)) => is_bail(&m.mac),
        _ => false,
    }
}

fn is_bail(mac: &Macro) -> bool {
    mac.path.segments.last().is_some_and(|s| s.ident == "bail")
}

/// A body that does nothing: `{}`, `Ok(())`, `()`, `todo!()`, `unimplemented!()`, or only
/// logging before one of those.
fn is_trivial_body(block: &syn::Block) -> bool {
    let trivial_expr = |expr: &Expr| match expr {
        Expr::Tuple(t) => t.elems.is_empty(),
        Expr::Call(c) => {
            matches!(c.func.as_ref(), Expr::Path(p) if p.path.is_ident("Ok"))
                && c.args.len() == 1
                && matches!(&c.args[0], Expr::Tuple(t) if t.elems.is_empty())
        }
        Expr::Macro(m) => m
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| ident_is(&s.ident, &["todo", "unimplemented"])),
        _ => false,
    };
    let logging = |mac: &Macro| {
        mac.path.segments.last().is_some_and(|s| {
            ident_is(
                &s.ident,
                &[
                    "info", "warn", "debug", "trace", "error", "println", "eprintln", "log",
                ],
            )
        })
    };
    let Some((last, init)) = block.stmts.split_last() else {
        return true;
    };
    let init_is_logging = init.iter().all(|s| match s {
        Stmt::Macro(m) => logging(&m.mac),
        Stmt::Expr(Expr::Macro(m), _) => logging(&m.mac),
        _ => false,
    });
    init_is_logging
        && match last {
            Stmt::Expr(e, None) => trivial_expr(e),
            Stmt::Expr(Expr::Return(r), _) => r.expr.as_deref().is_none_or(trivial_expr),
            Stmt::Macro(m) => {
                trivial_expr(&Expr::Macro(syn::ExprMacro {
                    attrs: Vec::new(),
                    mac: m.mac.clone(),
                })) || logging(&m.mac)
            }
            Stmt::Expr(Expr::Macro(m), Some(_)) => logging(&m.mac),
            _ => false,
        }
}

/// The HTTP method of a route attribute: `#[post("/x")]`, `#[actix_web::post(..)]`,
/// `#[oai(path = "/x", method = "post")]`.
fn route_attribute(attrs: &[Attribute]) -> Option<HttpMethod> {
    attrs.iter().find_map(|attr| {
        let last = attr.path().segments.last()?.ident.to_string();
        if last == "oai" || last == "route" {
            let tokens = match &attr.meta {
                syn::Meta::List(list) => list.tokens.to_string(),
                _ => return None,
            };
            let at = tokens.find("method")?;
            let rest = tokens[at..].split('"').nth(1)?;
            return HttpMethod::parse(rest);
        }
        HttpMethod::parse(&last).filter(|_| matches!(attr.meta, syn::Meta::List(_)))
    })
}

/// The path of a route attribute: the first string of `#[post("/orders/<id>")]`, or the
/// `path = ".."` of `#[oai(..)]` / `#[route(..)]`.
fn route_attribute_path(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| {
        let last = attr.path().segments.last()?.ident.to_string();
        let syn::Meta::List(list) = &attr.meta else {
            return None;
        };
        let tokens = list.tokens.to_string();
        let from = if last == "oai" || last == "route" {
            tokens.find("path")?
        } else {
            HttpMethod::parse(&last)?;
            0
        };
        tokens[from..].split('"').nth(1).map(str::to_owned)
    })
}

/// Identifiers in a type (`Json<CreateOrder>` -> `Json`, `CreateOrder`).
fn type_names(ty: &syn::Type, out: &mut Vec<String>) {
    match ty {
        syn::Type::Path(p) => {
            for seg in &p.path.segments {
                out.push(seg.ident.to_string());
                if let syn::PathArguments::AngleBracketed(args) = &seg.arguments {
                    for arg in &args.args {
                        if let syn::GenericArgument::Type(t) = arg {
                            type_names(t, out);
                        }
                    }
                }
            }
        }
        syn::Type::Reference(r) => type_names(&r.elem, out),
        // A raw payload (`payload: &[u8]`).
        syn::Type::Slice(s) if matches!(&*s.elem, syn::Type::Path(p) if p.path.is_ident("u8")) => {
            out.push("[u8]".to_owned());
        }
        syn::Type::Paren(p) => type_names(&p.elem, out),
        syn::Type::Tuple(t) => t.elems.iter().for_each(|e| type_names(e, out)),
        _ => {}
    }
}

fn param_types(sig: &syn::Signature) -> Vec<String> {
    let mut out = Vec::new();
    for input in &sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            type_names(&t.ty, &mut out);
        }
    }
    out
}

/// `#[serde(tag = "..", rename = "..", alias = "..")]` string values.
fn serde_strings(attrs: &[Attribute], out: &mut Vec<String>) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Ok(value) = meta.value() {
                if let Ok(lit) = value.parse::<LitStr>() {
                    out.push(lit.value());
                }
            }
            Ok(())
        });
    }
}

impl Extractor<'_> {
    fn context(&self) -> PathContext {
        self.flow
            .contexts
            .last()
            .copied()
            .unwrap_or(PathContext::Normal)
    }

    pub(super) fn in_function(&self) -> bool {
        !self.flow.stack.is_empty()
    }

    pub(super) fn enter_function(
        &mut self,
        sig: &syn::Signature,
        attrs: &[Attribute],
        block: &syn::Block,
        item_range: Range<usize>,
        impl_trait: Option<String>,
    ) {
        let name = sig.ident.to_string();
        let function = Function {
            crate_id: self.cx.krate.id,
            path: self.function_path(),
            name,
            impl_type: self.impl_type.clone(),
            impl_trait,
            is_async: sig.asyncness.is_some(),
            span: self.span(self.range_of(sig.ident.span())),
            body: self
                .span(item_range.start.min(self.text.len())..item_range.end.min(self.text.len())),
            trivial_body: is_trivial_body(block),
            returns_nothing: match &sig.output {
                syn::ReturnType::Default => true,
                syn::ReturnType::Type(_, ty) => {
                    matches!(ty.as_ref(), syn::Type::Tuple(t) if t.elems.is_empty())
                }
            },
            param_types: self.broker_message_params(sig),
            route_attribute: route_attribute(attrs),
            route_path: route_attribute_path(attrs),
            effects: Vec::new(),
            branches: Vec::new(),
            tasks: Vec::new(),
            payloads: Vec::new(),
        };
        self.flow.stack.push(FunctionBuilder {
            function,
            queries_before: self.facts.queries.len(),
            last_record_topic: None,
            sinks: Vec::new(),
            objects: object_params(sig),
            aliases: HashMap::default(),
            transactions: HashSet::default(),
            body_start: self.start_of(block.brace_token.span.open()),
            looked_up: HashSet::default(),
            listed: HashSet::default(),
        });
        // Contexts do not cross into a nested function.
        self.flow.contexts.push(PathContext::Normal);
    }

    pub(super) fn exit_function(&mut self, sig: &syn::Signature, block: &syn::Block) {
        self.flow.contexts.pop();
        let Some(mut builder) = self.flow.stack.pop() else {
            return;
        };
        let function = &mut builder.function;
        // Where the last publish, outbox call or outbox insert starts.
        let last_publish = function
            .effects
            .iter()
            .filter(|e| match &e.kind {
                EffectKind::Publish { .. } | EffectKind::OutboxWrite => true,
                // `outbox::ActiveModel { .. }.insert(&txn)`, `diesel::insert_into(outbox)`.
                EffectKind::OrmWrite { api, .. } => {
                    crate::behaviour::orm_write_table(api).is_some_and(|t| is_outbox_table(&t))
                }
                _ => false,
            })
            .map(|e| e.span.start)
            .chain(
                self.facts.queries[builder.queries_before..]
                    .iter()
                    .filter(|q| q.tables.iter().any(|t| is_outbox_table(&t.table)))
                    .map(|q| q.span.start),
            )
            .max();
        let publishes = last_publish.is_some();
        if let Some(last) = last_publish {
            // Serialized before the publish: up to the end of the statement that holds it
            // (`sqlx::query("INSERT INTO outbox ..").bind(serde_json::to_value(&e)?)`).
            let last = last as usize;
            let limit = block
                .stmts
                .iter()
                .map(|stmt| self.range_of(stmt.span()))
                .find(|range| range.end >= last)
                .map_or(last, |range| range.end.max(last));
            builder
                .sinks
                .retain(|s| !s.serializer || (s.span.start as usize) < limit);
            function.payloads = payloads(&builder.sinks, sig, block, function.impl_type.as_deref());
        }
        // A message handed to an actor names the handler that runs it.
        let sends_to_actor = self.has_dependency(ACTOR_CRATES)
            && function.effects.iter().any(|e| {
                matches!(&e.kind, EffectKind::Call { name, receiver: Some(_) }
                    if crate::behaviour::ACTOR_SENDS.contains(&name.as_str()))
            });
        if !publishes && !sends_to_actor {
            // Constructed names only matter next to a publish, or when registered as a
            // compensation (`undo.push(Box::new(ReleaseStock { .. }))`).
            function.effects.retain(|e| {
                e.context == PathContext::Deferred
                    || !matches!(
                        e.kind,
                        EffectKind::Event {
                            role: EventRole::Constructed,
                            ..
                        }
                    )
            });
        }
        let has_sql = self.facts.queries.len() > builder.queries_before;
        let step_method = function.impl_trait.is_some()
            && STEP_METHODS
                .iter()
                .any(|(a, b)| function.name == *a || function.name == *b);
        if !function.effects.is_empty()
            || has_sql
            || function.route_attribute.is_some()
            || step_method
        {
            self.facts.functions.push(builder.function);
        } else if let Some(impl_type) = &builder.function.impl_type {
            self.facts
                .quiet_methods
                .push(format!("{impl_type}::{}", builder.function.name));
        }
    }

    /// Byte range of a function from `fn` to its closing brace, without walking its tokens.
    pub(super) fn fn_range(&self, sig: &syn::Signature, block: &syn::Block) -> Range<usize> {
        let start = self.start_of(sig.fn_token.span);
        let end = self.end_of(block.brace_token.span.close());
        start..end.max(start)
    }

    /// Byte range of a path from its first segment to its last segment's name, without
    /// walking its tokens.
    fn path_range(&self, path: &syn::Path) -> Range<usize> {
        let start = match (&path.leading_colon, path.segments.first()) {
            (Some(colon), _) => self.start_of(colon.spans[0]),
            (None, Some(first)) => self.start_of(first.ident.span()),
            (None, None) => 0,
        };
        let end = path
            .segments
            .last()
            .map_or(0, |s| self.end_of(s.ident.span()));
        start..end.max(start)
    }

    fn push_effect<'n>(&mut self, kind: EffectKind, at: impl Into<At<'n>>, key: usize) {
        let context = self.context();
        let propagates = self.flow.propagated.contains(&key);
        let error_returned = self.flow.error_returned.contains(&key);
        let gates_what_follows = self.flow.gating.contains(&key);
        let offloaded = self.flow.offloaded > 0;
        let span = self.effect_span(at.into());
        if let Some(builder) = self.flow.stack.last_mut() {
            builder.function.effects.push(Effect {
                kind,
                span,
                context,
                propagates,
                error_returned,
                gates_what_follows,
                offloaded,
            });
        }
    }

    /// Where an effect is.
    fn effect_span(&self, at: At<'_>) -> Span {
        let range = match at {
            At::Method(call) => {
                let start = self.start_of(call.method.span());
                let end = self.end_of(call.paren_token.span.close());
                start..end.max(start)
            }
            At::Call(call) => {
                let start = match call.func.as_ref() {
                    Expr::Path(p) => self.path_range(&p.path).start,
                    _ => self.start_of(call.paren_token.span.open()),
                };
                let end = self.end_of(call.paren_token.span.close());
                start..end.max(start)
            }
            At::Bytes(start, end) => start..end,
        };
        let end = range.end.min(self.text.len());
        self.span(range.start.min(end)..end)
    }

    /// The arguments of the publish or outbox write just recorded: a payload sink.
    fn publish_sink<'e>(&mut self, args: impl IntoIterator<Item = &'e Expr>) {
        let span = self
            .flow
            .stack
            .last()
            .and_then(|b| b.function.effects.last())
            .map(|e| e.span);
        if let Some(span) = span {
            self.payload_sink(span, false, args);
        }
    }

    /// Records what `args` carry into a publish, an outbox write or a serializer.
    fn payload_sink<'e>(
        &mut self,
        span: Span,
        serializer: bool,
        args: impl IntoIterator<Item = &'e Expr>,
    ) {
        let Some(builder) = self.flow.stack.last_mut() else {
            return;
        };
        let mut parts = PayloadParts::default();
        for arg in args {
            payload_parts(arg, builder.function.impl_type.as_deref(), &mut parts);
        }
        if !parts.is_empty() {
            builder.sinks.push(Sink {
                span,
                serializer,
                parts,
            });
        }
    }

    /// The strings written into the same row as a serialized payload (`.bind(SUBJECT)` earlier
    /// in the chain, quoted literals in the SQL): a subject or topic column of an outbox row.
    fn row_strings(&mut self, sink: Span, mut receiver: &Expr) {
        let mut strings = Vec::new();
        for _ in 0..16 {
            match receiver {
                Expr::MethodCall(m) => {
                    if m.method == "bind" {
                        if let Some(arg @ (Expr::Lit(_) | Expr::Path(_))) = m.args.first() {
                            let mut parts = PayloadParts::default();
                            payload_parts(arg, None, &mut parts);
                            strings.extend(parts.strings);
                        }
                    }
                    receiver = &m.receiver;
                }
                Expr::Call(c) => {
                    if let Some(Expr::Lit(ExprLit {
                        lit: Lit::Str(sql), ..
                    })) = c.args.first()
                    {
                        let sql = sql.value();
                        let quoted = sql.split('\'').skip(1).step_by(2);
                        strings.extend(quoted.flat_map(|q| short_string(q.to_owned())));
                    }
                    break;
                }
                _ => break,
            }
        }
        let Some(builder) = self.flow.stack.last_mut() else {
            return;
        };
        match builder.sinks.iter_mut().rev().find(|k| k.span == sink) {
            Some(target) => target.parts.strings.extend(strings),
            None if !strings.is_empty() => builder.sinks.push(Sink {
                span: sink,
                serializer: true,
                parts: PayloadParts {
                    strings,
                    ..PayloadParts::default()
                },
            }),
            None => {}
        }
    }

    /// Records a short string literal constant (topic and subject names, header names), for
    /// uses from other files.
    pub(super) fn string_const(&mut self, ident: &syn::Ident, expr: &Expr) {
        if let Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) = expr
        {
            let value = lit.value();
            if value.len() <= 120 && !value.contains(char::is_whitespace) {
                self.facts.string_consts.push(crate::model::StringConst {
                    crate_id: self.cx.krate.id,
                    name: ident.to_string(),
                    value,
                });
            }
        }
    }

    /// A destination argument: its value, or `{NAME}` for a constant defined elsewhere.
    fn destination(&mut self, expr: &Expr) -> Option<String> {
        if let Some(resolved) = self.resolve(expr) {
            return Some(resolved.text);
        }
        let mut inner = expr;
        while let Expr::Reference(r) = inner {
            inner = &r.expr;
        }
        match inner {
            Expr::Path(p) => {
                let last = p.path.segments.last()?.ident.to_string();
                last.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    .then(|| format!("{{{last}}}"))
            }
            _ => None,
        }
    }

    /// The destination of a project publisher: its first argument that reads as one, after
    /// the client or channel it may take first (`publish_json(js, subjects::REFUNDED, &e)`).
    fn wrapper_destination(&mut self, args: &Punctuated<Expr, Token![,]>) -> Option<String> {
        args.iter().take(3).find_map(|a| self.destination(a))
    }

    /// `std::..`, `tokio::..`: a path into a crate that is not part of the workspace.
    fn is_external_root(&self, first: &str) -> bool {
        matches!(first, "std" | "core" | "alloc")
            || self
                .cx
                .krate
                .dependencies
                .iter()
                .any(|d| d.member.is_none() && d.code_name == first)
    }

    /// The parameters' type names, with `BrokerMessage` added for a broker client's message
    /// type (`jetstream::Message`, or `Message` imported from async-nats).
    fn broker_message_params(&self, sig: &syn::Signature) -> Vec<String> {
        let mut types = param_types(sig);
        let broker_message = sig.inputs.iter().any(|input| {
            let syn::FnArg::Typed(t) = input else {
                return false;
            };
            let mut ty = t.ty.as_ref();
            while let syn::Type::Reference(r) = ty {
                ty = &r.elem;
            }
            let syn::Type::Path(p) = ty else {
                return false;
            };
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            match segs.as_slice() {
                [name] => self.broker_messages.contains(name),
                [.., parent, last] => {
                    last == "Message" && matches!(parent.as_str(), "jetstream" | "async_nats")
                }
                [] => false,
            }
        });
        if broker_message {
            types.push("BrokerMessage".to_owned());
        }
        if takes_callback(sig) {
            types.push("Callback".to_owned());
        }
        types
    }

    pub(super) fn idempotency_literal(&mut self, range: Range<usize>) {
        let key = range.start;
        self.push_effect(EffectKind::IdempotencyKey, range, key);
    }

    fn with_context(&mut self, context: PathContext, visit: impl FnOnce(&mut Self)) {
        self.flow.contexts.push(context);
        visit(self);
        self.flow.contexts.pop();
    }

    // -----------------------------------------------------------------------------------------
    // Traversal with context. Each returns true when it visited the children itself.

    pub(super) fn flow_expr(&mut self, expr: &Expr) -> bool {
        if !self.in_function() {
            return false;
        }
        self.record_branches(expr);
        match expr {
            Expr::Try(t) => {
                let mut keys = Vec::new();
                chain_keys(&t.expr, &mut keys);
                self.flow.propagated.extend(keys);
                false
            }
            Expr::Await(a) => {
                let mut keys = Vec::new();
                chain_keys(&a.base, &mut keys);
                if let Some(first) = keys.first() {
                    self.flow.awaited.insert(*first);
                }
                false
            }
            Expr::If(e) => {
                let (then_err, else_err) = error_branches(&e.cond);
                // `if !resp.status().is_success() { ..; return Err(..) }`: a branch that
                // returns an error is an error path whatever the condition.
                let then_err = then_err || block_returns_error(&e.then_branch);
                let else_err = else_err
                    || e.else_branch
                        .as_ref()
                        .is_some_and(|(_, o)| returns_error(o));
                if !then_err && !else_err {
                    return false;
                }
                self.visit_expr(&e.cond);
                let ctx = |err: bool, current| {
                    if err {
                        PathContext::Error
                    } else {
                        current
                    }
                };
                let current = self.context();
                self.with_context(ctx(then_err, current), |s| s.visit_block(&e.then_branch));
                if let Some((_, other)) = &e.else_branch {
                    self.with_context(ctx(else_err, current), |s| s.visit_expr(other));
                }
                true
            }
            Expr::Struct(s) => {
                self.constructed_name(&s.path);
                // `DepositRequest { idempotency_key: Some(key), .. }`: a request message that
                // carries its key, as a header would.
                let carries_key = s.fields.iter().any(|field| {
                    matches!(&field.member, syn::Member::Named(name)
                        if ident_is(name, &["idempotency_key", "idempotency_token"]))
                });
                if carries_key {
                    let range = self.path_range(&s.path);
                    let key = range.start;
                    self.push_effect(EffectKind::IdempotencyKeySent, range, key);
                }
                let carries_prepared_id = s.fields.iter().any(|field| {
                    matches!(&field.member, syn::Member::Named(name)
                        if names_prepared_transaction(&name.to_string()))
                });
                if carries_prepared_id {
                    let range = self.path_range(&s.path);
                    let key = range.start;
                    self.push_effect(EffectKind::PreparedTransactionSent, range, key);
                }
                false
            }
            // `.unwrap_or_else(|| Uuid::new_v4())`: the argument runs only when the value is
            // missing.
            Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "unwrap_or_else" | "unwrap_or" | "or_else" | "map_or_else" | "map_or"
                ) =>
            {
                self.visit_expr(&m.receiver);
                self.flow.fallback += 1;
                for arg in &m.args {
                    self.visit_expr(arg);
                }
                self.flow.fallback -= 1;
                true
            }
            // `if let OrderEvent::Cancelled { .. } = event`: a message handled.
            Expr::Let(l) => {
                self.matched_names(&l.pat);
                false
            }
            Expr::Path(p) if p.path.segments.len() >= 2 => {
                // `OrderPlaced::SCHEMA_VERSION`: a version sent with the event.
                let names_version = p.path.segments.last().is_some_and(|s| {
                    let name = s.ident.to_string();
                    name.contains("VERSION") && !name.contains(|c: char| c.is_lowercase())
                });
                if names_version {
                    let range = self.path_range(&p.path);
                    let key = range.start;
                    self.push_effect(
                        EffectKind::Event {
                            name: path_segments(&p.path).join("::"),
                            role: EventRole::Constructed,
                        },
                        range,
                        key,
                    );
                }
                false
            }
            Expr::Field(f) => {
                if let syn::Member::Named(ident) = &f.member {
                    if ident_is(ident, &["idempotency_key", "idempotency_token"]) {
                        let range = self.range_of(ident.span());
                        let key = range.start;
                        self.push_effect(EffectKind::IdempotencyKey, range, key);
                    }
                }
                false
            }
            Expr::MethodCall(call) => {
                let method = self.method_name(call);
                let name = method.as_str();
                let context = if ERROR_COMBINATORS.contains(&name) {
                    Some(PathContext::Error)
                } else if DEFERRERS.contains(&name)
                    && call
                        .args
                        .iter()
                        .any(|a| matches!(a, Expr::Closure(_) | Expr::Async(_) | Expr::Call(_)))
                {
                    Some(PathContext::Deferred)
                } else {
                    None
                };
                let offload = OFFLOADERS.contains(&name)
                    || name == "call" && self.has_dependency(&["tokio_rusqlite"]);
                self.flow_method_call(call, method);
                if context.is_none() && !offload {
                    return false;
                }
                self.visit_expr(&call.receiver);
                if let Some(turbofish) = &call.turbofish {
                    self.visit_angle_bracketed_generic_arguments(turbofish);
                }
                self.flow.offloaded += usize::from(offload);
                let context = context.unwrap_or_else(|| self.context());
                self.with_context(context, |s| {
                    for arg in &call.args {
                        s.visit_expr(arg);
                    }
                });
                self.flow.offloaded -= usize::from(offload);
                true
            }
            Expr::Call(call) => {
                self.flow_call(call);
                // `tokio::spawn(async move { .. })`: the body runs as a task of its own.
                let spawns = matches!(call.func.as_ref(), Expr::Path(p)
                    if p.path.segments.last().is_some_and(|s| ident_is(&s.ident, &["spawn", "spawn_local"])));
                if let (true, Some(body)) = (spawns, call.args.first()) {
                    let range = self.expr_range(body);
                    if let Some(builder) = self.flow.stack.last_mut() {
                        builder
                            .function
                            .tasks
                            .push((range.start as u32, range.end as u32));
                    }
                }
                let offload = match call.func.as_ref() {
                    Expr::Path(p) => p.path.segments.last().is_some_and(|s| {
                        ident_is(&s.ident, OFFLOADERS)
                            || s.ident == "block"
                                && p.path.segments.len() > 1
                                && p.path.segments[0].ident == "web"
                    }),
                    _ => false,
                };
                if !offload {
                    return false;
                }
                self.visit_expr(&call.func);
                self.flow.offloaded += 1;
                for arg in &call.args {
                    self.visit_expr(arg);
                }
                self.flow.offloaded -= 1;
                true
            }
            _ => false,
        }
    }

    /// The arms of a `match` or an `if`/`else`: code in two arms never runs in one call.
    fn record_branches(&mut self, expr: &Expr) {
        let arms: Vec<(usize, usize)> = match expr {
            Expr::Match(m) if m.arms.len() > 1 => m
                .arms
                .iter()
                .map(|arm| {
                    let (first, last) = expr_bounds(&arm.body);
                    (self.start_of(first), self.end_of(last))
                })
                .collect(),
            Expr::If(e) => match &e.else_branch {
                Some((_, other)) => {
                    let first = ranges::expr_first(other);
                    let key = std::ptr::from_ref::<syn::ExprIf>(e) as usize;
                    let last = match self.flow.if_chain_end {
                        Some((link, last)) if link == key => last,
                        _ => expr_bounds(other).1,
                    };
                    if let Expr::If(next) = &**other {
                        let next = std::ptr::from_ref::<syn::ExprIf>(next) as usize;
                        self.flow.if_chain_end = Some((next, last));
                    }
                    vec![
                        (
                            self.start_of(e.then_branch.brace_token.span.open()),
                            self.end_of(e.then_branch.brace_token.span.close()),
                        ),
                        (self.start_of(first), self.end_of(last)),
                    ]
                }
                None => return,
            },
            _ => return,
        };
        self.push_branch(arms);
    }

    fn push_branch(&mut self, arms: Vec<(usize, usize)>) {
        let arms = arms
            .into_iter()
            .map(|(s, e)| (s as u32, e.max(s) as u32))
            .collect();
        if let Some(builder) = self.flow.stack.last_mut() {
            builder.function.branches.push(arms);
        }
    }

    /// `match` arms: `Err(..) =>` bodies are error paths; patterns naming events are handled
    /// events.
    pub(super) fn flow_arm(&mut self, arm: &syn::Arm) -> bool {
        if !self.in_function() {
            return false;
        }
        self.matched_names(&arm.pat);
        // `Ok(resp) => { ..; return Err(..) }` (a response with an error status) is an
        // error path too.
        let failure = is_result_pattern(&arm.pat, "Err")
            || is_result_pattern(&arm.pat, "Ok") && returns_error(&arm.body);
        if !failure {
            let missing = matches!(&arm.pat, syn::Pat::Wild(_))
                || matches!(&arm.pat, syn::Pat::Ident(p) if p.ident == "None");
            if !missing {
                return false;
            }
            self.visit_pat(&arm.pat);
            if let Some((_, guard)) = &arm.guard {
                self.visit_expr(guard);
            }
            self.flow.fallback += 1;
            self.visit_expr(&arm.body);
            self.flow.fallback -= 1;
            return true;
        }
        self.visit_pat(&arm.pat);
        if let Some((_, guard)) = &arm.guard {
            self.visit_expr(guard);
        }
        self.with_context(PathContext::Error, |s| s.visit_expr(&arm.body));
        true
    }

    /// Before a block is visited: calls whose result one of its statements matches with an
    /// arm returning an error, directly (`match client.charge().await { .. }`) or through
    /// the variable a previous statement binds it to (`let r = ..; match r { .. }`).
    pub(super) fn flow_block(&mut self, block: &syn::Block) {
        if !self.in_function() {
            return;
        }
        // `if cond { ..; return ..; }` then more statements: the `if` block and the rest of
        // the block never both run.
        let block_end = self.end_of(block.brace_token.span.close());
        for stmt in &block.stmts {
            if let Stmt::Local(local) = stmt {
                if let (Some(init), Some(builder)) = (&local.init, self.flow.stack.last_mut()) {
                    if is_lookup(&init.expr) || mentions_any(&init.expr, &builder.looked_up) {
                        let mut names = Vec::new();
                        pattern_names(&local.pat, &mut names);
                        builder.looked_up.extend(names);
                    } else if is_listing(&init.expr) {
                        let mut names = Vec::new();
                        pattern_names(&local.pat, &mut names);
                        builder.listed.extend(names);
                    }
                }
            }
            // `for (id, quote) in ids.iter().zip(locked_quotes)`: each item is a looked-up row.
            if let Stmt::Expr(Expr::ForLoop(f), _) = stmt {
                if let Some(builder) = self.flow.stack.last_mut() {
                    if is_lookup(&f.expr) || mentions_any(&f.expr, &builder.looked_up) {
                        let mut names = Vec::new();
                        pattern_names(&f.pat, &mut names);
                        builder.looked_up.extend(names);
                    }
                }
            }
            if let Stmt::Expr(Expr::If(e), _) = stmt {
                if e.else_branch.is_none() && block_diverges(&e.then_branch) {
                    let then = (
                        self.start_of(e.then_branch.brace_token.span.open()),
                        self.end_of(e.then_branch.brace_token.span.close()),
                    );
                    self.push_branch(vec![then, (then.1, block_end)]);
                    // `if order.status == "CANCELLED" { return .. }`: the state the function
                    // looked up decides whether it goes on to write.
                    let subject = self.flow.stack.last().and_then(|b| {
                        if tests_looked_up_state(&e.cond, &b.looked_up) {
                            Some(first_mentioned(&e.cond, &b.looked_up))
                        } else {
                            // `if rows.len() > 0 { return .. }` on the rows a query found.
                            finds_listed_rows(&e.cond, &b.listed).then_some(None)
                        }
                    });
                    if let Some(subject) = subject {
                        let start = self.start_of(e.if_token.span);
                        let end = self.end_of(e.then_branch.brace_token.span.close());
                        self.push_effect(
                            EffectKind::StateCheck { subject },
                            At::Bytes(start, end),
                            start,
                        );
                    }
                }
            }
            // `check_status("approve", payment.status, &[Created])?;`: a helper given the
            // looked-up state whose error ends the function, like an `if` that returns.
            let checked = match stmt {
                Stmt::Expr(e, _) => Some(e),
                Stmt::Local(local) => local.init.as_ref().map(|init| init.expr.as_ref()),
                _ => None,
            };
            if let Some(Expr::Try(tried)) = checked {
                let subject = self.flow.stack.last().and_then(|b| {
                    passes_looked_up_state(&tried.expr, &b.looked_up)
                        .then(|| first_mentioned(&tried.expr, &b.looked_up))
                });
                if let Some(subject) = subject {
                    let start = self.expr_range(&tried.expr).start;
                    let end = self.end_of(tried.question_token.span);
                    self.push_effect(
                        EffectKind::StateCheck { subject },
                        At::Bytes(start, end),
                        start,
                    );
                }
            }
            // `match repo.get_by_order_id(..).await { Ok(_) => return Ok(()), Err(NotFound)
            // => {} .. }`: a row already there ends the function.
            if let Stmt::Expr(Expr::Match(m), _) = stmt {
                let found_returns = m.arms.iter().any(|arm| {
                    (is_result_pattern(&arm.pat, "Ok") || is_result_pattern(&arm.pat, "Some"))
                        && expr_diverges(&arm.body)
                });
                // `match quote.state() { Unpaid => return Err(..), Paid => () }`: the state the
                // function looked up decides whether it goes on, as with an `if`.
                let state_decides = m.arms.iter().any(|arm| expr_diverges(&arm.body))
                    && m.arms.iter().any(|arm| !expr_diverges(&arm.body))
                    && self
                        .flow
                        .stack
                        .last()
                        .is_some_and(|b| state_of_looked_up(&m.expr, &b.looked_up));
                if found_returns && is_lookup(&m.expr) || state_decides {
                    let subject = if state_decides {
                        self.flow
                            .stack
                            .last()
                            .and_then(|b| first_mentioned(&m.expr, &b.looked_up))
                    } else {
                        None
                    };
                    let start = self.start_of(m.match_token.span);
                    let end = self.end_of(m.brace_token.span.close());
                    self.push_effect(
                        EffectKind::StateCheck { subject },
                        At::Bytes(start, end),
                        start,
                    );
                }
            }
        }
        // The body's tail `match` is the function's value: its `Err(..)` arm ends the
        // function whatever it evaluates to (`Err(e) => HttpResponse::InternalServerError()..`).
        let is_body = self
            .flow
            .stack
            .last()
            .is_some_and(|b| b.body_start == self.start_of(block.brace_token.span.open()));
        let tail_match = match block.stmts.last() {
            Some(Stmt::Expr(Expr::Match(m), None))
                if is_body && m.arms.iter().any(|a| is_result_pattern(&a.pat, "Err")) =>
            {
                Some(m.expr.as_ref())
            }
            _ => None,
        };
        for (i, stmt) in block.stmts.iter().enumerate() {
            // `if let Ok(order) = update_status(..).await { publish(..) }`, `match
            // update_status(..).await { Ok(order) => publish(..), Err(e) => log(e) }`: what the
            // `Ok` block does runs only when the call succeeds.
            let gated = match stmt {
                Stmt::Expr(Expr::If(e), _) => match (e.cond.as_ref(), &e.else_branch) {
                    (Expr::Let(cond), None) if is_result_pattern(&cond.pat, "Ok") => {
                        Some(cond.expr.as_ref())
                    }
                    _ => None,
                },
                Stmt::Expr(Expr::Match(m), _)
                    if m.arms.iter().any(|a| is_result_pattern(&a.pat, "Ok"))
                        && m.arms.iter().all(|a| {
                            is_result_pattern(&a.pat, "Ok")
                                || is_result_pattern(&a.pat, "Err")
                                || matches!(a.pat, syn::Pat::Wild(_))
                        }) =>
                {
                    Some(m.expr.as_ref())
                }
                _ => None,
            };
            if let Some(call) = gated {
                let mut keys = Vec::new();
                chain_keys(call, &mut keys);
                self.flow.gating.extend(keys);
            }
            let scrutinee = match stmt {
                Stmt::Local(syn::Local {
                    pat,
                    init: Some(init),
                    ..
                }) => match &init.diverge {
                    Some((_, diverge))
                        if is_result_pattern(pat, "Ok") && returns_error(diverge) =>
                    {
                        Some(init.expr.as_ref())
                    }
                    _ => error_returning_match(&init.expr),
                },
                Stmt::Expr(expr, _) => error_returning_match(expr),
                _ => None,
            };
            let scrutinee = scrutinee.or(if i + 1 == block.stmts.len() {
                tail_match
            } else {
                None
            });
            let Some(scrutinee) = scrutinee else {
                continue;
            };
            let mut keys = Vec::new();
            chain_keys(scrutinee, &mut keys);
            // `let r = client.charge(..).await; match r { .. }`: the calls bound to `r`.
            if let Expr::Path(p) = scrutinee {
                let binding = block.stmts[..i].iter().rev().find_map(|s| match s {
                    Stmt::Local(syn::Local {
                        pat,
                        init: Some(init),
                        ..
                    }) if p.path.get_ident().is_some_and(|id| local_is(pat, id)) => {
                        Some(init.expr.as_ref())
                    }
                    _ => None,
                });
                if let Some(init) = binding {
                    chain_keys(init, &mut keys);
                }
            }
            self.flow.error_returned.extend(keys);
        }
    }

    /// `let Ok(x) = r else { .. }`: the `else` is an error path. `let _ = tx.commit()`
    /// discards the result.
    pub(super) fn flow_local(&mut self, local: &syn::Local) -> bool {
        if !self.in_function() {
            return false;
        }
        let Some(init) = &local.init else {
            return false;
        };
        if matches!(local.pat, syn::Pat::Wild(_)) {
            let mut keys = Vec::new();
            chain_keys(&init.expr, &mut keys);
            self.flow.discarded.extend(keys);
        }
        let Some((_, diverge)) = &init.diverge else {
            return false;
        };
        if !is_result_pattern(&local.pat, "Ok") {
            // `let Event::PaymentSucceeded { .. } = decode(body)? else { return Ok(()) };`:
            // the one message the rest of the function handles.
            self.matched_names(&local.pat);
            return false;
        }
        self.visit_pat(&local.pat);
        self.visit_expr(&init.expr);
        self.with_context(PathContext::Error, |s| s.visit_expr(diverge));
        true
    }

    fn matched_names(&mut self, pat: &syn::Pat) {
        let path = match pat {
            syn::Pat::Or(o) => {
                for case in &o.cases {
                    self.matched_names(case);
                }
                return;
            }
            syn::Pat::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => {
                let name = s.value();
                if !name.is_empty() && name.len() < 80 {
                    self.matched_event(name, self.range_of(s.span()));
                }
                return;
            }
            syn::Pat::Struct(s) => &s.path,
            syn::Pat::TupleStruct(t) => &t.path,
            syn::Pat::Path(p) => &p.path,
            syn::Pat::Ident(i) => match &i.subpat {
                Some((_, sub)) => return self.matched_names(sub),
                // `ORDER_PLACED =>`: a constant, not a binding.
                None if i.by_ref.is_none() && i.mutability.is_none() => {
                    let name = i.ident.to_string();
                    if name.contains('_') && is_screaming(&name) {
                        let path = syn::Path::from(i.ident.clone());
                        self.matched_constant(&path, name);
                    }
                    return;
                }
                None => return,
            },
            _ => return,
        };
        let Some(last) = path.segments.last() else {
            return;
        };
        if ident_is(&last.ident, &["Ok", "Err", "Some", "None"]) {
            return;
        }
        let last_name = last.ident.to_string();
        // Associated constants of a type (`StatusCode::NOT_FOUND`) are not subjects.
        let in_module = path.segments.len() < 2
            || path.segments[path.segments.len() - 2]
                .ident
                .to_string()
                .starts_with(|c: char| c.is_ascii_lowercase());
        if matches!(pat, syn::Pat::Path(_))
            && in_module
            && last_name.contains('_')
            && is_screaming(&last_name)
        {
            self.matched_constant(path, last_name);
            return;
        }
        let name = path_segments(path).join("::");
        if looks_like_event(&name) || path.segments.len() > 1 && is_pascal(&name) {
            self.matched_event(name, self.path_range(path));
        }
    }

    /// An event, subject or message type a `match` arm handles.
    fn matched_event(&mut self, name: String, range: Range<usize>) {
        let key = range.start;
        let kind = EffectKind::Event {
            name,
            role: EventRole::Matched,
        };
        self.push_effect(kind, range, key);
    }

    /// `subjects::ORDER_PLACED =>`: a constant naming a subject or event type; its value when
    /// it is known here, else its name (`ORDER_PLACED` reads as the event).
    fn matched_constant(&mut self, path: &syn::Path, const_name: String) {
        let as_expr = Expr::Path(syn::ExprPath {
            attrs: Vec::new(),
            qself: None,
            path: path.clone(),
        });
        let name = self
            .resolve(&as_expr)
            .map(|r| r.text)
            .filter(|t| !t.is_empty() && t.len() < 80)
            .unwrap_or(const_name);
        self.matched_event(name, self.path_range(path));
    }

    fn constructed_name(&mut self, path: &syn::Path) {
        let Some(last) = path.segments.last() else {
            return;
        };
        let last = last.ident.to_string();
        if !is_pascal(&last) || matches!(last.as_str(), "Ok" | "Err" | "Some" | "None" | "Self") {
            return;
        }
        let range = self.path_range(path);
        let key = range.start;
        self.push_effect(
            EffectKind::Event {
                name: path_segments(path).join("::"),
                role: EventRole::Constructed,
            },
            range,
            key,
        );
    }

    // -----------------------------------------------------------------------------------------
    // Classifying calls.

    fn flow_call(&mut self, call: &syn::ExprCall) {
        let Expr::Path(func) = call.func.as_ref() else {
            return;
        };
        let key = node_key(call);
        let segs = match self.flow.call_path.take() {
            Some((named, segs)) if named == key => segs,
            _ => path_segments(&func.path),
        };
        let Some(last) = segs.last().map(String::as_str) else {
            return;
        };
        let first = segs.first().map(String::as_str).unwrap_or("");
        let range = At::Call(call);
        let tail = segs_tail(&segs, 2);
        // Blocking APIs.
        let blocking = match (first, tail.as_slice()) {
            ("reqwest", _) if segs.iter().any(|s| s == "blocking") => Some(segs.join("::")),
            ("ureq", _) if segs.len() >= 2 => Some(segs.join("::")),
            (_, ["thread", "sleep"]) => Some("std::thread::sleep".to_owned()),
            (_, ["PgConnection" | "MysqlConnection" | "SqliteConnection", "establish"]) => {
                Some(format!("diesel::{}", tail.join("::")))
            }
            ("postgres", ["Client", "connect" | "configure"]) => Some(segs.join("::")),
            ("r2d2", _) | ("r2d2_postgres", _) if last == "new" || last == "builder" => None,
            _ => None,
        };
        if let Some(api) = blocking {
            self.push_effect(EffectKind::Blocking { api }, range, key);
            return;
        }
        if is_serializer(&segs) && self.in_function() {
            let span = self.effect_span(range);
            self.payload_sink(span, true, &call.args);
            if segs.len() >= 2 {
                return;
            }
        }
        match (tail.as_slice(), last) {
            (
                ["Uuid", "new_v4" | "now_v7" | "new_v7" | "now_v6" | "now_v1"]
                | ["Ulid", "new" | "generate"]
                | ["ObjectId", "new"],
                _,
            ) => {
                // A fresh id only when a value is missing is a default, not the key.
                if self.flow.fallback == 0 {
                    self.push_effect(EffectKind::FreshId, range, key);
                }
            }
            (["FutureRecord" | "BaseRecord", "to"], _) => {
                if let Some(topic) = call.args.first().and_then(|a| self.destination(a)) {
                    if let Some(builder) = self.flow.stack.last_mut() {
                        builder.last_record_topic = Some(topic);
                    }
                }
            }
            (_, "cmd") if first == "redis" || segs.len() == 1 => {
                let Some(command) = call.args.first().and_then(|a| self.resolve(a)) else {
                    return;
                };
                let kind = match command.text.to_ascii_uppercase().as_str() {
                    "XADD" | "PUBLISH" => EffectKind::Publish {
                        broker: Broker::Redis,
                        destination: None,
                    },
                    "XREADGROUP" => EffectKind::Consume {
                        broker: Broker::Redis,
                        source: None,
                    },
                    "SETNX" => EffectKind::SetIfAbsent,
                    _ => return,
                };
                self.push_effect(kind, range, key);
            }
            (_, "insert_into" | "replace_into" | "update" | "delete")
                if first == "diesel" || segs.len() == 1 && self.has_dependency(&["diesel"]) =>
            {
                // Recorded from the method that runs the statement (`execute`), which sees
                // the whole chain.
            }
            _ if segs.len() >= 2
                && is_pascal(last)
                && segs[segs.len() - 2].starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                // `Event::PaymentFailed(..)`: a tuple variant.
                self.constructed_name(&func.path);
            }
            _ if segs.len() >= 2 && is_pascal(&segs[segs.len() - 2]) && !is_pascal(last) => {
                // `Envelope::new(..)`: a constructor names the type it builds.
                let type_path = syn::Path {
                    leading_colon: None,
                    segments: func
                        .path
                        .segments
                        .iter()
                        .take(func.path.segments.len() - 1)
                        .cloned()
                        .collect(),
                };
                self.constructed_name(&type_path);
                if !self.is_external_root(first) {
                    // `OrderRepo::insert(..)`: the type is the receiver, so the call
                    // resolves to that type's method only.
                    let owner = segs[segs.len() - 2].clone();
                    self.call_effect(last, Some(owner), false, &call.args, range, key);
                }
            }
            (["XClient", _], _) => {}
            _ if segs.len() >= 2 && self.is_external_root(first) => {}
            _ => {
                if last.ends_with("Client")
                    && matches!(
                        tail.first().copied(),
                        Some(t) if t.ends_with("Client")
                    )
                {
                    return;
                }
                // `mailer::send(..)`: a function of a project module, whatever its name (a
                // bare `send(..)` may be a std or prelude name).
                if segs.len() >= 2 && PLUMBING.binary_search(&last).is_ok() {
                    self.push_effect(
                        EffectKind::Call {
                            name: last.to_owned(),
                            receiver: None,
                        },
                        range,
                        key,
                    );
                } else {
                    self.call_effect(last, None, false, &call.args, range, key);
                }
            }
        }
    }

    /// A call to a project function (or a publisher/outbox wrapper by name).
    fn call_effect(
        &mut self,
        name: &str,
        receiver: Option<String>,
        object: bool,
        args: &Punctuated<Expr, Token![,]>,
        range: At<'_>,
        key: usize,
    ) {
        if name.contains("outbox") || receiver.as_deref().is_some_and(|r| r.contains("outbox")) {
            self.push_effect(EffectKind::OutboxWrite, range, key);
            self.publish_sink(args);
            return;
        }
        if is_publisher_name(name) {
            let destination = self.wrapper_destination(args);
            self.push_effect(
                EffectKind::Publish {
                    broker: Broker::Wrapper,
                    destination,
                },
                range,
                key,
            );
            self.publish_sink(args);
            self.wrapper_call(name, receiver, range, key);
            return;
        }
        // `ctx.invoices.insert(..)` may be a repository's method: kept when the receiver may
        // hold a project object (the rules follow it only into a type named like it).
        let object_method = object && crate::behaviour::CONTAINER_METHODS.contains(&name);
        if (PLUMBING.binary_search(&name).is_ok() && !object_method)
            || !name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        {
            return;
        }
        self.push_effect(
            EffectKind::Call {
                name: name.to_owned(),
                receiver,
            },
            range,
            key,
        );
    }

    /// A method receiver that may be a project object rather than a std collection: a field
    /// (`ctx.invoices`), `self`, or a local or parameter bound to a named type.
    fn may_hold_object(&self, receiver: &Expr) -> bool {
        // Bounded like `receiver_name`: it runs for every method call.
        const MAX_STEPS: usize = 64;
        let mut expr = receiver;
        for _ in 0..MAX_STEPS {
            match expr {
                Expr::Reference(r) => expr = &r.expr,
                Expr::Paren(p) => expr = &p.expr,
                Expr::Unary(u) => expr = &u.expr,
                Expr::MethodCall(m)
                    if m.args.is_empty()
                        && ident_is(&m.method, &["clone", "as_ref", "lock", "read", "write"]) =>
                {
                    expr = &m.receiver
                }
                _ => break,
            }
        }
        match expr {
            Expr::Field(f) => matches!(f.member, syn::Member::Named(_)),
            Expr::Path(p) => p.path.get_ident().is_some_and(|i| {
                i == "self"
                    || self
                        .flow
                        .stack
                        .last()
                        .is_some_and(|b| b.objects.contains(&i.to_string()))
            }),
            _ => false,
        }
    }

    /// A publisher wrapper is also a call (same span), so that the rules can follow it into
    /// a project function and see whether it publishes or writes an outbox row.
    fn wrapper_call<'n>(
        &mut self,
        name: &str,
        receiver: Option<String>,
        at: impl Into<At<'n>>,
        key: usize,
    ) {
        self.push_effect(
            EffectKind::Call {
                name: name.to_owned(),
                receiver,
            },
            at,
            key,
        );
    }

    /// The method's name, as the SQL pass of the same call left it.
    fn method_name(&mut self, call: &ExprMethodCall) -> String {
        match self.flow.method_name.take() {
            Some((named, method)) if named == node_key(call) => method,
            _ => call.method.to_string(),
        }
    }

    fn flow_method_call(&mut self, call: &ExprMethodCall, method: String) {
        let key = node_key(call);
        let range = At::Method(call);
        let receiver = receiver_name(&call.receiver).map(|name| {
            self.flow
                .stack
                .last()
                .and_then(|b| b.aliases.get(&name))
                .cloned()
                .unwrap_or(name)
        });
        let receiver_lower = receiver.as_deref().map(str::to_ascii_lowercase);
        let receiver_has = |needle: &str| {
            receiver_lower
                .as_deref()
                .is_some_and(|r| r.contains(needle))
        };

        // Outbox helpers before publishes: `self.outbox.publish(evt)` is an outbox write.
        if receiver_has("outbox") && !matches!(method.as_str(), "clone" | "lock") {
            self.push_effect(EffectKind::OutboxWrite, range, key);
            self.publish_sink(&call.args);
            return;
        }

        // `.bind(Json(&event))`: a value serialized into a row (an outbox payload).
        if method == "bind" {
            let mut value = call.args.first();
            while let Some(
                Expr::Try(syn::ExprTry { expr, .. })
                | Expr::Reference(syn::ExprReference { expr, .. }),
            ) = value
            {
                value = Some(expr);
            }
            if let Some(Expr::Call(json)) = value {
                if let Expr::Path(p) = json.func.as_ref() {
                    let span = self.effect_span(At::Call(json));
                    if p.path.segments.last().is_some_and(|s| s.ident == "Json") {
                        self.payload_sink(span, true, &json.args);
                        self.row_strings(span, &call.receiver);
                    } else if is_serializer(&path_segments(&p.path)) {
                        // `.bind(serde_json::to_value(&event)?)`: the serializer's own sink
                        // is recorded when the argument is visited.
                        self.row_strings(span, &call.receiver);
                    }
                }
            }
        }

        // `tx.commit()` / `tx.rollback()`: the end of a database transaction (`let _ =`
        // throws a commit's result away).
        let bound_transaction = receiver.as_deref().is_some_and(|r| {
            self.flow
                .stack
                .last()
                .is_some_and(|b| b.transactions.contains(r))
        });
        if matches!(method.as_str(), "commit" | "rollback")
            && call.args.is_empty()
            && (bound_transaction
                || receiver_lower.as_deref().is_some_and(|r| {
                    r == "tx"
                        || r.ends_with("_tx")
                        || r.starts_with("tx_")
                        || r.contains("txn")
                        || r.contains("transaction")
                }))
        {
            let kind = if method == "commit" {
                EffectKind::Commit {
                    discarded: self.flow.discarded.contains(&key),
                }
            } else {
                EffectKind::Rollback
            };
            self.push_effect(kind, range, key);
            return;
        }

        // `pool.begin()`, `client.transaction()`: a database transaction opened on a pool.
        if matches!(
            method.as_str(),
            "begin"
                | "begin_transaction"
                | "start_transaction"
                | "transaction"
                | "build_transaction"
        ) && self.has_dependency(&[
            "sqlx",
            "tokio_postgres",
            "deadpool_postgres",
            "postgres",
            "sea_orm",
            "mysql_async",
            "rusqlite",
            "diesel",
            "diesel_async",
        ]) {
            self.push_effect(EffectKind::Begin { receiver }, range, key);
            return;
        }

        // A blocking client's request (`reqwest::blocking`, a `ureq::Agent`) blocks the calling
        // thread; a mutating one is also a call to another service (recorded below).
        if HttpMethod::parse(&method).is_some() && call.args.len() == 1 {
            let known = receiver
                .as_deref()
                .and_then(|r| self.flow.blocking_clients.get(r))
                .cloned();
            let agent = self.has_dependency(&["ureq"])
                && (receiver_has("agent")
                    || (receiver_has("client") || receiver_has("http"))
                        && !self.has_dependency(ASYNC_HTTP_CLIENT_CRATES));
            let client = known.or_else(|| agent.then(|| "ureq::Agent".to_string()));
            if let Some(client) = client {
                let api = format!("{client}::{method}");
                self.push_effect(EffectKind::Blocking { api }, range, key);
            }
        }

        // salvo: `Router::with_path("orders").post(create_order)`.
        if let Some(http) = HttpMethod::parse(&method) {
            if call.args.len() == 1 && self.has_dependency(&["salvo"]) {
                if let Some(path) = salvo_router_path(&call.receiver) {
                    let handler = &call.args[0];
                    let path = path.and_then(|p| self.resolve(p)).map(|r| r.text);
                    if let Expr::Path(p) = handler {
                        if let Some(name) = p.path.segments.last() {
                            let span = self.span(self.range_of(name.ident.span()));
                            self.facts.routes.push(Route {
                                crate_id: self.cx.krate.id,
                                method: http,
                                path,
                                handler: name.ident.to_string(),
                                span,
                            });
                        }
                    }
                    return;
                }
            }
        }

        // HTTP calls to other services.
        if let Some(http) = HttpMethod::parse(&method).filter(|m| m.is_mutating()) {
            if call.args.len() == 1 && self.has_http_client() && !is_method_router(&call.receiver) {
                self.http_call(http, &call.args[0], range, key);
            }
            return;
        }
        if method == "request" && call.args.len() == 2 && self.has_http_client() {
            let verb = match &call.args[0] {
                Expr::Path(p) => p
                    .path
                    .segments
                    .last()
                    .and_then(|s| HttpMethod::parse(&s.ident.to_string())),
                _ => None,
            };
            if let Some(http) = verb.filter(|m| m.is_mutating()) {
                self.http_call(http, &call.args[1], range, key);
            }
            return;
        }

        // Route registrations: axum and actix `.route(path, post(h))`, poem `.at(path, post(h))`.
        if matches!(method.as_str(), "route" | "at") && call.args.len() == 2 {
            let path = self.resolve(&call.args[0]).map(|r| r.text);
            let mut handlers = Vec::new();
            method_router(&call.args[1], &mut handlers);
            for (http, handler, bounds) in handlers {
                let span = self.span(self.bounds_range(bounds));
                self.facts.routes.push(Route {
                    crate_id: self.cx.krate.id,
                    method: http,
                    path: path.clone(),
                    handler,
                    span,
                });
            }
            return;
        }

        // Publishes.
        let publish = match method.as_str() {
            "send" | "send_result" | "produce" => {
                let record = call.args.iter().find_map(record_topic);
                match record {
                    Some(topic) => Some((Broker::Kafka, self.destination(topic))),
                    None if receiver_has("producer")
                        || receiver_has("kafka") && self.has_dependency(&["rdkafka"]) =>
                    {
                        let topic = self
                            .flow
                            .stack
                            .last()
                            .and_then(|b| b.last_record_topic.clone());
                        Some((Broker::Kafka, topic))
                    }
                    None => None,
                }
            }
            "basic_publish" => {
                let exchange = call.args.first().and_then(|a| self.destination(a));
                let key = call.args.iter().nth(1).and_then(|a| self.destination(a));
                let destination = match (exchange, key) {
                    (Some(e), Some(k)) if !e.is_empty() => Some(format!("{e}/{k}")),
                    (_, Some(k)) => Some(k),
                    (Some(e), None) => Some(e),
                    _ => None,
                };
                Some((Broker::Amqp, destination))
            }
            "send_message" | "send_message_batch"
                if self.has_dependency(&["aws_sdk_sqs", "rusoto_sqs"]) =>
            {
                Some((Broker::Sqs, None))
            }
            "xadd" | "xadd_map" | "xadd_maxlen" | "xadd_options" => {
                let stream = call.args.first().and_then(|a| self.destination(a));
                Some((Broker::Redis, stream))
            }
            "publish" if call.args.is_empty() && self.has_dependency(&["aws_sdk_sns"]) => {
                Some((Broker::Sns, None))
            }
            // `publisher.publish(PubsubMessage { .. })`, `topic.new_publisher(..).publish(..)`.
            "publish" | "publish_bulk" | "publish_immediately"
                if self.has_dependency(&["google_cloud_pubsub"])
                    && (receiver_has("publisher") || receiver_has("topic")) =>
            {
                Some((Broker::PubSub, None))
            }
            // `socket.emit("/", ..)`, `io.to(room).emit(..)`: socket.io pushes to the clients
            // connected to this process; no broker carries it.
            _ if method.starts_with("emit")
                && self.has_dependency(&["socketioxide", "rust_socketio"])
                && receiver_lower.as_deref().is_some_and(|r| {
                    crate::behaviour::name_words(r)
                        .iter()
                        .any(|w| matches!(w.as_str(), "socket" | "io" | "sio" | "ws"))
                }) =>
            {
                return;
            }
            _ if is_publisher_name(&method) => {
                let broker = if self.has_dependency(&["async_nats", "nats"]) {
                    Broker::Nats
                } else if receiver_has("redis")
                    || receiver_has("conn") && self.has_dependency(&["redis"])
                {
                    Broker::Redis
                } else if self.has_dependency(&["lapin"]) && receiver_has("channel") {
                    Broker::Amqp
                } else {
                    Broker::Wrapper
                };
                let destination = if broker == Broker::Wrapper {
                    self.wrapper_destination(&call.args)
                } else {
                    call.args.first().and_then(|a| self.destination(a))
                };
                Some((broker, destination))
            }
            _ => None,
        };
        if let Some((broker, destination)) = publish {
            self.push_effect(
                EffectKind::Publish {
                    broker,
                    destination,
                },
                range,
                key,
            );
            self.publish_sink(&call.args);
            if broker == Broker::Wrapper {
                self.wrapper_call(&method, receiver, range, key);
            }
            return;
        }

        // Consumers.
        let first_string = |s: &mut Self| {
            call.args.first().and_then(|a| match a {
                Expr::Reference(r) => match r.expr.as_ref() {
                    Expr::Array(arr) => arr.elems.first().and_then(|e| s.destination(e)),
                    other => s.destination(other),
                },
                Expr::Array(arr) => arr.elems.first().and_then(|e| s.destination(e)),
                other => s.destination(other),
            })
        };
        let consume = match method.as_str() {
            // `subscription.pull(10, None)`, `subscription.receive(|message, cancel| .., ..)`.
            "pull" | "receive" | "subscribe"
                if self.has_dependency(&["google_cloud_pubsub"])
                    && (receiver_has("subscription") || receiver_has("subscriber")) =>
            {
                Some((Broker::PubSub, None))
            }
            "subscribe" | "queue_subscribe" | "psubscribe" => {
                let broker = if self.has_dependency(&["rdkafka"]) {
                    Some(Broker::Kafka)
                } else if self.has_dependency(&["async_nats", "nats"]) {
                    Some(Broker::Nats)
                } else if self.has_dependency(&["redis", "fred"]) {
                    Some(Broker::Redis)
                } else {
                    None
                };
                broker.map(|b| (b, first_string(self)))
            }
            "basic_consume" => Some((Broker::Amqp, first_string(self))),
            "receive_message" if self.has_dependency(&["aws_sdk_sqs", "rusoto_sqs"]) => {
                Some((Broker::Sqs, None))
            }
            "xread_options" | "xreadgroup" | "xread_group" => Some((Broker::Redis, None)),
            "messages" | "fetch" | "stream" | "recv"
                if receiver_has("consumer")
                    && self.has_dependency(&["async_nats", "rdkafka", "nats"]) =>
            {
                let broker = if self.has_dependency(&["rdkafka"]) {
                    Broker::Kafka
                } else {
                    Broker::Nats
                };
                Some((broker, None))
            }
            _ => None,
        };
        if let Some((broker, source)) = consume {
            self.push_effect(EffectKind::Consume { broker, source }, range, key);
            return;
        }

        // `ledger.post_transaction(.., &idempotency_key, ..)`: the key handed to the client
        // that sends the request.
        let hands_key = call.args.iter().any(|arg| {
            let arg = match arg {
                Expr::Reference(r) => r.expr.as_ref(),
                other => other,
            };
            matches!(arg, Expr::Path(p) if p.path.get_ident().is_some_and(|i| {
                i.to_string().to_ascii_lowercase().contains("idempotency")
            }))
        });
        if hands_key {
            self.push_effect(EffectKind::IdempotencyKeySent, range, key);
        }

        // A header set on a request or response names a key sent, not one read.
        if matches!(
            method.as_str(),
            "header"
                | "set"
                | "insert"
                | "append"
                | "insert_header"
                | "append_header"
                | "set_header"
        ) {
            let name = match (call.args.len(), call.args.first()) {
                (2, Some(name)) => Some(name),
                (1, Some(Expr::Tuple(pair))) if pair.elems.len() == 2 => pair.elems.first(),
                _ => None,
            };
            if let Some(Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            })) = name
            {
                let start = self.start_of(lit.span());
                self.flow.header_writes.insert(start);
                if lit.value().to_ascii_lowercase().contains("idempotency") {
                    self.push_effect(EffectKind::IdempotencyKeySent, range, key);
                }
            }
        }

        // Idempotency guards.
        match method.as_str() {
            "set_nx" | "hset_nx" | "setnx" | "conditional_set" => {
                self.push_effect(EffectKind::SetIfAbsent, range, key);
                return;
            }
            "arg" if call.args.len() == 1 => {
                if self
                    .resolve(&call.args[0])
                    .is_some_and(|r| r.text.eq_ignore_ascii_case("NX"))
                {
                    self.push_effect(EffectKind::SetIfAbsent, range, key);
                }
                return;
            }
            "get" | "try_get" | "get_timeout"
                if call.args.len() <= 1
                    && receiver_has("pool")
                    && !self.flow.awaited.contains(&key)
                    && (self.has_dependency(&["r2d2", "r2d2_postgres", "r2d2_sqlite"])
                        || self.has_dependency(&["diesel"])
                            && !self.has_dependency(&[
                                "diesel_async",
                                "deadpool",
                                "deadpool_diesel",
                                "bb8",
                                "mobc",
                            ])) =>
            {
                // r2d2 waits for a free connection on the calling thread.
                self.push_effect(
                    EffectKind::Blocking {
                        api: format!("r2d2::Pool::{method}"),
                    },
                    range,
                    key,
                );
                return;
            }
            "get" | "get_all" | "typed_get" | "header" | "contains_key" => {
                let reads_key = call.args.first().is_some_and(|a| match a {
                    Expr::Path(p) => p.path.segments.last().is_some_and(|s| {
                        s.ident
                            .to_string()
                            .to_ascii_lowercase()
                            .contains("idempotency")
                    }),
                    _ => false,
                });
                if reads_key {
                    self.push_effect(EffectKind::IdempotencyKey, range, key);
                }
                return;
            }
            _ => {}
        }

        // ORM writes, recorded at the call that runs them; on a sync connection (diesel's
        // `RunQueryDsl` without diesel-async) the same call is also blocking I/O.
        let write = self.orm_write(call, &method);
        let blocking = self.sync_database_call(call, &method, key);
        if write.is_some() || blocking.is_some() {
            if let Some((api, effect)) = write {
                let outbox =
                    crate::behaviour::orm_write_table(&api).is_some_and(|t| is_outbox_table(&t));
                self.push_effect(EffectKind::OrmWrite { api, effect }, range, key);
                if outbox {
                    // The row: `outbox::ActiveModel { subject: .., payload: .. }`,
                    // `.values(&NewOutboxRow { .. })`.
                    self.publish_sink([call.receiver.as_ref()].into_iter().chain(&call.args));
                }
            }
            if let Some(api) = blocking {
                self.push_effect(EffectKind::Blocking { api }, range, key);
            }
            return;
        }

        // Typed and gRPC clients of other services.
        let is_grpc = receiver
            .as_deref()
            .is_some_and(|r| self.flow.grpc_bindings.contains(r));
        // A generated client's methods are the service's RPCs, whatever their names
        // (`commit`, `get`, `send`): only the generated plumbing is no call.
        let plumbing = if is_grpc {
            GRPC_CLIENT_PLUMBING.binary_search(&method.as_str()).is_ok()
        } else {
            CLIENT_PLUMBING.binary_search(&method.as_str()).is_ok()
                || PLUMBING.binary_search(&method.as_str()).is_ok()
        };
        if (is_grpc || receiver_has("client") || receiver_has("stub"))
            && !plumbing
            && !method.starts_with("with_")
        {
            let protocol = if is_grpc {
                RemoteProtocol::Grpc
            } else {
                RemoteProtocol::Client
            };
            self.push_effect(
                EffectKind::Remote {
                    protocol,
                    method: None,
                    operation: method,
                    target: receiver,
                },
                range,
                key,
            );
            return;
        }
        // `sqlx::query(..).execute(&pool)`, `client.execute("UPDATE ..", ..)`: the SQL is
        // recorded as a query; the method is no call into the project.
        if is_sql_execution(call, &method) {
            return;
        }
        // `mailer.send(email)`: a message leaves the service (`send` is plumbing elsewhere);
        // `publisher.send(Publish { .. })` hands a message to an actor, whose `handle` runs it.
        let to_actor = crate::behaviour::ACTOR_SENDS.contains(&method.as_str())
            && receiver.is_some()
            && self.has_dependency(ACTOR_CRATES);
        if to_actor
            || method == "send"
                && receiver_lower
                    .as_deref()
                    .is_some_and(crate::behaviour::is_mail_sender)
        {
            self.push_effect(
                EffectKind::Call {
                    name: method,
                    receiver,
                },
                range,
                key,
            );
            return;
        }
        let object = self.may_hold_object(&call.receiver);
        self.call_effect(&method, receiver, object, &call.args, range, key);
    }

    /// The crate depends on an HTTP client (`ureq` included).
    fn has_http_client(&self) -> bool {
        self.has_dependency(ASYNC_HTTP_CLIENT_CRATES) || self.has_dependency(&["ureq"])
    }

    /// A mutating HTTP request to the URL `url`, when it reads as a URL.
    fn http_call(&mut self, method: HttpMethod, url: &Expr, at: At<'_>, key: usize) {
        if let Some((operation, target)) = self.url_argument(url) {
            let kind = EffectKind::Remote {
                protocol: RemoteProtocol::Http,
                method: Some(method),
                operation,
                target,
            };
            self.push_effect(kind, at, key);
        }
    }

    /// A sync database driver call (the `postgres`, `rusqlite` or sync diesel API), when the
    /// crate has no async variant of it and the call is not awaited.
    fn sync_database_call(
        &self,
        call: &ExprMethodCall,
        method: &str,
        key: usize,
    ) -> Option<String> {
        if self.flow.awaited.contains(&key) {
            return None;
        }
        let diesel_run = matches!(
            method,
            "load" | "get_result" | "get_results" | "first" | "execute"
        );
        if diesel_run
            && self.has_dependency(&["diesel"])
            && !self.has_dependency(&["diesel_async"])
            && call.args.len() == 1
            && chain_has_diesel_query(&call.receiver)
        {
            return Some(format!("diesel::RunQueryDsl::{method} (sync connection)"));
        }
        let sql_method = matches!(
            method,
            "query"
                | "query_one"
                | "query_opt"
                | "execute"
                | "batch_execute"
                | "query_row"
                | "prepare"
        );
        if sql_method && !call.args.is_empty() {
            if self.has_dependency(&["postgres"]) && !self.has_dependency(&["tokio_postgres"]) {
                return Some(format!("postgres::Client::{method}"));
            }
            if self.has_dependency(&["rusqlite"])
                && !self.has_dependency(&["tokio_rusqlite", "deadpool_sqlite", "async_sqlite"])
            {
                return Some(format!("rusqlite::Connection::{method}"));
            }
        }
        None
    }

    /// diesel `insert_into(..).values(..).execute(conn)` and sea-orm `X::insert(..).exec(db)`,
    /// `model.insert(db)`.
    fn orm_write(&self, call: &ExprMethodCall, method: &str) -> Option<(String, StatementEffect)> {
        let runs = matches!(
            method,
            "execute"
                | "get_result"
                | "get_results"
                | "exec"
                | "exec_with_returning"
                | "exec_without_returning"
        );
        if runs {
            let mut methods = Vec::new();
            let mut root = chain_root(&call.receiver, &mut methods);
            if let Expr::Path(local) = root {
                if let Some(built) = local
                    .path
                    .get_ident()
                    .and_then(|i| self.flow.orm_statements.get(&i.to_string()))
                {
                    root = chain_root(built, &mut methods);
                }
            }
            let Expr::Call(root) = root else {
                return None;
            };
            let Expr::Path(func) = root.func.as_ref() else {
                return None;
            };
            let segs = path_segments(&func.path);
            let last = segs.last()?.as_str();
            let upsert = methods.iter().any(|m| {
                matches!(
                    m.as_str(),
                    "on_conflict"
                        | "on_conflict_do_nothing"
                        | "do_nothing"
                        | "do_update"
                        | "on_duplicate_key_update"
                )
            });
            let effect = match last {
                // `.on_conflict(..).do_update().set(qty.eq(qty + 1))`: a retry adds again.
                "insert_into" | "insert" | "insert_many"
                    if upsert && relative_orm_update(&call.receiver) =>
                {
                    StatementEffect::RelativeUpdate
                }
                "insert_into" | "insert" | "insert_many" if upsert => StatementEffect::Upsert,
                "insert_into" | "insert" | "insert_many" => StatementEffect::Insert,
                "replace_into" => StatementEffect::Upsert,
                "update" | "update_many" => {
                    if relative_orm_update(&call.receiver) {
                        StatementEffect::RelativeUpdate
                    } else {
                        StatementEffect::AbsoluteUpdate
                    }
                }
                "delete" | "delete_many" | "delete_by_id" => StatementEffect::Delete,
                _ => return None,
            };
            // `diesel::insert_into(orders)`: the table names what the write touches.
            // sea-orm `processed_message::Entity::insert(..)`: the entity's module.
            let entity_module = (segs.len() >= 3 && segs[segs.len() - 2] == "Entity")
                .then(|| segs[segs.len() - 3].clone());
            let table = entity_module.or_else(|| root.args.first().and_then(orm_target_table));
            let api = match table {
                Some(table) => format!("{}({table})", segs.join("::")),
                None => segs.join("::"),
            };
            return Some((api, effect));
        }
        if let Some(write) = self.mongo_write(call, method) {
            return Some(write);
        }
        // sea-orm active models: `order.insert(&db)`, `model.save(&txn)`.
        if matches!(method, "insert" | "save" | "update" | "delete")
            && call.args.len() == 1
            && self.has_dependency(&["sea_orm"])
        {
            let db_arg = receiver_name(&call.args[0]).is_some_and(|n| {
                let n = n.to_ascii_lowercase();
                n.contains("db") || n.contains("conn") || n.contains("txn") || n == "tx"
            });
            if db_arg {
                let effect = match method {
                    "insert" => StatementEffect::Insert,
                    "save" => StatementEffect::Upsert,
                    "update" => StatementEffect::AbsoluteUpdate,
                    _ => StatementEffect::Delete,
                };
                // `processed_message::ActiveModel { .. }.insert(&txn)`: the entity's module.
                let entity_module = match &*call.receiver {
                    Expr::Struct(st) => active_model_module(&st.path, self.module.last()),
                    Expr::Path(p) => p
                        .path
                        .get_ident()
                        .and_then(|local| self.flow.active_models.get(&local.to_string()))
                        .cloned(),
                    _ => None,
                };
                let api = match entity_module {
                    Some(table) => format!("sea_orm {method}({table})"),
                    None => format!("sea_orm `{method}`"),
                };
                return Some((api, effect));
            }
        }
        None
    }

    /// The operation (URL path, holes as `{}`) and target (host or base-URL name) of a URL
    /// argument. `None` when the argument does not read as a URL.
    fn url_argument(&mut self, expr: &Expr) -> Option<(String, Option<String>)> {
        let expr = url_expression(expr);
        if let Some((path, base)) = self.joined_url(expr) {
            return Some((path, base.or_else(|| url_base_name(expr))));
        }
        // `base.join(path)?` with a path known only at run time: the base names the service.
        if let Expr::MethodCall(join) = expr {
            if join.method == "join" && join.args.len() == 1 {
                return self.url_argument(&join.receiver);
            }
        }
        let base_name = url_base_name(expr);
        match self.resolve(expr) {
            Some(resolved) => {
                let text = resolved.text;
                let (host, path) = match text.split_once("://") {
                    Some((_, rest)) => match rest.find('/') {
                        Some(slash) => (Some(rest[..slash].to_owned()), rest[slash..].to_owned()),
                        None => (Some(rest.to_owned()), String::new()),
                    },
                    None if text.starts_with('/') || text.starts_with('{') => (None, text.clone()),
                    None => return None,
                };
                let host = host.map(|h| {
                    h.split(':')
                        .next()
                        .unwrap_or(&h)
                        .trim_start_matches('{')
                        .trim_end_matches('}')
                        .to_owned()
                });
                let target = host.filter(|h| !h.is_empty()).or(base_name);
                let path = strip_leading_hole(&path);
                Some((path, target))
            }
            None => {
                let name = base_name?;
                let lower = name.to_ascii_lowercase();
                let urlish = ["url", "uri", "endpoint", "addr", "base", "href", "link"]
                    .iter()
                    .any(|w| lower.contains(w));
                urlish.then(|| (String::new(), Some(name)))
            }
        }
    }

    /// A write through the MongoDB driver's `Collection`: `users.insert_one(user, None)`,
    /// `db.collection::<Order>("orders").update_one(filter, doc! { "$inc": .. }, None)`. The
    /// method names are the driver's own and are only read in crates that depend on it.
    fn mongo_write(
        &self,
        call: &ExprMethodCall,
        method: &str,
    ) -> Option<(String, StatementEffect)> {
        let driver_method = matches!(
            method,
            "insert_one"
                | "insert_many"
                | "update_one"
                | "update_many"
                | "find_one_and_update"
                | "replace_one"
                | "find_one_and_replace"
                | "delete_one"
                | "delete_many"
                | "find_one_and_delete"
        );
        if !driver_method || call.args.is_empty() || !self.has_dependency(&["mongodb"]) {
            return None;
        }
        let effect = match method {
            "insert_one" | "insert_many" => StatementEffect::Insert,
            "update_one" | "update_many" | "find_one_and_update" => {
                // `$inc`/`$push` change the document again on every run; `$set` does not.
                let relative = call.args.iter().skip(1).take(1).any(|update| {
                    let text = quote::ToTokens::to_token_stream(update).to_string();
                    ["\"$inc\"", "\"$push\"", "\"$mul\""]
                        .iter()
                        .any(|op| text.contains(op))
                });
                if relative {
                    StatementEffect::RelativeUpdate
                } else {
                    StatementEffect::AbsoluteUpdate
                }
            }
            "replace_one" | "find_one_and_replace" => StatementEffect::AbsoluteUpdate,
            _ => StatementEffect::Delete,
        };
        let api = match self.mongo_collection(&call.receiver) {
            Some(collection) => format!("mongodb {method}({collection})"),
            None => format!("mongodb `{method}`"),
        };
        Some((api, effect))
    }

    /// The collection a MongoDB receiver names: `db.collection::<T>("users")`, a helper
    /// called with the name (`get_collection::<T>(session, "users")`), or a local bound to
    /// either.
    pub(super) fn mongo_collection(&self, receiver: &Expr) -> Option<String> {
        let name_argument = |args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>| {
            args.iter().rev().find_map(|arg| match arg {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(lit), ..
                }) => Some(lit.value()),
                _ => None,
            })
        };
        match receiver {
            Expr::MethodCall(m) if m.method.to_string().contains("collection") => {
                name_argument(&m.args)
            }
            Expr::MethodCall(m) => self.mongo_collection(&m.receiver),
            Expr::Call(c) => match c.func.as_ref() {
                Expr::Path(p)
                    if p.path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident.to_string().contains("collection")) =>
                {
                    name_argument(&c.args)
                }
                _ => None,
            },
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|local| self.flow.mongo_collections.get(&local.to_string()))
                .cloned(),
            Expr::Reference(r) => self.mongo_collection(&r.expr),
            Expr::Paren(p) => self.mongo_collection(&p.expr),
            Expr::Await(a) => self.mongo_collection(&a.base),
            Expr::Try(t) => self.mongo_collection(&t.expr),
            _ => None,
        }
    }

    /// Records the collection a local holds, when its initialiser names one.
    pub(super) fn flow_mongo_collection(&mut self, name: &str, init: &Expr) {
        match self.mongo_collection(init) {
            Some(collection) => self
                .flow
                .mongo_collections
                .insert(name.to_owned(), collection),
            None => self.flow.mongo_collections.remove(name),
        };
    }

    /// Records a local bound to an ORM statement builder (`Entity::insert(..)`,
    /// `diesel::update(..)`) so that running it later is the write it builds.
    pub(super) fn flow_orm_statement(&mut self, name: &str, init: &Expr) {
        let mut methods = Vec::new();
        let builds = match chain_root(init, &mut methods) {
            Expr::Call(call) => matches!(call.func.as_ref(), Expr::Path(p)
            if p.path.segments.len() >= 2
                && p.path.segments.last().is_some_and(|s| matches!(
                    s.ident.to_string().as_str(),
                    "insert" | "insert_many" | "update" | "update_many" | "delete_many"
                        | "delete_by_id" | "insert_into" | "delete"
                ))),
            _ => false,
        };
        if builds {
            self.flow
                .orm_statements
                .insert(name.to_owned(), init.clone());
        } else {
            self.flow.orm_statements.remove(name);
        }
    }

    /// Records the entity of a local active model: from the `let`'s type
    /// (`let mut row: outbox::ActiveModel = model.into()`) or its struct literal.
    pub(super) fn flow_active_model(&mut self, name: &str, ty: Option<&syn::Type>, init: &Expr) {
        let from_type = match ty {
            Some(syn::Type::Path(tp)) => active_model_module(&tp.path, self.module.last()),
            _ => None,
        };
        let module = from_type.or_else(|| match init {
            Expr::Struct(st) => active_model_module(&st.path, self.module.last()),
            _ => None,
        });
        match module {
            Some(module) => self.flow.active_models.insert(name.to_owned(), module),
            None => self.flow.active_models.remove(name),
        };
    }

    /// `base.join("/v1/reservations")?`, `base.join(&format!("x/{id}"))?`: the path joined to
    /// a base URL, with the base's name.
    pub(super) fn joined_url(&mut self, expr: &Expr) -> Option<(String, Option<String>)> {
        let Expr::MethodCall(m) = url_expression(expr) else {
            return None;
        };
        if m.method != "join" || m.args.len() != 1 {
            return None;
        }
        let text = self.resolve(url_expression(&m.args[0]))?.text;
        if text.len() < 2 || text.contains("://") || text.starts_with('{') {
            return None;
        }
        let path = if text.starts_with('/') {
            text
        } else {
            format!("/{text}")
        };
        let base = receiver_name(&m.receiver).or_else(|| url_base_name(&m.receiver));
        Some((path, base))
    }

    /// Records the tonic client bindings of a `let`: `let mut c = InventoryClient::connect(..)`.
    pub(super) fn flow_binding(&mut self, name: &str, init: &Expr) {
        let mut methods = Vec::new();
        let root = chain_root(init, &mut methods);
        // `let repo = InvoiceRepo::new(pool)`, `let store = &state.orders`: a project object.
        let plain = methods.iter().all(|m| {
            matches!(
                m.as_str(),
                "clone" | "as_ref" | "lock" | "read" | "write" | "unwrap" | "expect"
            )
        });
        let object = plain
            && match root {
                Expr::Field(_) => true,
                Expr::Reference(r) => matches!(r.expr.as_ref(), Expr::Field(_)),
                Expr::Struct(s) => constructed_type(&s.path, None, false).is_some(),
                Expr::Call(call) => match call.func.as_ref() {
                    Expr::Path(p) => {
                        let segs = path_segments(&p.path);
                        segs.len() >= 2
                            && is_pascal(&segs[segs.len() - 2])
                            && !CONTAINER_TYPES.contains(&segs[segs.len() - 2].as_str())
                    }
                    _ => false,
                },
                _ => false,
            };
        // `let t1 = pool.begin().await?`: a transaction, whatever its name.
        let opens_transaction = methods.iter().any(|m| {
            matches!(
                m.as_str(),
                "begin" | "begin_transaction" | "start_transaction" | "transaction"
            )
        });
        // `let mut c = self.inner.clone()`: the field under another name.
        let alias = (plain && matches!(root, Expr::Field(_)))
            .then(|| receiver_name(init))
            .flatten();
        if let Some(builder) = self.flow.stack.last_mut() {
            if object {
                builder.objects.insert(name.to_owned());
            } else {
                builder.objects.remove(name);
            }
            if opens_transaction {
                builder.transactions.insert(name.to_owned());
            } else {
                builder.transactions.remove(name);
            }
            match alias {
                Some(field) if field != name => {
                    builder.aliases.insert(name.to_owned(), field);
                }
                _ => {
                    builder.aliases.remove(name);
                }
            }
        }
        if let Expr::Call(call) = root {
            if let Expr::Path(p) = call.func.as_ref() {
                let segs = path_segments(&p.path);
                if let Some(client) = blocking_client(&segs) {
                    self.flow.blocking_clients.insert(name.to_owned(), client);
                }
                // Generated clients are `<Service>Client`; a bare `Client` is an SDK's
                // (`aws_sdk_sqs::Client`, `reqwest::Client`, `redis::Client`).
                let client_type = segs.len() >= 2 && {
                    let ty = &segs[segs.len() - 2];
                    ty.len() > "Client".len() && ty.ends_with("Client")
                };
                let constructor = matches!(
                    segs.last().map(String::as_str),
                    Some("connect" | "new" | "with_origin" | "with_interceptor" | "from_shared")
                );
                if client_type && constructor {
                    self.flow.grpc_bindings.insert(name.to_owned());
                }
            }
        }
    }

    /// Struct fields holding a generated gRPC client (`flights: FlightsClient<Channel>`):
    /// calls through them (`self.flights.clone().reserve_seat(..)`) go to another service.
    pub(super) fn flow_client_fields(&mut self, item: &syn::ItemStruct) {
        for field in &item.fields {
            let (Some(ident), syn::Type::Path(ty)) = (&field.ident, &field.ty) else {
                continue;
            };
            let Some(last) = ty.path.segments.last() else {
                continue;
            };
            let generic = matches!(last.arguments, syn::PathArguments::AngleBracketed(_));
            let name = last.ident.to_string();
            let name = self.renamed.get(&name).cloned().unwrap_or(name);
            let type_segs = path_segments(&ty.path);
            if let Some(client) = blocking_client(&type_segs) {
                self.flow.blocking_clients.insert(ident.to_string(), client);
            }
            if generic && name.len() > "Client".len() && name.ends_with("Client") {
                self.flow.grpc_bindings.insert(ident.to_string());
                self.facts.client_fields.push(ClientField {
                    crate_id: self.cx.krate.id,
                    name: ident.to_string(),
                    client: name,
                });
            }
        }
    }

    pub(super) fn flow_type(
        &mut self,
        ident: &syn::Ident,
        attrs: &[Attribute],
        kind: TypeShape<'_>,
    ) {
        if derives(attrs, &["Deserialize"]) {
            self.facts.deserialized_types.push(ident.to_string());
        }
        if !derives(attrs, &["Serialize"]) {
            return;
        }
        let mut serde_names = Vec::new();
        serde_strings(attrs, &mut serde_names);
        let mut fields = Vec::new();
        let mut field_types = Vec::new();
        let mut variants = Vec::new();
        let mut field_names =
            |fields_of: &syn::Fields, out: &mut Vec<String>, names: &mut Vec<String>| {
                for field in fields_of {
                    let name = field
                        .ident
                        .as_ref()
                        .map(|i| i.to_string().to_ascii_lowercase());
                    let mut types = Vec::new();
                    type_names(&field.ty, &mut types);
                    field_types.push((name.clone().unwrap_or_default(), types));
                    out.extend(name);
                    serde_strings(&field.attrs, names);
                }
            };
        let is_enum = match kind {
            TypeShape::Struct(s) => {
                field_names(&s.fields, &mut fields, &mut serde_names);
                false
            }
            TypeShape::Enum(e) => {
                for variant in &e.variants {
                    variants.push(variant.ident.to_string());
                    serde_strings(&variant.attrs, &mut serde_names);
                    field_names(&variant.fields, &mut fields, &mut serde_names);
                }
                true
            }
        };
        let span = self.span(self.range_of(ident.span()));
        self.facts.types.push(TypeDecl {
            crate_id: self.cx.krate.id,
            name: ident.to_string(),
            span,
            is_enum,
            fields,
            variants,
            serde_names,
            field_types,
        });
    }
}

pub(super) enum TypeShape<'a> {
    Struct(&'a syn::ItemStruct),
    Enum(&'a syn::ItemEnum),
}

/// Step-object method pairs: the forward action and its compensation.
pub const STEP_METHODS: &[(&str, &str)] = &[
    ("execute", "compensate"),
    ("run", "compensate"),
    ("invoke", "compensate"),
    ("action", "compensation"),
    ("forward", "backward"),
    ("do_step", "undo_step"),
    ("apply", "revert"),
    ("apply", "rollback"),
    ("execute", "rollback"),
    ("commit", "rollback"),
    ("r#do", "undo"),
    ("perform", "undo"),
    ("execute", "undo"),
    ("run", "undo"),
];

/// Names of project publishers: `publish`, `publish_event`, `emit`, `emit_event`,
/// `send_event`, `dispatch_event`, `produce`.
fn is_publisher_name(name: &str) -> bool {
    name.starts_with("publish")
        || name == "emit"
        || name.starts_with("emit_")
        || name.starts_with("send_event")
        || name.starts_with("send_command")
        || name.starts_with("dispatch_event")
        || name.starts_with("produce_")
}

/// A database driver running SQL: `execute`/`fetch*` on a `query(..)`/`query!(..)` chain, or
/// with a literal or `CONST` SQL first argument.
fn is_sql_execution(call: &ExprMethodCall, method: &str) -> bool {
    const RUNS: &[&str] = &[
        "execute",
        "execute_many",
        "fetch",
        "fetch_all",
        "fetch_many",
        "fetch_one",
        "fetch_optional",
        "query",
        "query_one",
        "query_opt",
        "batch_execute",
        "simple_query",
    ];
    if !RUNS.contains(&method) {
        return false;
    }
    let sql_argument = call.args.first().is_some_and(|a| match a {
        Expr::Lit(ExprLit {
            lit: Lit::Str(_), ..
        }) => true,
        Expr::Path(p) => p.path.segments.last().is_some_and(|s| {
            let name = s.ident.to_string();
            name.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        }),
        _ => false,
    });
    let mut methods = Vec::new();
    let sql_chain = match chain_root(&call.receiver, &mut methods) {
        Expr::Call(c) => {
            matches!(c.func.as_ref(), Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident.to_string().starts_with("query") || s.ident == "sql_query" || s.ident == "raw_sql"))
        }
        Expr::Macro(m) => m
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident.to_string().starts_with("query")),
        _ => false,
    };
    sql_argument || sql_chain
}

/// The table a diesel statement targets: `orders::table`, `orders::table.find(id)`, `orders`
/// (from `dsl::*`), `schema::orders::table`.
fn orm_target_table(arg: &Expr) -> Option<String> {
    let mut methods = Vec::new();
    let Expr::Path(p) = chain_root(arg, &mut methods) else {
        return None;
    };
    let segs = path_segments(&p.path);
    let mut names = segs.iter().rev().filter(|s| *s != "table");
    let name = names.next()?;
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        .then(|| name.clone())
}

/// The topic expression of a `FutureRecord::to(topic)` (possibly followed by builder calls).
fn record_topic(expr: &Expr) -> Option<&Expr> {
    let mut methods = Vec::new();
    let root = chain_root(expr, &mut methods);
    let Expr::Call(call) = root else {
        return None;
    };
    let Expr::Path(p) = call.func.as_ref() else {
        return None;
    };
    let segs = path_segments(&p.path);
    // rdkafka `FutureRecord::to(topic)`; the kafka crate's `Record::from_value(topic, ..)`.
    matches!(
        segs_tail(&segs, 2).as_slice(),
        ["FutureRecord" | "BaseRecord", "to"] | ["Record", "from_value" | "from_key_value"]
    )
    .then(|| call.args.first())
    .flatten()
}

/// The root of a method chain, collecting the method names on the way.
fn chain_root<'e>(expr: &'e Expr, methods: &mut Vec<String>) -> &'e Expr {
    let mut expr = expr;
    loop {
        match expr {
            Expr::MethodCall(m) => {
                methods.push(m.method.to_string());
                expr = &m.receiver;
            }
            Expr::Await(a) => expr = &a.base,
            Expr::Paren(p) => expr = &p.expr,
            Expr::Reference(r) => expr = &r.expr,
            Expr::Try(t) => expr = &t.expr,
            _ => return expr,
        }
    }
}

/// A diesel query chain: rooted at `diesel::insert_into/update/delete(..)`, `sql_query(..)`, or
/// a `table`/`dsl` path, or using the query DSL (`filter`, `select`, `values`, `set`).
fn chain_has_diesel_query(receiver: &Expr) -> bool {
    let mut methods = Vec::new();
    let root = chain_root(receiver, &mut methods);
    let dsl = methods.iter().any(|m| {
        matches!(
            m.as_str(),
            "filter"
                | "select"
                | "values"
                | "set"
                | "find"
                | "order"
                | "order_by"
                | "limit"
                | "inner_join"
                | "left_join"
        )
    });
    let root_is_diesel = match root {
        Expr::Call(c) => {
            matches!(c.func.as_ref(), Expr::Path(p) if p.path.segments.last().is_some_and(|s| ident_is(&s.ident, &["insert_into", "update", "delete", "sql_query", "replace_into"])))
        }
        Expr::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "table"),
        _ => false,
    };
    dsl || root_is_diesel
}

/// diesel `.set(stock.eq(stock - qty))` or sea-orm `.col_expr(c, Expr::col(c).sub(1))`.
fn relative_orm_update(receiver: &Expr) -> bool {
    let mut expr = receiver;
    loop {
        match expr {
            Expr::MethodCall(m) => {
                if (m.method == "set" || m.method == "col_expr")
                    && m.args.iter().any(self_referencing)
                {
                    return true;
                }
                expr = &m.receiver;
            }
            Expr::Await(a) => expr = &a.base,
            Expr::Paren(p) => expr = &p.expr,
            _ => return false,
        }
    }
}

fn self_referencing(expr: &Expr) -> bool {
    match expr {
        Expr::MethodCall(m) if m.method == "eq" && m.args.len() == 1 => {
            let column = receiver_name(&m.receiver);
            match &m.args[0] {
                Expr::Binary(b) => {
                    column.is_some()
                        && (receiver_name(&b.left) == column || receiver_name(&b.right) == column)
                }
                _ => false,
            }
        }
        Expr::MethodCall(m) if ident_is(&m.method, &["add", "sub", "mul"]) => true,
        Expr::Tuple(t) => t.elems.iter().any(self_referencing),
        Expr::Paren(p) => self_referencing(&p.expr),
        _ => false,
    }
}

/// axum/poem method routers and actix route builders: `post(h)`, `get(a).post(b)`,
/// `routing::post(h)`, `web::post().to(h)`.
fn method_router(expr: &Expr, out: &mut Vec<(HttpMethod, String, (PmSpan, PmSpan))>) {
    match expr {
        Expr::Call(call) => {
            let Expr::Path(p) = call.func.as_ref() else {
                return;
            };
            let Some(last) = p.path.segments.last() else {
                return;
            };
            let method = last.ident.to_string();
            let method = method.strip_suffix("_service").unwrap_or(&method);
            if let (Some(http), Some(handler)) = (
                HttpMethod::parse(method),
                call.args.first().and_then(handler_name),
            ) {
                out.push((http, handler, super::ranges::call_bounds(call)));
            }
        }
        Expr::MethodCall(m) => {
            method_router(&m.receiver, out);
            let name = m.method.to_string();
            if name == "to" {
                // actix: `web::post().to(handler)`
                if let Expr::Call(c) = m.receiver.as_ref() {
                    if let Expr::Path(p) = c.func.as_ref() {
                        let verb = p.path.segments.last().map(|s| s.ident.to_string());
                        if let (Some(http), Some(handler)) = (
                            verb.and_then(|v| HttpMethod::parse(&v)),
                            m.args.first().and_then(handler_name),
                        ) {
                            out.push((http, handler, super::ranges::method_call_bounds(m)));
                        }
                    }
                }
            } else if let (Some(http), Some(handler)) = (
                HttpMethod::parse(&name),
                m.args.first().and_then(handler_name),
            ) {
                out.push((http, handler, super::ranges::method_call_bounds(m)));
            }
        }
        Expr::Reference(r) => method_router(&r.expr, out),
        Expr::Paren(p) => method_router(&p.expr, out),
        _ => {}
    }
}

fn handler_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Expr::Reference(r) => handler_name(&r.expr),
        _ => None,
    }
}

/// The receiver is an axum method router (`get(a)` in `get(a).post(b)`), not an HTTP client.
fn is_method_router(receiver: &Expr) -> bool {
    let mut methods = Vec::new();
    match chain_root(receiver, &mut methods) {
        Expr::Call(call) => {
            matches!(call.func.as_ref(), Expr::Path(p) if p.path.segments.last().is_some_and(|s| HttpMethod::parse(&s.ident.to_string()).is_some() || s.ident == "on"))
        }
        _ => false,
    }
}

/// The path of a salvo router a method handler is added to: `Some(path)` for
/// `Router::with_path(path)` or `Router::new().path(path)`, `Some(None)` for a bare
/// `Router::new()`, `None` when the receiver is no salvo router.
fn salvo_router_path(receiver: &Expr) -> Option<Option<&Expr>> {
    let mut expr = receiver;
    let mut path = None;
    loop {
        match expr {
            Expr::MethodCall(m) => {
                if m.method == "path" && m.args.len() == 1 && path.is_none() {
                    path = m.args.first();
                }
                expr = &m.receiver;
            }
            Expr::Paren(p) => expr = &p.expr,
            Expr::Call(call) => {
                let Expr::Path(func) = call.func.as_ref() else {
                    return None;
                };
                let segs = path_segments(&func.path);
                return match segs_tail(&segs, 2).as_slice() {
                    ["Router", "with_path"] => Some(path.or(call.args.first())),
                    ["Router", "new"] => Some(path),
                    _ => None,
                };
            }
            _ => return None,
        }
    }
}

/// A blocking HTTP client's type or constructor: `reqwest::blocking::Client(::new)`,
/// `ureq::Agent(::new)`, `ureq::agent()`, `ureq::AgentBuilder::new()`.
fn blocking_client(segs: &[String]) -> Option<String> {
    let has = |name: &str| segs.iter().any(|s| s == name);
    if has("blocking") && has("Client") {
        Some("reqwest::blocking::Client".to_string())
    } else if segs.first().is_some_and(|s| s == "ureq")
        && (has("Agent") || has("agent") || has("AgentBuilder"))
    {
        Some("ureq::Agent".to_string())
    } else {
        None
    }
}

/// The entity module of an active model: `orders` in `orders::ActiveModel`; a bare
/// `ActiveModel` is the entity of the module the code is in (sea-orm's one entity per module).
fn active_model_module(path: &syn::Path, current_module: Option<&String>) -> Option<String> {
    let segs = path_segments(path);
    match segs.as_slice() {
        [.., module, last] if last == "ActiveModel" => Some(module.clone()),
        [only] if only == "ActiveModel" => current_module.cloned(),
        _ => None,
    }
}

/// The expression that builds a URL, without what only passes it on: `&`, `(..)`, `?`,
/// `Url::parse(..)`, `.as_str()`.
fn url_expression(expr: &Expr) -> &Expr {
    match expr {
        Expr::Reference(r) => url_expression(&r.expr),
        Expr::Paren(p) => url_expression(&p.expr),
        Expr::Group(g) => url_expression(&g.expr),
        Expr::Try(t) => url_expression(&t.expr),
        Expr::MethodCall(m)
            if m.args.is_empty() && matches!(m.method.to_string().as_str(), "as_str" | "clone") =>
        {
            url_expression(&m.receiver)
        }
        Expr::Call(c) if c.args.len() == 1 => match c.func.as_ref() {
            Expr::Path(p)
                if p.path.segments.len() >= 2
                    && p.path.segments.last().is_some_and(|s| s.ident == "parse")
                    && p.path.segments[p.path.segments.len() - 2].ident == "Url" =>
            {
                url_expression(&c.args[0])
            }
            _ => expr,
        },
        _ => expr,
    }
}

/// The name of the value a URL is built from: `inventory_url` in
/// `format!("{}/reserve", self.inventory_url)` or `base.join("x")`.
fn url_base_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Macro(m) if m.mac.path.is_ident("format") => {
            let args = m
                .mac
                .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                .ok()?;
            let template = match args.first()? {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => s.value(),
                _ => return None,
            };
            // `{base}/x` inline capture, else the first positional argument.
            if let Some(inner) = template.strip_prefix('{') {
                let name = inner.split(['}', ':']).next().unwrap_or("");
                if !name.is_empty() {
                    return Some(name.rsplit('.').next().unwrap_or(name).to_owned());
                }
            }
            args.iter().nth(1).and_then(receiver_name)
        }
        Expr::MethodCall(m)
            if m.method == "join" || m.method == "as_str" || m.method == "to_string" =>
        {
            receiver_name(&m.receiver).or_else(|| url_base_name(&m.receiver))
        }
        Expr::Reference(r) => url_base_name(&r.expr),
        other => receiver_name(other),
    }
}

/// `{}/stock/reserve` -> `/stock/reserve`.
fn strip_leading_hole(path: &str) -> String {
    match path.strip_prefix('{') {
        Some(rest) => match rest.find('}') {
            Some(close) => rest[close + 1..].to_owned(),
            None => path.to_owned(),
        },
        None => path.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Payloads: which types flow into a publish.

/// Std and serde containers: never the event itself.
const CONTAINER_TYPES: &[&str] = &[
    "Vec",
    "VecDeque",
    "HashMap",
    "HashSet",
    "BTreeMap",
    "BTreeSet",
    "BinaryHeap",
    "IndexMap",
    "IndexSet",
    "DashMap",
    "String",
    "Option",
    "Box",
    "Arc",
    "Rc",
    "Cow",
    "Value",
    "Bytes",
    "BytesMut",
    "Json",
];

/// The type a constructing expression names: `OrderPlaced { .. }` -> `OrderPlaced`,
/// `Event::Placed(..)` -> `Event::Placed`, `Envelope::new(..)` -> `Envelope`.
fn constructed_type(path: &syn::Path, self_type: Option<&str>, call: bool) -> Option<String> {
    let mut segs = path_segments(path);
    if segs.first().is_some_and(|s| s == "Self") {
        segs[0] = self_type?.to_owned();
    }
    let last = segs.last()?;
    let name = if is_pascal(last) {
        segs.join("::")
    } else if call && segs.len() >= 2 && is_pascal(&segs[segs.len() - 2]) {
        segs[..segs.len() - 1].join("::")
    } else {
        return None;
    };
    let last = name.rsplit("::").next().unwrap_or(&name);
    (!matches!(last, "Ok" | "Err" | "Some" | "None") && !CONTAINER_TYPES.contains(&last))
        .then_some(name)
}

/// Collects the types an expression constructs and the locals it reads (not through a field:
/// `&state.channel` is not the payload).
struct PartsCollector<'p> {
    parts: &'p mut PayloadParts,
    self_type: Option<&'p str>,
}

impl<'ast> Visit<'ast> for PartsCollector<'_> {
    fn visit_expr_struct(&mut self, e: &'ast syn::ExprStruct) {
        if let Some(name) = constructed_type(&e.path, self.self_type, false) {
            self.parts.names.push(name);
        }
        for field in &e.fields {
            self.visit_expr(&field.expr);
        }
        if let Some(rest) = &e.rest {
            self.visit_expr(rest);
        }
    }

    fn visit_expr_call(&mut self, e: &'ast syn::ExprCall) {
        match e.func.as_ref() {
            Expr::Path(p) => {
                if let Some(name) = constructed_type(&p.path, self.self_type, true) {
                    self.parts.names.push(name);
                }
            }
            other => self.visit_expr(other),
        }
        for arg in &e.args {
            self.visit_expr(arg);
        }
    }

    fn visit_expr_lit(&mut self, e: &'ast ExprLit) {
        if let Lit::Str(lit) = &e.lit {
            self.parts.strings.extend(short_string(lit.value()));
        }
    }

    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        let segs = &e.path.segments;
        let last = segs.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if last.contains(|c: char| c.is_ascii_uppercase()) && is_screaming(&last) {
            self.parts.strings.push(format!("{{{last}}}"));
        } else if segs.len() == 1 {
            let name = segs[0].ident.to_string();
            if name == "self" {
                if let Some(own) = self.self_type {
                    self.parts.names.push(own.to_owned());
                }
            } else if name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
                self.parts.locals.push(name);
            }
        } else if let Some(name) = constructed_type(&e.path, self.self_type, false) {
            // A unit variant: `OrderEvent::Shutdown`.
            if segs.len() >= 2 && is_pascal(&segs[segs.len() - 2].ident.to_string()) {
                self.parts.names.push(name);
            }
        }
    }

    fn visit_expr_field(&mut self, _: &'ast syn::ExprField) {}

    fn visit_macro(&mut self, mac: &'ast Macro) {
        // `vec![OrderPlaced { .. }]`, `format!(..)`; else the names in the tokens
        // (`json!({ "type": "order.placed", "data": event })`).
        match mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            Ok(args) => {
                for arg in &args {
                    self.visit_expr(arg);
                }
            }
            Err(_) => self.scan_tokens(mac.tokens.clone()),
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

impl PartsCollector<'_> {
    /// Locals (lower-case names not after a `.`) and types followed by `{`, `(` or `::` in
    /// tokens that do not parse as expressions.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let mut after_dot = false;
        let mut iter = tokens.into_iter().peekable();
        while let Some(token) = iter.next() {
            match token {
                TokenTree::Group(g) => {
                    self.scan_tokens(g.stream());
                    after_dot = false;
                }
                TokenTree::Ident(ident) => {
                    let name = ident.to_string();
                    let followed = match iter.peek() {
                        Some(TokenTree::Group(g)) => g.delimiter() != Delimiter::Bracket,
                        Some(TokenTree::Punct(p)) => p.as_char() == ':',
                        _ => false,
                    };
                    let lower = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_');
                    if !after_dot && lower && !followed {
                        self.parts.locals.push(name);
                    } else if !after_dot
                        && followed
                        && is_pascal(&name)
                        && !CONTAINER_TYPES.contains(&name.as_str())
                    {
                        self.parts.names.push(name);
                    }
                    after_dot = false;
                }
                TokenTree::Punct(p) => after_dot = p.as_char() == '.',
                TokenTree::Literal(literal) => {
                    let text = literal.to_string();
                    if let Some(value) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                        self.parts.strings.extend(short_string(value.to_owned()));
                    }
                    after_dot = false;
                }
            }
        }
    }
}

fn payload_parts(expr: &Expr, self_type: Option<&str>, parts: &mut PayloadParts) {
    PartsCollector { parts, self_type }.visit_expr(expr);
}

/// Names bound in a pattern.
fn pattern_names(pat: &syn::Pat, out: &mut Vec<String>) {
    match pat {
        syn::Pat::Ident(i) => {
            out.push(i.ident.to_string());
            if let Some((_, sub)) = &i.subpat {
                pattern_names(sub, out);
            }
        }
        syn::Pat::Type(t) => pattern_names(&t.pat, out),
        syn::Pat::Reference(r) => pattern_names(&r.pat, out),
        syn::Pat::Tuple(t) => t.elems.iter().for_each(|p| pattern_names(p, out)),
        syn::Pat::TupleStruct(t) => t.elems.iter().for_each(|p| pattern_names(p, out)),
        syn::Pat::Struct(s) => s.fields.iter().for_each(|f| pattern_names(&f.pat, out)),
        syn::Pat::Slice(s) => s.elems.iter().for_each(|p| pattern_names(p, out)),
        _ => {}
    }
}

/// Type names worth keeping from a type: `Vec<OrderLineRow>` -> `OrderLineRow`.
fn payload_type_names(ty: &syn::Type, out: &mut Vec<String>) {
    let mut names = Vec::new();
    type_names(ty, &mut names);
    out.extend(
        names
            .into_iter()
            .filter(|n| is_pascal(n) && !CONTAINER_TYPES.contains(&n.as_str())),
    );
}

/// What each local of a body is bound to (`let`, `for`), and the parameters' types.
struct Bindings<'p> {
    map: HashMap<String, PayloadParts>,
    self_type: Option<&'p str>,
}

impl Bindings<'_> {
    fn bind(&mut self, pat: &syn::Pat, init: Option<&Expr>, ty: Option<&syn::Type>) {
        let mut parts = PayloadParts::default();
        if let Some(init) = init {
            payload_parts(init, self.self_type, &mut parts);
        }
        if let Some(ty) = ty {
            payload_type_names(ty, &mut parts.names);
        }
        if parts.is_empty() {
            return;
        }
        let mut names = Vec::new();
        pattern_names(pat, &mut names);
        for name in names {
            self.map.entry(name).or_default().extend(&parts);
        }
    }
}

impl<'ast> Visit<'ast> for Bindings<'_> {
    fn visit_local(&mut self, local: &'ast syn::Local) {
        let ty = match &local.pat {
            syn::Pat::Type(t) => Some(t.ty.as_ref()),
            _ => None,
        };
        let init = local.init.as_ref().map(|i| i.expr.as_ref());
        self.bind(&local.pat, init, ty);
        visit::visit_local(self, local);
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.bind(&e.pat, Some(&e.expr), None);
        visit::visit_expr_for_loop(self, e);
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// The types that reach each sink, through locals and parameters.
fn payloads(
    sinks: &[Sink],
    sig: &syn::Signature,
    block: &syn::Block,
    self_type: Option<&str>,
) -> Vec<Payload> {
    if sinks.is_empty() {
        return Vec::new();
    }
    let mut bindings = Bindings {
        map: HashMap::default(),
        self_type,
    };
    for input in &sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            bindings.bind(&t.pat, None, Some(&t.ty));
        }
    }
    bindings.visit_block(block);
    let mut out: Vec<Payload> = Vec::new();
    for sink in sinks {
        let mut names = sink.parts.names.clone();
        let mut strings = sink.parts.strings.clone();
        let mut queue = sink.parts.locals.clone();
        let mut seen: HashSet<String> = HashSet::default();
        while let Some(local) = queue.pop() {
            if seen.len() > 64 || !seen.insert(local.clone()) {
                continue;
            }
            if let Some(parts) = bindings.map.get(&local) {
                names.extend(parts.names.iter().cloned());
                strings.extend(parts.strings.iter().cloned());
                queue.extend(parts.locals.iter().cloned());
            }
        }
        let typed = names.into_iter().map(|n| (n, PayloadKind::Type));
        let texts = strings.into_iter().map(|s| (s, PayloadKind::Text));
        for (name, kind) in typed.chain(texts) {
            if !out
                .iter()
                .any(|p| p.name == name && p.sink == sink.span && p.kind == kind)
            {
                out.push(Payload {
                    name,
                    sink: sink.span,
                    kind,
                });
            }
        }
    }
    out
}

/// Parameters that may hold a project object: a named type other than a std container
/// (`repo: &OrderRepo`, `store: Arc<dyn OrderStore>`, `State(ctx): State<Ctx>`).
/// A parameter is a closure: `impl FnMut(..)`, `Box<dyn Fn(..)>`, or a type parameter bound
/// by `Fn*` (`handler: F` with `F: FnMut(Envelope<T>) -> Fut`).
fn takes_callback(sig: &syn::Signature) -> bool {
    fn is_fn_bound(bound: &syn::TypeParamBound) -> bool {
        matches!(bound, syn::TypeParamBound::Trait(t)
        if t.path.segments.last().is_some_and(|s| {
            matches!(s.ident.to_string().as_str(), "Fn" | "FnMut" | "FnOnce" | "AsyncFn" | "AsyncFnMut")
        }))
    }
    fn mentions_fn(ty: &syn::Type, generic_fns: &HashSet<String>) -> bool {
        match ty {
            syn::Type::ImplTrait(t) => t.bounds.iter().any(is_fn_bound),
            syn::Type::TraitObject(t) => t.bounds.iter().any(is_fn_bound),
            syn::Type::Reference(r) => mentions_fn(&r.elem, generic_fns),
            syn::Type::Path(p) => p.path.segments.iter().any(|s| {
                generic_fns.contains(&s.ident.to_string())
                    || matches!(&s.arguments, syn::PathArguments::AngleBracketed(args)
                        if args.args.iter().any(|a| matches!(a, syn::GenericArgument::Type(t) if mentions_fn(t, generic_fns))))
            }),
            _ => false,
        }
    }
    let mut generic_fns: HashSet<String> = HashSet::default();
    for param in sig.generics.type_params() {
        if param.bounds.iter().any(is_fn_bound) {
            generic_fns.insert(param.ident.to_string());
        }
    }
    if let Some(clause) = &sig.generics.where_clause {
        for predicate in &clause.predicates {
            if let syn::WherePredicate::Type(t) = predicate {
                if let syn::Type::Path(p) = &t.bounded_ty {
                    if let Some(ident) = p.path.get_ident() {
                        if t.bounds.iter().any(is_fn_bound) {
                            generic_fns.insert(ident.to_string());
                        }
                    }
                }
            }
        }
    }
    sig.inputs.iter().any(|input| match input {
        syn::FnArg::Typed(t) => mentions_fn(&t.ty, &generic_fns),
        syn::FnArg::Receiver(_) => false,
    })
}

/// A call chain that looks a row up: `sqlx::query_as(..).fetch_optional(..)`,
/// `repo.get_by_order_id(..)`, `orders.filter(..).first(..)`, `Entity::find_by_id(..).one(..)`.
fn is_lookup(expr: &Expr) -> bool {
    let mut e = expr;
    loop {
        match e {
            Expr::Await(a) => e = &a.base,
            Expr::Try(t) => e = &t.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::Reference(r) => e = &r.expr,
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                if is_lookup_name(&name) || reads_from_store(&name, &m.receiver) {
                    return true;
                }
                e = &m.receiver;
            }
            Expr::Call(c) => {
                return matches!(c.func.as_ref(), Expr::Path(p)
                    if p.path.segments.last().is_some_and(|s| is_lookup_name(&s.ident.to_string())));
            }
            _ => return false,
        }
    }
}

/// `self.storage.get_with_items(id)`, `repo.load(id)`: a read of a persistence handle.
fn reads_from_store(method: &str, receiver: &Expr) -> bool {
    let reads = ["get", "load", "fetch", "read"].iter().any(|verb| {
        method
            .strip_prefix(verb)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
    });
    let store = match receiver {
        Expr::Field(f) => match &f.member {
            syn::Member::Named(name) => name.to_string(),
            syn::Member::Unnamed(_) => return false,
        },
        Expr::Path(p) => match p.path.get_ident() {
            Some(ident) => ident.to_string(),
            None => return false,
        },
        _ => return false,
    };
    let store = store.to_ascii_lowercase();
    reads
        && ["storage", "store", "repo", "repository", "dao", "db"]
            .iter()
            .any(|suffix| store.ends_with(suffix))
}

/// `!rows.is_empty()`, `rows.len() > 0`, `rows.len() >= 1`, `rows.len() != 0`: the query found
/// rows (a duplicate's), asked of the rows a query listed. `rows.is_empty()` (nothing found)
/// or a count compared with another count is a precondition, not a duplicate found.
fn finds_listed_rows(cond: &Expr, listed: &HashSet<String>) -> bool {
    let listed_call = |e: &Expr, method: &str| {
        matches!(e, Expr::MethodCall(m) if m.method == method
            && matches!(m.receiver.as_ref(), Expr::Path(p)
                if p.path.get_ident().is_some_and(|i| listed.contains(&i.to_string()))))
    };
    let small = |e: &Expr, max: u64| {
        matches!(e, Expr::Lit(ExprLit { lit: Lit::Int(i), .. })
            if i.base10_parse::<u64>().is_ok_and(|n| n <= max))
    };
    match cond {
        Expr::Paren(p) => finds_listed_rows(&p.expr, listed),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => listed_call(&u.expr, "is_empty"),
        Expr::Binary(b) => match b.op {
            syn::BinOp::Gt(_) | syn::BinOp::Ne(_) => {
                listed_call(&b.left, "len") && small(&b.right, 0)
                    || listed_call(&b.right, "len") && small(&b.left, 0)
            }
            syn::BinOp::Ge(_) => listed_call(&b.left, "len") && small(&b.right, 1),
            syn::BinOp::Lt(_) => listed_call(&b.right, "len") && small(&b.left, 0),
            syn::BinOp::Or(_) | syn::BinOp::And(_) => {
                finds_listed_rows(&b.left, listed) || finds_listed_rows(&b.right, listed)
            }
            _ => false,
        },
        _ => false,
    }
}

/// `sqlx::query(..).fetch_all(..)`, diesel `.load(conn)`: every row a query finds.
fn is_listing(expr: &Expr) -> bool {
    let mut e = expr;
    loop {
        match e {
            Expr::Await(a) => e = &a.base,
            Expr::Try(t) => e = &t.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::MethodCall(m) => {
                if matches!(
                    m.method.to_string().as_str(),
                    "fetch_all" | "get_results" | "load"
                ) {
                    return true;
                }
                e = &m.receiver;
            }
            _ => return false,
        }
    }
}

fn is_lookup_name(name: &str) -> bool {
    [
        "fetch_optional",
        "fetch_one",
        "get_result",
        "first",
        "one",
        "optional",
    ]
    .contains(&name)
        || ["find", "get_by", "exists", "lookup", "load_by", "fetch_by"]
            .iter()
            .any(|p| name.starts_with(p))
        // `get_quotes_by_ids`, `load_order_by_id`: rows by their key.
        || ["get_", "load_", "fetch_", "read_"]
            .iter()
            .any(|p| name.starts_with(p))
            && name.contains("_by_")
}

fn expr_diverges(expr: &Expr) -> bool {
    match expr {
        Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
        Expr::Block(b) => block_diverges(&b.block),
        Expr::Macro(m) => is_bail(&m.mac),
        _ => false,
    }
}

/// The state of a row the function looked up: `order.status`, `quote.state()`,
/// `order.payment_status`.
fn state_of_looked_up(e: &Expr, looked_up: &HashSet<String>) -> bool {
    let mut e = e;
    while let Expr::MethodCall(m) = e {
        // `order.status.as_str()`, `order.status()`.
        if !m.args.is_empty() {
            return false;
        }
        if m.method == "status" || m.method == "state" {
            return matches!(m.receiver.as_ref(), Expr::Path(p)
                if p.path.get_ident().is_some_and(|i| looked_up.contains(&i.to_string())));
        }
        e = &m.receiver;
    }
    let Expr::Field(f) = e else {
        return false;
    };
    let syn::Member::Named(field) = &f.member else {
        return false;
    };
    let name = field.to_string();
    let is_state = name == "status" || name == "state" || name.ends_with("_status");
    is_state
        && matches!(f.base.as_ref(), Expr::Path(p)
        if p.path.get_ident().is_some_and(|i| looked_up.contains(&i.to_string())))
}

/// A call handed the state of a row the function looked up, as an argument or as its
/// receiver: `check_status(op, payment.status, expected)`, `order.status.ensure(Pending)`,
/// awaited or not.
fn passes_looked_up_state(e: &Expr, looked_up: &HashSet<String>) -> bool {
    let state = |e: &Expr| {
        let e = match e {
            Expr::Reference(r) => r.expr.as_ref(),
            other => other,
        };
        state_of_looked_up(e, looked_up)
    };
    match e {
        Expr::Await(a) => passes_looked_up_state(&a.base, looked_up),
        Expr::Call(c) => c.args.iter().any(state),
        Expr::MethodCall(m) => state(&m.receiver) || m.args.iter().any(state),
        _ => false,
    }
}

/// A condition that tests the state of a row the function looked up (a local in
/// `looked_up`): a `status` or `state` field (`order.status == "CANCELLED"`,
/// `matches!(p.state, State::Paid)`), whether it is there (`existing.is_some()`), or an `if let`
/// on the look-up itself; not the request's or the message's own fields.
fn tests_looked_up_state(cond: &Expr, looked_up: &HashSet<String>) -> bool {
    let state_of_local = |e: &Expr| state_of_looked_up(e, looked_up);
    // `existing.is_some()`, `row.is_none()`: whether the row is there at all.
    // `repo.find_by_email(&email).await?.is_some()`: the same, asked of the look-up itself.
    let existence_of_local = |e: &Expr| {
        matches!(e, Expr::MethodCall(m)
            if matches!(m.method.to_string().as_str(), "is_some" | "is_none" | "is_ok")
                && (matches!(m.receiver.as_ref(), Expr::Path(p)
                    if p.path.get_ident().is_some_and(|i| looked_up.contains(&i.to_string())))
                    || is_lookup(&m.receiver)))
    };
    if existence_of_local(cond) {
        return true;
    }
    // `if row.released { return .. }`, `if released_flag { .. }`: a flag of the row.
    let flag_of_local = |e: &Expr| match e {
        Expr::Path(p) => p
            .path
            .get_ident()
            .is_some_and(|i| looked_up.contains(&i.to_string())),
        Expr::Field(f) => matches!(f.base.as_ref(), Expr::Path(p)
            if p.path.get_ident().is_some_and(|i| looked_up.contains(&i.to_string()))),
        _ => false,
    };
    if flag_of_local(cond) {
        return true;
    }
    match cond {
        // `if let Ok(Some(row)) = sqlx::query_as(..).fetch_optional(..).await { return .. }`.
        Expr::Let(l) => {
            let found = is_result_pattern(&l.pat, "Some")
                || is_result_pattern(&l.pat, "Ok")
                || matches!(l.pat.as_ref(), syn::Pat::TupleStruct(t)
                    if t.elems.iter().any(|p| is_result_pattern(p, "Some")));
            found && is_lookup(&l.expr)
        }
        Expr::Binary(b) => match b.op {
            syn::BinOp::Eq(_) | syn::BinOp::Ne(_) => {
                state_of_local(&b.left) || state_of_local(&b.right)
            }
            syn::BinOp::Or(_) | syn::BinOp::And(_) => {
                tests_looked_up_state(&b.left, looked_up)
                    || tests_looked_up_state(&b.right, looked_up)
            }
            _ => false,
        },
        Expr::Paren(p) => tests_looked_up_state(&p.expr, looked_up),
        Expr::Unary(u) => tests_looked_up_state(&u.expr, looked_up),
        Expr::Macro(m) if m.mac.path.is_ident("matches") => m
            .mac
            .parse_body_with(Punctuated::<Expr, Token![,]>::parse_separated_nonempty)
            .ok()
            .and_then(|args| args.first().cloned())
            .is_some_and(|first| state_of_local(&first)),
        _ => false,
    }
}

/// The expression names one of `names` (a local it reads).
fn mentions_any(expr: &Expr, names: &HashSet<String>) -> bool {
    first_mentioned(expr, names).is_some()
}

/// The first of `names` the expression reads (`market` in `market.unwrap().status == ..`).
fn first_mentioned(expr: &Expr, names: &HashSet<String>) -> Option<String> {
    struct Finder<'n> {
        names: &'n HashSet<String>,
        found: Option<String>,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
            if self.found.is_none() {
                if let Some(ident) = e.path.get_ident().map(|i| i.to_string()) {
                    if self.names.contains(&ident) {
                        self.found = Some(ident);
                    }
                }
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    let mut finder = Finder { names, found: None };
    finder.visit_expr(expr);
    finder.found
}

fn object_params(sig: &syn::Signature) -> HashSet<String> {
    let mut out = HashSet::default();
    for input in &sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            if is_object_type(&t.ty) {
                let mut bound = Vec::new();
                pattern_names(&t.pat, &mut bound);
                out.extend(bound);
            }
        }
    }
    out
}

fn is_object_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => is_object_type(&r.elem),
        syn::Type::Paren(p) => is_object_type(&p.elem),
        syn::Type::TraitObject(_) => true,
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|last| {
            let smart = ident_is(&last.ident, &["Arc", "Box", "Rc"]);
            match &last.arguments {
                syn::PathArguments::AngleBracketed(args) if smart => {
                    args.args.iter().any(|a| match a {
                        syn::GenericArgument::Type(t) => is_object_type(t),
                        _ => false,
                    })
                }
                _ => {
                    let name = last.ident.to_string();
                    is_pascal(&name) && !CONTAINER_TYPES.contains(&name.as_str())
                }
            }
        }),
        _ => false,
    }
}

/// Serializers whose argument becomes a message body: `serde_json::to_vec`, `to_string`,
/// `rmp_serde::to_vec`, `bincode::serialize`.
fn is_serializer(segs: &[String]) -> bool {
    const CRATES: &[&str] = &[
        "serde_json",
        "serde_cbor",
        "rmp_serde",
        "bincode",
        "serde_yaml",
        "postcard",
        "ciborium",
        "simd_json",
        "apache_avro",
    ];
    let Some(last) = segs.last() else {
        return false;
    };
    match segs {
        [only] => matches!(
            only.as_str(),
            "to_vec"
                | "to_string"
                | "to_value"
                | "to_vec_pretty"
                | "to_string_pretty"
                | "to_writer"
        ),
        [.., krate, _] => {
            CRATES.contains(&krate.as_str())
                && (last.starts_with("to_") || last == "serialize" || last.starts_with("encode"))
        }
        [] => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_lists_searched_by_halves_are_sorted() {
        for list in [PLUMBING, CLIENT_PLUMBING, GRPC_CLIENT_PLUMBING] {
            assert!(list.windows(2).all(|pair| pair[0] < pair[1]), "{list:?}");
        }
    }

    #[test]
    fn event_names() {
        assert!(looks_like_event("OrderPlaced"));
        assert!(looks_like_event("PaymentFailed"));
        assert!(looks_like_event("Event::StockReserved"));
        assert!(looks_like_event("ReserveStockCommand"));
        assert!(!looks_like_event("Order"));
        assert!(!looks_like_event("Ok"));
        assert!(!looks_like_event("HTTP"));
    }

    #[test]
    fn url_paths_drop_the_base_hole() {
        assert_eq!(strip_leading_hole("{}/stock/reserve"), "/stock/reserve");
        assert_eq!(strip_leading_hole("{base}/x/{}"), "/x/{}");
        assert_eq!(strip_leading_hole("/a"), "/a");
    }
}
