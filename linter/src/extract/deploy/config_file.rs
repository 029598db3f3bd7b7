//! Configuration files of a crate (`config/*.toml|yaml|yml|json`, `Settings.toml`,
//! `application.yaml`): the settings the `config` crate, figment or a hand-rolled loader
//! read at start-up.
//!
//! Every string leaf is a candidate, under its dotted key path: a database connection string
//! anywhere (`[database] url = ".."`, `spring.datasource.url`), or split settings
//! (`[database] host/port/name`, `[app.database] dbname`, `databases.orders.host`) grouped by
//! their table. The same rules as for environment variables apply, with `.` as the
//! separator, so `APP_DATABASE__HOST` in the environment and `database.host` here are
//! recognised alike.

use std::ops::Range;

use serde_norway::Value;

use crate::extract::Facts;
use crate::model::{ConnectionOwner, ConnectionSource};

use super::env::{self, classify_key, interpolate, EnvVar, KeyClass, Syntax};
use super::yaml::{self, scalar, Locator};
use super::Context;

/// A string leaf of a configuration file.
struct Leaf {
    path: Vec<String>,
    value: String,
    /// Where the value is, when the parser knows.
    range: Option<Range<usize>>,
}

pub(crate) fn extract(cx: &Context<'_>, out: &mut Facts) {
    let extension = cx.input.path.extension().unwrap_or("").to_ascii_lowercase();
    let leaves = match extension.as_str() {
        "toml" => toml_leaves(cx, out),
        "json" => json_leaves(cx, out),
        _ => yaml_leaves(cx, out),
    };
    let Some(owner) = cx.input.owner else {
        return;
    };
    let locator = Locator::new(cx.text);
    let vars: Vec<EnvVar> = leaves
        .into_iter()
        .map(|leaf| {
            let range = leaf
                .range
                .clone()
                .or_else(|| locate_yaml(&locator, cx.text, &leaf))
                .unwrap_or(0..0);
            EnvVar {
                key: leaf.path.join("."),
                value: Some(with_defaults(&leaf.value)),
                span: cx.span(range),
            }
        })
        .collect();
    let mut connections = env::connections_with(
        &vars,
        &ConnectionOwner::Crate(owner),
        ConnectionSource::ConfigFile,
        &classify_config_key,
    );
    cx.place_sqlite_files(&mut connections);
    out.connections.extend(connections);
}

/// Applies the defaults of placeholders that loaders expand at start-up: shell style
/// `${DATABASE_URL:-postgres://..}` and Spring style `${DB_URL:jdbc:postgresql://..}`. The
/// environment is unknown here, so a placeholder without a default stays unresolved.
fn with_defaults(value: &str) -> String {
    if !value.contains("${") {
        return value.to_string();
    }
    // Spring's `${NAME:default}` is the shell's `${NAME:-default}`.
    let mut shell = String::with_capacity(value.len() + 2);
    let mut rest = value;
    while let Some(open) = rest.find("${") {
        shell.push_str(&rest[..open + 2]);
        rest = &rest[open + 2..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.')))
            .unwrap_or(rest.len());
        shell.push_str(&rest[..name_len]);
        rest = &rest[name_len..];
        if let Some(after) = rest.strip_prefix(':') {
            if !after.starts_with(['-', '+', '?', '=']) {
                shell.push_str(":-");
                rest = after;
            }
        }
    }
    shell.push_str(rest);
    interpolate(
        &shell,
        Syntax::Shell {
            dollar_escape: false,
        },
        &|_| None,
    )
}

/// Classifies a dotted config key. Beyond the environment-variable rules, a setting below a
/// table that names a database counts: `databases.orders.host`, `[postgres.primary] url`.
pub(crate) fn classify_config_key(path: &str) -> Option<KeyClass> {
    if let Some(class) = classify_key(path) {
        return Some(class);
    }
    let (parent, leaf) = path.rsplit_once('.')?;
    let engine = parent
        .split('.')
        .rev()
        .find_map(|segment| env::stem_engine(&segment.to_ascii_uppercase()))?;
    let (_, field, _) = classify_key(&format!("DB_{leaf}"))?;
    Some((parent.to_ascii_uppercase(), field, engine))
}

fn locate_yaml(locator: &Locator<'_>, text: &str, leaf: &Leaf) -> Option<Range<usize>> {
    let keys: Vec<&str> = leaf.path.iter().map(String::as_str).collect();
    if let Some(found) = locator.path(0..text.len(), &keys) {
        if !found.value.is_empty() {
            return Some(found.value);
        }
    }
    locator.find(0..text.len(), &leaf.value)
}

fn yaml_leaves(cx: &Context<'_>, out: &mut Facts) -> Vec<Leaf> {
    let mut leaves = Vec::new();
    for document in yaml::parse_documents(cx.text) {
        match document.value {
            Ok(value) => walk_yaml(&value, &mut Vec::new(), &mut leaves),
            Err(error) => {
                out.notes.push(cx.note(error.offset, error.message));
                break;
            }
        }
    }
    leaves
}

fn walk_yaml(value: &Value, path: &mut Vec<String>, leaves: &mut Vec<Leaf>) {
    match value {
        Value::Mapping(map) => {
            for (key, value) in map {
                let Some(key) = scalar(key) else { continue };
                path.push(key);
                walk_yaml(value, path, leaves);
                path.pop();
            }
        }
        Value::Sequence(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                walk_yaml(item, path, leaves);
                path.pop();
            }
        }
        Value::Tagged(tagged) => walk_yaml(&tagged.value, path, leaves),
        other => {
            if let Some(value) = scalar(other) {
                leaves.push(Leaf {
                    path: path.clone(),
                    value,
                    range: None,
                });
            }
        }
    }
}

fn json_leaves(cx: &Context<'_>, out: &mut Facts) -> Vec<Leaf> {
    match serde_json::from_str::<serde_json::Value>(cx.text) {
        Ok(value) => {
            let mut leaves = Vec::new();
            walk_json(&value, &mut Vec::new(), &mut leaves);
            leaves
        }
        Err(error) => {
            let index = crate::source::LineIndex::new(cx.text);
            let offset = index.offset(cx.text, error.line(), error.column().saturating_sub(1));
            out.notes.push(cx.note(Some(offset), error.to_string()));
            Vec::new()
        }
    }
}

fn walk_json(value: &serde_json::Value, path: &mut Vec<String>, leaves: &mut Vec<Leaf>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                path.push(key.clone());
                walk_json(value, path, leaves);
                path.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                walk_json(item, path, leaves);
                path.pop();
            }
        }
        serde_json::Value::String(s) => leaves.push(Leaf {
            path: path.clone(),
            value: s.clone(),
            range: None,
        }),
        serde_json::Value::Number(n) => leaves.push(Leaf {
            path: path.clone(),
            value: n.to_string(),
            range: None,
        }),
        _ => {}
    }
}

fn toml_leaves(cx: &Context<'_>, out: &mut Facts) -> Vec<Leaf> {
    match toml::from_str::<toml::Table>(cx.text) {
        Ok(table) => {
            let mut leaves = Vec::new();
            walk_toml(&toml::Value::Table(table), &mut Vec::new(), &mut leaves);
            for leaf in &mut leaves {
                leaf.range = locate_toml(cx.text, &leaf.path, &leaf.value);
            }
            leaves
        }
        Err(error) => {
            let offset = error.span().map(|s| s.start);
            out.notes
                .push(cx.note(offset, error.message().trim().to_string()));
            Vec::new()
        }
    }
}

fn walk_toml(value: &toml::Value, path: &mut Vec<String>, leaves: &mut Vec<Leaf>) {
    let leaf = |value: String| Leaf {
        path: path.clone(),
        value,
        range: None,
    };
    match value {
        toml::Value::Table(entries) => {
            for (key, value) in entries {
                path.push(key.clone());
                walk_toml(value, path, leaves);
                path.pop();
            }
        }
        toml::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                walk_toml(item, path, leaves);
                path.pop();
            }
        }
        toml::Value::String(s) => leaves.push(leaf(s.clone())),
        toml::Value::Integer(i) => leaves.push(leaf(i.to_string())),
        _ => {}
    }
}

/// Finds a TOML value in the text: the `key = value` line in the section of its table
/// (`[a.b]` for `a.b.key`, or a dotted key `b.key` in `[a]`), then anywhere; `None` when the
/// value is written in a way not found by text search (escapes, inline tables).
fn locate_toml(text: &str, path: &[String], value: &str) -> Option<Range<usize>> {
    let mut sections: Vec<(String, Range<usize>)> = vec![(String::new(), 0..text.len())];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            let name: String = trimmed
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .split('.')
                .map(|part| part.trim().trim_matches(|c| c == '"' || c == '\''))
                .collect::<Vec<_>>()
                .join(".");
            if let Some(last) = sections.last_mut() {
                last.1.end = offset;
            }
            sections.push((name, offset..text.len()));
        }
        offset += line.len();
    }
    let full = path.join(".");
    for (name, range) in sections.iter().rev() {
        let key = match name.as_str() {
            "" => full.as_str(),
            name => match full.strip_prefix(name).and_then(|k| k.strip_prefix('.')) {
                Some(key) => key,
                None => continue,
            },
        };
        if let Some(found) = find_assignment(text, range.clone(), key, value) {
            return Some(found);
        }
    }
    let start = text.find(value)?;
    Some(start..start + value.len())
}

/// `key = "value"` inside `range`, returning the value's range inside its quotes.
fn find_assignment(
    text: &str,
    range: Range<usize>,
    key: &str,
    value: &str,
) -> Option<Range<usize>> {
    let section = text.get(range.clone())?;
    let mut offset = range.start;
    for line in section.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let written_key = trimmed.split('=').next().unwrap_or("").trim();
        let normalised: String = written_key
            .split('.')
            .map(|part| part.trim().trim_matches(|c| c == '"' || c == '\''))
            .collect::<Vec<_>>()
            .join(".");
        if normalised == key && trimmed.contains('=') {
            if let Some(at) = line.find(value) {
                return Some(offset + at..offset + at + value.len());
            }
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::deploy::env::Field;

    #[test]
    fn placeholder_defaults() {
        assert_eq!(
            with_defaults("${DB_URL:jdbc:postgresql://db/orders}"),
            "jdbc:postgresql://db/orders"
        );
        assert_eq!(
            with_defaults("${DATABASE_URL:-postgres://db/x}"),
            "postgres://db/x"
        );
        assert_eq!(
            with_defaults("postgres://${DB_HOST:localhost}:5432/x"),
            "postgres://localhost:5432/x"
        );
        assert_eq!(with_defaults("${DATABASE_URL}"), "${DATABASE_URL}");
        assert_eq!(with_defaults("plain"), "plain");
    }

    #[test]
    fn config_key_classification() {
        let field = |k: &str| classify_config_key(k).map(|(_, f, _)| f);
        assert_eq!(field("database.url"), Some(Field::Url));
        assert_eq!(field("database.host"), Some(Field::Host));
        assert_eq!(field("app.database.dbname"), Some(Field::Name));
        assert_eq!(field("databases.orders.host"), Some(Field::Host));
        assert_eq!(field("postgres.primary.port"), Some(Field::Port));
        assert_eq!(field("spring.datasource.url"), Some(Field::Url));
        assert_eq!(field("server.host"), None);
        assert_eq!(field("server.port"), None);
        assert_eq!(field("orders_service.url"), None);
    }

    #[test]
    fn toml_values_are_located_in_their_section() {
        let text = "url = \"a\"\n[db]\nurl = \"a\"\n[other.db]\nurl = 'a'\n[x]\ndb.url = \"a\"\n";
        let at = |path: &[&str]| {
            let path: Vec<String> = path.iter().map(|p| p.to_string()).collect();
            locate_toml(text, &path, "a").map(|r| r.start)
        };
        assert_eq!(at(&["url"]), Some(7));
        assert_eq!(at(&["db", "url"]), Some(22));
        assert_eq!(at(&["other", "db", "url"]), Some(43));
        assert_eq!(at(&["x", "db", "url"]), Some(60));
    }
}
