//! `cargo archlint`: the command-line front end.
//!
//! Exit codes: 0 no finding at `deny` level, 1 at least one, 2 usage or configuration error.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand};

use archlint::report::{self, Format, HumanOptions, MapFormat};
use archlint::rules::REGISTRY;
use archlint::Options;

/// Suppression comments, the configuration keys for adoption, and exit codes.
const CHECK_HELP: &str = "\
Suppressing a finding next to the code (a reason is expected; `cargo archlint explain
unused-suppression` and the README say more):
  // archlint: allow(rule-a, rule-b) reason: ...  at a line's end: that line
  // archlint: allow(rule-a) reason: ...          on its own line: the statement or item below
  // archlint: allow-file(rule-a) reason: ...     anywhere: the whole file
  -- archlint: allow(rule-a) reason: ...          in SQL (`#` in YAML, TOML, .env)

In archlint.toml:
  [[allow]] ... expires = \"2027-03-31\"            an exception's last day
  [[overrides]] paths = [\"legacy/**\"]             rule levels for some paths
    rules = { dual-write = \"warn\" }

Exit codes:
  0  no error-level finding
  1  an error-level finding (any finding with --deny-warnings)
  2  a usage, configuration or baseline error, or a member that could not be read";

#[derive(Debug, Parser)]
#[command(
    name = "cargo-archlint",
    bin_name = "cargo archlint",
    version,
    args_conflicts_with_subcommands = true,
    about = "Checks a Cargo workspace of services for shared databases and cross-service data access",
    after_help = CHECK_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Debug, Args, Clone)]
struct WorkspaceArgs {
    /// Path to the workspace's Cargo.toml (or its directory)
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<Utf8PathBuf>,
    /// Configuration file (default: archlint.toml, then [workspace.metadata.archlint])
    #[arg(long, value_name = "PATH")]
    config: Option<Utf8PathBuf>,
}

#[derive(Debug, Args, Clone)]
struct CheckArgs {
    #[command(flatten)]
    workspace: WorkspaceArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// When to use colors in human output
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,
    /// Width of human output (default: $COLUMNS, else 100)
    #[arg(long)]
    width: Option<usize>,
    /// Lowest confidence reported (default: the config's `min-confidence`, else medium)
    #[arg(long, value_enum, value_name = "LEVEL")]
    min_confidence: Option<ConfidenceArg>,
    /// Exit by the findings even when a workspace member could not be read (default: exit 2)
    #[arg(long)]
    keep_going: bool,
    /// Check only these rules (names, comma-separated or repeated; the suppression codes
    /// such as unused-suppression are names too)
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    select: Vec<String>,
    /// Turn these rules off (names, comma-separated or repeated)
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    ignore: Vec<String>,
    /// Treat warnings as errors: any finding exits 1
    #[arg(long)]
    deny_warnings: bool,
    /// Print the number of findings per rule and per service instead of the findings
    /// (human or json format)
    #[arg(long)]
    statistics: bool,
    /// Report only the findings not recorded in this baseline file (written by
    /// --write-baseline); list its entries that no longer occur
    #[arg(long, value_name = "FILE")]
    baseline: Option<Utf8PathBuf>,
    /// With --baseline: rewrite the baseline file without its entries that no longer occur
    #[arg(long, requires = "baseline")]
    prune_baseline: bool,
    /// Record today's findings in a baseline file and exit 0 (later runs with --baseline
    /// report only new ones)
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<Utf8PathBuf>,
    /// Neither read nor write the cache of extracted facts in target/archlint/
    #[arg(long, env = "ARCHLINT_NO_CACHE", value_parser = clap::builder::FalseyValueParser::new())]
    no_cache: bool,
    /// Say on stderr how many files came from the cache
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ConfidenceArg {
    Low,
    Medium,
    High,
}

impl From<ConfidenceArg> for archlint::rules::Confidence {
    fn from(arg: ConfidenceArg) -> Self {
        match arg {
            ConfidenceArg::Low => archlint::rules::Confidence::Low,
            ConfidenceArg::Medium => archlint::rules::Confidence::Medium,
            ConfidenceArg::High => archlint::rules::Confidence::High,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the workspace (the default)
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Print a rule's documentation
    Explain {
        /// Rule name, e.g. shared-database
        rule: String,
    },
    /// List every rule with its level
    Rules(WorkspaceArgs),
    /// Print the architecture: services, databases, tables, calls and topics, with the
    /// findings marked (mermaid, dot, html)
    Map {
        #[command(flatten)]
        workspace: WorkspaceArgs,
        /// Output format (html: one self-contained page with the findings)
        #[arg(long, value_enum, default_value = "text")]
        format: MapFormat,
    },
    /// Write a synthetic workspace for benchmarks
    #[command(hide = true)]
    BenchGen {
        /// Output directory
        dir: Utf8PathBuf,
        /// Number of services to generate
        #[arg(long, default_value_t = 200)]
        services: usize,
        /// Approximate number of lines of Rust in all
        #[arg(long, default_value_t = 300_000)]
        lines: usize,
    },
    /// Grow one input of each kind by 2x steps and report the exponent of the time
    #[command(hide = true)]
    BenchScaling {
        /// Scratch directory for the generated workspaces
        #[arg(long, default_value = "/tmp/archlint-scaling")]
        dir: Utf8PathBuf,
        /// Number of sizes per input (each twice the previous)
        #[arg(long, default_value_t = 4)]
        steps: usize,
        /// Checks per size; the median is reported
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// The benchmark's baseline: read and parse every `.rs` file under a directory
    #[command(hide = true)]
    BenchBaseline {
        /// Workspace directory
        dir: Utf8PathBuf,
    },
    /// Time `check` (without the cache, cold, warm, one file changed) against a parallel read
    /// + syn::parse_file baseline, all as whole commands
    #[command(hide = true)]
    Bench {
        /// Workspace directory
        dir: Utf8PathBuf,
        /// Interleaved runs of each side; medians and minimums are reported
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

fn main() -> ExitCode {
    // As a cargo subcommand, argv is `cargo-archlint archlint ...`.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "archlint") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

fn options(args: &WorkspaceArgs) -> Options {
    Options {
        manifest_path: args
            .manifest_path
            .clone()
            .unwrap_or_else(|| Utf8PathBuf::from(".")),
        config_path: args.config.clone(),
        ..Options::new(".")
    }
}

fn run(cli: Cli) -> miette::Result<ExitCode> {
    match cli.command {
        None => check(&cli.check),
        Some(Command::Check(args)) => check(&args),
        // `SHARED_DATABASE` and `Shared-Database` name `shared-database` too.
        Some(Command::Explain { rule }) => {
            let name = archlint::rules::canonical_name(&rule);
            let doc = archlint::rules::find(&name)
                .map(|rule| rule.doc())
                .or_else(|| archlint::suppress::code(&name).map(|code| code.doc.to_string()));
            explain(&rule, &name, doc)
        }
        Some(Command::Rules(workspace)) => {
            let config = match archlint::discover::discover(&options(&workspace).manifest_path) {
                Ok(found) => {
                    archlint::config::Config::load(&found.root, workspace.config.as_deref())?
                }
                Err(_) => archlint::config::Config::default(),
            };
            let codes = archlint::suppress::CODES.iter().map(|c| (c.id, c.summary));
            for (id, summary) in REGISTRY.iter().map(|r| (r.id(), r.summary())).chain(codes) {
                println!("{:<26} {:<5} {}", id, config.level(id).to_string(), summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Map { workspace, format }) => {
            let options = options(&workspace);
            let text = if format == MapFormat::Text {
                // The inventory shows no findings: the rules need not run.
                let (model, _) = archlint::analyze(&options)?;
                report::map_text(&model)
            } else {
                // The drawings mark the findings, so the rules run as for `check`.
                report::render_map(&archlint::check(&options)?, format)
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::BenchGen {
            dir,
            services,
            lines,
        }) => {
            archlint::bench::generate(&dir, services, lines)
                .map_err(|e| miette::miette!("cannot write {dir}: {e}"))?;
            println!("wrote {services} services (~{lines} lines) to {dir}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::BenchScaling { dir, steps, runs }) => {
            let text = archlint::scaling::run(&dir, steps, runs)
                .map_err(|e| miette::miette!("cannot write under {dir}: {e}"))?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::BenchBaseline { dir }) => {
            let (files, lines) =
                archlint::stack::with_deep_stacks(|| archlint::bench::baseline(&dir));
            println!("{files} files, {lines} lines parsed");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Bench { dir, runs }) => bench(&dir, runs),
    }
}

/// `explain`: a rule's or suppression code's documentation, or the closest known name.
fn explain(written: &str, name: &str, doc: Option<String>) -> miette::Result<ExitCode> {
    if let Some(doc) = doc {
        println!("# {name}\n\n{doc}");
        return Ok(ExitCode::SUCCESS);
    }
    let known: Vec<String> = archlint::rules::known_ids().map(str::to_string).collect();
    let suggestion = archlint::config::did_you_mean(written, &known)
        .map(|close| format!("; did you mean `{close}`?"))
        .unwrap_or_default();
    eprintln!(
        "error: unknown rule `{written}`{suggestion} (known rules: {})",
        known.join(", ")
    );
    Ok(ExitCode::from(2))
}

/// Times the check against the baseline as whole commands, as a user runs them: this binary
/// started as `bench-baseline DIR` and as `check --manifest-path DIR` (its human output
/// rendered and read to the end) without the cache, with the cache cleared (cold: every
/// entry written), warm (nothing changed) and with one file changed. Interleaved, so a
/// change in machine load hits every side alike.
fn bench(dir: &camino::Utf8Path, runs: usize) -> miette::Result<ExitCode> {
    use archlint::bench::{run_command, Run};
    let failed = |e: std::io::Error| miette::miette!("cannot run the benchmark commands: {e}");
    let root = dir.canonicalize_utf8().unwrap_or_else(|_| dir.to_owned());
    let cache_dir = archlint::cache::dir_for(&root);
    let changed = archlint::bench::file_to_change(dir)
        .ok_or_else(|| miette::miette!("no Rust file under {dir} to change"))?;
    let original = std::fs::read_to_string(&changed)
        .map_err(|e| miette::miette!("cannot read {changed}: {e}"))?;
    let check = ["check", "--manifest-path", dir.as_str()];
    let no_cache = ["check", "--no-cache", "--manifest-path", dir.as_str()];
    let sides = [
        "baseline: bench-baseline (read + parse)",
        "check --no-cache",
        "check, cold (cache cleared, entries written)",
        "check, warm (nothing changed)",
        "check, warm, one file changed",
    ];
    let mut times: Vec<Vec<Run>> = vec![Vec::new(); sides.len()];
    for run in 0..runs.max(1) {
        times[0].push(run_command(&["bench-baseline", dir.as_str()]).map_err(failed)?);
        times[1].push(run_command(&no_cache).map_err(failed)?);
        let _ = std::fs::remove_dir_all(&cache_dir);
        times[2].push(run_command(&check).map_err(failed)?);
        times[3].push(run_command(&check).map_err(failed)?);
        std::fs::write(&changed, format!("{original}// bench edit {run}\n"))
            .map_err(|e| miette::miette!("cannot write {changed}: {e}"))?;
        let one_changed = run_command(&check);
        std::fs::write(&changed, &original)
            .map_err(|e| miette::miette!("cannot restore {changed}: {e}"))?;
        times[4].push(one_changed.map_err(failed)?);
    }
    // Counted after the timed runs: a parent grown by a check in process would count in the
    // children's peak memory (a forked child starts as a copy of it).
    let (files, lines) = archlint::stack::with_deep_stacks(|| archlint::bench::baseline(dir));
    let findings = archlint::check(&Options::new(dir.to_owned()))
        .map(|report| report.findings.len())
        .unwrap_or(0);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let median = |runs: &[Run]| {
        let mut sorted: Vec<f64> = runs.iter().map(|r| ms(r.time)).collect();
        sorted.sort_by(f64::total_cmp);
        (sorted[sorted.len() / 2], sorted[0])
    };
    let peak = |runs: &[Run]| {
        runs.iter()
            .filter_map(|r| r.peak_rss_kib)
            .max()
            .map_or_else(
                || "-".to_string(),
                |kib| format!("{:.1}", kib as f64 / 1024.0),
            )
    };
    println!(
        "{files} files, {lines} lines, {} threads, {runs} interleaved runs of each command \
         ({findings} findings; one-file runs edit {changed})\n{:<46} {:>9} {:>9} {:>13}",
        rayon::current_num_threads(),
        "",
        "median ms",
        "min ms",
        "peak RSS MiB"
    );
    let stats: Vec<(f64, f64)> = times.iter().map(|runs| median(runs)).collect();
    for ((side, runs), (med, min)) in sides.iter().zip(&times).zip(&stats) {
        println!("{side:<46} {med:>9.1} {min:>9.1} {:>13}", peak(runs));
    }
    let ratio = |a: usize, b: usize| {
        (
            stats[a].0 / stats[b].0.max(1e-9),
            stats[a].1 / stats[b].1.max(1e-9),
        )
    };
    for (label, a, b, target) in [
        ("check --no-cache / baseline", 1, 0, ""),
        ("cold / baseline", 2, 0, "   (target 1.3x)"),
        (
            "cold / check --no-cache (cost of writing the cache)",
            2,
            1,
            "",
        ),
        ("warm / cold", 3, 2, "   (target 0.1x)"),
        ("one file changed / cold", 4, 2, "   (target 0.2x)"),
    ] {
        let (med, min) = ratio(a, b);
        println!("{label:<52} median {med:.2}x   min {min:.2}x{target}");
    }
    for cached in [false, true] {
        println!(
            "phases of one check in this process, {} (median of {} runs):",
            if cached { "warm" } else { "without the cache" },
            runs.max(1)
        );
        for (phase, time) in archlint::bench::median_phases(dir, runs, cached) {
            println!("  {phase:<58} {:>9.1} ms", ms(time));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(args: &CheckArgs) -> miette::Result<ExitCode> {
    if args.statistics && matches!(args.format, Format::Sarif | Format::Github) {
        eprintln!("error: --statistics prints human or json output, not sarif or github commands");
        return Ok(ExitCode::from(2));
    }
    let mut options = options(&args.workspace);
    options.min_confidence = args.min_confidence.map(Into::into);
    options.select.clone_from(&args.select);
    options.ignore.clone_from(&args.ignore);
    options.deny_warnings = args.deny_warnings;
    options.baseline.clone_from(&args.baseline);
    options.cache = !args.no_cache;
    let report = match archlint::check(&options) {
        Ok(report) => report,
        Err(error) => {
            // A tool reading JSON or SARIF gets the error in that format too, on stdout.
            let fatal = report::Fatal::of(&error);
            if let Some(text) = report::render_fatal(&fatal, args.format) {
                print!("{text}");
                eprintln!("{:?}", miette::Report::new(error));
                return Ok(ExitCode::from(2));
            }
            return Err(error.into());
        }
    };
    let stdout = std::io::stdout();
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let width = args.width.unwrap_or_else(|| {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100)
    });
    if args.verbose {
        match &report.model.cache {
            Some(stats) => eprintln!("{}", stats.summary()),
            None => eprintln!("archlint: {} files, cache off", report.model.files.len()),
        }
    }
    let incomplete = report.skipped_members() && !args.keep_going;
    if let Some(path) = &args.write_baseline {
        if incomplete {
            eprintln!(
                "error: a workspace member could not be read, so its findings would be missing \
                 from the baseline; nothing written. Fix it, or pass --keep-going."
            );
            return Ok(ExitCode::from(2));
        }
        let entries = report.baseline_entries();
        let count = entries.len();
        archlint::baseline::write(path, entries).map_err(archlint::Error::from)?;
        eprintln!("archlint: wrote {count} findings to {path}");
        return Ok(ExitCode::SUCCESS);
    }
    if let (true, Some(baseline)) = (args.prune_baseline, &report.baseline) {
        let removed = match baseline.stale.len() {
            1 => "1 entry that no longer occurs".to_string(),
            n => format!("{n} entries that no longer occur"),
        };
        archlint::baseline::write(&baseline.path, baseline.matched.clone())
            .map_err(archlint::Error::from)?;
        eprintln!("archlint: removed {removed} from {}", baseline.path);
    }
    let text = if args.statistics {
        report::render_statistics(&report, args.format).unwrap_or_default()
    } else {
        report::render(&report, args.format, HumanOptions { color, width })
    };
    let mut out = stdout.lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    let code = if incomplete {
        eprintln!(
            "error: a workspace member could not be read (see the notes); its findings are \
             missing. Fix it, or pass --keep-going to exit by the findings of the rest."
        );
        ExitCode::from(2)
    } else if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends here: the OS takes the model's memory back at once, faster than
    // freeing it allocation by allocation.
    std::mem::forget(report);
    Ok(code)
}
