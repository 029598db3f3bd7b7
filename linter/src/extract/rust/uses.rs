//! Paths into other workspace crates: `use` trees and expression paths, with aliases and
//! shadowing by local imports.

use super::*;

impl Extractor<'_> {
    pub(super) fn emit_crate_use(
        &mut self,
        used_crate: CrateId,
        segments: &[String],
        range: Range<usize>,
    ) {
        let path = segments.join("::");
        let table = diesel_table_in_path(segments);
        let span = self.span(range);
        if self
            .facts
            .crate_uses
            .iter()
            .any(|u| u.span.start == span.start && u.span.end == span.end)
        {
            return;
        }
        self.facts.crate_uses.push(CrateUse {
            crate_id: self.cx.krate.id,
            used_crate,
            path,
            table,
            span,
        });
    }

    pub(super) fn path_use(&mut self, path: &syn::Path) {
        if path.segments.len() < 2 {
            return;
        }
        let first = path.segments[0].ident.to_string();
        let Some(id) = self.crate_names.get(&first).copied() else {
            return;
        };
        let shadowed = path.leading_colon.is_none()
            && (self.shadowed.contains(&first)
                || self.local_shadowed.iter().any(|s| s.contains(&first)));
        if shadowed {
            return;
        }
        let segs = path_segments(path);
        let range = self.range_of(path.span());
        self.emit_crate_use(id, &segs, range);
    }

    pub(super) fn use_tree(
        &mut self,
        tree: &UseTree,
        prefix: &mut Vec<String>,
        start: Option<usize>,
        crate_id: Option<CrateId>,
    ) {
        match tree {
            UseTree::Path(p) => {
                let ident = p.ident.to_string();
                let crate_id = crate_id.or_else(|| {
                    prefix
                        .is_empty()
                        .then(|| self.crate_names.get(&ident).copied())
                        .flatten()
                });
                if prefix.is_empty() && crate_id.is_none() {
                    return;
                }
                let start = start.unwrap_or_else(|| self.range_of(p.ident.span()).start);
                prefix.push(ident);
                self.use_tree(&p.tree, prefix, Some(start), crate_id);
                prefix.pop();
            }
            // `use other::x` and `use other::x as y` name the same item of `other`.
            UseTree::Name(syn::UseName { ident })
            | UseTree::Rename(syn::UseRename { ident, .. }) => {
                let name = ident.to_string();
                let crate_id = crate_id.or_else(|| {
                    prefix
                        .is_empty()
                        .then(|| self.crate_names.get(&name).copied())
                        .flatten()
                });
                if let Some(id) = crate_id {
                    let range = self.range_of(ident.span());
                    let start = start.unwrap_or(range.start);
                    let mut segs = prefix.clone();
                    if name != "self" {
                        segs.push(name);
                    }
                    self.emit_crate_use(id, &segs, start..range.end);
                }
            }
            UseTree::Glob(g) => {
                if let Some(id) = crate_id {
                    let end = self.range_of(g.star_token.span()).end;
                    let mut segs = prefix.clone();
                    segs.push("*".to_owned());
                    let start = start.unwrap_or(end.saturating_sub(1));
                    self.emit_crate_use(id, &segs, start..end);
                }
            }
            UseTree::Group(g) => {
                for item in &g.items {
                    // Each leaf of a group is its own use site, spanning from the group item.
                    let item_start = if prefix.is_empty() {
                        None
                    } else {
                        Some(self.range_of(item.span()).start)
                    };
                    self.use_tree(item, prefix, item_start.or(start), crate_id);
                }
            }
        }
    }
}

/// A diesel table spelled in a path: `x::schema::orders::table`, `x::schema::orders::dsl::*`.
pub(super) fn diesel_table_in_path(segments: &[String]) -> Option<TableName> {
    let position = segments.iter().rposition(|s| s == "table" || s == "dsl")?;
    let name = segments.get(position.checked_sub(1)?)?;
    if position < 2 || name == "schema" {
        return None;
    }
    Some(TableName {
        schema: None,
        name: name.clone(),
    })
}

pub(super) fn collect_use_aliases(
    tree: &UseTree,
    root: Option<CrateId>,
    names: &mut HashMap<String, CrateId>,
) {
    match tree {
        UseTree::Path(p) => {
            let root = root.or_else(|| names.get(&p.ident.to_string()).copied());
            if root.is_some() {
                collect_use_aliases(&p.tree, root, names);
            }
        }
        UseTree::Rename(r) => {
            // `use other as o;` (only a crate root alias makes `o::..` name the crate).
            if root.is_none() {
                if let Some(id) = names.get(&r.ident.to_string()).copied() {
                    names.insert(r.rename.to_string(), id);
                }
            }
        }
        UseTree::Group(g) => {
            for item in &g.items {
                collect_use_aliases(item, root, names);
            }
        }
        UseTree::Name(_) | UseTree::Glob(_) => {}
    }
}

/// `use x::InventoryClient as Grpc;`: `Grpc` -> `InventoryClient`.
pub(super) fn collect_renames(tree: &UseTree, out: &mut HashMap<String, String>) {
    match tree {
        UseTree::Path(p) => collect_renames(&p.tree, out),
        UseTree::Rename(r) if r.rename != "_" => {
            out.insert(r.rename.to_string(), r.ident.to_string());
        }
        UseTree::Group(g) => {
            for item in &g.items {
                collect_renames(item, out);
            }
        }
        _ => {}
    }
}

/// Names bound by a `use` below its root (`use crate::x::orders;` binds `orders`).
pub(super) fn collect_shadowing(tree: &UseTree, depth: usize, out: &mut HashSet<String>) {
    match tree {
        UseTree::Path(p) => collect_shadowing(&p.tree, depth + 1, out),
        UseTree::Name(n) if depth > 0 && n.ident != "self" => {
            out.insert(n.ident.to_string());
        }
        // `use orders as o;` at the root keeps `o` a crate alias (see the alias pass).
        UseTree::Rename(r) if depth > 0 => {
            out.insert(r.rename.to_string());
        }
        UseTree::Group(g) => {
            for item in &g.items {
                collect_shadowing(item, depth, out);
            }
        }
        _ => {}
    }
}

/// Broker client crates whose `Message` type is a delivered message.
const BROKER_CRATES: &[&str] = &["async_nats", "aws_sdk_sqs", "rdkafka", "lapin", "pulsar"];

/// Names a `use` imports for a broker client's `Message` type, under their local name.
pub(super) fn collect_broker_messages(
    tree: &UseTree,
    root: Option<&str>,
    out: &mut HashSet<String>,
) {
    match tree {
        UseTree::Path(p) => {
            let ident = p.ident.to_string();
            let root = root.or_else(|| BROKER_CRATES.iter().copied().find(|c| ident == *c));
            if root.is_some() {
                collect_broker_messages(&p.tree, root, out);
            }
        }
        UseTree::Name(n) if root.is_some() && n.ident == "Message" => {
            out.insert(n.ident.to_string());
        }
        UseTree::Rename(r) if root.is_some() && r.ident == "Message" => {
            out.insert(r.rename.to_string());
        }
        UseTree::Group(g) => {
            for item in &g.items {
                collect_broker_messages(item, root, out);
            }
        }
        _ => {}
    }
}
