//! `cargo archlint map`: the workspace's architecture as the check sees it: an indented
//! inventory, the model as JSON, or a drawing (Mermaid, Graphviz DOT, a self-contained HTML
//! page) with every finding marked in red with its rule name.

mod dot;
mod graph;
mod html;
mod mermaid;
mod svg;
mod text;

use serde::Serialize;

pub use graph::{ArchMap, Edge, EdgeKind, MapFinding, Node, NodeKind};
pub use text::map_text;

use crate::model::Model;
use crate::Report;

/// Output format of `cargo archlint map`: the indented inventory, the whole model with the
/// drawn graph under `map`, a Mermaid flowchart, a Graphviz digraph, or one self-contained
/// page with the map as SVG and the findings. (No doc comments on the variants: clap would
/// print them in `--help` on lines of their own.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MapFormat {
    Text,
    Json,
    Mermaid,
    Dot,
    Html,
}

/// The model's JSON with the map beside its own keys.
#[derive(Serialize)]
struct ModelWithMap<'a> {
    #[serde(flatten)]
    model: &'a Model,
    map: ArchMap,
}

/// `text` with each character that `replacement` has a replacement for replaced: the one
/// loop under every format's escaping.
fn replace_chars(text: &str, replacement: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match replacement(c) {
            Some(replaced) => out.push_str(replaced),
            None => out.push(c),
        }
    }
    out
}

/// The lines of a label, each escaped, joined by the format's line break.
fn join_lines(lines: &[String], escape: impl Fn(&str) -> String, line_break: &str) -> String {
    lines
        .iter()
        .map(|line| escape(line))
        .collect::<Vec<_>>()
        .join(line_break)
}

/// Renders a checked workspace's map in the given format.
pub fn render_map(report: &Report, format: MapFormat) -> String {
    match format {
        MapFormat::Text => map_text(&report.model),
        MapFormat::Json => {
            let value = ModelWithMap {
                model: &report.model,
                map: ArchMap::of(report),
            };
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
        MapFormat::Mermaid => mermaid::render(&ArchMap::of(report)),
        MapFormat::Dot => dot::render(&ArchMap::of(report)),
        MapFormat::Html => html::render(report, &ArchMap::of(report)),
    }
}
