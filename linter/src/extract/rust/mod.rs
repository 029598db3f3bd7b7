//! Rust sources (syn): SQL handed to database crates, ORM tables, `migrate!` calls,
//! cross-crate uses, environment lookups and database URLs.
//!
//! One pass of a [`syn::visit::Visit`] over the file. Strings are resolved through literals,
//! local `let` bindings, file-level `const`/`static` items, `concat!`, `include_str!` and
//! `format!` templates ([`Resolved`] keeps a byte map back to the literal, so table spans point
//! at the table name inside the literal). Macro bodies syn leaves opaque (`tokio::select!`,
//! `async_stream::stream!`, project macros) are parsed as expressions or statements, and as a
//! last resort scanned for string literals that read as SQL. Test code is skipped.

mod collections;
pub mod depth;
mod flow;
mod iso_lists;
mod macros;
mod orm;
mod ranges;
mod resolve;
mod settings;
mod text;
mod url;
mod uses;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::borrow::Cow;
use std::ops::Range;

use camino::{Utf8Path, Utf8PathBuf};
use proc_macro2::{Delimiter, Span as PmSpan, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Attribute, Expr, ExprLit, ExprMethodCall, Lit, LitStr, Macro, Stmt, Token, UseTree};

pub use flow::{is_client_plumbing, looks_like_event, STEP_METHODS};
pub use text::{
    decode_literal, literal_may_start_with_sql, looks_like_prose, reads_as_sql, snake_case,
    starts_with_sql_keyword, Resolved,
};
pub use url::{is_database_url, parse_database_url};

use crate::extract::sql::{self, SqlAnalysis};
use crate::extract::{CrateContext, Facts, ModuleDecls};
use crate::model::{
    Access, Certainty, ClientField, ConnectionOwner, ConnectionSource, CrateId, CrateUse,
    DbConnection, EnvLookup, FileId, MigrationSet, MigrationTool, Note, NoteKind, OrmKind,
    OrmTable, Span, SqlOrigin, SqlQuery, TableName, TableRef,
};
use crate::read::FileClass;
use crate::source::LineIndex;

use flow::{FlowState, TypeShape};
use orm::*;
use resolve::*;
use settings::*;
use uses::*;

/// Extracts facts from one Rust file of a crate. `is_test` files are skipped by the caller
/// unless configured otherwise; `#[cfg(test)]` items inside are skipped here. `path` is the
/// file's path relative to the workspace root, used to compute module paths
/// (`src/db/schema.rs` -> `db::schema`) and to read `include_str!` files.
pub fn extract_file(
    cx: &CrateContext<'_>,
    file: FileId,
    path: &Utf8Path,
    text: &str,
    out: &mut Facts,
) {
    let parse_text = neutralise_prelude(text);
    let mut extractor = Extractor::new(cx, file, path, text);
    extractor.parsed = &parse_text;
    run(extractor, file, &parse_text, out);
}

fn run(mut extractor: Extractor<'_>, file: FileId, parse_text: &str, out: &mut Facts) {
    // Tokenising is iterative; everything after it recurses as deep as the file nests.
    let tokens = parse_text.parse::<TokenStream>().ok();
    let max_nesting = crate::stack::max_nesting();
    let nesting = match &tokens {
        Some(_) if depth::cannot_exceed(parse_text, max_nesting) => 0,
        Some(tokens) => depth::nesting(tokens),
        None => 0,
    };
    if nesting > max_nesting {
        extractor.facts.notes.push(Note {
            kind: NoteKind::TooDeep,
            file,
            span: None,
            message: format!(
                "nested too deeply to parse safely ({nesting} units of blocks, parentheses and \
                 operator or method chains; the limit is {max_nesting}); skipped"
            ),
        });
        // What it declares is unknown, so the crate's other files are all kept.
        extractor.modules.opaque = true;
        drop(tokens);
        extractor.finish(out);
        return;
    }
    match parse_without_tests(parse_text, tokens) {
        Ok((ast, test_modules)) => {
            extractor.test_modules = test_modules;
            extractor.prepass(&ast);
            extractor.modules.opaque |= ast.items.iter().any(may_declare_modules);
            extractor.visit_file(&ast);
            extractor.unused_sql_consts();
        }
        Err(error) => {
            let range = error.span().byte_range();
            let span = (!range.is_empty() || range.start > 0).then(|| extractor.span(range));
            let message = match &span {
                Some(at) => format!(
                    "Rust syntax error at {}:{}: {error}; only string literals were scanned",
                    at.line, at.column
                ),
                None => format!("Rust syntax error: {error}; only string literals were scanned"),
            };
            extractor.facts.notes.push(Note {
                kind: NoteKind::RustSyntax,
                file,
                span,
                message,
            });
            extractor.modules.opaque = true;
            match parse_text.parse::<TokenStream>() {
                Ok(tokens) => extractor.scan_literals(tokens),
                Err(_) => extractor.scan_raw_text(),
            }
        }
    }
    extractor.finish(out);
    // Spans of this file are no longer needed; free proc-macro2's per-thread source map.
    proc_macro2::extra::invalidate_current_thread_spans();
}

/// Parses a file without its top-level test modules, functions and impls (`#[cfg(test)]`,
/// `#[test]`, `#[tokio::test]`), which the extractor skips anyway: unit tests are often a large
/// part of a file, and parsing them would be work thrown away. Returns the names of the test
/// modules left out (they still shadow crates of the same name). Anything unusual about an
/// item or the rest of the file falls back to parsing the whole text, so the result is what
/// `syn::parse_file` gives, less the test items.
pub(crate) fn parse_without_tests(
    text: &str,
    tokens: Option<TokenStream>,
) -> syn::Result<(syn::File, Vec<String>)> {
    let whole = || syn::parse_file(text).map(|file| (file, Vec::new()));
    let Some(tokens) = tokens else {
        return whole();
    };
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut keep = vec![true; trees.len()];
    let mut test_modules = Vec::new();
    let mut i = 0;
    while i < trees.len() {
        match test_item_end(&trees, i, &mut test_modules) {
            Some(end) => {
                keep[i..end].fill(false);
                i = end;
            }
            None => i += 1,
        }
    }
    let kept: TokenStream = trees
        .into_iter()
        .zip(keep)
        .filter_map(|(tree, keep)| keep.then_some(tree))
        .collect();
    match syn::parse2::<syn::File>(kept) {
        Ok(file) => Ok((file, test_modules)),
        Err(_) => whole(),
    }
}

/// When the outer attributes starting at `start` mark a test item that is a `mod` with a
/// body, a `fn` or an `impl`, the index just past that item (its closing brace).
fn test_item_end(
    trees: &[TokenTree],
    start: usize,
    test_modules: &mut Vec<String>,
) -> Option<usize> {
    let mut at = start;
    let mut is_test = false;
    // The run of outer attributes: `#` then a bracketed group.
    while let (Some(TokenTree::Punct(hash)), Some(TokenTree::Group(group))) =
        (trees.get(at), trees.get(at + 1))
    {
        if hash.as_char() != '#' || group.delimiter() != Delimiter::Bracket {
            break;
        }
        is_test |= is_test_attribute(group.stream());
        at += 2;
    }
    if !is_test {
        return None;
    }
    // Visibility and qualifiers, then the item's keyword.
    let mut module = None;
    loop {
        match trees.get(at)? {
            TokenTree::Ident(ident) if ident == "mod" => {
                let TokenTree::Ident(name) = trees.get(at + 1)? else {
                    return None;
                };
                module = Some(name.to_string());
                break;
            }
            TokenTree::Ident(ident) if ident == "fn" || ident == "impl" => break,
            TokenTree::Ident(ident)
                if [
                    "pub", "async", "unsafe", "const", "extern", "crate", "default",
                ]
                .iter()
                .any(|q| ident == q) => {}
            // `pub(crate)`, the ABI of `extern "C" fn`.
            TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis => {}
            TokenTree::Literal(_) => {}
            _ => return None,
        }
        at += 1;
    }
    // The item ends with its body, the first top-level braces; a `;` first (`mod tests;`,
    // a bodiless declaration) keeps it.
    loop {
        match trees.get(at)? {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => break,
            TokenTree::Punct(p) if p.as_char() == ';' => return None,
            _ => at += 1,
        }
    }
    test_modules.extend(module);
    Some(at + 1)
}

/// `test`, `tokio::test(..)`, `cfg(test)`, `cfg(all(test, ..))` (not `cfg(not(test))`): the
/// tokens inside an attribute's brackets, judged as [`is_test_code`] judges parsed ones.
fn is_test_attribute(tokens: TokenStream) -> bool {
    let mut tokens = tokens.into_iter();
    let mut last_segment = None;
    let mut next = tokens.next();
    while let Some(TokenTree::Ident(ident)) = &next {
        last_segment = Some(ident.clone());
        next = tokens.next();
        match &next {
            Some(TokenTree::Punct(p)) if p.as_char() == ':' => {
                tokens.next();
                next = tokens.next();
            }
            _ => break,
        }
    }
    let Some(last) = last_segment else {
        return false;
    };
    if last == "test" {
        return true;
    }
    match (&next, tokens.next()) {
        (Some(TokenTree::Group(list)), None)
            if last == "cfg" && list.delimiter() == Delimiter::Parenthesis =>
        {
            is_test_condition(&list.stream().to_string())
        }
        _ => false,
    }
}

/// A `cfg` condition that holds only in tests.
fn is_test_condition(condition: &str) -> bool {
    let text = condition.replace(' ', "");
    (text == "test" || text.starts_with("all(") && text.contains("test"))
        && !text.contains("not(test)")
}

/// Replaces a BOM and a shebang line by spaces so syn's spans stay aligned with the text.
/// Files without either are parsed as they are, without a copy.
pub(crate) fn neutralise_prelude(text: &str) -> Cow<'_, str> {
    let has_bom = text.starts_with('\u{feff}');
    let has_shebang = text.starts_with("#!") && !text[2..].trim_start().starts_with('[');
    if !has_bom && !has_shebang {
        return Cow::Borrowed(text);
    }
    let mut owned = text.to_owned();
    if has_bom {
        owned.replace_range(0..3, "   ");
    }
    if owned.starts_with("#!") && !owned[2..].trim_start().starts_with('[') {
        let end = owned.find('\n').unwrap_or(owned.len());
        owned.replace_range(0..end, &" ".repeat(end));
    }
    Cow::Owned(owned)
}

/// Item macros that cannot declare modules; any other item-level macro (`cfg_if!`, a
/// project's own) might.
const ITEM_MACROS_WITHOUT_MODULES: &[&str] = &[
    "macro_rules",
    "table",
    "joinable",
    "allow_tables_to_appear_in_same_query",
    "lazy_static",
    "thread_local",
    "include",
    "embed_migrations",
    "migrate",
    "sql_function",
    "define_sql_function",
    "tonic_include_proto",
    "include_proto",
    "uniffi_setup_scaffolding",
    "setup_scaffolding",
];

/// An item that may bring in `mod` declarations archlint does not see.
fn may_declare_modules(item: &syn::Item) -> bool {
    match item {
        syn::Item::Macro(m) => {
            !m.mac.path.segments.last().is_some_and(|s| {
                ITEM_MACROS_WITHOUT_MODULES.contains(&s.ident.to_string().as_str())
            })
        }
        _ => false,
    }
}

/// Module path of a file inside its crate: `src/db/schema.rs` -> `["db", "schema"]`.
pub fn module_path_of(crate_dir: &Utf8Path, file: &Utf8Path) -> Vec<String> {
    let Ok(relative) = file.strip_prefix(crate_dir.join("src")) else {
        return Vec::new();
    };
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_str().to_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "bin") {
        return Vec::new();
    }
    if let Some(last) = parts.pop() {
        let stem = last.strip_suffix(".rs").unwrap_or(&last);
        let crate_root = parts.is_empty() && matches!(stem, "lib" | "main");
        if stem != "mod" && !crate_root {
            parts.push(stem.to_owned());
        }
    }
    parts
}

/// Joins `relative` to `base` lexically (`.` and `..` resolved); `None` when it leaves the root.
pub fn normalise_path(base: &Utf8Path, relative: &str) -> Option<Utf8PathBuf> {
    let mut parts: Vec<String> = Vec::new();
    let joined = if relative.starts_with('/') {
        Utf8PathBuf::from(relative)
    } else {
        base.join(relative)
    };
    for component in joined.as_str().split(['/', '\\']) {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other.to_owned()),
        }
    }
    Some(Utf8PathBuf::from(parts.join("/")))
}

/// Database client families, to name the origin of SQL passed to a method.
const DB_METHODS: &[(SqlOrigin, &[&str], &[&str])] = &[
    (
        SqlOrigin::SqlxFunction,
        &["sqlx"],
        &[
            "execute",
            "execute_many",
            "fetch",
            "fetch_one",
            "fetch_all",
            "fetch_optional",
            "fetch_many",
        ],
    ),
    (
        SqlOrigin::TokioPostgres,
        &[
            "tokio_postgres",
            "deadpool_postgres",
            "bb8_postgres",
            "postgres",
            "r2d2_postgres",
        ],
        &[
            "query",
            "query_one",
            "query_opt",
            "query_raw",
            "query_typed",
            "query_typed_raw",
            "execute",
            "execute_raw",
            "prepare",
            "prepare_cached",
            "prepare_typed",
            "prepare_typed_cached",
            "batch_execute",
            "simple_query",
            "copy_in",
            "copy_out",
        ],
    ),
    (
        SqlOrigin::Rusqlite,
        &[
            "rusqlite",
            "r2d2_sqlite",
            "deadpool_sqlite",
            "tokio_rusqlite",
        ],
        &[
            "execute",
            "prepare",
            "prepare_cached",
            "query_row",
            "query_row_and_then",
            "execute_batch",
        ],
    ),
    (
        SqlOrigin::MySqlAsync,
        &["mysql_async", "mysql"],
        &[
            "query_drop",
            "query",
            "query_first",
            "query_map",
            "query_iter",
            "query_fold",
            "exec",
            "exec_drop",
            "exec_first",
            "exec_map",
            "exec_iter",
            "exec_fold",
            "exec_batch",
            "prep",
        ],
    ),
    (SqlOrigin::SeaOrmRaw, &["sea_orm"], &["execute_unprepared"]),
];

/// Macros whose string arguments are messages or format strings.
const FORMATTING_MACROS: &[&str] = &[
    "format",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "unreachable",
    "todo",
    "unimplemented",
    "format_args",
    "trace",
    "debug",
    "info",
    "warn",
    "error",
    "event",
    "span",
    "info_span",
    "debug_span",
    "trace_span",
    "warn_span",
    "error_span",
    "bail",
    "anyhow",
    "ensure",
    "eyre",
    "context",
    "log",
];

struct Extractor<'a> {
    cx: &'a CrateContext<'a>,
    /// The `mod` declarations of the file.
    modules: ModuleDecls,
    /// How many leading entries of `module` are the file's own module path (the rest are
    /// inline modules).
    module_base: usize,
    file: FileId,
    path: Utf8PathBuf,
    text: &'a str,
    /// The text syn parsed: `text` with a BOM or shebang blanked, byte for byte aligned.
    parsed: &'a str,
    index: LineIndex,
    facts: Facts,
    /// Module path of the file plus inline `mod` blocks being visited.
    module: Vec<String>,
    /// `Type` of the `impl` being visited, and the function stack.
    impl_type: Option<String>,
    functions: Vec<String>,
    /// The `const` or `static` whose value is being visited.
    holder_item: Option<String>,
    /// Names imported under another name (`use x::InventoryClient as Grpc`: `Grpc` ->
    /// `InventoryClient`).
    renamed: HashMap<String, String>,
    /// Local `let` bindings, resolved when bound (`None`: not a known string).
    scopes: Vec<HashMap<String, Option<Resolved>>>,
    /// File-level (and impl-level) `const`/`static` string values by name.
    consts: HashMap<String, Expr>,
    /// Item-level `const`/`static` names in file order, and those some code here resolved.
    const_order: Vec<String>,
    used_consts: HashSet<String>,
    /// Workspace crates by the name code uses for them (aliases included).
    crate_names: HashMap<String, CrateId>,
    /// Names a `use` imports from elsewhere (`use crate::orders;`): in expression paths they
    /// are not the crate of the same name.
    shadowed: HashSet<String>,
    /// Names this file imports for a broker client's message type (`use
    /// async_nats::jetstream::{Context, Message}` -> `Message`).
    broker_messages: HashSet<String>,
    /// Test modules left out of the parse ([`parse_without_tests`]).
    test_modules: Vec<String>,
    /// The same for `use` inside blocks, one set per open block.
    local_shadowed: Vec<HashSet<String>>,
    /// sea-orm iden enums: enum name -> table name.
    idens: HashMap<String, String>,
    /// Source ranges already attributed to a database call, so the generic literal pass does
    /// not report them again.
    consumed: Vec<Range<usize>>,
    /// Env lookups and URL literals already recorded with their default.
    handled_env_calls: HashSet<usize>,
    handled_literals: HashSet<usize>,
    /// Method calls (by node) that are inner links of a chain whose outer link was already
    /// examined as connect options: what they hold, the outer link saw.
    examined_chain_links: HashSet<usize>,
    /// Inside an `impl MigrationTrait` (sea-orm), and whether the file has one.
    migration_impl: bool,
    has_migration_impl: bool,
    migration_up: bool,
    migration_tables: Vec<TableRef>,
    depth: usize,
    /// Trait of the `impl` being visited.
    impl_trait: Option<String>,
    flow: FlowState,
    collections: collections::CollectionState,
}

impl<'a> Extractor<'a> {
    fn new(cx: &'a CrateContext<'a>, file: FileId, path: &Utf8Path, text: &'a str) -> Self {
        // Code can only name crates it depends on; a path dependency the manifest reader did
        // not resolve is matched to a member by package name.
        let mut crate_names = HashMap::default();
        for dep in &cx.krate.dependencies {
            let member = dep.member.or_else(|| {
                cx.crates
                    .iter()
                    .find(|c| c.name == dep.package)
                    .map(|c| c.id)
            });
            if let Some(member) = member.filter(|m| *m != cx.krate.id) {
                crate_names.insert(dep.code_name.clone(), member);
            }
        }
        for reserved in ["crate", "self", "super", "std", "core", "alloc", "Self"] {
            crate_names.remove(reserved);
        }
        let module = module_path_of(&cx.krate.dir, path);
        Self {
            cx,
            modules: ModuleDecls::default(),
            module_base: module.len(),
            file,
            path: path.to_owned(),
            text,
            parsed: text,
            index: LineIndex::new(text),
            facts: Facts::default(),
            module,
            impl_type: None,
            functions: Vec::new(),
            holder_item: None,
            renamed: HashMap::default(),
            scopes: vec![HashMap::default()],
            consts: HashMap::default(),
            const_order: Vec::new(),
            used_consts: HashSet::default(),
            crate_names,
            shadowed: HashSet::default(),
            broker_messages: HashSet::default(),
            test_modules: Vec::new(),
            local_shadowed: Vec::new(),
            idens: HashMap::default(),
            consumed: Vec::new(),
            handled_env_calls: HashSet::default(),
            handled_literals: HashSet::default(),
            examined_chain_links: HashSet::default(),
            migration_impl: false,
            has_migration_impl: false,
            migration_up: false,
            migration_tables: Vec::new(),
            depth: 0,
            impl_trait: None,
            flow: FlowState::default(),
            collections: collections::CollectionState::default(),
        }
    }

    fn span(&self, range: Range<usize>) -> Span {
        let end = range.end.min(self.text.len());
        self.index
            .span(self.file, self.text, range.start.min(end), end)
    }

    fn range_of(&self, span: PmSpan) -> Range<usize> {
        let start = self.start_of(span);
        start..self.end_of(span).max(start)
    }

    /// Byte offset where a token starts. proc-macro2's own `byte_range` counts characters
    /// from a memoised point on every call; going through the line table is much cheaper.
    fn start_of(&self, span: PmSpan) -> usize {
        let at = span.start();
        self.index.offset(self.parsed, at.line, at.column)
    }

    /// Byte offset where a token ends.
    fn end_of(&self, span: PmSpan) -> usize {
        let at = span.end();
        self.index.offset(self.parsed, at.line, at.column)
    }

    /// Source range of an expression, from its first token to its last.
    fn expr_range(&self, expr: &Expr) -> Range<usize> {
        self.bounds_range(ranges::expr_bounds(expr))
    }

    /// Byte range from the start of one token to the end of another.
    fn bounds_range(&self, (first, last): (PmSpan, PmSpan)) -> Range<usize> {
        let start = self.start_of(first);
        start..self.end_of(last).max(start)
    }

    fn call_range(&self, call: &syn::ExprCall) -> Range<usize> {
        self.bounds_range(ranges::call_bounds(call))
    }

    fn method_call_range(&self, call: &ExprMethodCall) -> Range<usize> {
        self.bounds_range(ranges::method_call_bounds(call))
    }

    fn macro_range(&self, mac: &Macro) -> Range<usize> {
        self.bounds_range(ranges::macro_bounds(mac))
    }

    fn has_dependency(&self, names: &[&str]) -> bool {
        self.cx.krate.dependencies.iter().any(|d| {
            names.contains(&d.code_name.as_str())
                || names.iter().any(|name| same_crate_name(&d.package, name))
        })
    }

    fn function_path(&self) -> String {
        let Some(function) = self.functions.last() else {
            return String::new();
        };
        let parts = self
            .module
            .iter()
            .chain(self.impl_type.as_ref())
            .chain(Some(function));
        let mut path = String::new();
        for (i, part) in parts.enumerate() {
            if i > 0 {
                path.push_str("::");
            }
            path.push_str(part);
        }
        path
    }

    // -----------------------------------------------------------------------------------------
    // Pre-pass: consts, idens, aliases, local modules.

    fn prepass(&mut self, file: &syn::File) {
        struct Pre<'p, 'a> {
            ex: &'p mut Extractor<'a>,
        }
        impl<'ast> Visit<'ast> for Pre<'_, '_> {
            fn visit_item(&mut self, item: &'ast syn::Item) {
                if !is_test_code(item_attrs(item)) {
                    visit::visit_item(self, item);
                }
            }
            fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
                self.ex.string_const(&item.ident, &item.expr);
                self.ex.const_order.push(item.ident.to_string());
                self.ex
                    .consts
                    .insert(item.ident.to_string(), (*item.expr).clone());
            }
            fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
                self.ex.string_const(&item.ident, &item.expr);
                self.ex.const_order.push(item.ident.to_string());
                self.ex
                    .consts
                    .insert(item.ident.to_string(), (*item.expr).clone());
            }
            fn visit_impl_item_const(&mut self, item: &'ast syn::ImplItemConst) {
                self.ex
                    .consts
                    .insert(item.ident.to_string(), item.expr.clone());
            }
            fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
                // Hand-written `impl Iden for Post { .. Self::Table => "posts" .. }`.
                let is_iden = item
                    .trait_
                    .as_ref()
                    .and_then(|(_, path, _)| path.segments.last())
                    .is_some_and(|s| s.ident == "Iden");
                if let (true, syn::Type::Path(ty)) = (is_iden, item.self_ty.as_ref()) {
                    if let Some(name) = ty.path.segments.last().map(|s| s.ident.to_string()) {
                        let tokens = quote::ToTokens::to_token_stream(item);
                        if let Some(table) = table_arm_literal(tokens) {
                            self.ex.idens.insert(name, table);
                        }
                    }
                }
                visit::visit_item_impl(self, item);
            }
            fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
                if derives(&item.attrs, &["DeriveIden", "Iden"]) {
                    let name = iden_rename(&item.attrs)
                        .or_else(|| {
                            item.variants
                                .iter()
                                .find(|v| v.ident == "Table")
                                .and_then(|v| iden_rename(&v.attrs))
                        })
                        .unwrap_or_else(|| snake_case(&item.ident.to_string()));
                    self.ex.idens.insert(item.ident.to_string(), name);
                }
                visit::visit_item_enum(self, item);
            }
            fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
                if let Some((_, alias)) = &item.rename {
                    if let Some(id) = self.ex.crate_names.get(&item.ident.to_string()).copied() {
                        self.ex.crate_names.insert(alias.to_string(), id);
                    }
                }
            }
            fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
                collect_use_aliases(&item.tree, None, &mut self.ex.crate_names);
                collect_renames(&item.tree, &mut self.ex.renamed);
                collect_broker_messages(&item.tree, None, &mut self.ex.broker_messages);
            }
        }
        // File-level modules and imports shadow crates of the same name in this file's paths.
        for module in &self.test_modules {
            self.crate_names.remove(module);
        }
        for item in &file.items {
            match item {
                syn::Item::Mod(m) => {
                    self.crate_names.remove(&m.ident.to_string());
                }
                syn::Item::Use(u) => collect_shadowing(&u.tree, 0, &mut self.shadowed),
                _ => {}
            }
        }
        Pre { ex: self }.visit_file(file);
    }

    // -----------------------------------------------------------------------------------------
    // Emitting facts.

    fn table_span(&self, resolved: &Resolved, range: Range<usize>, fallback: Range<usize>) -> Span {
        match resolved.source_range(range) {
            Some(source) if !resolved.from_file => self.span(source),
            _ => self.span(fallback),
        }
    }

    /// Records SQL handed to a database API (or a literal that reads as SQL).
    fn emit_sql(&mut self, resolved: &Resolved, expr_range: Range<usize>, origin: SqlOrigin) {
        let analysis = sql::analyze_known_sql(&resolved.text, self.cx.krate.dialect);
        self.emit_analysis(resolved, &analysis, expr_range, origin);
    }

    fn emit_analysis(
        &mut self,
        resolved: &Resolved,
        analysis: &SqlAnalysis,
        expr_range: Range<usize>,
        origin: SqlOrigin,
    ) {
        self.consumed.push(expr_range.clone());
        let certainty = resolved.certainty.max(analysis.certainty());
        let mut tables: Vec<TableRef> = analysis
            .tables
            .iter()
            .map(|t| TableRef {
                table: t.table.clone(),
                access: t.access,
                span: self.table_span(resolved, t.range.clone(), expr_range.clone()),
            })
            .collect();
        let mut origin = origin;
        if self.migration_up {
            // SQL run by a sea-orm migration: schema changes belong to the migration set.
            let (schema, data): (Vec<TableRef>, Vec<TableRef>) = tables
                .into_iter()
                .partition(|t| matches!(t.access, Access::Create | Access::Alter | Access::Drop));
            self.migration_tables.extend(schema);
            tables = data;
            origin = SqlOrigin::Migration;
            if tables.is_empty() {
                return;
            }
        }
        let span = self.span(expr_range);
        self.facts.queries.push(SqlQuery {
            crate_id: self.cx.krate.id,
            span,
            origin,
            certainty,
            tables,
            statements: analysis.statements.clone(),
            function: self.function_path(),
            effects: analysis.effects.clone(),
            inserted_columns: analysis.inserted_columns.clone(),
            state_columns: analysis.state_columns.clone(),
        });
    }

    fn is_consumed(&self, range: &Range<usize>) -> bool {
        self.consumed
            .iter()
            .any(|c| c.start <= range.start && range.end <= c.end)
    }

    /// A string argument of an unknown call: recorded when it clearly reads as SQL.
    fn consider_literal_sql(&mut self, expr: &Expr) {
        let plain = matches!(
            expr,
            Expr::Lit(_) | Expr::Path(_) | Expr::Macro(_) | Expr::Reference(_)
        );
        if !plain || !self.may_resolve_to_sql(expr) {
            return;
        }
        let range = self.expr_range(expr);
        if self.is_consumed(&range) {
            return;
        }
        let Some(resolved) = self.resolve(expr) else {
            return;
        };
        if !starts_with_sql_keyword(&resolved.text) {
            return;
        }
        let analysis = sql::analyze(&resolved.text, self.cx.krate.dialect);
        if reads_as_sql(&resolved.text, &analysis) {
            let origin = if resolved.from_file {
                SqlOrigin::IncludeStr
            } else {
                SqlOrigin::Literal
            };
            self.emit_analysis(&resolved, &analysis, range, origin);
        }
    }

    /// False only when `expr` surely does not resolve to text starting with a SQL keyword.
    /// Most call arguments are not SQL; this spares them the source range and resolution.
    fn may_resolve_to_sql(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => self
                .text
                .get(self.range_of(lit.span()))
                .is_none_or(literal_may_start_with_sql),
            Expr::Lit(_) => false,
            Expr::Reference(r) => self.may_resolve_to_sql(&r.expr),
            Expr::Path(p) => {
                let Some(last) = p.path.segments.last() else {
                    return false;
                };
                let name = last.ident.to_string();
                if p.path.segments.len() == 1 {
                    if let Some(binding) = self.scopes.iter().rev().find_map(|s| s.get(&name)) {
                        return binding
                            .as_ref()
                            .is_some_and(|r| starts_with_sql_keyword(&r.text));
                    }
                }
                self.consts.contains_key(&name)
            }
            Expr::Macro(m) => m.mac.path.segments.last().is_some_and(|s| {
                [
                    "concat",
                    "include_str",
                    "format",
                    "formatdoc",
                    "indoc",
                    "sql",
                ]
                .iter()
                .any(|name| s.ident == name)
            }),
            _ => true,
        }
    }

    /// SQL argument of a known database API.
    fn sql_argument(&mut self, expr: &Expr, origin: SqlOrigin, require_keyword: bool) -> bool {
        let range = self.expr_range(expr);
        if self.is_consumed(&range) {
            return true;
        }
        let Some(resolved) = self.resolve(expr) else {
            return false;
        };
        if require_keyword && !starts_with_sql_keyword(&resolved.text) {
            return false;
        }
        if require_keyword && looks_like_prose(&resolved.text) {
            // Only prose-looking text that parses as SQL with a table is kept.
            let analysis = sql::analyze(&resolved.text, self.cx.krate.dialect);
            if analysis.parse_error.is_some()
                || analysis.tables.is_empty()
                || resolved.text.split_whitespace().count() > 12
            {
                return false;
            }
        }
        let origin = if resolved.from_file && origin != SqlOrigin::QueryFile {
            SqlOrigin::IncludeStr
        } else {
            origin
        };
        self.emit_sql(&resolved, range, origin);
        true
    }

    /// `QueryBuilder::new("INSERT INTO t (a, b) ")`: the start of a statement completed at run
    /// time. It rarely parses on its own; tables found in the prefix are as sure as a
    /// template's.
    fn query_builder_prefix(&mut self, expr: &Expr) {
        let range = self.expr_range(expr);
        let Some(mut resolved) = self.resolve(expr) else {
            return;
        };
        if !starts_with_sql_keyword(&resolved.text) {
            return;
        }
        let mut analysis = sql::analyze(&resolved.text, self.cx.krate.dialect);
        if !analysis.tables.is_empty() {
            analysis.parse_error = None;
            analysis.scanned.clear();
        }
        resolved.certainty = resolved.certainty.max(Certainty::Template);
        self.emit_analysis(&resolved, &analysis, range, SqlOrigin::SqlxFunction);
    }

    fn emit_migration(&mut self, dir: Utf8PathBuf, tool: MigrationTool, run_at: Range<usize>) {
        let run_at = Some(self.span(run_at));
        // refinery's `embed_migrations!` at item level expands to `mod migrations`.
        let holder = self
            .holder_item
            .clone()
            .or_else(|| self.functions.last().cloned())
            .or_else(|| (tool == MigrationTool::Refinery).then(|| "migrations".to_string()));
        self.facts.migrations.push(MigrationSet {
            unique_keys: Vec::new(),
            primary_keys: Vec::new(),
            crate_id: self.cx.krate.id,
            dir,
            tool,
            run_at,
            holder,
            tables: Vec::new(),
        });
    }

    /// A migrations directory named relative to the crate directory.
    fn crate_relative_dir(&self, relative: &str) -> Option<Utf8PathBuf> {
        let relative = relative
            .trim_start_matches("$CARGO_MANIFEST_DIR/")
            .trim_start_matches("${CARGO_MANIFEST_DIR}/");
        normalise_path(&self.cx.krate.dir, relative)
    }

    /// SQL kept in a `const`/`static` that nothing in this file uses: it is used from another
    /// file (`queries::FIND_USER`), so it is recorded where it is defined.
    fn unused_sql_consts(&mut self) {
        let names: Vec<String> = self
            .const_order
            .iter()
            .filter(|n| !self.used_consts.contains(*n))
            .cloned()
            .collect();
        for name in names {
            let Some(expr) = self.consts.get(&name).cloned() else {
                continue;
            };
            let range = self.expr_range(&expr);
            if self.is_consumed(&range) {
                continue;
            }
            let Some(resolved) = self.resolve(&expr) else {
                continue;
            };
            if !starts_with_sql_keyword(&resolved.text) {
                continue;
            }
            let analysis = sql::analyze(&resolved.text, self.cx.krate.dialect);
            if reads_as_sql(&resolved.text, &analysis) {
                let origin = if resolved.from_file {
                    SqlOrigin::IncludeStr
                } else {
                    SqlOrigin::Literal
                };
                self.emit_analysis(&resolved, &analysis, range, origin);
            }
        }
    }

    /// Reads a file the code includes (`include_str!`), workspace-relative. A missing file is
    /// `None`; one the reader refuses is `None` and a note.
    fn read_included(&mut self, path: &Utf8Path) -> Option<String> {
        match crate::read::read_text(self.cx.root.join(path), FileClass::Sql) {
            Ok(text) => Some(text),
            Err(error) if error.is_missing() => None,
            Err(error) => {
                self.facts.notes.push(Note {
                    kind: NoteKind::of_read_error(&error),
                    file: self.file,
                    span: None,
                    message: format!("included file {path} {error}"),
                });
                None
            }
        }
    }

    fn finish(mut self, out: &mut Facts) {
        if self.has_migration_impl {
            let tables = std::mem::take(&mut self.migration_tables);
            self.facts.migrations.push(MigrationSet {
                unique_keys: Vec::new(),
                primary_keys: Vec::new(),
                crate_id: self.cx.krate.id,
                dir: self.cx.krate.dir.clone(),
                tool: MigrationTool::SeaOrm,
                run_at: None,
                holder: None,
                tables,
            });
        }
        self.facts.modules = Some(std::mem::take(&mut self.modules));
        out.append(self.facts);
    }

    /// `mod db;` (or `#[path = "x.rs"] mod db;`): where the compiler looks for the file, as
    /// `rustc` does: beside a `mod.rs`, `lib.rs` or `main.rs`, else in a folder named after
    /// the declaring file; inside inline modules, in their folders.
    fn declare_module(&mut self, item: &syn::ItemMod) {
        let Some(dir) = self.path.parent() else {
            return;
        };
        let stem = self.path.file_stem().unwrap_or_default();
        let inline = &self.module[self.module_base..];
        let nested = |mut base: Utf8PathBuf| {
            for module in inline {
                base.push(module);
            }
            base
        };
        // A crate root (`lib.rs`, `main.rs`, `src/bin/x.rs`, a `[[bin]] path`) looks beside
        // itself, any other file in its own folder; both are kept, which can only keep more.
        let mut bases = vec![nested(dir.to_owned())];
        if !matches!(stem, "mod" | "lib" | "main") {
            bases.push(nested(dir.join(stem)));
        }
        let path_attr = item.attrs.iter().find_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        });
        let name = item.ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        match path_attr {
            // `#[path]` is relative to the declaring file's folder (or to the inline
            // module's folder inside one).
            Some(relative) => {
                let from = if inline.is_empty() {
                    dir.to_owned()
                } else {
                    nested(dir.to_owned())
                };
                if let Some(path) = normalise_path(&from, &relative) {
                    self.modules.children.push(path);
                }
            }
            None => {
                for base in bases {
                    self.modules.children.push(base.join(format!("{name}.rs")));
                    self.modules.children.push(base.join(name).join("mod.rs"));
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Calls.

    fn handle_call(&mut self, call: &syn::ExprCall) {
        let Expr::Path(func) = call.func.as_ref() else {
            return;
        };
        let segs = path_segments(&func.path);
        self.call_sql(call, &segs);
        // The behaviour facts of the same call, visited next, reuse the split path.
        self.flow.call_path = Some((call as *const syn::ExprCall as usize, segs));
    }

    /// SQL, migrations and env lookups handed to a call of a path.
    fn call_sql(&mut self, call: &syn::ExprCall, segs: &[String]) {
        let Some(last) = segs.last().map(String::as_str) else {
            return;
        };
        let args: Vec<&Expr> = call.args.iter().collect();
        let qualified_sqlx = segs.first().is_some_and(|s| s == "sqlx");
        let tail = segs_tail(segs, 2);
        match (tail.as_slice(), last) {
            (
                _,
                "query" | "query_as" | "query_scalar" | "query_with" | "query_as_with"
                | "query_scalar_with" | "raw_sql",
            ) if !args.is_empty() => {
                self.sql_argument(args[0], SqlOrigin::SqlxFunction, !qualified_sqlx);
            }
            (["QueryBuilder", "new"], _) if !args.is_empty() => {
                self.query_builder_prefix(args[0]);
            }
            (_, "sql_query") if !args.is_empty() => {
                let qualified = segs.first().is_some_and(|s| s == "diesel");
                self.sql_argument(args[0], SqlOrigin::DieselSqlQuery, !qualified);
            }
            (["Statement", "from_string" | "from_sql_and_values"], _) if args.len() >= 2 => {
                self.sql_argument(args[1], SqlOrigin::SeaOrmRaw, false);
            }
            (["Migrator", "new"], _) if !args.is_empty() => {
                if let Some(dir) = self.path_argument(args[0]) {
                    let range = self.call_range(call);
                    if let Some(dir) = self.runtime_dir(&dir) {
                        self.emit_migration(dir, MigrationTool::Sqlx, range);
                    }
                }
            }
            _ if is_env_call(segs) && !args.is_empty() => {
                let range = self.call_range(call);
                if !self.handled_env_calls.contains(&range.start) {
                    if let Some(name) = self.resolve(args[0]).map(|r| r.text) {
                        self.emit_env(name, None, range);
                    }
                }
            }
            _ => {
                let conversion = matches!(
                    tail.as_slice(),
                    ["String", "from"] | ["Some" | "Ok" | "Box", _]
                ) || matches!(
                    last,
                    "Some" | "Ok" | "Err" | "new" | "from" | "AssertSqlSafe"
                );
                if !conversion {
                    for arg in args {
                        self.consider_literal_sql(arg);
                    }
                }
            }
        }
    }

    /// `Path::new("dir")`, `PathBuf::from("dir")`, `"dir"`.
    fn path_argument(&mut self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Call(call) if call.args.len() == 1 => self.path_argument(&call.args[0]),
            Expr::Reference(r) => self.path_argument(&r.expr),
            _ => self.resolve(expr).map(|r| r.text),
        }
    }

    /// A directory used at run time: relative to the crate directory when it exists there,
    /// else to the workspace root.
    fn runtime_dir(&self, relative: &str) -> Option<Utf8PathBuf> {
        let in_crate = self.crate_relative_dir(relative)?;
        if crate::read::is_dir(&self.cx.root.join(&in_crate)) {
            return Some(in_crate);
        }
        let at_root = normalise_path(Utf8Path::new(""), relative)?;
        if crate::read::is_dir(&self.cx.root.join(&at_root)) {
            Some(at_root)
        } else {
            Some(in_crate)
        }
    }

    fn handle_method_call(&mut self, call: &ExprMethodCall) {
        let method = call.method.to_string();
        self.method_call_sql(call, &method);
        // The behaviour facts of the same call, visited next, reuse the name.
        self.flow.method_name = Some((call as *const ExprMethodCall as usize, method));
    }

    /// SQL, env lookups and connection settings handed to a method call.
    fn method_call_sql(&mut self, call: &ExprMethodCall, method: &str) {
        // Env lookups with a default: `env::var("X").unwrap_or("..")`.
        if matches!(method, "unwrap_or" | "unwrap_or_else") && call.args.len() == 1 {
            if let Some((env_call, name)) = self.env_call_in(&call.receiver) {
                let default = self.default_value(&call.args[0]);
                self.handled_env_calls.insert(env_call.start);
                let range = self.method_call_range(call);
                self.emit_env(name, default, range);
                return;
            }
        }
        if method == "push_str" && call.args.len() == 1 {
            // Pieces of a string being built are judged when the whole string is used.
            self.append_to_builder(&call.receiver, &call.args[0]);
            return;
        }
        if self.connect_options(call) {
            return;
        }
        if self.migration_up && method == "table" && !call.args.is_empty() {
            self.sea_orm_schema_call(call);
        }
        if let Some(first) = call.args.first() {
            let origins = self.method_origins(method);
            if !origins.is_empty() {
                let origin = origins[0];
                if self.sql_argument(first, origin, true) {
                    return;
                }
            }
            for arg in &call.args {
                self.consider_literal_sql(arg);
            }
        }
    }

    /// Client families whose API has this method, the crate's own dependencies first.
    fn method_origins(&self, method: &str) -> Vec<SqlOrigin> {
        let mut known: Vec<SqlOrigin> = Vec::new();
        let mut fallback: Vec<SqlOrigin> = Vec::new();
        for (origin, crates, methods) in DB_METHODS {
            if methods.contains(&method) {
                if self.has_dependency(crates) {
                    known.push(*origin);
                } else {
                    fallback.push(*origin);
                }
            }
        }
        known.extend(fallback);
        known
    }

    fn append_to_builder(&mut self, receiver: &Expr, piece: &Expr) {
        let Expr::Path(p) = receiver else { return };
        let Some(name) = p.path.get_ident().map(|i| i.to_string()) else {
            return;
        };
        let addition = self.resolve(piece);
        let start = self.range_of(piece.span()).start;
        for scope in self.scopes.iter_mut().rev() {
            if let Some(binding) = scope.get_mut(&name) {
                if let Some(built) = binding {
                    match &addition {
                        Some(a) => built.push(a),
                        None => built.push_hole(Some(start)),
                    }
                }
                return;
            }
        }
    }
}

/// ASCII case-insensitive substring test, without allocating.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `package` spelled with `_` for `-` equals `name`, compared without allocating.
fn same_crate_name(package: &str, name: &str) -> bool {
    package.len() == name.len()
        && package
            .bytes()
            .zip(name.bytes())
            .all(|(p, n)| if p == b'-' { n == b'_' } else { p == n })
}

fn path_segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

fn segs_tail(segs: &[String], n: usize) -> Vec<&str> {
    segs[segs.len().saturating_sub(n)..]
        .iter()
        .map(String::as_str)
        .collect()
}

fn item_attrs(item: &syn::Item) -> &[Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// `#[cfg(test)]`, `#[test]`, `#[tokio::test]`, `#[sqlx::test]`, ... mark test-only code.
fn is_test_code(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        if path.segments.last().is_some_and(|s| s.ident == "test") {
            return true;
        }
        if path.is_ident("cfg") {
            if let syn::Meta::List(list) = &attr.meta {
                return is_test_condition(&list.tokens.to_string());
            }
        }
        false
    })
}

impl<'ast> Visit<'ast> for Extractor<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if is_test_code(item_attrs(item)) {
            return;
        }
        if let syn::Item::Macro(m) = item {
            if m.mac.path.is_ident("macro_rules") {
                self.collection_macro(&m.mac, m.ident.as_ref());
            }
        }
        visit::visit_item(self, item);
    }

    fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
        let outer = self.holder_item.replace(item.ident.to_string());
        visit::visit_item_const(self, item);
        self.holder_item = outer;
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let outer = self.holder_item.replace(item.ident.to_string());
        visit::visit_item_static(self, item);
        self.holder_item = outer;
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_none() {
            self.declare_module(item);
            return;
        }
        self.module.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.functions.push(item.sig.ident.to_string());
        self.scopes.push(HashMap::default());
        let range = self.fn_range(&item.sig, &item.block);
        self.enter_function(&item.sig, &item.attrs, &item.block, range, None);
        self.collections_enter_function(&item.sig);
        visit::visit_item_fn(self, item);
        self.collections_exit_function();
        self.exit_function(&item.sig, &item.block);
        self.scopes.pop();
        self.functions.pop();
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let previous = self.impl_type.take();
        if let syn::Type::Path(tp) = item.self_ty.as_ref() {
            self.impl_type = tp.path.segments.last().map(|s| s.ident.to_string());
        }
        let is_migration = item
            .trait_
            .as_ref()
            .and_then(|(_, path, _)| path.segments.last())
            .is_some_and(|s| s.ident == "MigrationTrait");
        let was_migration = self.migration_impl;
        self.migration_impl = is_migration;
        self.has_migration_impl |= is_migration;
        let previous_trait = self.impl_trait.take();
        self.impl_trait = item
            .trait_
            .as_ref()
            .and_then(|(_, path, _)| path.segments.last())
            .map(|s| s.ident.to_string());
        visit::visit_item_impl(self, item);
        self.impl_trait = previous_trait;
        self.migration_impl = was_migration;
        self.impl_type = previous;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if is_test_code(&item.attrs) {
            return;
        }
        let in_migration = self.migration_impl && item.sig.ident == "up";
        if self.migration_impl && item.sig.ident == "down" {
            // Reverting a migration is not ownership.
            return;
        }
        let was_up = self.migration_up;
        self.migration_up |= in_migration;
        self.functions.push(item.sig.ident.to_string());
        self.scopes.push(HashMap::default());
        let range = self.fn_range(&item.sig, &item.block);
        let impl_trait = self.impl_trait.clone();
        self.enter_function(&item.sig, &item.attrs, &item.block, range, impl_trait);
        self.collections_enter_function(&item.sig);
        visit::visit_impl_item_fn(self, item);
        self.collections_exit_function();
        self.exit_function(&item.sig, &item.block);
        self.scopes.pop();
        self.functions.pop();
        self.migration_up = was_up;
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if is_test_code(&item.attrs) {
            return;
        }
        self.functions.push(item.sig.ident.to_string());
        self.scopes.push(HashMap::default());
        if let Some(block) = &item.default {
            let range = self.fn_range(&item.sig, block);
            self.enter_function(&item.sig, &item.attrs, block, range, None);
        }
        visit::visit_trait_item_fn(self, item);
        if let Some(block) = &item.default {
            self.exit_function(&item.sig, block);
        }
        self.scopes.pop();
        self.functions.pop();
    }

    fn visit_field(&mut self, field: &'ast syn::Field) {
        self.field_attributes(&field.attrs);
        self.collection_setting_field(field);
        visit::visit_field(self, field);
    }

    fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
        self.flow_type(&item.ident, &item.attrs, TypeShape::Enum(item));
        self.iso_list_in_enum(item);
        self.collection_enum_strings(item);
        visit::visit_item_enum(self, item);
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.collection_variant_arm(arm);
        if !self.flow_arm(arm) {
            visit::visit_arm(self, arm);
        }
    }

    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        self.flow_type(&item.ident, &item.attrs, TypeShape::Struct(item));
        self.flow_client_fields(item);
        self.struct_attributes(item);
        visit::visit_item_struct(self, item);
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        self.scopes.push(HashMap::default());
        self.local_shadowed.push(HashSet::default());
        // Items are visible in the whole block, before and after their position.
        for stmt in &block.stmts {
            if let Stmt::Item(syn::Item::Use(u)) = stmt {
                if let Some(set) = self.local_shadowed.last_mut() {
                    collect_shadowing(&u.tree, 0, set);
                }
            }
        }
        self.flow_block(block);
        visit::visit_block(self, block);
        self.local_shadowed.pop();
        self.scopes.pop();
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if !self.flow_local(local) {
            visit::visit_local(self, local);
        }
        let name = match &local.pat {
            syn::Pat::Ident(p) => Some(p.ident.to_string()),
            syn::Pat::Type(t) => match t.pat.as_ref() {
                syn::Pat::Ident(p) => Some(p.ident.to_string()),
                _ => None,
            },
            _ => None,
        };
        let (Some(name), Some(init)) = (name, &local.init) else {
            return;
        };
        let expr = init.expr.as_ref();
        self.flow_binding(&name, expr);
        let ty = match &local.pat {
            syn::Pat::Type(t) => Some(t.ty.as_ref()),
            _ => None,
        };
        self.flow_active_model(&name, ty, expr);
        self.flow_orm_statement(&name, expr);
        self.flow_mongo_collection(&name, expr);
        self.collection_local(&name, expr);
        let is_builder = match expr {
            Expr::Call(call) => match call.func.as_ref() {
                Expr::Path(p) => matches!(
                    segs_tail(&path_segments(&p.path), 2).as_slice(),
                    ["String", "new" | "with_capacity"]
                ),
                _ => false,
            },
            _ => false,
        };
        // Resolved now, before the name is bound: `let sql = sql.trim();` reads the old `sql`.
        let value = if is_builder {
            Some(Resolved::empty())
        } else {
            self.resolve(expr).or_else(|| {
                // `let url = base.join("/x")?;`: the URL's path, for the request using it.
                let (path, _) = self.joined_url(expr)?;
                Some(Resolved::unmapped(path))
            })
        };
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name, value);
        }
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        match expr {
            Expr::Call(call) => {
                self.handle_call(call);
                self.collection_call(call);
            }
            Expr::MethodCall(call) => {
                self.handle_method_call(call);
                self.collection_method_call(call, &call.method.to_string());
            }
            Expr::Struct(literal) => self.collection_struct_fields(literal),
            Expr::Binary(b) if matches!(b.op, syn::BinOp::AddAssign(_)) => {
                self.append_to_builder(&b.left, &b.right);
            }
            Expr::Array(array) => self.iso_list_in_array(array),
            Expr::Match(m) => self.iso_list_in_match(m),
            _ => {}
        }
        if !self.flow_expr(expr) {
            visit::visit_expr(self, expr);
        }
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        self.visit_path(&mac.path);
        self.handle_macro(mac);
        self.collection_macro(mac, None);
    }

    fn visit_lit_str(&mut self, lit: &'ast LitStr) {
        let range = self.range_of(lit.span());
        // Every database URL scheme has a `:`. A plain literal whose source has none, and no
        // escape that could spell one, is not a URL; its value need not be decoded.
        if let Some(token) = self.text.get(range.clone()) {
            if self.in_function()
                && token.len() < 48
                && contains_ignore_case(token, "idempotency")
                && !self.flow.header_writes.contains(&range.start)
            {
                self.idempotency_literal(range.clone());
            }
            let plain_literal =
                (token.starts_with('"') || token.starts_with('r')) && token.ends_with(['"', '#']);
            if plain_literal && !token.contains([':', '\\']) {
                return;
            }
            // Without escapes, the value is the text between the quotes.
            if let Some(body) = text::unescaped_literal_body(token) {
                self.url_literal(body, range);
                return;
            }
        }
        let value = lit.value();
        self.url_literal(&value, range);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        self.use_tree(&item.tree, &mut prefix, None, None);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.path_use(path);
        visit::visit_path(self, path);
    }

    fn visit_attribute(&mut self, _attr: &'ast Attribute) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths_follow_the_file_layout() {
        let dir = Utf8Path::new("services/orders");
        let m = |p: &str| module_path_of(dir, Utf8Path::new(p)).join("::");
        assert_eq!(m("services/orders/src/lib.rs"), "");
        assert_eq!(m("services/orders/src/main.rs"), "");
        assert_eq!(m("services/orders/src/schema.rs"), "schema");
        assert_eq!(m("services/orders/src/db/schema.rs"), "db::schema");
        assert_eq!(m("services/orders/src/db/mod.rs"), "db");
        assert_eq!(m("services/orders/src/bin/tool.rs"), "");
        assert_eq!(m("services/orders/build.rs"), "");
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(
            normalise_path(Utf8Path::new("services/orders"), "./migrations").unwrap(),
            "services/orders/migrations"
        );
        assert_eq!(
            normalise_path(Utf8Path::new("services/orders"), "../shared/migrations").unwrap(),
            "services/shared/migrations"
        );
        assert_eq!(normalise_path(Utf8Path::new(""), "../../x"), None);
    }

    #[test]
    fn test_items_are_left_out_of_the_parse() {
        let text = r#"
            use sqlx::PgPool;
            #[cfg(test)]
            use std::collections::HashMap;
            /// Kept: not test code.
            #[cfg(not(test))]
            pub(crate) fn live() {}
            #[cfg(test)]
            mod helpers;
            #[cfg(all(test, feature = "db"))]
            #[allow(dead_code)]
            pub mod inventory { fn f() { let x = 1; } }
            #[tokio::test(flavor = "multi_thread")]
            async fn runs() { assert!(true); }
            #[test]
            const fn also_runs() {}
            #[cfg(test)]
            impl Live { fn make() -> Self { Self } }
            #[cfg(test)]
            mod tests { #[test] fn t() {} }
            pub struct Live;
        "#;
        let (file, modules) =
            parse_without_tests(text, text.parse().ok()).expect("the test file parses");
        let kept: Vec<String> = file
            .items
            .iter()
            .map(|item| quote::ToTokens::to_token_stream(item).to_string())
            .collect();
        assert_eq!(kept.len(), 5, "{kept:#?}");
        assert!(kept[1].contains("HashMap"));
        assert!(kept[2].contains("live"));
        assert!(kept[3].contains("mod helpers"));
        assert!(kept[4].contains("struct Live"));
        assert_eq!(modules, ["inventory", "tests"]);
    }

    #[test]
    fn unusual_files_are_parsed_whole() {
        // A syntax error outside the tests: neither form parses, and the error is the whole
        // file's.
        let broken = "#[cfg(test)] mod tests { fn t() {} } fn f( {}";
        assert!(parse_without_tests(broken, broken.parse().ok()).is_err());
        let shebang_free = "#![allow(unused)]\n#[cfg(test)]\nmod tests {}\nfn main() {}";
        let (file, modules) =
            parse_without_tests(shebang_free, shebang_free.parse().ok()).expect("parses");
        assert_eq!(file.attrs.len(), 1);
        assert_eq!(file.items.len(), 1);
        assert_eq!(modules, ["tests"]);
    }

    #[test]
    fn diesel_tables_in_paths() {
        let segs = |p: &str| p.split("::").map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            diesel_table_in_path(&segs("other::schema::orders::table")).map(|t| t.name),
            Some("orders".to_owned())
        );
        assert_eq!(
            diesel_table_in_path(&segs("other::schema::orders::dsl::*")).map(|t| t.name),
            Some("orders".to_owned())
        );
        assert_eq!(diesel_table_in_path(&segs("other::models::Order")), None);
    }
}
