//! Every prefix of every fixture, read as every kind of file: the extractor reports
//! problems as notes and never panics, and spans stay inside the file.

mod deploy_support;

use archlint::extract::deploy::DeployFileKind;
use archlint::model::{CrateId, Span};
use deploy_support::*;

const FILES: &[(&str, &str)] = &[
    ("compose_basic", "docker-compose.yml"),
    ("compose_basic", ".env"),
    ("compose_build", "deploy/compose.yaml"),
    ("k8s", "orders.yaml"),
    ("k8s", "helm-deployment.yaml"),
    ("k8s", "operators.yaml"),
    ("config", "services/orders/config/default.toml"),
    ("config", "services/orders/config/production.yaml"),
    ("config", "services/orders/.env"),
];

const KINDS: &[DeployFileKind] = &[
    DeployFileKind::DotEnv,
    DeployFileKind::Compose,
    DeployFileKind::Kubernetes,
    DeployFileKind::ConfigFile,
];

fn assert_inside(span: &Span, text: &str) {
    assert!(
        span.start <= span.end && span.end as usize <= text.len(),
        "{span:?}"
    );
    assert!(text.is_char_boundary(span.start as usize));
}

#[test]
fn prefixes_of_fixtures_never_panic() {
    for (fixture, path) in FILES {
        let root = fixture_root(fixture);
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        let cuts: Vec<usize> = (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .step_by(11)
            .collect();
        for kind in KINDS {
            for cut in &cuts {
                let prefix = &text[..*cut];
                let facts = extract_text(&root, path, *kind, Some(CrateId(0)), prefix);
                for connection in &facts.connections {
                    assert_inside(&connection.span, prefix);
                }
                for deployment in &facts.deployments {
                    assert_inside(&deployment.span, prefix);
                }
                for note in &facts.notes {
                    if let Some(span) = &note.span {
                        assert_inside(span, prefix);
                    }
                }
            }
        }
    }
}

#[test]
fn odd_bytes_never_panic() {
    let root = fixture_root("compose_basic");
    let inputs = [
        "\u{feff}services:\n  a:\n    environment:\n      DATABASE_URL: postgres://é@ü/ö\n",
        "services:\r\n  a:\r\n    environment:\r\n      - DATABASE_URL=postgres://db/x\r\n",
        "services:\n\ta:\n",
        "services: !!binary aGVsbG8=\n",
        "services:\n  a: &x\n    image: postgres\n  b: *x\n",
        "services:\n  a:\n    <<: [*undefined]\n",
        "A=\"\\\nB='\n`C`=1\n",
        "[a\nb = \"",
        "{\"database\": {\"url\": \"postgres://db/x\"}}",
        "kind: Pod\nspec:\n  containers:\n    - env:\n        - name: X\n          value: [1, 2]\n",
    ];
    for text in inputs {
        for kind in KINDS {
            let _ = extract_text(&root, "docker-compose.yml", *kind, Some(CrateId(0)), text);
            let _ = extract_text(&root, "config/app.json", *kind, Some(CrateId(0)), text);
        }
    }
}
