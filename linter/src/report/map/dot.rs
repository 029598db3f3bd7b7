//! The map as a Graphviz digraph (`dot -Tsvg`). Node ids are generated (`n0`, `n1`, ...);
//! labels are quoted strings with `"` and `\` escaped, so names from user code can neither
//! end a string nor become one of Graphviz's `\N`-style escapes.

use std::fmt::Write as _;

use super::graph::{ArchMap, EdgeKind, NodeKind};

const VIOLATION: &str = "#c00000";

pub fn render(map: &ArchMap) -> String {
    let mut out = String::from("digraph archlint {\n");
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=\"{}\"];",
        quoted(&format!(
            "archlint map of {}: findings in red",
            map.workspace
        ))
    );
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (id, node) in map.nodes.iter().enumerate() {
        let mut lines = vec![node.label.clone()];
        lines.extend(map.rule_lines(&node.findings));
        let shape = match node.kind {
            NodeKind::Service => "shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\"",
            NodeKind::Database => "shape=cylinder, style=filled, fillcolor=\"#f4f1ea\"",
            NodeKind::Table => "shape=box, style=filled, fillcolor=\"#ffffff\"",
            NodeKind::Topic => "shape=cds, style=filled, fillcolor=\"#fdf3e1\"",
        };
        let _ = write!(out, "  n{id} [label=\"{}\", {shape}", label(&lines));
        if !node.findings.is_empty() {
            let _ = write!(
                out,
                ", color=\"{VIOLATION}\", fontcolor=\"{VIOLATION}\", penwidth=2.5"
            );
        }
        out.push_str("];\n");
    }
    for edge in &map.edges {
        let mut lines: Vec<String> = Some(edge.caption())
            .filter(|c| !c.is_empty())
            .into_iter()
            .collect();
        lines.extend(map.rule_lines(&edge.findings));
        let mut attributes = Vec::new();
        if !lines.is_empty() {
            attributes.push(format!("label=\"{}\"", label(&lines)));
        }
        match edge.kind {
            EdgeKind::Holds | EdgeKind::Owns => {
                attributes.push("style=dashed, arrowhead=none".to_string())
            }
            EdgeKind::Calls => attributes.push("style=bold".to_string()),
            EdgeKind::Connects | EdgeKind::Accesses | EdgeKind::Publishes | EdgeKind::Consumes => {}
        }
        if !edge.findings.is_empty() {
            attributes.push(format!(
                "color=\"{VIOLATION}\", fontcolor=\"{VIOLATION}\", penwidth=2.5"
            ));
        }
        let _ = write!(out, "  n{} -> n{}", edge.from, edge.to);
        if !attributes.is_empty() {
            let _ = write!(out, " [{}]", attributes.join(", "));
        }
        out.push_str(";\n");
    }
    out.push_str("}\n");
    out
}

/// Lines of a label, each escaped, joined by Graphviz's centred line break.
fn label(lines: &[String]) -> String {
    super::join_lines(lines, quoted, "\\n")
}

/// Text for inside a double-quoted DOT string: `"` and `\` escaped, line breaks as spaces.
fn quoted(text: &str) -> String {
    super::replace_chars(text, |c| match c {
        '"' => Some("\\\""),
        '\\' => Some("\\\\"),
        c if c.is_control() => Some(" "),
        _ => None,
    })
}
