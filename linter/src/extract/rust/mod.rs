//! Rust sources (syn): SQL handed to database crates, ORM tables, `migrate!` calls,
//! cross-crate uses, environment lookups and database URLs.
//!
//! One pass of a [`syn::visit::Visit`] over the file. Strings are resolved through literals,
//! local `let` bindings, file-level `const`/`static` items, `concat!`, `include_str!` and
//! `format!` templates ([`Resolved`] keeps a byte map back to the literal, so table spans point
//! at the table name inside the literal). Macro bodies syn leaves opaque (`tokio::select!`,
//! `async_stream::stream!`, project macros) are parsed as expressions or statements, and as a
//! last resort scanned for string literals that read as SQL. Test code is skipped.

mod text;
mod url;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use camino::{Utf8Path, Utf8PathBuf};
use proc_macro2::{Delimiter, Span as PmSpan, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Attribute, Expr, ExprLit, ExprMethodCall, Lit, LitStr, Macro, Stmt, Token, UseTree};

pub use text::{
    decode_literal, looks_like_prose, reads_as_sql, snake_case, starts_with_sql_keyword, Resolved,
};
pub use url::{is_database_url, parse_database_url};

use crate::extract::sql::{self, SqlAnalysis};
use crate::extract::{CrateContext, Facts};
use crate::model::{
    Access, Certainty, ConnectionOwner, ConnectionSource, CrateId, CrateUse, DbConnection,
    EnvLookup, FileId, MigrationSet, MigrationTool, Note, NoteKind, OrmKind, OrmTable, Span,
    SqlOrigin, SqlQuery, TableName, TableRef,
};
use crate::source::LineIndex;

/// Extracts facts from one Rust file of a crate. `is_test` files are skipped by the caller
/// unless configured otherwise; `#[cfg(test)]` items inside are skipped here.
///
/// Without the file's path, module paths are computed as if the file were the crate root and
/// `include_str!` is resolved against the crate's `src/`; prefer [`extract_file_at`].
pub fn extract_file(cx: &CrateContext<'_>, file: FileId, text: &str, out: &mut Facts) {
    let path = cx.krate.dir.join("src/lib.rs");
    extract_file_at(cx, file, &path, text, out);
}

/// Like [`extract_file`], with the file's path relative to the workspace root, used to compute
/// module paths (`src/db/schema.rs` -> `db::schema`) and to read `include_str!` files.
pub fn extract_file_at(
    cx: &CrateContext<'_>,
    file: FileId,
    path: &Utf8Path,
    text: &str,
    out: &mut Facts,
) {
    let mut extractor = Extractor::new(cx, file, path, text);
    let parse_text = neutralise_prelude(text);
    match syn::parse_file(&parse_text) {
        Ok(ast) => {
            extractor.prepass(&ast);
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

/// Replaces a BOM and a shebang line by spaces so syn's spans stay aligned with the text.
fn neutralise_prelude(text: &str) -> String {
    let mut owned = text.to_owned();
    if owned.starts_with('\u{feff}') {
        owned.replace_range(0..3, "   ");
    }
    if owned.starts_with("#!") && !owned[2..].trim_start().starts_with('[') {
        let end = owned.find('\n').unwrap_or(owned.len());
        owned.replace_range(0..end, &" ".repeat(end));
    }
    owned
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
    file: FileId,
    path: Utf8PathBuf,
    text: &'a str,
    index: LineIndex,
    facts: Facts,
    /// Module path of the file plus inline `mod` blocks being visited.
    module: Vec<String>,
    /// `Type` of the `impl` being visited, and the function stack.
    impl_type: Option<String>,
    functions: Vec<String>,
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
    /// Inside an `impl MigrationTrait` (sea-orm), and whether the file has one.
    migration_impl: bool,
    has_migration_impl: bool,
    migration_up: bool,
    migration_tables: Vec<TableRef>,
    depth: usize,
}

impl<'a> Extractor<'a> {
    fn new(cx: &'a CrateContext<'a>, file: FileId, path: &Utf8Path, text: &'a str) -> Self {
        // Code can only name crates it depends on; a path dependency the manifest reader did
        // not resolve is matched to a member by package name.
        let mut crate_names = HashMap::new();
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
        Self {
            cx,
            file,
            path: path.to_owned(),
            text,
            index: LineIndex::new(text),
            facts: Facts::default(),
            module: module_path_of(&cx.krate.dir, path),
            impl_type: None,
            functions: Vec::new(),
            scopes: vec![HashMap::new()],
            consts: HashMap::new(),
            const_order: Vec::new(),
            used_consts: HashSet::new(),
            crate_names,
            shadowed: HashSet::new(),
            local_shadowed: Vec::new(),
            idens: HashMap::new(),
            consumed: Vec::new(),
            handled_env_calls: HashSet::new(),
            handled_literals: HashSet::new(),
            migration_impl: false,
            has_migration_impl: false,
            migration_up: false,
            migration_tables: Vec::new(),
            depth: 0,
        }
    }

    fn span(&self, range: Range<usize>) -> Span {
        let end = range.end.min(self.text.len());
        self.index
            .span(self.file, self.text, range.start.min(end), end)
    }

    fn range_of(&self, span: PmSpan) -> Range<usize> {
        let range = span.byte_range();
        range.start.min(self.text.len())..range.end.min(self.text.len())
    }

    fn has_dependency(&self, names: &[&str]) -> bool {
        self.cx.krate.dependencies.iter().any(|d| {
            names.contains(&d.code_name.as_str())
                || names.contains(&d.package.replace('-', "_").as_str())
        })
    }

    fn function_path(&self) -> String {
        let Some(function) = self.functions.last() else {
            return String::new();
        };
        let mut parts = self.module.clone();
        if let Some(ty) = &self.impl_type {
            parts.push(ty.clone());
        }
        parts.push(function.clone());
        parts.join("::")
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
                self.ex.const_order.push(item.ident.to_string());
                self.ex
                    .consts
                    .insert(item.ident.to_string(), (*item.expr).clone());
            }
            fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
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
            }
        }
        // File-level modules and imports shadow crates of the same name in this file's paths.
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
    // String resolution.

    fn lookup(&mut self, name: &str) -> Option<Resolved> {
        for scope in self.scopes.iter().rev() {
            if let Some(binding) = scope.get(name) {
                return binding.clone();
            }
        }
        self.resolve_const(name)
    }

    fn resolve_const(&mut self, name: &str) -> Option<Resolved> {
        let value = self.consts.get(name)?.clone();
        self.used_consts.insert(name.to_owned());
        self.resolve(&value)
    }

    fn resolve_lit(&self, lit: &LitStr) -> Option<Resolved> {
        let range = self.range_of(lit.span());
        let token = self.text.get(range.clone())?;
        match decode_literal(token, range.start) {
            Some(resolved) if resolved.text == lit.value() => Some(resolved),
            _ => {
                // The literal's source could not be mapped (e.g. it came from a macro).
                let mut resolved = Resolved::unmapped(lit.value());
                resolved.from_file = false;
                Some(resolved)
            }
        }
    }

    /// Resolves an expression to the string it evaluates to, if known at compile time.
    fn resolve(&mut self, expr: &Expr) -> Option<Resolved> {
        if self.depth > 12 {
            return None;
        }
        self.depth += 1;
        let result = self.resolve_inner(expr);
        self.depth -= 1;
        result
    }

    fn resolve_inner(&mut self, expr: &Expr) -> Option<Resolved> {
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => self.resolve_lit(lit),
            Expr::Reference(r) => self.resolve(&r.expr),
            Expr::Paren(p) => self.resolve(&p.expr),
            Expr::Group(g) => self.resolve(&g.expr),
            Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
                Stmt::Expr(e, None) => self.resolve(e),
                _ => None,
            },
            Expr::Path(p) => {
                let last = p.path.segments.last()?.ident.to_string();
                if p.path.segments.len() > 1 && !self.consts.contains_key(&last) {
                    return None;
                }
                if p.path.segments.len() == 1 {
                    self.lookup(&last)
                } else {
                    self.resolve_const(&last)
                }
            }
            Expr::MethodCall(m) => {
                let method = m.method.to_string();
                match method.as_str() {
                    "to_string" | "to_owned" | "into" | "as_str" | "as_ref" | "clone" | "trim"
                    | "as_bytes"
                        if m.args.is_empty() =>
                    {
                        self.resolve(&m.receiver)
                    }
                    _ => None,
                }
            }
            Expr::Call(call) => {
                let Expr::Path(func) = call.func.as_ref() else {
                    return None;
                };
                let segs = path_segments(&func.path);
                let last = segs.last().map(String::as_str).unwrap_or("");
                let converts = matches!(
                    segs_tail(&segs, 2).as_slice(),
                    ["String", "from"] | ["Cow", "from"] | ["Cow", "Borrowed"] | ["Box", "from"]
                ) || matches!(last, "AssertSqlSafe");
                if converts && call.args.len() == 1 {
                    self.resolve(&call.args[0])
                } else {
                    None
                }
            }
            Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => {
                let mut left = self.resolve(&b.left)?;
                match self.resolve(&b.right) {
                    Some(right) => left.push(&right),
                    None => left.push_hole(Some(self.range_of(b.right.span()).start)),
                }
                Some(left)
            }
            Expr::Macro(m) => self.resolve_macro(&m.mac),
            _ => None,
        }
    }

    fn resolve_macro(&mut self, mac: &Macro) -> Option<Resolved> {
        let name = mac.path.segments.last()?.ident.to_string();
        match name.as_str() {
            "concat" => {
                let args = mac
                    .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                    .ok()?;
                let mut out = Resolved::empty();
                for arg in &args {
                    match arg {
                        Expr::Lit(ExprLit { lit, .. }) if !matches!(lit, Lit::Str(_)) => {
                            out.push(&Resolved::unmapped(lit_text(lit)?));
                            out.from_file = false;
                        }
                        _ => out.push(&self.resolve(arg)?),
                    }
                }
                Some(out)
            }
            "include_str" => {
                let arg = mac.parse_body::<LitStr>().ok()?;
                let relative = arg.value();
                let base = self.path.parent().unwrap_or(Utf8Path::new(""));
                let path = normalise_path(base, &relative)?;
                let content = std::fs::read_to_string(self.cx.root.join(&path)).ok()?;
                Some(Resolved::unmapped(content))
            }
            "format" | "formatdoc" | "indoc" | "sql" => {
                let args = mac
                    .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                    .ok()?;
                let mut iter = args.iter();
                let template = match iter.next()? {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) => lit.clone(),
                    _ => return None,
                };
                if name == "indoc" || name == "sql" {
                    return self.resolve_lit(&template);
                }
                let rest: Vec<&Expr> = iter.collect();
                self.resolve_format(&template, &rest)
            }
            _ => None,
        }
    }

    /// Resolves a `format!` template: holes whose argument is a known string are filled in,
    /// others stay as `{}` holes (certainty Template).
    fn resolve_format(&mut self, template: &LitStr, args: &[&Expr]) -> Option<Resolved> {
        let literal = self.resolve_lit(template)?;
        let mut named: HashMap<String, &Expr> = HashMap::new();
        let mut positional: Vec<&Expr> = Vec::new();
        for arg in args {
            match arg {
                Expr::Assign(assign) => {
                    if let Expr::Path(p) = assign.left.as_ref() {
                        if let Some(ident) = p.path.get_ident() {
                            named.insert(ident.to_string(), &assign.right);
                        }
                    }
                }
                other => positional.push(other),
            }
        }
        let text = literal.text.clone();
        let bytes = text.as_bytes();
        let mut out = Resolved::empty();
        out.certainty = literal.certainty;
        out.from_file = literal.from_file;
        let mut next_positional = 0;
        let mut i = 0;
        let copy = |out: &mut Resolved, range: Range<usize>| {
            out.text.push_str(&text[range.clone()]);
            out.map.extend_from_slice(&literal.map[range]);
        };
        while i < bytes.len() {
            match bytes[i] {
                b'{' if bytes.get(i + 1) == Some(&b'{') => {
                    copy(&mut out, i..i + 2);
                    i += 2;
                }
                b'}' if bytes.get(i + 1) == Some(&b'}') => {
                    copy(&mut out, i..i + 2);
                    i += 2;
                }
                b'{' => {
                    let Some(close) = text[i..].find('}').map(|p| i + p) else {
                        copy(&mut out, i..bytes.len());
                        break;
                    };
                    let spec = &text[i + 1..close];
                    let arg_name = spec.split(':').next().unwrap_or("").trim();
                    let arg: Option<Expr> = if arg_name.is_empty() {
                        let arg = positional.get(next_positional).map(|e| (*e).clone());
                        next_positional += 1;
                        arg
                    } else if let Ok(index) = arg_name.parse::<usize>() {
                        positional.get(index).map(|e| (*e).clone())
                    } else {
                        named.get(arg_name).map(|e| (*e).clone()).or_else(|| {
                            // Inline capture: `{table}`.
                            syn::parse_str::<Expr>(arg_name).ok()
                        })
                    };
                    let only_display = !spec.contains(':') || spec.ends_with(':');
                    let value = match (&arg, only_display) {
                        (Some(arg), true) => self
                            .resolve(arg)
                            .filter(|r| r.certainty == Certainty::Exact),
                        _ => None,
                    };
                    match value {
                        Some(value) => out.push(&value),
                        None => {
                            copy(&mut out, i..close + 1);
                            out.certainty = out.certainty.max(Certainty::Template);
                        }
                    }
                    i = close + 1;
                }
                _ => {
                    let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
                    copy(&mut out, i..i + ch_len);
                    i += ch_len;
                }
            }
        }
        Some(out)
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
        let analysis = sql::analyze(&resolved.text, self.cx.krate.dialect);
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
        });
    }

    fn is_consumed(&self, range: &Range<usize>) -> bool {
        self.consumed
            .iter()
            .any(|c| c.start <= range.start && range.end <= c.end)
    }

    /// A string argument of an unknown call: recorded when it clearly reads as SQL.
    fn consider_literal_sql(&mut self, expr: &Expr) {
        let range = self.range_of(expr.span());
        if self.is_consumed(&range) {
            return;
        }
        let plain = matches!(
            expr,
            Expr::Lit(_) | Expr::Path(_) | Expr::Macro(_) | Expr::Reference(_)
        );
        if !plain {
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

    /// SQL argument of a known database API.
    fn sql_argument(&mut self, expr: &Expr, origin: SqlOrigin, require_keyword: bool) -> bool {
        let range = self.range_of(expr.span());
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
        let range = self.range_of(expr.span());
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
        self.facts.migrations.push(MigrationSet {
            crate_id: self.cx.krate.id,
            dir,
            tool,
            run_at,
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

    fn emit_env(
        &mut self,
        name: String,
        default: Option<(String, Range<usize>)>,
        call: Range<usize>,
    ) {
        if let Some((value, range)) = &default {
            if let Some(target) = parse_database_url(value) {
                self.handled_literals.insert(range.start);
                self.facts.connections.push(DbConnection {
                    owner: ConnectionOwner::Crate(self.cx.krate.id),
                    target,
                    source: ConnectionSource::EnvDefault,
                    key: Some(name.clone()),
                    span: self.span(range.clone()),
                });
            }
        }
        self.facts.env_lookups.push(EnvLookup {
            crate_id: self.cx.krate.id,
            name,
            default: default.map(|(v, _)| v),
            span: self.span(call),
        });
    }

    fn emit_crate_use(&mut self, used_crate: CrateId, segments: &[String], range: Range<usize>) {
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
            let range = self.range_of(expr.span());
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

    fn finish(mut self, out: &mut Facts) {
        if self.has_migration_impl {
            let tables = std::mem::take(&mut self.migration_tables);
            self.facts.migrations.push(MigrationSet {
                crate_id: self.cx.krate.id,
                dir: self.cx.krate.dir.clone(),
                tool: MigrationTool::SeaOrm,
                run_at: None,
                tables,
            });
        }
        let facts = self.facts;
        out.queries.extend(facts.queries);
        out.migrations.extend(facts.migrations);
        out.orm_tables.extend(facts.orm_tables);
        out.crate_uses.extend(facts.crate_uses);
        out.connections.extend(facts.connections);
        out.deployments.extend(facts.deployments);
        out.env_lookups.extend(facts.env_lookups);
        out.notes.extend(facts.notes);
    }

    // -----------------------------------------------------------------------------------------
    // Calls.

    fn handle_call(&mut self, call: &syn::ExprCall) {
        let Expr::Path(func) = call.func.as_ref() else {
            return;
        };
        let segs = path_segments(&func.path);
        let Some(last) = segs.last().map(String::as_str) else {
            return;
        };
        let args: Vec<&Expr> = call.args.iter().collect();
        let qualified_sqlx = segs.first().is_some_and(|s| s == "sqlx");
        let tail = segs_tail(&segs, 2);
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
                    let range = self.range_of(call.span());
                    if let Some(dir) = self.runtime_dir(&dir) {
                        self.emit_migration(dir, MigrationTool::Sqlx, range);
                    }
                }
            }
            _ if is_env_call(&segs) && !args.is_empty() => {
                let range = self.range_of(call.span());
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
        if self.cx.root.join(&in_crate).is_dir() {
            return Some(in_crate);
        }
        let at_root = normalise_path(Utf8Path::new(""), relative)?;
        if self.cx.root.join(&at_root).is_dir() {
            Some(at_root)
        } else {
            Some(in_crate)
        }
    }

    fn handle_method_call(&mut self, call: &ExprMethodCall) {
        let method = call.method.to_string();
        // Env lookups with a default: `env::var("X").unwrap_or("..")`.
        if matches!(method.as_str(), "unwrap_or" | "unwrap_or_else") && call.args.len() == 1 {
            if let Some((env_call, name)) = self.env_call_in(&call.receiver) {
                let default = self.default_value(&call.args[0]);
                self.handled_env_calls.insert(env_call.start);
                let range = self.range_of(call.span());
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
            let origins = self.method_origins(&method);
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

    /// `PgConnectOptions::new().host("db").port(5433).database("orders")` (also MySQL options and
    /// `tokio_postgres::Config::new().host(..).dbname(..)`), seen at the outermost call.
    fn connect_options(&mut self, call: &ExprMethodCall) -> bool {
        let mut host = None;
        let mut port = None;
        let mut database = None;
        let mut link: &ExprMethodCall = call;
        let root = loop {
            let value = link.args.first().and_then(|a| match a {
                Expr::Lit(ExprLit { lit, .. }) => lit_text(lit),
                _ => None,
            });
            match link.method.to_string().as_str() {
                "host" => host = host.or(value),
                "port" => port = port.or(value),
                "database" | "dbname" => database = database.or(value),
                _ => {}
            }
            match link.receiver.as_ref() {
                Expr::MethodCall(m) => link = m,
                Expr::Call(c) => break Some(c),
                _ => break None,
            }
        };
        let Some(root) = root else { return false };
        let Expr::Path(func) = root.func.as_ref() else {
            return false;
        };
        let segs = path_segments(&func.path);
        let engine = match segs_tail(&segs, 2).as_slice() {
            ["PgConnectOptions", "new"] | ["Config", "new"] => crate::model::DbEngine::Postgres,
            ["MySqlConnectOptions", "new"] => crate::model::DbEngine::MySql,
            _ => return false,
        };
        let range = self.range_of(call.span());
        if self.handled_literals.contains(&range.start) || (host.is_none() && database.is_none()) {
            return false;
        }
        self.handled_literals.insert(range.start);
        let default_port = if engine == crate::model::DbEngine::Postgres {
            5432
        } else {
            3306
        };
        self.facts.connections.push(DbConnection {
            owner: ConnectionOwner::Crate(self.cx.krate.id),
            target: crate::model::DbTarget {
                engine,
                host: host.map(|h| h.to_lowercase()),
                port: port
                    .and_then(|p| p.parse().ok())
                    .filter(|p| *p != default_port),
                database,
            },
            source: ConnectionSource::RustLiteral,
            key: None,
            span: self.span(range),
        });
        true
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

    /// Finds `env::var("X")` under `.ok()`, `.map(..)` wrappers; returns its range and name.
    fn env_call_in(&mut self, expr: &Expr) -> Option<(Range<usize>, String)> {
        match expr {
            Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "ok" | "map" | "map_err" | "or_else"
                ) =>
            {
                self.env_call_in(&m.receiver)
            }
            Expr::Call(call) => {
                let Expr::Path(func) = call.func.as_ref() else {
                    return None;
                };
                let segs = path_segments(&func.path);
                if !is_env_call(&segs) || call.args.is_empty() {
                    return None;
                }
                let name = self.resolve(&call.args[0])?.text;
                Some((self.range_of(call.span()), name))
            }
            Expr::Macro(m) if m.mac.path.is_ident("option_env") => {
                let lit = m.mac.parse_body::<LitStr>().ok()?;
                Some((self.range_of(m.span()), lit.value()))
            }
            _ => None,
        }
    }

    /// The literal default of `unwrap_or("..")` / `unwrap_or_else(|_| "..".into())`.
    fn default_value(&mut self, expr: &Expr) -> Option<(String, Range<usize>)> {
        let body = match expr {
            Expr::Closure(closure) => closure.body.as_ref(),
            other => other,
        };
        let literal = innermost_literal(body)?;
        let value = self.resolve(body)?;
        Some((value.text, self.range_of(literal)))
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

    // -----------------------------------------------------------------------------------------
    // sea-orm migrations.

    fn sea_orm_schema_call(&mut self, call: &ExprMethodCall) {
        let Some(access) = schema_statement_access(&call.receiver) else {
            return;
        };
        let arg = &call.args[0];
        let arg = match arg {
            Expr::Tuple(t) => t.elems.last().unwrap_or(arg),
            other => other,
        };
        let Some(name) = self.iden_name(arg) else {
            return;
        };
        let range = self.range_of(arg.span());
        let span = self.span(range);
        self.migration_tables.push(TableRef {
            table: TableName { schema: None, name },
            access,
            span,
        });
        if let ("rename", Some(second)) =
            (access_kind_name(&call.receiver), call.args.iter().nth(1))
        {
            if let Some(name) = self.iden_name(second) {
                let span = self.span(self.range_of(second.span()));
                self.migration_tables.push(TableRef {
                    table: TableName { schema: None, name },
                    access: Access::Create,
                    span,
                });
            }
        }
    }

    /// `Post::Table` -> `post` (or its iden rename), `Alias::new("t")` -> `t`, `"t"` -> `t`.
    fn iden_name(&mut self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Path(p) if p.path.segments.len() >= 2 => {
                let segs = path_segments(&p.path);
                let enum_name = &segs[segs.len() - 2];
                Some(
                    self.idens
                        .get(enum_name)
                        .cloned()
                        .unwrap_or_else(|| snake_case(enum_name)),
                )
            }
            Expr::Call(call) if call.args.len() == 1 => self.resolve(&call.args[0]).map(|r| r.text),
            Expr::Reference(r) => self.iden_name(&r.expr),
            Expr::MethodCall(m) if m.method == "into_iden" || m.method == "into" => {
                self.iden_name(&m.receiver)
            }
            other => self.resolve(other).map(|r| r.text),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Macros.

    fn handle_macro(&mut self, mac: &Macro) {
        let segs = path_segments(&mac.path);
        let Some(name) = segs.last().cloned() else {
            return;
        };
        let sqlx_qualified = segs.first().is_some_and(|s| s == "sqlx");
        let range = self.range_of(mac.span());
        let args = || {
            mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                .ok()
        };
        match name.as_str() {
            "query" | "query_unchecked" | "query_scalar" | "query_scalar_unchecked" => {
                if let Some(args) = args() {
                    if let Some(first) = args.first() {
                        let is_literal = matches!(first, Expr::Lit(_) | Expr::Macro(_));
                        if sqlx_qualified || is_literal {
                            self.sql_argument(first, SqlOrigin::SqlxMacro, !sqlx_qualified);
                        }
                    }
                    self.visit_exprs(args.iter());
                    return;
                }
            }
            "query_as" | "query_as_unchecked" => {
                if let Some(args) = args() {
                    if let Some(sql) = args.iter().nth(1) {
                        self.sql_argument(sql, SqlOrigin::SqlxMacro, !sqlx_qualified);
                    }
                    self.visit_exprs(args.iter());
                    return;
                }
            }
            "query_file"
            | "query_file_unchecked"
            | "query_file_scalar"
            | "query_file_scalar_unchecked"
            | "query_file_as"
            | "query_file_as_unchecked" => {
                if let Some(args) = args() {
                    let position = usize::from(name.starts_with("query_file_as"));
                    if let Some(Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    })) = args.iter().nth(position)
                    {
                        self.query_file(lit);
                    }
                    self.visit_exprs(args.iter());
                    return;
                }
            }
            "migrate" if sqlx_qualified || segs.len() == 1 => {
                let dir = match mac.parse_body::<Option<LitStr>>() {
                    Ok(Some(lit)) => self.crate_relative_dir(&lit.value()),
                    Ok(None) => self.crate_relative_dir("migrations"),
                    Err(_) => None,
                };
                if let Some(dir) = dir {
                    self.emit_migration(dir, MigrationTool::Sqlx, range);
                }
                return;
            }
            "embed_migrations" => {
                let tool = if segs.iter().any(|s| s == "refinery") {
                    MigrationTool::Refinery
                } else if segs.iter().any(|s| s == "diesel_migrations") {
                    MigrationTool::Diesel
                } else if self.has_dependency(&["refinery"])
                    && !self.has_dependency(&["diesel_migrations"])
                {
                    MigrationTool::Refinery
                } else {
                    MigrationTool::Diesel
                };
                let dir = match mac.parse_body::<Option<LitStr>>() {
                    Ok(Some(lit)) => self.crate_relative_dir(&lit.value()),
                    Ok(None) => self.crate_relative_dir("migrations"),
                    Err(_) => None,
                };
                if let Some(dir) = dir {
                    self.emit_migration(dir, tool, range);
                }
                return;
            }
            "table"
                if (segs.len() == 1 || segs.first().is_some_and(|s| s == "diesel"))
                    && self.diesel_tables(mac.tokens.clone()) =>
            {
                return;
            }
            "env" => {
                if let Ok(lit) = mac.parse_body::<LitStr>() {
                    if !self.handled_env_calls.contains(&range.start) {
                        self.emit_env(lit.value(), None, range);
                    }
                }
                return;
            }
            "option_env" => {
                if let Ok(lit) = mac.parse_body::<LitStr>() {
                    if !self.handled_env_calls.contains(&range.start) {
                        self.emit_env(lit.value(), None, range);
                    }
                }
                return;
            }
            "include_str" | "concat" => return,
            "macro_rules" => {
                // Pattern variables (`$x`) keep rule bodies from parsing; scan their literals.
                self.scan_literals(mac.tokens.clone());
                return;
            }
            _ => {}
        }
        // Formatting and logging macros take messages, not SQL.
        let consider_arguments = !FORMATTING_MACROS.contains(&name.as_str());
        self.visit_opaque(mac.tokens.clone(), consider_arguments);
    }

    fn visit_exprs<'e>(&mut self, exprs: impl Iterator<Item = &'e Expr>) {
        for expr in exprs {
            self.visit_expr(expr);
        }
    }

    /// Macro bodies: comma-separated expressions, else statements, else `select!`-style arms
    /// split on `=>`, `,` and `;`, else string literals that read as SQL.
    fn visit_opaque(&mut self, tokens: TokenStream, consider_arguments: bool) {
        if tokens.is_empty() || self.depth > 12 {
            return;
        }
        self.depth += 1;
        if let Ok(exprs) = syn::parse::Parser::parse2(
            Punctuated::<Expr, Token![,]>::parse_terminated,
            tokens.clone(),
        ) {
            if consider_arguments {
                for expr in &exprs {
                    self.consider_literal_sql(expr);
                }
            }
            self.visit_exprs(exprs.iter());
        } else if let Ok(stmts) =
            syn::parse::Parser::parse2(syn::Block::parse_within, tokens.clone())
        {
            self.visit_stmts(&stmts);
        } else {
            self.visit_arms(tokens, consider_arguments);
        }
        self.depth -= 1;
    }

    fn visit_stmts(&mut self, stmts: &[Stmt]) {
        self.scopes.push(HashMap::new());
        for stmt in stmts {
            self.visit_stmt(stmt);
        }
        self.scopes.pop();
    }

    fn visit_arms(&mut self, tokens: TokenStream, consider_arguments: bool) {
        let mut segment: Vec<TokenTree> = Vec::new();
        let mut segments: Vec<Vec<TokenTree>> = Vec::new();
        let mut iter = tokens.into_iter().peekable();
        while let Some(tree) = iter.next() {
            if let TokenTree::Punct(p) = &tree {
                let ch = p.as_char();
                let is_arrow = ch == '='
                    && p.spacing() == proc_macro2::Spacing::Joint
                    && matches!(iter.peek(), Some(TokenTree::Punct(n)) if n.as_char() == '>');
                if is_arrow {
                    iter.next();
                    segments.push(std::mem::take(&mut segment));
                    continue;
                }
                if ch == ',' || ch == ';' {
                    segments.push(std::mem::take(&mut segment));
                    continue;
                }
            }
            segment.push(tree);
        }
        segments.push(segment);
        for segment in segments {
            if segment.is_empty() {
                continue;
            }
            let stream: TokenStream = segment.iter().cloned().collect();
            if let Ok(expr) = syn::parse2::<Expr>(stream.clone()) {
                if consider_arguments {
                    self.consider_literal_sql(&expr);
                }
                self.visit_expr(&expr);
                continue;
            }
            for tree in segment {
                match tree {
                    TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                        match syn::parse::Parser::parse2(syn::Block::parse_within, g.stream()) {
                            Ok(stmts) => self.visit_stmts(&stmts),
                            Err(_) => self.scan_literals(g.stream()),
                        }
                    }
                    TokenTree::Group(g) => self.scan_literals(g.stream()),
                    TokenTree::Literal(lit) => self.scan_literal(&lit),
                    _ => {}
                }
            }
        }
    }

    /// Last resort: string literals that read as SQL (origin Literal, certainty Unknown) and
    /// database URLs.
    fn scan_literals(&mut self, tokens: TokenStream) {
        for tree in tokens {
            match tree {
                TokenTree::Group(g) => self.scan_literals(g.stream()),
                TokenTree::Literal(lit) => self.scan_literal(&lit),
                _ => {}
            }
        }
    }

    fn scan_literal(&mut self, lit: &proc_macro2::Literal) {
        let Ok(lit) = syn::parse2::<LitStr>(TokenTree::Literal(lit.clone()).into()) else {
            return;
        };
        let range = self.range_of(lit.span());
        if self.is_consumed(&range) {
            return;
        }
        let Some(mut resolved) = self.resolve_lit(&lit) else {
            return;
        };
        self.url_literal(&resolved.text, range.clone());
        let analysis = sql::analyze(&resolved.text, self.cx.krate.dialect);
        if reads_as_sql(&resolved.text, &analysis) {
            resolved.certainty = Certainty::Unknown;
            self.emit_analysis(&resolved, &analysis, range, SqlOrigin::Literal);
        }
    }

    /// Files syn cannot parse and proc-macro2 cannot tokenize: plain `"..."` strings.
    fn scan_raw_text(&mut self) {
        let bytes = self.text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'"' {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let end = (i + 1).min(bytes.len());
                if let Some(token) = self.text.get(start..end) {
                    if let Some(mut resolved) = decode_literal(token, start) {
                        self.url_literal(&resolved.text, start..end);
                        let analysis = sql::analyze(&resolved.text, self.cx.krate.dialect);
                        if reads_as_sql(&resolved.text, &analysis) {
                            resolved.certainty = Certainty::Unknown;
                            self.emit_analysis(
                                &resolved,
                                &analysis,
                                start..end,
                                SqlOrigin::Literal,
                            );
                        }
                    }
                }
                i = end;
            } else {
                i += 1;
            }
        }
    }

    fn url_literal(&mut self, value: &str, range: Range<usize>) {
        if self.handled_literals.contains(&range.start) || value.contains('{') {
            return;
        }
        if let Some(target) = parse_database_url(value) {
            self.handled_literals.insert(range.start);
            self.facts.connections.push(DbConnection {
                owner: ConnectionOwner::Crate(self.cx.krate.id),
                target,
                source: ConnectionSource::RustLiteral,
                key: None,
                span: self.span(range),
            });
        }
    }

    fn query_file(&mut self, lit: &LitStr) {
        let range = self.range_of(lit.span());
        let Some(path) = self.crate_relative_dir(&lit.value()) else {
            return;
        };
        let Ok(content) = std::fs::read_to_string(self.cx.root.join(&path)) else {
            self.facts.notes.push(Note {
                kind: NoteKind::Unreadable,
                file: self.file,
                span: Some(self.span(range)),
                message: format!("cannot read query file {path}"),
            });
            return;
        };
        let resolved = Resolved::unmapped(content);
        self.emit_sql(&resolved, range, SqlOrigin::QueryFile);
    }

    /// `diesel::table! { #[sql_name = "x"] schema.name (id) { ... } ... }`. Returns false when
    /// the body does not look like a diesel table declaration.
    fn diesel_tables(&mut self, tokens: TokenStream) -> bool {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut found = false;
        let mut sql_name: Option<String> = None;
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    if let Some(TokenTree::Group(attr)) = trees.get(i + 1) {
                        sql_name = sql_name_attr(attr.stream()).or(sql_name);
                    }
                    i += 2;
                }
                TokenTree::Ident(ident) if ident == "use" => {
                    while i < trees.len()
                        && !matches!(&trees[i], TokenTree::Punct(p) if p.as_char() == ';')
                    {
                        i += 1;
                    }
                    i += 1;
                }
                TokenTree::Ident(first) => {
                    let mut name = first.clone();
                    let mut schema = None;
                    let mut next = i + 1;
                    if let (Some(TokenTree::Punct(dot)), Some(TokenTree::Ident(second))) =
                        (trees.get(i + 1), trees.get(i + 2))
                    {
                        if dot.as_char() == '.' {
                            schema = Some(first.to_string());
                            name = second.clone();
                            next = i + 3;
                        }
                    }
                    // Optional primary key group, then the column block.
                    if matches!(trees.get(next), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                    {
                        next += 1;
                    }
                    if !matches!(trees.get(next), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace)
                    {
                        return found;
                    }
                    let ident = name.to_string();
                    let ident = ident.strip_prefix("r#").unwrap_or(&ident).to_owned();
                    let table_name = sql_name.take().unwrap_or_else(|| ident.clone());
                    let schema =
                        schema.filter(|s| !matches!(s.as_str(), "public" | "dbo" | "main"));
                    let mut rust_path = self.module.clone();
                    rust_path.push(ident);
                    let span = self.span(self.range_of(name.span()));
                    self.facts.orm_tables.push(OrmTable {
                        crate_id: self.cx.krate.id,
                        kind: OrmKind::Diesel,
                        table: TableName {
                            schema,
                            name: table_name,
                        },
                        rust_path: rust_path.join("::"),
                        span,
                    });
                    found = true;
                    i = next + 1;
                }
                _ => return found,
            }
        }
        found
    }

    fn struct_attributes(&mut self, item: &syn::ItemStruct) {
        // sea-orm entity.
        if derives(&item.attrs, &["DeriveEntityModel"]) || item.ident == "Model" {
            for attr in item.attrs.iter().filter(|a| a.path().is_ident("sea_orm")) {
                let mut table = None;
                let mut schema = None;
                let _ = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("table_name") {
                        table = Some(meta.value()?.parse::<LitStr>()?);
                    } else if meta.path.is_ident("schema_name") {
                        schema = Some(meta.value()?.parse::<LitStr>()?.value());
                    } else if meta.input.peek(Token![=]) {
                        let _ = meta.value()?.parse::<Expr>()?;
                    }
                    Ok(())
                });
                if let Some(table) = table {
                    let span = self.span(self.range_of(table.span()));
                    let schema =
                        schema.filter(|s| !matches!(s.as_str(), "public" | "dbo" | "main"));
                    self.facts.orm_tables.push(OrmTable {
                        crate_id: self.cx.krate.id,
                        kind: OrmKind::SeaOrm,
                        table: TableName {
                            schema,
                            name: table.value(),
                        },
                        rust_path: self.module.join("::"),
                        span,
                    });
                }
            }
        }
        // `#[diesel(table_name = other::schema::orders)]` names another crate's table.
        for attr in item.attrs.iter().filter(|a| a.path().is_ident("diesel")) {
            let mut path: Option<syn::Path> = None;
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("table_name") {
                    path = Some(meta.value()?.parse::<syn::Path>()?);
                } else if meta.input.peek(Token![=]) {
                    let _ = meta.value()?.parse::<Expr>()?;
                } else if meta.input.peek(syn::token::Paren) {
                    let _ = meta.input.parse::<proc_macro2::Group>()?;
                }
                Ok(())
            });
            if let Some(path) = path {
                self.path_use(&path);
            }
        }
    }

    /// Settings read from the environment by derive attributes:
    /// `#[arg(env = "DATABASE_URL", default_value = "postgres://..")]` (clap, structopt) and
    /// `#[envconfig(from = "DATABASE_URL", default = "..")]`.
    fn field_attributes(&mut self, attrs: &[Attribute]) {
        for attr in attrs {
            let Some(kind) = attr.path().get_ident().map(|i| i.to_string()) else {
                continue;
            };
            if !matches!(kind.as_str(), "arg" | "clap" | "structopt" | "envconfig") {
                continue;
            }
            let mut env: Option<String> = None;
            let mut default: Option<LitStr> = None;
            let _ = attr.parse_nested_meta(|meta| {
                let key = meta
                    .path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                if meta.input.peek(Token![=]) {
                    let value = meta.value()?.parse::<Expr>()?;
                    let literal = match value {
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(s), ..
                        }) => Some(s),
                        _ => None,
                    };
                    match key.as_str() {
                        "env" | "from" => env = literal.map(|l| l.value()).or(env.take()),
                        "default_value" | "default" => default = literal.or(default.take()),
                        _ => {}
                    }
                } else if meta.input.peek(syn::token::Paren) {
                    let _ = meta.input.parse::<proc_macro2::Group>()?;
                }
                Ok(())
            });
            let range = self.range_of(attr.span());
            let default_value = default
                .as_ref()
                .map(|d| (d.value(), self.range_of(d.span())));
            match env {
                Some(name) => self.emit_env(name, default_value, range),
                None => {
                    if let Some((value, range)) = default_value {
                        self.url_literal(&value, range);
                    }
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Cross-crate uses.

    fn path_use(&mut self, path: &syn::Path) {
        let segs = path_segments(path);
        if segs.len() < 2 {
            return;
        }
        let shadowed = path.leading_colon.is_none()
            && (self.shadowed.contains(&segs[0])
                || self.local_shadowed.iter().any(|s| s.contains(&segs[0])));
        if shadowed {
            return;
        }
        let Some(id) = self.crate_names.get(&segs[0]).copied() else {
            return;
        };
        let range = self.range_of(path.span());
        self.emit_crate_use(id, &segs, range);
    }

    fn use_tree(
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
            UseTree::Name(n) => {
                let ident = n.ident.to_string();
                let crate_id = crate_id.or_else(|| {
                    prefix
                        .is_empty()
                        .then(|| self.crate_names.get(&ident).copied())
                        .flatten()
                });
                if let Some(id) = crate_id {
                    let start = start.unwrap_or_else(|| self.range_of(n.ident.span()).start);
                    let end = self.range_of(n.ident.span()).end;
                    let mut segs = prefix.clone();
                    if ident != "self" {
                        segs.push(ident);
                    }
                    self.emit_crate_use(id, &segs, start..end);
                }
            }
            UseTree::Rename(r) => {
                let ident = r.ident.to_string();
                let crate_id = crate_id.or_else(|| {
                    prefix
                        .is_empty()
                        .then(|| self.crate_names.get(&ident).copied())
                        .flatten()
                });
                if let Some(id) = crate_id {
                    let start = start.unwrap_or_else(|| self.range_of(r.ident.span()).start);
                    let end = self.range_of(r.ident.span()).end;
                    let mut segs = prefix.clone();
                    if ident != "self" {
                        segs.push(ident);
                    }
                    self.emit_crate_use(id, &segs, start..end);
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

fn lit_text(lit: &Lit) -> Option<String> {
    match lit {
        Lit::Str(s) => Some(s.value()),
        Lit::Int(i) => Some(i.base10_digits().to_owned()),
        Lit::Float(f) => Some(f.base10_digits().to_owned()),
        Lit::Bool(b) => Some(b.value.to_string()),
        Lit::Char(c) => Some(c.value().to_string()),
        _ => None,
    }
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

fn is_env_call(segs: &[String]) -> bool {
    let tail = segs_tail(segs, 2);
    matches!(
        tail.as_slice(),
        ["env", "var" | "var_os"] | ["dotenvy" | "dotenv", "var"]
    )
}

/// The span of the string literal inside `"x"`, `"x".into()`, `String::from("x")`, `{ "x" }`.
fn innermost_literal(expr: &Expr) -> Option<PmSpan> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.span()),
        Expr::MethodCall(m) => innermost_literal(&m.receiver),
        Expr::Call(c) if c.args.len() == 1 => innermost_literal(&c.args[0]),
        Expr::Reference(r) => innermost_literal(&r.expr),
        Expr::Paren(p) => innermost_literal(&p.expr),
        Expr::Block(b) => match b.block.stmts.last() {
            Some(Stmt::Expr(e, None)) => innermost_literal(e),
            _ => None,
        },
        _ => Some(expr.span()),
    }
}

/// A diesel table spelled in a path: `x::schema::orders::table`, `x::schema::orders::dsl::*`.
fn diesel_table_in_path(segments: &[String]) -> Option<TableName> {
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

fn collect_use_aliases(
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

/// The string a `Table => "name"` match arm yields, anywhere in the tokens.
fn table_arm_literal(tokens: TokenStream) -> Option<String> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(g) => {
                if let Some(found) = table_arm_literal(g.stream()) {
                    return Some(found);
                }
            }
            TokenTree::Ident(ident) if ident == "Table" => {
                let arrow = matches!(
                    (trees.get(i + 1), trees.get(i + 2)),
                    (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == '=' && b.as_char() == '>'
                );
                if let (true, Some(TokenTree::Literal(lit))) = (arrow, trees.get(i + 3)) {
                    if let Ok(lit) = syn::parse2::<LitStr>(TokenTree::Literal(lit.clone()).into()) {
                        return Some(lit.value());
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// Names bound by a `use` below its root (`use crate::x::orders;` binds `orders`).
fn collect_shadowing(tree: &UseTree, depth: usize, out: &mut HashSet<String>) {
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

fn derives(attrs: &[Attribute], names: &[&str]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            a.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                .map(|paths| {
                    paths.iter().any(|p| {
                        p.segments
                            .last()
                            .is_some_and(|s| names.iter().any(|n| s.ident == n))
                    })
                })
                .unwrap_or(false)
        })
}

/// `#[sea_orm(iden = "x")]` or `#[iden = "x"]`.
fn iden_rename(attrs: &[Attribute]) -> Option<String> {
    let mut found = None;
    for attr in attrs {
        if attr.path().is_ident("iden") {
            if let syn::Meta::NameValue(nv) = &attr.meta {
                if let Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) = &nv.value
                {
                    found = Some(s.value());
                }
            }
        } else if attr.path().is_ident("sea_orm") {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("iden") {
                    found = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if meta.input.peek(Token![=]) {
                    let _ = meta.value()?.parse::<Expr>()?;
                }
                Ok(())
            });
        }
    }
    found
}

fn sql_name_attr(tokens: TokenStream) -> Option<String> {
    let meta = syn::parse2::<syn::Meta>(tokens).ok()?;
    let syn::Meta::NameValue(nv) = meta else {
        return None;
    };
    if !nv.path.is_ident("sql_name") {
        return None;
    }
    match nv.value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// The root of a sea-orm schema statement chain: `Table::create()` -> Create, etc.
fn schema_statement_access(receiver: &Expr) -> Option<Access> {
    match access_kind_name(receiver) {
        "create" => Some(Access::Create),
        "alter" | "rename" | "index_create" | "index_drop" => Some(Access::Alter),
        "drop" => Some(Access::Drop),
        "truncate" => Some(Access::Write),
        _ => None,
    }
}

fn access_kind_name(receiver: &Expr) -> &'static str {
    let mut expr = receiver;
    loop {
        match expr {
            Expr::MethodCall(m) => expr = &m.receiver,
            Expr::Call(call) => {
                let Expr::Path(func) = call.func.as_ref() else {
                    return "";
                };
                let segs = path_segments(&func.path);
                return match segs_tail(&segs, 2).as_slice() {
                    ["Table", "create"] => "create",
                    ["Table", "alter"] => "alter",
                    ["Table", "drop"] => "drop",
                    ["Table", "rename"] => "rename",
                    ["Table", "truncate"] => "truncate",
                    ["Index", "create"] => "index_create",
                    ["Index", "drop"] => "index_drop",
                    _ => "",
                };
            }
            _ => return "",
        }
    }
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
                let text = list.tokens.to_string().replace(' ', "");
                return (text == "test" || text.starts_with("all(") && text.contains("test"))
                    && !text.contains("not(test)");
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
        visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_none() {
            return;
        }
        self.module.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.functions.push(item.sig.ident.to_string());
        self.scopes.push(HashMap::new());
        visit::visit_item_fn(self, item);
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
        visit::visit_item_impl(self, item);
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
        self.scopes.push(HashMap::new());
        visit::visit_impl_item_fn(self, item);
        self.scopes.pop();
        self.functions.pop();
        self.migration_up = was_up;
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if is_test_code(&item.attrs) {
            return;
        }
        self.functions.push(item.sig.ident.to_string());
        self.scopes.push(HashMap::new());
        visit::visit_trait_item_fn(self, item);
        self.scopes.pop();
        self.functions.pop();
    }

    fn visit_field(&mut self, field: &'ast syn::Field) {
        self.field_attributes(&field.attrs);
        visit::visit_field(self, field);
    }

    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        self.struct_attributes(item);
        visit::visit_item_struct(self, item);
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        self.scopes.push(HashMap::new());
        self.local_shadowed.push(HashSet::new());
        // Items are visible in the whole block, before and after their position.
        for stmt in &block.stmts {
            if let Stmt::Item(syn::Item::Use(u)) = stmt {
                if let Some(set) = self.local_shadowed.last_mut() {
                    collect_shadowing(&u.tree, 0, set);
                }
            }
        }
        visit::visit_block(self, block);
        self.local_shadowed.pop();
        self.scopes.pop();
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        visit::visit_local(self, local);
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
            self.resolve(expr)
        };
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name, value);
        }
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        match expr {
            Expr::Call(call) => self.handle_call(call),
            Expr::MethodCall(call) => self.handle_method_call(call),
            Expr::Binary(b) if matches!(b.op, syn::BinOp::AddAssign(_)) => {
                self.append_to_builder(&b.left, &b.right);
            }
            _ => {}
        }
        visit::visit_expr(self, expr);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        self.visit_path(&mac.path);
        self.handle_macro(mac);
    }

    fn visit_lit_str(&mut self, lit: &'ast LitStr) {
        let range = self.range_of(lit.span());
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
