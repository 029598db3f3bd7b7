//! Seven larger workspaces in `tests/corpus/`, each written as a team would write its services
//! (several frameworks, brokers and database APIs), with a ground truth in `expected.toml`
//! (planted violations, look-alikes that must stay silent, debatable cases; `EXPECTED.md` tells
//! their story). The findings of each are kept as a snapshot, and the precision and recall the
//! README states are computed here from a real run against that ground truth.

mod corpus_support;

use std::collections::BTreeSet;
use std::path::Path;

use archlint::rules::REGISTRY;
use corpus_support::{corpus, expected, name, run, score, table, Place, Score};

/// `rule path:line message`, one line per finding, in archlint's order.
fn findings(workspace: &Path) -> String {
    run(workspace)
        .iter()
        .map(|finding| format!("{}\n", finding.text))
        .collect()
}

#[test]
fn corpus_findings() {
    let workspaces = corpus();
    assert_eq!(workspaces.len(), 7, "{workspaces:?}");
    for workspace in workspaces {
        assert!(workspace.join("EXPECTED.md").is_file(), "{workspace:?}");
        insta::assert_snapshot!(name(&workspace), findings(&workspace));
    }
}

/// Every case has a unique id, known rules and places that exist: a typo in the ground truth
/// must not turn into a silent look-alike or a violation nothing can find.
#[test]
fn every_case_names_known_rules_and_existing_places() {
    let known: BTreeSet<&str> = REGISTRY.iter().map(|rule| rule.id()).collect();
    for workspace in corpus() {
        let files: Vec<String> = walkdir::WalkDir::new(&workspace)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_file())
            .filter_map(|entry| {
                let relative = entry.path().strip_prefix(&workspace).ok()?;
                Some(relative.to_string_lossy().into_owned())
            })
            .collect();
        let mut ids = BTreeSet::new();
        for case in expected(&workspace).case {
            let at = format!("{} case {}", name(&workspace), case.id);
            assert!(ids.insert(case.id.clone()), "{at}: id used twice");
            assert!(
                !case.rules.is_empty() && !case.at.is_empty(),
                "{at}: no rule or no place"
            );
            assert_eq!(
                case.also_at.is_empty(),
                case.revised.is_none(),
                "{at}: places added after a run say why (`revised`)"
            );
            for rule in &case.rules {
                assert!(known.contains(rule.as_str()), "{at}: unknown rule `{rule}`");
            }
            for text in case.places() {
                let place = Place::parse(text).unwrap_or_else(|e| panic!("{at}: {e}"));
                let matching: Vec<&String> =
                    files.iter().filter(|f| place.path.is_match(f)).collect();
                assert!(!matching.is_empty(), "{at}: no file matches `{text}`");
                if let Some((first, last)) = place.lines {
                    assert!(first <= last && first > 0, "{at}: `{text}`");
                    for file in matching {
                        let lines = std::fs::read_to_string(workspace.join(file))
                            .map(|t| t.lines().count())
                            .unwrap_or(0);
                        assert!(last <= lines, "{at}: `{text}` is past the end of {file}");
                    }
                }
            }
        }
    }
}

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rows of the README table whose header starts with `header`.
fn readme_table(header: &str) -> String {
    let readme = readme();
    let mut lines = readme.lines().skip_while(|line| !line.starts_with(header));
    let table: Vec<&str> = lines
        .by_ref()
        .take_while(|line| line.starts_with('|'))
        .collect();
    assert!(
        !table.is_empty(),
        "no README table starting with `{header}`"
    );
    table.iter().map(|line| format!("{line}\n")).collect()
}

#[test]
fn readme_precision_and_recall_are_computed_from_the_ground_truth() {
    let mut per_rule: Vec<(String, Score)> = REGISTRY
        .iter()
        .map(|rule| (format!("`{}`", rule.id()), Score::default()))
        .collect();
    let mut per_workspace = Vec::new();
    let mut details = String::new();
    let (mut cases, mut reclassified, mut revised, mut added) = (0, 0, 0, 0);
    for workspace in corpus() {
        let expected = expected(&workspace);
        cases += expected.case.len();
        reclassified += expected
            .case
            .iter()
            .filter(|c| c.reclassified.is_some())
            .count();
        revised += expected.case.iter().filter(|c| c.revised.is_some()).count();
        added += expected.case.iter().filter(|c| c.added_after_run).count();
        let scored = score(&workspace, &expected, &run(&workspace));
        let mut total = Score::default();
        for (rule, score) in &scored.per_rule {
            total.add(score);
            let label = format!("`{rule}`");
            match per_rule.iter_mut().find(|(l, _)| *l == label) {
                Some((_, sum)) => sum.add(score),
                None => panic!("finding or case of unknown rule {rule}"),
            }
        }
        details.push_str(&format!(
            "{}:\n  missed: {:#?}\n  false positives: {:#?}\n  loud look-alikes: {:#?}\n",
            name(&workspace),
            scored.missed,
            scored.false_positives,
            scored.loud_look_alikes
        ));
        per_workspace.push((format!("`{}`", name(&workspace)), total));
    }
    let history = format!(
        "{cases} cases (reclassified after a run: {reclassified}; places added after a run: \
         {revised}; listed only after a run: {added})"
    );
    assert!(
        readme().replace('\n', " ").contains(&history),
        "the README says how the ground truth changed after runs: {history}"
    );
    let by_rule = table("rule", &per_rule);
    let by_workspace = table("workspace", &per_workspace);
    assert_eq!(
        readme_table("| rule | violations | found"),
        by_rule,
        "README table per rule differs from the scores; what the run gave:\n{by_rule}\n{details}"
    );
    assert_eq!(
        readme_table("| workspace | violations | found"),
        by_workspace,
        "README table per workspace differs from the scores; what the run gave:\n{by_workspace}"
    );
}
