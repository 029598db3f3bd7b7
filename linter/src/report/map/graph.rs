//! The architecture the map draws, built from a check's model and findings: services, the
//! databases they connect to, the tables they own, the calls between services and the topics
//! they publish and consume. Each finding is attached to the edge or node it is about, so
//! every format can mark it in red with its rule name.

use std::collections::HashMap;

use serde::Serialize;

use crate::config::Level;
use crate::model::{Access, EffectKind, Model, ServiceId};
use crate::rules::Finding;
use crate::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    Service,
    Database,
    Table,
    Topic,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Service => "service",
            NodeKind::Database => "database",
            NodeKind::Table => "table",
            NodeKind::Topic => "topic",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub kind: NodeKind,
    pub label: String,
    /// The services the node is, or that use it: what filtering by service matches.
    pub services: Vec<String>,
    /// Indexes into the report's findings attached to this node.
    pub findings: Vec<usize>,
    /// For a database, the name findings give it (`payments`).
    #[serde(skip)]
    database: Option<String>,
    /// For a table, the services whose migrations create it.
    #[serde(skip)]
    owners: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// A service connects to a database.
    Connects,
    /// A database holds a table its owner's migrations create.
    Holds,
    /// A service owns a table in a database the map cannot tell.
    Owns,
    /// A service's SQL reads or writes a table another service owns.
    Accesses,
    /// A service calls another over HTTP, gRPC or a typed client.
    Calls,
    /// A service publishes to a topic.
    Publishes,
    /// A service consumes a topic.
    Consumes,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Connects => "connects",
            EdgeKind::Holds => "holds",
            EdgeKind::Owns => "owns",
            EdgeKind::Accesses => "accesses",
            EdgeKind::Calls => "calls",
            EdgeKind::Publishes => "publishes",
            EdgeKind::Consumes => "consumes",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// Indexes into [`ArchMap::nodes`].
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    /// What is drawn on the edge besides rule names: the operations of a call, `reads`
    /// and `writes` of an access; empty for the others.
    pub labels: Vec<String>,
    pub services: Vec<String>,
    pub findings: Vec<usize>,
}

impl Edge {
    /// The edge's labels as one line: at most two, then how many more.
    pub fn caption(&self) -> String {
        const SHOWN: usize = 2;
        let mut caption = self
            .labels
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if self.labels.len() > SHOWN {
            caption.push_str(&format!(" +{} more", self.labels.len() - SHOWN));
        }
        caption
    }
}

/// A finding in the map's JSON: enough to list it next to the drawing.
#[derive(Debug, Clone, Serialize)]
pub struct MapFinding {
    pub rule: &'static str,
    pub level: Level,
    pub message: String,
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub services: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArchMap {
    /// The workspace directory's name.
    pub workspace: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Every finding of the check, in its order; nodes and edges refer to them by index.
    pub findings: Vec<MapFinding>,
}

/// Words naming how a service is reached rather than which one (`inventory_base_url`,
/// `PaymentsClient`).
const REACH_WORDS: &[&str] = &[
    "url", "uri", "base", "addr", "address", "endpoint", "host", "client", "api", "service", "svc",
    "grpc", "http", "https", "rest", "stub", "port",
];

impl ArchMap {
    pub fn of(report: &Report) -> ArchMap {
        let model = &report.model;
        let mut builder = Builder {
            map: ArchMap {
                workspace: model.root.file_name().unwrap_or("workspace").to_string(),
                nodes: Vec::new(),
                edges: Vec::new(),
                findings: report
                    .findings
                    .iter()
                    .map(|f| MapFinding {
                        rule: f.rule,
                        level: f.level,
                        message: f.message.clone(),
                        path: model.file(f.span.file).path.to_string(),
                        line: f.span.line,
                        column: f.span.column,
                        services: f.services.clone(),
                    })
                    .collect(),
            },
            index: HashMap::new(),
            edge_index: HashMap::new(),
        };
        for service in &model.services {
            builder.node(
                NodeKind::Service,
                &service.name,
                &service.name,
                &service.name,
            );
        }
        builder.add_databases_and_tables(model);
        builder.add_accesses(model);
        builder.add_calls(model);
        builder.add_topics(model);
        for (index, finding) in report.findings.iter().enumerate() {
            builder.attach(index, finding);
        }
        builder.map
    }

    /// The rules of these findings in order of first appearance, each once, with `×N` when
    /// it occurs more often: the red lines drawn on a node or edge.
    pub fn rule_lines(&self, findings: &[usize]) -> Vec<String> {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for &index in findings {
            let rule = self.findings[index].rule;
            match counts.iter_mut().find(|(r, _)| *r == rule) {
                Some((_, count)) => *count += 1,
                None => counts.push((rule, 1)),
            }
        }
        counts
            .into_iter()
            .map(|(rule, count)| match count {
                1 => rule.to_string(),
                n => format!("{rule} \u{d7}{n}"),
            })
            .collect()
    }

    /// The distinct rule names of these findings.
    pub fn rules_of(&self, findings: &[usize]) -> Vec<&'static str> {
        let mut rules: Vec<&'static str> = Vec::new();
        for &index in findings {
            let rule = self.findings[index].rule;
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        rules
    }

    /// Every service named in the map, in the model's order.
    pub fn service_names(&self) -> impl Iterator<Item = &str> {
        self.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Service)
            .map(|n| n.label.as_str())
    }
}

struct Builder {
    map: ArchMap,
    /// Nodes by kind and key.
    index: HashMap<(NodeKind, String), usize>,
    /// Edges by their ends and kind.
    edge_index: HashMap<(usize, usize, EdgeKind), usize>,
}

impl Builder {
    /// The node of this kind and key, created with `label` and `service` if new; `service`
    /// is added to its services either way.
    fn node(&mut self, kind: NodeKind, key: &str, label: &str, service: &str) -> usize {
        let next = self.map.nodes.len();
        let id = *self.index.entry((kind, key.to_string())).or_insert(next);
        if id == next {
            self.map.nodes.push(Node {
                kind,
                label: label.to_string(),
                services: Vec::new(),
                findings: Vec::new(),
                database: None,
                owners: Vec::new(),
            });
        }
        add_name(&mut self.map.nodes[id].services, service);
        id
    }

    fn service_node(&self, name: &str) -> Option<usize> {
        self.index
            .get(&(NodeKind::Service, name.to_string()))
            .copied()
    }

    /// The edge between two nodes of this kind, created if new, with `label` added to its
    /// label's parts.
    fn edge(&mut self, from: usize, to: usize, kind: EdgeKind, label: &str) -> usize {
        let next = self.map.edges.len();
        let id = *self.edge_index.entry((from, to, kind)).or_insert(next);
        if id == next {
            let mut services = Vec::new();
            for node in [from, to] {
                if self.map.nodes[node].kind == NodeKind::Service {
                    add_name(&mut services, &self.map.nodes[node].label);
                }
            }
            self.map.edges.push(Edge {
                from,
                to,
                kind,
                labels: Vec::new(),
                services,
                findings: Vec::new(),
            });
        }
        let edge = &mut self.map.edges[id];
        if !label.is_empty() {
            add_name(&mut edge.labels, label);
        }
        id
    }

    /// Databases the services connect to, and the tables each service's migrations create,
    /// drawn inside the database the service keeps its own data in when that can be told.
    fn add_databases_and_tables(&mut self, model: &Model) {
        let mut databases_of: Vec<Vec<usize>> = vec![Vec::new(); model.services.len()];
        for service in &model.services {
            for connection in &service.connections {
                let target = &connection.target;
                if target.host.is_none() && target.database.is_none() {
                    continue;
                }
                // Two compose projects' `db` are two databases with one name.
                let key = match &connection.scope {
                    Some(scope) => format!("{target} in {scope}"),
                    None => target.to_string(),
                };
                let db = self.node(NodeKind::Database, &key, &target.to_string(), &service.name);
                self.map.nodes[db]
                    .database
                    .clone_from(&connection.target.database);
                let Some(from) = self.service_node(&service.name) else {
                    continue;
                };
                self.edge(from, db, EdgeKind::Connects, "");
                add_unique(&mut databases_of[service.id.0 as usize], db);
            }
        }
        for owner in &model.table_owners {
            let service = model.service(owner.service);
            let Some(owner_node) = self.service_node(&service.name) else {
                continue;
            };
            let table = owner.table.to_string();
            match self.own_database(model, owner.service, &databases_of) {
                Some(db) => {
                    let key = format!("{table} in {}", self.map.nodes[db].label);
                    let node = self.node(NodeKind::Table, &key, &table, &service.name);
                    add_name(&mut self.map.nodes[node].owners, &service.name);
                    let edge = self.edge(db, node, EdgeKind::Holds, "");
                    add_name(&mut self.map.edges[edge].services, &service.name);
                }
                None => {
                    let key = format!("{table} of {}", service.name);
                    let node = self.node(NodeKind::Table, &key, &table, &service.name);
                    add_name(&mut self.map.nodes[node].owners, &service.name);
                    self.edge(owner_node, node, EdgeKind::Owns, "");
                }
            }
        }
    }

    /// The database a service keeps its own tables in: the one it declares, else the one
    /// named like it, else the only one no other service connects to, else its only one.
    fn own_database(
        &self,
        model: &Model,
        service: ServiceId,
        databases_of: &[Vec<usize>],
    ) -> Option<usize> {
        let service = model.service(service);
        let dbs = &databases_of[service.id.0 as usize];
        let named = |name: &str| {
            dbs.iter().copied().find(|&db| {
                self.map.nodes[db]
                    .database
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(name))
            })
        };
        let only = |candidates: Vec<usize>| match candidates.as_slice() {
            [one] => Some(*one),
            _ => None,
        };
        service
            .declared_database
            .as_deref()
            .and_then(named)
            .or_else(|| named(&service.name))
            .or_else(|| {
                only(
                    dbs.iter()
                        .copied()
                        .filter(|&db| self.map.nodes[db].services.len() == 1)
                        .collect(),
                )
            })
            .or_else(|| only(dbs.clone()))
    }

    /// A service's SQL on tables another service owns: what `cross-service-db-access` judges.
    fn add_accesses(&mut self, model: &Model) {
        for query in &model.queries {
            for service in model.services_of_crate(query.crate_id) {
                let Some(from) = self.service_node(&service.name) else {
                    continue;
                };
                for table in &query.tables {
                    let owners: Vec<&str> = model
                        .owners_of(&table.table)
                        .map(|o| model.service(o.service).name.as_str())
                        .collect();
                    if owners.is_empty() || owners.contains(&service.name.as_str()) {
                        continue;
                    }
                    let name = table.table.to_string();
                    let access = match table.access {
                        Access::Read => "reads",
                        Access::Write | Access::Create | Access::Alter | Access::Drop => "writes",
                    };
                    for to in self.table_nodes(&name, &owners) {
                        self.edge(from, to, EdgeKind::Accesses, access);
                        add_name(&mut self.map.nodes[to].services, &service.name);
                    }
                }
            }
        }
        // `reads, writes` whichever the code does first.
        for edge in &mut self.map.edges {
            if edge.kind == EdgeKind::Accesses {
                edge.labels.sort();
            }
        }
    }

    /// The table nodes of this name owned by one of `owners`.
    fn table_nodes(&self, name: &str, owners: &[&str]) -> Vec<usize> {
        self.map
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.kind == NodeKind::Table
                    && n.label.eq_ignore_ascii_case(name)
                    && n.owners.iter().any(|s| owners.contains(&s.as_str()))
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// Calls to another service, each drawn once per caller and callee with the operations.
    fn add_calls(&mut self, model: &Model) {
        for function in &model.functions {
            for effect in &function.effects {
                let EffectKind::Remote {
                    method,
                    operation,
                    target,
                    ..
                } = &effect.kind
                else {
                    continue;
                };
                let callers: Vec<&str> = model
                    .services_of_crate(function.crate_id)
                    .map(|s| s.name.as_str())
                    .collect();
                let candidates = target
                    .iter()
                    .flat_map(|t| t.split([':', '.', '/']))
                    .chain(function.impl_type.as_deref());
                let Some(callee) = candidates
                    .filter_map(|name| callee_named(model, name, &callers))
                    .next()
                else {
                    continue;
                };
                let operation = match method {
                    Some(method) => format!("{} {operation}", method.as_str()),
                    None => operation.clone(),
                };
                for caller in callers {
                    if let (Some(from), Some(to)) =
                        (self.service_node(caller), self.service_node(callee))
                    {
                        self.edge(from, to, EdgeKind::Calls, &operation);
                    }
                }
            }
        }
    }

    /// Topics, with the services publishing to and consuming each; topics the code does not
    /// name statically are left out.
    fn add_topics(&mut self, model: &Model) {
        for function in &model.functions {
            for effect in &function.effects {
                let (topic, publishes) = match &effect.kind {
                    EffectKind::Publish {
                        destination: Some(topic),
                        ..
                    } => (topic, true),
                    EffectKind::Consume {
                        source: Some(topic),
                        ..
                    } => (topic, false),
                    _ => continue,
                };
                for service in model.services_of_crate(function.crate_id) {
                    let Some(node) = self.service_node(&service.name) else {
                        continue;
                    };
                    let topic = self.node(NodeKind::Topic, topic, topic, &service.name);
                    if publishes {
                        self.edge(node, topic, EdgeKind::Publishes, "");
                    } else {
                        self.edge(topic, node, EdgeKind::Consumes, "");
                    }
                }
            }
        }
    }

    /// Attaches a finding where it is drawn: a shared or foreign database at the
    /// connections to it, a foreign table at the access, a finding between two services at
    /// the accesses to the other's tables or the calls to it; anything else at the service
    /// at fault.
    fn attach(&mut self, index: usize, finding: &Finding) {
        let Some(at_fault) = finding.services.first() else {
            return;
        };
        let mut edges: Vec<usize> = Vec::new();
        if let Some(database) = &finding.database {
            // Every service sharing a database is at fault; otherwise only the first.
            let services = if finding.rule == "shared-database" {
                &finding.services[..]
            } else {
                std::slice::from_ref(at_fault)
            };
            edges = self.edges_where(|map, e| {
                e.kind == EdgeKind::Connects
                    && services.contains(&map.nodes[e.from].label)
                    && map.nodes[e.to]
                        .database
                        .as_deref()
                        .is_some_and(|d| d.eq_ignore_ascii_case(database))
            });
        } else if let Some(table) = &finding.table {
            edges = self.edges_where(|map, e| {
                e.kind == EdgeKind::Accesses
                    && map.nodes[e.from].label == *at_fault
                    && map.nodes[e.to].label.eq_ignore_ascii_case(table)
            });
            if edges.is_empty() {
                // Copies of one kind of table in several services: mark each copy.
                let owners: Vec<&str> = finding.services.iter().map(String::as_str).collect();
                let tables = self.table_nodes(table, &owners);
                for &node in &tables {
                    add_unique(&mut self.map.nodes[node].findings, index);
                }
                if !tables.is_empty() {
                    return;
                }
            }
        } else if let Some(other) = finding.services.get(1) {
            edges = self.edges_where(|map, e| {
                e.kind == EdgeKind::Accesses
                    && map.nodes[e.from].label == *at_fault
                    && map.nodes[e.to].owners.contains(other)
            });
            if edges.is_empty() {
                edges = self.edges_where(|map, e| {
                    e.kind == EdgeKind::Calls
                        && map.nodes[e.from].label == *at_fault
                        && map.nodes[e.to].label == *other
                });
            }
        }
        if edges.is_empty() {
            if let Some(node) = self.service_node(at_fault) {
                add_unique(&mut self.map.nodes[node].findings, index);
            }
        }
        for edge in edges {
            add_unique(&mut self.map.edges[edge].findings, index);
        }
    }

    fn edges_where(&self, keep: impl Fn(&ArchMap, &Edge) -> bool) -> Vec<usize> {
        self.map
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| keep(&self.map, e))
            .map(|(id, _)| id)
            .collect()
    }
}

/// The service a call target or client type names (`inventory_url`, `InventoryClient`,
/// `http://inventory-svc:8080`), other than the callers.
fn callee_named<'m>(model: &'m Model, name: &str, callers: &[&str]) -> Option<&'m str> {
    let words = significant_words(name);
    if words.is_empty() {
        return None;
    }
    model
        .services
        .iter()
        .filter(|s| !callers.contains(&s.name.as_str()))
        .find(|s| {
            std::iter::once(&s.name)
                .chain(&s.deploy_names)
                .chain(std::iter::once(&model.krate(s.root_crate).name))
                .any(|known| significant_words(known) == words)
        })
        .map(|s| s.name.as_str())
}

fn significant_words(name: &str) -> Vec<String> {
    crate::behaviour::name_words(name)
        .into_iter()
        .filter(|w| !REACH_WORDS.contains(&w.as_str()))
        .collect()
}

fn add_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn add_name(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_string());
    }
}
