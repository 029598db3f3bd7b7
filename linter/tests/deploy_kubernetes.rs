mod deploy_support;

use archlint::extract::deploy::DeployFileKind;
use archlint::extract::Facts;
use archlint::model::{ConnectionOwner, ConnectionSource, DbEngine, DbTarget, NoteKind};
use deploy_support::*;

fn connections_of(facts: &Facts, workload: &str) -> Vec<(Option<String>, DbTarget)> {
    facts
        .connections
        .iter()
        .filter(|c| c.owner == ConnectionOwner::Deployment(workload.to_string()))
        .map(|c| (c.key.clone(), c.target.clone()))
        .collect()
}

fn orders() -> (String, Facts) {
    let text = std::fs::read_to_string(fixture_root("k8s").join("orders.yaml")).unwrap();
    let facts = extract("k8s", "orders.yaml", DeployFileKind::Kubernetes, None);
    (text, facts)
}

#[test]
fn workloads_become_deployments() {
    let (text, facts) = orders();
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
    let summary: Vec<(&str, Option<&str>, Option<DbEngine>)> = facts
        .deployments
        .iter()
        .map(|d| (d.name.as_str(), d.image.as_deref(), d.database_engine))
        .collect();
    assert_eq!(
        summary,
        [
            ("orders", Some("ghcr.io/example/orders:1.4.0"), None),
            (
                "cloud-sql-proxy",
                Some("gcr.io/cloud-sql-connectors/cloud-sql-proxy:2"),
                None
            ),
            ("orders-report", Some("ghcr.io/example/report:1"), None),
            (
                "orders-postgres",
                Some("postgres:16"),
                Some(DbEngine::Postgres)
            ),
            ("migrator", Some("ghcr.io/example/migrator:1"), None),
            ("billing", Some("ghcr.io/example/billing:2"), None),
            // The Service in front of the StatefulSet is where connections point.
            ("orders-db", Some("postgres:16"), Some(DbEngine::Postgres)),
        ]
    );
    let postgres = &facts.deployments[3];
    assert_eq!(postgres.databases, ["orders"]);
    assert_eq!(spanned(&text, &facts.deployments[0].span), "orders");
    assert_eq!(spanned(&text, &facts.deployments[6].span), "orders-db");
}

#[test]
fn secret_refs_resolve_and_service_dns_names_normalise() {
    let (text, facts) = orders();
    let connections = connections_of(&facts, "orders");
    assert_eq!(
        connections,
        [
            (Some("DATABASE_URL".to_string()), pg("orders-db", "orders")),
            (
                Some("REDIS_URL".to_string()),
                target(DbEngine::Redis, Some("cache"), None, Some("2"))
            ),
        ],
        "INVENTORY_URL is not a database"
    );
    let first = facts
        .connections
        .iter()
        .find(|c| c.owner == ConnectionOwner::Deployment("orders".into()))
        .unwrap();
    assert_eq!(first.source, ConnectionSource::Kubernetes);
    assert_eq!(spanned(&text, &first.span), "valueFrom");
}

#[test]
fn config_map_env_from_with_split_settings() {
    let (_, facts) = orders();
    let connections = connections_of(&facts, "orders-report");
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].1, pg("orders-db", "orders"));
}

#[test]
fn dependent_variables_and_missing_config_maps() {
    let (text, facts) = orders();
    let connections = connections_of(&facts, "migrator");
    let targets: Vec<&DbTarget> = connections.iter().map(|(_, t)| t).collect();
    // `$(PGHOST)` expands from earlier variables; PGHOST/PGDATABASE are the same target,
    // so they are not reported twice. The ConfigMap of another file stays unknown.
    assert_eq!(
        targets,
        [
            &pg("orders-db", "orders"),
            &target(DbEngine::Unknown, None, None, None)
        ]
    );
    let url = facts
        .connections
        .iter()
        .find(|c| {
            c.key.as_deref() == Some("DATABASE_URL")
                && c.owner == ConnectionOwner::Deployment("migrator".into())
        })
        .unwrap();
    assert_eq!(
        spanned(&text, &url.span),
        "postgres://app@$(PGHOST)/$(PGDATABASE)"
    );
}

#[test]
fn database_servers_have_no_connections() {
    let (_, facts) = orders();
    assert!(connections_of(&facts, "orders-postgres").is_empty());
}

#[test]
fn helm_templates_are_a_note_and_do_not_hide_other_documents() {
    let facts = extract(
        "k8s",
        "helm-deployment.yaml",
        DeployFileKind::Kubernetes,
        None,
    );
    assert_eq!(facts.notes.len(), 1, "{:?}", facts.notes);
    assert_eq!(facts.notes[0].kind, NoteKind::ConfigSyntax);
    assert!(
        facts.notes[0].message.contains("template"),
        "{}",
        facts.notes[0].message
    );
    assert!(facts.deployments.is_empty());
    assert!(facts.connections.is_empty());
}

#[test]
fn odd_manifests_do_not_crash() {
    let root = fixture_root("k8s");
    for text in [
        "",
        "---\n---\n",
        "kind: Deployment\n",
        "kind: Deployment\nmetadata: {name: x}\nspec: {template: {spec: {containers: [{name: x, env: [{name: DATABASE_URL, valueFrom: {}}]}]}}}\n",
        "kind: List\nitems:\n  - kind: Pod\n    metadata: {name: p}\n    spec: {containers: [{name: p, image: app, env: [{name: DATABASE_URL, value: 'postgres://db/x'}]}]}\n",
        "kind: Service\nmetadata: {name: s}\nspec: {selector: {}}\n",
        "- a\n- b\n",
    ] {
        let _ = extract_text(&root, "k8s.yaml", DeployFileKind::Kubernetes, None, text);
    }
    let list = "kind: List\nitems:\n  - kind: Pod\n    metadata: {name: p}\n    spec: {containers: [{name: p, image: app, env: [{name: DATABASE_URL, value: 'postgres://db/x'}]}]}\n";
    let facts = extract_text(&root, "k8s.yaml", DeployFileKind::Kubernetes, None, list);
    assert_eq!(
        connections_of(&facts, "p"),
        [(Some("DATABASE_URL".into()), pg("db", "x"))]
    );
}

#[test]
fn config_map_key_refs_and_external_name_services() {
    let (text, facts) = orders();
    let connections = connections_of(&facts, "billing");
    assert_eq!(
        connections,
        [
            (
                Some("REPORTING_DATABASE_URL".to_string()),
                target(DbEngine::MySql, Some("reporting-db"), None, Some("reports"))
            ),
            (
                Some("DATABASE_URL".to_string()),
                pg("billing.abc123.eu-west-1.rds.amazonaws.com", "billing")
            ),
        ]
    );
    let direct = facts
        .connections
        .iter()
        .find(|c| {
            c.key.as_deref() == Some("DATABASE_URL")
                && c.owner == ConnectionOwner::Deployment("billing".into())
        })
        .unwrap();
    assert_eq!(
        spanned(&text, &direct.span),
        "postgres://billing@billing-db:5432/billing"
    );
}

#[test]
fn the_name_matching_a_crate_owns_the_workload() {
    let root = fixture_root("k8s");
    let text = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders-deployment
spec:
  template:
    spec:
      containers:
        - name: orders_api
          image: example/orders
          env:
            - name: DATABASE_URL
              value: postgres://orders-db/orders
";
    let crates = [bin_crate(0, "orders-api")];
    let facts = extract_with_crates(
        &root,
        "k8s.yaml",
        DeployFileKind::Kubernetes,
        None,
        text,
        &crates,
    );
    assert_eq!(facts.deployments.len(), 1);
    assert_eq!(facts.deployments[0].name, "orders_api");
    assert_eq!(connections_of(&facts, "orders_api").len(), 1);

    // Without a matching crate the workload keeps its own name.
    let facts = extract_text(&root, "k8s.yaml", DeployFileKind::Kubernetes, None, text);
    assert_eq!(facts.deployments[0].name, "orders-deployment");
    assert_eq!(connections_of(&facts, "orders-deployment").len(), 1);
}

#[test]
fn connection_strings_in_container_args() {
    let root = fixture_root("k8s");
    let text = "\
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      containers:
        - name: migrate
          image: example/migrate
          env:
            - name: DB_HOST
              value: orders-db
          args: [\"--database-url=postgres://app@$(DB_HOST)/orders\"]
";
    let facts = extract_text(&root, "k8s.yaml", DeployFileKind::Kubernetes, None, text);
    let connections = connections_of(&facts, "migrate");
    assert_eq!(
        connections,
        [(Some("args".to_string()), pg("orders-db", "orders"))]
    );
}

#[test]
fn postgres_operator_clusters_are_database_servers() {
    let facts = extract("k8s", "operators.yaml", DeployFileKind::Kubernetes, None);
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
    let servers: Vec<(&str, Vec<String>)> = facts
        .deployments
        .iter()
        .filter(|d| d.database_engine == Some(DbEngine::Postgres))
        .map(|d| (d.name.as_str(), d.databases.clone()))
        .collect();
    assert_eq!(
        servers,
        [
            ("orders-pg-rw", vec!["orders".to_string()]),
            ("orders-pg-ro", vec!["orders".to_string()]),
            ("orders-pg-r", vec!["orders".to_string()]),
            ("acid-billing", vec!["billing".to_string()]),
            ("acid-billing-repl", vec!["billing".to_string()]),
        ]
    );
    // The generated `<cluster>-app` Secret resolves.
    assert_eq!(
        connections_of(&facts, "orders"),
        [(
            Some("DATABASE_URL".to_string()),
            pg("orders-pg-rw", "orders")
        )]
    );
    let reports: Vec<DbTarget> = connections_of(&facts, "reports")
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    // A read replica holds the primary's data: the same database.
    assert_eq!(
        reports,
        [pg("orders-pg-rw", "orders"), pg("acid-billing", "billing")]
    );
}
