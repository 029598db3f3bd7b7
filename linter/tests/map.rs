//! `cargo archlint map`: snapshots of each format on `examples/shop`, Mermaid and DOT syntax
//! (and names surviving it) on a workspace whose names need escaping, and the HTML page
//! loaded in a real headless browser (Debian's chromium), its screenshot kept under
//! `target/archlint-test-artifacts/`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn shop() -> PathBuf {
    repo_root().join("examples/shop")
}

/// `cargo archlint ARGS --manifest-path WORKSPACE`: its stdout and exit code.
fn archlint(args: &[&str], workspace: &Path) -> (String, i32) {
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-archlint"))
        .arg("archlint")
        .args(args)
        .arg("--manifest-path")
        .arg(workspace)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo-archlint: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (stdout, output.status.code().unwrap_or(-1))
}

fn map(format: &str, workspace: &Path) -> String {
    let (text, code) = archlint(&["map", "--format", format], workspace);
    assert_eq!(code, 0, "map --format {format} exits 0 whatever it finds");
    text
}

/// The findings of a check, as JSON.
fn findings(workspace: &Path) -> Vec<serde_json::Value> {
    let (text, _) = archlint(&["check", "--format", "json"], workspace);
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("invalid JSON ({e}): {text}"));
    value["findings"].as_array().cloned().unwrap_or_default()
}

#[test]
fn each_map_format_of_the_shop() {
    let shop = shop();
    let text = map("text", &shop).replace(&shop.display().to_string(), "examples/shop");
    insta::assert_snapshot!("shop_text", text);
    let mermaid = map("mermaid", &shop);
    check_mermaid(&mermaid).unwrap_or_else(|e| panic!("{e}\n{mermaid}"));
    insta::assert_snapshot!("shop_mermaid", mermaid);
    let dot = map("dot", &shop);
    check_dot(&dot).unwrap_or_else(|e| panic!("{e}\n{dot}"));
    graphviz_accepts(&dot);
    insta::assert_snapshot!("shop_dot", dot);
    insta::assert_snapshot!("shop_html", map("html", &shop));
    let json: serde_json::Value =
        serde_json::from_str(&map("json", &shop)).unwrap_or_else(|e| panic!("invalid JSON: {e}"));
    assert!(json["services"].is_array(), "the model's keys stay");
    insta::assert_json_snapshot!("shop_json_map", json["map"]);
}

#[test]
fn every_finding_is_marked_and_named_on_the_map() {
    let shop = shop();
    let json: serde_json::Value =
        serde_json::from_str(&map("json", &shop)).unwrap_or_else(|e| panic!("invalid JSON: {e}"));
    let graph = &json["map"];
    let found = findings(&shop);
    assert_eq!(
        graph["findings"].as_array().map(Vec::len),
        Some(found.len())
    );
    let mut marked = HashSet::new();
    for element in ["nodes", "edges"] {
        for item in graph[element].as_array().into_iter().flatten() {
            for index in item["findings"].as_array().into_iter().flatten() {
                marked.insert(index.as_u64().unwrap_or(u64::MAX));
            }
        }
    }
    let every: HashSet<u64> = (0..found.len() as u64).collect();
    assert_eq!(marked, every, "each finding is drawn somewhere");
    // What the shop's README says is wrong, where it is wrong.
    let edge = |kind: &str, from: &str, to: &str| {
        graph["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| {
                e["kind"] == kind
                    && graph["nodes"][e["from"].as_u64().unwrap_or(0) as usize]["label"] == from
                    && graph["nodes"][e["to"].as_u64().unwrap_or(0) as usize]["label"] == to
            })
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} edge {from} -> {to}: {graph:#}"))
    };
    let rules = |e: &serde_json::Value| -> Vec<String> {
        e["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                found[i.as_u64().unwrap_or(0) as usize]["rule"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let shared = edge("connects", "shipping", "postgres://postgres:5432/payments");
    assert_eq!(rules(&shared), ["shared-database"]);
    let foreign = edge("accesses", "shipping", "payments");
    assert_eq!(rules(&foreign), ["cross-service-db-access"]);
    assert_eq!(foreign["labels"], serde_json::json!(["reads"]));
    let calls = edge("calls", "orders", "payments");
    assert_eq!(calls["labels"], serde_json::json!(["POST /payments"]));
    edge("publishes", "shipping", "shipments.scheduled");
    edge("consumes", "shipments.scheduled", "orders");
    edge("consumes", "payments.authorized", "shipping");
    edge("holds", "postgres://postgres:5432/orders", "orders");
}

/// A service, a database, a table and a topic whose names hold every character that means
/// something to Mermaid, DOT or HTML.
const AWKWARD_SERVICE: &str = "bill<ing> \"v2\" #1 | `x` & co.; end\\";
const AWKWARD_TABLE: &str = "in\"voices<x>";
const AWKWARD_TOPIC: &str = "invoices.\"issued\" <v1>; #x | `y` & {z} #quot;";
const AWKWARD_DATABASE: &str = "postgres://db-host.internal:5432/bill\"ing-db.v2";

fn awkward_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let rust_string = |text: &str| format!("{text:?}");
    let files = [
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"billing\", \"orders\"]\n".to_string(),
        ),
        (
            "archlint.toml",
            format!("[services.{AWKWARD_SERVICE:?}]\ncrates = [\"billing\"]\n"),
        ),
        ("billing/Cargo.toml", manifest("billing")),
        ("orders/Cargo.toml", manifest("orders")),
        (
            "billing/migrations/0001_init.sql",
            "CREATE TABLE \"in\"\"voices<x>\" (id BIGINT PRIMARY KEY);\n\
             CREATE TABLE ledger (id BIGINT PRIMARY KEY);\n"
                .to_string(),
        ),
        (
            "billing/src/main.rs",
            format!(
                "use rdkafka::producer::{{FutureProducer, FutureRecord}};\n\n\
                 #[tokio::main]\nasync fn main() {{\n    \
                 let pool = sqlx::PgPool::connect({}).await.unwrap();\n    \
                 sqlx::migrate!(\"./migrations\").run(&pool).await.unwrap();\n}}\n\n\
                 pub async fn publish(producer: &FutureProducer) {{\n    \
                 let record = FutureRecord::to({}).payload(\"{{}}\").key(\"k\");\n    \
                 producer.send(record, std::time::Duration::from_secs(1)).await.ok();\n}}\n",
                rust_string("postgres://app:secret@db-host.internal:5432/bill\"ing-db.v2"),
                rust_string(AWKWARD_TOPIC)
            ),
        ),
        (
            "orders/src/main.rs",
            format!(
                "use rdkafka::consumer::{{Consumer, StreamConsumer}};\n\n\
                 #[tokio::main]\nasync fn main() {{\n    \
                 let pool = sqlx::PgPool::connect({}).await.unwrap();\n    \
                 let n: i64 = sqlx::query_scalar(\"SELECT count(*) FROM ledger\").fetch_one(&pool).await.unwrap();\n    \
                 let consumer: StreamConsumer = rdkafka::ClientConfig::new().create().unwrap();\n    \
                 consumer.subscribe(&[{}]).unwrap();\n}}\n",
                rust_string("postgres://app:secret@db-host.internal:5432/bill\"ing-db.v2"),
                rust_string(AWKWARD_TOPIC)
            ),
        ),
    ];
    for (path, text) in files {
        let path = dir.path().join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
    dir
}

fn manifest(name: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\naxum = \"0.8\"\nsqlx = {{ version = \"0.8\", features = [\"postgres\"] }}\n\
         rdkafka = \"0.36\"\n"
    )
}

#[test]
fn names_that_need_escaping_come_out_valid_and_whole() {
    let dir = awkward_workspace();
    let names = [
        AWKWARD_SERVICE,
        AWKWARD_TABLE,
        AWKWARD_TOPIC,
        AWKWARD_DATABASE,
        "orders",
    ];

    type Check = fn(&str) -> Result<Vec<String>, String>;
    for (format, check) in [("mermaid", check_mermaid as Check), ("dot", check_dot)] {
        let text = map(format, dir.path());
        let labels = check(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for name in names {
            assert!(
                labels.iter().any(|l| l.split('\n').next() == Some(name)),
                "`{name}` is not a {format} label: {labels:?}\n{text}"
            );
        }
        if format == "dot" {
            graphviz_accepts(&text);
        }
    }

    let html = map("html", dir.path());
    for name in names {
        let escaped = name
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;");
        assert!(html.contains(&escaped), "`{escaped}` not in the page");
    }
    for raw in ["<ing>", "<x>", "<v1>"] {
        assert!(!html.contains(raw), "unescaped `{raw}` in the page");
    }
    assert_eq!(
        findings(dir.path())
            .iter()
            .map(|f| f["rule"].as_str().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["shared-database", "cross-service-db-access"]
    );
}

#[test]
fn the_html_page_loads_nothing() {
    let html = map("html", &shop());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    for outside in [
        "src=",
        "href=\"http",
        "url(http",
        "@import",
        "//cdn",
        "<link",
    ] {
        assert!(
            !html.contains(outside),
            "the page refers outside: `{outside}`"
        );
    }
    assert_eq!(html.matches("<script>").count(), 1);
    assert!(html.contains(
        "<a href=\"services/orders/src/cancel.rs\">services/orders/src/cancel.rs:39:17</a>"
    ));
}

// --- the browser ---------------------------------------------------------------------------

fn chromium() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .map(|dir| dir.join("chromium"))
        .chain([PathBuf::from("/usr/bin/chromium")])
        .find(|path| path.is_file())
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("archlint-test-artifacts");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    dir
}

/// Runs headless chromium on a page with a fresh profile and no network besides the file;
/// its stdout. A browser that hangs is killed after two minutes.
fn headless(browser: &Path, extra: &[String], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    // Read while it runs, so a full pipe never blocks it.
    let reader = read_in_background(child.stdout.take());
    let errors = read_in_background(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("wait: {e}")) {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within two minutes on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = reader.join().unwrap_or_default();
    let errors = errors.join().unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}): {errors}");
    text
}

#[test]
fn the_html_map_renders_in_a_headless_browser() {
    let required = std::env::var("ARCHKIT_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let Some(browser) = chromium() else {
        assert!(
            !required,
            "ARCHKIT_REQUIRE_BROWSER=1 but no chromium on PATH or at /usr/bin/chromium"
        );
        eprintln!(
            "skipped: chromium not found (Debian: apt-get install chromium); set \
             ARCHKIT_REQUIRE_BROWSER=1 to fail instead"
        );
        return;
    };
    let shop = shop();
    let found = findings(&shop);
    let artifacts = artifacts();
    let page = artifacts.join("map.html");
    std::fs::write(&page, map("html", &shop)).unwrap_or_else(|e| panic!("write: {e}"));
    let url = format!("file://{}", page.display());

    let dom = headless(&browser, &["--dump-dom".to_string()], &url);
    std::fs::write(artifacts.join("map.dom.html"), &dom).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        dom.contains("data-archlint-map=\"ready\""),
        "the page's script did not run: {dom}"
    );
    for service in ["inventory", "orders", "payments", "shipping"] {
        assert!(
            dom.contains(&format!("class=\"name\">{service}</text>")),
            "service `{service}` is not on the map"
        );
    }
    assert!(dom.contains("class=\"name\">shipments.scheduled</text>"));
    assert_eq!(
        dom.matches("<tr class=\"finding ").count(),
        found.len(),
        "one row per finding"
    );
    let all = format!("{n} of {n} findings shown", n = found.len());
    assert!(dom.contains(&all), "the script counts the rows: {all}");

    // The filter in the address is applied on load.
    let dom = headless(
        &browser,
        &["--dump-dom".to_string()],
        &format!("{url}#rule=cross-service-db-access&service=shipping"),
    );
    let expected = found
        .iter()
        .filter(|f| {
            f["rule"] == "cross-service-db-access"
                && f["services"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s == "shipping"))
        })
        .count();
    assert_eq!(
        expected, 2,
        "shipping reads payments and uses inventory-store"
    );
    let shown = format!("{expected} of {} findings shown", found.len());
    assert!(dom.contains(&shown), "filtered: {shown}");
    let rows = dom.matches("<tr class=\"finding ").count();
    let hidden = dom.matches("<tr class=\"finding ").count() - dom_visible_rows(&dom);
    assert_eq!((rows, hidden), (found.len(), found.len() - expected));
    assert!(
        dom.contains(" dim\""),
        "the map dims what the filter leaves out"
    );

    let screenshot = artifacts.join("map.png");
    let _ = std::fs::remove_file(&screenshot);
    let (width, height) = (1400, 1100);
    headless(
        &browser,
        &[
            format!("--screenshot={}", screenshot.display()),
            format!("--window-size={width},{height}"),
            "--hide-scrollbars".to_string(),
        ],
        &url,
    );
    let png = std::fs::read(&screenshot)
        .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", screenshot.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let dimension = |at: usize| {
        png.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    assert_eq!((dimension(16), dimension(20)), (Some(width), Some(height)));
    // A blank page of that size compresses to a few kilobytes; the map and table do not.
    assert!(
        png.len() > 50_000,
        "the screenshot is nearly empty ({} bytes)",
        png.len()
    );
}

fn read_in_background(
    pipe: Option<impl std::io::Read + Send + 'static>,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// Rows of the findings table the script did not hide.
fn dom_visible_rows(dom: &str) -> usize {
    dom.split("<tr class=\"finding ")
        .skip(1)
        .filter(|row| {
            let tag_end = row.find('>').unwrap_or(row.len());
            !row[..tag_end].contains(" hidden")
        })
        .count()
}

// --- syntax checks -------------------------------------------------------------------------

/// Runs Graphviz on the DOT text when it is installed: a second opinion on the syntax.
fn graphviz_accepts(dot: &str) {
    let Ok(mut child) = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("graphviz (dot) not installed: DOT checked by the test's own parser only");
        return;
    };
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write as _;
        stdin
            .write_all(dot.as_bytes())
            .unwrap_or_else(|e| panic!("dot stdin: {e}"));
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("dot: {e}"));
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "dot rejects the graph: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Checks the Mermaid the map writes, line by line, against the subset of the flowchart
/// grammar it uses (nodes with quoted labels in four shapes, three kinds of links, class and
/// link styles), with labels free of anything that ends a string or reads as markup. Returns
/// every label, decoded, lines joined by `\n`.
fn check_mermaid(text: &str) -> Result<Vec<String>, String> {
    let mut lines = text.lines();
    if lines.next() != Some("flowchart LR") {
        return Err("the first line is not `flowchart LR`".into());
    }
    let mut nodes = HashSet::new();
    let mut links = 0;
    let mut labels = Vec::new();
    for line in lines {
        let line = line
            .strip_prefix("  ")
            .ok_or_else(|| format!("not indented: {line}"))?;
        let words: Vec<&str> = line.split(' ').collect();
        if line.starts_with("%%") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("classDef ") {
            let (name, style) = rest.split_once(' ').ok_or("classDef without style")?;
            check_style(style)?;
            is_name(name)?;
            continue;
        }
        if let ["class", ids, name] = words[..] {
            for id in ids.split(',') {
                if !nodes.contains(id) {
                    return Err(format!("class of unknown node {id}"));
                }
            }
            is_name(name)?;
            continue;
        }
        if let ["linkStyle", indexes, style] = words[..] {
            for index in indexes.split(',') {
                let index: usize = index.parse().map_err(|_| format!("bad link {index}"))?;
                if index >= links {
                    return Err(format!("linkStyle {index} of {links} links"));
                }
            }
            check_style(style)?;
            continue;
        }
        let id_end = line
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(line.len());
        let id = &line[..id_end];
        is_node_id(id)?;
        let rest = &line[id_end..];
        if let Some(rest) = rest.strip_prefix(' ') {
            // A link: `nA --> nB` or `nA -->|"label"| nB`.
            let (arrow, rest) = rest.split_at(3.min(rest.len()));
            if !["-->", "-.-", "==>"].contains(&arrow) {
                return Err(format!("unknown link `{arrow}`: {line}"));
            }
            let target = match rest.strip_prefix("|\"") {
                Some(labelled) => {
                    let (label, after) = labelled
                        .split_once("\"| ")
                        .ok_or_else(|| format!("unclosed link label: {line}"))?;
                    labels.push(mermaid_label(label)?);
                    after
                }
                None => rest
                    .strip_prefix(' ')
                    .ok_or_else(|| format!("no target: {line}"))?,
            };
            for end in [id, target] {
                if !nodes.contains(end) {
                    return Err(format!("link to unknown node {end}: {line}"));
                }
            }
            links += 1;
            continue;
        }
        let shapes = [
            ("(\"", "\")"),
            ("[(\"", "\")]"),
            ("[\"", "\"]"),
            ("([\"", "\"])"),
        ];
        let (open, close) = shapes
            .iter()
            .filter(|(open, close)| rest.starts_with(open) && rest.ends_with(close))
            .max_by_key(|(open, _)| open.len())
            .ok_or_else(|| format!("unknown node shape: {line}"))?;
        let label = &rest[open.len()..rest.len() - close.len()];
        labels.push(mermaid_label(label)?);
        if !nodes.insert(id.to_string()) {
            return Err(format!("node {id} declared twice"));
        }
    }
    Ok(labels)
}

fn is_node_id(id: &str) -> Result<(), String> {
    match id.strip_prefix('n') {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(format!("bad node id `{id}`")),
    }
}

fn is_name(name: &str) -> Result<(), String> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        Ok(())
    } else {
        Err(format!("bad class name `{name}`"))
    }
}

fn check_style(style: &str) -> Result<(), String> {
    for part in style.split(',') {
        let (key, value) = part
            .split_once(':')
            .ok_or_else(|| format!("bad style `{part}`"))?;
        let ok = key.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'#' || b == b'.');
        if !ok {
            return Err(format!("bad style `{part}`"));
        }
    }
    Ok(())
}

/// Decodes a quoted Mermaid label: lines split at `<br/>`, entity codes (`#quot;`, `#35;`)
/// decoded; anything that would end the string or read as markup is an error.
fn mermaid_label(label: &str) -> Result<String, String> {
    let mut lines = Vec::new();
    for line in label.split("<br/>") {
        let mut out = String::new();
        let mut rest = line;
        while let Some(c) = rest.chars().next() {
            if matches!(c, '"' | '<' | '>' | '|' | '`') || c.is_control() {
                return Err(format!("`{c}` inside the label `{label}`"));
            }
            if c == '#' {
                let end = rest
                    .find(';')
                    .ok_or_else(|| format!("`#` starts no entity in `{label}`"))?;
                let code = &rest[1..end];
                let decoded = match code {
                    "quot" => '"',
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    digits => digits
                        .parse::<u32>()
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("unknown entity `#{code};` in `{label}`"))?,
                };
                out.push(decoded);
                rest = &rest[end + 1..];
                continue;
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        lines.push(out);
    }
    Ok(lines.join("\n"))
}

/// A DOT token.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Id(String),
    Quoted(String),
    Punct(&'static str),
}

fn dot_tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '{' | '}' | '[' | ']' | '=' | ';' | ',' => {
                let punct = ["{", "}", "[", "]", "=", ";", ","]
                    .into_iter()
                    .find(|p| p.starts_with(c))
                    .unwrap_or(",");
                tokens.push(Token::Punct(punct));
            }
            '-' if chars.peek().map(|&(_, c)| c) == Some('>') => {
                chars.next();
                tokens.push(Token::Punct("->"));
            }
            '"' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err(format!("unterminated string at {at}")),
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, '"')) => value.push('"'),
                            Some((_, '\\')) => value.push('\\'),
                            Some((_, 'n')) => value.push('\n'),
                            other => {
                                return Err(format!("escape `\\{other:?}` in a string at {at}"))
                            }
                        },
                        Some((_, c)) if c.is_control() => {
                            return Err(format!("control character in a string at {at}"))
                        }
                        Some((_, c)) => value.push(c),
                    }
                }
                tokens.push(Token::Quoted(value));
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '.' => {
                let mut id = c.to_string();
                while let Some(&(_, next)) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' || next == '.' {
                        id.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Id(id));
            }
            other => return Err(format!("unexpected `{other}` at {at}")),
        }
    }
    Ok(tokens)
}

/// Checks the DOT the map writes against the grammar it uses: `digraph ID { ... }` of
/// attribute statements, node statements and edges between declared nodes, each ending with
/// `;`. Returns every `label`, unescaped.
fn check_dot(text: &str) -> Result<Vec<String>, String> {
    let tokens = dot_tokens(text)?;
    let mut at = 0;
    let next = |at: &mut usize| -> Result<Token, String> {
        let token = tokens.get(*at).cloned().ok_or("unexpected end")?;
        *at += 1;
        Ok(token)
    };
    let id = |token: Token| match token {
        Token::Id(id) => Ok(id),
        other => Err(format!("expected an id, got {other:?}")),
    };
    if next(&mut at)? != Token::Id("digraph".into()) {
        return Err("not a digraph".into());
    }
    id(next(&mut at)?)?;
    if next(&mut at)? != Token::Punct("{") {
        return Err("no `{`".into());
    }
    let mut nodes = HashSet::new();
    let mut labels = Vec::new();
    loop {
        let first = next(&mut at)?;
        if first == Token::Punct("}") {
            break;
        }
        let first = id(first)?;
        let mut token = next(&mut at)?;
        if token == Token::Punct("->") {
            let target = id(next(&mut at)?)?;
            for end in [&first, &target] {
                if !nodes.contains(end) {
                    return Err(format!("edge to undeclared node {end}"));
                }
            }
            token = next(&mut at)?;
        } else if !["graph", "node", "edge"].contains(&first.as_str()) {
            is_node_id(&first)?;
            nodes.insert(first.clone());
        }
        if token == Token::Punct("[") {
            loop {
                let key = id(next(&mut at)?)?;
                if next(&mut at)? != Token::Punct("=") {
                    return Err(format!("attribute {key} without `=`"));
                }
                let value = match next(&mut at)? {
                    Token::Id(value) | Token::Quoted(value) => value,
                    other => return Err(format!("attribute {key} = {other:?}")),
                };
                if key == "label" && first != "graph" {
                    labels.push(value);
                }
                match next(&mut at)? {
                    Token::Punct(",") => continue,
                    Token::Punct("]") => break,
                    other => return Err(format!("expected `,` or `]`, got {other:?}")),
                }
            }
            token = next(&mut at)?;
        }
        if token != Token::Punct(";") {
            return Err(format!("statement of {first} does not end with `;`"));
        }
    }
    if at != tokens.len() {
        return Err("text after the graph".into());
    }
    Ok(labels)
}
