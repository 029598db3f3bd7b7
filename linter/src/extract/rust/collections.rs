//! Document collections (MongoDB): where code opens a collection, what it does with it, and the
//! facts that say what a name in code stands for.
//!
//! A collection has no migration to declare it, so the code is all there is. It is named by a
//! literal (`db.collection::<Order>("orders")`), an enum variant (`Store::Orders`, a string
//! through `Display`, a serde/strum rename or the macro declaring the enum), or a setting
//! (`config.orders_collection_name`, with its default). Handles to it live in locals and in
//! fields, opened by the driver or by a workspace wrapper given the enum
//! (`MongoStore::new(&db, &Store::Orders)`). Names are resolved later, across files, by
//! [`crate::collections`].

use super::*;
use crate::model::{
    CollectionAccess, CollectionAccessKind, CollectionField, CollectionName, VariantString,
};

/// The driver's own `Collection` methods.
const DRIVER_READS: &[&str] = &[
    "find",
    "find_one",
    "aggregate",
    "count_documents",
    "estimated_document_count",
    "distinct",
    "watch",
];
const DRIVER_INSERTS: &[&str] = &["insert_one", "insert_many"];
const DRIVER_UPDATES: &[&str] = &[
    "update_one",
    "update_many",
    "replace_one",
    "find_one_and_update",
    "find_one_and_replace",
];
const DRIVER_DELETES: &[&str] = &["delete_one", "delete_many", "find_one_and_delete"];

/// Methods that pass a value through unchanged, for reading a name or a handle.
const PASS_THROUGH: &[&str] = &[
    "to_string",
    "as_str",
    "as_ref",
    "clone",
    "to_owned",
    "into",
    "await",
    "with_context",
    "context",
    "map_err",
    "expect",
    "unwrap",
];

/// Collection state of the extractor.
#[derive(Default)]
pub(super) struct CollectionState {
    /// Locals holding a handle, with its collection.
    handles: HashMap<String, CollectionName>,
    /// Locals holding a collection's name parsed into an enum (`let store =
    /// Store::from_str(&config.events_collection)?`).
    names: HashMap<String, CollectionName>,
    /// Parameter types of the functions being visited (name -> last type name).
    params: Vec<HashMap<String, String>>,
    /// Whether the crate depends on the driver, asked once per file.
    enabled: Option<bool>,
}

/// What a method called on a collection handle does to it: the driver's methods by name, a
/// wrapper's by its leading verb (`create_one`, `get_many`, `delete_by_id`).
fn access_kind(method: &str) -> Option<CollectionAccessKind> {
    if DRIVER_READS.contains(&method) {
        return Some(CollectionAccessKind::Read);
    }
    if DRIVER_INSERTS.contains(&method) {
        return Some(CollectionAccessKind::Insert);
    }
    if DRIVER_UPDATES.contains(&method) {
        return Some(CollectionAccessKind::Update);
    }
    if DRIVER_DELETES.contains(&method) {
        return Some(CollectionAccessKind::Delete);
    }
    let verb = method.split('_').next().unwrap_or(method);
    Some(match verb {
        "create" | "insert" | "add" | "save" | "store" | "put" | "append" | "upsert" => {
            CollectionAccessKind::Insert
        }
        "update" | "set" | "replace" | "modify" | "patch" | "mark" | "increment" | "decrement" => {
            CollectionAccessKind::Update
        }
        "delete" | "remove" => CollectionAccessKind::Delete,
        "get" | "find" | "list" | "count" | "aggregate" | "fetch" | "load" | "read" | "query"
        | "search" | "exists" | "distinct" => CollectionAccessKind::Read,
        _ => return None,
    })
}

fn is_type_like(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_uppercase)
}

/// The last type name of a parameter type: `&Store` -> `Store`, `Option<&Store>` -> `Store`.
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Reference(r) => type_name(&r.elem),
        syn::Type::Paren(p) => type_name(&p.elem),
        syn::Type::Path(p) => {
            let last = p.path.segments.last()?;
            if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                if matches!(last.ident.to_string().as_str(), "Option" | "Box" | "Arc") {
                    return args.args.iter().find_map(|a| match a {
                        syn::GenericArgument::Type(t) => type_name(t),
                        _ => None,
                    });
                }
            }
            Some(last.ident.to_string())
        }
        _ => None,
    }
}

/// `Variant, "string"` pairs in a macro's tokens (at least two).
fn string_pairs(tokens: TokenStream) -> Vec<(String, String)> {
    let items: Vec<TokenTree> = tokens.into_iter().collect();
    let mut pairs = Vec::new();
    for window in items.windows(3) {
        let [TokenTree::Ident(variant), TokenTree::Punct(comma), TokenTree::Literal(literal)] =
            window
        else {
            continue;
        };
        if comma.as_char() != ',' || !is_type_like(&variant.to_string()) {
            continue;
        }
        if let Ok(Lit::Str(value)) = syn::parse_str::<Lit>(&literal.to_string()) {
            pairs.push((variant.to_string(), value.value()));
        }
    }
    if pairs.len() < 2 {
        pairs.clear();
    }
    pairs
}

/// Names of the enums a `macro_rules!` body declares (`pub enum Store { $($name),+ }`).
fn declared_enums(tokens: TokenStream, out: &mut Vec<String>) {
    let mut previous_enum = false;
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                previous_enum = false;
                declared_enums(group.stream(), out);
            }
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                if previous_enum && !out.contains(&name) {
                    out.push(name.clone());
                }
                previous_enum = name == "enum";
            }
            _ => previous_enum = false,
        }
    }
}

/// `orders_collection` -> words converted as `serialize_all` / `rename_all` says.
fn convert_case(variant: &str, rule: &str) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
    for c in variant.chars() {
        if c.is_ascii_uppercase() || words.is_empty() {
            words.push(String::new());
        }
        if let Some(word) = words.last_mut() {
            word.push(c.to_ascii_lowercase());
        }
    }
    Some(match rule {
        "lowercase" => words.concat(),
        "UPPERCASE" => words.concat().to_ascii_uppercase(),
        "snake_case" => words.join("_"),
        "SCREAMING_SNAKE_CASE" => words.join("_").to_ascii_uppercase(),
        "kebab-case" => words.join("-"),
        "SCREAMING-KEBAB-CASE" => words.join("-").to_ascii_uppercase(),
        _ => return None,
    })
}

/// The string value of `key = "value"` inside an attribute such as `#[serde(rename = "x")]`.
fn attribute_value(attrs: &[Attribute], kinds: &[&str], keys: &[&str]) -> Option<String> {
    let mut found = None;
    for attr in attrs {
        let Some(kind) = attr.path().get_ident().map(ToString::to_string) else {
            continue;
        };
        if !kinds.contains(&kind.as_str()) {
            continue;
        }
        let _ = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            if meta.input.peek(Token![=]) {
                let value = meta.value()?.parse::<Expr>()?;
                if let Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) = value
                {
                    if keys.contains(&key.as_str()) && found.is_none() {
                        found = Some(s.value());
                    }
                }
            } else if meta.input.peek(syn::token::Paren) {
                let _ = meta.input.parse::<proc_macro2::Group>()?;
            }
            Ok(())
        });
    }
    found
}

impl Extractor<'_> {
    fn reads_collections(&mut self) -> bool {
        match self.collections.enabled {
            Some(enabled) => enabled,
            None => {
                let enabled = self.has_dependency(&["mongodb"]);
                self.collections.enabled = Some(enabled);
                enabled
            }
        }
    }

    pub(super) fn collections_enter_function(&mut self, sig: &syn::Signature) {
        let params = sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                syn::FnArg::Typed(typed) => match typed.pat.as_ref() {
                    syn::Pat::Ident(p) => Some((p.ident.to_string(), type_name(&typed.ty)?)),
                    _ => None,
                },
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        self.collections.params.push(params);
    }

    pub(super) fn collections_exit_function(&mut self) {
        self.collections.params.pop();
    }

    /// How an expression names a collection: a literal, a constant, an enum variant, a
    /// setting's field.
    fn collection_name(&mut self, expr: &Expr) -> Option<CollectionName> {
        match expr {
            Expr::Reference(r) => self.collection_name(&r.expr),
            Expr::Paren(p) => self.collection_name(&p.expr),
            Expr::MethodCall(m) if PASS_THROUGH.contains(&m.method.to_string().as_str()) => {
                self.collection_name(&m.receiver)
            }
            Expr::Call(c) if c.args.len() == 1 => match c.func.as_ref() {
                Expr::Path(p) if segs_tail(&path_segments(&p.path), 2) == ["String", "from"] => {
                    self.collection_name(&c.args[0])
                }
                _ => None,
            },
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(CollectionName::Literal { value: s.value() }),
            Expr::Field(f) => match &f.member {
                syn::Member::Named(name) => Some(CollectionName::Setting {
                    field: name.to_string(),
                }),
                syn::Member::Unnamed(_) => None,
            },
            Expr::Path(p) => {
                let segments = path_segments(&p.path);
                match segments.as_slice() {
                    [.., enum_name, variant]
                        if is_type_like(variant) && is_type_like(enum_name) =>
                    {
                        let enum_name = match enum_name.as_str() {
                            "Self" => self.impl_type.clone()?,
                            other => other.to_string(),
                        };
                        Some(CollectionName::Variant {
                            enum_name,
                            variant: variant.clone(),
                        })
                    }
                    [name] => {
                        if let Some(parsed) = self.collections.names.get(name) {
                            return Some(parsed.clone());
                        }
                        // A parameter typed with an enum: that enum names collections.
                        if let Some(ty) = self
                            .collections
                            .params
                            .last()
                            .and_then(|params| params.get(name))
                        {
                            if is_type_like(ty) && ty != "String" && ty != "str" {
                                let ty = ty.clone();
                                if !self.facts.collections.name_enums.contains(&ty) {
                                    self.facts.collections.name_enums.push(ty);
                                }
                            }
                            return None;
                        }
                        let resolved = self.resolve(expr)?;
                        (resolved.certainty == Certainty::Exact && !resolved.text.is_empty())
                            .then_some(CollectionName::Literal {
                                value: resolved.text,
                            })
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The collection a handle expression is on: `db.collection::<T>(name)`, a helper taking
    /// the name, a wrapper built from an enum variant, or a local holding one of these.
    fn collection_handle(&mut self, expr: &Expr) -> Option<CollectionName> {
        match expr {
            Expr::Reference(r) => self.collection_handle(&r.expr),
            Expr::Paren(p) => self.collection_handle(&p.expr),
            Expr::Await(a) => self.collection_handle(&a.base),
            Expr::Try(t) => self.collection_handle(&t.expr),
            Expr::MethodCall(m) => self.method_call_handle(m),
            Expr::Call(c) => self.call_handle(c),
            // `store.collection.delete_many(..)`: the driver handle inside a wrapper.
            Expr::Field(f) if matches!(f.base.as_ref(), Expr::Path(_)) => {
                self.collection_handle(&f.base)
            }
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|local| self.collections.handles.get(&local.to_string()))
                .cloned(),
            _ => None,
        }
    }

    fn method_call_handle(&mut self, m: &ExprMethodCall) -> Option<CollectionName> {
        let method = m.method.to_string();
        if method == "collection" || method == "collection_with_options" {
            let found = self.collection_name(m.args.first()?);
            if let Some(CollectionName::Variant { enum_name, .. }) = &found {
                if !self.facts.collections.name_enums.contains(enum_name) {
                    self.facts.collections.name_enums.push(enum_name.clone());
                }
            }
            return found;
        }
        if PASS_THROUGH.contains(&method.as_str()) {
            return self.collection_handle(&m.receiver);
        }
        None
    }

    fn call_handle(&mut self, c: &syn::ExprCall) -> Option<CollectionName> {
        let Expr::Path(p) = c.func.as_ref() else {
            return None;
        };
        let segments = path_segments(&p.path);
        let wrapper = segments.len() >= 2
            && matches!(segments[segments.len() - 2].as_str(), "Arc" | "Box" | "Rc");
        if wrapper && c.args.len() == 1 {
            return self.collection_handle(&c.args[0]);
        }
        if segments.last()?.contains("collection") {
            // `get_collection::<T>(&db, "orders")`: the last argument naming one.
            return c
                .args
                .iter()
                .rev()
                .find_map(|a| match self.collection_name(a) {
                    Some(CollectionName::Setting { .. }) | None => None,
                    found => found,
                });
        }
        // A workspace wrapper opened on an enum variant (`MongoStore::new(&db,
        // &Store::Orders)`); whether the enum names collections is known later.
        if segments.len() >= 2 {
            return c.args.iter().find_map(|a| {
                let parsed =
                    local_name(a).and_then(|l| self.collections.names.get(&l.to_string()).cloned());
                parsed.or_else(|| match self.collection_name(a) {
                    found @ Some(CollectionName::Variant { .. }) => found,
                    _ => None,
                })
            });
        }
        None
    }

    /// `Store::from_str(&config.events_collection)` (with `?`, `.unwrap()`, `.map_err(..)`): a
    /// collection's name parsed into the enum that names collections.
    fn parsed_name(&mut self, expr: &Expr) -> Option<CollectionName> {
        match expr {
            Expr::Try(t) => self.parsed_name(&t.expr),
            Expr::Paren(p) => self.parsed_name(&p.expr),
            Expr::MethodCall(m) if PASS_THROUGH.contains(&m.method.to_string().as_str()) => {
                self.parsed_name(&m.receiver)
            }
            Expr::Call(c) if c.args.len() == 1 => {
                let Expr::Path(p) = c.func.as_ref() else {
                    return None;
                };
                let segments = path_segments(&p.path);
                match segs_tail(&segments, 2).as_slice() {
                    [ty, "from_str" | "try_from"] if is_type_like(ty) => {
                        match self.collection_name(&c.args[0])? {
                            found @ CollectionName::Setting { .. } => Some(found),
                            _ => None,
                        }
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn push_access(&mut self, name: CollectionName, kind: CollectionAccessKind, at: PmSpan) {
        let span = self.span(self.range_of(at));
        self.facts.collections.accesses.push(CollectionAccess {
            crate_id: self.cx.krate.id,
            name,
            kind,
            span,
        });
    }

    /// A method call: a handle opened (`.collection(..)`) or used (`orders.find_one(..)`,
    /// `self.orders.create_one(..)`).
    pub(super) fn collection_method_call(&mut self, call: &ExprMethodCall, method: &str) {
        if !self.reads_collections() {
            return;
        }
        if method == "collection" || method == "collection_with_options" {
            if let Some(name) = self.method_call_handle(call) {
                self.push_access(name, CollectionAccessKind::Open, call.method.span());
            }
            return;
        }
        // `client.database("shop")`: the database a bare `mongodb://host` connects to.
        if method == "database" || method == "database_with_options" {
            if let Some(Expr::Lit(ExprLit {
                lit: Lit::Str(name),
                ..
            })) = call.args.first()
            {
                let entry = (self.cx.krate.id, name.value());
                if !self.facts.collections.databases.contains(&entry) {
                    self.facts.collections.databases.push(entry);
                }
            }
            return;
        }
        let Some(kind) = access_kind(method) else {
            return;
        };
        let name = self.collection_handle(&call.receiver).or_else(|| {
            // `self.orders.find_one(..)`, `state.stores.orders.create_one(..)`: the field is
            // set to a handle where its value is built.
            match call.receiver.as_ref() {
                Expr::Field(field) => match &field.member {
                    syn::Member::Named(name) => Some(CollectionName::HeldBy {
                        field: name.to_string(),
                    }),
                    syn::Member::Unnamed(_) => None,
                },
                _ => None,
            }
        });
        if let Some(name) = name {
            self.push_access(name, kind, call.method.span());
        }
    }

    /// A call: a wrapper opened on an enum variant (`MongoStore::new(&db, &Store::Orders)`) or a
    /// helper given the collection's name.
    pub(super) fn collection_call(&mut self, call: &syn::ExprCall) {
        if !self.reads_collections() {
            return;
        }
        let Expr::Path(p) = call.func.as_ref() else {
            return;
        };
        if p.path
            .segments
            .first()
            .is_some_and(|s| matches!(s.ident.to_string().as_str(), "Arc" | "Box" | "Rc"))
        {
            return;
        }
        let Some(name) = self.call_handle(call) else {
            return;
        };
        let at = p
            .path
            .segments
            .last()
            .map_or_else(|| call.func.span(), |s| s.ident.span());
        self.push_access(name, CollectionAccessKind::Open, at);
    }

    /// `let orders = db.collection::<Order>("orders");`
    pub(super) fn collection_local(&mut self, name: &str, init: &Expr) {
        if !self.reads_collections() {
            return;
        }
        match self.collection_handle(init) {
            Some(collection) => self.collections.handles.insert(name.to_owned(), collection),
            None => self.collections.handles.remove(name),
        };
        match self.parsed_name(init) {
            Some(parsed) => self.collections.names.insert(name.to_owned(), parsed),
            None => self.collections.names.remove(name),
        };
    }

    /// `Self { orders: db.collection("orders"), events_collection: config.events.clone() }`:
    /// fields set to a handle, or to a name when the field is named for one.
    pub(super) fn collection_struct_fields(&mut self, literal: &syn::ExprStruct) {
        if !self.reads_collections() {
            return;
        }
        for field in &literal.fields {
            let syn::Member::Named(ident) = &field.member else {
                continue;
            };
            let field_name = ident.to_string();
            let (name, handle) = match self.collection_handle(&field.expr) {
                Some(name) => (name, true),
                None if field_name.contains("collection") => {
                    match self.collection_name(&field.expr) {
                        Some(name) => (name, false),
                        None => continue,
                    }
                }
                None => continue,
            };
            self.facts.collections.fields.push(CollectionField {
                crate_id: self.cx.krate.id,
                field: field_name,
                name,
                handle,
            });
        }
    }

    /// `#[envconfig(from = "CONTEXT_COLLECTION", default = "contexts")] context_collection:
    /// String`: a setting named for a collection, with its default.
    pub(super) fn collection_setting_field(&mut self, field: &syn::Field) {
        let Some(ident) = &field.ident else {
            return;
        };
        let name = ident.to_string();
        if !name.contains("collection") {
            return;
        }
        let Some(default) = attribute_value(
            &field.attrs,
            &["envconfig", "arg", "clap", "structopt", "config"],
            &["default", "default_value"],
        ) else {
            return;
        };
        self.facts.collections.fields.push(CollectionField {
            crate_id: self.cx.krate.id,
            field: name,
            name: CollectionName::Literal { value: default },
            handle: false,
        });
    }

    /// Variant strings from serde and strum attributes on an enum.
    pub(super) fn collection_enum_strings(&mut self, item: &syn::ItemEnum) {
        let enum_name = item.ident.to_string();
        let rename_all = attribute_value(&item.attrs, &["serde"], &["rename_all"])
            .or_else(|| attribute_value(&item.attrs, &["strum"], &["serialize_all"]));
        for variant in &item.variants {
            if !matches!(variant.fields, syn::Fields::Unit) {
                continue;
            }
            let name = variant.ident.to_string();
            let value = attribute_value(&variant.attrs, &["strum"], &["serialize", "to_string"])
                .or_else(|| attribute_value(&variant.attrs, &["serde"], &["rename"]))
                .or_else(|| {
                    rename_all
                        .as_deref()
                        .and_then(|rule| convert_case(&name, rule))
                });
            if let Some(value) = value {
                self.facts.collections.variant_strings.push(VariantString {
                    enum_name: enum_name.clone(),
                    variant: name,
                    value,
                });
            }
        }
    }

    /// `Store::Orders => "orders"` or `Self::Orders => write!(f, "orders")` in an `impl` of the
    /// enum (`Display`, `as_str`).
    pub(super) fn collection_variant_arm(&mut self, arm: &syn::Arm) {
        let Some(impl_type) = self.impl_type.clone() else {
            return;
        };
        let path = match &arm.pat {
            syn::Pat::Path(p) => &p.path,
            syn::Pat::Ident(_) => return,
            _ => return,
        };
        let segments = path_segments(path);
        let tail = segs_tail(&segments, 2);
        let [enum_name, variant] = tail.as_slice() else {
            return;
        };
        if *enum_name != "Self" && *enum_name != impl_type {
            return;
        }
        let value = match arm.body.as_ref() {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(s.value()),
            Expr::Macro(m) if m.mac.path.is_ident("write") => {
                string_pairs_first_literal(m.mac.tokens.clone())
            }
            Expr::MethodCall(m) if m.method == "write_str" => match m.args.first() {
                Some(Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                })) => Some(s.value()),
                _ => None,
            },
            _ => None,
        };
        if let Some(value) = value {
            self.facts.collections.variant_strings.push(VariantString {
                enum_name: impl_type,
                variant: variant.to_string(),
                value,
            });
        }
    }

    /// `macro_rules! stores { .. enum Store { .. } .. }` and `stores!(Orders, "orders", ..)`.
    pub(super) fn collection_macro(&mut self, mac: &Macro, rules_name: Option<&syn::Ident>) {
        if let Some(name) = rules_name {
            let mut enums = Vec::new();
            declared_enums(mac.tokens.clone(), &mut enums);
            if !enums.is_empty() {
                self.facts
                    .collections
                    .enum_macros
                    .push((name.to_string(), enums));
            }
            return;
        }
        let Some(name) = mac.path.segments.last().map(|s| s.ident.to_string()) else {
            return;
        };
        let pairs = string_pairs(mac.tokens.clone());
        if !pairs.is_empty() {
            self.facts.collections.macro_pairs.push((name, pairs));
        }
    }
}

/// The local an argument names (`store`, `&store`).
fn local_name(expr: &Expr) -> Option<&syn::Ident> {
    match expr {
        Expr::Reference(r) => local_name(&r.expr),
        Expr::Paren(p) => local_name(&p.expr),
        Expr::Path(p) => p.path.get_ident(),
        _ => None,
    }
}

/// The format string of `write!(f, "orders")` when it has no arguments.
fn string_pairs_first_literal(tokens: TokenStream) -> Option<String> {
    let items: Vec<TokenTree> = tokens.into_iter().collect();
    match items.as_slice() {
        [_, TokenTree::Punct(comma), TokenTree::Literal(literal)] if comma.as_char() == ',' => {
            match syn::parse_str::<Lit>(&literal.to_string()) {
                Ok(Lit::Str(s)) if !s.value().contains('{') => Some(s.value()),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_methods_are_judged_by_their_leading_verb() {
        assert_eq!(
            access_kind("create_one"),
            Some(CollectionAccessKind::Insert)
        );
        assert_eq!(
            access_kind("update_many"),
            Some(CollectionAccessKind::Update)
        );
        assert_eq!(access_kind("get_one"), Some(CollectionAccessKind::Read));
        assert_eq!(access_kind("find_one"), Some(CollectionAccessKind::Read));
        assert_eq!(
            access_kind("find_one_and_update"),
            Some(CollectionAccessKind::Update)
        );
        assert_eq!(access_kind("spawn"), None);
    }

    #[test]
    fn macro_pairs_need_a_variant_then_a_string() {
        let tokens: TokenStream = r#"Orders, "orders", Events, "external-events""#
            .parse()
            .unwrap_or_default();
        assert_eq!(
            string_pairs(tokens),
            [
                ("Orders".to_string(), "orders".to_string()),
                ("Events".to_string(), "external-events".to_string())
            ]
        );
        let tokens: TokenStream = r#"x, "a", y, "b""#.parse().unwrap_or_default();
        assert!(string_pairs(tokens).is_empty());
    }

    #[test]
    fn rename_rules_convert_variant_names() {
        assert_eq!(
            convert_case("EventAccess", "kebab-case").as_deref(),
            Some("event-access")
        );
        assert_eq!(
            convert_case("EventAccess", "snake_case").as_deref(),
            Some("event_access")
        );
        assert_eq!(convert_case("EventAccess", "camelCase"), None);
    }
}
