//! The warm cache (`target/archlint/`): a warm run reports exactly what a cold one does, and
//! an entry is trusted only while the file's text, what its extraction read, the
//! configuration and the tool are unchanged. A broken cache is rebuilt without a word, and
//! `--no-cache` writes nothing. Each test runs the `cargo-archlint` binary with `--verbose`,
//! whose line on stderr says how many files came from the cache, on a copy of
//! `examples/shop` that it edits.

mod example_support;

use std::path::PathBuf;
use std::process::Output;

use example_support::{stderr, stdout, Workspace};

/// A new cross-service read in the orders service: `payments` belongs to payments.
const NEW_VIOLATION: &str = "\npub async fn peek_payments(pool: &sqlx::PgPool) -> Result<i64, sqlx::Error> {\n    sqlx::query_scalar(\"SELECT count(*) FROM payments\").fetch_one(pool).await\n}\n";

const STOCK: &str = "services/orders/src/stock.rs";

/// Files read and files taken from the cache, from the `--verbose` line.
fn cache_counts(output: &Output) -> (usize, usize) {
    let text = stderr(output);
    let line = text
        .lines()
        .find(|l| l.starts_with("archlint: ") && l.contains(" from the cache"))
        .unwrap_or_else(|| panic!("no cache line on stderr: {text}"));
    let numbers: Vec<usize> = line
        .split([' ', ','])
        .filter_map(|word| word.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

/// Runs a JSON check with `--verbose` and the extra arguments; returns the output.
fn check(shop: &Workspace, args: &[&str]) -> Output {
    let mut all = vec!["--format", "json", "--verbose"];
    all.extend_from_slice(args);
    let output = shop.archlint(&all);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    output
}

/// Asserts that a command's output says `needle`.
fn assert_says(text: &str, needle: &str) {
    assert!(text.contains(needle), "`{needle}` not in: {text}");
}

/// How many findings a JSON check reported.
fn findings(output: &Output) -> usize {
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", stdout(output)));
    value["findings"].as_array().map_or(0, Vec::len)
}

/// Checks again after a change that concerns one file of `files`: that file alone is
/// extracted, and the output is what a check without the cache reports.
fn check_one_changed(shop: &Workspace, files: usize) -> Output {
    let changed = check(shop, &[]);
    assert_eq!(cache_counts(&changed), (files, files - 1));
    assert_eq!(changed.stdout, uncached(shop));
    changed
}

fn one_more_finding(after: &Output, before: &Output) {
    assert_eq!(findings(after), findings(before) + 1, "{}", stdout(after));
}

/// The output of a check that does not use the cache, to compare with.
fn uncached(shop: &Workspace) -> Vec<u8> {
    shop.archlint(&["--format", "json", "--no-cache"]).stdout
}

fn cache_dir(shop: &Workspace) -> PathBuf {
    let root = shop
        .dir
        .path()
        .canonicalize()
        .unwrap_or_else(|e| panic!("{e}"));
    let root = camino::Utf8PathBuf::from_path_buf(root)
        .unwrap_or_else(|p| panic!("non-UTF-8 temp dir {}", p.display()));
    archlint::cache::dir_for(&root).into_std_path_buf()
}

/// The file holding the cache's entries.
fn pack(shop: &Workspace) -> PathBuf {
    cache_dir(shop).join("facts")
}

#[test]
fn a_warm_run_reports_byte_for_byte_what_a_cold_run_does() {
    let shop = Workspace::copy_of("shop");
    let cold = check(&shop, &[]);
    let (files, from_cache) = cache_counts(&cold);
    assert!(files > 10, "{}", stderr(&cold));
    assert_eq!(from_cache, 0);
    assert!(pack(&shop).is_file());
    let warm = check(&shop, &[]);
    assert_eq!(cache_counts(&warm), (files, files));
    assert_eq!(warm.status.code(), cold.status.code());
    assert_eq!(stdout(&warm), stdout(&cold));
    assert_eq!(warm.stdout, uncached(&shop));
    // Diagnostics quote the source: the files are read for them, not parsed.
    let human = ["--color", "never", "--width", "100"];
    let warm_human = shop.archlint(&human);
    let mut cold_human = human.to_vec();
    cold_human.push("--no-cache");
    assert_eq!(stdout(&warm_human), stdout(&shop.archlint(&cold_human)));
    assert_says(&stdout(&warm_human), "╭─[");
}

#[test]
fn a_content_change_re_extracts_that_file_only() {
    let shop = Workspace::copy_of("shop");
    let cold = check(&shop, &[]);
    let (files, _) = cache_counts(&cold);
    shop.append(STOCK, NEW_VIOLATION);
    one_more_finding(&check_one_changed(&shop, files), &cold);
    // Lines inserted above every fact of a file move its spans: nothing stale is reported.
    let text = shop.read(STOCK);
    shop.write(STOCK, &format!("// moved\n// down\n{text}"));
    check_one_changed(&shop, files);
    // The same text again is the same entry.
    assert_eq!(cache_counts(&check(&shop, &[])), (files, files));
}

#[test]
fn a_change_in_a_file_that_extraction_read_re_extracts_the_file_that_read_it() {
    let shop = Workspace::copy_of("shop");
    shop.write(
        "services/orders/src/report.sql",
        "SELECT id FROM orders WHERE total > 0",
    );
    shop.append(
        STOCK,
        "\npub async fn report(pool: &sqlx::PgPool) -> Result<Vec<i64>, sqlx::Error> {\n    sqlx::query_scalar(include_str!(\"report.sql\")).fetch_all(pool).await\n}\n",
    );
    let cold = check(&shop, &[]);
    let (files, _) = cache_counts(&cold);
    assert_eq!(cache_counts(&check(&shop, &[])), (files, files));
    shop.write(
        "services/orders/src/report.sql",
        "SELECT id FROM payments WHERE amount > 0",
    );
    one_more_finding(&check_one_changed(&shop, files), &cold);
}

#[test]
fn a_configuration_change_invalidates_every_entry() {
    let shop = Workspace::copy_of("shop");
    let (files, _) = cache_counts(&check(&shop, &[]));
    shop.write(
        "archlint.toml",
        "extends = \"strict\"\n\n[rules]\ndual-write = \"warn\"\n",
    );
    let configured = check(&shop, &[]);
    assert_eq!(cache_counts(&configured), (files, 0));
    assert_eq!(configured.stdout, uncached(&shop));
    assert_eq!(cache_counts(&check(&shop, &[])), (files, files));
    // An edit of the same file, and a configuration named on the command line, are changes.
    shop.append("archlint.toml", "\n# reviewed\n");
    assert_eq!(cache_counts(&check(&shop, &[])), (files, 0));
    shop.write("other.toml", "extends = \"recommended\"\n");
    assert_eq!(
        cache_counts(&check(&shop, &["--config", "other.toml"])),
        (files, 0)
    );
    // Options applied after extraction are not.
    assert_eq!(
        cache_counts(&check(
            &shop,
            &["--config", "other.toml", "--min-confidence", "low"]
        )),
        (files, files)
    );
}

#[test]
fn a_tool_version_change_invalidates_every_entry() {
    let shop = Workspace::copy_of("shop");
    let (files, _) = cache_counts(&check(&shop, &[]));
    let as_version = |version: &str| {
        shop.command(&["--format", "json", "--verbose"])
            .env(archlint::cache::TOOL_VERSION_VAR, version)
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo-archlint: {e}"))
    };
    let next = as_version("99.0.0");
    assert_eq!(cache_counts(&next), (files, 0));
    assert_eq!(next.stdout, uncached(&shop));
    assert_eq!(cache_counts(&as_version("99.0.0")), (files, files));
    assert_eq!(cache_counts(&check(&shop, &[])), (files, 0));
}

#[test]
fn a_corrupt_or_unreadable_cache_is_rebuilt_silently() {
    let shop = Workspace::copy_of("shop");
    let cold = check(&shop, &[]);
    let (files, _) = cache_counts(&cold);
    let pack = pack(&shop);
    let read = || std::fs::read(&pack).unwrap_or_else(|e| panic!("{e}"));
    let write = |bytes: &[u8]| std::fs::write(&pack, bytes).unwrap_or_else(|e| panic!("{e}"));
    // Each damage, the number of entries it costs, and whether the run can write the cache.
    type Damage<'a> = (&'a str, Box<dyn Fn() + 'a>, usize, bool);
    let damages: Vec<Damage<'_>> = vec![
        (
            "truncated in the last entry",
            Box::new(|| {
                let bytes = read();
                write(&bytes[..bytes.len() - 7]);
            }),
            1,
            true,
        ),
        (
            "a hand edit naming another file id",
            Box::new(|| {
                let text = String::from_utf8_lossy(&read()).into_owned();
                let at = text
                    .find("\"file\":")
                    .unwrap_or_else(|| panic!("no file id"))
                    + 7;
                let digits = text[at..].chars().take_while(char::is_ascii_digit).count();
                let other = if text[at..].starts_with('9') {
                    "8"
                } else {
                    "9"
                }
                .repeat(digits);
                let mut bytes = read();
                bytes.splice(at..at + digits, other.into_bytes());
                write(&bytes);
            }),
            1,
            true,
        ),
        (
            "a future format",
            Box::new(|| {
                let mut bytes = read();
                let magic = format!("archlint facts {}", archlint::cache::FORMAT);
                assert!(bytes.starts_with(magic.as_bytes()));
                bytes.splice(..magic.len(), b"archlint facts 9999".iter().copied());
                write(&bytes);
            }),
            files,
            true,
        ),
        (
            "garbage",
            Box::new(|| write(b"\x00\xff garbage \n\x93\x01")),
            files,
            true,
        ),
        ("empty", Box::new(|| write(b"")), files, true),
        (
            "a directory where the file was",
            Box::new(|| {
                std::fs::remove_file(&pack).unwrap_or_else(|e| panic!("{e}"));
                std::fs::create_dir(&pack).unwrap_or_else(|e| panic!("{e}"));
            }),
            files,
            false,
        ),
    ];
    for (what, damage, lost, writable) in damages {
        damage();
        let repaired = check(&shop, &[]);
        assert_eq!(cache_counts(&repaired), (files, files - lost), "{what}");
        assert_eq!(repaired.stdout, cold.stdout, "{what}");
        let said = stderr(&repaired);
        let noise: Vec<&str> = said
            .lines()
            .filter(|l| !l.starts_with("archlint: "))
            .collect();
        assert!(noise.is_empty(), "{what}: {noise:?}");
        assert_eq!(
            said.contains("could not be written"),
            !writable,
            "{what}: {said}"
        );
        if writable {
            assert_eq!(cache_counts(&check(&shop, &[])), (files, files), "{what}");
        }
    }

    // A cache directory that is a file: the run works without the cache.
    let dir = cache_dir(&shop);
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&dir, "not a directory").unwrap_or_else(|e| panic!("{e}"));
    let without = check(&shop, &[]);
    assert_eq!(cache_counts(&without), (files, 0));
    assert_eq!(without.stdout, cold.stdout);
    assert_says(&stderr(&without), "could not be written");
}

#[test]
fn entries_of_removed_files_are_deleted() {
    let shop = Workspace::copy_of("shop");
    let (files, _) = cache_counts(&check(&shop, &[]));
    std::fs::remove_file(shop.path(".env")).unwrap_or_else(|e| panic!("{e}"));
    let after = check(&shop, &[]);
    assert_says(&stderr(&after), "1 stale entries removed");
    assert_eq!(cache_counts(&after).0, files - 1);
    let again = check(&shop, &[]);
    assert_eq!(cache_counts(&again), (files - 1, files - 1));
    assert!(!stderr(&again).contains("stale"), "{}", stderr(&again));
}

#[test]
fn no_cache_writes_nothing() {
    let shop = Workspace::copy_of("shop");
    let output = shop.archlint(&["--no-cache", "--verbose"]);
    assert_says(&stderr(&output), "cache off");
    let by_env = shop
        .command(&["--format", "json"])
        .env("ARCHLINT_NO_CACHE", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo-archlint: {e}"));
    assert!(matches!(by_env.status.code(), Some(0 | 1)));
    assert!(!cache_dir(&shop).exists());
    assert!(!shop.path("target").exists());
}

/// Extraction reaches the file system only through `crate::read`, which records what it
/// asked for the cache's key: a direct call would let an entry outlive what it depended on.
#[test]
fn the_cached_extractors_ask_the_file_system_only_through_the_recorded_reader() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/extract");
    let mut files = vec![src.join("sql.rs")];
    for dir in ["rust", "deploy"] {
        for entry in std::fs::read_dir(src.join(dir)).unwrap_or_else(|e| panic!("{e}")) {
            files.push(entry.unwrap_or_else(|e| panic!("{e}")).path());
        }
    }
    let forbidden = [
        "std::fs::",
        "fs::read",
        ".is_file()",
        ".is_dir()",
        ".exists()",
        "read_dir",
        "File::open",
        "metadata(",
        "std::env::var(",
    ];
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
        // Unit tests may read their own data.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for call in forbidden {
            assert!(
                !code.contains(call),
                "{} calls `{call}` directly; use crate::read's recorded functions",
                file.display()
            );
        }
    }
}
