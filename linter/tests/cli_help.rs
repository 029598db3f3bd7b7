//! Every flag and argument of every subcommand has help text.

use std::process::Command;

#[test]
fn every_flag_and_argument_has_help_text() {
    for subcommand in [
        None,
        Some("check"),
        Some("map"),
        Some("rules"),
        Some("explain"),
        Some("bench"),
        Some("bench-gen"),
        Some("bench-scaling"),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"));
        command.args(subcommand).arg("--help");
        let output = command.output().unwrap_or_else(|e| panic!("{e}"));
        assert!(output.status.success(), "{subcommand:?}");
        let help = String::from_utf8_lossy(&output.stdout);
        let entries = help
            .lines()
            .map(str::trim_start)
            .filter(|line| line.starts_with('-') || line.starts_with('<') || line.starts_with('['));
        for entry in entries {
            // `--flag <VALUE>  Help text`: the help is after a run of two spaces.
            let described = entry
                .split("  ")
                .filter(|part| !part.trim().is_empty())
                .count()
                >= 2;
            assert!(
                described,
                "{subcommand:?}: `{entry}` has no help text\n{help}"
            );
        }
    }
}
