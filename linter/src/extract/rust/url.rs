//! Database URLs (`postgres://user:pw@host:5432/db`) to normalised targets.

use crate::model::{DbEngine, DbTarget};

const SCHEMES: &[(&str, DbEngine)] = &[
    ("postgresql://", DbEngine::Postgres),
    ("postgres://", DbEngine::Postgres),
    ("mysql://", DbEngine::MySql),
    ("mariadb://", DbEngine::MySql),
    ("mongodb+srv://", DbEngine::Mongo),
    ("mongodb://", DbEngine::Mongo),
    ("rediss://", DbEngine::Redis),
    ("redis://", DbEngine::Redis),
    ("sqlite:", DbEngine::Sqlite),
];

/// Case-insensitive ASCII prefix test that never slices inside a character.
fn has_prefix(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn default_port(engine: DbEngine) -> Option<u16> {
    match engine {
        DbEngine::Postgres => Some(5432),
        DbEngine::MySql => Some(3306),
        DbEngine::Mongo => Some(27017),
        DbEngine::Redis => Some(6379),
        DbEngine::Sqlite | DbEngine::Unknown => None,
    }
}

/// True when the text is a database URL (and nothing else).
pub fn is_database_url(text: &str) -> bool {
    let text = text.trim();
    !text.contains(char::is_whitespace)
        && SCHEMES
            .iter()
            .any(|(scheme, _)| has_prefix(text, scheme) && text.len() > scheme.len())
}

/// Parses a database URL. Credentials are dropped, the host is lower-cased, a default port is
/// left out so that `host` and `host:5432` compare equal. Placeholders (`{}`, `${VAR}`) make
/// the parts they touch unknown.
pub fn parse_database_url(text: &str) -> Option<DbTarget> {
    let text = text.trim();
    if !is_database_url(text) {
        return None;
    }
    let (scheme, engine) = SCHEMES
        .iter()
        .find(|(scheme, _)| has_prefix(text, scheme))?;
    let rest = &text[scheme.len()..];
    let without_query = rest.split(['?', '#']).next().unwrap_or("");
    if *engine == DbEngine::Sqlite {
        let path = without_query.trim_start_matches("//");
        let database = (!path.is_empty() && !is_placeholder(path)).then(|| path.to_owned());
        return Some(DbTarget {
            engine: DbEngine::Sqlite,
            host: None,
            port: None,
            database,
        });
    }
    let (authority, path) = match without_query.find('/') {
        Some(p) => (&without_query[..p], &without_query[p + 1..]),
        None => (without_query, ""),
    };
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // Several hosts (`h1:27017,h2:27017`): the first names the cluster.
    let host_port = host_port.split(',').next().unwrap_or("");
    let (host, port) = split_host_port(host_port);
    let host = host
        .filter(|h| !h.is_empty() && !is_placeholder(h))
        .map(|h| h.to_lowercase());
    let port = port
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|p| Some(*p) != default_port(*engine));
    let database = path.trim_matches('/');
    let database = (!database.is_empty() && !is_placeholder(database)).then(|| database.to_owned());
    Some(DbTarget {
        engine: *engine,
        host,
        port,
        database,
    })
}

fn split_host_port(text: &str) -> (Option<&str>, Option<&str>) {
    if let Some(rest) = text.strip_prefix('[') {
        // IPv6 literal.
        let close = rest.find(']');
        return match close {
            Some(c) => (Some(&rest[..c]), rest[c + 1..].strip_prefix(':')),
            None => (None, None),
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) => (Some(host), Some(port)),
        None => (Some(text), None),
    }
}

fn is_placeholder(text: &str) -> bool {
    text.contains(['{', '}', '$', '%', '<', '>'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(
        engine: DbEngine,
        host: Option<&str>,
        port: Option<u16>,
        db: Option<&str>,
    ) -> Option<DbTarget> {
        Some(DbTarget {
            engine,
            host: host.map(str::to_owned),
            port,
            database: db.map(str::to_owned),
        })
    }

    #[test]
    fn parses_common_urls() {
        assert_eq!(
            parse_database_url("postgres://app:secret@DB.internal:5432/orders?sslmode=disable"),
            target(
                DbEngine::Postgres,
                Some("db.internal"),
                None,
                Some("orders")
            )
        );
        assert_eq!(
            parse_database_url("postgresql://localhost:6432/orders"),
            target(
                DbEngine::Postgres,
                Some("localhost"),
                Some(6432),
                Some("orders")
            )
        );
        assert_eq!(
            parse_database_url("mysql://root@mysql/shop"),
            target(DbEngine::MySql, Some("mysql"), None, Some("shop"))
        );
        assert_eq!(
            parse_database_url("sqlite://data/app.db?mode=rwc"),
            target(DbEngine::Sqlite, None, None, Some("data/app.db"))
        );
        assert_eq!(
            parse_database_url("sqlite::memory:"),
            target(DbEngine::Sqlite, None, None, Some(":memory:"))
        );
        assert_eq!(
            parse_database_url("mongodb://a:27017,b:27017/catalog?replicaSet=rs0"),
            target(DbEngine::Mongo, Some("a"), None, Some("catalog"))
        );
        assert_eq!(
            parse_database_url("redis://cache:6380/2"),
            target(DbEngine::Redis, Some("cache"), Some(6380), Some("2"))
        );
        assert_eq!(
            parse_database_url("postgres://{}:{}@{}/orders"),
            target(DbEngine::Postgres, None, None, Some("orders"))
        );
        assert_eq!(parse_database_url("https://example.com"), None);
        assert_eq!(parse_database_url("connect to postgres://x/y"), None);
        assert_eq!(parse_database_url("abcαβγ“”"), None);
        assert_eq!(parse_database_url("cat-🚐"), None);
    }
}
