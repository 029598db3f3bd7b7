//! ORM declarations: diesel `table!`, sea-orm entities, and sea-orm migrations written in
//! Rust (`Table::create().table(Post::Table)`).

use super::*;

impl Extractor<'_> {
    pub(super) fn sea_orm_schema_call(&mut self, call: &ExprMethodCall) {
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
        let range = self.expr_range(arg);
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
                let span = self.span(self.expr_range(second));
                self.migration_tables.push(TableRef {
                    table: TableName { schema: None, name },
                    access: Access::Create,
                    span,
                });
            }
        }
    }

    /// `Post::Table` -> `post` (or its iden rename), `Alias::new("t")` -> `t`, `"t"` -> `t`.
    pub(super) fn iden_name(&mut self, expr: &Expr) -> Option<String> {
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

    /// `diesel::table! { #[sql_name = "x"] schema.name (id) { ... } ... }`. Returns false when
    /// the body does not look like a diesel table declaration.
    pub(super) fn diesel_tables(&mut self, tokens: TokenStream) -> bool {
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

    pub(super) fn struct_attributes(&mut self, item: &syn::ItemStruct) {
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
}

/// The string a `Table => "name"` match arm yields, anywhere in the tokens.
pub(super) fn table_arm_literal(tokens: TokenStream) -> Option<String> {
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

pub(super) fn derives(attrs: &[Attribute], names: &[&str]) -> bool {
    attrs.iter().any(|a| {
        let syn::Meta::List(list) = &a.meta else {
            return false;
        };
        if !list.path.is_ident("derive") {
            return false;
        }
        // A derive list is paths and commas: a path's last segment is an identifier that no
        // `::` follows.
        let mut tokens = list.tokens.clone().into_iter().peekable();
        while let Some(token) = tokens.next() {
            if let TokenTree::Ident(ident) = token {
                let last_segment =
                    !matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                if last_segment && names.iter().any(|n| ident == n) {
                    return true;
                }
            }
        }
        false
    })
}

/// `#[sea_orm(iden = "x")]` or `#[iden = "x"]`.
pub(super) fn iden_rename(attrs: &[Attribute]) -> Option<String> {
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

pub(super) fn sql_name_attr(tokens: TokenStream) -> Option<String> {
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
pub(super) fn schema_statement_access(receiver: &Expr) -> Option<Access> {
    match access_kind_name(receiver) {
        "create" => Some(Access::Create),
        "alter" | "rename" | "index_create" | "index_drop" => Some(Access::Alter),
        "drop" => Some(Access::Drop),
        "truncate" => Some(Access::Write),
        _ => None,
    }
}

pub(super) fn access_kind_name(receiver: &Expr) -> &'static str {
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
