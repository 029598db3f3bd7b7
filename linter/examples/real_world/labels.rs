//! Ground truth of the real-world corpus (`tests/real-world/*.toml`) and how findings are
//! scored against it. Shared by the `real_world` example, which runs archlint on mirrored
//! repositories, and by the test that keeps the label files well-formed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The rules the corpus scores. Other rules' findings are counted, not scored.
pub const SCORED_RULES: &[&str] = &[
    "shared-database",
    "cross-service-db-access",
    "missing-compensation",
    "missing-idempotency",
    "dual-write",
    "distributed-transaction",
];

/// One repository's labels.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelFile {
    pub repository: String,
    pub commit: String,
    /// Cargo workspace roots to lint, relative to the repository root.
    pub workspaces: Vec<String>,
    pub summary: String,
    #[serde(default)]
    pub violation: Vec<Label>,
    #[serde(default)]
    pub lookalike: Vec<Label>,
    #[serde(default)]
    pub debatable: Vec<Label>,
}

/// A labelled unit: a violation, a look-alike that must stay silent, or a debatable case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub rule: String,
    pub file: String,
    pub lines: [u32; 2],
    pub reason: String,
    #[serde(default)]
    pub also: Vec<Site>,
    /// `shared-database`: the group of services sharing the database.
    #[serde(default)]
    pub services: Vec<String>,
    /// `cross-service-db-access`: the accessing service.
    pub service: Option<String>,
    /// `cross-service-db-access`: the foreign table.
    pub table: Option<String>,
    /// Why this label changed after archlint was first run on the repository.
    pub reclassified: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub file: String,
    pub lines: [u32; 2],
}

impl LabelFile {
    pub fn load(path: &Path) -> Result<LabelFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: LabelFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        file.validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(file)
    }

    /// `owner+name`, the mirror's folder name.
    pub fn mirror_name(&self) -> String {
        self.repository.replace('/', "+")
    }

    /// `owner__name`, the label file's stem.
    pub fn stem(&self) -> String {
        self.repository.replace('/', "__")
    }

    fn validate(&self) -> Result<(), String> {
        let parts: Vec<&str> = self.repository.split('/').collect();
        if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "repository `{}` is not owner/name",
                self.repository
            ));
        }
        if self.commit.len() != 40 || !self.commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "commit `{}` is not a full 40-hex commit",
                self.commit
            ));
        }
        if self.workspaces.is_empty() {
            return Err("no workspace named".into());
        }
        let all = self
            .violation
            .iter()
            .chain(&self.lookalike)
            .chain(&self.debatable);
        for label in all {
            if !SCORED_RULES.contains(&label.rule.as_str()) {
                return Err(format!("unknown rule `{}` at {}", label.rule, label.file));
            }
            let sites = std::iter::once(label.lines).chain(label.also.iter().map(|s| s.lines));
            for [start, end] in sites {
                if start == 0 || end < start {
                    return Err(format!("bad line range {start}-{end} at {}", label.file));
                }
            }
            if label.reason.trim().is_empty() {
                return Err(format!(
                    "label at {}:{} has no reason",
                    label.file, label.lines[0]
                ));
            }
        }
        Ok(())
    }
}

/// Every label file in a folder, sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, LabelFile)>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| LabelFile::load(&p).map(|f| (p, f)))
        .collect()
}

/// A finding as the corpus sees it: paths relative to the repository root.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Observed {
    pub rule: String,
    pub path: String,
    pub line: u32,
    pub message: String,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub table: Option<String>,
    #[serde(default)]
    pub confidence: Option<String>,
}

/// What a finding was judged to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The first finding for a violation unit.
    True,
    /// A further finding for a unit already found.
    Duplicate,
    /// On a listed look-alike.
    OnLookalike,
    /// On a debatable case: not counted.
    Debatable,
    /// Anywhere else.
    False,
}

/// Per-rule counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub labels: usize,
    pub found: usize,
    pub false_positives: usize,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.labels += other.labels;
        self.found += other.found;
        self.false_positives += other.false_positives;
    }

    pub fn precision(&self) -> Option<f64> {
        let reported = self.found + self.false_positives;
        (reported > 0).then(|| self.found as f64 / reported as f64)
    }

    pub fn recall(&self) -> Option<f64> {
        (self.labels > 0).then(|| self.found as f64 / self.labels as f64)
    }
}

/// The outcome of scoring one repository.
#[derive(Debug)]
pub struct Scored {
    pub per_rule: BTreeMap<&'static str, Counts>,
    /// Each scored finding with its verdict.
    pub verdicts: Vec<(Observed, Verdict)>,
    /// Index into `violation` of each label no finding matched.
    pub missed: Vec<usize>,
}

/// Scores the findings of one repository against its labels.
pub fn score(labels: &LabelFile, findings: &[Observed]) -> Scored {
    let mut per_rule: BTreeMap<&'static str, Counts> = SCORED_RULES
        .iter()
        .map(|r| (*r, Counts::default()))
        .collect();
    for label in &labels.violation {
        if let Some(counts) = per_rule.get_mut(label.rule.as_str()) {
            counts.labels += 1;
        }
    }
    let mut matched = vec![false; labels.violation.len()];
    let mut verdicts = Vec::new();
    for finding in findings {
        let Some(rule) = SCORED_RULES.iter().find(|r| **r == finding.rule) else {
            continue;
        };
        let candidates: Vec<usize> = (0..labels.violation.len())
            .filter(|&i| matches(&labels.violation[i], finding))
            .collect();
        let verdict = if let Some(&i) = candidates.iter().find(|&&i| !matched[i]) {
            matched[i] = true;
            Verdict::True
        } else if !candidates.is_empty() {
            Verdict::Duplicate
        } else if labels.debatable.iter().any(|l| matches(l, finding)) {
            Verdict::Debatable
        } else if labels.lookalike.iter().any(|l| matches(l, finding)) {
            Verdict::OnLookalike
        } else {
            Verdict::False
        };
        let counts = per_rule.entry(rule).or_default();
        match verdict {
            Verdict::True => counts.found += 1,
            Verdict::Debatable => {}
            Verdict::Duplicate | Verdict::OnLookalike | Verdict::False => {
                counts.false_positives += 1
            }
        }
        verdicts.push((finding.clone(), verdict));
    }
    let missed = (0..labels.violation.len())
        .filter(|&i| !matched[i])
        .collect();
    Scored {
        per_rule,
        verdicts,
        missed,
    }
}

/// Whether a finding stands for a labelled unit.
pub fn matches(label: &Label, finding: &Observed) -> bool {
    if label.rule != finding.rule {
        return false;
    }
    let at = |file: &str, [start, end]: [u32; 2]| {
        same_path(file, &finding.path) && (start..=end).contains(&finding.line)
    };
    if at(&label.file, label.lines) || label.also.iter().any(|s| at(&s.file, s.lines)) {
        return true;
    }
    match label.rule.as_str() {
        "shared-database" => {
            finding.services.len() >= 2
                && finding
                    .services
                    .iter()
                    .all(|s| label.services.iter().any(|l| same_service(l, s)))
        }
        "cross-service-db-access" => {
            let service = label.service.as_deref().zip(finding.services.first());
            let table = label.table.as_deref().zip(finding.table.as_deref());
            matches!(service, Some((l, f)) if same_service(l, f))
                && matches!(table, Some((l, f)) if same_table(l, f))
        }
        _ => false,
    }
}

fn same_path(label: &str, finding: &str) -> bool {
    label.trim_start_matches("./") == finding.trim_start_matches("./")
}

/// Service names compare ignoring case, `-`/`_` and a service suffix.
pub fn same_service(a: &str, b: &str) -> bool {
    fn key(name: &str) -> String {
        let lower = name.to_ascii_lowercase().replace('_', "-");
        let trimmed = ["-service", "-svc"]
            .iter()
            .find_map(|suffix| lower.strip_suffix(suffix))
            .unwrap_or(&lower);
        let bare = trimmed.replace('-', "");
        // `orders` and `order-service` name one service.
        bare.strip_suffix('s').map(str::to_string).unwrap_or(bare)
    }
    key(a) == key(b)
}

fn same_table(a: &str, b: &str) -> bool {
    fn key(name: &str) -> String {
        let lower = name.to_ascii_lowercase().replace('"', "");
        lower.strip_prefix("public.").unwrap_or(&lower).to_string()
    }
    key(a) == key(b)
}

/// `0.87`, or `-` when undefined.
pub fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(rule: &str, file: &str, lines: [u32; 2]) -> Label {
        Label {
            rule: rule.into(),
            file: file.into(),
            lines,
            reason: "r".into(),
            also: Vec::new(),
            services: Vec::new(),
            service: None,
            table: None,
            reclassified: None,
        }
    }

    fn finding(rule: &str, path: &str, line: u32) -> Observed {
        Observed {
            rule: rule.into(),
            path: path.into(),
            line,
            message: String::new(),
            services: Vec::new(),
            table: None,
            confidence: None,
        }
    }

    fn file(violation: Vec<Label>, lookalike: Vec<Label>, debatable: Vec<Label>) -> LabelFile {
        LabelFile {
            repository: "o/n".into(),
            commit: "0".repeat(40),
            workspaces: vec![".".into()],
            summary: String::new(),
            violation,
            lookalike,
            debatable,
        }
    }

    #[test]
    fn first_finding_is_true_then_duplicates_count_against_precision() {
        let labels = file(vec![label("dual-write", "a.rs", [10, 20])], vec![], vec![]);
        let found = [
            finding("dual-write", "a.rs", 12),
            finding("dual-write", "a.rs", 18),
        ];
        let scored = score(&labels, &found);
        let counts = scored.per_rule["dual-write"];
        assert_eq!(
            (counts.labels, counts.found, counts.false_positives),
            (1, 1, 1)
        );
        assert_eq!(scored.verdicts[1].1, Verdict::Duplicate);
        assert!(scored.missed.is_empty());
    }

    #[test]
    fn lookalike_debatable_and_unscored_rules() {
        let labels = file(
            vec![label("missing-idempotency", "c.rs", [1, 5])],
            vec![label("missing-idempotency", "a.rs", [1, 9])],
            vec![label("missing-idempotency", "b.rs", [1, 9])],
        );
        let found = [
            finding("missing-idempotency", "a.rs", 3),
            finding("missing-idempotency", "b.rs", 3),
            finding("unversioned-event", "a.rs", 3),
        ];
        let scored = score(&labels, &found);
        let counts = scored.per_rule["missing-idempotency"];
        assert_eq!(
            (counts.labels, counts.found, counts.false_positives),
            (1, 0, 1)
        );
        assert_eq!(scored.verdicts[0].1, Verdict::OnLookalike);
        assert_eq!(scored.verdicts[1].1, Verdict::Debatable);
        assert_eq!(scored.verdicts.len(), 2);
        assert_eq!(scored.missed, vec![0]);
    }

    #[test]
    fn shared_database_matches_by_group_and_cross_access_by_pair() {
        let mut shared = label("shared-database", "docker-compose.yml", [1, 2]);
        shared.services = vec!["order-service".into(), "billing_svc".into(), "stock".into()];
        let mut cross = label("cross-service-db-access", "x.rs", [1, 2]);
        cross.service = Some("billing".into());
        cross.table = Some("orders".into());
        let labels = file(vec![shared, cross], vec![], vec![]);
        let mut by_group = finding("shared-database", ".env", 40);
        by_group.services = vec!["orders".into(), "billing".into()];
        let mut outside = by_group.clone();
        outside.services.push("search".into());
        let mut by_pair = finding("cross-service-db-access", "billing/src/q.rs", 7);
        by_pair.services = vec!["Billing".into(), "orders".into()];
        by_pair.table = Some("public.ORDERS".into());
        assert!(matches(&labels.violation[0], &by_group));
        assert!(!matches(&labels.violation[0], &outside));
        assert!(matches(&labels.violation[1], &by_pair));
        assert!(!matches(&labels.violation[0], &by_pair));
    }

    #[test]
    fn ratios_are_undefined_without_denominators() {
        let counts = Counts::default();
        assert_eq!(ratio(counts.precision()), "-");
        let counts = Counts {
            labels: 4,
            found: 3,
            false_positives: 1,
        };
        assert_eq!(ratio(counts.precision()), "0.75");
        assert_eq!(ratio(counts.recall()), "0.75");
    }
}
