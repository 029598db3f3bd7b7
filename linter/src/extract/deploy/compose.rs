//! docker-compose files: one [`Deployment`] per service, and the database connections its
//! environment carries.
//!
//! Values are evaluated as compose does: `${VAR}`, `${VAR:-default}`, `${VAR-default}` and
//! `$$` from the `.env` next to the compose file; `env_file:` files are read from disk and
//! overridden by `environment:`. A `.env` that is not committed is read from the template
//! committed in its place (`.env.example`, `.sample`, `.template`, `.dist`). A service whose host is a connection pooler in the same
//! file (pgbouncer, pgpool, haproxy) is followed to the database the pooler forwards to.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use serde_norway::{Mapping, Value};

use crate::extract::Facts;
use crate::model::{
    ConnectionOwner, ConnectionSource, DbConnection, DbEngine, Deployment, DeploymentKind,
};

use super::dotenv::{self, DotEnv};
use super::env::{self, interpolate, EnvVar, Syntax};
use super::images::{engine_for_image, is_pooler_image, is_tool_image};
use super::url::{normalize_host, normalize_port, parse_database_url};
use super::yaml::{self, get, get_str, scalar, Locator};
use super::{workspace_relative, Context};

/// How deep `extends:` chains are followed.
const MAX_EXTENDS: usize = 5;

pub(crate) fn extract(cx: &Context<'_>, out: &mut Facts) {
    let document = match yaml::parse_single(cx.text) {
        Ok(value) => value,
        Err(error) => {
            out.notes.push(cx.note(error.offset, error.message));
            return;
        }
    };
    let Some(services) = get(&document, "services").and_then(Value::as_mapping) else {
        return;
    };
    let project_env = cx
        .read_relative(".env")
        .map(|(_, text)| dotenv::parse(&text, &|_| None));
    // Without a `.env`, the committed template fills the variables the compose file gives
    // no default (`${DATABASE_URL}`); a default (`${DB:-auth_db}`) is what its author
    // expects without one.
    let template_env = match project_env {
        Some(_) => DotEnv::default(),
        None => read_env_or_template(cx, ".env")
            .map(|text| dotenv::parse(&text, &|_| None))
            .unwrap_or_default(),
    };
    let project_env = project_env.unwrap_or_default();
    let compose = Compose {
        cx,
        locator: Locator::new(cx.text),
        services,
        secrets: get(&document, "secrets").and_then(Value::as_mapping),
        project_env,
        template_env,
    };
    compose.extract(out);
}

/// Suffixes of the template a project commits in place of its `.env` (which holds secrets
/// and is ignored by git): the README says to copy it to `.env`.
const ENV_TEMPLATES: &[&str] = &[".example", ".sample", ".template", ".dist"];

/// An env file, or when it is absent, the template committed beside it (`.env.example`):
/// the values compose would see once the template is copied into place.
fn read_env_or_template(cx: &Context<'_>, path: &str) -> Option<String> {
    if let Some((_, text)) = cx.read_relative(path) {
        return Some(text);
    }
    let is_dotenv = path.rsplit('/').next() == Some(".env");
    ENV_TEMPLATES
        .iter()
        .filter(|_| is_dotenv)
        .find_map(|suffix| cx.read_relative(&format!("{path}{suffix}")))
        .map(|(_, text)| text)
}

struct Compose<'a> {
    cx: &'a Context<'a>,
    locator: Locator<'a>,
    services: &'a Mapping,
    /// Top-level `secrets:`, for `*_FILE=/run/secrets/<name>` variables.
    secrets: Option<&'a Mapping>,
    project_env: DotEnv,
    /// The template committed in place of a missing `.env` (`.env.example`).
    template_env: DotEnv,
}

/// What one service says, before connections are followed through poolers.
struct Service {
    name: String,
    engine: Option<DbEngine>,
    pooler: bool,
    /// An admin UI or exporter: its connections are not a service's.
    tool: bool,
    forwards_to: Option<String>,
    env: Vec<EnvVar>,
    depends_on: Vec<String>,
    aliases: Vec<String>,
}

impl Compose<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.project_env.get(name).map(str::to_string)
    }

    fn interpolate(&self, text: &str) -> String {
        let once = interpolate(
            text,
            Syntax::Shell {
                dollar_escape: true,
            },
            &|name| self.lookup(name),
        );
        // What is left unresolved had no default: the template fills it.
        if self.template_env.entries.is_empty() || !once.contains("${") {
            return once;
        }
        interpolate(
            &once,
            Syntax::Shell {
                dollar_escape: false,
            },
            &|name| self.template_env.get(name).map(str::to_string),
        )
    }

    fn string(&self, value: Option<&Value>) -> Option<String> {
        value.and_then(scalar).map(|s| self.interpolate(&s))
    }

    fn extract(&self, out: &mut Facts) {
        let all = 0..self.cx.text.len();
        let services_block = self
            .locator
            .key(all.clone(), "services")
            .map_or(all, |l| l.block);
        // Each service is looked up in its own lines: searching the whole block for each
        // is quadratic in the number of services.
        let service_blocks = self.locator.top_level_blocks(services_block.clone());
        let mut services = Vec::new();
        let mut deployments = Vec::new();
        for (key, definition) in self.services {
            let Some(name) = scalar(key) else { continue };
            let within = service_blocks
                .get(&name)
                .cloned()
                .unwrap_or_else(|| services_block.clone());
            let located = self.locator.key(within, &name);
            let service_span = located.as_ref().map_or(0..0, |l| l.key.clone());
            let block = located.as_ref().map_or(0..0, |l| l.block.clone());
            let chain = self.extends_chain(definition);
            let field = |field: &str| chain.iter().find_map(|d| get(d.as_ref(), field));

            let image = self.string(field("image"));
            let (build_context, dockerfile) = self.build(field("build"));
            // A service built from a Dockerfile runs what its last stage starts `FROM`.
            let base_image = dockerfile
                .as_ref()
                .and_then(|path| {
                    self.cx
                        .read_referenced(path, crate::read::FileClass::Deployment)
                })
                .and_then(|text| final_base_image(&text));
            let run_image = image.as_deref().or(base_image.as_deref());
            let engine = image
                .as_deref()
                .and_then(engine_for_image)
                .or_else(|| base_image.as_deref().and_then(engine_for_image));
            let pooler = engine.is_none() && run_image.is_some_and(is_pooler_image);
            let tool = run_image.is_some_and(is_tool_image);

            // Build arguments (sqlx checks queries against `DATABASE_URL` at build time)
            // come first, so the runtime environment overrides them.
            let mut env = self.build_args(field("build"), &block);
            for (depth, definition) in chain.iter().enumerate().rev() {
                // Only the service itself is located in this file; inherited entries point
                // at its `extends:`.
                let own = depth == 0;
                let span_block = if own { block.clone() } else { 0..0 };
                let fallback = if own {
                    service_span.clone()
                } else {
                    self.locator
                        .key(block.clone(), "extends")
                        .map_or(service_span.clone(), |l| l.key)
                };
                self.env_files(definition, &span_block, &fallback, &mut env, out);
                self.environment(definition, &span_block, &fallback, &mut env);
            }
            env.extend(self.command_urls(&chain, &block, &service_span));
            let from_secrets: Vec<EnvVar> =
                env.iter().filter_map(|var| self.secret_file(var)).collect();
            env.extend(from_secrets);
            let depends_on = names_of(field("depends_on"))
                .chain(names_of(field("links")))
                .collect();
            let mut aliases: Vec<String> = ["container_name", "hostname"]
                .iter()
                .filter_map(|k| self.string(field(k)))
                .collect();
            if let Some(networks) = field("networks").and_then(Value::as_mapping) {
                for network in networks.values() {
                    aliases.extend(names_of(get(network, "aliases")));
                }
            }
            let databases = engine.map_or_else(Vec::new, |engine| {
                let mut databases = server_databases(engine, &env);
                databases.extend(self.init_script_databases(field("volumes")));
                databases.sort();
                databases.dedup();
                databases
            });
            let forwards_to = pooler.then(|| forward_host(&env)).flatten();
            deployments.push(Deployment {
                name: name.clone(),
                kind: DeploymentKind::Compose,
                build_context,
                dockerfile,
                image,
                database_engine: engine,
                databases,
                forwards_to: forwards_to.clone(),
                span: self.cx.span(service_span),
            });
            services.push(Service {
                name,
                engine,
                pooler,
                tool,
                forwards_to,
                env,
                depends_on,
                aliases,
            });
        }
        Self::resolve_pooler_fallbacks(&mut services);
        for (mut deployment, service) in deployments.into_iter().zip(&services) {
            deployment.forwards_to.clone_from(&service.forwards_to);
            out.deployments.push(deployment);
        }
        self.connections(&services, out);
    }

    /// The service definition followed by the definitions it extends, nearest first.
    /// `extends: {file, service}` reads the other file (relative to this one).
    fn extends_chain<'v>(&'v self, definition: &'v Value) -> Vec<Cow<'v, Value>> {
        let mut chain: Vec<Cow<'v, Value>> = vec![Cow::Borrowed(definition)];
        let mut seen: Vec<(Option<String>, String)> = Vec::new();
        while chain.len() <= MAX_EXTENDS {
            let current = chain.last().map_or(&Value::Null, |c| c.as_ref());
            let (file, base) = match get(current, "extends") {
                Some(Value::String(name)) => (None, name.clone()),
                Some(extends @ Value::Mapping(_)) => {
                    let Some(service) = get_str(extends, "service") else {
                        break;
                    };
                    (self.string(get(extends, "file")), service)
                }
                _ => break,
            };
            if seen.contains(&(file.clone(), base.clone())) {
                break;
            }
            seen.push((file.clone(), base.clone()));
            let next = match &file {
                None => self.services.get(base.as_str()).map(Cow::Borrowed),
                Some(file) => self
                    .cx
                    .read_relative(file)
                    .and_then(|(_, text)| yaml::parse_single(&text).ok())
                    .and_then(|other| {
                        get(&other, "services")
                            .and_then(|services| get(services, &base))
                            .cloned()
                    })
                    .map(Cow::Owned),
            };
            let Some(next) = next else { break };
            chain.push(next);
        }
        chain
    }

    /// `build: ./dir` or `build: {context, dockerfile}`, workspace-relative.
    fn build(
        &self,
        build: Option<&Value>,
    ) -> (Option<camino::Utf8PathBuf>, Option<camino::Utf8PathBuf>) {
        let (context, dockerfile) = match build {
            Some(Value::Mapping(_)) => {
                let build = build.unwrap_or(&Value::Null);
                (
                    self.string(get(build, "context"))
                        .unwrap_or_else(|| ".".to_string()),
                    self.string(get(build, "dockerfile")),
                )
            }
            Some(value) => match self.string(Some(value)) {
                Some(context) => (context, None),
                None => return (None, None),
            },
            None => return (None, None),
        };
        let Some(context) = workspace_relative(self.cx.input.root, self.cx.dir(), &context) else {
            return (None, None);
        };
        let dockerfile = match dockerfile {
            Some(file) => workspace_relative(self.cx.input.root, &context, &file),
            None => {
                let default = context.join("Dockerfile");
                crate::read::is_file(&self.cx.input.root.join(&default)).then_some(default)
            }
        };
        (Some(context), dockerfile)
    }

    /// `DATABASE_URL_FILE=/run/secrets/db_url` (the convention of official images and many
    /// services) reads the variable from a compose secret whose `file:` is in the workspace.
    fn secret_file(&self, var: &EnvVar) -> Option<EnvVar> {
        let key = var.key.strip_suffix("_FILE")?;
        let path = var.value.as_deref()?.trim();
        if !path.starts_with('/') {
            return None;
        }
        // A secret that is not in the workspace still says the variable is set.
        let value = path
            .strip_prefix("/run/secrets/")
            .and_then(|name| self.secrets?.get(name))
            .and_then(|secret| self.string(get(secret, "file")))
            .and_then(|file| self.cx.read_relative(&file))
            .map(|(_, text)| text.trim().to_string());
        Some(EnvVar {
            key: key.to_string(),
            value,
            span: var.span,
        })
    }

    /// Connection strings in `command:`/`entrypoint:` (a string or a list), nearest
    /// definition first.
    fn command_urls(
        &self,
        chain: &[Cow<'_, Value>],
        block: &Range<usize>,
        fallback: &Range<usize>,
    ) -> Vec<EnvVar> {
        let mut vars = Vec::new();
        for key in ["entrypoint", "command"] {
            let Some(command) = chain.iter().find_map(|d| get(d.as_ref(), key)) else {
                continue;
            };
            let parts: Vec<String> = match command {
                Value::Sequence(items) => items.iter().filter_map(scalar).collect(),
                other => scalar(other).into_iter().collect(),
            };
            let urls = env::urls_in_command(parts.iter().map(String::as_str));
            let many = urls.len() > 1;
            for (index, url) in urls.into_iter().enumerate() {
                let range = self
                    .locator
                    .find(block.clone(), url)
                    .unwrap_or_else(|| fallback.clone());
                vars.push(EnvVar {
                    key: if many {
                        format!("{key}[{index}]")
                    } else {
                        key.to_string()
                    },
                    value: Some(self.interpolate(url)),
                    span: self.cx.span(range),
                });
            }
        }
        vars
    }

    fn build_args(&self, build: Option<&Value>, block: &Range<usize>) -> Vec<EnvVar> {
        let Some(args) = build.and_then(|b| get(b, "args")) else {
            return Vec::new();
        };
        let args_block = self
            .locator
            .path(block.clone(), &["build", "args"])
            .map_or(0..0, |l| l.block);
        let mut vars = Vec::new();
        let mut push = |key: String, value: Option<String>| {
            let range = self
                .locator
                .key(args_block.clone(), &key)
                .map(|l| l.value)
                .or_else(|| {
                    self.locator
                        .list_scalar(args_block.clone(), &format!("{key}="))
                })
                .unwrap_or(args_block.start..args_block.start);
            vars.push(EnvVar {
                value: value
                    .map(|v| self.interpolate(&v))
                    .or_else(|| self.lookup(&key)),
                key,
                span: self.cx.span(range),
            });
        };
        match args {
            Value::Mapping(map) => {
                for (key, value) in map {
                    if let Some(key) = scalar(key) {
                        push(key, scalar(value));
                    }
                }
            }
            Value::Sequence(items) => {
                for item in items.iter().filter_map(scalar) {
                    match item.split_once('=') {
                        Some((key, value)) => push(key.trim().to_string(), Some(value.to_string())),
                        None => push(item.trim().to_string(), None),
                    }
                }
            }
            _ => {}
        }
        vars
    }

    fn env_files(
        &self,
        definition: &Value,
        block: &Range<usize>,
        fallback: &Range<usize>,
        env: &mut Vec<EnvVar>,
        out: &mut Facts,
    ) {
        let entries: Vec<(String, bool)> = match get(definition, "env_file") {
            Some(Value::Sequence(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Value::Mapping(_) => Some((
                        get_str(item, "path")?,
                        get(item, "required")
                            .and_then(Value::as_bool)
                            .unwrap_or(true),
                    )),
                    other => scalar(other).map(|p| (p, true)),
                })
                .collect(),
            Some(value) => scalar(value).map(|p| vec![(p, true)]).unwrap_or_default(),
            None => return,
        };
        let key = self.locator.key(block.clone(), "env_file");
        for (path, required) in entries {
            let path = self.interpolate(&path);
            let span_range = key
                .as_ref()
                .and_then(|k| {
                    self.locator
                        .find(k.key.start..k.block.end.max(k.value.end), &path)
                })
                .or_else(|| key.as_ref().map(|k| k.key.clone()))
                .unwrap_or_else(|| fallback.clone());
            let span = self.cx.span(span_range.clone());
            let Some(text) = read_env_or_template(self.cx, &path) else {
                if required {
                    out.notes.push(self.cx.unreadable(
                        span_range,
                        format!(
                            "{}: env_file `{path}` could not be read",
                            self.cx.input.path
                        ),
                    ));
                }
                continue;
            };
            let parsed = dotenv::parse(&text, &|name| self.lookup(name));
            env.extend(parsed.entries.into_iter().map(|entry| EnvVar {
                key: entry.key,
                value: Some(entry.value),
                span,
            }));
        }
    }

    fn environment(
        &self,
        definition: &Value,
        block: &Range<usize>,
        fallback: &Range<usize>,
        env: &mut Vec<EnvVar>,
    ) {
        let located = self.locator.key(block.clone(), "environment");
        let env_block = located.as_ref().map_or(0..0, |l| l.block.clone());
        let key_span = located.as_ref().map_or(fallback.clone(), |l| l.key.clone());
        let mut push = |key: String, value: Option<String>, range: Option<Range<usize>>| {
            // A variable without a value is passed through from the environment compose runs
            // in, which includes the project `.env`.
            let value = match value {
                Some(v) => Some(self.interpolate(&v)),
                None => self.lookup(&key),
            };
            env.push(EnvVar {
                key,
                value,
                span: self.cx.span(range.unwrap_or_else(|| key_span.clone())),
            });
        };
        match get(definition, "environment") {
            Some(Value::Mapping(map)) => {
                for (key, value) in map {
                    let Some(key) = scalar(key) else { continue };
                    let range = self.locator.key(env_block.clone(), &key).map(|l| {
                        if l.value.is_empty() {
                            l.key
                        } else {
                            l.value
                        }
                    });
                    push(key, scalar(value), range);
                }
            }
            Some(Value::Sequence(items)) => {
                for item in items {
                    let Some(item) = scalar(item) else { continue };
                    match item.split_once('=') {
                        Some((key, value)) => {
                            let key = key.trim().to_string();
                            let range = self
                                .locator
                                .list_scalar(env_block.clone(), &format!("{key}="));
                            push(key, Some(value.to_string()), range);
                        }
                        None => {
                            let key = item.trim().to_string();
                            let range = self.locator.find(env_block.clone(), &key);
                            push(key, None, range);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Databases created by init scripts mounted into `/docker-entrypoint-initdb.d`.
    fn init_script_databases(&self, volumes: Option<&Value>) -> Vec<String> {
        let Some(Value::Sequence(volumes)) = volumes else {
            return Vec::new();
        };
        let mut databases = Vec::new();
        for volume in volumes {
            let (source, target) = match volume {
                Value::Mapping(_) => (get_str(volume, "source"), get_str(volume, "target")),
                other => match scalar(other) {
                    Some(spec) => {
                        let mut parts = spec.splitn(3, ':');
                        (
                            parts.next().map(str::to_string),
                            parts.next().map(str::to_string),
                        )
                    }
                    None => (None, None),
                },
            };
            let (Some(source), Some(target)) = (source, target) else {
                continue;
            };
            if !target.starts_with("/docker-entrypoint-initdb.d") {
                continue;
            }
            let source = self.interpolate(&source);
            let Some(relative) = workspace_relative(self.cx.input.root, self.cx.dir(), &source)
            else {
                continue;
            };
            let absolute = self.cx.input.root.join(&relative);
            let files: Vec<camino::Utf8PathBuf> = if crate::read::is_dir(&absolute) {
                crate::read::list_dir(&absolute)
                    .into_iter()
                    .filter(|p| matches!(p.extension(), Some("sql" | "sh")))
                    .take(64)
                    .collect()
            } else {
                vec![absolute]
            };
            for file in files {
                if let Some(text) = self.cx.read_referenced(&file, crate::read::FileClass::Sql) {
                    databases.extend(created_databases(&text));
                }
            }
        }
        databases
    }

    /// Poolers that name no host forward to the one database server they depend on.
    fn resolve_pooler_fallbacks(services: &mut [Service]) {
        let servers: Vec<String> = services
            .iter()
            .filter(|s| s.engine.is_some())
            .map(|s| s.name.clone())
            .collect();
        for service in services.iter_mut() {
            if !service.pooler || service.forwards_to.is_some() {
                continue;
            }
            let mut candidates = service.depends_on.iter().filter(|d| servers.contains(d));
            if let (Some(only), None) = (candidates.next(), candidates.next()) {
                service.forwards_to = Some(only.clone());
            }
        }
    }

    fn connections(&self, services: &[Service], out: &mut Facts) {
        // Every name a service answers to on the compose network.
        let mut by_host: HashMap<String, &Service> = HashMap::new();
        for service in services {
            for alias in std::iter::once(&service.name).chain(&service.aliases) {
                if let Some(host) = normalize_host(alias) {
                    by_host.entry(host).or_insert(service);
                }
            }
        }
        for service in services {
            if service.engine.is_some() || service.pooler || service.tool {
                continue;
            }
            let owner = ConnectionOwner::Deployment(service.name.clone());
            let mut connections = env::connections(&service.env, &owner, ConnectionSource::Compose);
            for connection in &mut connections {
                follow(connection, &by_host);
            }
            self.cx.place_sqlite_files(&mut connections);
            out.connections.extend(connections);
        }
    }
}

/// Rewrites a connection's host through aliases and poolers to the service running the
/// database, and takes the engine from that service when the settings did not name it.
fn follow(connection: &mut DbConnection, by_host: &HashMap<String, &Service>) {
    let target = &mut connection.target;
    for _ in 0..4 {
        let Some(service) = target.host.as_ref().and_then(|h| by_host.get(h)) else {
            return;
        };
        target.host = Some(service.name.clone());
        if let Some(engine) = service.engine {
            if target.engine == DbEngine::Unknown {
                target.engine = engine;
                target.port = normalize_port(engine, target.port);
            }
            return;
        }
        if !service.pooler {
            return;
        }
        let Some(next) = service.forwards_to.as_deref() else {
            return;
        };
        target.host = normalize_host(next);
        // Behind the pooler the server listens on its own port.
        target.port = None;
    }
}

/// `depends_on`/`links` as a list or a mapping of service names (`db:database` links keep
/// the service part).
fn names_of(value: Option<&Value>) -> impl Iterator<Item = String> {
    let names: Vec<String> = match value {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(scalar)
            .map(|s| s.split(':').next().unwrap_or(&s).to_string())
            .collect(),
        Some(Value::Mapping(map)) => map.keys().filter_map(scalar).collect(),
        _ => Vec::new(),
    };
    names.into_iter()
}

fn env_value<'e>(env: &'e [EnvVar], keys: &[&str]) -> Option<&'e str> {
    keys.iter().find_map(|key| {
        env.iter()
            .rev()
            .find(|v| v.key == *key)
            .and_then(|v| v.value.as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty() && !super::url::is_unresolved(v))
    })
}

/// The image the last stage of a Dockerfile starts from (`FROM postgres:16 AS db`), with
/// `ARG` defaults substituted; `None` when it names an earlier stage or cannot be read.
pub(crate) fn final_base_image(dockerfile: &str) -> Option<String> {
    let mut args: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<String> = Vec::new();
    let mut last = None;
    for line in dockerfile.lines() {
        let line = line.trim();
        let mut words = line.split_whitespace();
        let Some(instruction) = words.next() else {
            continue;
        };
        if instruction.eq_ignore_ascii_case("ARG") {
            if let Some((name, value)) = words.next().and_then(|a| a.split_once('=')) {
                args.push((name.to_string(), value.trim_matches('"').to_string()));
            }
        } else if instruction.eq_ignore_ascii_case("FROM") {
            let image = words.find(|w| !w.starts_with("--"))?;
            let image = interpolate(
                image,
                Syntax::Shell {
                    dollar_escape: false,
                },
                &|name| args.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            );
            let rest: Vec<&str> = line.split_whitespace().collect();
            if let Some(position) = rest.iter().position(|w| w.eq_ignore_ascii_case("AS")) {
                if let Some(stage) = rest.get(position + 1) {
                    stages.push(stage.to_ascii_lowercase());
                }
            }
            last = Some(image);
        }
    }
    last.filter(|image| !stages.contains(&image.to_ascii_lowercase()))
}

/// Databases a server image creates on first start.
pub(crate) fn server_databases(engine: DbEngine, env: &[EnvVar]) -> Vec<String> {
    let mut databases = Vec::new();
    let unresolved = |keys: &[&str]| {
        keys.iter().any(|key| {
            env.iter()
                .any(|v| v.key == *key && v.value.as_deref().is_some_and(super::url::is_unresolved))
        })
    };
    match engine {
        DbEngine::Postgres => {
            const NAME: &[&str] = &[
                "POSTGRES_DB",
                "POSTGRES_DATABASE",
                "POSTGRESQL_DATABASE",
                "COCKROACH_DATABASE",
            ];
            const USER: &[&str] = &["POSTGRES_USER", "POSTGRESQL_USERNAME"];
            if let Some(db) = env_value(env, NAME) {
                databases.push(db.to_string());
            } else if !unresolved(NAME) {
                // The image names its database after the user, `postgres` by default.
                match env_value(env, USER) {
                    Some(user) => databases.push(user.to_string()),
                    None if !unresolved(USER) => databases.push("postgres".to_string()),
                    None => {}
                }
            }
            // A widespread init-script convention for several databases in one container.
            if let Some(list) =
                env_value(env, &["POSTGRES_MULTIPLE_DATABASES", "POSTGRES_DATABASES"])
            {
                databases.extend(
                    list.split([',', ' '])
                        .map(|d| d.split(':').next().unwrap_or(d).trim())
                        .filter(|d| !d.is_empty())
                        .map(str::to_string),
                );
            }
        }
        DbEngine::MySql => {
            databases.extend(
                env_value(env, &["MYSQL_DATABASE", "MARIADB_DATABASE"]).map(str::to_string),
            );
        }
        DbEngine::Mongo => {
            databases.extend(
                env_value(env, &["MONGO_INITDB_DATABASE", "MONGODB_DATABASE"]).map(str::to_string),
            );
        }
        DbEngine::Redis | DbEngine::Sqlite | DbEngine::Unknown => {}
    }
    databases
}

/// The real database host a pooler container is configured with.
pub(crate) fn forward_host(env: &[EnvVar]) -> Option<String> {
    const HOST_KEYS: &[&str] = &[
        "DATABASES_HOST",
        "DB_HOST",
        "POSTGRESQL_HOST",
        "POSTGRES_HOST",
        "PGHOST",
        "DATABASE_HOST",
        "PGBOUNCER_DATABASE_HOST",
        "BACKEND_HOST",
        "PG_PRIMARY_SERVICE_NAME",
    ];
    if let Some(host) = env_value(env, HOST_KEYS) {
        return normalize_host(host.split(':').next().unwrap_or(host));
    }
    // pgpool: `0:pg-0:5432,1:pg-1:5432`.
    if let Some(nodes) = env_value(env, &["PGPOOL_BACKEND_NODES"]) {
        let first = nodes.split(',').next().unwrap_or(nodes);
        return first.split(':').nth(1).and_then(normalize_host);
    }
    for var in env {
        let Some(value) = var.value.as_deref() else {
            continue;
        };
        if let Some(host) = parse_database_url(value).and_then(|t| t.host) {
            return Some(host);
        }
        // edoburu/pgbouncer `DATABASES=orders = host=db port=5432 dbname=orders`.
        if var.key.starts_with("DATABASES") {
            if let Some(host) = value
                .split_whitespace()
                .find_map(|token| token.strip_prefix("host="))
                .and_then(normalize_host)
            {
                return Some(host);
            }
        }
    }
    None
}

/// Names in `CREATE DATABASE name` statements of an init script.
pub(crate) fn created_databases(script: &str) -> Vec<String> {
    let mut names = Vec::new();
    let upper = script.to_ascii_uppercase();
    let mut from = 0;
    while let Some(found) = upper[from..].find("CREATE DATABASE") {
        let start = from + found + "CREATE DATABASE".len();
        from = start;
        let mut rest = script[start..].trim_start();
        if rest.to_ascii_uppercase().starts_with("IF NOT EXISTS") {
            rest = rest["IF NOT EXISTS".len()..].trim_start();
        }
        let name: String = match rest.chars().next() {
            Some(q @ ('"' | '`' | '\'')) => rest[1..].chars().take_while(|c| *c != q).collect(),
            _ => rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                .collect(),
        };
        if !name.is_empty() && !name.contains('$') {
            names.push(name.to_lowercase());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_base_images() {
        let dockerfile = "ARG PG=16\nFROM rust:1.80 AS build\nRUN cargo build\nFROM postgres:${PG}-alpine\nCOPY init.sql /docker-entrypoint-initdb.d/\n";
        assert_eq!(
            final_base_image(dockerfile).as_deref(),
            Some("postgres:16-alpine")
        );
        let app = "FROM rust AS build\nFROM debian:bookworm-slim\n";
        assert_eq!(
            final_base_image(app).as_deref(),
            Some("debian:bookworm-slim")
        );
        assert_eq!(final_base_image("FROM rust AS build\nFROM build\n"), None);
        assert_eq!(
            final_base_image("FROM --platform=linux/amd64 mysql:8\n").as_deref(),
            Some("mysql:8")
        );
        assert_eq!(final_base_image(""), None);
    }

    #[test]
    fn init_scripts() {
        let script = "CREATE DATABASE orders;\ncreate database \"Billing\";\nCREATE DATABASE IF NOT EXISTS `shop`;\nCREATE DATABASE $1;";
        assert_eq!(created_databases(script), vec!["orders", "billing", "shop"]);
    }
}
