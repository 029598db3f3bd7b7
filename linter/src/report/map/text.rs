//! `cargo archlint map`: the inventory of the workspace as text.

use std::fmt::Write as _;

use crate::model::{Model, ServiceEvidence};

/// Services with their crates, deployments, connections, migrations and owned tables, then
/// what could not be attributed to any service.
pub fn map_text(model: &Model) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "workspace {} ({} crates, {} files)",
        model.root,
        model.crates.len(),
        model.files.len()
    );
    for service in &model.services {
        let why = match &service.evidence {
            ServiceEvidence::Configured => "configured".to_string(),
            ServiceEvidence::Framework { dependency } => format!("binary using {dependency}"),
            ServiceEvidence::Dockerfile { path } => format!("binary packaged by {path}"),
        };
        let _ = writeln!(out, "\nservice {} ({why})", service.name);
        let crates: Vec<&str> = service
            .crates
            .iter()
            .map(|c| model.krate(*c).name.as_str())
            .collect();
        let _ = writeln!(out, "  crates: {}", crates.join(", "));
        if !service.deploy_names.is_empty() {
            let _ = writeln!(out, "  deployed as: {}", service.deploy_names.join(", "));
        }
        if let Some(database) = &service.declared_database {
            let _ = writeln!(out, "  declared database: {database}");
        }
        for connection in &service.connections {
            let fact = &model.connections[connection.connection];
            let _ = writeln!(
                out,
                "  connects to {} ({}:{}{})",
                connection.target,
                model.file(fact.span.file).path,
                fact.span.line,
                fact.key
                    .as_deref()
                    .map(|k| format!(", {k}"))
                    .unwrap_or_default()
            );
        }
        for &set in &service.migration_sets {
            let set = &model.migrations[set];
            let _ = writeln!(
                out,
                "  runs migrations {} ({} tables)",
                set.dir,
                set.tables.len()
            );
        }
        let owned: Vec<String> = model
            .table_owners
            .iter()
            .filter(|o| o.service == service.id)
            .map(|o| o.table.to_string())
            .collect();
        if !owned.is_empty() {
            let _ = writeln!(out, "  owns tables: {}", owned.join(", "));
        }
        let queries = model
            .queries
            .iter()
            .filter(|q| service.crates.contains(&q.crate_id))
            .count();
        let _ = writeln!(out, "  queries: {queries}");
    }
    let libraries: Vec<&str> = model
        .crates
        .iter()
        .filter(|c| !model.services.iter().any(|s| s.crates.contains(&c.id)))
        .map(|c| c.name.as_str())
        .collect();
    if !libraries.is_empty() {
        let _ = writeln!(out, "\ncrates in no service: {}", libraries.join(", "));
    }
    let unmatched: Vec<&str> = model
        .deployments
        .iter()
        .filter(|d| d.database_engine.is_none() && d.forwards_to.is_none())
        .filter(|d| {
            !model
                .services
                .iter()
                .any(|s| s.deploy_names.contains(&d.name))
        })
        .map(|d| d.name.as_str())
        .collect();
    if !unmatched.is_empty() {
        let _ = writeln!(
            out,
            "deployments matched to no service: {}",
            unmatched.join(", ")
        );
    }
    let databases: Vec<String> = model
        .deployments
        .iter()
        .filter(|d| d.database_engine.is_some() || d.forwards_to.is_some())
        .map(|d| match &d.forwards_to {
            Some(to) => format!("{} (pooler to {to})", d.name),
            None => d.name.clone(),
        })
        .collect();
    if !databases.is_empty() {
        let _ = writeln!(out, "database containers: {}", databases.join(", "));
    }
    if !model.notes.is_empty() {
        let _ = writeln!(out, "notes: {}", model.notes.len());
    }
    out
}
