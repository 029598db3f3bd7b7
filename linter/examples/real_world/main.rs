//! Scores archlint on the real-world corpus: public repositories labelled in
//! `tests/real-world/`, materialised from local bare mirrors, checked zero-config.
//!
//! ```sh
//! cargo run --release -p archlint --example real_world -- [--mirrors DIR] [--holdout]
//!     [--verbose] [--record-first-run] [--first-run] [owner/name ...]
//! ```
//!
//! A repository whose mirror is absent is skipped with a line saying so.

mod labels;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use labels::{ratio, score, Counts, LabelFile, Observed, Verdict, SCORED_RULES};

struct Args {
    mirrors: PathBuf,
    holdout: bool,
    verbose: bool,
    record_first_run: bool,
    first_run: bool,
    only: Vec<String>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn parse_args() -> Result<Args, String> {
    let root = project_root();
    let mut args = Args {
        mirrors: std::env::var_os("ARCHLINT_MIRRORS")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("../.mirror")),
        holdout: false,
        verbose: false,
        record_first_run: false,
        first_run: false,
        only: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--mirrors" => {
                args.mirrors = it.next().ok_or("--mirrors needs a directory")?.into();
            }
            "--holdout" => args.holdout = true,
            "--verbose" | "-v" => args.verbose = true,
            "--record-first-run" => args.record_first_run = true,
            "--first-run" => args.first_run = true,
            "--help" | "-h" => {
                println!(
                    "usage: real_world [--mirrors DIR] [--holdout] [--verbose] \
                     [--record-first-run] [--first-run] [owner/name ...]"
                );
                std::process::exit(0);
            }
            other if other.starts_with('-') => return Err(format!("unknown option `{other}`")),
            repo => args.only.push(repo.to_string()),
        }
    }
    Ok(args)
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let root = project_root();
    let corpus = if args.holdout {
        root.join("tests/real-world/holdout")
    } else {
        root.join("tests/real-world")
    };
    let first_run_dir = corpus.join("first-run");
    let files = labels::load_dir(&corpus)?;
    let selected: Vec<&LabelFile> = files
        .iter()
        .map(|(_, f)| f)
        .filter(|f| args.only.is_empty() || args.only.contains(&f.repository))
        .collect();
    if selected.is_empty() {
        return Err("no labelled repository selected".into());
    }
    if args.first_run {
        return print_first_runs(&selected, &first_run_dir);
    }

    let mut totals: BTreeMap<&'static str, Counts> = BTreeMap::new();
    let mut scored_repos = 0;
    for labels in selected {
        let git_dir = args.mirrors.join(labels.mirror_name()).join("repo");
        if !git_dir.is_dir() {
            println!(
                "{}: skipped, no mirror at {}",
                labels.repository,
                git_dir.display()
            );
            continue;
        }
        let tree = root.join("target/real-world").join(labels.mirror_name());
        materialise(&root, &git_dir, &labels.commit, &tree)?;
        let (findings, unscored, notes) = check(labels, &tree);
        let scored = score(labels, &findings);
        scored_repos += 1;
        print_repository(labels, &scored, &unscored, notes, args.verbose);
        for (rule, counts) in &scored.per_rule {
            totals.entry(rule).or_default().add(*counts);
        }
        if args.record_first_run {
            record_first_run(&first_run_dir, labels, &scored)?;
        }
    }
    if scored_repos > 0 {
        println!();
        print_table(&format!("all {scored_repos} repositories"), &totals);
    }
    Ok(())
}

fn materialise(root: &Path, git_dir: &Path, commit: &str, tree: &Path) -> Result<(), String> {
    let status = Command::new("bash")
        .arg(root.join("tests/real-world/materialise.sh"))
        .arg(git_dir)
        .arg(commit)
        .arg(tree)
        .status()
        .map_err(|e| format!("materialise.sh: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("materialise.sh failed for {}", git_dir.display()))
    }
}

/// Runs archlint zero-config on each workspace; returns the scored rules' findings, the
/// other rules' counts, and how many notes (files it could not read) it printed.
fn check(labels: &LabelFile, tree: &Path) -> (Vec<Observed>, BTreeMap<String, usize>, usize) {
    let mut findings = Vec::new();
    let mut unscored: BTreeMap<String, usize> = BTreeMap::new();
    let mut notes = 0;
    for workspace in &labels.workspaces {
        let dir = tree.join(workspace);
        let Some(dir) = dir.to_str().map(camino::Utf8PathBuf::from) else {
            println!("{}: workspace {workspace} is not UTF-8", labels.repository);
            continue;
        };
        let report = match archlint::check(&archlint::Options::new(dir)) {
            Ok(report) => report,
            Err(error) => {
                println!(
                    "{}: {workspace}: could not check: {error}",
                    labels.repository
                );
                continue;
            }
        };
        notes += report.model.notes.len();
        let prefix = workspace.trim_start_matches("./").trim_end_matches('/');
        for finding in &report.findings {
            if !SCORED_RULES.contains(&finding.rule) {
                *unscored.entry(finding.rule.to_string()).or_default() += 1;
                continue;
            }
            let path = report.model.file(finding.span.file).path.as_str();
            let path = if prefix.is_empty() || prefix == "." {
                path.to_string()
            } else {
                repository_path(prefix, path)
            };
            findings.push(Observed {
                rule: finding.rule.to_string(),
                path,
                line: finding.span.line,
                message: finding.message.clone(),
                services: finding.services.clone(),
                table: finding.table.clone(),
                confidence: Some(finding.confidence.to_string()),
            });
        }
    }
    (findings, unscored, notes)
}

/// A finding's path in the repository: the workspace's prefix joined to the workspace-relative
/// path, whose leading `..` (deployment files above the workspace) climb out of the prefix.
fn repository_path(prefix: &str, path: &str) -> String {
    let mut parts: Vec<&str> = prefix.split('/').collect();
    let mut rest = path;
    while let Some(above) = rest.strip_prefix("../") {
        parts.pop();
        rest = above;
    }
    parts.push(rest);
    parts.retain(|part| !part.is_empty());
    parts.join("/")
}

fn print_repository(
    labels: &LabelFile,
    scored: &labels::Scored,
    unscored: &BTreeMap<String, usize>,
    notes: usize,
    verbose: bool,
) {
    println!();
    print_table(
        &format!("{} @ {}", labels.repository, &labels.commit[..12]),
        &scored.per_rule,
    );
    if !unscored.is_empty() {
        let list: Vec<String> = unscored.iter().map(|(r, n)| format!("{r} {n}")).collect();
        println!("  unscored rules: {}", list.join(", "));
    }
    if notes > 0 {
        println!("  notes (files not read or parsed): {notes}");
    }
    if !verbose {
        return;
    }
    for line in labels.summary.lines().filter(|l| !l.trim().is_empty()) {
        println!("  | {}", line.trim());
    }
    for (finding, verdict) in &scored.verdicts {
        let tag = match verdict {
            Verdict::True => "TP  ",
            Verdict::Duplicate => "DUP ",
            Verdict::OnLookalike => "FP* ",
            Verdict::Debatable => "deb ",
            Verdict::False => "FP  ",
        };
        println!(
            "  {tag} {} {}:{} [{}] {}",
            finding.rule,
            finding.path,
            finding.line,
            finding.confidence.as_deref().unwrap_or("-"),
            finding.message
        );
    }
    for &i in &scored.missed {
        let label = &labels.violation[i];
        println!(
            "  MISS {} {}:{}-{} {}",
            label.rule, label.file, label.lines[0], label.lines[1], label.reason
        );
        if let Some(why) = &label.reclassified {
            println!("       (reclassified after the first run: {why})");
        }
    }
}

fn print_table(title: &str, per_rule: &BTreeMap<&'static str, Counts>) {
    println!("{title}");
    println!(
        "  {:<26} {:>6} {:>6} {:>6} {:>9} {:>7}",
        "rule", "labels", "found", "false", "precision", "recall"
    );
    let mut all = Counts::default();
    for rule in SCORED_RULES {
        let counts = per_rule.get(rule).copied().unwrap_or_default();
        all.add(counts);
        if counts == Counts::default() {
            continue;
        }
        print_row(rule, counts);
    }
    print_row("overall", all);
}

fn print_row(name: &str, counts: Counts) {
    println!(
        "  {:<26} {:>6} {:>6} {:>6} {:>9} {:>7}",
        name,
        counts.labels,
        counts.found,
        counts.false_positives,
        ratio(counts.precision()),
        ratio(counts.recall())
    );
}

/// The first run of a repository is kept as it was: its findings, their verdicts and the
/// counts, with the archlint commit that produced them.
fn record_first_run(dir: &Path, labels: &LabelFile, scored: &labels::Scored) -> Result<(), String> {
    let path = dir.join(format!("{}.json", labels.stem()));
    if path.exists() {
        println!(
            "  first run already recorded in {}; left as it is",
            path.display()
        );
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let archlint_commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(project_root())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let record = serde_json::json!({
        "repository": labels.repository,
        "commit": labels.commit,
        "archlint_commit": archlint_commit,
        "per_rule": scored.per_rule,
        "findings": scored.verdicts.iter().map(|(f, v)| serde_json::json!({
            "finding": f,
            "verdict": v,
        })).collect::<Vec<_>>(),
        "missed": scored.missed.iter().map(|&i| {
            let l = &labels.violation[i];
            serde_json::json!({"rule": l.rule, "file": l.file, "lines": l.lines})
        }).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&record).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("  first run recorded in {}", path.display());
    Ok(())
}

/// Adds up the recorded first runs, as they were scored when recorded.
fn print_first_runs(selected: &[&LabelFile], dir: &Path) -> Result<(), String> {
    let mut totals: BTreeMap<&'static str, Counts> = BTreeMap::new();
    let mut recorded = 0;
    for labels in selected {
        let path = dir.join(format!("{}.json", labels.stem()));
        let Ok(text) = std::fs::read_to_string(&path) else {
            println!("{}: no first run recorded", labels.repository);
            continue;
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let per_rule: BTreeMap<String, Counts> = serde_json::from_value(value["per_rule"].clone())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        recorded += 1;
        for rule in SCORED_RULES {
            if let Some(counts) = per_rule.get(*rule) {
                totals.entry(rule).or_default().add(*counts);
            }
        }
    }
    print_table(&format!("first runs of {recorded} repositories"), &totals);
    Ok(())
}
