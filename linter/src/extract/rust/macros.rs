//! Macros: sqlx query macros, migration macros, and the bodies syn leaves opaque
//! (`tokio::select!`, `async_stream::stream!`, project macros), parsed as expressions or
//! statements, or scanned for string literals that read as SQL.

use super::*;

impl Extractor<'_> {
    pub(super) fn handle_macro(&mut self, mac: &Macro) {
        let segs = path_segments(&mac.path);
        let Some(name) = segs.last().cloned() else {
            return;
        };
        let sqlx_qualified = segs.first().is_some_and(|s| s == "sqlx");
        let range = self.macro_range(mac);
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
            _ => self.iso_list_in_macro(&name, mac, &range),
        }
        // Formatting and logging macros take messages, not SQL.
        let consider_arguments = !FORMATTING_MACROS.contains(&name.as_str());
        if !consider_arguments && self.flat_message_arguments(&mac.tokens) {
            return;
        }
        self.visit_opaque(mac.tokens.clone(), consider_arguments);
    }

    /// Arguments of a formatting or logging macro made of names, fields, operators and
    /// literals only (`"{} of {}", order.id, total`, `error = %e, "failed"`): without
    /// brackets, calls, blocks or `::` paths, their literals (a database URL in a log line)
    /// are all there is to read, and the body need not be parsed. Returns false, having
    /// read nothing, for any other body, or one naming an idempotency key field.
    fn flat_message_arguments(&mut self, tokens: &TokenStream) -> bool {
        let is_flat = tokens.clone().into_iter().all(|token| match &token {
            TokenTree::Group(_) => false,
            TokenTree::Punct(p) => p.as_char() != ':',
            TokenTree::Ident(ident) => ident != "idempotency_key" && ident != "idempotency_token",
            TokenTree::Literal(_) => true,
        });
        if !is_flat {
            return false;
        }
        for token in tokens.clone() {
            if let TokenTree::Literal(literal) = token {
                if let Lit::Str(lit) = Lit::new(literal) {
                    self.visit_lit_str(&lit);
                }
            }
        }
        true
    }

    pub(super) fn visit_exprs<'e>(&mut self, exprs: impl Iterator<Item = &'e Expr>) {
        for expr in exprs {
            self.visit_expr(expr);
        }
    }

    /// Macro bodies: comma-separated expressions, else statements, else `select!`-style arms
    /// split on `=>`, `,` and `;`, else string literals that read as SQL.
    pub(super) fn visit_opaque(&mut self, tokens: TokenStream, consider_arguments: bool) {
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

    pub(super) fn visit_stmts(&mut self, stmts: &[Stmt]) {
        self.scopes.push(HashMap::default());
        for stmt in stmts {
            self.visit_stmt(stmt);
        }
        self.scopes.pop();
    }

    pub(super) fn visit_arms(&mut self, tokens: TokenStream, consider_arguments: bool) {
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
    pub(super) fn scan_literals(&mut self, tokens: TokenStream) {
        for tree in tokens {
            match tree {
                TokenTree::Group(g) => self.scan_literals(g.stream()),
                TokenTree::Literal(lit) => self.scan_literal(&lit),
                _ => {}
            }
        }
    }

    pub(super) fn scan_literal(&mut self, lit: &proc_macro2::Literal) {
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
    pub(super) fn scan_raw_text(&mut self) {
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

    pub(super) fn query_file(&mut self, lit: &LitStr) {
        let range = self.range_of(lit.span());
        let Some(path) = self.crate_relative_dir(&lit.value()) else {
            return;
        };
        let content = match crate::read::read_text(self.cx.root.join(&path), FileClass::Sql) {
            Ok(content) => content,
            Err(error) => {
                let message = if error.is_missing() {
                    format!("cannot read query file {path}")
                } else {
                    format!("query file {path} {error}")
                };
                self.facts.notes.push(Note {
                    kind: NoteKind::of_read_error(&error),
                    file: self.file,
                    span: Some(self.span(range)),
                    message,
                });
                return;
            }
        };
        let resolved = Resolved::unmapped(content);
        self.emit_sql(&resolved, range, SqlOrigin::QueryFile);
    }
}
