//! The map as a Mermaid flowchart. Node ids are generated (`n0`, `n1`, ...); every label is a
//! quoted string whose quotes, `#`, `<`, `>`, `&`, `|` and backticks are Mermaid entity codes,
//! so names from user code can never end a label or become markup.

use std::fmt::Write as _;

use super::graph::{ArchMap, EdgeKind, NodeKind};

const VIOLATION_STYLE: &str = "stroke:#c00000,stroke-width:3px,color:#c00000";

pub fn render(map: &ArchMap) -> String {
    let mut out = String::from("flowchart LR\n");
    let _ = writeln!(
        out,
        "  %% archlint map of {}: services, databases, tables, calls and topics; findings in red",
        one_line(&map.workspace)
    );
    for (id, node) in map.nodes.iter().enumerate() {
        let mut lines = vec![node.label.clone()];
        lines.extend(map.rule_lines(&node.findings));
        let label = label(&lines);
        let _ = match node.kind {
            NodeKind::Service => writeln!(out, "  n{id}(\"{label}\")"),
            NodeKind::Database => writeln!(out, "  n{id}[(\"{label}\")]"),
            NodeKind::Table => writeln!(out, "  n{id}[\"{label}\"]"),
            NodeKind::Topic => writeln!(out, "  n{id}([\"{label}\"])"),
        };
    }
    for edge in &map.edges {
        let arrow = match edge.kind {
            EdgeKind::Holds | EdgeKind::Owns => "-.-",
            EdgeKind::Calls => "==>",
            EdgeKind::Connects | EdgeKind::Accesses | EdgeKind::Publishes | EdgeKind::Consumes => {
                "-->"
            }
        };
        let mut lines: Vec<String> = Some(edge.caption())
            .filter(|c| !c.is_empty())
            .into_iter()
            .collect();
        lines.extend(map.rule_lines(&edge.findings));
        let _ = if lines.is_empty() {
            writeln!(out, "  n{} {arrow} n{}", edge.from, edge.to)
        } else {
            writeln!(
                out,
                "  n{} {arrow}|\"{}\"| n{}",
                edge.from,
                label(&lines),
                edge.to
            )
        };
    }
    for (kind, style) in [
        (NodeKind::Service, "fill:#eef3fb,stroke:#4a6fa5"),
        (NodeKind::Database, "fill:#f4f1ea,stroke:#8a7a5a"),
        (NodeKind::Table, "fill:#ffffff,stroke:#888888"),
        (NodeKind::Topic, "fill:#fdf3e1,stroke:#b7791f"),
    ] {
        let ids = ids(map
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == kind)
            .map(|(id, _)| id));
        if !ids.is_empty() {
            let _ = writeln!(out, "  classDef {} {style}", kind.as_str());
            let _ = writeln!(out, "  class {ids} {}", kind.as_str());
        }
    }
    let violating = ids(map
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.findings.is_empty())
        .map(|(id, _)| id));
    if !violating.is_empty() {
        let _ = writeln!(out, "  classDef violation {VIOLATION_STYLE}");
        let _ = writeln!(out, "  class {violating} violation");
    }
    let violating_edges: Vec<String> = map
        .edges
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.findings.is_empty())
        .map(|(index, _)| index.to_string())
        .collect();
    if !violating_edges.is_empty() {
        let _ = writeln!(
            out,
            "  linkStyle {} {VIOLATION_STYLE}",
            violating_edges.join(",")
        );
    }
    out
}

/// `n0,n3,n7`.
fn ids(ids: impl Iterator<Item = usize>) -> String {
    ids.map(|id| format!("n{id}")).collect::<Vec<_>>().join(",")
}

/// Lines of a label, each escaped, joined by Mermaid's line break.
fn label(lines: &[String]) -> String {
    super::join_lines(lines, escape, "<br/>")
}

/// Text for inside a quoted Mermaid label: characters that end the string, start an entity
/// code or read as markup become entity codes (`#quot;`), line breaks become spaces.
fn escape(text: &str) -> String {
    super::replace_chars(text, |c| match c {
        '"' => Some("#quot;"),
        '#' => Some("#35;"),
        '<' => Some("#lt;"),
        '>' => Some("#gt;"),
        '&' => Some("#amp;"),
        '|' => Some("#124;"),
        '`' => Some("#96;"),
        c if c.is_control() => Some(" "),
        _ => None,
    })
}

/// A name for a `%%` comment, which ends at the line's end.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
