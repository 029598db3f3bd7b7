//! Every file archlint reads is bounded: a FIFO or a link to `/dev/zero` wherever a file is
//! expected (the root `.env` a compose file reads, `diesel.toml`, an `include_str!` target, a
//! migration, a query file) neither hangs the run nor fills memory, and a file over the cap of
//! its kind is skipped. Each is one note naming the file; the other findings are still
//! reported.

#![cfg(unix)]

mod hardening_support;
use hardening_support::{make_fifo, Workspace};

const INCLUDES: &str = r#"pub const REPORT: &str = include_str!("../queries/report.sql");

pub async fn report(pool: &sqlx::PgPool) {
    let _ = sqlx::query(REPORT).execute(pool).await;
}
"#;

fn link_to_dev_zero(workspace: &Workspace, rel: &str) {
    let path = workspace.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_fifo_as_the_root_env_is_a_note_not_a_hang() {
    let workspace = Workspace::new("");
    make_fifo(&workspace.join(".env"));
    let run = workspace.check_json(&[]);
    run.assert_other_finding_reported();
    let note = run.note_about("docker-compose.yml", "unreadable");
    assert!(
        note.as_ref()
            .is_some_and(|n| n.contains(".env") && n.contains("FIFO")),
        "{:?}",
        run.notes()
    );
}

#[test]
fn a_root_env_linked_to_dev_zero_is_a_note_not_a_flood() {
    let workspace = Workspace::new("");
    link_to_dev_zero(&workspace, ".env");
    let run = workspace.check_json(&[]);
    run.assert_other_finding_reported();
    let note = run.note_about("docker-compose.yml", "unreadable");
    assert!(
        note.as_ref()
            .is_some_and(|n| n.contains(".env") && n.contains("character device")),
        "{:?}",
        run.notes()
    );
}

#[test]
fn a_fifo_or_device_as_diesel_toml_is_a_note() {
    for make in [
        (|w: &Workspace| make_fifo(&w.join("orders/diesel.toml"))) as fn(&Workspace),
        |w: &Workspace| link_to_dev_zero(w, "orders/diesel.toml"),
    ] {
        let workspace = Workspace::new("");
        make(&workspace);
        let run = workspace.check_json(&[]);
        run.assert_other_finding_reported();
        assert!(
            run.note_about("orders/diesel.toml", "unreadable")
                .is_some_and(|n| n.contains("not a regular file")),
            "{:?}",
            run.notes()
        );
    }
}

#[test]
fn a_fifo_as_an_include_str_target_is_a_note() {
    let workspace = Workspace::new(INCLUDES);
    make_fifo(&workspace.join("orders/queries/report.sql"));
    let run = workspace.check_json(&[]);
    run.assert_other_finding_reported();
    assert!(
        run.note_about("orders/src/hostile.rs", "unreadable")
            .is_some_and(|n| n.contains("orders/queries/report.sql") && n.contains("FIFO")),
        "{:?}",
        run.notes()
    );
}

#[test]
fn a_fifo_or_device_as_a_migration_is_a_note() {
    let workspace = Workspace::new("");
    make_fifo(&workspace.join("orders/migrations/0002_fifo.sql"));
    link_to_dev_zero(&workspace, "orders/migrations/0003_zero.sql");
    let run = workspace.check_json(&[]);
    run.assert_other_finding_reported();
    for (path, what) in [
        ("orders/migrations/0002_fifo.sql", "FIFO"),
        ("orders/migrations/0003_zero.sql", "character device"),
    ] {
        assert!(
            run.note_about(path, "unreadable")
                .is_some_and(|n| n.contains(what)),
            "{path}: {:?}",
            run.notes()
        );
    }
}

#[test]
fn files_over_their_cap_are_skipped_with_a_note() {
    let workspace = Workspace::new("");
    // 17 MiB of Rust and SQL (cap 16 MiB), 9 MiB of YAML (cap 8 MiB), 2 MiB of .env (1 MiB).
    let rust_line = "pub const X: u32 = 1;\n";
    workspace.write(
        "orders/src/hostile.rs",
        &rust_line.repeat((17 << 20) / rust_line.len()),
    );
    let sql_line = "INSERT INTO orders (id, sku) VALUES (1, 'a');\n";
    workspace.write(
        "orders/migrations/0002_seed.sql",
        &sql_line.repeat((17 << 20) / sql_line.len()),
    );
    let yaml_line = "# padding padding padding padding padding padding\n";
    workspace.write(
        "k8s/big.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\n{}",
            yaml_line.repeat((9 << 20) / yaml_line.len())
        ),
    );
    workspace.write(
        "orders/.env",
        &"# padding padding padding\n".repeat((2 << 20) / 26),
    );
    let run = workspace.check_json(&[]);
    run.assert_other_finding_reported();
    for (path, cap) in [
        ("orders/src/hostile.rs", "16 MiB"),
        ("orders/migrations/0002_seed.sql", "16 MiB"),
        ("k8s/big.yaml", "8 MiB"),
        ("orders/.env", "1 MiB"),
    ] {
        assert!(
            run.note_about(path, "too-large")
                .is_some_and(|n| n.contains(cap) && n.contains("skipped")),
            "{path}: {:?}",
            run.notes()
        );
    }
}

#[test]
fn deep_yaml_flow_nesting_is_a_note_not_minutes_of_parsing() {
    let workspace = Workspace::new("");
    let deep = format!("{}1{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    workspace.write(
        "k8s/deep.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\ndata:\n  nested: {deep}\n"),
    );
    workspace.write(
        "docker-compose.override.yml",
        &format!("services:\n  orders:\n    labels: {deep}\n"),
    );
    let started = std::time::Instant::now();
    let run = workspace.check_json(&[]);
    run.assert_other_finding_reported();
    for path in ["k8s/deep.yaml", "docker-compose.override.yml"] {
        assert!(
            run.note_about(path, "config-syntax")
                .is_some_and(|n| n.contains("nested more than 128 levels")),
            "{path}: {:?}",
            run.notes()
        );
    }
    // Quadratic scanning took minutes at this depth; linear takes well under a second.
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

#[test]
fn a_compose_file_with_many_services_is_read_in_linear_time() {
    let workspace = Workspace::new("");
    let mut compose = String::from("services:\n  postgres:\n    image: postgres:16\n");
    for i in 0..20_000 {
        compose.push_str(&format!(
            "  svc-{i}:\n    image: example/svc:{i}\n    environment:\n      \
             DATABASE_URL: postgres://app:app@postgres:5432/svc_{i}\n"
        ));
    }
    workspace.write("deploy/docker-compose.yml", &compose);
    let started = std::time::Instant::now();
    let run = workspace.check_json(&[]);
    run.assert_other_finding_reported();
    // 20,000 services took minutes when each was looked up by scanning all the others.
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}
