//! `refdata`: serve the embedded reference-data snapshot, or rebuild it from source files.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::sync::Arc;

use refdata::app::AppState;
use refdata::auth::Tokens;
use refdata::config::{CorsOrigins, Limits, ServiceConfig};
use refdata::import::{self, ImportSources};
use refdata::server;
use refdata::storage::{Store, WriteError};
use refdata::store::{EmbeddedSource, Snapshot, SnapshotFiles, SnapshotSource, EMBEDDED_FILES};

#[derive(Parser)]
#[command(name = "refdata", version, about = "Shared reference-data service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve(Box<ServeArgs>),
    /// Rebuild the snapshot from the authoritative source files.
    Import(Box<ImportArgs>),
    /// Print the hash of a bearer token (read from stdin) for a tokens file.
    HashToken,
    /// Validate a tax-rate table against the embedded ISO 3166 codes.
    CheckTaxRates {
        /// CSV with header country,subdivision,type,rate,valid_from,valid_to,source.
        file: PathBuf,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "REFDATA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where the datasets are stored: `sqlite://PATH` (created on first start from the
    /// embedded snapshot), `postgres://...` (shared by replicas), or `embedded` (the snapshot
    /// in the binary, read-only).
    #[arg(
        long,
        env = "REFDATA_DATABASE_URL",
        default_value = "sqlite://refdata.db"
    )]
    database_url: String,
    /// Tokens file: one `NAME ROLE sha256:HEX` per line, roles reader, editor or admin (see
    /// `refdata hash-token`).
    #[arg(long, env = "REFDATA_TOKENS")]
    tokens: Option<PathBuf>,
    /// A bearer token with the admin role.
    #[arg(long, env = "REFDATA_ADMIN_TOKEN", hide_env_values = true, hide = true)]
    admin_token: Option<String>,
    /// How often to check the database for a newer version, besides PostgreSQL notifications
    /// [default: 5s].
    #[arg(long, env = "REFDATA_VERSION_CHECK", value_parser = parse_duration)]
    version_check: Option<Duration>,
    /// Log format; the filter comes from `RUST_LOG` (default `info`).
    #[arg(long, value_enum, env = "REFDATA_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// `/readyz` fails when the newest exchange rates are older than this (e.g. `4d`, `96h`).
    #[arg(long, env = "REFDATA_MAX_RATES_AGE", value_parser = parse_duration)]
    max_rates_age: Option<Duration>,
    /// Log one line per request (method, target, status, microseconds) at INFO, target
    /// `refdata::access`.
    #[arg(long, env = "REFDATA_ACCESS_LOG")]
    access_log: bool,
    /// Origins allowed to call the API from a browser: `*` (any), `off`, or a comma-separated
    /// list such as `https://shop.example,https://admin.example`.
    #[arg(long, env = "REFDATA_CORS_ORIGINS", default_value = "*", value_parser = parse_cors)]
    cors_origins: CorsOrigins,
    /// Expensive renders (time series, pages over `--large-page` items) at once; more get 503
    /// with Retry-After [default: 2].
    #[arg(long, env = "REFDATA_MAX_EXPENSIVE")]
    max_expensive: Option<usize>,
    /// A page larger than this many items is an expensive render [default: 250].
    #[arg(long, env = "REFDATA_LARGE_PAGE")]
    large_page: Option<usize>,
    /// Longest exchange-rate time series, in days [default: 1830].
    #[arg(long, env = "REFDATA_MAX_SERIES_DAYS")]
    max_series_days: Option<u32>,
    /// Largest response body in bytes; larger answers are a 422 problem [default: 4194304].
    #[arg(long, env = "REFDATA_MAX_RESPONSE_BYTES")]
    max_response_bytes: Option<usize>,
    /// Bytes the response cache may hold [default: 41943040, 40 MiB].
    #[arg(long, env = "REFDATA_CACHE_MAX_BYTES")]
    cache_max_bytes: Option<u64>,
    /// Time a request head may take from its first byte (slow headers) [default: 10s].
    #[arg(long, env = "REFDATA_HEADER_READ_TIMEOUT", value_parser = parse_duration)]
    header_read_timeout: Option<Duration>,
    /// A connection sending nothing for this long after opening or after its previous
    /// response is closed (idle keep-alive) [default: 60s].
    #[arg(long, env = "REFDATA_IDLE_TIMEOUT", value_parser = parse_duration)]
    idle_timeout: Option<Duration>,
    /// Open connections; more are answered 503 and closed [default: 1024].
    #[arg(long, env = "REFDATA_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Rendering time after which a request is answered 503 [default: 30s].
    #[arg(long, env = "REFDATA_REQUEST_TIMEOUT", value_parser = parse_duration)]
    request_timeout: Option<Duration>,
    /// How long to keep retrying when the address is still held (a previous process
    /// draining) [default: 5s].
    #[arg(long, env = "REFDATA_BIND_WAIT", value_parser = parse_duration)]
    bind_wait: Option<Duration>,
}

impl ServeArgs {
    fn tokens(&self) -> Result<Tokens, String> {
        let mut tokens = match &self.tokens {
            Some(path) => Tokens::from_file(path).map_err(|error| error.to_string())?,
            None => Tokens::default(),
        };
        if let Some(token) = self.admin_token.as_deref().filter(|t| !t.is_empty()) {
            tokens.merge(Tokens::admin(token));
        }
        Ok(tokens)
    }

    fn config(&self) -> ServiceConfig {
        let defaults = Limits::default();
        let limits = Limits {
            max_expensive: self.max_expensive.unwrap_or(defaults.max_expensive),
            large_page: self.large_page.unwrap_or(defaults.large_page),
            retry_after: defaults.retry_after,
            max_series_days: self.max_series_days.unwrap_or(defaults.max_series_days),
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(defaults.max_response_bytes),
            cache_max_bytes: self.cache_max_bytes.unwrap_or(defaults.cache_max_bytes),
            header_read_timeout: self
                .header_read_timeout
                .unwrap_or(defaults.header_read_timeout),
            idle_timeout: self.idle_timeout.unwrap_or(defaults.idle_timeout),
            max_connections: self.max_connections.unwrap_or(defaults.max_connections),
            request_timeout: self.request_timeout.unwrap_or(defaults.request_timeout),
        };
        ServiceConfig {
            limits,
            max_rates_age: self.max_rates_age,
            cors: self.cors_origins.clone(),
            access_log: self.access_log,
            version_check: self
                .version_check
                .unwrap_or(ServiceConfig::default().version_check),
            ..ServiceConfig::default()
        }
    }
}

fn parse_cors(text: &str) -> Result<CorsOrigins, String> {
    match text.trim() {
        "*" => Ok(CorsOrigins::Any),
        "off" | "" => Ok(CorsOrigins::Off),
        list => {
            let origins: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect();
            match origins
                .iter()
                .find(|o| http::HeaderValue::from_str(o).is_err())
            {
                Some(bad) => Err(format!("{bad:?} is not a valid origin")),
                None => Ok(CorsOrigins::List(origins)),
            }
        }
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    refdata::config::parse_duration(text)
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Version of the region extract committed as `data/sources/regions.csv`.
const COMMITTED_REGIONS_VERSION: &str = "world-countries 5.1.0";

#[derive(Args)]
struct ImportArgs {
    /// Load the ECB file given with --ecb into this store (`sqlite://PATH` or
    /// `postgres://...`) as a new dataset version, instead of rebuilding the snapshot.
    #[arg(long)]
    into: Option<String>,
    /// With --into: why the rates are loaded (kept in the audit log).
    #[arg(long, requires = "into", default_value = "ECB reference rates")]
    reason: String,
    /// With --into: the dataset version the change is based on; the import fails if the
    /// store has moved on.
    #[arg(long, requires = "into")]
    if_match: Option<u64>,
    /// Directory with iso-codes' iso_3166-1.json, iso_3166-2.json and iso_4217.json.
    #[arg(long, required_unless_present = "into")]
    iso_codes: Option<PathBuf>,
    /// Version of those iso-codes files, e.g. 4.15.0.
    #[arg(long, required_unless_present = "into")]
    iso_codes_version: Option<String>,
    /// Release date of that iso-codes version (YYYY-MM-DD).
    #[arg(long)]
    iso_codes_released: Option<String>,
    /// ISO 4217 list one (list-one.xml).
    #[arg(long, required_unless_present = "into")]
    iso4217: Option<PathBuf>,
    /// ECB reference rates: eurofxref-hist.zip or a CSV in that layout; with --into also the
    /// ECB's XML (eurofxref-daily.xml, eurofxref-hist.xml).
    #[arg(long)]
    ecb: PathBuf,
    /// UN M49 regions: world-countries countries.json or a CSV alpha2,region,subregion
    /// [default: OUT/sources/regions.csv].
    #[arg(long, requires = "regions_version")]
    regions: Option<PathBuf>,
    /// Version of the region source, e.g. "world-countries 5.1.0".
    #[arg(long, default_value = COMMITTED_REGIONS_VERSION)]
    regions_version: String,
    /// Curated historic-currencies.csv.
    /// [default: OUT/sources/historic-currencies.csv]
    #[arg(long)]
    historic_currencies: Option<PathBuf>,
    /// Curated tax-rates.csv to validate (and copy into OUT/sources/).
    #[arg(long)]
    tax_rates: Option<PathBuf>,
    /// Snapshot directory to write, normally refdata-service/data.
    #[arg(long, required_unless_present = "into")]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Import(args)) => run_import(*args),
        Some(Command::Serve(args)) => run_serve(*args),
        Some(Command::CheckTaxRates { file }) => run_check_tax_rates(&file),
        Some(Command::HashToken) => run_hash_token(),
        None => run_serve(cli.serve),
    }
}

fn run_hash_token() -> ExitCode {
    let mut token = String::new();
    if let Err(error) = std::io::stdin().read_line(&mut token) {
        eprintln!(
            "{:?}",
            miette::miette!("cannot read the token from stdin: {error}")
        );
        return ExitCode::FAILURE;
    }
    let token = token.trim_end_matches(['\r', '\n']);
    if token.len() < 16 {
        eprintln!(
            "{:?}",
            miette::miette!(
                help = "generate one with `openssl rand -hex 32`",
                "a token should be at least 16 characters of random text"
            )
        );
        return ExitCode::FAILURE;
    }
    println!("{}", refdata::auth::hash_token(token));
    ExitCode::SUCCESS
}

/// `refdata import --into STORE --ecb FILE`: the same change as `POST /v1/admin/exchange-rates`.
fn run_import_into(url: &str, args: &ImportArgs) -> ExitCode {
    let fail = |message: String| {
        eprintln!("{:?}", miette::miette!("{message}"));
        ExitCode::FAILURE
    };
    let bytes = match std::fs::read(&args.ecb) {
        Ok(bytes) => bytes,
        Err(error) => return fail(format!("cannot read {}: {error}", args.ecb.display())),
    };
    let table = if bytes.starts_with(b"PK\x03\x04") {
        import::ecb::read(&args.ecb).map_err(|error| error.to_string())
    } else {
        String::from_utf8(bytes)
            .map_err(|_| "not UTF-8 text".to_owned())
            .and_then(|text| import::ecb::parse_any(&text))
    };
    let table = match table {
        Ok(table) => table,
        Err(message) => {
            return fail(format!(
                "{}: not an ECB file: {message}",
                args.ecb.display()
            ))
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(format!("cannot start the async runtime: {error}")),
    };
    let author = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    let result = runtime.block_on(async {
        let store = Store::open(url).await.map_err(|e| e.to_string())?;
        let written = store
            .write(
                args.if_match,
                &author,
                "exchange-rates.import",
                &args.reason,
                &|contents| refdata::storage::edit::import_rates(contents, &table),
                None,
            )
            .await;
        store.close().await;
        written.map_err(|error| match error {
            WriteError::Invalid(violations) => violations
                .iter()
                .map(|v| format!("{}: {}", v.field, v.message))
                .collect::<Vec<_>>()
                .join("\n"),
            other => other.to_string(),
        })
    });
    match result {
        Ok(written) if written.changed => {
            println!(
                "imported {} days of rates into {} as version {}",
                table.rows.len(),
                refdata::storage::redact(url),
                written.version
            );
            ExitCode::SUCCESS
        }
        Ok(written) => {
            println!(
                "nothing changed: {} already holds these rates (version {})",
                refdata::storage::redact(url),
                written.version
            );
            ExitCode::SUCCESS
        }
        Err(message) => fail(format!("import rejected, nothing changed:\n{message}")),
    }
}

fn run_import(args: ImportArgs) -> ExitCode {
    if let Some(url) = &args.into {
        return run_import_into(url, &args);
    }
    let (Some(iso_codes), Some(iso_codes_version), Some(iso4217), Some(out)) = (
        args.iso_codes,
        args.iso_codes_version,
        args.iso4217,
        args.out,
    ) else {
        eprintln!(
            "{:?}",
            miette::miette!("--iso-codes, --iso-codes-version, --iso4217 and --out are required")
        );
        return ExitCode::FAILURE;
    };
    let sources = ImportSources {
        iso_codes_dir: iso_codes,
        iso_codes_version,
        iso_codes_released: args.iso_codes_released,
        iso4217_list_one: iso4217,
        ecb: args.ecb,
        regions: args
            .regions
            .unwrap_or_else(|| out.join("sources/regions.csv")),
        regions_version: args.regions_version,
        historic_currencies: args
            .historic_currencies
            .unwrap_or_else(|| out.join("sources/historic-currencies.csv")),
        tax_rates: args.tax_rates,
    };
    match import::run(&sources, &out) {
        Ok(summary) => {
            println!(
                "imported {} countries, {} subdivisions, {} currencies ({} historic), \
                 {} days of exchange rates{} into {}",
                summary.countries,
                summary.subdivisions,
                summary.currencies,
                summary.historic_currencies,
                summary.rate_days,
                summary
                    .tax_rates
                    .map(|n| format!(", {n} tax rates"))
                    .unwrap_or_default(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            let help = match error {
                import::ImportError::Write { .. } => {
                    "the snapshot may be partly written; fix the output directory and run the \
                     import again"
                }
                _ => {
                    "fix the named source file (or pass the right one) and run the import \
                      again; nothing was written"
                }
            };
            let report = miette::miette!(help = help, "{error}");
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}

fn run_check_tax_rates(file: &std::path::Path) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!(
                "{:?}",
                miette::miette!("cannot read {}: {error}", file.display())
            );
            return ExitCode::FAILURE;
        }
    };
    let files = SnapshotFiles {
        tax_rates: &bytes,
        ..EMBEDDED_FILES
    };
    match Snapshot::from_files(files) {
        Ok(snapshot) => {
            let rates = snapshot.datasets().iter().find(|d| d.name == "tax_rates");
            println!(
                "{}: {} valid tax rates",
                file.display(),
                rates.map_or(0, |d| d.records)
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{:?}", miette::miette!("{}: {error}", file.display()));
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stdout through a background writer, so a request never waits on the terminal
/// or pipe; the guard flushes what is buffered when it is dropped at exit.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stdout());
    // Colours only for a terminal: in a file or a log pipeline they are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    guard
}

fn run_serve(args: ServeArgs) -> ExitCode {
    let _flush_on_exit = init_logging(args.log_format);
    let mut config = args.config();
    match args.tokens() {
        Ok(tokens) => config.tokens = Arc::new(tokens),
        Err(error) => {
            tracing::error!(%error, "cannot read the tokens");
            eprintln!("{:?}", miette::miette!("{error}"));
            return ExitCode::FAILURE;
        }
    }
    if config.tokens.is_empty() {
        tracing::warn!(
            "no tokens configured (REFDATA_ADMIN_TOKEN or --tokens): /metrics and /v1/admin \
             refuse every request"
        );
    }
    let bind_wait = args.bind_wait.unwrap_or(Duration::from_secs(5));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let listener = server::bind(args.listen, bind_wait)
            .await
            .map_err(|error| format!("cannot listen on {}: {error}", args.listen))?;
        let state = AppState::loading_with(config);
        let served = if args.database_url == "embedded" {
            let source: Arc<dyn SnapshotSource> = Arc::new(EmbeddedSource);
            server::serve(listener, state, source, server::shutdown_signal()).await
        } else {
            server::serve_store(
                listener,
                state,
                args.database_url.clone(),
                server::shutdown_signal(),
            )
            .await
        };
        served.map_err(|error| error.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "refdata stopped");
            eprintln!("{:?}", miette::miette!("{error}"));
            ExitCode::FAILURE
        }
    }
}
