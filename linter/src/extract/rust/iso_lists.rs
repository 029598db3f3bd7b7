//! Hard-coded ISO code lists: arrays and `vec!`/set macros of code literals, tables keyed by
//! codes (`HashMap::from([("USD", 2), ..])`, `phf_map!`, `hashmap!`, arrays of tuples, structs
//! or constructor calls), `match` arms and `matches!` patterns on code literals, and enums whose
//! variants are codes (`enum Currency { USD, EUR, .. }`, also spelled `Usd`).
//!
//! Precision over recall: a list counts only with at least [`MIN_ENTRIES`] distinct entries,
//! every entry shaped like a code (two or three upper-case ASCII letters in a plain string
//! literal), and at least 90% of them codes of one ISO list. A short allow-list
//! (`["USD", "EUR"]`), HTTP methods, log levels, language codes and other upper-case words do
//! not pass. The shape checks read the source text at each token's span and run before any
//! lookup; nothing is allocated until a list's first entry is a code.

use syn::{Fields, Pat};

use super::*;
use crate::model::{HardCodedReferenceList, IsoCodeList, ReferenceListShape};

/// The code lists, generated from `refdata-service/data` (see the file's header).
const ISO_CODES: &str = include_str!("../../../data/iso-codes.txt");

/// Fewer distinct entries than this are configuration (an allow-list), not a copy.
const MIN_ENTRIES: usize = 8;

/// Codes kept as a sample in the fact.
const SAMPLE: usize = 3;

/// Macros building a list from their comma-separated entries.
const LIST_MACROS: &[&str] = &[
    "vec",
    "smallvec",
    "arrayvec",
    "hashset",
    "btreeset",
    "indexset",
    "phf_set",
    "phf_ordered_set",
];

/// Macros building a map from `key => value` entries.
const TABLE_MACROS: &[&str] = &[
    "phf_map",
    "phf_ordered_map",
    "hashmap",
    "btreemap",
    "indexmap",
];

/// The ISO lists a list is judged against, in order of preference when two fit equally.
const LISTS: [IsoCodeList; 3] = [
    IsoCodeList::Currency,
    IsoCodeList::CountryAlpha3,
    IsoCodeList::CountryAlpha2,
];

/// Two or three upper-case ASCII letters, kept on the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Code {
    len: u8,
    bytes: [u8; 3],
}

impl Code {
    fn new(letters: &[u8]) -> Option<Code> {
        if !(2..=3).contains(&letters.len()) || !letters.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        let mut bytes = [0; 3];
        bytes[..letters.len()].copy_from_slice(letters);
        Some(Code {
            len: letters.len() as u8,
            bytes,
        })
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// The codes of one list in the data file: sorted, one space apart.
fn codes_of(list: IsoCodeList) -> &'static str {
    let name = match list {
        IsoCodeList::Currency => "currency ",
        IsoCodeList::CountryAlpha2 => "alpha2 ",
        IsoCodeList::CountryAlpha3 => "alpha3 ",
    };
    ISO_CODES
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .unwrap_or_default()
}

/// True when `code` is a code of `list` (binary search over the fixed-width codes).
pub fn is_iso_code(list: IsoCodeList, code: &str) -> bool {
    let width = match list {
        IsoCodeList::CountryAlpha2 => 2,
        IsoCodeList::Currency | IsoCodeList::CountryAlpha3 => 3,
    };
    if code.len() != width {
        return false;
    }
    let codes = codes_of(list).as_bytes();
    let stride = width + 1;
    let (mut low, mut high) = (0, codes.len().div_ceil(stride));
    while low < high {
        let middle = (low + high) / 2;
        let start = middle * stride;
        let Some(candidate) = codes.get(start..start + width) else {
            return false;
        };
        match candidate.cmp(code.as_bytes()) {
            std::cmp::Ordering::Less => low = middle + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The ISO list that at least 90% of a list's entries are distinct codes of, with those codes
/// in source order. `codes` are the code-shaped entries in source order; `others` counts the
/// entries that are not (variants of an enum such as `Other(String)`).
fn judge(codes: &[Code], others: usize) -> Option<(IsoCodeList, Vec<Code>)> {
    if codes.len() < MIN_ENTRIES {
        return None;
    }
    let mut distinct = codes.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_ENTRIES {
        return None;
    }
    let entries = distinct.len() + others;
    let (list, valid) = LISTS
        .iter()
        .map(|list| {
            let valid = distinct
                .iter()
                .filter(|c| is_iso_code(*list, c.as_str()))
                .count();
            (*list, valid)
        })
        .fold(
            None,
            |best: Option<(IsoCodeList, usize)>, (list, valid)| match best {
                Some((_, most)) if most >= valid => best,
                _ => Some((list, valid)),
            },
        )?;
    if valid < MIN_ENTRIES || valid * 10 < entries * 9 {
        return None;
    }
    let mut seen = Vec::with_capacity(valid);
    for code in codes {
        if is_iso_code(list, code.as_str()) && !seen.contains(code) {
            seen.push(*code);
        }
    }
    Some((list, seen))
}

impl Extractor<'_> {
    /// The code in a plain string literal token (`"USD"`), read from the source text.
    fn code_literal(&self, span: PmSpan) -> Option<Code> {
        let token = self.text.as_bytes().get(self.range_of(span))?;
        match token {
            [b'"', letters @ .., b'"'] => Code::new(letters),
            _ => None,
        }
    }

    fn code_in_lit(&self, lit: &Lit) -> Option<Code> {
        match lit {
            Lit::Str(s) => self.code_literal(s.span()),
            _ => None,
        }
    }

    /// A variant name spelled as a code: `USD`, or `Usd` as Rust naming prefers.
    fn code_ident(&self, ident: &proc_macro2::Ident) -> Option<Code> {
        let name = self.text.as_bytes().get(self.range_of(ident.span()))?;
        let (first, rest) = name.split_first()?;
        let upper = rest.iter().all(u8::is_ascii_uppercase);
        let lower = rest.iter().all(u8::is_ascii_lowercase);
        if !(2..=3).contains(&name.len()) || !first.is_ascii_uppercase() || !(upper || lower) {
            return None;
        }
        let mut letters = [0; 3];
        for (to, from) in letters.iter_mut().zip(name) {
            *to = from.to_ascii_uppercase();
        }
        Code::new(&letters[..name.len()])
    }

    /// The code an array element is or is keyed by: `"USD"`, `("USD", 2)`,
    /// `Currency { code: "USD", .. }`, `Currency::new("USD", 2)`. The flag is true when keyed.
    fn element_code(&self, expr: &Expr) -> Option<(Code, bool)> {
        let key = match expr {
            Expr::Lit(lit) => return self.code_in_lit(&lit.lit).map(|c| (c, false)),
            Expr::Tuple(tuple) => tuple.elems.first(),
            Expr::Struct(item) => item.fields.first().map(|f| &f.expr),
            Expr::Call(call) => call.args.first(),
            _ => None,
        };
        match key? {
            Expr::Lit(lit) => self.code_in_lit(&lit.lit).map(|c| (c, true)),
            _ => None,
        }
    }

    /// Adds the codes of a pattern made of code literals (`"JPY" | "KRW"`); false for any
    /// other pattern.
    fn pattern_codes(&self, pat: &Pat, codes: &mut Vec<Code>) -> bool {
        match pat {
            Pat::Or(or) => or.cases.iter().all(|case| self.pattern_codes(case, codes)),
            Pat::Lit(lit) => match self.code_in_lit(&lit.lit) {
                Some(code) => {
                    codes.push(code);
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    fn emit_iso_list(
        &mut self,
        codes: &[Code],
        others: usize,
        shape: ReferenceListShape,
        range: Range<usize>,
    ) {
        let Some((kind, valid)) = judge(codes, others) else {
            return;
        };
        let span = self.span(range);
        self.facts.hard_coded_lists.push(HardCodedReferenceList {
            crate_id: self.cx.krate.id,
            kind,
            shape,
            codes: valid.len(),
            sample: valid
                .iter()
                .take(SAMPLE)
                .map(|c| c.as_str().to_owned())
                .collect(),
            span,
        });
    }

    /// `["USD", "EUR", ..]`, `[("USD", 2), ..]` (also inside `HashMap::from(..)`, consts and
    /// statics).
    pub(super) fn iso_list_in_array(&mut self, array: &syn::ExprArray) {
        if array.elems.len() < MIN_ENTRIES {
            return;
        }
        let mut codes = Vec::new();
        let mut keyed = false;
        for elem in &array.elems {
            let Some((code, is_key)) = self.element_code(elem) else {
                return;
            };
            codes.push(code);
            keyed |= is_key;
        }
        let shape = if keyed {
            ReferenceListShape::Table
        } else {
            ReferenceListShape::List
        };
        let range = self.range_of(array.bracket_token.span.join());
        self.emit_iso_list(&codes, 0, shape, range);
    }

    /// `match code { "JPY" | "KRW" => 0, "BHD" | "KWD" => 3, _ => 2 }`: every pattern a code
    /// literal, an alternative of them, or the catch-all.
    pub(super) fn iso_list_in_match(&mut self, expr: &syn::ExprMatch) {
        let mut codes = Vec::new();
        for arm in &expr.arms {
            let catch_all = matches!(
                &arm.pat,
                Pat::Wild(_) | Pat::Ident(syn::PatIdent { subpat: None, .. })
            );
            if !catch_all && !self.pattern_codes(&arm.pat, &mut codes) {
                return;
            }
        }
        if codes.len() < MIN_ENTRIES {
            return;
        }
        let start = self.range_of(expr.match_token.span).start;
        let end = self.range_of(expr.brace_token.span.close()).end;
        self.emit_iso_list(&codes, 0, ReferenceListShape::Match, start..end);
    }

    /// `enum Currency { USD, EUR, .. }`: unit variants named as codes, at most one in ten
    /// variants something else (`Other(String)`).
    pub(super) fn iso_list_in_enum(&mut self, item: &syn::ItemEnum) {
        let variants = item.variants.len();
        if variants < MIN_ENTRIES {
            return;
        }
        let mut codes = Vec::new();
        let mut others = 0;
        for variant in &item.variants {
            match (&variant.fields, self.code_ident(&variant.ident)) {
                (Fields::Unit, Some(code)) => codes.push(code),
                _ => {
                    others += 1;
                    if others * 10 > variants {
                        return;
                    }
                }
            }
        }
        // `enum Language { De, Fr, .. }` names languages with the letters of countries.
        let name = self
            .text
            .get(self.range_of(item.ident.span()))
            .unwrap_or("");
        let lower = name.to_ascii_lowercase();
        if ["lang", "locale"].iter().any(|word| lower.contains(word)) {
            return;
        }
        let start = self.range_of(item.enum_token.span).start;
        let end = self.range_of(item.brace_token.span.close()).end;
        self.emit_iso_list(&codes, others, ReferenceListShape::Enum, start..end);
    }

    /// `vec!["USD", ..]`, `phf_map! { "USD" => 2, .. }`, `hashset!{..}`,
    /// `matches!(code, "USD" | "EUR" | ..)`. Macro bodies are token streams; they are read
    /// only when the macro's text holds enough code-shaped literals.
    pub(super) fn iso_list_in_macro(&mut self, name: &str, mac: &Macro, range: &Range<usize>) {
        let is_match = name == "matches";
        let shape = if is_match {
            ReferenceListShape::Match
        } else if LIST_MACROS.contains(&name) {
            ReferenceListShape::List
        } else if TABLE_MACROS.contains(&name) {
            ReferenceListShape::Table
        } else {
            return;
        };
        let Some(text) = self.text.as_bytes().get(range.clone()) else {
            return;
        };
        if code_literals_in(text) < MIN_ENTRIES {
            return;
        }
        let mut codes = Vec::new();
        let mut keyed = false;
        let mut tokens = mac.tokens.clone().into_iter();
        if is_match {
            // The scrutinee, then patterns separated by `|`, up to an `if` guard.
            if !tokens.by_ref().any(|t| is_punct(&t, ',')) {
                return;
            }
            for tree in tokens {
                match &tree {
                    TokenTree::Literal(lit) => match self.code_literal(lit.span()) {
                        Some(code) => codes.push(code),
                        None => return,
                    },
                    TokenTree::Punct(p) if p.as_char() == '|' => {}
                    TokenTree::Ident(ident) if ident == "if" => break,
                    _ => return,
                }
            }
        } else {
            // The first token of each comma-separated entry is its code or, for a tuple, the
            // group whose first token is.
            let mut entry_start = true;
            for tree in tokens {
                if entry_start {
                    let code = match &tree {
                        TokenTree::Literal(lit) => self.code_literal(lit.span()),
                        TokenTree::Group(group) if group.delimiter() == Delimiter::Parenthesis => {
                            keyed = true;
                            match group.stream().into_iter().next() {
                                Some(TokenTree::Literal(lit)) => self.code_literal(lit.span()),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    let Some(code) = code else {
                        return;
                    };
                    codes.push(code);
                    entry_start = false;
                } else if is_punct(&tree, ',') {
                    entry_start = true;
                }
            }
        }
        let shape = if keyed {
            ReferenceListShape::Table
        } else {
            shape
        };
        self.emit_iso_list(&codes, 0, shape, range.clone());
    }
}

fn is_punct(tree: &TokenTree, ch: char) -> bool {
    matches!(tree, TokenTree::Punct(p) if p.as_char() == ch)
}

/// How many `"XX"` / `"XXX"` literals of upper-case letters a piece of source holds.
fn code_literals_in(text: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'"' {
            i += 1;
            continue;
        }
        let letters = text[i + 1..]
            .iter()
            .take(4)
            .take_while(|b| b.is_ascii_uppercase())
            .count();
        if (2..=3).contains(&letters) && text.get(i + 1 + letters) == Some(&b'"') {
            count += 1;
            i += letters + 2;
        } else {
            i += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_lists_hold_iso_codes_and_nothing_else() {
        for (list, code) in [
            (IsoCodeList::Currency, "USD"),
            (IsoCodeList::Currency, "JPY"),
            (IsoCodeList::Currency, "EUR"),
            (IsoCodeList::Currency, "AED"),
            (IsoCodeList::Currency, "ZWL"),
            (IsoCodeList::CountryAlpha2, "DE"),
            (IsoCodeList::CountryAlpha2, "AD"),
            (IsoCodeList::CountryAlpha2, "ZW"),
            (IsoCodeList::CountryAlpha3, "DEU"),
            (IsoCodeList::CountryAlpha3, "ABW"),
            (IsoCodeList::CountryAlpha3, "ZWE"),
        ] {
            assert!(is_iso_code(list, code), "{code} is in {list:?}");
        }
        for (list, code) in [
            (IsoCodeList::Currency, "GET"),
            (IsoCodeList::Currency, "BTC"),
            (IsoCodeList::Currency, "usd"),
            (IsoCodeList::Currency, "US"),
            (IsoCodeList::Currency, "USDT"),
            (IsoCodeList::Currency, "DEU"),
            (IsoCodeList::CountryAlpha2, "EN"),
            (IsoCodeList::CountryAlpha2, "UK"),
            (IsoCodeList::CountryAlpha2, "OK"),
            (IsoCodeList::CountryAlpha2, "USD"),
            (IsoCodeList::CountryAlpha3, "USD"),
            (IsoCodeList::CountryAlpha3, "ENG"),
            (IsoCodeList::CountryAlpha3, ""),
        ] {
            assert!(!is_iso_code(list, code), "{code} is not in {list:?}");
        }
    }

    /// The data file against the reference data it is generated from.
    #[test]
    fn the_code_lists_match_the_reference_data() {
        let data = Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("../refdata-service/data");
        let read = |name: &str| -> Vec<serde_json::Value> {
            let text = std::fs::read_to_string(data.join(name)).expect("reference data file");
            serde_json::from_str(&text).expect("reference data is JSON")
        };
        let field = |rows: &[serde_json::Value], key: &str| -> String {
            let mut codes: Vec<&str> = rows.iter().filter_map(|r| r[key].as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            codes.join(" ")
        };
        let currencies = read("currencies.json");
        let countries = read("countries.json");
        for (list, name, expected) in [
            (
                IsoCodeList::Currency,
                "currency",
                field(&currencies, "code"),
            ),
            (
                IsoCodeList::CountryAlpha2,
                "alpha2",
                field(&countries, "alpha2"),
            ),
            (
                IsoCodeList::CountryAlpha3,
                "alpha3",
                field(&countries, "alpha3"),
            ),
        ] {
            assert_eq!(
                codes_of(list),
                expected,
                "linter/data/iso-codes.txt is out of date; its line should read:\n{name} {expected}"
            );
        }
        assert_eq!(codes_of(IsoCodeList::Currency).len(), 193 * 4 - 1);
    }

    #[test]
    fn codes_and_look_alikes() {
        let codes = |list: &[&str]| -> Vec<Code> {
            list.iter()
                .filter_map(|c| Code::new(c.as_bytes()))
                .collect()
        };
        let currencies = codes(&["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK"]);
        let (kind, valid) = judge(&currencies, 0).expect("a currency list");
        assert_eq!(kind, IsoCodeList::Currency);
        assert_eq!(valid.len(), 8);
        // A duplicate entry is not a ninth code.
        let mut seven = codes(&["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD"]);
        seven.push(seven[0]);
        assert!(judge(&seven, 0).is_none());
        // One entry in eight that is not a code is too many; one in ten is not.
        let words = codes(&["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "BTC"]);
        assert!(judge(&words, 0).is_none());
        let ten = codes(&[
            "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "BTC",
        ]);
        assert_eq!(judge(&ten, 0).map(|(_, v)| v.len()), Some(9));
        // Upper-case language codes share many letters with countries, not all.
        let languages = codes(&["EN", "DE", "FR", "ES", "IT", "NL", "PT", "JA", "ZH", "KO"]);
        assert!(judge(&languages, 0).is_none());
        let countries = codes(&["US", "DE", "FR", "ES", "IT", "NL", "PT", "JP", "CN", "KR"]);
        assert_eq!(
            judge(&countries, 0).map(|(k, _)| k),
            Some(IsoCodeList::CountryAlpha2)
        );
        let alpha3 = codes(&["USA", "DEU", "FRA", "ESP", "ITA", "NLD", "PRT", "JPN"]);
        assert_eq!(
            judge(&alpha3, 0).map(|(k, _)| k),
            Some(IsoCodeList::CountryAlpha3)
        );
        // Enum variants that are not codes count against the list.
        assert!(judge(&currencies, 1).is_none());
        assert!(judge(&ten, 1).is_none());
    }

    #[test]
    fn literals_shaped_like_codes_are_counted_in_text() {
        assert_eq!(
            code_literals_in(br#"vec!["USD", "EU", "EURO", "eur", "X"]"#),
            2
        );
        assert_eq!(code_literals_in(br#""""ABC""#), 1);
        assert_eq!(code_literals_in(b"\""), 0);
    }
}
