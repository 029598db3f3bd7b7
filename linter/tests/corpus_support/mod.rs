//! Scoring archlint against the corpus's ground truth: each workspace's `expected.toml` lists
//! its planted violations, the look-alikes that must stay silent and the debatable cases, with
//! where a finding may point. The scores are computed from a real run of the binary.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use globset::GlobMatcher;
use serde::Deserialize;
use syn::spanned::Spanned;
use syn::visit::Visit;

/// Lines a finding may be away from a named line and still point at it.
pub const TOLERANCE: usize = 3;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub case: Vec<Case>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    Violation,
    LookAlike,
    Debatable,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub rules: Vec<String>,
    pub class: Class,
    /// `path`, `path:line` or `path:first-last`; the path may hold globs.
    pub at: Vec<String>,
    /// Places added after a run showed a finding of this case pointing there; `revised` says
    /// why.
    #[serde(default)]
    pub also_at: Vec<String>,
    #[serde(default)]
    pub revised: Option<String>,
    pub what: String,
    /// Why a former violation is now a look-alike.
    #[serde(default)]
    pub reclassified: Option<String>,
    /// Listed only after archlint had run on the workspace.
    #[serde(default)]
    pub added_after_run: bool,
}

impl Case {
    /// Every place a finding of this case may point at.
    pub fn places(&self) -> impl Iterator<Item = &String> {
        self.at.iter().chain(&self.also_at)
    }
}

/// One place a case names.
#[derive(Debug)]
pub struct Place {
    pub path: GlobMatcher,
    pub lines: Option<(usize, usize)>,
}

impl Place {
    pub fn parse(text: &str) -> Result<Place, String> {
        let (path, lines) = match text.rsplit_once(':') {
            Some((path, spec)) => {
                let (first, last) = spec.split_once('-').unwrap_or((spec, spec));
                let number = |n: &str| {
                    n.parse::<usize>()
                        .map_err(|e| format!("`{text}`: line `{n}`: {e}"))
                };
                (path, Some((number(first)?, number(last)?)))
            }
            None => (text, None),
        };
        let glob = globset::GlobBuilder::new(path)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("`{text}`: {e}"))?;
        Ok(Place {
            path: glob.compile_matcher(),
            lines,
        })
    }
}

/// Where a finding points: its location and its related locations.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: String,
    pub at: Vec<(String, usize)>,
    pub text: String,
}

pub fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let mut workspaces: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect();
    workspaces.sort();
    workspaces
}

pub fn name(workspace: &Path) -> String {
    workspace
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub fn expected(workspace: &Path) -> Expected {
    let path = workspace.join("expected.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The findings of a default `cargo archlint check --format json` of the workspace.
pub fn run(workspace: &Path) -> Vec<Finding> {
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .args(["archlint", "check", "--format", "json", "--manifest-path"])
        .arg(workspace)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo-archlint: {e}"));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let place = |location: &serde_json::Value| {
        Some((
            location["path"].as_str()?.to_string(),
            usize::try_from(location["line"].as_u64()?).ok()?,
        ))
    };
    value["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|finding| {
            let rule = finding["rule"].as_str().unwrap_or("").to_string();
            let mut at: Vec<(String, usize)> = place(&finding["location"]).into_iter().collect();
            at.extend(
                finding["related"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|related| place(&related["location"])),
            );
            let text = format!(
                "{rule} {} {}",
                at.first()
                    .map(|(path, line)| format!("{path}:{line}"))
                    .unwrap_or_default(),
                finding["message"].as_str().unwrap_or("")
            );
            Finding { rule, at, text }
        })
        .collect()
}

/// Line ranges of the functions (free, in impls and traits) of a Rust file.
fn functions(source: &str) -> Vec<(usize, usize)> {
    struct Functions(Vec<(usize, usize)>);
    impl Functions {
        fn add(&mut self, span: proc_macro2::Span) {
            self.0.push((span.start().line, span.end().line));
        }
    }
    impl<'ast> Visit<'ast> for Functions {
        fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
            self.add(item.span());
            syn::visit::visit_item_fn(self, item);
        }
        fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
            self.add(item.span());
            syn::visit::visit_impl_item_fn(self, item);
        }
        fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
            self.add(item.span());
            syn::visit::visit_trait_item_fn(self, item);
        }
    }
    let Ok(file) = syn::parse_file(source) else {
        return Vec::new();
    };
    let mut found = Functions(Vec::new());
    found.visit_file(&file);
    found.0
}

/// Judges whether findings point at places, reading each Rust file's functions once.
pub struct Matcher<'a> {
    root: &'a Path,
    functions: BTreeMap<String, Vec<(usize, usize)>>,
}

impl<'a> Matcher<'a> {
    pub fn new(root: &'a Path) -> Self {
        Matcher {
            root,
            functions: BTreeMap::new(),
        }
    }

    /// The innermost function of `path` holding `line`.
    fn function_at(&mut self, path: &str, line: usize) -> Option<(usize, usize)> {
        if !path.ends_with(".rs") {
            return None;
        }
        let root = self.root;
        let functions = self.functions.entry(path.to_string()).or_insert_with(|| {
            std::fs::read_to_string(root.join(path))
                .map(|text| functions(&text))
                .unwrap_or_default()
        });
        functions
            .iter()
            .filter(|(first, last)| (*first..=*last).contains(&line))
            .min_by_key(|(first, last)| last - first)
            .copied()
    }

    /// A finding points at a place when it names a file the place's path matches, and, when the
    /// place has lines, a line within [`TOLERANCE`] of them or in the Rust function holding them.
    pub fn points_at(&mut self, finding: &Finding, place: &Place) -> bool {
        finding.at.iter().any(|(path, line)| {
            if !place.path.is_match(path) {
                return false;
            }
            let Some((first, last)) = place.lines else {
                return true;
            };
            if (first.saturating_sub(TOLERANCE)..=last + TOLERANCE).contains(line) {
                return true;
            }
            [first, last].into_iter().any(|named| {
                self.function_at(path, named)
                    .is_some_and(|(start, end)| (start..=end).contains(line))
            })
        })
    }

    pub fn matches(&mut self, finding: &Finding, case: &Case, places: &[Place]) -> bool {
        case.rules.contains(&finding.rule) && places.iter().any(|p| self.points_at(finding, p))
    }
}

/// Counts for one rule, one workspace, or all of them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Score {
    pub violations: usize,
    pub found: usize,
    pub false_positives: usize,
    pub debatable_reported: usize,
    pub look_alikes: usize,
    pub look_alikes_silent: usize,
}

impl Score {
    pub fn add(&mut self, other: &Score) {
        self.violations += other.violations;
        self.found += other.found;
        self.false_positives += other.false_positives;
        self.debatable_reported += other.debatable_reported;
        self.look_alikes += other.look_alikes;
        self.look_alikes_silent += other.look_alikes_silent;
    }

    fn ratio(part: usize, whole: usize) -> String {
        if whole == 0 {
            "-".to_string()
        } else {
            format!("{:.2}", part as f64 / whole as f64)
        }
    }

    pub fn precision(&self) -> String {
        Self::ratio(self.found, self.found + self.false_positives)
    }

    pub fn recall(&self) -> String {
        Self::ratio(self.found, self.violations)
    }
}

/// What scoring one workspace gives: counts per rule, and the cases and findings behind them.
#[derive(Debug, Default)]
pub struct Scored {
    pub per_rule: BTreeMap<String, Score>,
    pub missed: Vec<String>,
    pub false_positives: Vec<String>,
    pub loud_look_alikes: Vec<String>,
}

/// Scores a workspace's findings against its cases. A violation is found when a finding of its
/// rule points at it (more findings for one case are not false); a finding that points at no
/// violation of its rule and at no debatable case is a false positive, and a look-alike it
/// points at was not silent.
pub fn score(root: &Path, expected: &Expected, findings: &[Finding]) -> Scored {
    let mut matcher = Matcher::new(root);
    let places: Vec<Vec<Place>> = expected
        .case
        .iter()
        .map(|case| {
            case.places()
                .map(|at| Place::parse(at).unwrap_or_else(|e| panic!("case {}: {e}", case.id)))
                .collect()
        })
        .collect();
    let mut scored = Scored::default();
    let mut found = vec![false; expected.case.len()];
    let mut loud = vec![false; expected.case.len()];
    for finding in findings {
        let hits: Vec<usize> = (0..expected.case.len())
            .filter(|&i| matcher.matches(finding, &expected.case[i], &places[i]))
            .collect();
        let of = |class: Class| {
            hits.iter()
                .copied()
                .filter(move |&i| expected.case[i].class == class)
        };
        let score = scored.per_rule.entry(finding.rule.clone()).or_default();
        if of(Class::Violation).next().is_some() {
            of(Class::Violation).for_each(|i| found[i] = true);
        } else if of(Class::Debatable).next().is_some() {
            score.debatable_reported += 1;
        } else {
            score.false_positives += 1;
            of(Class::LookAlike).for_each(|i| loud[i] = true);
            scored.false_positives.push(finding.text.clone());
        }
    }
    for (i, case) in expected.case.iter().enumerate() {
        // A case of several rules is counted under its first.
        let rule = case.rules.first().cloned().unwrap_or_default();
        let score = scored.per_rule.entry(rule).or_default();
        match case.class {
            Class::Violation => {
                score.violations += 1;
                if found[i] {
                    score.found += 1;
                } else {
                    scored
                        .missed
                        .push(format!("{} {:?}: {}", case.id, case.at, case.what));
                }
            }
            Class::LookAlike => {
                score.look_alikes += 1;
                if loud[i] {
                    scored
                        .loud_look_alikes
                        .push(format!("{} {:?}", case.id, case.at));
                } else {
                    score.look_alikes_silent += 1;
                }
            }
            Class::Debatable => {}
        }
    }
    scored
}

/// A Markdown table: one row per label, then `overall`.
pub fn table(first_column: &str, rows: &[(String, Score)]) -> String {
    let mut total = Score::default();
    let mut text = format!(
        "| {first_column} | violations | found | missed | false positives | precision | recall | look-alikes silent | debatable reported |\n\
         |---|---|---|---|---|---|---|---|---|\n"
    );
    let mut row = |label: &str, s: &Score| {
        let _ = writeln!(
            text,
            "| {label} | {} | {} | {} | {} | {} | {} | {} of {} | {} |",
            s.violations,
            s.found,
            s.violations - s.found,
            s.false_positives,
            s.precision(),
            s.recall(),
            s.look_alikes_silent,
            s.look_alikes,
            s.debatable_reported
        );
    };
    for (label, score) in rows {
        row(label, score);
        total.add(score);
    }
    row("overall", &total);
    text
}
