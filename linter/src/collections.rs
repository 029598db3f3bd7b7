//! Resolves how code names document collections into the collections' own names.
//!
//! The Rust extractor records each access with the name as written
//! ([`crate::model::CollectionName`]); the facts that say what those names stand for are spread
//! over other files: the `Display` of an enum, the macro that declares it, a setting's default,
//! the constructor that puts a handle into a field. An access whose name does not resolve to
//! exactly one collection is dropped: a guess would put a finding on the wrong collection.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::model::{CollectionName, CollectionUse, CrateId, Model};

/// How many names a setting or a field may pass through before the chain is given up.
const MAX_HOPS: usize = 4;

struct Names<'m> {
    variants: HashMap<(&'m str, &'m str), &'m str>,
    name_enums: HashSet<&'m str>,
    settings: HashMap<&'m str, Vec<&'m CollectionName>>,
    handles: HashMap<(CrateId, &'m str), Vec<&'m CollectionName>>,
    /// The crates whose fields code in a crate can reach: those of its services.
    visible: HashMap<CrateId, Vec<CrateId>>,
}

impl<'m> Names<'m> {
    fn new(model: &'m Model) -> Self {
        let facts = &model.collection_facts;
        let mut variants: HashMap<(&str, &str), Option<&str>> = HashMap::new();
        let mut add = |key: (&'m str, &'m str), value: &'m str| {
            let entry = variants.entry(key).or_insert(Some(value));
            if *entry != Some(value) {
                // Two strings for one variant: neither is trusted.
                *entry = None;
            }
        };
        for v in &facts.variant_strings {
            add((v.enum_name.as_str(), v.variant.as_str()), v.value.as_str());
        }
        for (name, pairs) in &facts.macro_pairs {
            let declared: Vec<&String> = facts
                .enum_macros
                .iter()
                .filter(|(m, _)| m == name)
                .flat_map(|(_, enums)| enums)
                .collect();
            let [enum_name] = declared.as_slice() else {
                continue;
            };
            for (variant, value) in pairs {
                add((enum_name.as_str(), variant.as_str()), value.as_str());
            }
        }
        let variants = variants
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
        let mut settings: HashMap<&str, Vec<&CollectionName>> = HashMap::new();
        let mut handles: HashMap<(CrateId, &str), Vec<&CollectionName>> = HashMap::new();
        for field in &facts.fields {
            if field.handle {
                handles
                    .entry((field.crate_id, field.field.as_str()))
                    .or_default()
                    .push(&field.name);
            } else {
                settings
                    .entry(field.field.as_str())
                    .or_default()
                    .push(&field.name);
            }
        }
        let mut visible: HashMap<CrateId, Vec<CrateId>> = HashMap::new();
        for service in &model.services {
            for krate in &service.crates {
                let list = visible.entry(*krate).or_default();
                for other in &service.crates {
                    if !list.contains(other) {
                        list.push(*other);
                    }
                }
            }
        }
        Names {
            variants,
            name_enums: facts.name_enums.iter().map(String::as_str).collect(),
            settings,
            handles,
            visible,
        }
    }

    /// The one collection a name stands for, seen from code in `krate`.
    fn resolve(&self, name: &CollectionName, krate: CrateId, hops: usize) -> Option<String> {
        if hops > MAX_HOPS {
            return None;
        }
        let one = |candidates: &[&CollectionName], krate: CrateId| -> Option<String> {
            let found: BTreeSet<Option<String>> = candidates
                .iter()
                .map(|c| self.resolve(c, krate, hops + 1))
                .collect();
            match found.into_iter().collect::<Vec<_>>().as_slice() {
                [Some(only)] => Some(only.clone()),
                _ => None,
            }
        };
        match name {
            CollectionName::Literal { value } => Some(value.clone()),
            CollectionName::Variant { enum_name, variant } => {
                if !self.name_enums.contains(enum_name.as_str()) {
                    return None;
                }
                self.variants
                    .get(&(enum_name.as_str(), variant.as_str()))
                    .map(|v| v.to_string())
            }
            CollectionName::Setting { field } => one(self.settings.get(field.as_str())?, krate),
            CollectionName::HeldBy { field } => {
                let own = [krate];
                let crates = self.visible.get(&krate).map_or(&own[..], Vec::as_slice);
                let candidates: Vec<&CollectionName> = crates
                    .iter()
                    .filter_map(|c| self.handles.get(&(*c, field.as_str())))
                    .flatten()
                    .copied()
                    .collect();
                if candidates.is_empty() {
                    return None;
                }
                one(&candidates, krate)
            }
        }
    }
}

/// Fills [`Model::collection_uses`] from the collection facts.
pub fn resolve_collections(model: &mut Model) {
    if model.collection_facts.is_empty() {
        return;
    }
    let names = Names::new(model);
    let uses: Vec<CollectionUse> = model
        .collection_facts
        .accesses
        .iter()
        .filter_map(|access| {
            let collection = names.resolve(&access.name, access.crate_id, 0)?;
            Some(CollectionUse {
                crate_id: access.crate_id,
                collection,
                kind: access.kind,
                span: access.span,
                through_field: matches!(
                    access.name,
                    CollectionName::HeldBy { .. } | CollectionName::Setting { .. }
                ),
            })
        })
        .collect();
    model.collection_uses = uses;
}
