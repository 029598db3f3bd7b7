//! The map as one self-contained HTML page: the drawing as inline SVG, then a table of the
//! findings linking to their source locations, filterable by rule and by service. Its style
//! and script are inline (`page.css`, `page.js`), and its content security policy forbids
//! loading anything, so it opens the same offline. Every name from the workspace is escaped.

use std::fmt::Write as _;

use serde::Serialize;

use super::graph::{ArchMap, NodeKind};
use crate::config::Level;
use crate::Report;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

pub fn render(report: &Report, map: &ArchMap) -> String {
    let title = format!("archlint map of {}", map.workspace);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let _ = writeln!(
        out,
        "<header>\n<h1>archlint map of <code>{}</code></h1>\n<p class=\"summary\">{}</p>\n</header>",
        escape(&map.workspace),
        escape(&summary(map))
    );
    out.push_str(
        "<section id=\"map\">\n<ul class=\"legend\">\
         <li><span class=\"key service\"></span>service</li>\
         <li><span class=\"key database\"></span>database</li>\
         <li><span class=\"key table\"></span>table</li>\
         <li><span class=\"key topic\"></span>topic</li>\
         <li><span class=\"key calls\"></span>call</li>\
         <li><span class=\"key flow\"></span>connection, access, event flow</li>\
         <li><span class=\"key violation\"></span>finding, with its rule</li>\
         </ul>\n<div class=\"drawing\">\n",
    );
    out.push_str(&super::svg::render(map));
    out.push_str("</div>\n</section>\n");
    findings_section(&mut out, report, map);
    let _ = write!(out, "<script>\n{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// `4 services, 3 databases, 9 tables, 2 topics; 21 findings (11 errors, 10 warnings)`.
fn summary(map: &ArchMap) -> String {
    let count = |kind: NodeKind| map.nodes.iter().filter(|n| n.kind == kind).count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let errors = map
        .findings
        .iter()
        .filter(|f| f.level == Level::Deny)
        .count();
    let warnings = map.findings.len() - errors;
    format!(
        "{}, {}, {}, {}; {} ({}, {})",
        plural(count(NodeKind::Service), "service", "services"),
        plural(count(NodeKind::Database), "database", "databases"),
        plural(count(NodeKind::Table), "table", "tables"),
        plural(count(NodeKind::Topic), "topic", "topics"),
        plural(map.findings.len(), "finding", "findings"),
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
    )
}

fn findings_section(out: &mut String, report: &Report, map: &ArchMap) {
    let mut rules: Vec<&str> = map.findings.iter().map(|f| f.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    out.push_str(
        "<section id=\"findings\">\n<h2>Findings</h2>\n<div class=\"filters\">\n\
         <label>Rule <select id=\"rule-filter\"><option value=\"\">all rules</option>",
    );
    for rule in rules {
        let _ = write!(out, "<option>{}</option>", escape(rule));
    }
    out.push_str(
        "</select></label>\n<label>Service <select id=\"service-filter\">\
         <option value=\"\">all services</option>",
    );
    for service in map.service_names() {
        let _ = write!(out, "<option>{}</option>", escape(service));
    }
    out.push_str(
        "</select></label>\n<span id=\"shown\" aria-live=\"polite\"></span>\n</div>\n\
         <table>\n<thead><tr><th>level</th><th>rule</th><th>services</th><th>finding</th>\
         <th>location</th></tr></thead>\n<tbody>\n",
    );
    if map.findings.is_empty() {
        out.push_str("<tr class=\"none\"><td colspan=\"5\">no findings</td></tr>\n");
    }
    for (index, (finding, full)) in map.findings.iter().zip(&report.findings).enumerate() {
        let level = match finding.level {
            Level::Deny => "error",
            Level::Warn | Level::Allow => "warning",
        };
        let location = format!("{}:{}:{}", finding.path, finding.line, finding.column);
        let _ = writeln!(
            out,
            "<tr class=\"finding {level}\" data-finding=\"{index}\" data-rules=\"{}\" \
             data-services=\"{}\"><td class=\"level\">{level}</td><td class=\"rule\">{}</td>\
             <td>{}</td><td>{}<div class=\"help\">{}</div></td>\
             <td class=\"location\"><a href=\"{}\">{}</a></td></tr>",
            json_attribute(&[finding.rule]),
            json_attribute(&finding.services),
            escape(finding.rule),
            escape(&finding.services.join(", ")),
            escape(&finding.message),
            escape(&full.help),
            escape(&relative_href(&finding.path)),
            escape(&location),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// Text for HTML content or a quoted attribute value (line breaks kept: tooltips use them).
pub(super) fn escape(text: &str) -> String {
    super::replace_chars(text, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    })
}

/// A list as JSON, escaped for a quoted attribute (the script reads it with `JSON.parse`).
pub(super) fn json_attribute<T: Serialize + ?Sized>(value: &T) -> String {
    escape(&serde_json::to_string(value).unwrap_or_else(|_| "[]".to_string()))
}

/// A workspace-relative path as a relative URL: each byte outside the unreserved set and `/`
/// percent-encoded, so `#`, `?`, `%`, `:` and spaces in a name stay part of the path.
fn relative_href(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn hrefs_keep_odd_names_inside_the_path() {
        assert_eq!(relative_href("svc/src/main.rs"), "svc/src/main.rs");
        assert_eq!(relative_href("my dir/#1?.rs"), "my%20dir/%231%3F.rs");
        assert_eq!(
            relative_href("../docker-compose.yml"),
            "../docker-compose.yml"
        );
        assert_eq!(relative_href("caf\u{e9}.sql"), "caf%C3%A9.sql");
        assert_eq!(relative_href("c:/x.rs"), "c%3A/x.rs");
    }
}
