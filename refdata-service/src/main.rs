//! `refdata`: serve the embedded reference-data snapshot, or rebuild it from source files.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::sync::Arc;

use refdata::app::AppState;
use refdata::config::{CorsOrigins, Limits, ServiceConfig};
use refdata::import::{self, ImportSources};
use refdata::server;
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
    /// Bytes the response cache may hold [default: 50331648, 48 MiB].
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
    /// Directory with iso-codes' iso_3166-1.json, iso_3166-2.json and iso_4217.json.
    #[arg(long)]
    iso_codes: PathBuf,
    /// Version of those iso-codes files, e.g. 4.15.0.
    #[arg(long)]
    iso_codes_version: String,
    /// Release date of that iso-codes version (YYYY-MM-DD).
    #[arg(long)]
    iso_codes_released: Option<String>,
    /// ISO 4217 list one (list-one.xml).
    #[arg(long)]
    iso4217: PathBuf,
    /// ECB reference-rate history: eurofxref-hist.zip or a CSV in that layout.
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
    #[arg(long)]
    out: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Import(args)) => run_import(*args),
        Some(Command::Serve(args)) => run_serve(*args),
        Some(Command::CheckTaxRates { file }) => run_check_tax_rates(&file),
        None => run_serve(cli.serve),
    }
}

fn run_import(args: ImportArgs) -> ExitCode {
    let sources = ImportSources {
        iso_codes_dir: args.iso_codes,
        iso_codes_version: args.iso_codes_version,
        iso_codes_released: args.iso_codes_released,
        iso4217_list_one: args.iso4217,
        ecb: args.ecb,
        regions: args
            .regions
            .unwrap_or_else(|| args.out.join("sources/regions.csv")),
        regions_version: args.regions_version,
        historic_currencies: args
            .historic_currencies
            .unwrap_or_else(|| args.out.join("sources/historic-currencies.csv")),
        tax_rates: args.tax_rates,
    };
    match import::run(&sources, &args.out) {
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
                args.out.display()
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
    let config = args.config();
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
        let source: Arc<dyn SnapshotSource> = Arc::new(EmbeddedSource);
        server::serve(
            listener,
            AppState::loading_with(config),
            source,
            server::shutdown_signal(),
        )
        .await
        .map_err(|error| error.to_string())
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
