//! `--statistics`: how many findings each rule and each service has, instead of the
//! findings themselves.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::config::Level;
use crate::Report;

/// Findings counted by level, for one rule or one service.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Count {
    pub errors: usize,
    pub warnings: usize,
}

impl Count {
    pub fn total(&self) -> usize {
        self.errors + self.warnings
    }
}

/// A finding counts for its rule and for the service at fault (the first it names); a
/// finding outside any service counts for `(none)`.
#[derive(Debug, Clone, Default)]
pub struct Statistics {
    pub rules: Vec<(String, Count)>,
    pub services: Vec<(String, Count)>,
    pub total: Count,
}

/// No service: a finding in a file outside every service (the configuration, a compose file
/// of no service).
const NO_SERVICE: &str = "(none)";

impl Statistics {
    pub fn of(report: &Report) -> Statistics {
        let mut rules: BTreeMap<&str, Count> = BTreeMap::new();
        let mut services: BTreeMap<&str, Count> = BTreeMap::new();
        let mut total = Count::default();
        for finding in &report.findings {
            let service = finding.services.first().map_or(NO_SERVICE, String::as_str);
            for count in [
                rules.entry(finding.rule).or_default(),
                services.entry(service).or_default(),
                &mut total,
            ] {
                match finding.level {
                    Level::Deny => count.errors += 1,
                    Level::Warn | Level::Allow => count.warnings += 1,
                }
            }
        }
        // Most findings first; ties by name.
        let ranked = |counts: BTreeMap<&str, Count>| {
            let mut rows: Vec<(String, Count)> = counts
                .into_iter()
                .map(|(name, count)| (name.to_string(), count))
                .collect();
            rows.sort_by(|(a, x), (b, y)| y.total().cmp(&x.total()).then_with(|| a.cmp(b)));
            rows
        };
        Statistics {
            rules: ranked(rules),
            services: ranked(services),
            total,
        }
    }

    /// Two tables, rules then services, and the summary line.
    pub fn human(&self, report: &Report) -> String {
        let width = self
            .rules
            .iter()
            .chain(&self.services)
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0)
            .max("service".len());
        let mut out = String::new();
        for (heading, rows) in [("rule", &self.rules), ("service", &self.services)] {
            let _ = writeln!(out, "{heading:<width$}  {:>6}  {:>8}", "errors", "warnings");
            for (name, count) in rows.iter() {
                let _ = writeln!(
                    out,
                    "{name:<width$}  {:>6}  {:>8}",
                    count.errors, count.warnings
                );
            }
            out.push('\n');
        }
        out.push_str(&super::summary_line(report));
        out
    }

    /// `{"statistics": {"rules": [..], "services": [..], "total": ..}, "suppressed": ..}`.
    pub fn json(&self, report: &Report) -> String {
        let rows = |key: &str, rows: &[(String, Count)]| -> Vec<serde_json::Value> {
            rows.iter()
                .map(|(name, count)| {
                    serde_json::json!({
                        key: name,
                        "errors": count.errors,
                        "warnings": count.warnings,
                    })
                })
                .collect()
        };
        let mut value = serde_json::json!({
            "statistics": {
                "rules": rows("rule", &self.rules),
                "services": rows("service", &self.services),
                "total": self.total,
            },
        });
        super::add_silenced(report, &mut value);
        serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
    }
}
