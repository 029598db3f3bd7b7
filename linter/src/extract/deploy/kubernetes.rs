//! Kubernetes manifests: workloads become [`Deployment`]s, their container environment
//! becomes database connections.
//!
//! Environment values come from `value` (with `$(VAR)` expansion), `valueFrom.configMapKeyRef`
//! / `secretKeyRef` and `envFrom`, resolved against the ConfigMaps and Secrets of the same
//! file (`data`, `stringData`, base64 `data`). A Service that selects a database workload
//! under another name is recorded as a deployment of that database too, so connection hosts
//! (which name Services) find their server.

use std::collections::HashMap;
use std::ops::Range;

use serde_norway::Value;

use crate::extract::Facts;
use crate::model::{ConnectionOwner, ConnectionSource, DbEngine, Deployment, DeploymentKind};

use super::compose::{forward_host, server_databases};
use super::env::{self, interpolate, EnvVar, Syntax};
use super::images::{engine_for_image, is_pooler_image, is_tool_image};
use super::url::{normalize_host, normalize_port};
use super::yaml::{self, get, get_str, scalar, Locator};
use super::Context;

const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
    "DeploymentConfig",
    "Rollout",
];

pub(crate) fn extract(cx: &Context<'_>, out: &mut Facts) {
    let documents = yaml::parse_documents(cx.text);
    let broken: Vec<_> = documents
        .iter()
        .filter_map(|d| d.value.as_ref().err())
        .collect();
    if let Some(first) = broken.first() {
        let templated = cx.text.contains("{{");
        let mut message = first.message.clone();
        if templated {
            message.push_str(" (looks like a Helm/Go template; skipped)");
        }
        if broken.len() > 1 {
            message.push_str(&format!(
                " ({} documents could not be parsed)",
                broken.len()
            ));
        }
        out.notes.push(cx.note(first.offset, message));
    }
    let mut objects: Vec<(Range<usize>, &Value)> = Vec::new();
    for document in &documents {
        let Ok(value) = &document.value else { continue };
        // `kind: List` wraps several objects.
        if get_str(value, "kind").as_deref() == Some("List") {
            if let Some(items) = get(value, "items").and_then(Value::as_sequence) {
                objects.extend(items.iter().map(|item| (document.range.clone(), item)));
            }
            continue;
        }
        objects.push((document.range.clone(), value));
    }
    let clusters: Vec<OperatorCluster> = objects
        .iter()
        .filter_map(|(range, object)| operator_cluster(range, object))
        .collect();
    let mut config = collect_config(&objects);
    for cluster in &clusters {
        for (name, values) in &cluster.secrets {
            config
                .entry((Source::Secret, name.clone()))
                .or_insert_with(|| values.clone());
        }
    }
    let manifests = Manifests {
        cx,
        locator: Locator::new(cx.text),
        config,
    };
    manifests.extract(&objects, &clusters, out);
}

/// A PostgreSQL cluster run by an operator (CloudNativePG, Zalando, Crunchy PGO): the
/// Services it creates (the primary's first, then replicas), its databases, and the connection Secrets it generates (which
/// workloads reference with `secretKeyRef`).
struct OperatorCluster {
    range: Range<usize>,
    services: Vec<String>,
    databases: Vec<String>,
    secrets: Vec<(String, Vec<(String, String)>)>,
}

fn operator_cluster(range: &Range<usize>, object: &Value) -> Option<OperatorCluster> {
    let api = get_str(object, "apiVersion")?;
    let kind = get_str(object, "kind")?;
    let name = metadata_name(object)?;
    let spec = get(object, "spec").unwrap_or(&Value::Null);
    let connection_secret = |host: &str, database: &str, user: &str| {
        vec![
            ("host".to_string(), host.to_string()),
            ("port".to_string(), "5432".to_string()),
            ("dbname".to_string(), database.to_string()),
            ("user".to_string(), user.to_string()),
            ("username".to_string(), user.to_string()),
            (
                "uri".to_string(),
                format!("postgresql://{user}@{host}:5432/{database}"),
            ),
            (
                "jdbc-uri".to_string(),
                format!("jdbc:postgresql://{host}:5432/{database}"),
            ),
        ]
    };
    if api.starts_with("postgresql.cnpg.io/") && kind == "Cluster" {
        let initdb = get(spec, "bootstrap").and_then(|b| get(b, "initdb"));
        let database = initdb
            .and_then(|i| get_str(i, "database"))
            .unwrap_or_else(|| "app".to_string());
        let owner = initdb
            .and_then(|i| get_str(i, "owner"))
            .unwrap_or_else(|| database.clone());
        let primary = format!("{name}-rw");
        return Some(OperatorCluster {
            range: range.clone(),
            services: vec![primary.clone(), format!("{name}-ro"), format!("{name}-r")],
            databases: vec![database.clone()],
            secrets: vec![(
                format!("{name}-app"),
                connection_secret(&primary, &database, &owner),
            )],
        });
    }
    if api.starts_with("acid.zalan.do/") && kind == "postgresql" {
        let databases = get(spec, "databases")
            .and_then(Value::as_mapping)
            .map(|m| m.keys().filter_map(scalar).collect())
            .unwrap_or_default();
        return Some(OperatorCluster {
            range: range.clone(),
            services: vec![name.clone(), format!("{name}-repl")],
            databases,
            secrets: Vec::new(),
        });
    }
    if api.starts_with("postgres-operator.crunchydata.com/") && kind == "PostgresCluster" {
        let primary = format!("{name}-primary");
        let mut databases = Vec::new();
        let mut secrets = Vec::new();
        let users = get(spec, "users").and_then(Value::as_sequence);
        for user in users.into_iter().flatten() {
            let Some(user_name) = get_str(user, "name") else {
                continue;
            };
            let user_databases: Vec<String> = get(user, "databases")
                .and_then(Value::as_sequence)
                .map(|d| d.iter().filter_map(scalar).collect())
                .unwrap_or_default();
            if let Some(first) = user_databases.first() {
                secrets.push((
                    format!("{name}-pguser-{user_name}"),
                    connection_secret(&primary, first, &user_name),
                ));
            }
            databases.extend(user_databases);
        }
        if databases.is_empty() {
            databases.push(name.clone());
        }
        return Some(OperatorCluster {
            range: range.clone(),
            services: vec![primary, format!("{name}-replicas")],
            databases,
            secrets,
        });
    }
    None
}

/// ConfigMap and Secret values by object name, then key.
type ConfigValues = HashMap<(Source, String), Vec<(String, String)>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    ConfigMap,
    Secret,
}

fn collect_config(objects: &[(Range<usize>, &Value)]) -> ConfigValues {
    let mut config = ConfigValues::new();
    for (_, object) in objects {
        let (Some(kind), Some(name)) = (get_str(object, "kind"), metadata_name(object)) else {
            continue;
        };
        let source = match kind.as_str() {
            "ConfigMap" => Source::ConfigMap,
            "Secret" => Source::Secret,
            _ => continue,
        };
        let mut values = Vec::new();
        if let Some(data) = get(object, "data").and_then(Value::as_mapping) {
            for (key, value) in data {
                let (Some(key), Some(value)) = (scalar(key), scalar(value)) else {
                    continue;
                };
                let value = match source {
                    Source::ConfigMap => Some(value),
                    Source::Secret => base64_decode(&value),
                };
                values.extend(value.map(|v| (key, v)));
            }
        }
        if let Some(data) = get(object, "stringData").and_then(Value::as_mapping) {
            for (key, value) in data {
                if let (Some(key), Some(value)) = (scalar(key), scalar(value)) {
                    values.push((key, value));
                }
            }
        }
        config.insert((source, name), values);
    }
    config
}

fn metadata_name(object: &Value) -> Option<String> {
    get(object, "metadata").and_then(|m| get_str(m, "name"))
}

struct Manifests<'a> {
    cx: &'a Context<'a>,
    locator: Locator<'a>,
    config: ConfigValues,
}

/// What a database-ish workload answers to: its name, and the Services selecting it.
struct Server {
    engine: Option<DbEngine>,
    pooler: bool,
    forwards_to: Option<String>,
}

impl Manifests<'_> {
    fn extract(
        &self,
        objects: &[(Range<usize>, &Value)],
        clusters: &[OperatorCluster],
        out: &mut Facts,
    ) {
        let mut servers: HashMap<String, Server> = HashMap::new();
        // Replica Services of an operator cluster serve the primary's databases.
        let mut primaries: HashMap<&str, &str> = HashMap::new();
        for cluster in clusters {
            if let Some((primary, replicas)) = cluster.services.split_first() {
                for replica in replicas {
                    primaries.insert(replica, primary);
                }
            }
            let span_range = self
                .locator
                .path(cluster.range.clone(), &["metadata", "name"])
                .map_or(cluster.range.start..cluster.range.start, |l| l.value);
            for service in &cluster.services {
                servers.insert(
                    service.clone(),
                    Server {
                        engine: Some(DbEngine::Postgres),
                        pooler: false,
                        forwards_to: None,
                    },
                );
                out.deployments.push(Deployment {
                    name: service.clone(),
                    kind: DeploymentKind::Kubernetes,
                    build_context: None,
                    dockerfile: None,
                    image: None,
                    database_engine: Some(DbEngine::Postgres),
                    databases: cluster.databases.clone(),
                    forwards_to: None,
                    span: self.cx.span(span_range.clone()),
                });
            }
        }
        // (workload name, pod labels, indices of its deployments)
        let mut workload_labels: Vec<(String, Labels, Range<usize>)> = Vec::new();
        let mut pending = Vec::new();
        for (range, object) in objects {
            let Some(kind) = get_str(object, "kind") else {
                continue;
            };
            if !WORKLOAD_KINDS.contains(&kind.as_str()) {
                continue;
            }
            let Some(name) = metadata_name(object) else {
                continue;
            };
            let Some(pod) = pod_template(object, &kind) else {
                continue;
            };
            let pod_spec = get(pod, "spec").unwrap_or(&Value::Null);
            let labels = labels_of(get(pod, "metadata").and_then(|m| get(m, "labels")));
            let name_range = self
                .locator
                .path(range.clone(), &["metadata", "name"])
                .map_or(range.start..range.start, |l| l.value);
            let containers_key = self.locator.key(range.clone(), "containers");
            let containers: Vec<&Value> = ["containers", "initContainers"]
                .iter()
                .filter_map(|k| get(pod_spec, k).and_then(Value::as_sequence))
                .flatten()
                .collect();
            let main = main_container(&name, &containers);
            // Workloads are often named `<crate>-deployment` around a container named
            // after the crate: the name that matches a crate identifies the service.
            let main_name = containers
                .get(main)
                .and_then(|c| get_str(c, "name"))
                .unwrap_or_default();
            let name = if !self.cx.names_crate(&name) && self.cx.names_crate(&main_name) {
                main_name
            } else {
                name
            };
            let first_deployment = out.deployments.len();
            let mut pod_env = Vec::new();
            for (index, container) in containers.iter().enumerate() {
                let container_name = get_str(container, "name").unwrap_or_default();
                let image = get_str(container, "image");
                let engine = image.as_deref().and_then(engine_for_image);
                let pooler = image.as_deref().is_some_and(is_pooler_image);
                let item = containers_key.as_ref().and_then(|k| {
                    self.locator
                        .list_item(k.block.clone(), "name", &container_name)
                });
                let fallback = item
                    .as_ref()
                    .and_then(|i| self.locator.key(i.clone(), "name").map(|l| l.value))
                    .unwrap_or_else(|| name_range.clone());
                let env = self.container_env(container, item.clone(), &fallback);
                let is_main = index == main;
                let deployment_name = if is_main {
                    name.clone()
                } else {
                    container_name.clone()
                };
                if deployment_name.is_empty() {
                    continue;
                }
                let databases = engine.map_or_else(Vec::new, |e| server_databases(e, &env));
                let forwards_to = pooler.then(|| forward_host(&env)).flatten();
                if engine.is_some() || pooler {
                    servers.insert(
                        deployment_name.clone(),
                        Server {
                            engine,
                            pooler,
                            forwards_to: forwards_to.clone(),
                        },
                    );
                } else if !image.as_deref().is_some_and(is_tool_image) {
                    pod_env.extend(env);
                }
                out.deployments.push(Deployment {
                    name: deployment_name,
                    kind: DeploymentKind::Kubernetes,
                    build_context: None,
                    dockerfile: None,
                    image,
                    database_engine: engine,
                    databases,
                    forwards_to,
                    span: self.cx.span(if is_main {
                        name_range.clone()
                    } else {
                        fallback
                    }),
                });
            }
            if out.deployments.len() > first_deployment {
                workload_labels.push((
                    name.clone(),
                    labels,
                    first_deployment..out.deployments.len(),
                ));
            }
            pending.push((name, pod_env));
        }

        // Services that select a database workload under another name.
        let mut external_names: HashMap<String, String> = HashMap::new();
        for (range, object) in objects {
            if get_str(object, "kind").as_deref() != Some("Service") {
                continue;
            }
            let Some(service_name) = metadata_name(object) else {
                continue;
            };
            let spec = get(object, "spec");
            // `type: ExternalName` Services alias a host outside the cluster (a managed
            // database): connections through them reach that host.
            if let Some(external) = spec.and_then(|s| get_str(s, "externalName")) {
                if let Some(host) = normalize_host(&external) {
                    external_names.insert(service_name, host);
                }
                continue;
            }
            let selector = labels_of(spec.and_then(|s| get(s, "selector")));
            if selector.is_empty() {
                continue;
            }
            let Some((_, _, deployments)) = workload_labels
                .iter()
                .find(|(_, labels, _)| selector.iter().all(|pair| labels.contains(pair)))
            else {
                continue;
            };
            if servers.contains_key(&service_name) {
                continue;
            }
            // The database or pooler container of the selected pods.
            let Some((deployment_index, server)) = deployments.clone().find_map(|index| {
                let name = &out.deployments[index].name;
                servers.get(name).map(|server| (index, server))
            }) else {
                continue;
            };
            let alias = Server {
                engine: server.engine,
                pooler: server.pooler,
                forwards_to: server.forwards_to.clone(),
            };
            let mut deployment = out.deployments[deployment_index].clone();
            deployment.name = service_name.clone();
            deployment.span = self.cx.span(
                self.locator
                    .path(range.clone(), &["metadata", "name"])
                    .map_or(range.start..range.start, |l| l.value),
            );
            out.deployments.push(deployment);
            servers.insert(service_name, alias);
        }

        for (name, env) in pending {
            let owner = ConnectionOwner::Deployment(name);
            let mut connections = env::connections(&env, &owner, ConnectionSource::Kubernetes);
            self.cx.place_sqlite_files(&mut connections);
            for mut connection in connections {
                let target = &mut connection.target;
                // `orders-db.shop` is the Service `orders-db` of namespace `shop`.
                if let Some(host) = target.host.as_deref() {
                    if let Some((service, namespace)) = host.split_once('.') {
                        let known =
                            servers.contains_key(service) || external_names.contains_key(service);
                        if known && !namespace.contains('.') {
                            target.host = Some(service.to_string());
                        }
                    }
                }
                if let Some(primary) = target.host.as_deref().and_then(|h| primaries.get(h)) {
                    target.host = Some((*primary).to_string());
                }
                if let Some(external) = target.host.as_ref().and_then(|h| external_names.get(h)) {
                    target.host = Some(external.clone());
                }
                for _ in 0..4 {
                    let Some(server) = target.host.as_ref().and_then(|h| servers.get(h)) else {
                        break;
                    };
                    if let Some(engine) = server.engine {
                        if target.engine == DbEngine::Unknown {
                            target.engine = engine;
                            target.port = normalize_port(engine, target.port);
                        }
                        break;
                    }
                    match server.forwards_to.as_deref().filter(|_| server.pooler) {
                        Some(next) => {
                            target.host = normalize_host(next);
                            target.port = None;
                        }
                        None => break,
                    }
                }
                out.connections.push(connection);
            }
        }
    }

    /// `envFrom` first, then `env`, as the kubelet applies them.
    fn container_env(
        &self,
        container: &Value,
        item: Option<Range<usize>>,
        fallback: &Range<usize>,
    ) -> Vec<EnvVar> {
        let item = item.unwrap_or(0..0);
        let mut vars: Vec<EnvVar> = Vec::new();
        if let Some(sources) = get(container, "envFrom").and_then(Value::as_sequence) {
            let key = self.locator.key(item.clone(), "envFrom");
            for source in sources {
                let prefix = get_str(source, "prefix").unwrap_or_default();
                let (kind, reference) =
                    match (get(source, "configMapRef"), get(source, "secretRef")) {
                        (Some(r), _) => (Source::ConfigMap, r),
                        (_, Some(r)) => (Source::Secret, r),
                        _ => continue,
                    };
                let Some(object) = get_str(reference, "name") else {
                    continue;
                };
                let range = key
                    .as_ref()
                    .and_then(|k| self.locator.find(k.block.clone(), &object))
                    .unwrap_or_else(|| fallback.clone());
                for (k, v) in self.config.get(&(kind, object)).into_iter().flatten() {
                    vars.push(EnvVar {
                        key: format!("{prefix}{k}"),
                        value: Some(v.clone()),
                        span: self.cx.span(range.clone()),
                    });
                }
            }
        }
        if let Some(entries) = get(container, "env").and_then(Value::as_sequence) {
            let env_key = self.locator.key(item.clone(), "env");
            for entry in entries {
                let Some(key) = get_str(entry, "name") else {
                    continue;
                };
                let entry_range = env_key
                    .as_ref()
                    .and_then(|k| self.locator.list_item(k.block.clone(), "name", &key));
                let value = match get(entry, "value") {
                    Some(value) => scalar(value).map(|v| {
                        interpolate(&v, Syntax::Kubernetes, &|name| {
                            vars.iter()
                                .rev()
                                .find(|var| var.key == name)
                                .and_then(|var| var.value.clone())
                        })
                    }),
                    None => get(entry, "valueFrom").and_then(|from| self.value_from(from)),
                };
                let range = entry_range
                    .as_ref()
                    .and_then(|r| {
                        self.locator
                            .key(r.clone(), "value")
                            .map(|l| l.value)
                            .or_else(|| self.locator.key(r.clone(), "valueFrom").map(|l| l.key))
                    })
                    .unwrap_or_else(|| fallback.clone());
                vars.push(EnvVar {
                    key,
                    value,
                    span: self.cx.span(range),
                });
            }
        }
        // `command`/`args` expand `$(VAR)` from the container environment too.
        for key in ["command", "args"] {
            let Some(items) = get(container, key).and_then(Value::as_sequence) else {
                continue;
            };
            let parts: Vec<String> = items.iter().filter_map(scalar).collect();
            let urls = env::urls_in_command(parts.iter().map(String::as_str));
            let many = urls.len() > 1;
            for (index, url) in urls.into_iter().enumerate() {
                let range = self
                    .locator
                    .find(item.clone(), url)
                    .unwrap_or_else(|| fallback.clone());
                let value = interpolate(url, Syntax::Kubernetes, &|name| {
                    vars.iter()
                        .rev()
                        .find(|var| var.key == name)
                        .and_then(|var| var.value.clone())
                });
                vars.push(EnvVar {
                    key: if many {
                        format!("{key}[{index}]")
                    } else {
                        key.to_string()
                    },
                    value: Some(value),
                    span: self.cx.span(range),
                });
            }
        }
        vars
    }

    fn value_from(&self, from: &Value) -> Option<String> {
        let (kind, reference) = match (get(from, "configMapKeyRef"), get(from, "secretKeyRef")) {
            (Some(r), _) => (Source::ConfigMap, r),
            (_, Some(r)) => (Source::Secret, r),
            _ => return None,
        };
        let object = get_str(reference, "name")?;
        let key = get_str(reference, "key")?;
        self.config
            .get(&(kind, object))?
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }
}

/// The pod template of a workload object.
fn pod_template<'v>(object: &'v Value, kind: &str) -> Option<&'v Value> {
    let spec = get(object, "spec")?;
    match kind {
        "Pod" => Some(object),
        "CronJob" => get(get(get(spec, "jobTemplate")?, "spec")?, "template"),
        _ => get(spec, "template"),
    }
}

type Labels = Vec<(String, String)>;

fn labels_of(value: Option<&Value>) -> Labels {
    let Some(map) = value
        .and_then(|v| get(v, "matchLabels").or(Some(v)))
        .and_then(Value::as_mapping)
    else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(k, v)| Some((scalar(k)?, scalar(v)?)))
        .collect()
}

/// The container that runs the workload's own code: the one named like the workload, else
/// the first that is neither a database nor a known sidecar.
fn main_container(workload: &str, containers: &[&Value]) -> usize {
    if let Some(index) = containers
        .iter()
        .position(|c| get_str(c, "name").as_deref() == Some(workload))
    {
        return index;
    }
    const SIDECARS: &[&str] = &[
        "cloud-sql-proxy",
        "cloudsql-proxy",
        "istio-proxy",
        "envoy",
        "linkerd-proxy",
        "vault-agent",
        "fluent-bit",
        "fluentd",
        "otel-collector",
        "datadog-agent",
    ];
    containers
        .iter()
        .position(|c| {
            let name = get_str(c, "name").unwrap_or_default();
            let image = get_str(c, "image").unwrap_or_default();
            engine_for_image(&image).is_none()
                && !is_pooler_image(&image)
                && !SIDECARS
                    .iter()
                    .any(|s| name.contains(s) || image.contains(s))
        })
        .unwrap_or(0)
}

/// Standard base64 (Kubernetes Secret `data`); `None` when not valid base64 or UTF-8.
fn base64_decode(text: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64() {
        assert_eq!(
            base64_decode("cG9zdGdyZXM6Ly9kYi9vcmRlcnM=").as_deref(),
            Some("postgres://db/orders")
        );
        assert_eq!(base64_decode("YQ==").as_deref(), Some("a"));
        assert_eq!(base64_decode("not base64!"), None);
    }
}
