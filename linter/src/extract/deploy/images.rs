//! What a container image runs, judged by its repository name.
//!
//! Only exact repository names count, so tools named after a database
//! (`postgres-exporter`, `redis-commander`, `mongo-express`, `dpage/pgadmin4`) are not
//! taken for database servers.

use crate::model::DbEngine;

/// The last path segment of an image reference, lower case, without registry, tag or digest:
/// `registry.example.com:5000/bitnami/postgresql:16@sha256:..` -> `postgresql`.
pub(crate) fn image_name(image: &str) -> String {
    let image = image.trim();
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    let name = last.split(':').next().unwrap_or(last);
    name.to_ascii_lowercase()
}

/// The engine of a database server image.
pub(crate) fn engine_for_image(image: &str) -> Option<DbEngine> {
    let name = image_name(image);
    let engine = match name.as_str() {
        "postgres"
        | "postgresql"
        | "postgis"
        | "timescaledb"
        | "timescaledb-ha"
        | "timescaledb-postgis"
        | "pgvector"
        | "postgresql-repmgr"
        | "cockroach"
        | "paradedb"
        | "crunchy-postgres"
        | "alloydbomni"
        | "postgres-ha" => DbEngine::Postgres,
        "mysql" | "mysql-server" | "mariadb" | "percona" | "percona-server" | "mariadb-galera" => {
            DbEngine::MySql
        }
        "mongo"
        | "mongodb"
        | "mongodb-community-server"
        | "mongodb-enterprise-server"
        | "percona-server-mongodb" => DbEngine::Mongo,
        "redis" | "redis-stack" | "redis-stack-server" | "redis-cluster" | "valkey" | "keydb"
        | "dragonfly" => DbEngine::Redis,
        name if name.starts_with("spilo-") => DbEngine::Postgres,
        _ => return None,
    };
    Some(engine)
}

/// True for connection poolers and proxies that forward to a database server.
pub(crate) fn is_pooler_image(image: &str) -> bool {
    let name = image_name(image);
    name.starts_with("pgbouncer")
        || name.starts_with("pgpool")
        || matches!(
            name.as_str(),
            "pgcat" | "odyssey" | "haproxy" | "proxysql" | "supavisor"
        )
}

/// True for database admin UIs and metrics exporters: they connect to every database by
/// design, so their connections say nothing about which service owns which data.
pub(crate) fn is_tool_image(image: &str) -> bool {
    let name = image_name(image);
    matches!(
        name.as_str(),
        "pgadmin4"
            | "pgadmin"
            | "adminer"
            | "phpmyadmin"
            | "pgweb"
            | "cloudbeaver"
            | "mongo-express"
            | "redis-commander"
            | "redisinsight"
            | "postgres-exporter"
            | "postgres_exporter"
            | "mysqld-exporter"
            | "mongodb-exporter"
            | "redis_exporter"
            | "redis-exporter"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_images() {
        assert_eq!(
            engine_for_image("postgres:16-alpine"),
            Some(DbEngine::Postgres)
        );
        assert_eq!(
            engine_for_image("postgis/postgis:15-3.4"),
            Some(DbEngine::Postgres)
        );
        assert_eq!(
            engine_for_image("timescale/timescaledb-ha:pg16"),
            Some(DbEngine::Postgres)
        );
        assert_eq!(
            engine_for_image("docker.io/bitnami/postgresql:16@sha256:abc"),
            Some(DbEngine::Postgres)
        );
        assert_eq!(
            engine_for_image("registry:5000/library/mysql:8"),
            Some(DbEngine::MySql)
        );
        assert_eq!(engine_for_image("mariadb:11"), Some(DbEngine::MySql));
        assert_eq!(engine_for_image("mongo:7"), Some(DbEngine::Mongo));
        assert_eq!(
            engine_for_image("redis/redis-stack:latest"),
            Some(DbEngine::Redis)
        );
        assert_eq!(
            engine_for_image("cockroachdb/cockroach:v23.1.0"),
            Some(DbEngine::Postgres)
        );
    }

    #[test]
    fn tools_named_after_databases_are_not_servers() {
        for image in [
            "prometheuscommunity/postgres-exporter",
            "rediscommander/redis-commander",
            "mongo-express",
            "dpage/pgadmin4",
            "edoburu/pgbouncer",
            "orders:latest",
        ] {
            assert_eq!(engine_for_image(image), None, "{image}");
        }
    }

    #[test]
    fn tools() {
        assert!(is_tool_image("dpage/pgadmin4:8"));
        assert!(is_tool_image("prometheuscommunity/postgres-exporter"));
        assert!(is_tool_image("oliver006/redis_exporter:v1"));
        assert!(!is_tool_image("example/orders"));
    }

    #[test]
    fn poolers() {
        assert!(is_pooler_image("edoburu/pgbouncer:1.22"));
        assert!(is_pooler_image("bitnami/pgbouncer"));
        assert!(is_pooler_image("bitnami/pgpool:4"));
        assert!(is_pooler_image("haproxy:2.9"));
        assert!(!is_pooler_image("postgres"));
    }
}
