//! Database connection strings normalised to a [`DbTarget`].
//!
//! Two services share a database when their targets compare equal, so normalisation is
//! what makes the comparison honest: hosts are lower-cased and stripped of Kubernetes
//! cluster suffixes, loopback addresses become `localhost`, the engine's default port
//! becomes `None` (so `db:5432` and `db` are the same server), credentials and query options
//! are dropped. Parts that are still `${VAR}` (or `$(VAR)`, `{{ .Values.x }}`) after
//! interpolation stay `None`: an unresolved host is unknown, never guessed.

use crate::model::{DbEngine, DbTarget};

/// Parses a database connection string.
///
/// Accepts URLs (`postgres://`, `postgresql://`, `mysql://`, `mariadb://`, `sqlite:`,
/// `mongodb://`, `mongodb+srv://`, `redis://`, `rediss://`, `redis+unix://`, driver suffixes
/// such as `postgresql+asyncpg://`), JDBC URLs (`jdbc:postgresql://..`) and libpq key/value
/// strings (`host=db dbname=orders user=app`). Returns `None` for anything that is not a
/// database connection string (`http://orders:8080`, plain words, empty text).
pub fn parse_database_url(text: &str) -> Option<DbTarget> {
    let text = text.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if text.is_empty() {
        return None;
    }
    let text = strip_prefix_ignore_case(text, "jdbc:").unwrap_or(text);
    if let Some((scheme, rest)) = split_scheme(text) {
        let engine = engine_for_scheme(&scheme)?;
        return Some(match engine {
            DbEngine::Sqlite => parse_sqlite(rest),
            DbEngine::Redis if scheme.contains("unix") || scheme.contains("socket") => {
                parse_redis_socket(rest)
            }
            _ => parse_network_url(engine, &scheme, rest),
        });
    }
    parse_libpq(text)
}

/// The port a client uses when none is given.
pub fn default_port(engine: DbEngine) -> Option<u16> {
    match engine {
        DbEngine::Postgres => Some(5432),
        DbEngine::MySql => Some(3306),
        DbEngine::Mongo => Some(27017),
        DbEngine::Redis => Some(6379),
        DbEngine::Sqlite | DbEngine::Unknown => None,
    }
}

/// Normalises a port for comparison: the engine's default port becomes `None`.
pub fn normalize_port(engine: DbEngine, port: Option<u16>) -> Option<u16> {
    match port {
        Some(port) if Some(port) == default_port(engine) => None,
        other => other,
    }
}

/// The engine a well-known port suggests, for split settings that name no engine.
pub fn engine_for_port(port: u16) -> Option<DbEngine> {
    match port {
        5432 | 6432 | 26257 => Some(DbEngine::Postgres),
        3306 => Some(DbEngine::MySql),
        27017 => Some(DbEngine::Mongo),
        6379 => Some(DbEngine::Redis),
        _ => None,
    }
}

/// Normalises a host name: lower case, no brackets around IPv6 addresses, loopback
/// addresses as `localhost`, and Kubernetes service DNS names
/// (`orders-db.default.svc.cluster.local`, `orders-db.default.svc`) as the bare service
/// name. Returns `None` for empty or unresolved hosts.
pub fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() || is_unresolved(host) || is_placeholder(host) {
        return None;
    }
    if host.starts_with('/') {
        // A Unix socket directory; paths are case-sensitive.
        return Some(host.to_string());
    }
    let mut host = host.to_ascii_lowercase();
    if let Some(stripped) = host.strip_suffix('.') {
        host = stripped.to_string();
    }
    if matches!(
        host.as_str(),
        "127.0.0.1" | "::1" | "0:0:0:0:0:0:0:1" | "localhost"
    ) {
        return Some("localhost".to_string());
    }
    // `<service>.<namespace>.svc[.cluster.local]`: the service name identifies the server.
    let labels: Vec<&str> = host.split('.').collect();
    if let Some(svc) = labels.iter().position(|l| *l == "svc") {
        if svc >= 1 {
            return Some(labels[0].to_string());
        }
    }
    Some(host)
}

/// True when text still holds a variable reference or template that was not resolved:
/// `${VAR}`, `$VAR`, `$(VAR)` (Kubernetes), `{{ .Values.x }}` (Helm), `%(var)s`.
pub fn is_unresolved(text: &str) -> bool {
    text.contains("${")
        || text.contains("$(")
        || text.contains("{{")
        || text.contains("%(")
        || text
            .strip_prefix('$')
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
}

/// True for the stand-ins of example files: `<host>`, `DB_HOST`, `your_database`, `dbname`.
/// Two services whose `.env.example` both say `postgres://user:pass@host/dbname` do not
/// share a database.
pub fn is_placeholder(text: &str) -> bool {
    if text.contains(['<', '>', '{', '}']) {
        return true;
    }
    let shouting = text.chars().any(|c| c.is_ascii_uppercase())
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if shouting
        && (text.contains('_') || matches!(text, "HOST" | "HOSTNAME" | "DATABASE" | "DBNAME"))
    {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    lower.starts_with("your_")
        || lower.starts_with("your-")
        || lower.starts_with("my_database")
        || matches!(
            lower.as_str(),
            "dbname"
                | "db_name"
                | "database_name"
                | "databasename"
                | "yourdb"
                | "yourdatabase"
                | "hostname"
                | "yourhost"
                | "db_host"
                | "database_host"
                | "changeme"
                | "xxx"
        )
}

/// Decodes `%XX` escapes; invalid escapes are kept as written.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Splits `scheme:rest`, returning the lower-cased scheme. `rest` keeps a leading `//`.
fn split_scheme(text: &str) -> Option<(String, &str)> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    if scheme.is_empty()
        || !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), &text[colon + 1..]))
}

fn engine_for_scheme(scheme: &str) -> Option<DbEngine> {
    if scheme == "mongodb+srv" {
        return Some(DbEngine::Mongo);
    }
    // `postgresql+asyncpg`, `mysql+pymysql`: the part before `+` names the engine.
    let base = scheme.split('+').next().unwrap_or(scheme);
    Some(match base {
        "postgres" | "postgresql" | "pg" | "pgsql" | "postgis" | "timescaledb" | "cockroachdb"
        | "cockroach" | "redshift" => DbEngine::Postgres,
        "mysql" | "mariadb" | "mysqlx" => DbEngine::MySql,
        "sqlite" | "sqlite3" => DbEngine::Sqlite,
        "mongodb" | "mongo" => DbEngine::Mongo,
        "redis" | "rediss" | "valkey" | "valkeys" | "redis-cluster" | "redis-sentinel" => {
            DbEngine::Redis
        }
        _ => return None,
    })
}

fn parse_sqlite(rest: &str) -> DbTarget {
    let without_query = rest.split(['?', '#']).next().unwrap_or(rest);
    // `sqlite://data.db` and `sqlite:data.db` name a relative file; `sqlite:///abs.db` an
    // absolute one.
    let path = without_query.strip_prefix("//").unwrap_or(without_query);
    let path = percent_decode(path);
    let path = path.strip_prefix("./").unwrap_or(&path).to_string();
    let in_memory = path.is_empty()
        || path == ":memory:"
        || rest.contains("mode=memory")
        || is_unresolved(&path);
    DbTarget {
        engine: DbEngine::Sqlite,
        host: None,
        port: None,
        // An in-memory database is private to its process: nothing to compare.
        database: (!in_memory).then_some(path),
    }
}

fn parse_redis_socket(rest: &str) -> DbTarget {
    let without_query = rest.split(['?', '#']).next().unwrap_or(rest);
    let path = without_query.trim_start_matches("//");
    let path = path.rsplit_once('@').map_or(path, |(_, p)| p);
    let db = query_param(rest, "db").unwrap_or_else(|| "0".to_string());
    DbTarget {
        engine: DbEngine::Redis,
        host: (!path.is_empty() && !is_unresolved(path)).then(|| percent_decode(path)),
        port: None,
        database: Some(db),
    }
}

fn query_param(rest: &str, name: &str) -> Option<String> {
    let query = rest.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.eq_ignore_ascii_case(name)
            .then(|| percent_decode(value))
    })
}

fn parse_network_url(engine: DbEngine, scheme: &str, rest: &str) -> DbTarget {
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    // Credentials end at the last `@` before the path; passwords may hold `@` unescaped.
    let path_start = rest.find('/').unwrap_or(rest.len());
    let after_credentials = match rest[..path_start].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => match rest.rfind('@') {
            // A password holding an unescaped `/`: `user:pa/ss@host/db`.
            Some(at) if !rest[at + 1..].contains('@') && rest[..at].contains(':') => {
                let candidate = &rest[at + 1..];
                if candidate.contains('/') || !candidate.contains('?') {
                    candidate
                } else {
                    rest
                }
            }
            _ => rest,
        },
    };
    let authority_end = after_credentials
        .find(['/', '?', '#'])
        .unwrap_or(after_credentials.len());
    let authority = &after_credentials[..authority_end];
    let tail = &after_credentials[authority_end..];
    let (path, query) = match tail.find('?') {
        Some(q) => (&tail[..q], Some(&tail[q..])),
        None => (tail.split('#').next().unwrap_or(tail), None),
    };

    let (mut host, mut port) = split_host_port(engine, authority);
    let mut database = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .filter(|db| !db.is_empty())
        .map(percent_decode);
    let query = query.unwrap_or("");
    // libpq URLs accept `?host=/var/run/postgresql` (socket dir), `?port=`, `?dbname=`.
    if engine == DbEngine::Postgres {
        if let Some(h) = query_param(query, "host") {
            host = normalize_host(&h);
            if h.starts_with('/') {
                host = Some(h);
            }
        }
        if let Some(p) = query_param(query, "port").and_then(|p| p.parse().ok()) {
            port = Some(p);
        }
        if let Some(db) = query_param(query, "dbname") {
            database = Some(db);
        }
    }
    if engine == DbEngine::Redis {
        // The path of a Redis URL is the logical database number; 0 when absent.
        database = Some(
            database
                .or_else(|| query_param(query, "db"))
                .unwrap_or_else(|| "0".to_string()),
        );
    }
    if database
        .as_deref()
        .is_some_and(|db| is_unresolved(db) || is_placeholder(db))
    {
        database = None;
    }
    // `postgres:///db` with no host connects through the local socket.
    if host.is_none() && authority.is_empty() && !is_unresolved(rest) {
        host = Some("localhost".to_string());
    }
    if engine == DbEngine::Postgres && database.is_none() && path.trim_matches('/').is_empty() {
        // libpq's default database is the user name.
        database = user_name(rest, after_credentials);
    }
    if scheme == "mongodb+srv" {
        // SRV records choose the port.
        port = None;
    }
    DbTarget {
        engine,
        host,
        port: normalize_port(engine, port),
        database,
    }
}

/// The user name of `user:password@host`, for libpq's default database.
fn user_name(rest: &str, after_credentials: &str) -> Option<String> {
    let credentials = rest.strip_suffix(after_credentials)?.strip_suffix('@')?;
    let user = credentials.split(':').next()?;
    (!user.is_empty() && !is_unresolved(user)).then(|| percent_decode(user))
}

/// Splits `host:port`, `[v6]:port` or a comma-separated host list (Mongo replica sets,
/// libpq multi-host). Host lists are normalised to a sorted, comma-joined list.
fn split_host_port(engine: DbEngine, authority: &str) -> (Option<String>, Option<u16>) {
    if authority.is_empty() {
        return (None, None);
    }
    let members: Vec<(Option<String>, Option<u16>)> =
        authority.split(',').map(split_one_host_port).collect();
    if members.len() == 1 {
        return members.into_iter().next().unwrap_or((None, None));
    }
    let mut hosts: Vec<String> = members
        .iter()
        .filter_map(|(host, port)| {
            let host = host.as_ref()?;
            Some(match normalize_port(engine, *port) {
                Some(port) => format!("{host}:{port}"),
                None => host.clone(),
            })
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    ((!hosts.is_empty()).then(|| hosts.join(",")), None)
}

fn split_one_host_port(authority: &str) -> (Option<String>, Option<u16>) {
    let authority = percent_decode(authority);
    // Go-style MySQL addresses: `tcp(db:3306)`.
    let authority = match authority
        .strip_prefix("tcp(")
        .and_then(|a| a.strip_suffix(')'))
    {
        Some(inner) => inner.to_string(),
        None => authority,
    };
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').unwrap_or((v6, ""));
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return (normalize_host(host), port);
    }
    // A bare IPv6 address has several colons and no port.
    if authority.matches(':').count() > 1 {
        return (normalize_host(&authority), None);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (normalize_host(host), port.parse().ok()),
        None => (normalize_host(&authority), None),
    }
}

/// libpq key/value connection strings: `host=db port=5432 dbname=orders user=app`.
/// Requires `host` or `dbname` so that arbitrary `a=b` text is not taken for one.
fn parse_libpq(text: &str) -> Option<DbTarget> {
    let pairs = libpq_pairs(text)?;
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    const KNOWN: &[&str] = &[
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "connect_timeout",
        "application_name",
        "options",
        "target_session_attrs",
        "channel_binding",
        "gssencmode",
        "keepalives",
        "client_encoding",
        "service",
    ];
    // A lone `host=x` is as likely a log filter or a form field as a connection string.
    if get("dbname").is_none() && (pairs.len() < 2 || get("host").or(get("hostaddr")).is_none()) {
        return None;
    }
    if !pairs
        .iter()
        .all(|(k, _)| KNOWN.iter().any(|known| k.eq_ignore_ascii_case(known)))
    {
        return None;
    }
    let host_text = get("host").or(get("hostaddr"));
    let host = match host_text {
        Some(h) if h.starts_with('/') => Some(h.to_string()),
        Some(h) => {
            let first = h.split(',').next().unwrap_or(h);
            normalize_host(first)
        }
        None => Some("localhost".to_string()),
    };
    let port = get("port").and_then(|p| p.parse().ok());
    let database = get("dbname")
        .or(get("user"))
        .filter(|db| !db.is_empty() && !is_unresolved(db) && !is_placeholder(db))
        .map(str::to_string);
    Some(DbTarget {
        engine: DbEngine::Postgres,
        host,
        port: normalize_port(DbEngine::Postgres, port),
        database,
    })
}

/// Splits `key=value key='quoted value'` pairs; `None` when the text is not in that form.
fn libpq_pairs(text: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '\'' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                if c == '\\' {
                    chars.next();
                    value.extend(chars.next());
                    continue;
                }
                value.push(c);
                chars.next();
            }
        }
        pairs.push((key, value));
    }
    (!pairs.is_empty()).then_some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(
        engine: DbEngine,
        host: Option<&str>,
        port: Option<u16>,
        db: Option<&str>,
    ) -> DbTarget {
        DbTarget {
            engine,
            host: host.map(str::to_string),
            port,
            database: db.map(str::to_string),
        }
    }

    fn pg(host: &str, db: &str) -> DbTarget {
        target(DbEngine::Postgres, Some(host), None, Some(db))
    }

    #[test]
    fn postgres_urls_compare_equal_with_and_without_default_port() {
        let a = parse_database_url("postgres://app:secret@Orders-DB:5432/orders").unwrap();
        let b = parse_database_url("postgresql://orders-db/orders?sslmode=disable").unwrap();
        assert_eq!(a, pg("orders-db", "orders"));
        assert_eq!(a, b);
    }

    #[test]
    fn non_default_port_is_kept() {
        let t = parse_database_url("postgres://u:p@pgbouncer:6432/orders").unwrap();
        assert_eq!(
            t,
            target(
                DbEngine::Postgres,
                Some("pgbouncer"),
                Some(6432),
                Some("orders")
            )
        );
    }

    #[test]
    fn credentials_are_dropped_even_with_escaped_and_raw_at_signs() {
        let t = parse_database_url("postgres://app:p%40ss%2Fw0rd@db/orders").unwrap();
        assert_eq!(t, pg("db", "orders"));
        let t = parse_database_url("postgres://app:p@ss@db:5432/orders").unwrap();
        assert_eq!(t, pg("db", "orders"));
        let t = parse_database_url("mysql://app:pa/ss@db:3306/shop").unwrap();
        assert_eq!(t, target(DbEngine::MySql, Some("db"), None, Some("shop")));
    }

    #[test]
    fn ipv6_and_loopback_hosts() {
        let t = parse_database_url("postgres://u@[2001:DB8::1]:5433/orders").unwrap();
        assert_eq!(
            t,
            target(
                DbEngine::Postgres,
                Some("2001:db8::1"),
                Some(5433),
                Some("orders")
            )
        );
        let t = parse_database_url("postgres://u@[::1]/orders").unwrap();
        assert_eq!(t, pg("localhost", "orders"));
        assert_eq!(
            parse_database_url("postgres://127.0.0.1/orders").unwrap(),
            pg("localhost", "orders")
        );
    }

    #[test]
    fn unix_sockets() {
        let t = parse_database_url("postgres:///orders?host=/var/run/postgresql").unwrap();
        assert_eq!(t, pg("/var/run/postgresql", "orders"));
        let t = parse_database_url("postgresql://%2Fvar%2Frun%2Fpostgresql/orders").unwrap();
        assert_eq!(t, pg("/var/run/postgresql", "orders"));
        let t = parse_database_url("redis+unix:///tmp/redis.sock?db=2").unwrap();
        assert_eq!(
            t,
            target(DbEngine::Redis, Some("/tmp/redis.sock"), None, Some("2"))
        );
    }

    #[test]
    fn missing_database_name() {
        // libpq falls back to the user name.
        assert_eq!(
            parse_database_url("postgres://orders@db").unwrap(),
            pg("db", "orders")
        );
        let t = parse_database_url("postgres://db:5432").unwrap();
        assert_eq!(t, target(DbEngine::Postgres, Some("db"), None, None));
        assert!(!t.is_resolved());
        let t = parse_database_url("mysql://root@db/").unwrap();
        assert_eq!(t, target(DbEngine::MySql, Some("db"), None, None));
    }

    #[test]
    fn unresolved_parts_stay_unknown() {
        let t = parse_database_url("postgres://${DB_USER}:${DB_PASS}@${DB_HOST}:5432/${DB_NAME}")
            .unwrap();
        assert_eq!(t, target(DbEngine::Postgres, None, None, None));
        let t = parse_database_url("postgres://u:${PASSWORD}@db/orders").unwrap();
        assert_eq!(t, pg("db", "orders"));
        // A known host with an unknown port is still the host.
        let t = parse_database_url("postgres://u@db:${DB_PORT}/orders").unwrap();
        assert_eq!(t, pg("db", "orders"));
        let t = parse_database_url("postgres://u@${DB_HOST}:5433/orders").unwrap();
        assert_eq!(
            t,
            target(DbEngine::Postgres, None, Some(5433), Some("orders"))
        );
        let t = parse_database_url("postgres://u@{{ .Values.db.host }}/orders").unwrap();
        assert_eq!(t.host, None);
        assert_eq!(parse_database_url("${DATABASE_URL}"), None);
    }

    #[test]
    fn kubernetes_service_names_normalise_to_the_service() {
        let a = parse_database_url("postgres://u@orders-db.default.svc.cluster.local:5432/orders")
            .unwrap();
        let b = parse_database_url("postgres://u@orders-db.prod.svc/orders").unwrap();
        assert_eq!(a, pg("orders-db", "orders"));
        assert_eq!(b, pg("orders-db", "orders"));
        // Ordinary domain names are kept whole.
        let c = parse_database_url("postgres://db.example.com/orders").unwrap();
        assert_eq!(c.host.as_deref(), Some("db.example.com"));
    }

    #[test]
    fn other_engines() {
        assert_eq!(
            parse_database_url("mariadb://u:p@maria:3306/shop").unwrap(),
            target(DbEngine::MySql, Some("maria"), None, Some("shop"))
        );
        assert_eq!(
            parse_database_url("mongodb://u:p@mongo:27017/catalog?authSource=admin").unwrap(),
            target(DbEngine::Mongo, Some("mongo"), None, Some("catalog"))
        );
        assert_eq!(
            parse_database_url("mongodb+srv://u:p@Cluster0.abc.mongodb.net/catalog").unwrap(),
            target(
                DbEngine::Mongo,
                Some("cluster0.abc.mongodb.net"),
                None,
                Some("catalog")
            )
        );
        assert_eq!(
            parse_database_url("mongodb://m2:27017,m1:27017,m3:27018/catalog?replicaSet=rs0")
                .unwrap(),
            target(
                DbEngine::Mongo,
                Some("m1,m2,m3:27018"),
                None,
                Some("catalog")
            )
        );
        assert_eq!(
            parse_database_url("redis://:secret@cache:6379/1").unwrap(),
            target(DbEngine::Redis, Some("cache"), None, Some("1"))
        );
        assert_eq!(
            parse_database_url("rediss://cache").unwrap(),
            target(DbEngine::Redis, Some("cache"), None, Some("0"))
        );
        assert_eq!(
            parse_database_url("postgresql+asyncpg://u@db/orders").unwrap(),
            pg("db", "orders")
        );
    }

    #[test]
    fn sqlite_paths() {
        let file = |p: &str| target(DbEngine::Sqlite, None, None, Some(p));
        assert_eq!(
            parse_database_url("sqlite:data/app.db").unwrap(),
            file("data/app.db")
        );
        assert_eq!(
            parse_database_url("sqlite://./app.db?mode=rwc").unwrap(),
            file("app.db")
        );
        assert_eq!(
            parse_database_url("sqlite:///var/lib/app.db").unwrap(),
            file("/var/lib/app.db")
        );
        assert_eq!(
            parse_database_url("sqlite::memory:").unwrap(),
            target(DbEngine::Sqlite, None, None, None)
        );
    }

    #[test]
    fn jdbc_urls() {
        assert_eq!(
            parse_database_url("jdbc:postgresql://db:5432/orders?user=x").unwrap(),
            pg("db", "orders")
        );
        assert_eq!(
            parse_database_url("mysql://u:p@tcp(DB:3306)/shop").unwrap(),
            target(DbEngine::MySql, Some("db"), None, Some("shop"))
        );
        assert_eq!(
            parse_database_url("jdbc:mysql://db:3307/shop").unwrap(),
            target(DbEngine::MySql, Some("db"), Some(3307), Some("shop"))
        );
    }

    #[test]
    fn libpq_key_value_strings() {
        assert_eq!(
            parse_database_url("host=DB port=5432 dbname=orders user=app password=secret").unwrap(),
            pg("db", "orders")
        );
        assert_eq!(
            parse_database_url("host=/tmp dbname='my orders' sslmode=disable").unwrap(),
            pg("/tmp", "my orders")
        );
        assert_eq!(
            parse_database_url("dbname=orders").unwrap(),
            pg("localhost", "orders")
        );
        // Arbitrary key=value text is not a connection string.
        assert_eq!(parse_database_url("level=info target=app"), None);
        assert_eq!(parse_database_url("host=a color=red"), None);
        assert_eq!(parse_database_url("host=debug"), None);
    }

    #[test]
    fn placeholders_of_example_files_are_unknown() {
        let unknown = target(DbEngine::Postgres, None, None, None);
        assert_eq!(
            parse_database_url("postgres://user:password@<host>:5432/<db>").unwrap(),
            unknown
        );
        assert_eq!(
            parse_database_url("postgres://USERNAME:PASSWORD@DB_HOST:DB_PORT/DB_NAME").unwrap(),
            unknown
        );
        let t = parse_database_url("postgres://user:pass@localhost:5432/dbname").unwrap();
        assert_eq!(t, target(DbEngine::Postgres, Some("localhost"), None, None));
        let t = parse_database_url("mysql://root@db/your_database").unwrap();
        assert_eq!(t.database, None);
        // Real names in lower case or mixed case stay.
        assert_eq!(
            parse_database_url("postgres://db/Orders")
                .unwrap()
                .database
                .as_deref(),
            Some("Orders")
        );
    }

    #[test]
    fn look_alikes_are_not_databases() {
        assert_eq!(parse_database_url("http://orders:8080"), None);
        assert_eq!(parse_database_url("https://db.example.com/orders"), None);
        assert_eq!(parse_database_url("amqp://rabbit:5672/%2f"), None);
        assert_eq!(parse_database_url("orders"), None);
        assert_eq!(parse_database_url(""), None);
        assert_eq!(parse_database_url("C:\\data\\app.db"), None);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "postgres://",
            "postgres://@",
            "postgres://:@/",
            "postgres://[",
            "postgres://[::1",
            "postgres://h:99999/db",
            "mysql://%",
            "mysql://%4",
            "redis://",
            "sqlite:",
            "mongodb+srv://",
            "host='unterminated",
            "=",
            "jdbc:",
            "postgres://é:1/ü",
        ] {
            let _ = parse_database_url(text);
        }
    }
}
