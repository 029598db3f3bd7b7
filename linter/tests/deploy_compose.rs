mod deploy_support;

use archlint::extract::deploy::DeployFileKind;
use archlint::model::{ConnectionOwner, ConnectionSource, DbEngine, DbTarget, NoteKind};
use deploy_support::*;

fn connections_of(facts: &archlint::extract::Facts, service: &str) -> Vec<DbTarget> {
    facts
        .connections
        .iter()
        .filter(|c| c.owner == ConnectionOwner::Deployment(service.to_string()))
        .map(|c| c.target.clone())
        .collect()
}

#[test]
fn compose_services_become_deployments() {
    let facts = extract(
        "compose_basic",
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
    );
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
    let names: Vec<&str> = facts.deployments.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "orders",
            "billing",
            "reports",
            "legacy",
            "postgres",
            "pgbouncer",
            "cache",
            "exporter"
        ]
    );
    let find = |name: &str| facts.deployments.iter().find(|d| d.name == name).unwrap();

    let orders = find("orders");
    assert_eq!(
        orders.build_context.as_deref().map(|p| p.as_str()),
        Some("services/orders")
    );
    assert_eq!(
        orders.dockerfile.as_deref().map(|p| p.as_str()),
        Some("services/orders/Dockerfile.prod")
    );
    assert_eq!(orders.database_engine, None);
    assert_eq!(orders.span.line, 5);

    // No Dockerfile on disk: the context alone.
    let billing = find("billing");
    assert_eq!(
        billing.build_context.as_deref().map(|p| p.as_str()),
        Some("services/billing")
    );
    assert_eq!(billing.dockerfile, None);

    assert_eq!(
        find("reports").image.as_deref(),
        Some("example/reports:1.2.3")
    );

    let postgres = find("postgres");
    assert_eq!(postgres.database_engine, Some(DbEngine::Postgres));
    assert_eq!(postgres.databases, ["billing", "orders"]);

    let pgbouncer = find("pgbouncer");
    assert_eq!(pgbouncer.database_engine, None);
    assert_eq!(pgbouncer.forwards_to.as_deref(), Some("postgres"));

    assert_eq!(find("cache").database_engine, Some(DbEngine::Redis));
    assert_eq!(find("exporter").database_engine, None);
}

#[test]
fn environment_in_map_and_list_form() {
    let text =
        std::fs::read_to_string(fixture_root("compose_basic").join("docker-compose.yml")).unwrap();
    let facts = extract(
        "compose_basic",
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
    );

    let orders: Vec<_> = facts
        .connections
        .iter()
        .filter(|c| c.owner == ConnectionOwner::Deployment("orders".into()))
        .collect();
    assert_eq!(orders.len(), 1, "API_URL is not a database: {orders:?}");
    assert_eq!(orders[0].target, pg("postgres", "orders"));
    assert_eq!(orders[0].source, ConnectionSource::Compose);
    assert_eq!(orders[0].key.as_deref(), Some("DATABASE_URL"));
    assert_eq!(
        spanned(&text, &orders[0].span),
        "postgres://orders:${ORDERS_DB_PASSWORD}@postgres:5432/orders"
    );

    let billing: Vec<_> = facts
        .connections
        .iter()
        .filter(|c| c.owner == ConnectionOwner::Deployment("billing".into()))
        .collect();
    assert_eq!(billing.len(), 2);
    // Through pgbouncer to the postgres container, with the `${VAR:-default}` database.
    assert_eq!(billing[0].target, pg("postgres", "orders"));
    assert_eq!(
        spanned(&text, &billing[0].span),
        "postgres://billing:secret@pgbouncer:6432/${BILLING_DB:-orders}"
    );
    assert_eq!(
        billing[1].target,
        target(DbEngine::Redis, Some("cache"), None, Some("0"))
    );
}

#[test]
fn two_services_share_one_database_through_env_file_split_settings() {
    let text =
        std::fs::read_to_string(fixture_root("compose_basic").join("docker-compose.yml")).unwrap();
    let facts = extract(
        "compose_basic",
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
    );
    let reports = connections_of(&facts, "reports");
    assert_eq!(reports, [pg("postgres", "orders")]);
    assert_eq!(reports[0], connections_of(&facts, "orders")[0]);
    let connection = facts
        .connections
        .iter()
        .find(|c| c.owner == ConnectionOwner::Deployment("reports".into()))
        .unwrap();
    // Values from an env_file point at the `env_file:` entry.
    assert_eq!(spanned(&text, &connection.span), "./deploy/reports.env");
}

#[test]
fn passed_through_url_is_an_unknown_connection() {
    let facts = extract(
        "compose_basic",
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
    );
    assert_eq!(
        connections_of(&facts, "legacy"),
        [target(DbEngine::Unknown, None, None, None)]
    );
}

#[test]
fn servers_poolers_and_tools_have_no_connections() {
    let facts = extract(
        "compose_basic",
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
    );
    assert!(connections_of(&facts, "postgres").is_empty());
    assert!(connections_of(&facts, "pgbouncer").is_empty());
    // A metrics exporter reads every database by design.
    assert!(connections_of(&facts, "exporter").is_empty());
}

#[test]
fn malformed_yaml_is_one_note() {
    let root = fixture_root("compose_basic");
    let text = "services:\n  orders:\n    image: [unclosed\n";
    let facts = extract_text(
        &root,
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
        text,
    );
    assert_eq!(facts.notes.len(), 1);
    let note = &facts.notes[0];
    assert_eq!(note.kind, NoteKind::ConfigSyntax);
    assert!(note.span.is_some_and(|s| s.line >= 3), "{note:?}");
    assert!(facts.deployments.is_empty());
}

#[test]
fn compose_without_services_and_odd_shapes_do_not_crash() {
    let root = fixture_root("compose_basic");
    for text in [
        "",
        "version: '3'\n",
        "services: []\n",
        "services:\n  a:\n  b: 3\n  c:\n    environment: 5\n    build: {}\n    env_file: 9\n",
        "services:\n  a:\n    extends: a\n  b:\n    extends: {service: a, file: missing.yml}\n",
        "- just\n- a list\n",
    ] {
        let facts = extract_text(
            &root,
            "docker-compose.yml",
            DeployFileKind::Compose,
            None,
            text,
        );
        assert!(facts.connections.is_empty(), "{text}");
    }
}

#[test]
fn extends_inherits_environment() {
    let root = fixture_root("compose_basic");
    let text = "\
services:
  base:
    image: example/base
    environment:
      DATABASE_URL: postgres://postgres/orders
  worker:
    extends: base
    environment:
      LOG: debug
";
    let facts = extract_text(
        &root,
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
        text,
    );
    assert_eq!(connections_of(&facts, "worker"), [pg("postgres", "orders")]);
    assert_eq!(facts.deployments[1].image.as_deref(), Some("example/base"));
}

#[test]
fn build_args_and_dockerfile_built_databases() {
    let path = "deploy/compose.yaml";
    let text = std::fs::read_to_string(fixture_root("compose_build").join(path)).unwrap();
    let facts = extract("compose_build", path, DeployFileKind::Compose, None);
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);

    let server = &facts.deployments[0];
    assert_eq!(
        server.build_context.as_deref().map(|p| p.as_str()),
        Some("backend")
    );
    assert_eq!(
        server.dockerfile.as_deref().map(|p| p.as_str()),
        Some("backend/Dockerfile")
    );
    assert_eq!(server.database_engine, None);

    let db = &facts.deployments[2];
    assert_eq!(db.database_engine, Some(DbEngine::Postgres));
    assert_eq!(
        db.dockerfile.as_deref().map(|p| p.as_str()),
        Some("deploy/Dockerfile-db")
    );
    assert_eq!(db.databases, ["shop"]);

    // The build argument sqlx compiles against.
    let server_connections: Vec<_> = facts
        .connections
        .iter()
        .filter(|c| c.owner == ConnectionOwner::Deployment("server".into()))
        .collect();
    assert_eq!(server_connections.len(), 1);
    assert_eq!(server_connections[0].target, pg("db", "shop"));
    assert_eq!(
        spanned(&text, &server_connections[0].span),
        "postgres://postgres:postgres@db:5432/shop"
    );

    // The runtime environment overrides the build argument; `database` is the
    // container name of `db`.
    assert_eq!(connections_of(&facts, "worker"), [pg("db", "shop")]);
    assert!(connections_of(&facts, "db").is_empty());
}

#[test]
fn connection_strings_on_command_lines() {
    let root = fixture_root("compose_basic");
    let text = "\
services:
  migrate:
    image: migrate/migrate
    command: [\"-path\", \"/migrations\", \"-database\", \"postgres://u:p@db:5432/orders?sslmode=disable\", \"up\"]
  web:
    image: example/web
    command: serve --listen http://0.0.0.0:8080
";
    let facts = extract_text(
        &root,
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
        text,
    );
    assert_eq!(connections_of(&facts, "migrate"), [pg("db", "orders")]);
    let connection = &facts.connections[0];
    assert_eq!(connection.key.as_deref(), Some("command"));
    assert_eq!(
        spanned(text, &connection.span),
        "postgres://u:p@db:5432/orders?sslmode=disable"
    );
    assert!(connections_of(&facts, "web").is_empty());
}

#[test]
fn file_variables_read_compose_secrets() {
    let root = fixture_root("compose_basic");
    let text = "\
services:
  audit:
    image: example/audit
    environment:
      DATABASE_URL_FILE: /run/secrets/audit_db_url
    secrets: [audit_db_url]
secrets:
  audit_db_url:
    file: ./secrets/audit_db_url.txt
";
    let facts = extract_text(
        &root,
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
        text,
    );
    assert_eq!(connections_of(&facts, "audit"), [pg("postgres", "audit")]);
    assert_eq!(facts.connections[0].key.as_deref(), Some("DATABASE_URL"));
    assert_eq!(
        spanned(text, &facts.connections[0].span),
        "/run/secrets/audit_db_url"
    );
}

#[test]
fn file_variables_outside_the_workspace_are_unknown_connections() {
    let root = fixture_root("compose_basic");
    let text = "\
services:
  audit:
    image: example/audit
    environment:
      DATABASE_URL_FILE: /run/secrets/external
      DB_PASSWORD_FILE: /run/secrets/password
";
    let facts = extract_text(
        &root,
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
        text,
    );
    assert_eq!(
        connections_of(&facts, "audit"),
        [target(DbEngine::Unknown, None, None, None)]
    );
}

#[test]
fn extends_a_service_of_another_file() {
    let root = fixture_root("compose_basic");
    let text = "\
services:
  shipping:
    extends:
      file: ./deploy/common.yml
      service: rust-service
  loop:
    extends: loop
";
    let facts = extract_text(
        &root,
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
        text,
    );
    assert_eq!(
        connections_of(&facts, "shipping"),
        [pg("postgres", "shared")]
    );
    let connection = &facts.connections[0];
    assert_eq!(spanned(text, &connection.span), "extends");
    assert_eq!(facts.deployments[0].image.as_deref(), Some("example/base"));
}

#[test]
fn sqlite_files_belong_to_their_container() {
    let root = fixture_root("compose_basic");
    let text = "\
services:
  orders:
    image: example/orders
    environment:
      DATABASE_URL: sqlite://data.db
  billing:
    image: example/billing
    environment:
      DATABASE_URL: sqlite://data.db
";
    let facts = extract_text(
        &root,
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
        text,
    );
    assert_eq!(
        connections_of(&facts, "orders"),
        [target(
            DbEngine::Sqlite,
            Some("orders"),
            None,
            Some("data.db")
        )]
    );
    assert_ne!(
        connections_of(&facts, "orders"),
        connections_of(&facts, "billing")
    );
}

#[test]
fn a_missing_env_is_read_from_its_committed_template_for_variables_without_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let root = camino::Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
    let compose = r#"services:
  orders:
    build: ./orders
    environment:
      - DATABASE_URL=${DATABASE_URL}
  billing:
    build: ./billing
    env_file: .env
  reports:
    build: ./reports
    environment:
      DATABASE_URL: postgres://app:secret@db:5432/${REPORTS_DB:-reports}
"#;
    std::fs::write(
        root.join(".env.example"),
        "DATABASE_URL=postgres://app:secret@db:5432/shop\nREPORTS_DB=shop\n",
    )
    .unwrap();
    let facts = extract_text(
        &root,
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
        compose,
    );
    // `.env` is not committed: compose would see the template once it is copied into place.
    assert_eq!(connections_of(&facts, "orders"), [pg("db", "shop")]);
    assert_eq!(connections_of(&facts, "billing"), [pg("db", "shop")]);
    // A default in the compose file is what its author expects without a `.env`.
    assert_eq!(connections_of(&facts, "reports"), [pg("db", "reports")]);
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);

    // A real `.env` wins, and the template is not read.
    std::fs::write(
        root.join(".env"),
        "DATABASE_URL=postgres://app:secret@db:5432/orders\n",
    )
    .unwrap();
    let facts = extract_text(
        &root,
        "docker-compose.yml",
        DeployFileKind::Compose,
        None,
        compose,
    );
    assert_eq!(connections_of(&facts, "orders"), [pg("db", "orders")]);
    assert_eq!(connections_of(&facts, "billing"), [pg("db", "orders")]);
}
