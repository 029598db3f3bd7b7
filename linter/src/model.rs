//! The workspace model: every fact the extractors find, with its source location.
//!
//! Extractors append facts; rules only read them. Facts hold spans (file id + byte range +
//! 1-based line/column of the start), never source text, so memory grows with the number of
//! facts, not with the size of the workspace. Reporters re-read the few files they render.

use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

/// A field JSON leaves out when it is empty.
trait Omissible {
    fn is_empty_value(&self) -> bool;
}

impl<T> Omissible for Vec<T> {
    fn is_empty_value(&self) -> bool {
        self.is_empty()
    }
}

impl<T> Omissible for Option<T> {
    fn is_empty_value(&self) -> bool {
        self.is_none()
    }
}

impl Omissible for bool {
    fn is_empty_value(&self) -> bool {
        !*self
    }
}

impl Omissible for StateColumns {
    fn is_empty_value(&self) -> bool {
        self.is_empty()
    }
}

/// `skip_serializing_if`: an empty field is left out of JSON, but never out of the warm
/// cache's entries, whose structs are written as arrays (fields by position, not by name).
fn omitted<T: Omissible>(value: &T) -> bool {
    value.is_empty_value() && !crate::cache::writing_entries()
}

/// Index into [`Model::files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FileId(pub u32);

/// Read back from the warm cache, a file's id is the one the file has in this run (files
/// added or removed before it move it); see [`crate::cache::file_id`].
impl<'de> Deserialize<'de> for FileId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = u32::deserialize(deserializer)?;
        crate::cache::file_id(stored)
            .ok_or_else(|| serde::de::Error::custom("the id of a file other than the entry's"))
    }
}

/// Index into [`Model::crates`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CrateId(pub u32);

/// Index into [`Model::services`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServiceId(pub u32);

/// A location in a workspace file. `start`/`end` are byte offsets into the file;
/// `line`/`column` are the 1-based position of `start` (column counted in chars).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
    pub line: u32,
    pub column: u32,
}

/// A file the extractors read. `path` is relative to the workspace root, with `/` separators.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: Utf8PathBuf,
    /// The crate whose directory holds the file, if any (deployment files at the root have none).
    pub crate_id: Option<CrateId>,
    /// True for code under `#[cfg(test)]`-only files, `tests/`, `benches/`.
    pub is_test: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlDialect {
    Postgres,
    MySql,
    Sqlite,
    Generic,
}

/// A workspace member.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Crate {
    pub id: CrateId,
    pub name: String,
    /// Directory of the crate's Cargo.toml, relative to the workspace root ("" for the root).
    pub dir: Utf8PathBuf,
    /// The manifest file, registered in [`Model::files`] so findings can point into it.
    pub manifest: FileId,
    pub has_bin: bool,
    pub has_lib: bool,
    /// The Dockerfile in the crate's own directory, relative to the workspace root.
    pub dockerfile: Option<Utf8PathBuf>,
    /// Names of every dependency (normal and build), as written in the manifest, `-` kept.
    pub dependencies: Vec<Dependency>,
    /// The SQL dialect its queries are parsed with, from its database crate features.
    pub dialect: SqlDialect,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dependency {
    /// The name the crate is known by in code (`rename` applied, `-` replaced by `_`).
    pub code_name: String,
    /// The package name.
    pub package: String,
    /// The workspace member this resolves to, for path dependencies.
    pub member: Option<CrateId>,
    /// Where the dependency is declared in the manifest.
    pub span: Option<Span>,
}

/// Why a crate is a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ServiceEvidence {
    /// Named in `archlint.toml` / `[workspace.metadata.archlint]`.
    Configured,
    /// A binary target depending on a server framework or broker client.
    Framework { dependency: String },
    /// A binary target whose crate directory holds the Dockerfile that packages it: a worker
    /// deployed as a container of its own.
    Dockerfile { path: Utf8PathBuf },
}

/// A deployed unit: one binary crate plus the library crates it pulls in by path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub root_crate: CrateId,
    /// `root_crate` and every workspace library it reaches through path dependencies.
    pub crates: Vec<CrateId>,
    pub evidence: ServiceEvidence,
    /// Database the configuration says this service owns, if declared.
    pub declared_database: Option<String>,
    /// Names under which deployment files know it (compose service, k8s Deployment/container).
    pub deploy_names: Vec<String>,
    /// Databases it connects to, resolved through deployments, poolers and DB containers.
    pub connections: Vec<ServiceConnection>,
    /// Indexes into [`Model::migrations`] of the migration sets this service runs.
    pub migration_sets: Vec<usize>,
}

/// A connection attributed to a service, with its target resolved through poolers and
/// database containers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceConnection {
    /// Index into [`Model::connections`].
    pub connection: usize,
    pub target: DbTarget,
    /// The compose project (directory) whose network the host is a name on, when the host is
    /// a container of that project; targets in different scopes are different databases.
    pub scope: Option<Utf8PathBuf>,
}

/// A call that runs a migration set (`sqlx::migrate!("..")`, `embed_migrations!`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MigrationRun {
    /// Index into [`Model::migrations`].
    pub set: usize,
    /// The crate holding the call.
    pub crate_id: CrateId,
    pub span: Span,
    /// The item holding the call (see [`MigrationSet::holder`]).
    #[serde(default, skip_serializing_if = "omitted")]
    pub holder: Option<String>,
}

/// A service owns a table because a migration set it runs (or a runtime `CREATE TABLE` in
/// its code) creates it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableOwner {
    pub table: TableName,
    pub service: ServiceId,
    /// Where the table is created.
    pub span: Span,
}

/// A table name, normalised: lower case, default schema (`public`, `dbo`, `main`) dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TableName {
    pub schema: Option<String>,
    pub name: String,
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
    Create,
    Alter,
    Drop,
}

/// How sure an extractor is of a piece of text it resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    /// Fully known at compile time (literals, consts, `concat!`, `include_str!`).
    Exact,
    /// Known up to holes filled at run time (`format!` with runtime values).
    Template,
    /// Found by keyword scan after the parser gave up.
    Unknown,
}

/// A table mentioned by SQL or an ORM declaration, with the span of the table name itself
/// (inside the literal when it can be located, otherwise the whole literal).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableRef {
    pub table: TableName,
    pub access: Access,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SqlOrigin {
    SqlxMacro,
    SqlxFunction,
    TokioPostgres,
    Rusqlite,
    MySqlAsync,
    DieselSqlQuery,
    SeaOrmRaw,
    IncludeStr,
    QueryFile,
    /// A string literal that reads as SQL, passed to something else.
    Literal,
    Migration,
}

/// One piece of SQL found in code or in a `.sql` file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SqlQuery {
    pub crate_id: CrateId,
    /// The literal (or file) holding the SQL.
    pub span: Span,
    pub origin: SqlOrigin,
    pub certainty: Certainty,
    pub tables: Vec<TableRef>,
    /// Leading keyword of each statement, upper case (`SELECT`, `INSERT`, `PREPARE TRANSACTION`).
    pub statements: Vec<String>,
    /// Enclosing function, as `module::path::fn` relative to the crate (empty at item level).
    pub function: String,
    /// What each statement does to data, parallel to `statements`.
    pub effects: Vec<StatementEffect>,
    /// The columns its `INSERT` column lists name, lower case.
    #[serde(default, skip_serializing_if = "omitted")]
    pub inserted_columns: Vec<String>,
    /// The state columns its statements test and set.
    #[serde(default, skip_serializing_if = "omitted")]
    pub state_columns: StateColumns,
}

/// Columns that hold a row's state, as one query's statements use them: a sweep that selects
/// rows by a state (`WHERE released = false`) and sets that state on each (`SET released =
/// true`) claims the rows it works on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateColumns {
    /// Columns a `SELECT`'s `WHERE` compares with a constant (`status = 'pending'`,
    /// `released = false`, `processed_at IS NULL`), lower case.
    #[serde(default, skip_serializing_if = "omitted")]
    pub tested: Vec<String>,
    /// Columns an `UPDATE` sets to a value that is not computed from their own, lower case.
    #[serde(default, skip_serializing_if = "omitted")]
    pub set: Vec<String>,
}

impl StateColumns {
    pub fn is_empty(&self) -> bool {
        self.tested.is_empty() && self.set.is_empty()
    }
}

/// What one SQL statement does to data, as far as retries are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatementEffect {
    /// `SELECT`, `SHOW`, ... : no write.
    Read,
    /// `INSERT` with no conflict clause: a retry inserts again.
    Insert,
    /// `INSERT .. ON CONFLICT`, `INSERT IGNORE`, `INSERT OR IGNORE/REPLACE`, `REPLACE`,
    /// `ON DUPLICATE KEY UPDATE`, `INSERT .. WHERE NOT EXISTS`, `MERGE`.
    Upsert,
    /// `UPDATE .. SET col = 'value'`: the same result however often it runs.
    AbsoluteUpdate,
    /// `UPDATE .. SET qty = qty - $1`: every retry changes the data again.
    RelativeUpdate,
    /// A relative update guarded by a version predicate (`WHERE version = $2`), or an update
    /// whose `WHERE` tests a column it sets (`SET status = 'refunded' WHERE id = $1 AND
    /// status = 'succeeded'`): a compare-and-set that changes a row only once.
    GuardedUpdate,
    Delete,
    /// DDL, transaction control and everything else.
    Other,
}

impl StatementEffect {
    /// True when running the statement twice changes data twice.
    pub fn repeats_on_retry(self) -> bool {
        matches!(self, Self::Insert | Self::RelativeUpdate)
    }

    pub fn is_write(self) -> bool {
        !matches!(self, Self::Read | Self::Other)
    }
}

/// The primary key a `CREATE TABLE` declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryKey {
    pub table: TableName,
    /// Its columns, lower case.
    pub columns: Vec<String>,
    /// A key column has a value of its own (`DEFAULT`, `SERIAL`, `IDENTITY`,
    /// `AUTO_INCREMENT`): an insert need not supply it.
    pub generated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationTool {
    Sqlx,
    Diesel,
    Refinery,
    SeaOrm,
    Plain,
}

/// A migrations directory and what it creates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MigrationSet {
    /// The crate whose migrations these are (the crate holding the directory, or the crate
    /// whose `migrate!`/`embed_migrations!` call names it).
    pub crate_id: CrateId,
    /// Directory relative to the workspace root.
    pub dir: Utf8PathBuf,
    pub tool: MigrationTool,
    /// The call that runs them (`sqlx::migrate!("..")`), when found.
    pub run_at: Option<Span>,
    /// The const, static, function or module holding that call (`MIGRATOR` in
    /// `pub static MIGRATOR: Migrator = sqlx::migrate!()`). In a library the call only defines
    /// the set: the crates that use this name are the ones running it.
    #[serde(default, skip_serializing_if = "omitted")]
    pub holder: Option<String>,
    /// Tables created, altered or dropped, each at its name in the migration file.
    pub tables: Vec<TableRef>,
    /// Tables given a `UNIQUE` constraint or a unique index: a natural key, on which a
    /// repeated insert fails.
    #[serde(default, skip_serializing_if = "omitted")]
    pub unique_keys: Vec<TableName>,
    /// The primary keys of the tables it creates.
    #[serde(default, skip_serializing_if = "omitted")]
    pub primary_keys: Vec<PrimaryKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrmKind {
    /// `diesel::table!`
    Diesel,
    /// `#[sea_orm(table_name = "..")]`
    SeaOrm,
}

/// A table declared for an ORM in some crate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrmTable {
    pub crate_id: CrateId,
    pub kind: OrmKind,
    pub table: TableName,
    /// Rust path of the declaration inside its crate (`schema::orders`, `entity::order::Entity`).
    pub rust_path: String,
    pub span: Span,
}

/// Code in one crate that names an item of another workspace crate (`use other::schema::t`,
/// `other::entity::Entity::find()`), with the table it reaches when known.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrateUse {
    pub crate_id: CrateId,
    pub used_crate: CrateId,
    /// The path as written.
    pub path: String,
    /// The ORM table it resolves to, if any.
    pub table: Option<TableName>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DbEngine {
    Postgres,
    MySql,
    Sqlite,
    Mongo,
    Redis,
    Unknown,
}

/// A database a service connects to, normalised. Credentials are never stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DbTarget {
    pub engine: DbEngine,
    /// Lower-cased host; `None` when unresolved. Poolers are followed to the real host.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
}

impl DbTarget {
    /// True when host and database are both known, so two targets can be compared.
    pub fn is_resolved(&self) -> bool {
        self.host.is_some() && self.database.is_some()
            || self.engine == DbEngine::Sqlite && self.database.is_some()
    }
}

impl std::fmt::Display for DbTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let engine = match self.engine {
            DbEngine::Postgres => "postgres",
            DbEngine::MySql => "mysql",
            DbEngine::Sqlite => "sqlite",
            DbEngine::Mongo => "mongodb",
            DbEngine::Redis => "redis",
            DbEngine::Unknown => "db",
        };
        write!(f, "{engine}://{}", self.host.as_deref().unwrap_or("?"))?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "/{}", self.database.as_deref().unwrap_or("?"))
    }
}

/// Where a connection was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionSource {
    RustLiteral,
    EnvDefault,
    DotEnv,
    Compose,
    Kubernetes,
    ConfigFile,
}

/// Who a connection belongs to, before services are resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum ConnectionOwner {
    Crate(CrateId),
    /// A compose service, k8s workload or container name, matched to a service later.
    Deployment(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DbConnection {
    pub owner: ConnectionOwner,
    pub target: DbTarget,
    pub source: ConnectionSource,
    /// Environment variable or config key that carries it (`DATABASE_URL`, `database.url`).
    pub key: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentKind {
    Compose,
    Kubernetes,
}

/// A deployed container found in docker-compose or Kubernetes files. The model matches it to a
/// service crate by build context, Dockerfile location or name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployment {
    /// Compose service name, or k8s workload/container name.
    pub name: String,
    pub kind: DeploymentKind,
    /// Build context directory, relative to the workspace root.
    pub build_context: Option<Utf8PathBuf>,
    /// Dockerfile path, relative to the workspace root.
    pub dockerfile: Option<Utf8PathBuf>,
    pub image: Option<String>,
    /// Set when the container is itself a database server (postgres, mysql, mongo, redis image).
    pub database_engine: Option<DbEngine>,
    /// Databases the server container creates (`POSTGRES_DB`, `MYSQL_DATABASE`, init scripts).
    pub databases: Vec<String>,
    /// For connection poolers and proxies (pgbouncer, haproxy, pgpool): the host they forward to.
    pub forwards_to: Option<String>,
    pub span: Span,
}

/// An `env::var("X")` (or `dotenvy::var`, `std::env::var_os`) lookup in code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvLookup {
    pub crate_id: CrateId,
    pub name: String,
    /// The literal default (`unwrap_or("..")`), if any.
    pub default: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteKind {
    /// A file could not be read, is not a regular file, or is not UTF-8.
    Unreadable,
    /// Rust that syn cannot parse.
    RustSyntax,
    /// SQL that sqlparser cannot parse (tables were taken from a keyword scan).
    SqlSyntax,
    /// YAML/TOML/.env that does not parse.
    ConfigSyntax,
    /// A Rust file no `mod` of its crate declares: not compiled, so not judged.
    Undeclared,
    /// A file nested deeper than the extractor's bound: skipped, not parsed.
    TooDeep,
    /// A file over the size cap of its kind ([`crate::read::FileClass::cap`]): skipped.
    TooLarge,
    /// A workspace member named in `members` that has no manifest.
    MissingMember,
    /// `cargo metadata` failed; the manifests were read instead.
    CargoMetadata,
}

impl NoteKind {
    /// The note for a file [`crate::read`] refused.
    pub fn of_read_error(error: &crate::read::ReadError) -> Self {
        if error.is_too_large() {
            NoteKind::TooLarge
        } else {
            NoteKind::Unreadable
        }
    }
}

/// Something the linter could not read; reported once, never fatal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    pub kind: NoteKind,
    pub file: FileId,
    pub span: Option<Span>,
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Behaviour: what functions do across service boundaries.

/// A function or method with a body, and the effects in it that matter across services, in
/// source order. SQL in the body is in [`Model::queries`], found by [`Function::body`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Function {
    pub crate_id: CrateId,
    /// `module::Type::name`, the same path [`SqlQuery::function`] uses.
    pub path: String,
    pub name: String,
    /// The `impl` block's type and trait, for methods.
    pub impl_type: Option<String>,
    pub impl_trait: Option<String>,
    pub is_async: bool,
    /// The function's name.
    pub span: Span,
    /// The whole item; facts located inside it belong to it.
    pub body: Span,
    /// The body does nothing: `{}`, `Ok(())`, `todo!()`, `unimplemented!()`, only logging.
    pub trivial_body: bool,
    /// The signature returns nothing (no return type, or `()`): a caller cannot see it fail.
    #[serde(default, skip_serializing_if = "omitted")]
    pub returns_nothing: bool,
    /// Type names in the parameters (`Json`, `HeaderMap`, `BorrowedMessage`, `Delivery`).
    pub param_types: Vec<String>,
    /// Set by a route attribute on the function (`#[post("/orders")]`).
    pub route_attribute: Option<HttpMethod>,
    /// The path of that route attribute (`/orders/<id>`), when it is a string literal.
    pub route_path: Option<String>,
    pub effects: Vec<Effect>,
    /// Mutually exclusive regions of the body, as byte ranges: each entry is one `match`,
    /// `if`/`else`, or `if` that returns early (its block, then the rest of the enclosing
    /// block), with the range of each arm.
    #[serde(default, skip_serializing_if = "omitted")]
    pub branches: Vec<Vec<(u32, u32)>>,
    /// Bodies handed to `tokio::spawn` (or another `spawn`), as byte ranges: each runs as a
    /// task of its own, apart from the spawner and from the other tasks.
    #[serde(default, skip_serializing_if = "omitted")]
    pub tasks: Vec<(u32, u32)>,
    /// The types serialized into the messages this function publishes (only in functions
    /// that publish or write an outbox).
    #[serde(default, skip_serializing_if = "omitted")]
    pub payloads: Vec<Payload>,
}

impl Function {
    /// True when two byte offsets of the body lie in different arms of one branch, so they
    /// never run in the same call.
    pub fn exclusive(&self, a: u32, b: u32) -> bool {
        self.branches.iter().any(|arms| {
            let arm_of = |x: u32| arms.iter().position(|&(s, e)| s <= x && x < e);
            matches!((arm_of(a), arm_of(b)), (Some(i), Some(j)) if i != j)
        })
    }

    /// True when `a` and `b` lie in two different spawned tasks: two flows that share only
    /// the function that started them.
    pub fn in_separate_tasks(&self, a: u32, b: u32) -> bool {
        let innermost = |at: u32| {
            self.tasks
                .iter()
                .filter(|(start, end)| *start <= at && at < *end)
                .min_by_key(|(start, end)| end - start)
        };
        match (innermost(a), innermost(b)) {
            (Some(x), Some(y)) => x != y && !(x.0 <= y.0 && y.1 <= x.1 || y.0 <= x.0 && x.1 <= y.1),
            _ => false,
        }
    }

    /// True when every arm that holds offset `a` also holds `b`: whenever `a` runs, `b`
    /// is on the same path (if it is reached at all).
    pub fn on_path_of(&self, a: u32, b: u32) -> bool {
        self.branches.iter().all(|arms| {
            let arm_of = |x: u32| arms.iter().position(|&(s, e)| s <= x && x < e);
            arm_of(a).is_none_or(|i| arm_of(b) == Some(i))
        })
    }
}

/// A type that flows into a message: constructed in (or bound to a local or parameter that
/// reaches) the payload of a publish, a publishing wrapper or an outbox write, or what a
/// serializer (`serde_json::to_vec`) turns into bytes before the publish.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payload {
    /// The type as written: `OrderPlaced`, `events::OrderEvent::Placed`, `Envelope`; for
    /// [`PayloadKind::Text`], the string.
    pub name: String,
    /// The call it is handed to: the publish, outbox write or serializer.
    pub sink: Span,
    pub kind: PayloadKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PayloadKind {
    /// A type constructed or passed into the message.
    Type,
    /// A string that goes with it: a subject or type tag set on the outbox row or in a JSON
    /// envelope (`"orders.v1.placed"`), or `{NAME}` for a constant.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Any,
}

impl HttpMethod {
    pub fn parse(name: &str) -> Option<Self> {
        const METHODS: [(&str, HttpMethod); 8] = [
            ("get", HttpMethod::Get),
            ("post", HttpMethod::Post),
            ("put", HttpMethod::Put),
            ("patch", HttpMethod::Patch),
            ("delete", HttpMethod::Delete),
            ("head", HttpMethod::Head),
            ("options", HttpMethod::Options),
            ("any", HttpMethod::Any),
        ];
        METHODS
            .iter()
            .find(|(spelling, _)| name.eq_ignore_ascii_case(spelling))
            .map(|&(_, method)| method)
    }

    pub fn is_mutating(self) -> bool {
        matches!(self, Self::Post | Self::Put | Self::Patch | Self::Delete)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
            Self::Options => "OPTIONS",
            Self::Any => "ANY",
        }
    }
}

/// Where in a function an effect runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathContext {
    Normal,
    /// On an error path: an `Err` arm, `if let Err`, the `else` of `let Ok(..) = .. else`,
    /// `if r.is_err()`, a `map_err`/`or_else`/`unwrap_or_else`/`inspect_err` closure, an
    /// `Ok(..)` arm or an `if` branch that returns an error (`return Err(..)`, `bail!`).
    Error,
    /// In a closure registered to run later (`undo.push(..)`, `on_failure(..)`, `defer!`): a
    /// compensation stack.
    Deferred,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Broker {
    Kafka,
    Amqp,
    Nats,
    Sqs,
    Sns,
    /// Google Cloud Pub/Sub (`google-cloud-pubsub`).
    PubSub,
    Redis,
    /// A project function named like a publisher (`publish_event`, `emit`).
    Wrapper,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemoteProtocol {
    /// reqwest (or another HTTP client) with a method and URL.
    Http,
    /// A tonic client (`InventoryClient::connect(..)`).
    Grpc,
    /// A typed client of another service (`self.inventory_client.reserve(..)`).
    Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventRole {
    /// Constructed or named as a payload: `OrderPlaced { .. }`, `Event::PaymentFailed`.
    Constructed,
    /// Matched on: a `match` arm or `if let` pattern (`"PaymentFailed" =>`, `Event::X { .. } =>`).
    Matched,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EffectKind {
    /// A call to a named function or method of the project (the call graph).
    Call {
        name: String,
        /// The receiver's last name (`inventory` in `self.inventory.reserve(..)`).
        receiver: Option<String>,
    },
    /// A call to another service.
    Remote {
        protocol: RemoteProtocol,
        method: Option<HttpMethod>,
        /// What is asked: the method name, or the URL path with holes as `{}`.
        operation: String,
        /// Who is asked: URL host, base-URL variable or client name, when known.
        target: Option<String>,
    },
    Publish {
        broker: Broker,
        /// Topic, subject, exchange/routing key or queue, when resolved. A constant of
        /// another file is kept as a `{NAME}` hole until the model resolves it.
        destination: Option<String>,
    },
    Consume {
        broker: Broker,
        source: Option<String>,
    },
    /// Blocking I/O: `reqwest::blocking`, `ureq`, `std::thread::sleep`, sync database drivers.
    Blocking { api: String },
    /// A database write through an ORM (diesel `insert_into`, sea-orm `insert`).
    OrmWrite {
        api: String,
        effect: StatementEffect,
    },
    /// A call into an outbox library or helper (`outbox.add(..)`, `save_to_outbox`).
    OutboxWrite,
    /// The `Idempotency-Key` header or field is read.
    IdempotencyKey,
    /// An `Idempotency-Key` header is set on an outgoing request: the remote API drops the
    /// repeats of what this function asks of it.
    IdempotencyKeySent,
    /// A request message carries the id of a prepared transaction
    /// (`PaymentCreateRequest { prepared_transaction_id: Some(gid), .. }`): the receiving service
    /// prepares its part of a two-phase commit and waits for the coordinator's verdict.
    PreparedTransactionSent,
    /// An `if` that tests the state of a row the function looked up and returns early
    /// (`if order.status == "CANCELLED" { return .. }`): what follows runs only in that state.
    /// `subject` is the looked-up local it tests (`order`), when it tests one.
    StateCheck { subject: Option<String> },
    /// A new random or time-based id is made (`Uuid::new_v4()`, `Ulid::new()`).
    FreshId,
    /// Redis `SET .. NX` (set if absent).
    SetIfAbsent,
    /// An event or message name: a type, enum variant or string.
    Event { name: String, role: EventRole },
    /// A database transaction is committed; `discarded` when its result is thrown away.
    Commit { discarded: bool },
    /// A database transaction is rolled back (`tx.rollback()`).
    Rollback,
    /// A database transaction is opened (`pool.begin()`, `client.transaction()`), on the
    /// named pool, connection or client.
    Begin { receiver: Option<String> },
}

/// One effect in a function.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Effect {
    pub kind: EffectKind,
    pub span: Span,
    pub context: PathContext,
    /// The call's error is propagated with `?` (the function returns if it fails).
    pub propagates: bool,
    /// The call's result is matched right where it is used (`match`, `if let Err(..)`,
    /// `let Ok(..) = .. else`), directly or through the variable it is bound to, by an arm
    /// that returns an error: the function stops there when it fails.
    pub error_returned: bool,
    /// The call's `Ok` value is what the code after it runs on (`if let Ok(order) =
    /// update(..).await { .. }` with no `else`): when the call fails, that code does not run.
    pub gates_what_follows: bool,
    /// Inside a closure given to `spawn_blocking`/`block_in_place`.
    pub offloaded: bool,
}

/// An HTTP route registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Route {
    pub crate_id: CrateId,
    pub method: HttpMethod,
    pub path: Option<String>,
    /// The handler's last path segment (`create_order` in `handlers::create_order`).
    pub handler: String,
    pub span: Span,
}

/// A struct or enum that derives `Serialize` (or is otherwise serialized).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TypeDecl {
    pub crate_id: CrateId,
    pub name: String,
    /// The type's name.
    pub span: Span,
    pub is_enum: bool,
    /// Field names, lower case (for enums, the fields of every variant).
    pub fields: Vec<String>,
    /// Variant names (enums).
    pub variants: Vec<String>,
    /// `#[serde(tag = "..")]`, `#[serde(rename = "..")]` and variant renames: strings that can
    /// carry a version (`"order.placed.v1"`).
    pub serde_names: Vec<String>,
    /// Each field (of every variant, for enums) with the names its type mentions, path
    /// segments and generic arguments (`meta: EventMeta` -> (`meta`, [`EventMeta`]);
    /// `total: Option<Money>` -> (`total`, [`Option`, `Money`])). Tuple fields have an empty
    /// name.
    #[serde(default, skip_serializing_if = "omitted")]
    pub field_types: Vec<(String, Vec<String>)>,
}

/// A struct field holding a generated gRPC client (`pricing: PricingClient<Channel>`). Calls on
/// a receiver of that name, in any file of the crates that can see the struct, go to another
/// service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientField {
    pub crate_id: CrateId,
    pub name: String,
    /// The client type (`PricingClient`).
    pub client: String,
}

/// A `const`/`static` string item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StringConst {
    pub crate_id: CrateId,
    pub name: String,
    pub value: String,
}

/// An ISO code list a hard-coded list in code copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IsoCodeList {
    /// ISO 4217 currency codes (`USD`), withdrawn ones included.
    Currency,
    /// ISO 3166-1 alpha-2 country codes (`DE`).
    CountryAlpha2,
    /// ISO 3166-1 alpha-3 country codes (`DEU`).
    CountryAlpha3,
}

/// How a hard-coded list is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferenceListShape {
    /// An array, `vec!` or set macro of code literals.
    List,
    /// Entries keyed by code literals: an array of tuples (`HashMap::from([("USD", 2), ..])`)
    /// or a map macro (`phf_map!`, `hashmap!`).
    Table,
    /// `match` arms (or `matches!` patterns) on code literals.
    Match,
    /// An enum whose variants are the codes (`enum Currency { USD, EUR, .. }`).
    Enum,
}

/// A list of ISO codes written out in code: nearly every entry is a code of one ISO list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HardCodedReferenceList {
    pub crate_id: CrateId,
    pub kind: IsoCodeList,
    pub shape: ReferenceListShape,
    /// Distinct entries that are codes of `kind`.
    pub codes: usize,
    /// The first few of them, in source order.
    pub sample: Vec<String>,
    /// The whole list (array, macro, `match`, enum).
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// Document collections (MongoDB): no migrations declare them, so code names them.

/// How code names a document collection where it opens one or works on one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CollectionName {
    /// `db.collection("orders")`.
    Literal { value: String },
    /// `Store::Orders`: the string the workspace maps the variant to.
    Variant { enum_name: String, variant: String },
    /// A setting or field that holds the name (`config.orders_collection_name`).
    Setting { field: String },
    /// A handle kept in a field (`self.orders.find_one(..)`), opened where the field is set.
    HeldBy { field: String },
}

/// What code does with a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CollectionAccessKind {
    /// A handle is opened on it (`db.collection::<T>("x")`, `MongoStore::new(&db, &Store::X)`).
    Open,
    Read,
    /// Documents are changed.
    Update,
    /// Documents are deleted.
    Delete,
    /// New documents are created: what the collection's owner does.
    Insert,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionAccess {
    pub crate_id: CrateId,
    pub name: CollectionName,
    pub kind: CollectionAccessKind,
    pub span: Span,
}

/// A field set to a collection's name or handle where a value is built (`Self { orders:
/// db.collection("orders") }`), or given a default name (`#[envconfig(default = "events")]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionField {
    pub crate_id: CrateId,
    pub field: String,
    pub name: CollectionName,
    /// The field holds a handle, not a name.
    pub handle: bool,
}

/// The string an enum variant stands for: a `Display`/`as_str` match arm, a serde or strum
/// rename, or the pairs a macro that declares the enum is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantString {
    pub enum_name: String,
    pub variant: String,
    pub value: String,
}

/// What the Rust files say about document collections, before names are resolved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CollectionFacts {
    pub accesses: Vec<CollectionAccess>,
    pub fields: Vec<CollectionField>,
    pub variant_strings: Vec<VariantString>,
    /// Enums whose values are passed to `collection(..)` as the name.
    pub name_enums: Vec<String>,
    /// `macro_rules!` macros by name, with the enums their expansion declares.
    pub enum_macros: Vec<(String, Vec<String>)>,
    /// Invocations of macros with `Variant, "string"` pairs: macro name and pairs.
    pub macro_pairs: Vec<(String, Vec<(String, String)>)>,
    /// Databases code opens by a literal name (`client.database("shop")`), per crate: the
    /// database of a connection string that names none.
    pub databases: Vec<(CrateId, String)>,
}

impl CollectionFacts {
    pub fn append(&mut self, other: CollectionFacts) {
        self.accesses.extend(other.accesses);
        self.fields.extend(other.fields);
        self.variant_strings.extend(other.variant_strings);
        self.name_enums.extend(other.name_enums);
        self.enum_macros.extend(other.enum_macros);
        self.macro_pairs.extend(other.macro_pairs);
        self.databases.extend(other.databases);
    }

    pub fn is_empty(&self) -> bool {
        self.accesses.is_empty() && self.databases.is_empty()
    }
}

/// A collection access with its name resolved to the collection's own name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionUse {
    pub crate_id: CrateId,
    pub collection: String,
    pub kind: CollectionAccessKind,
    pub span: Span,
    /// The name was found through a field or setting of that name, not at the access.
    pub through_field: bool,
}

/// Everything known about a workspace.
#[derive(Debug, Default, Serialize)]
pub struct Model {
    pub root: Utf8PathBuf,
    /// Workspace members that could not be read (each also a note): the run fails unless
    /// told to keep going, so a service that vanished is never a clean pass.
    #[serde(skip)]
    pub skipped_members: usize,
    pub files: Vec<SourceFile>,
    pub crates: Vec<Crate>,
    pub services: Vec<Service>,
    pub queries: Vec<SqlQuery>,
    pub migrations: Vec<MigrationSet>,
    pub orm_tables: Vec<OrmTable>,
    pub crate_uses: Vec<CrateUse>,
    pub connections: Vec<DbConnection>,
    pub deployments: Vec<Deployment>,
    pub env_lookups: Vec<EnvLookup>,
    pub notes: Vec<Note>,
    /// Calls that run migration sets (several services may run one set).
    pub migration_runs: Vec<MigrationRun>,
    /// Table ownership, from the migration sets each service runs.
    pub table_owners: Vec<TableOwner>,
    /// Function bodies and the cross-service effects in them, in file order.
    pub functions: Vec<Function>,
    /// HTTP routes registered with a handler (`.route("/x", post(handler))`, `#[post("/x")]`).
    pub routes: Vec<Route>,
    /// Serializable types (events, commands, DTOs), for the event rules.
    pub types: Vec<TypeDecl>,
    /// Names of workspace types that derive `Deserialize`: messages, requests, payloads.
    pub deserialized_types: std::collections::HashSet<String>,
    /// Item-level string constants (`const ORDERS_TOPIC: &str = "orders.v1"`), to resolve
    /// names used from other files.
    pub string_consts: Vec<StringConst>,
    pub client_fields: Vec<ClientField>,
    /// `Type::name` of the project's methods whose bodies have no effect: a call of one
    /// (`TransactionEntry::debit(..)` building a journal line) charges or sends nothing.
    #[serde(skip)]
    pub quiet_methods: std::collections::HashSet<String>,
    #[serde(skip)]
    file_index: std::collections::HashMap<Utf8PathBuf, FileId>,
    /// ISO code lists written out in code.
    pub hard_coded_lists: Vec<HardCodedReferenceList>,
    /// Document collections as the Rust files name them.
    pub collection_facts: CollectionFacts,
    /// Accesses to document collections whose names resolved.
    pub collection_uses: Vec<CollectionUse>,
    /// Inline suppression comments, per file scanned (see [`crate::suppress`]).
    #[serde(skip)]
    pub suppressions: Vec<crate::suppress::FileComments>,
    /// What the run did with the warm cache, when it used one (see [`crate::cache`]).
    #[serde(skip)]
    pub cache: Option<crate::cache::Stats>,
}

impl Model {
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn krate(&self, id: CrateId) -> &Crate {
        &self.crates[id.0 as usize]
    }

    pub fn service(&self, id: ServiceId) -> &Service {
        &self.services[id.0 as usize]
    }

    /// Registers a file and returns its id; a path already registered keeps its id.
    pub fn add_file(&mut self, file: SourceFile) -> FileId {
        if let Some(id) = self.file_index.get(&file.path) {
            return *id;
        }
        let id = FileId(self.files.len() as u32);
        self.file_index.insert(file.path.clone(), id);
        self.files.push(file);
        id
    }

    /// The id of a registered path (relative to the workspace root).
    pub fn file_id(&self, path: &camino::Utf8Path) -> Option<FileId> {
        self.file_index.get(path).copied()
    }

    /// Services owning a table.
    pub fn owners_of<'a>(
        &'a self,
        table: &'a TableName,
    ) -> impl Iterator<Item = &'a TableOwner> + 'a {
        self.table_owners.iter().filter(move |o| &o.table == table)
    }

    /// Services a crate belongs to (a library shared by two services belongs to both).
    pub fn services_of_crate(&self, id: CrateId) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(move |s| s.crates.contains(&id))
    }
}
