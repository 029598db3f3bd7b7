//! The map drawn as inline SVG for the HTML page, laid out here rather than by a script:
//! topics, services, databases and tables in columns from left to right, each column after
//! the services ordered by where its neighbours sit, calls between services as arcs in a lane
//! left of them. Text is monospace, so a label's width is known from its length.

use std::fmt::Write as _;

use super::graph::{ArchMap, Edge, EdgeKind, Node, NodeKind};
use super::html::{escape, json_attribute};

const CHAR_WIDTH: f64 = 7.3;
const LINE_HEIGHT: f64 = 16.0;
const PAD_X: f64 = 12.0;
const PAD_Y: f64 = 7.0;
const ROW_GAP: f64 = 22.0;
const COLUMN_GAP: f64 = 140.0;
const MARGIN: f64 = 20.0;
/// Labels longer than this are cut with `…`; the tooltip has them whole.
const MAX_CHARS: usize = 40;
/// The height a database's cylinder adds above and below its text.
const CAP: f64 = 7.0;

/// The columns, left to right.
const COLUMNS: [NodeKind; 4] = [
    NodeKind::Topic,
    NodeKind::Service,
    NodeKind::Database,
    NodeKind::Table,
];

#[derive(Debug, Clone, Copy, Default)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn center_y(&self) -> f64 {
        self.y + self.h / 2.0
    }

    fn right(&self) -> f64 {
        self.x + self.w
    }
}

#[derive(Debug, Clone, Copy)]
struct Point {
    x: f64,
    y: f64,
}

/// A node's lines: its label, then the rules of its findings.
fn node_lines(map: &ArchMap, node: &Node) -> Vec<String> {
    let mut lines = vec![cut(&node.label)];
    lines.extend(map.rule_lines(&node.findings).iter().map(|l| cut(l)));
    lines
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_CHARS - 1).collect();
    out.push('\u{2026}');
    out
}

fn text_width(lines: &[String]) -> f64 {
    lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64 * CHAR_WIDTH
}

/// How far left of the services an arc between the services at positions `a` and `b` of
/// their column bends: further for services further apart, so arcs nest.
fn bulge(a: usize, b: usize) -> f64 {
    (30.0 + 14.0 * a.abs_diff(b) as f64).min(170.0)
}

struct Layout {
    rects: Vec<Rect>,
    /// Each node's position in its column.
    rank: Vec<usize>,
    width: f64,
    height: f64,
}

fn layout(map: &ArchMap) -> Layout {
    let n = map.nodes.len();
    let mut rects = vec![Rect::default(); n];
    for (rect, node) in rects.iter_mut().zip(&map.nodes) {
        let lines = node_lines(map, node);
        rect.w = text_width(&lines) + 2.0 * PAD_X;
        rect.h = lines.len() as f64 * LINE_HEIGHT + 2.0 * PAD_Y;
        if node.kind == NodeKind::Database {
            rect.h += 2.0 * CAP;
        }
    }
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); n];
    for edge in &map.edges {
        neighbours[edge.from].push(edge.to);
        neighbours[edge.to].push(edge.from);
    }
    let mut placed = vec![false; n];
    let mut rank = vec![0; n];
    // Services in the model's order; then each column where its neighbours are.
    for kind in [
        NodeKind::Service,
        NodeKind::Database,
        NodeKind::Table,
        NodeKind::Topic,
    ] {
        let mut column: Vec<(f64, usize)> = (0..n)
            .filter(|&id| map.nodes[id].kind == kind)
            .map(|id| {
                let ys: Vec<f64> = neighbours[id]
                    .iter()
                    .filter(|&&other| placed[other])
                    .map(|&other| rects[other].center_y())
                    .collect();
                let wanted = if kind == NodeKind::Service || ys.is_empty() {
                    f64::INFINITY
                } else {
                    ys.iter().sum::<f64>() / ys.len() as f64
                };
                (wanted, id)
            })
            .collect();
        column.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut cursor = MARGIN;
        for (position, &(wanted, id)) in column.iter().enumerate() {
            let rect = &mut rects[id];
            rect.y = if wanted.is_finite() {
                (wanted - rect.h / 2.0).max(cursor)
            } else {
                cursor
            };
            cursor = rect.y + rect.h + ROW_GAP;
            placed[id] = true;
            rank[id] = position;
        }
    }
    // The lane for the call arcs and their labels sits left of the services.
    let lane = map
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Calls)
        .map(|e| {
            let mut lines = vec![cut(&e.caption())];
            lines.extend(map.rule_lines(&e.findings).iter().map(|l| cut(l)));
            0.75 * bulge(rank[e.from], rank[e.to]) + CALL_LABEL_GAP + text_width(&lines) + 20.0
        })
        .fold(0.0, f64::max);
    let mut x = MARGIN;
    for kind in COLUMNS {
        let members: Vec<usize> = (0..n).filter(|&id| map.nodes[id].kind == kind).collect();
        if kind == NodeKind::Service {
            x += lane;
        }
        if members.is_empty() {
            continue;
        }
        let width = members.iter().map(|&id| rects[id].w).fold(0.0, f64::max);
        for &id in &members {
            rects[id].x = x + (width - rects[id].w) / 2.0;
        }
        x += width + COLUMN_GAP;
    }
    let width = rects.iter().map(Rect::right).fold(320.0, f64::max) + MARGIN;
    let height = rects.iter().map(|r| r.y + r.h).fold(80.0, f64::max) + MARGIN;
    Layout {
        rects,
        rank,
        width,
        height,
    }
}

fn column_of(kind: NodeKind) -> usize {
    COLUMNS.iter().position(|&k| k == kind).unwrap_or(0)
}

/// The edge's curve (start, two control points, end).
fn curve(map: &ArchMap, layout: &Layout, edge: &Edge) -> [Point; 4] {
    let (a, b) = (layout.rects[edge.from], layout.rects[edge.to]);
    let (from_column, to_column) = (
        column_of(map.nodes[edge.from].kind),
        column_of(map.nodes[edge.to].kind),
    );
    if from_column == to_column {
        let bend = bulge(layout.rank[edge.from], layout.rank[edge.to]);
        let start = Point {
            x: a.x,
            y: a.center_y() - 4.0,
        };
        let end = Point {
            x: b.x,
            y: b.center_y() + 4.0,
        };
        return [
            start,
            Point {
                x: a.x - bend,
                y: start.y,
            },
            Point {
                x: b.x - bend,
                y: end.y,
            },
            end,
        ];
    }
    let (start, end) = if from_column < to_column {
        (
            Point {
                x: a.right(),
                y: a.center_y(),
            },
            Point {
                x: b.x,
                y: b.center_y(),
            },
        )
    } else {
        (
            Point {
                x: a.x,
                y: a.center_y(),
            },
            Point {
                x: b.right(),
                y: b.center_y(),
            },
        )
    };
    let dx = (end.x - start.x) / 2.0;
    [
        start,
        Point {
            x: start.x + dx,
            y: start.y,
        },
        Point {
            x: end.x - dx,
            y: end.y,
        },
        end,
    ]
}

/// The point at `t` (0 to 1) along a cubic Bézier curve.
fn along([p0, p1, p2, p3]: [Point; 4], t: f64) -> Point {
    let u = 1.0 - t;
    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    Point {
        x: a * p0.x + b * p1.x + c * p2.x + d * p3.x,
        y: a * p0.y + b * p1.y + c * p2.y + d * p3.y,
    }
}

/// Where along its curve each edge's label sits: an access's near its table, where the
/// accesses of one service to several tables have drawn apart, and the accesses of several
/// services to one table at different distances from it.
fn label_positions(map: &ArchMap) -> Vec<f64> {
    let mut into: Vec<usize> = vec![0; map.nodes.len()];
    map.edges
        .iter()
        .map(|edge| match edge.kind {
            EdgeKind::Accesses => {
                let earlier = into[edge.to];
                into[edge.to] += 1;
                (0.78 - 0.2 * earlier as f64).max(0.3)
            }
            _ => 0.5,
        })
        .collect()
}

/// A call's label is right-aligned left of its arc, in the lane.
const CALL_LABEL_GAP: f64 = 6.0;

/// The data attributes the page's script filters and highlights by.
fn data_attributes(map: &ArchMap, services: &[String], findings: &[usize]) -> String {
    format!(
        "data-services=\"{}\" data-rules=\"{}\" data-findings=\"{}\"",
        json_attribute(services),
        json_attribute(&map.rules_of(findings)),
        json_attribute(findings)
    )
}

/// A tooltip: what the element is, then each of its findings.
fn tooltip(map: &ArchMap, what: &str, findings: &[usize]) -> String {
    let mut text = what.to_string();
    for &index in findings {
        let finding = &map.findings[index];
        let _ = write!(text, "\n{}: {}", finding.rule, finding.message);
    }
    escape(&text)
}

pub fn render(map: &ArchMap) -> String {
    let layout = layout(map);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg id=\"archmap\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" \
         role=\"img\" aria-label=\"{}\">",
        escape(&format!("architecture map of {}", map.workspace)),
        w = layout.width,
        h = layout.height,
    );
    out.push_str("<defs>\n");
    for (name, color) in [("arrow", "#6b7280"), ("arrow-violation", "#c00000")] {
        let _ = writeln!(
            out,
            "<marker id=\"{name}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" \
             markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{color}\"/></marker>"
        );
    }
    out.push_str("</defs>\n");
    if map.nodes.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{MARGIN}\" y=\"40\" class=\"empty\">no services found</text>"
        );
    }
    let curves: Vec<[Point; 4]> = map.edges.iter().map(|e| curve(map, &layout, e)).collect();
    out.push_str("<g class=\"edges\">\n");
    for (edge, &[p0, p1, p2, p3]) in map.edges.iter().zip(&curves) {
        let violation = !edge.findings.is_empty();
        let marker = match (edge.kind, violation) {
            (EdgeKind::Holds | EdgeKind::Owns, _) => String::new(),
            (_, true) => " marker-end=\"url(#arrow-violation)\"".to_string(),
            (_, false) => " marker-end=\"url(#arrow)\"".to_string(),
        };
        let what = format!(
            "{} {} {}{}",
            map.nodes[edge.from].label,
            edge.kind.as_str(),
            map.nodes[edge.to].label,
            if edge.labels.is_empty() {
                String::new()
            } else {
                format!(": {}", edge.labels.join(", "))
            }
        );
        let _ = writeln!(
            out,
            "<g class=\"edge {}{}\" {} data-ends=\"[{},{}]\"><title>{}</title><path d=\"M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\"{marker}/></g>",
            edge.kind.as_str(),
            if violation { " violation" } else { "" },
            data_attributes(map, &edge.services, &edge.findings),
            edge.from,
            edge.to,
            tooltip(map, &what, &edge.findings),
            p0.x, p0.y, p1.x, p1.y, p2.x, p2.y, p3.x, p3.y,
        );
    }
    out.push_str("</g>\n<g class=\"nodes\">\n");
    for (id, &rect) in layout.rects.iter().enumerate() {
        render_node(&mut out, map, id, rect);
    }
    out.push_str("</g>\n<g class=\"edge-labels\">\n");
    let positions = label_positions(map);
    for ((edge, &points), &position) in map.edges.iter().zip(&curves).zip(&positions) {
        let mut lines: Vec<(String, &str)> = Vec::new();
        let caption = edge.caption();
        if !caption.is_empty() {
            lines.push((cut(&caption), "caption"));
        }
        for rule in map.rule_lines(&edge.findings) {
            lines.push((cut(&rule), "rule"));
        }
        if lines.is_empty() {
            continue;
        }
        let mut middle = along(points, position);
        let anchor = if edge.kind == EdgeKind::Calls {
            middle.x -= CALL_LABEL_GAP;
            " text-anchor=\"end\""
        } else {
            ""
        };
        let top = middle.y - (lines.len() as f64 * LINE_HEIGHT) / 2.0 + 12.0;
        let _ = write!(
            out,
            "<g class=\"edge-label\" {} data-ends=\"[{},{}]\">",
            data_attributes(map, &edge.services, &edge.findings),
            edge.from,
            edge.to
        );
        for (i, (line, class)) in lines.iter().enumerate() {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"{class}\"{anchor}>{}</text>",
                middle.x,
                top + i as f64 * LINE_HEIGHT,
                escape(line)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n</svg>\n");
    out
}

fn render_node(out: &mut String, map: &ArchMap, id: usize, rect: Rect) {
    let node = &map.nodes[id];
    let violation = !node.findings.is_empty();
    let service = match node.kind {
        NodeKind::Service => format!(" data-service=\"{}\" tabindex=\"0\"", escape(&node.label)),
        _ => String::new(),
    };
    let _ = write!(
        out,
        "<g class=\"node {}{}\" {} data-node=\"{id}\"{service}><title>{}</title>",
        node.kind.as_str(),
        if violation { " violation" } else { "" },
        data_attributes(map, &node.services, &node.findings),
        tooltip(
            map,
            &format!("{} {}", node.kind.as_str(), node.label),
            &node.findings
        ),
    );
    let Rect { x, y, w, h } = rect;
    let _ = match node.kind {
        NodeKind::Service => write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"7\"/>"
        ),
        NodeKind::Table => write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\"/>"
        ),
        NodeKind::Topic => write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"{:.1}\"/>",
            h / 2.0
        ),
        NodeKind::Database => {
            let rx = w / 2.0;
            write!(
                out,
                "<path d=\"M{x:.1},{top:.1} v{body:.1} a{rx:.1},{CAP} 0 0 0 {w:.1},0 v-{body:.1} \
                 a{rx:.1},{CAP} 0 0 0 -{w:.1},0 a{rx:.1},{CAP} 0 0 0 {w:.1},0\"/>",
                top = y + CAP,
                body = h - 2.0 * CAP,
            )
        }
    };
    let text_top = y
        + PAD_Y
        + if node.kind == NodeKind::Database {
            CAP
        } else {
            0.0
        }
        + 12.0;
    for (i, line) in node_lines(map, node).iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\"{}>{}</text>",
            x + w / 2.0,
            text_top + i as f64 * LINE_HEIGHT,
            if i == 0 {
                " class=\"name\""
            } else {
                " class=\"rule\""
            },
            escape(line)
        );
    }
    out.push_str("</g>\n");
}
