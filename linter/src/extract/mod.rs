//! Extractors: read Rust, SQL and deployment files into facts. They never judge.
//!
//! The workspace walker registers every file in the [`Model`](crate::model::Model) first, then
//! hands each file to the extractor for its kind, in parallel; each returns a [`Facts`] that is
//! merged into the model in file order, so output is deterministic.

pub mod deploy;
pub mod migrations;
pub mod rust;
pub mod sql;

use camino::{Utf8Path, Utf8PathBuf};

use crate::model::{
    ClientField, CollectionFacts, Crate, CrateUse, DbConnection, Deployment, EnvLookup, Function,
    HardCodedReferenceList, MigrationSet, Model, Note, OrmTable, Route, SqlQuery, StringConst,
    TypeDecl,
};

/// What extractors know about the crate a file belongs to.
#[derive(Debug, Clone, Copy)]
pub struct CrateContext<'a> {
    /// Absolute workspace root.
    pub root: &'a Utf8Path,
    pub krate: &'a Crate,
    /// All workspace members, to resolve paths like `other_crate::schema::t`.
    pub crates: &'a [Crate],
}

/// Facts found in one file (or one directory of migrations). A file's facts are what the
/// warm cache keeps ([`crate::cache`]).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    pub queries: Vec<SqlQuery>,
    pub migrations: Vec<MigrationSet>,
    pub orm_tables: Vec<OrmTable>,
    pub crate_uses: Vec<CrateUse>,
    pub connections: Vec<DbConnection>,
    pub deployments: Vec<Deployment>,
    pub env_lookups: Vec<EnvLookup>,
    pub notes: Vec<Note>,
    pub functions: Vec<Function>,
    pub routes: Vec<Route>,
    pub types: Vec<TypeDecl>,
    /// Names of types that derive `Deserialize` (what a handler may be handed).
    pub deserialized_types: Vec<String>,
    pub string_consts: Vec<StringConst>,
    pub hard_coded_lists: Vec<HardCodedReferenceList>,
    pub client_fields: Vec<ClientField>,
    /// `Type::name` of the methods whose bodies have no effect (`TransactionEntry::debit`
    /// building a value): kept by name only, as their bodies tell nothing.
    pub quiet_methods: Vec<String>,
    pub collections: CollectionFacts,
    /// A Rust file's `mod` declarations; `None` for other files.
    pub modules: Option<ModuleDecls>,
    /// The suppression comments of each file read (see [`crate::suppress`]).
    pub suppressions: Vec<crate::suppress::FileComments>,
}

/// The files a Rust file declares as its modules (`mod db;`), each with the places the
/// compiler looks for it.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ModuleDecls {
    /// Candidate paths of each declared module, relative to the workspace root.
    pub children: Vec<Utf8PathBuf>,
    /// The file may declare modules archlint cannot see (an item macro such as `cfg_if!`, a
    /// file that did not parse): its crate's files are all kept.
    pub opaque: bool,
}

impl Facts {
    /// Makes room in the model for every file's facts at once, so merging them does not
    /// grow (and copy) the model's lists again and again.
    pub fn reserve(model: &mut Model, all: &[Facts]) {
        let total = |count: fn(&Facts) -> usize| all.iter().map(count).sum::<usize>();
        model.queries.reserve(total(|f| f.queries.len()));
        model.migrations.reserve(total(|f| f.migrations.len()));
        model.orm_tables.reserve(total(|f| f.orm_tables.len()));
        model.crate_uses.reserve(total(|f| f.crate_uses.len()));
        model.connections.reserve(total(|f| f.connections.len()));
        model.deployments.reserve(total(|f| f.deployments.len()));
        model.env_lookups.reserve(total(|f| f.env_lookups.len()));
        model.notes.reserve(total(|f| f.notes.len()));
        model.functions.reserve(total(|f| f.functions.len()));
        model.routes.reserve(total(|f| f.routes.len()));
        model.types.reserve(total(|f| f.types.len()));
        model
            .string_consts
            .reserve(total(|f| f.string_consts.len()));
        model
            .hard_coded_lists
            .reserve(total(|f| f.hard_coded_lists.len()));
        model
            .client_fields
            .reserve(total(|f| f.client_fields.len()));
    }

    /// Adds `other`'s facts after these; into empty lists without copying them.
    pub fn append(&mut self, other: Facts) {
        fn append<T>(out: &mut Vec<T>, mut items: Vec<T>) {
            if out.is_empty() {
                *out = items;
            } else {
                out.append(&mut items);
            }
        }
        append(&mut self.queries, other.queries);
        append(&mut self.migrations, other.migrations);
        append(&mut self.orm_tables, other.orm_tables);
        append(&mut self.crate_uses, other.crate_uses);
        append(&mut self.connections, other.connections);
        append(&mut self.deployments, other.deployments);
        append(&mut self.env_lookups, other.env_lookups);
        append(&mut self.notes, other.notes);
        append(&mut self.functions, other.functions);
        append(&mut self.routes, other.routes);
        append(&mut self.types, other.types);
        append(&mut self.deserialized_types, other.deserialized_types);
        append(&mut self.string_consts, other.string_consts);
        append(&mut self.hard_coded_lists, other.hard_coded_lists);
        append(&mut self.client_fields, other.client_fields);
        append(&mut self.quiet_methods, other.quiet_methods);
        self.collections.append(other.collections);
        append(&mut self.suppressions, other.suppressions);
        if other.modules.is_some() {
            self.modules = other.modules;
        }
    }

    pub fn merge_into(self, model: &mut Model) {
        model.queries.extend(self.queries);
        model.migrations.extend(self.migrations);
        model.orm_tables.extend(self.orm_tables);
        model.crate_uses.extend(self.crate_uses);
        model.connections.extend(self.connections);
        model.deployments.extend(self.deployments);
        model.env_lookups.extend(self.env_lookups);
        model.notes.extend(self.notes);
        model.functions.extend(self.functions);
        model.routes.extend(self.routes);
        model.types.extend(self.types);
        model.deserialized_types.extend(self.deserialized_types);
        model.string_consts.extend(self.string_consts);
        model.hard_coded_lists.extend(self.hard_coded_lists);
        model.client_fields.extend(self.client_fields);
        model.quiet_methods.extend(self.quiet_methods);
        model.collection_facts.append(self.collections);
        model.suppressions.extend(self.suppressions);
    }
}
