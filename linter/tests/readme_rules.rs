//! The README's Rules table and its sentence about the presets say what the registry and the
//! presets do: every rule, in registry order, with its level under `recommended` and, where
//! it differs, under `strict`.

use archlint::config::{Config, Level};
use archlint::rules::REGISTRY;
use camino::Utf8Path;

fn readme() -> String {
    let path = Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn presets() -> (Config, Config) {
    let strict = Config::from_text("extends = \"strict\"\n", Utf8Path::new("archlint.toml"))
        .unwrap_or_else(|e| panic!("strict preset: {e}"));
    (Config::default(), strict)
}

#[test]
fn the_rules_table_lists_every_rule_with_its_levels() {
    let readme = readme();
    let table = readme
        .split("## Rules\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Rules section"));
    let rows: Vec<(String, String)> = table
        .lines()
        .skip_while(|l| !l.starts_with("| `"))
        .take_while(|l| l.starts_with("| `"))
        .map(|row| {
            let cells: Vec<&str> = row.split(" | ").collect();
            (
                cells[0]
                    .trim_start_matches("| ")
                    .trim_matches('`')
                    .to_string(),
                cells[1].to_string(),
            )
        })
        .collect();
    let (recommended, strict) = presets();
    let expected: Vec<(String, String)> = REGISTRY
        .iter()
        .map(|rule| {
            let (normal, strictest) = (recommended.level(rule.id()), strict.level(rule.id()));
            let level = if normal == strictest {
                normal.to_string()
            } else {
                format!("{normal} (`strict`: {strictest})")
            };
            (rule.id().to_string(), level)
        })
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn the_preset_sentence_names_every_rule_at_its_level() {
    let readme = readme();
    let sentence: String = readme
        .split("`recommended` denies ")
        .nth(1)
        .and_then(|rest| rest.split(", and judges").next())
        .unwrap_or_else(|| panic!("no preset sentence"))
        .replace('\n', " ");
    let (denied, warned) = sentence
        .split_once(", warns on ")
        .unwrap_or_else(|| panic!("{sentence}"));
    let names = |text: &str| -> Vec<String> {
        let mut names: Vec<String> = text
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        names.sort();
        names
    };
    let (recommended, strict) = presets();
    let at = |level: Level| -> Vec<String> {
        let mut ids: Vec<String> = REGISTRY
            .iter()
            .map(|r| r.id())
            .filter(|id| recommended.level(id) == level)
            .map(str::to_string)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(names(denied), at(Level::Deny), "{sentence}");
    assert_eq!(names(warned), at(Level::Warn), "{sentence}");
    assert!(REGISTRY.iter().all(|r| strict.level(r.id()) == Level::Deny));
}
