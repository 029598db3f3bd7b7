//! String resolution: literals, local bindings, consts, `concat!`, `include_str!` and
//! `format!` templates, each byte mapped back to the literal it came from.

use super::*;

impl Extractor<'_> {
    pub(super) fn lookup(&mut self, name: &str) -> Option<Resolved> {
        for scope in self.scopes.iter().rev() {
            if let Some(binding) = scope.get(name) {
                return binding.clone();
            }
        }
        self.resolve_const(name)
    }

    pub(super) fn resolve_const(&mut self, name: &str) -> Option<Resolved> {
        let value = self.consts.get(name)?.clone();
        self.used_consts.insert(name.to_owned());
        self.resolve(&value)
    }

    pub(super) fn resolve_lit(&self, lit: &LitStr) -> Option<Resolved> {
        let range = self.range_of(lit.span());
        let token = self.text.get(range.clone())?;
        // The source at the span is this literal's own token when it spells the same: without
        // escapes its text is then the decoded text, and unescaping it again is not needed.
        let own_token = || !token.contains('\\') && prints_as(&lit.token(), token);
        match decode_literal(token, range.start) {
            Some(resolved) if own_token() || resolved.text == lit.value() => Some(resolved),
            _ => {
                // The literal's source could not be mapped (e.g. it came from a macro).
                let mut resolved = Resolved::unmapped(lit.value());
                resolved.from_file = false;
                Some(resolved)
            }
        }
    }

    /// Resolves an expression to the string it evaluates to, if known at compile time.
    pub(super) fn resolve(&mut self, expr: &Expr) -> Option<Resolved> {
        if self.depth > 12 {
            return None;
        }
        self.depth += 1;
        let result = self.resolve_inner(expr);
        self.depth -= 1;
        result
    }

    pub(super) fn resolve_inner(&mut self, expr: &Expr) -> Option<Resolved> {
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
            // `host.to_string() + "/v1/items/" + &id`: what is not known becomes a hole, as long
            // as one side is known.
            Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => {
                let left = self.resolve(&b.left);
                let right = self.resolve(&b.right);
                if left.is_none() && right.is_none() {
                    return None;
                }
                let mut out = match left {
                    Some(left) => left,
                    None => {
                        let mut hole = Resolved::empty();
                        hole.push_hole(Some(self.expr_range(&b.left).start));
                        hole
                    }
                };
                match right {
                    Some(right) => out.push(&right),
                    None => out.push_hole(Some(self.expr_range(&b.right).start)),
                }
                Some(out)
            }
            Expr::Macro(m) => self.resolve_macro(&m.mac),
            _ => None,
        }
    }

    pub(super) fn resolve_macro(&mut self, mac: &Macro) -> Option<Resolved> {
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
                let candidates: Vec<Utf8PathBuf> =
                    normalise_path(base, &relative).into_iter().collect();
                let content = candidates
                    .iter()
                    .find_map(|path| self.read_included(path))?;
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
    pub(super) fn resolve_format(&mut self, template: &LitStr, args: &[&Expr]) -> Option<Resolved> {
        let literal = self.resolve_lit(template)?;
        let mut named: HashMap<String, &Expr> = HashMap::default();
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
}

/// Whether `value` prints exactly as `expected`, compared piece by piece as it prints.
fn prints_as(value: &impl std::fmt::Display, expected: &str) -> bool {
    struct Compare<'e> {
        rest: &'e str,
        same: bool,
    }
    impl std::fmt::Write for Compare<'_> {
        fn write_str(&mut self, piece: &str) -> std::fmt::Result {
            match self.rest.strip_prefix(piece) {
                Some(rest) if self.same => self.rest = rest,
                _ => self.same = false,
            }
            Ok(())
        }
    }
    let mut compare = Compare {
        rest: expected,
        same: true,
    };
    let _ = std::fmt::write(&mut compare, format_args!("{value}"));
    compare.same && compare.rest.is_empty()
}

pub(super) fn lit_text(lit: &Lit) -> Option<String> {
    match lit {
        Lit::Str(s) => Some(s.value()),
        Lit::Int(i) => Some(i.base10_digits().to_owned()),
        Lit::Float(f) => Some(f.base10_digits().to_owned()),
        Lit::Bool(b) => Some(b.value.to_string()),
        Lit::Char(c) => Some(c.value().to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_values_compared_without_copies() {
        assert!(prints_as(&"abc", "abc"));
        assert!(prints_as(&format_args!("{}-{}", 1, 2), "1-2"));
        assert!(!prints_as(&"abc", "ab"));
        assert!(!prints_as(&"ab", "abc"));
        assert!(!prints_as(&format_args!("{}-{}", 1, 2), "1-3"));
    }
}
