//! Where services read their settings: `env::var` lookups with their defaults, derive
//! attributes (`#[arg(env = ..)]`), database URLs and connect-option builders.

use super::*;

impl Extractor<'_> {
    pub(super) fn emit_env(
        &mut self,
        name: String,
        default: Option<(String, Range<usize>)>,
        call: Range<usize>,
    ) {
        if let Some((value, range)) = &default {
            if let Some(target) = parse_database_url(value) {
                self.handled_literals.insert(range.start);
                self.facts.connections.push(DbConnection {
                    owner: ConnectionOwner::Crate(self.cx.krate.id),
                    target,
                    source: ConnectionSource::EnvDefault,
                    key: Some(name.clone()),
                    span: self.span(range.clone()),
                });
            }
        }
        self.facts.env_lookups.push(EnvLookup {
            crate_id: self.cx.krate.id,
            name,
            default: default.map(|(v, _)| v),
            span: self.span(call),
        });
    }

    /// `PgConnectOptions::new().host("db").port(5433).database("orders")` (also MySQL options and
    /// `tokio_postgres::Config::new().host(..).dbname(..)`), seen at the outermost call.
    pub(super) fn connect_options(&mut self, call: &ExprMethodCall) -> bool {
        // Every method call of every chain comes here, outermost link first: the links below
        // it hold a part of what it holds, so only the outermost walks the chain (walking it
        // from every link is quadratic in the chain's length).
        let node = std::ptr::from_ref::<ExprMethodCall>(call) as usize;
        let inner_link = self.examined_chain_links.remove(&node);
        if let Expr::MethodCall(next) = call.receiver.as_ref() {
            self.examined_chain_links
                .insert(std::ptr::from_ref::<ExprMethodCall>(next) as usize);
        }
        if inner_link {
            return false;
        }
        // The chain's root is checked first, without allocating, and the settings are read
        // only for an options builder.
        let mut link: &ExprMethodCall = call;
        let root = loop {
            match link.receiver.as_ref() {
                Expr::MethodCall(m) => link = m,
                Expr::Call(c) => break c,
                _ => return false,
            }
        };
        let Expr::Path(func) = root.func.as_ref() else {
            return false;
        };
        let mut tail = func.path.segments.iter().rev();
        let (Some(last), Some(builder)) = (tail.next(), tail.next()) else {
            return false;
        };
        if last.ident != "new" {
            return false;
        }
        let engine = if builder.ident == "PgConnectOptions" || builder.ident == "Config" {
            crate::model::DbEngine::Postgres
        } else if builder.ident == "MySqlConnectOptions" {
            crate::model::DbEngine::MySql
        } else {
            return false;
        };
        let mut host = None;
        let mut port = None;
        let mut database = None;
        let mut link: &ExprMethodCall = call;
        loop {
            let slot = if link.method == "host" {
                Some(&mut host)
            } else if link.method == "port" {
                Some(&mut port)
            } else if link.method == "database" || link.method == "dbname" {
                Some(&mut database)
            } else {
                None
            };
            // The outermost setting wins, as it does at run time.
            if let Some(slot) = slot.filter(|s| s.is_none()) {
                *slot = link.args.first().and_then(|a| match a {
                    Expr::Lit(ExprLit { lit, .. }) => lit_text(lit),
                    _ => None,
                });
            }
            match link.receiver.as_ref() {
                Expr::MethodCall(m) => link = m,
                _ => break,
            }
        }
        let range = self.method_call_range(call);
        if self.handled_literals.contains(&range.start) || (host.is_none() && database.is_none()) {
            return false;
        }
        self.handled_literals.insert(range.start);
        let default_port = if engine == crate::model::DbEngine::Postgres {
            5432
        } else {
            3306
        };
        self.facts.connections.push(DbConnection {
            owner: ConnectionOwner::Crate(self.cx.krate.id),
            target: crate::model::DbTarget {
                engine,
                host: host.map(|h| h.to_lowercase()),
                port: port
                    .and_then(|p| p.parse().ok())
                    .filter(|p| *p != default_port),
                database,
            },
            source: ConnectionSource::RustLiteral,
            key: None,
            span: self.span(range),
        });
        true
    }

    /// Finds `env::var("X")` under `.ok()`, `.map(..)` wrappers; returns its range and name.
    pub(super) fn env_call_in(&mut self, expr: &Expr) -> Option<(Range<usize>, String)> {
        match expr {
            Expr::MethodCall(m)
                if ["ok", "map", "map_err", "or_else"]
                    .iter()
                    .any(|name| m.method == name) =>
            {
                self.env_call_in(&m.receiver)
            }
            Expr::Call(call) => {
                let Expr::Path(func) = call.func.as_ref() else {
                    return None;
                };
                let segs = path_segments(&func.path);
                if !is_env_call(&segs) || call.args.is_empty() {
                    return None;
                }
                let name = self.resolve(&call.args[0])?.text;
                Some((self.call_range(call), name))
            }
            Expr::Macro(m) if m.mac.path.is_ident("option_env") => {
                let lit = m.mac.parse_body::<LitStr>().ok()?;
                Some((self.macro_range(&m.mac), lit.value()))
            }
            _ => None,
        }
    }

    /// The literal default of `unwrap_or("..")` / `unwrap_or_else(|_| "..".into())`.
    pub(super) fn default_value(&mut self, expr: &Expr) -> Option<(String, Range<usize>)> {
        let body = match expr {
            Expr::Closure(closure) => closure.body.as_ref(),
            other => other,
        };
        let literal = innermost_literal(body)?;
        let value = self.resolve(body)?;
        Some((value.text, self.range_of(literal)))
    }

    pub(super) fn url_literal(&mut self, value: &str, range: Range<usize>) {
        if self.handled_literals.contains(&range.start) || value.contains('{') {
            return;
        }
        if let Some(target) = parse_database_url(value) {
            self.handled_literals.insert(range.start);
            self.facts.connections.push(DbConnection {
                owner: ConnectionOwner::Crate(self.cx.krate.id),
                target,
                source: ConnectionSource::RustLiteral,
                key: None,
                span: self.span(range),
            });
        }
    }

    /// Settings read from the environment by derive attributes:
    /// `#[arg(env = "DATABASE_URL", default_value = "postgres://..")]` (clap, structopt) and
    /// `#[envconfig(from = "DATABASE_URL", default = "..")]`.
    pub(super) fn field_attributes(&mut self, attrs: &[Attribute]) {
        for attr in attrs {
            let Some(kind) = attr.path().get_ident().map(|i| i.to_string()) else {
                continue;
            };
            if !matches!(kind.as_str(), "arg" | "clap" | "structopt" | "envconfig") {
                continue;
            }
            let mut env: Option<String> = None;
            let mut default: Option<LitStr> = None;
            let _ = attr.parse_nested_meta(|meta| {
                let key = meta
                    .path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                if meta.input.peek(Token![=]) {
                    let value = meta.value()?.parse::<Expr>()?;
                    let literal = match value {
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(s), ..
                        }) => Some(s),
                        _ => None,
                    };
                    match key.as_str() {
                        "env" | "from" => env = literal.map(|l| l.value()).or(env.take()),
                        "default_value" | "default" => default = literal.or(default.take()),
                        _ => {}
                    }
                } else if meta.input.peek(syn::token::Paren) {
                    let _ = meta.input.parse::<proc_macro2::Group>()?;
                }
                Ok(())
            });
            let range = self.range_of(attr.span());
            let default_value = default
                .as_ref()
                .map(|d| (d.value(), self.range_of(d.span())));
            match env {
                Some(name) => self.emit_env(name, default_value, range),
                None => {
                    if let Some((value, range)) = default_value {
                        self.url_literal(&value, range);
                    }
                }
            }
        }
    }
}

pub(super) fn is_env_call(segs: &[String]) -> bool {
    let tail = segs_tail(segs, 2);
    matches!(
        tail.as_slice(),
        ["env", "var" | "var_os"] | ["dotenvy" | "dotenv", "var"]
    )
}

/// The span of the string literal inside `"x"`, `"x".into()`, `String::from("x")`, `{ "x" }`.
pub(super) fn innermost_literal(expr: &Expr) -> Option<PmSpan> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.span()),
        Expr::MethodCall(m) => innermost_literal(&m.receiver),
        Expr::Call(c) if c.args.len() == 1 => innermost_literal(&c.args[0]),
        Expr::Reference(r) => innermost_literal(&r.expr),
        Expr::Paren(p) => innermost_literal(&p.expr),
        Expr::Block(b) => match b.block.stmts.last() {
            Some(Stmt::Expr(e, None)) => innermost_literal(e),
            _ => None,
        },
        _ => Some(expr.span()),
    }
}
