//! YAML parsing with locations.
//!
//! `serde_norway` values carry no positions, so diagnostics are placed by finding keys in the
//! text: a key is looked up among the lines of its parent's block, at the shallowest
//! indentation, which is how block-style YAML (every compose file and manifest in practice)
//! nests. When a value cannot be found (flow style, anchors), callers fall back to the
//! nearest enclosing key.

use std::ops::Range;

use serde_norway::Value;

/// A YAML document of a (possibly multi-document) file.
pub(crate) struct Document {
    /// Byte range of the document in the file.
    pub range: Range<usize>,
    pub value: Result<Value, ParseError>,
}

#[derive(Debug, Clone)]
pub(crate) struct ParseError {
    /// Byte offset in the file.
    pub offset: Option<usize>,
    pub message: String,
}

/// Parses one YAML document with merge keys (`<<: *defaults`) applied.
pub(crate) fn parse_single(text: &str) -> Result<Value, ParseError> {
    parse_at(text, 0)
}

/// Splits a file on `---` document markers and parses each document on its own, so one
/// broken document (a Helm template) does not hide the others.
pub(crate) fn parse_documents(text: &str) -> Vec<Document> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    while pos <= text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        let line = text[pos..line_end].trim_end();
        let is_marker = line == "---" || line.starts_with("--- ") || line == "...";
        if is_marker {
            push_document(&mut documents, text, start..pos);
            start = (line_end + 1).min(text.len());
        }
        if line_end >= text.len() {
            break;
        }
        pos = line_end + 1;
    }
    push_document(&mut documents, text, start..text.len());
    documents
}

fn push_document(documents: &mut Vec<Document>, text: &str, range: Range<usize>) {
    let body = &text[range.clone()];
    // Comments and directives (`%YAML 1.2`) before a `---` are not a document.
    let has_content = body.lines().any(|l| {
        let l = l.trim_start();
        !l.is_empty() && !l.starts_with('#') && !l.starts_with('%')
    });
    if !has_content {
        return;
    }
    documents.push(Document {
        value: parse_at(body, range.start),
        range,
    });
}

/// The deepest flow nesting (`[[{..}]]`) the YAML parser is given: its own recursion limit,
/// so nothing it could parse is refused.
const MAX_FLOW_NESTING: usize = 128;

fn parse_at(text: &str, base: usize) -> Result<Value, ParseError> {
    // libyaml's scanner keeps a possible key per open flow level and revisits all of them at
    // every token: deep flow nesting takes quadratic time before the parser's own limit
    // rejects it, so it is rejected here first, in one pass.
    if let Some(offset) = flow_nesting_over(text, MAX_FLOW_NESTING) {
        return Err(ParseError {
            offset: Some(base + offset),
            message: format!(
                "flow collections nested more than {MAX_FLOW_NESTING} levels deep; not parsed"
            ),
        });
    }
    match serde_norway::from_str::<Value>(text) {
        Ok(mut value) => {
            // Merge keys are best effort: an invalid merge leaves the value as written.
            let _ = value.apply_merge();
            Ok(value)
        }
        Err(error) => Err(ParseError {
            offset: error.location().map(|l| base + l.index().min(text.len())),
            message: error.to_string(),
        }),
    }
}

/// The offset where `[`/`{` flow collections first nest deeper than `limit`, skipping
/// quoted scalars and comments. Brackets inside plain scalars are counted too, which can only
/// make the estimate higher.
fn flow_nesting_over(text: &str, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let at_token_start = i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'\n' | b'[' | b'{' | b',' | b':'
            );
        match bytes[i] {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n') => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'"' if at_token_start => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' if at_token_start => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A string, number or boolean as text (`5432` and `"5432"` alike); `None` for null,
/// sequences and mappings.
pub(crate) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Tagged(tagged) => scalar(&tagged.value),
        _ => None,
    }
}

/// Looks up a key of a mapping.
pub(crate) fn get<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.as_mapping()?.get(key)
}

pub(crate) fn get_str(value: &Value, key: &str) -> Option<String> {
    get(value, key).and_then(scalar)
}

/// A key found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    pub key: Range<usize>,
    /// The scalar after the colon, inside quotes; empty at the end of the key line when the
    /// value is a block.
    pub value: Range<usize>,
    /// The lines nested under the key.
    pub block: Range<usize>,
}

/// Finds keys and list items in block-style YAML text.
pub(crate) struct Locator<'a> {
    text: &'a str,
    /// (start, end) of each line, end excluding the newline.
    lines: Vec<(usize, usize)>,
}

struct LineInfo {
    start: usize,
    end: usize,
    /// Offset of the first content character after indentation and `- ` markers.
    content: usize,
    /// Offset of the first `-` list marker, if the line starts a list item.
    dash: Option<usize>,
    indent: usize,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut lines = Vec::new();
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            let end = start + line.trim_end_matches(['\n', '\r']).len();
            lines.push((start, end));
            start += line.len();
        }
        Self { text, lines }
    }

    fn info(&self, (start, end): (usize, usize)) -> Option<LineInfo> {
        let line = &self.text[start..end];
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return None;
        }
        let indent = line.len() - trimmed.len();
        let mut content = start + indent;
        let mut dash = None;
        loop {
            let rest = &self.text[content..end];
            if rest == "-" || rest.starts_with("- ") || rest.starts_with("-\t") {
                dash.get_or_insert(content);
                content += 1;
                content +=
                    self.text[content..end].len() - self.text[content..end].trim_start().len();
            } else {
                break;
            }
        }
        Some(LineInfo {
            start,
            end,
            content,
            dash,
            indent,
        })
    }

    /// Lines starting inside `within` (binary search: manifests can be long).
    fn lines_in(&self, within: &Range<usize>) -> impl Iterator<Item = (usize, usize)> + '_ {
        let first = self
            .lines
            .partition_point(|(start, _)| *start < within.start);
        let last = self.lines.partition_point(|(start, _)| *start < within.end);
        self.lines[first..last.max(first)].iter().copied()
    }

    /// The keys at the shallowest position inside `within`, each with the range from its line
    /// to the next such key (the first of a repeated key wins, as in [`Locator::key`]).
    /// Looking up many keys of one block through these ranges reads each line once, where
    /// calling [`Locator::key`] on the whole block for each would read it once per key.
    pub fn top_level_blocks(
        &self,
        within: Range<usize>,
    ) -> rustc_hash::FxHashMap<String, Range<usize>> {
        let infos: Vec<LineInfo> = self
            .lines_in(&within)
            .filter_map(|line| self.info(line))
            .filter(|info| info.dash.is_none())
            .collect();
        let Some(shallowest) = infos.iter().map(|i| i.content - i.start).min() else {
            return rustc_hash::FxHashMap::default();
        };
        let keys: Vec<(String, usize)> = infos
            .iter()
            .filter(|info| info.content - info.start == shallowest)
            .filter_map(|info| {
                let content = &self.text[info.content..info.end];
                let key = match content.chars().next() {
                    Some(q @ ('"' | '\'')) => content[1..].split(q).next()?,
                    _ => content.split(':').next()?.trim_end(),
                };
                match_key(content, key).map(|_| (key.to_string(), info.start))
            })
            .collect();
        let mut blocks = rustc_hash::FxHashMap::default();
        for (index, (key, start)) in keys.iter().enumerate() {
            let end = keys.get(index + 1).map_or(within.end, |(_, next)| *next);
            blocks.entry(key.clone()).or_insert(*start..end);
        }
        blocks
    }

    /// Finds `key:` at the shallowest position inside `within`.
    pub fn key(&self, within: Range<usize>, key: &str) -> Option<Located> {
        let mut best: Option<(usize, LineInfo, usize)> = None;
        for line in self.lines_in(&within) {
            let Some(info) = self.info(line) else {
                continue;
            };
            let Some(after_key) = match_key(&self.text[info.content..info.end], key) else {
                continue;
            };
            let column = info.content - info.start;
            if best.as_ref().is_none_or(|(c, _, _)| column < *c) {
                best = Some((column, info, after_key));
            }
        }
        let (column, info, after_key) = best?;
        let key_range =
            info.content..info.content + key_len_in_text(&self.text[info.content..info.end], key);
        let value = self.scalar_after(info.content + after_key, info.end);
        let block = self.block_after(&info, column, within.end);
        Some(Located {
            key: key_range,
            value,
            block,
        })
    }

    /// Follows a path of keys from the start of `within`.
    pub fn path(&self, within: Range<usize>, keys: &[&str]) -> Option<Located> {
        let mut current: Option<Located> = None;
        for key in keys {
            let range = current.as_ref().map_or(within.clone(), |l| l.block.clone());
            current = Some(self.key(range, key)?);
        }
        current
    }

    /// Finds a list item written as a scalar starting with `prefix` (`- KEY=value`) and
    /// returns the range of the rest of the scalar.
    pub fn list_scalar(&self, within: Range<usize>, prefix: &str) -> Option<Range<usize>> {
        for line in self.lines_in(&within) {
            let Some(info) = self.info(line) else {
                continue;
            };
            info.dash?;
            let mut content = &self.text[info.content..info.end];
            let mut start = info.content;
            let quote = content.chars().next().filter(|c| *c == '"' || *c == '\'');
            if let Some(q) = quote {
                content = &content[1..];
                start += 1;
                if let Some(close) = content.rfind(q) {
                    content = &content[..close];
                }
            }
            if let Some(rest) = content.strip_prefix(prefix) {
                let rest_trimmed = if quote.is_some() {
                    rest
                } else {
                    strip_comment(rest)
                };
                let value_start = start + prefix.len();
                return Some(value_start..value_start + rest_trimmed.trim_end().len());
            }
        }
        None
    }

    /// Finds the list item inside `within` that has `field: value` (`- name: orders`) and
    /// returns the range of the whole item.
    pub fn list_item(
        &self,
        within: Range<usize>,
        field: &str,
        value: &str,
    ) -> Option<Range<usize>> {
        let lines: Vec<(usize, usize)> = self.lines_in(&within).collect();
        for (index, line) in lines.iter().enumerate() {
            let Some(info) = self.info(*line) else {
                continue;
            };
            let Some(after_key) = match_key(&self.text[info.content..info.end], field) else {
                continue;
            };
            let found = self.scalar_after(info.content + after_key, info.end);
            if &self.text[found] != value {
                continue;
            }
            // The item starts at this line's dash, or at the closest earlier dash left of it.
            let key_column = info.content - info.start;
            let mut dash_line = None;
            for candidate in lines[..=index].iter().rev() {
                let Some(c) = self.info(*candidate) else {
                    continue;
                };
                if let Some(dash) = c.dash {
                    if dash - c.start < key_column {
                        dash_line = Some(c);
                        break;
                    }
                }
                if c.indent < key_column.saturating_sub(2) {
                    break;
                }
            }
            let dash_line = dash_line?;
            let dash_column = dash_line.dash.map_or(0, |d| d - dash_line.start);
            let mut end = within.end;
            for next in self.lines_in(&(dash_line.end..within.end)) {
                if let Some(n) = self.info(next) {
                    if n.indent <= dash_column {
                        end = n.start;
                        break;
                    }
                }
            }
            return Some(dash_line.start..end);
        }
        None
    }

    /// The first occurrence of `needle` inside `within`.
    pub fn find(&self, within: Range<usize>, needle: &str) -> Option<Range<usize>> {
        if needle.is_empty() {
            return None;
        }
        let haystack = self.text.get(within.clone())?;
        haystack
            .find(needle)
            .map(|i| within.start + i..within.start + i + needle.len())
    }

    fn scalar_after(&self, from: usize, line_end: usize) -> Range<usize> {
        let rest = &self.text[from..line_end];
        let trimmed = rest.trim_start();
        let start = line_end - trimmed.len();
        if let Some(q) = trimmed.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let inner = &trimmed[1..];
            let close = inner.find(q).unwrap_or(inner.len());
            return start + 1..start + 1 + close;
        }
        let value = strip_comment(trimmed).trim_end();
        if value.starts_with('|')
            || value.starts_with('>')
            || value.starts_with('&') && !value.contains(' ')
        {
            return line_end..line_end;
        }
        start..start + value.len()
    }

    fn block_after(&self, info: &LineInfo, column: usize, limit: usize) -> Range<usize> {
        let start = (info.end + 1).min(self.text.len());
        let mut end = limit.max(start);
        for line in self.lines_in(&(start..limit)) {
            let Some(next) = self.info(line) else {
                continue;
            };
            // Sequences may sit at the same indentation as their parent key.
            let nested = next.indent > column
                || next.indent == column && next.dash == Some(next.start + next.indent);
            if !nested {
                end = next.start;
                break;
            }
        }
        start..end
    }
}

/// If `content` starts with `key:` (the key possibly quoted), the offset after the colon.
fn match_key(content: &str, key: &str) -> Option<usize> {
    let (rest, consumed) =
        if let Some(q) = content.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let inner = content[1..].strip_prefix(key)?.strip_prefix(q)?;
            (inner, key.len() + 2)
        } else {
            (content.strip_prefix(key)?, key.len())
        };
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let after = rest[spaces..].strip_prefix(':')?;
    if after.is_empty() || after.starts_with([' ', '\t']) {
        Some(consumed + spaces + 1)
    } else {
        None
    }
}

fn key_len_in_text(content: &str, key: &str) -> usize {
    if content.starts_with(['"', '\'']) {
        key.len() + 2
    } else {
        key.len()
    }
}

fn strip_comment(text: &str) -> &str {
    match text.find(" #").or_else(|| text.find("\t#")) {
        Some(i) => &text[..i],
        None if text.starts_with('#') => "",
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        let deep = format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let error = parse_single(&deep).map(|_| ());
        assert!(
            error
                .as_ref()
                .is_err_and(|e| e.message.contains("nested more than")),
            "{error:?}"
        );
        let shallow = format!("a: {}1{}\n", "[".repeat(100), "]".repeat(100));
        assert!(parse_single(&shallow).is_ok());
        let quoted = format!(
            "a: \"{}\" # {}\nb: '{}'\n",
            "[".repeat(500),
            "{".repeat(500),
            "[".repeat(500)
        );
        assert!(parse_single(&quoted).is_ok());
    }

    const COMPOSE: &str = "\
services:
  orders:
    image: orders:latest # the app
    environment:
      DATABASE_URL: \"postgres://db/orders\"
      PORT: 8080
  billing:
    environment:
    - DATABASE_URL=postgres://db/billing
    - 'REDIS_URL=redis://cache'
  db:
    image: postgres:16
";

    #[test]
    fn finds_nested_keys_and_values() {
        let loc = Locator::new(COMPOSE);
        let url = loc
            .path(
                0..COMPOSE.len(),
                &["services", "orders", "environment", "DATABASE_URL"],
            )
            .unwrap();
        assert_eq!(&COMPOSE[url.value], "postgres://db/orders");
        let image = loc
            .path(0..COMPOSE.len(), &["services", "orders", "image"])
            .unwrap();
        assert_eq!(&COMPOSE[image.value], "orders:latest");
        let db = loc
            .path(0..COMPOSE.len(), &["services", "db", "image"])
            .unwrap();
        assert_eq!(&COMPOSE[db.value], "postgres:16");
        // `orders` has no `image` of `db` in its block.
        assert!(loc
            .path(0..COMPOSE.len(), &["services", "billing", "image"])
            .is_none());
    }

    #[test]
    fn finds_list_scalars() {
        let loc = Locator::new(COMPOSE);
        let env = loc
            .path(0..COMPOSE.len(), &["services", "billing", "environment"])
            .unwrap();
        let url = loc.list_scalar(env.block.clone(), "DATABASE_URL=").unwrap();
        assert_eq!(&COMPOSE[url], "postgres://db/billing");
        let redis = loc.list_scalar(env.block, "REDIS_URL=").unwrap();
        assert_eq!(&COMPOSE[redis], "redis://cache");
    }

    #[test]
    fn finds_list_items_by_field() {
        let text = "\
containers:
  - name: app
    env:
      - value: postgres://db/x
        name: DATABASE_URL
      - name: OTHER
        value: y
  - name: sidecar
";
        let loc = Locator::new(text);
        let app = loc.list_item(0..text.len(), "name", "app").unwrap();
        let env = loc.key(app.clone(), "env").unwrap();
        let item = loc.list_item(env.block, "name", "DATABASE_URL").unwrap();
        let value = loc.key(item, "value").unwrap();
        assert_eq!(&text[value.value], "postgres://db/x");
        assert!(!text[app].contains("sidecar"));
    }

    #[test]
    fn splits_documents() {
        let text = "%YAML 1.2\n---\na: 1\n---\nb: [\n---\n# only a comment\n---\nc: 3\n";
        let docs = parse_documents(text);
        assert_eq!(docs.len(), 3);
        assert!(docs[0].value.is_ok());
        let error = docs[1].value.as_ref().unwrap_err();
        assert!(error.offset.is_some_and(|o| o >= 19));
        assert_eq!(&text[docs[2].range.clone()], "c: 3\n");
    }
}
