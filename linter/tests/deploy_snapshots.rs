//! The full fact sets of the fixture workspaces, reviewed as snapshots.

mod deploy_support;

use archlint::extract::deploy::DeployFileKind;
use archlint::model::CrateId;
use deploy_support::*;

fn snapshot(
    fixture: &str,
    path: &str,
    kind: DeployFileKind,
    owner: Option<CrateId>,
) -> serde_json::Value {
    let facts = extract(fixture, path, kind, owner);
    serde_json::json!({
        "deployments": facts.deployments,
        "connections": facts.connections,
        "notes": facts.notes,
    })
}

#[test]
fn compose_basic() {
    insta::assert_yaml_snapshot!(snapshot(
        "compose_basic",
        "docker-compose.yml",
        DeployFileKind::Compose,
        None
    ));
}

#[test]
fn kubernetes_orders() {
    insta::assert_yaml_snapshot!(snapshot(
        "k8s",
        "orders.yaml",
        DeployFileKind::Kubernetes,
        None
    ));
}

#[test]
fn config_toml() {
    insta::assert_yaml_snapshot!(snapshot(
        "config",
        "services/orders/config/default.toml",
        DeployFileKind::ConfigFile,
        Some(CrateId(3))
    ));
}
