//! Environment variables to database connections, shared by `.env`, compose and Kubernetes.
//!
//! A variable carries a connection when its value is a database connection string, whatever
//! its name (`ORDERS_STORE=postgres://..` counts; `API_URL=http://..` does not). Names matter
//! only in two cases:
//!
//! * an unresolved value (`DATABASE_URL=${DATABASE_URL}`, compose `- DATABASE_URL` passed
//!   through from the shell) under a connection-string name (`*_URL`, `*_URI`, `*_DSN` whose
//!   stem names a database) is a connection to an unknown target;
//! * split settings: `DB_HOST` + `DB_PORT` + `DB_NAME`, `PGHOST` + `PGDATABASE`,
//!   `POSTGRES_HOST` + `POSTGRES_DB`, grouped by their common stem, form one connection.
//!
//! Layered configuration (the `config` crate's `Environment::with_prefix("APP").separator("__")`)
//! maps `APP_DATABASE__HOST` to the key `database.host`. Its names are split settings whose
//! stem is `APP_DATABASE` and whose separator is `__`, so `APP_DATABASE__URL`,
//! `APP_DATABASE__HOST`, `APP_DATABASE__PORT`, `APP_DATABASE__NAME` and
//! `APP_DATABASE__DATABASE_NAME` are recognised by the same rules.

use std::collections::HashMap;

use crate::model::{ConnectionOwner, ConnectionSource, DbConnection, DbEngine, DbTarget, Span};

use super::url::{
    engine_for_port, is_placeholder, is_unresolved, normalize_host, normalize_port,
    parse_database_url,
};

/// One environment variable as a deployment file sets it.
#[derive(Debug, Clone)]
pub(crate) struct EnvVar {
    pub key: String,
    /// The value after interpolation; `None` when passed through from the outer environment.
    pub value: Option<String>,
    /// Where diagnostics should point (the value, or the key when there is none).
    pub span: Span,
}

/// How `$` references are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR:+alt}`;
    /// `$$` is a literal `$` (compose only; dotenv keeps `$$`).
    Shell { dollar_escape: bool },
    /// Kubernetes `$(VAR)`; `$$(VAR)` is the literal `$(VAR)`.
    Kubernetes,
}

/// Replaces variable references using `lookup`. References that cannot be resolved are left
/// as `${VAR}` so later stages see them as unresolved.
pub(crate) fn interpolate(
    text: &str,
    syntax: Syntax,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> String {
    interpolate_depth(text, syntax, lookup, 0)
}

fn interpolate_depth(
    text: &str,
    syntax: Syntax,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> String {
    if depth > 8 || !text.contains('$') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        match syntax {
            Syntax::Kubernetes => {
                if let Some(escaped) = after.strip_prefix("$(") {
                    out.push_str("$(");
                    rest = escaped;
                } else if let Some(inner) = after.strip_prefix('(') {
                    match inner.find(')') {
                        Some(close) => {
                            let name = &inner[..close];
                            match lookup(name) {
                                Some(value) => out.push_str(&value),
                                None => {
                                    out.push_str("${");
                                    out.push_str(name);
                                    out.push('}');
                                }
                            }
                            rest = &inner[close + 1..];
                        }
                        None => {
                            out.push('$');
                            rest = after;
                        }
                    }
                } else {
                    out.push('$');
                    rest = after;
                }
            }
            Syntax::Shell { dollar_escape } => {
                if let Some(escaped) = after.strip_prefix('$') {
                    out.push_str(if dollar_escape { "$" } else { "$$" });
                    rest = escaped;
                } else if let Some(inner) = after.strip_prefix('{') {
                    let Some(close) = matching_brace(inner) else {
                        out.push('$');
                        rest = after;
                        continue;
                    };
                    out.push_str(&expand_braced(&inner[..close], syntax, lookup, depth));
                    rest = &inner[close + 1..];
                } else {
                    let name_len = after
                        .char_indices()
                        .find(|(i, c)| {
                            !(c.is_ascii_alphanumeric() || *c == '_')
                                || (*i == 0 && c.is_ascii_digit())
                        })
                        .map_or(after.len(), |(i, _)| i);
                    if name_len == 0 {
                        out.push('$');
                        rest = after;
                        continue;
                    }
                    let name = &after[..name_len];
                    match lookup(name) {
                        Some(value) => out.push_str(&value),
                        None => {
                            out.push_str("${");
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &after[name_len..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// Index of the `}` closing a `${`, allowing nested `${..}` in defaults.
fn matching_brace(inner: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn expand_braced(
    body: &str,
    syntax: Syntax,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> String {
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let name = &body[..name_len];
    let operator = &body[name_len..];
    let value = lookup(name);
    let unresolved = || format!("${{{name}}}");
    let nested = |text: &str| interpolate_depth(text, syntax, lookup, depth + 1);
    if let Some(default) = operator.strip_prefix(":-") {
        return match value {
            Some(v) if !v.is_empty() => v,
            _ => nested(default),
        };
    }
    if let Some(default) = operator.strip_prefix('-') {
        return value.unwrap_or_else(|| nested(default));
    }
    if let Some(alternative) = operator.strip_prefix(":+") {
        return match value {
            Some(v) if !v.is_empty() => nested(alternative),
            Some(_) => String::new(),
            None => unresolved(),
        };
    }
    if let Some(alternative) = operator.strip_prefix('+') {
        return match value {
            Some(_) => nested(alternative),
            None => unresolved(),
        };
    }
    // `${VAR}`, `${VAR:?error}`, `${VAR?error}`.
    value.unwrap_or_else(unresolved)
}

/// Connection strings passed on a command line (`migrate -database postgres://..`,
/// `--database-url=postgres://..`), as written. `command` is a shell string or argv items.
pub(crate) fn urls_in_command<'c>(command: impl IntoIterator<Item = &'c str>) -> Vec<&'c str> {
    command
        .into_iter()
        .flat_map(str::split_whitespace)
        .filter_map(|token| {
            let token = token.trim_matches(|c| c == '"' || c == '\'');
            let candidate = match token.split_once('=') {
                Some((flag, value)) if flag.starts_with('-') => value,
                _ => token,
            };
            let candidate = candidate.trim_matches(|c| c == '"' || c == '\'');
            // Only URLs: a bare `host=x` word on a command line is not a connection string.
            (candidate.contains("://") || candidate.starts_with("sqlite:"))
                .then_some(candidate)
                .filter(|c| parse_database_url(c).is_some())
        })
        .collect()
}

/// Which part of a split connection setting a variable holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Url,
    Host,
    Port,
    Name,
    User,
}

/// Classifies a variable or config key name as part of a database setting: returns its stem
/// (`ORDERS_DB` for `ORDERS_DB_HOST`), the field and the engine the stem names, if any.
/// Works on upper-cased names; config keys are upper-cased and `.` becomes `__` first.
pub(crate) fn classify_key(key: &str) -> Option<KeyClass> {
    let key = key.trim().to_ascii_uppercase().replace(['.', '-'], "__");
    // libpq's own variables.
    match key.as_str() {
        "PGHOST" | "PGHOSTADDR" => {
            return Some(("PG".into(), Field::Host, Some(DbEngine::Postgres)))
        }
        "PGPORT" => return Some(("PG".into(), Field::Port, Some(DbEngine::Postgres))),
        "PGDATABASE" => return Some(("PG".into(), Field::Name, Some(DbEngine::Postgres))),
        "PGUSER" => return Some(("PG".into(), Field::User, Some(DbEngine::Postgres))),
        "DATABASE_URL" | "DATABASE_URI" | "DSN" | "DB_DSN" => {
            return Some(("DATABASE".into(), Field::Url, None))
        }
        _ => {}
    }
    const FIELDS: &[(&str, Field)] = &[
        ("CONNECTION_STRING", Field::Url),
        ("CONNECTION_URL", Field::Url),
        ("DATABASE_NAME", Field::Name),
        ("DB_NAME", Field::Name),
        ("HOSTNAME", Field::Host),
        ("USERNAME", Field::User),
        ("DATABASE", Field::Name),
        ("ADDRESS", Field::Host),
        ("SERVER", Field::Host),
        ("DBNAME", Field::Name),
        ("HOST", Field::Host),
        ("ADDR", Field::Host),
        ("PORT", Field::Port),
        ("NAME", Field::Name),
        ("USER", Field::User),
        ("URL", Field::Url),
        ("URI", Field::Url),
        ("DSN", Field::Url),
        ("DB", Field::Name),
    ];
    for (name, field) in FIELDS {
        for separator in ["__", "_"] {
            let Some(stem) = key
                .strip_suffix(name)
                .and_then(|rest| rest.strip_suffix(separator))
            else {
                continue;
            };
            if let Some(engine) = stem_engine(stem) {
                return Some((stem.to_string(), *field, engine));
            }
        }
    }
    None
}

/// `Some(engine hint)` when a stem names a database (`DB`, `ORDERS_DATABASE`, `POSTGRES`).
pub(crate) fn stem_engine(stem: &str) -> Option<Option<DbEngine>> {
    let last = stem.rsplit('_').next().unwrap_or(stem);
    Some(match last {
        "DB" | "DATABASE" | "DATABASES" | "DBS" | "RDS" | "SQL" | "DATASOURCE" => None,
        "PG" | "POSTGRES" | "POSTGRESQL" | "PSQL" | "PGSQL" | "TIMESCALE" | "COCKROACH" => {
            Some(DbEngine::Postgres)
        }
        "MYSQL" | "MARIADB" => Some(DbEngine::MySql),
        "MONGO" | "MONGODB" => Some(DbEngine::Mongo),
        "REDIS" | "VALKEY" => Some(DbEngine::Redis),
        "SQLITE" => Some(DbEngine::Sqlite),
        _ => return None,
    })
}

#[derive(Default)]
struct SplitGroup<'a> {
    host: Option<&'a EnvVar>,
    port: Option<&'a EnvVar>,
    name: Option<&'a EnvVar>,
    user: Option<&'a EnvVar>,
    engine: Option<DbEngine>,
}

/// Database connections carried by a set of variables.
pub(crate) fn connections(
    vars: &[EnvVar],
    owner: &ConnectionOwner,
    source: ConnectionSource,
) -> Vec<DbConnection> {
    connections_with(vars, owner, source, &classify_key)
}

/// A key's stem, field and engine hint, as [`classify_key`] returns them.
pub(crate) type KeyClass = (String, Field, Option<DbEngine>);

/// [`connections`] with another key classification (configuration files use dotted keys).
pub(crate) fn connections_with(
    vars: &[EnvVar],
    owner: &ConnectionOwner,
    source: ConnectionSource,
    classify: &dyn Fn(&str) -> Option<KeyClass>,
) -> Vec<DbConnection> {
    let mut out = Vec::new();
    let mut url_stems: Vec<String> = Vec::new();
    // Connection strings by stem, for a database name set beside them.
    let mut parsed_urls: Vec<(usize, String)> = Vec::new();
    let mut groups: Vec<(String, SplitGroup<'_>)> = Vec::new();
    let mut group_index: HashMap<String, usize> = HashMap::new();

    // Later definitions override earlier ones (env_file first, then `environment:`).
    let mut last_index: HashMap<&str, usize> = HashMap::new();
    for (i, var) in vars.iter().enumerate() {
        last_index.insert(var.key.as_str(), i);
    }
    let effective = vars
        .iter()
        .enumerate()
        .filter(|(i, var)| last_index.get(var.key.as_str()) == Some(i))
        .map(|(_, var)| var);

    for var in effective {
        let class = classify(&var.key);
        let value = var.value.as_deref().map(str::trim).unwrap_or("");
        if let Some(target) = parse_database_url(value) {
            if let Some((stem, _, _)) = &class {
                url_stems.push(stem.clone());
                parsed_urls.push((out.len(), stem.clone()));
            }
            out.push(DbConnection {
                owner: owner.clone(),
                target,
                source,
                key: Some(var.key.clone()),
                span: var.span,
            });
            continue;
        }
        let Some((stem, field, engine)) = class else {
            continue;
        };
        if field == Field::Url {
            // Passed through or still `${VAR}`: a connection to a target nobody can name.
            if value.is_empty() && var.value.is_some() {
                continue;
            }
            if var.value.is_none() || is_unresolved(value) && !value.contains("://") {
                url_stems.push(stem.clone());
                out.push(DbConnection {
                    owner: owner.clone(),
                    target: DbTarget {
                        engine: engine.unwrap_or(DbEngine::Unknown),
                        host: None,
                        port: None,
                        database: None,
                    },
                    source,
                    key: Some(var.key.clone()),
                    span: var.span,
                });
            }
            continue;
        }
        let index = *group_index.entry(stem.clone()).or_insert_with(|| {
            groups.push((stem.clone(), SplitGroup::default()));
            groups.len() - 1
        });
        let group = &mut groups[index].1;
        group.engine = group.engine.or(engine);
        match field {
            Field::Host => group.host = Some(var),
            Field::Port => group.port = Some(var),
            Field::Name => group.name = Some(var),
            Field::User => group.user = Some(var),
            Field::Url => {}
        }
    }

    for (stem, group) in groups {
        if url_stems.contains(&stem) {
            // A connection string without a database, with the name beside it
            // (`CONTROL_DATABASE_URL=mongodb://mongo:27017` and `CONTROL_DATABASE_NAME=events`):
            // the client opens the named database on that server.
            let name = group.name.and_then(resolved_text);
            for (index, _) in parsed_urls.iter().filter(|(_, s)| *s == stem) {
                let target = &mut out[*index].target;
                if target.database.is_none() && target.engine != DbEngine::Redis {
                    target.database = name.map(str::to_string);
                }
            }
            continue;
        }
        let Some(anchor) = group.host.or(group.name) else {
            continue;
        };
        fn text(var: Option<&EnvVar>) -> Option<&str> {
            var.and_then(resolved_text)
        }
        let (host, host_port) = match text(group.host) {
            Some(host) => split_host_setting(host),
            None => (None, None),
        };
        let port = text(group.port)
            .and_then(|p| p.parse::<u16>().ok())
            .or(host_port);
        let engine = group
            .engine
            .or_else(|| port.and_then(engine_for_port))
            .unwrap_or(DbEngine::Unknown);
        let mut database = text(group.name).map(str::to_string);
        if database.is_none() && group.name.is_none() {
            database = match engine {
                // libpq connects to the database named like the user.
                DbEngine::Postgres => text(group.user).map(str::to_string),
                DbEngine::Redis => Some("0".to_string()),
                _ => None,
            };
        }
        let target = DbTarget {
            engine,
            host: if group.host.is_none() && stem == "PG" {
                Some("localhost".to_string())
            } else {
                host
            },
            port: normalize_port(engine, port),
            database,
        };
        let keys: Vec<&str> = [group.host, group.port, group.name]
            .into_iter()
            .flatten()
            .map(|v| v.key.as_str())
            .collect();
        // Split settings that only repeat a connection string's parts
        // (`DATABASE_URL=postgres://${DB_HOST}:${DB_PORT}/..`) are the same connection.
        let repeats = |c: &DbConnection| {
            c.target.host.is_some()
                && c.target.host == target.host
                && (target.port.is_none()
                    || normalize_port(c.target.engine, target.port) == c.target.port)
                && (target.database.is_none() || target.database == c.target.database)
        };
        if out.iter().any(repeats) {
            continue;
        }
        // Without a host, split settings next to a connection string (a `POSTGRES_DB` shared
        // with the database container through one env file) add nothing.
        if target.host.is_none() && !out.is_empty() {
            continue;
        }
        out.push(DbConnection {
            owner: owner.clone(),
            target,
            source,
            key: Some(keys.join(", ")),
            span: anchor.span,
        });
    }
    out
}

/// A variable's value when it is set, resolved and not a placeholder.
fn resolved_text(var: &EnvVar) -> Option<&str> {
    var.value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty() && !is_unresolved(v) && !is_placeholder(v))
}

/// `db`, `db:5433`, `[::1]:5433` as written in a host setting.
fn split_host_setting(text: &str) -> (Option<String>, Option<u16>) {
    if text.starts_with('/') {
        return (Some(text.to_string()), None);
    }
    if let Some(v6) = text.strip_prefix('[') {
        let (host, after) = v6.split_once(']').unwrap_or((v6, ""));
        return (
            normalize_host(host),
            after.strip_prefix(':').and_then(|p| p.parse().ok()),
        );
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (normalize_host(host), port.parse().ok()),
        _ => (normalize_host(text), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FileId;

    fn span() -> Span {
        Span {
            file: FileId(0),
            start: 0,
            end: 0,
            line: 1,
            column: 1,
        }
    }

    fn var(key: &str, value: &str) -> EnvVar {
        EnvVar {
            key: key.into(),
            value: Some(value.into()),
            span: span(),
        }
    }

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn shell(text: &str, pairs: &[(&str, &str)]) -> String {
        interpolate(
            text,
            Syntax::Shell {
                dollar_escape: true,
            },
            &lookup(pairs),
        )
    }

    #[test]
    fn shell_interpolation() {
        let vars = [("HOST", "db"), ("EMPTY", "")];
        assert_eq!(shell("postgres://${HOST}/x", &vars), "postgres://db/x");
        assert_eq!(shell("postgres://$HOST/x", &vars), "postgres://db/x");
        assert_eq!(shell("${MISSING:-fallback}", &vars), "fallback");
        assert_eq!(shell("${EMPTY:-fallback}", &vars), "fallback");
        assert_eq!(shell("${EMPTY-fallback}", &vars), "");
        assert_eq!(shell("${MISSING-${HOST}}", &vars), "db");
        assert_eq!(shell("${MISSING}", &vars), "${MISSING}");
        assert_eq!(shell("${MISSING:?must be set}", &vars), "${MISSING}");
        assert_eq!(shell("${HOST:+set}", &vars), "set");
        assert_eq!(shell("pa$$word", &vars), "pa$word");
        assert_eq!(shell("cost: 5$", &vars), "cost: 5$");
        assert_eq!(shell("${unterminated", &vars), "${unterminated");
        let dotenv = interpolate(
            "pa$$word",
            Syntax::Shell {
                dollar_escape: false,
            },
            &lookup(&vars),
        );
        assert_eq!(dotenv, "pa$$word");
    }

    #[test]
    fn kubernetes_interpolation() {
        let vars = [("DB_HOST", "orders-db")];
        let k8s = |t: &str| interpolate(t, Syntax::Kubernetes, &lookup(&vars));
        assert_eq!(
            k8s("postgres://$(DB_HOST)/orders"),
            "postgres://orders-db/orders"
        );
        assert_eq!(k8s("$$(DB_HOST)"), "$(DB_HOST)");
        assert_eq!(k8s("$(NOPE)"), "${NOPE}");
    }

    #[test]
    fn key_classification() {
        let c = classify_key;
        assert_eq!(c("DB_HOST"), Some(("DB".into(), Field::Host, None)));
        assert_eq!(
            c("ORDERS_DB_NAME"),
            Some(("ORDERS_DB".into(), Field::Name, None))
        );
        assert_eq!(
            c("POSTGRES_DB"),
            Some(("POSTGRES".into(), Field::Name, Some(DbEngine::Postgres)))
        );
        assert_eq!(
            c("APP_DATABASE__HOST"),
            Some(("APP_DATABASE".into(), Field::Host, None))
        );
        assert_eq!(
            c("APP_DATABASE__DATABASE_NAME"),
            Some(("APP_DATABASE".into(), Field::Name, None))
        );
        assert_eq!(
            c("database.url"),
            Some(("DATABASE".into(), Field::Url, None))
        );
        assert_eq!(
            c("REDIS_URL"),
            Some(("REDIS".into(), Field::Url, Some(DbEngine::Redis)))
        );
        assert_eq!(
            c("PGDATABASE"),
            Some(("PG".into(), Field::Name, Some(DbEngine::Postgres)))
        );
        assert_eq!(c("API_URL"), None);
        assert_eq!(c("SERVER_HOST"), None);
        assert_eq!(c("APP_PORT"), None);
    }

    fn conns(vars: &[EnvVar]) -> Vec<DbTarget> {
        connections(
            vars,
            &ConnectionOwner::Deployment("svc".into()),
            ConnectionSource::Compose,
        )
        .into_iter()
        .map(|c| c.target)
        .collect()
    }

    fn pg(host: &str, db: &str) -> DbTarget {
        DbTarget {
            engine: DbEngine::Postgres,
            host: Some(host.into()),
            port: None,
            database: Some(db.into()),
        }
    }

    #[test]
    fn urls_under_any_name_and_no_look_alikes() {
        let targets = conns(&[
            var("ORDERS_STORE", "postgres://u:p@db/orders"),
            var("API_URL", "http://orders:8080"),
            var("REDIS_URL", "redis://cache:6379"),
            var("LOG", "info"),
        ]);
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0], pg("db", "orders"));
        assert_eq!(targets[1].engine, DbEngine::Redis);
    }

    #[test]
    fn unresolved_url_variable_is_an_unknown_connection() {
        let targets = conns(&[var("DATABASE_URL", "${DATABASE_URL}")]);
        assert_eq!(
            targets,
            vec![DbTarget {
                engine: DbEngine::Unknown,
                host: None,
                port: None,
                database: None
            }]
        );
        let passthrough = EnvVar {
            key: "DATABASE_URL".into(),
            value: None,
            span: span(),
        };
        assert_eq!(conns(&[passthrough]).len(), 1);
        // An unresolved variable under a name that is not a connection string says nothing.
        assert!(conns(&[var("API_URL", "${API_URL}")]).is_empty());
        assert!(conns(&[var("DATABASE_URL", "")]).is_empty());
    }

    #[test]
    fn split_settings_form_one_connection() {
        let targets = conns(&[
            var("DB_HOST", "orders-db"),
            var("DB_PORT", "5432"),
            var("DB_NAME", "orders"),
            var("DB_PASSWORD", "secret"),
            var("PGHOST", "other:5433"),
            var("PGDATABASE", "billing"),
        ]);
        assert_eq!(
            targets,
            vec![
                pg("orders-db", "orders"),
                DbTarget {
                    port: Some(5433),
                    ..pg("other", "billing")
                },
            ]
        );
    }

    #[test]
    fn split_settings_defer_to_a_url_with_the_same_stem() {
        let targets = conns(&[
            var("DATABASE_URL", "postgres://db/orders"),
            var("DATABASE_HOST", "db"),
            var("DATABASE_NAME", "orders"),
        ]);
        assert_eq!(targets, vec![pg("db", "orders")]);
    }

    #[test]
    fn later_definitions_override_earlier_ones() {
        let targets = conns(&[
            var("DATABASE_URL", "postgres://old/orders"),
            var("DATABASE_URL", "postgres://new/orders"),
        ]);
        assert_eq!(targets, vec![pg("new", "orders")]);
    }

    #[test]
    fn urls_on_command_lines() {
        let shell = "migrate -path /m -database postgres://u:p@db/orders?sslmode=disable up";
        assert_eq!(
            urls_in_command([shell]),
            ["postgres://u:p@db/orders?sslmode=disable"]
        );
        let argv = [
            "server",
            "--database-url=\"mysql://db/shop\"",
            "--listen=http://0.0.0.0:80",
        ];
        assert_eq!(urls_in_command(argv), ["mysql://db/shop"]);
        assert!(urls_in_command(["psql", "host=db dbname=x"]).is_empty());
    }

    #[test]
    fn hostless_split_settings_defer_to_any_connection_string() {
        let targets = conns(&[
            var("POSTGRES_DB", "orders"),
            var("POSTGRES_USER", "app"),
            var("DATABASE_URL", "postgres://db/orders"),
        ]);
        assert_eq!(targets, vec![pg("db", "orders")]);
        // Alone, they are a connection to an unknown host.
        let targets = conns(&[var("POSTGRES_DB", "orders")]);
        assert_eq!(
            targets,
            vec![DbTarget {
                engine: DbEngine::Postgres,
                host: None,
                port: None,
                database: Some("orders".into())
            }]
        );
    }

    #[test]
    fn port_only_is_not_a_connection() {
        assert!(conns(&[var("DB_PORT", "5432")]).is_empty());
    }
}
