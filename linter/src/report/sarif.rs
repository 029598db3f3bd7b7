//! SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

use serde_json::{json, Value};

use crate::config::Level;
use crate::model::{Model, Span};
use crate::rules::{Confidence, REGISTRY};
use crate::suppress::CODES;
use crate::Report;

/// The key of archlint's fingerprint in `partialFingerprints` (versioned: a new way of
/// computing it gets a new key).
pub const FINGERPRINT_KEY: &str = "archlint/v1";

fn physical_location(model: &Model, span: Span) -> Value {
    json!({
        "artifactLocation": {
            "uri": model.file(span.file).path.as_str(),
            "uriBaseId": "%SRCROOT%",
        },
        "region": {
            "startLine": span.line.max(1),
            "startColumn": span.column.max(1),
            "charOffset": span.start,
            "charLength": span.end.saturating_sub(span.start),
        },
    })
}

/// The SARIF log of a report.
pub fn sarif(report: &Report) -> Value {
    let model = &report.model;
    // The rules, then the codes about suppressions; `ruleIndex` points into this list.
    let descriptors: Vec<(&str, &str, String)> = REGISTRY
        .iter()
        .map(|rule| (rule.id(), rule.summary(), rule.doc()))
        .chain(CODES.iter().map(|c| (c.id, c.summary, c.doc.to_string())))
        .collect();
    let rules: Vec<Value> = descriptors
        .iter()
        .map(|(id, summary, doc)| {
            let level = match report.config.level(id) {
                Level::Deny => "error",
                Level::Warn => "warning",
                Level::Allow => "none",
            };
            json!({
                "id": id,
                "name": id,
                "shortDescription": { "text": summary },
                "fullDescription": { "text": summary },
                "help": { "text": doc, "markdown": doc },
                "defaultConfiguration": { "level": level },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let related: Vec<Value> = f
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    json!({
                        "id": i,
                        "physicalLocation": physical_location(model, r.span),
                        "message": { "text": r.label },
                    })
                })
                .collect();
            let rule_index = descriptors
                .iter()
                .position(|(id, _, _)| *id == f.rule)
                .unwrap_or(0);
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": rule_index,
                "level": if f.level == Level::Deny { "error" } else { "warning" },
                "message": { "text": format!("{}\nhelp: {}", f.message, f.help) },
                "locations": [{
                    "physicalLocation": physical_location(model, f.span),
                    "message": { "text": f.label },
                }],
                "relatedLocations": related,
                // SARIF's rank orders results by how likely they are real (0-100).
                "rank": match f.confidence {
                    Confidence::High => 90.0,
                    Confidence::Medium => 60.0,
                    Confidence::Low => 30.0,
                },
                "properties": { "confidence": f.confidence },
            });
            // The baseline's fingerprint: code scanning tracks a result across commits by it.
            if let Some(fingerprint) = report.fingerprints.get(i) {
                result["partialFingerprints"] = json!({ FINGERPRINT_KEY: fingerprint });
            }
            result
        })
        .collect();
    let mut notifications: Vec<Value> = super::unique_notes(model)
        .into_iter()
        .map(|n| {
            let span = n.span.unwrap_or(Span {
                file: n.file,
                start: 0,
                end: 0,
                line: 1,
                column: 1,
            });
            json!({
                "level": "note",
                "message": { "text": format!("{}: {}", model.file(n.file).path, super::note_message(model, n)) },
                "locations": [{ "physicalLocation": physical_location(model, span) }],
            })
        })
        .collect();
    if let Some(text) = super::stale_baseline_text(report) {
        notifications.push(json!({ "level": "note", "message": { "text": text } }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "archlint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "results": results,
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
        }],
    })
}

/// The SARIF log of a run that could not check the workspace at all: no results, an
/// unsuccessful invocation and the error as a `toolExecutionNotification`.
pub fn fatal_sarif(fatal: &super::Fatal) -> Value {
    let mut notification = json!({
        "level": "error",
        "message": { "text": fatal.text() },
        "descriptor": { "id": fatal.code },
    });
    if let Some(location) = &fatal.location {
        notification["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": { "uri": location.path.as_str() },
                "region": { "startLine": location.line, "startColumn": location.column },
            }
        }]);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "archlint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                }
            },
            "results": [],
            "invocations": [{
                "executionSuccessful": false,
                "exitCode": 2,
                "toolExecutionNotifications": [notification],
            }],
        }],
    })
}
