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

/// Output format of `cargo archlint map`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MapFormat {
    /// Services with their crates, connections, migrations and tables, indented.
    Text,
    /// The whole model, plus the drawn graph under `map`.
    Json,
    /// A Mermaid flowchart.
    Mermaid,
    /// A Graphviz digraph.
    Dot,
    /// One self-contained page: the map as SVG and the findings, filterable.
    Html,
}

/// The model's JSON with the map beside its own keys.
#[derive(Serialize)]
struct ModelWithMap<'a> {
    #[serde(flatten)]
    model: &'a Model,
    map: ArchMap,
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
