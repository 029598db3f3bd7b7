//! shared-database on real Rust source: a workspace-level schema used by several services.

mod behaviour_support;

use behaviour_support::{check, ServiceCrate};

const AXUM: &[&str] = &["axum", "sqlx", "tokio"];

const READ_ORDERS: &str = r#"
async fn totals(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT id FROM orders").execute(pool).await?;
    Ok(())
}
fn main() {}
"#;

fn orders_running(migrate: &str) -> String {
    format!(
        r#"
async fn start(pool: &sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {{
    {migrate}.run(pool).await?;
    sqlx::query("INSERT INTO orders (id) VALUES (1)").execute(pool).await?;
    Ok(())
}}
fn main() {{}}
"#
    )
}

const MIGRATION: &str = "CREATE TABLE orders (id BIGINT PRIMARY KEY);\n";

/// `orders` running its migrations with `migrate` from `migration_path` (relative to its
/// crate), and `billing` reading the `orders` table.
fn orders_and_billing(migrate: &str, migration_path: &str) -> behaviour_support::Checked {
    let orders_main = orders_running(migrate);
    let orders_files = [
        ("src/main.rs", orders_main.as_str()),
        (migration_path, MIGRATION),
    ];
    check(
        &[
            ServiceCrate {
                name: "orders",
                dependencies: AXUM,
                files: &orders_files,
            },
            ServiceCrate {
                name: "billing",
                dependencies: AXUM,
                files: &[("src/main.rs", READ_ORDERS)],
            },
        ],
        None,
    )
}

#[test]
fn a_workspace_level_schema_used_by_two_services_is_one_shared_database() {
    let checked = orders_and_billing(
        r#"sqlx::migrate!("../migrations")"#,
        "../migrations/0001_orders.sql",
    );
    let shared = checked.of("shared-database");
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert!(
        shared[0].contains(
            "services `billing` and `orders` use the tables of the workspace-level migrations in `migrations`"
        ),
        "{shared:?}"
    );
    assert!(checked.of("cross-service-db-access").is_empty());
}

#[test]
fn migrations_inside_the_running_crate_are_its_own_and_a_reader_reaches_into_them() {
    let checked = orders_and_billing("sqlx::migrate!()", "migrations/0001_orders.sql");
    assert!(checked.of("shared-database").is_empty());
    let cross = checked.of("cross-service-db-access");
    assert_eq!(cross.len(), 1, "{cross:?}");
}

/// A temporary directory (removed when the guard drops) and its UTF-8 path.
fn temp_root() -> (tempfile::TempDir, camino::Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let root = camino::Utf8Path::from_path(dir.path())
        .unwrap_or_else(|| panic!("non-UTF-8 temp dir"))
        .to_owned();
    (dir, root)
}

fn write_file(root: &camino::Utf8Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap_or(root)).unwrap_or_else(|e| panic!("mkdir: {e}"));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {path}: {e}"));
}

/// A binary member `name` with the given `[dependencies]` lines and `src/main.rs`.
fn write_member(root: &camino::Utf8Path, name: &str, dependencies: &str, main: &str) {
    write_file(
        root,
        &format!("{name}/Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{dependencies}"
        ),
    );
    write_file(root, &format!("{name}/src/main.rs"), main);
}

/// The `shared-database` messages of a zero-config check of the workspace at `root`.
fn shared_database_messages(root: &camino::Utf8Path) -> Vec<String> {
    let report = archlint::check(&archlint::Options::new(root.join("Cargo.toml")))
        .unwrap_or_else(|e| panic!("check failed: {e}"));
    report
        .findings
        .iter()
        .filter(|f| f.rule == "shared-database")
        .map(|f| f.message.clone())
        .collect()
}

/// A repository whose Cargo workspace sits in `backend/`, with the compose file that runs its
/// two services at the repository root. `git` says whether the repository has its `.git`;
/// `compose_dir` is where the compose file lies, relative to the repository root, and
/// `cargo_project` puts a `Cargo.toml` beside it.
fn workspace_below_compose(
    git: bool,
    compose_dir: &str,
    cargo_project: bool,
) -> Vec<(String, String)> {
    let (_dir, repo) = temp_root();
    let write = |path: &str, text: &str| write_file(&repo, path, text);
    if git {
        write(".git/HEAD", "ref: refs/heads/main\n");
    }
    write(
        "backend/Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"orders\", \"billing\"]\n",
    );
    for name in ["orders", "billing"] {
        write(
            &format!("backend/{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naxum = \"*\"\nsqlx = \"*\"\ntokio = \"*\"\n"
            ),
        );
        write(&format!("backend/{name}/src/main.rs"), READ_ORDERS);
    }
    let beside_compose = |name: &str| {
        format!("{compose_dir}/{name}")
            .trim_start_matches('/')
            .to_string()
    };
    if cargo_project {
        write(
            &beside_compose("Cargo.toml"),
            "[package]\nname = \"tool\"\nversion = \"0.1.0\"\n",
        );
    }
    let up = "../".repeat(compose_dir.split('/').filter(|p| !p.is_empty()).count());
    write(
        &beside_compose("docker-compose.yml"),
        &format!(
            "services:\n  orders:\n    build: {up}backend/orders\n    environment:\n      DATABASE_URL: postgres://app:secret@db:5432/shop\n  billing:\n    build: {up}backend/billing\n    environment:\n      DATABASE_URL: postgres://app:secret@db:5432/shop\n  db:\n    image: postgres:16\n"
        ),
    );
    let report = archlint::check(&archlint::Options::new(repo.join("backend/Cargo.toml")))
        .unwrap_or_else(|e| panic!("check failed: {e}"));
    report
        .findings
        .iter()
        .filter(|f| f.rule == "shared-database")
        .map(|f| {
            (
                report.model.file(f.span.file).path.to_string(),
                f.message.clone(),
            )
        })
        .collect()
}

#[test]
fn a_compose_file_at_the_repository_root_describes_a_workspace_in_a_subdirectory() {
    let found = workspace_below_compose(true, "", false);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "../docker-compose.yml", "{found:?}");
    assert!(found[0].1.contains("`billing`") && found[0].1.contains("`orders`"));
    // Nested deployment folders of the repository are read too.
    let found = workspace_below_compose(true, "deploy/local", false);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "../deploy/local/docker-compose.yml");
}

#[test]
fn nothing_above_the_workspace_is_read_outside_a_repository_or_inside_another_project() {
    // No `.git`: the directories above belong to nobody we know of.
    assert_eq!(workspace_below_compose(false, "", false), []);
    // A sibling Cargo project's compose file runs that project, not this one.
    assert_eq!(workspace_below_compose(true, "tools", true), []);
    assert_eq!(workspace_below_compose(true, "tools", false).len(), 1);
}

/// A workspace of `acme-api` (axum), `acme-worker` (no server framework, packaged by its own
/// Dockerfile) and `acme-cli` (neither), all reading a MongoDB whose database is named beside
/// its connection string. The compose file runs prebuilt images named without the `acme-`
/// prefix; `databases` gives each container's `STORE_DATABASE_NAME`.
fn prefixed_images_on_mongo(databases: [&str; 3]) -> Vec<String> {
    let (_dir, root) = temp_root();
    let write = |path: &str, text: &str| write_file(&root, path, text);
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"acme-api\", \"acme-worker\", \"acme-cli\"]\n",
    );
    for (name, dependencies) in [
        ("acme-api", "axum = \"*\"\nmongodb = \"*\"\n"),
        ("acme-worker", "mongodb = \"*\"\n"),
        ("acme-cli", "mongodb = \"*\"\n"),
    ] {
        write_member(&root, name, dependencies, "fn main() {}\n");
    }
    write("acme-api/Dockerfile", "FROM scratch\n");
    write("acme-worker/Dockerfile", "FROM scratch\n");
    // A Dockerfile below the crate packages something else (here a test fixture).
    write("acme-cli/testdata/Dockerfile", "FROM scratch\n");
    let mut compose = String::from("services:\n");
    for (name, database) in ["api", "worker", "cli"].iter().zip(databases) {
        compose.push_str(&format!(
            "  {name}:\n    image: registry.example.com/acme/{name}:1.0\n    environment:\n      - STORE_DATABASE_URL=mongodb://app:secret@mongo:27017\n      - STORE_DATABASE_NAME={database}\n"
        ));
    }
    compose.push_str("  mongo:\n    image: mongo:7\n");
    write("docker-compose.yml", &compose);
    shared_database_messages(&root)
}

#[test]
fn a_worker_packaged_by_its_own_dockerfile_shares_the_database_named_beside_the_url() {
    let found = prefixed_images_on_mongo(["events", "events", "events"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`acme-api` and `acme-worker`")
            && found[0].contains("mongodb://mongo:27017/events"),
        "{found:?}"
    );
    // The CLI is no service: no framework, and the Dockerfile below it is not its own.
    assert!(!found[0].contains("acme-cli"), "{found:?}");
}

#[test]
fn databases_named_apart_on_one_mongo_server_are_not_shared() {
    assert_eq!(
        prefixed_images_on_mongo(["orders", "jobs", "orders"]),
        Vec::<String>::new()
    );
}

/// Two axum services on `mongodb://mongo:27017` (no database in the URL), each opening the
/// database its code names.
fn mongo_services_opening(databases: [&str; 2]) -> Vec<String> {
    let (_dir, root) = temp_root();
    let write = |path: &str, text: &str| write_file(&root, path, text);
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"orders\", \"billing\"]\n",
    );
    let mut compose = String::from("services:\n");
    for (name, database) in ["orders", "billing"].iter().zip(databases) {
        write_member(
            &root,
            name,
            "axum = \"*\"\nmongodb = \"*\"\n",
            &format!(
                "#[tokio::main]\nasync fn main() {{\n    let client = mongodb::Client::with_uri_str(std::env::var(\"MONGODB_URI\").unwrap_or_default()).await.unwrap();\n    let db = client.database(\"{database}\");\n}}\n"
            ),
        );
        compose.push_str(&format!(
            "  {name}:\n    build: ./{name}\n    environment:\n      MONGODB_URI: mongodb://mongo:27017\n"
        ));
    }
    compose.push_str("  mongo:\n    image: mongo:7\n");
    write("docker-compose.yml", &compose);
    shared_database_messages(&root)
}

#[test]
fn a_mongo_url_without_a_database_connects_to_the_one_the_code_opens() {
    let found = mongo_services_opening(["shop", "shop"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("mongodb://mongo:27017/shop"), "{found:?}");
    assert_eq!(
        mongo_services_opening(["orders", "billing"]),
        Vec::<String>::new()
    );
}

/// `orders`, `billing` and `stock` on one database in `deploy/docker-compose.yml`, and `orders`
/// and `billing` alone on one in the root compose file (`root_pair_database`).
fn two_deployments(root_pair_database: &str) -> Vec<String> {
    let (_dir, root) = temp_root();
    let write = |path: &str, text: &str| write_file(&root, path, text);
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"orders\", \"billing\", \"stock\"]\n",
    );
    for name in ["orders", "billing", "stock"] {
        write_member(
            &root,
            name,
            "axum = \"*\"\nsqlx = \"*\"\n",
            "fn main() {}\n",
        );
    }
    let service = |name: &str, up: &str, database: &str| {
        format!("  {name}:\n    build: {up}{name}\n    environment:\n      DATABASE_URL: postgres://app:secret@db:5432/{database}\n")
    };
    let mut deploy = String::from("services:\n");
    for name in ["orders", "billing", "stock"] {
        deploy.push_str(&service(name, "../", "shop"));
    }
    deploy.push_str("  db:\n    image: postgres:16\n");
    write("deploy/docker-compose.yml", &deploy);
    let mut local = String::from("services:\n");
    for name in ["orders", "billing"] {
        local.push_str(&service(name, "./", root_pair_database));
    }
    local.push_str("  db:\n    image: postgres:16\n");
    write("docker-compose.yml", &local);
    shared_database_messages(&root)
}

#[test]
fn a_group_inside_a_larger_one_sharing_a_database_elsewhere_is_the_same_unit() {
    let found = two_deployments("local");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("`stock`"), "{found:?}");
}

/// `posts` and `users` both load one `.env` that holds `POSTS_DATABASE_URL`; `users_code` is
/// the users service's `main.rs`.
fn one_env_file_for_every_container(users_code: &str) -> Vec<String> {
    let (_dir, root) = temp_root();
    let write = |path: &str, text: &str| write_file(&root, path, text);
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"posts\", \"users\"]\n",
    );
    let read_posts_url = "fn main() { let _ = std::env::var(\"POSTS_DATABASE_URL\"); }\n";
    write_member(
        &root,
        "posts",
        "axum = \"*\"\nsqlx = \"*\"\n",
        read_posts_url,
    );
    write_member(&root, "users", "axum = \"*\"\nsqlx = \"*\"\n", users_code);
    write(
        ".env",
        "POSTS_DATABASE_URL=postgresql://app:secret@db:5432/blog\nPOSTGRES_DB=blog\n",
    );
    write(
        "docker-compose.yml",
        "services:\n  posts:\n    build: ./posts\n    env_file:\n      - .env\n  users:\n    build: ./users\n    env_file:\n      - .env\n  db:\n    image: postgres:16\n",
    );
    shared_database_messages(&root)
}

#[test]
fn a_variable_named_for_another_service_is_that_services_unless_the_code_reads_it() {
    // The users service receives the whole file but reads its own configuration.
    let found = one_env_file_for_every_container("fn main() {}\n");
    assert_eq!(found, Vec::<String>::new());
    // Read by the users code too: both services open the posts database.
    let found = one_env_file_for_every_container(
        "fn main() { let _ = std::env::var(\"POSTS_DATABASE_URL\"); }\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`posts`") && found[0].contains("`users`"),
        "{found:?}"
    );
}
