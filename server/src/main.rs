//! `chauffeur-server [serve]` runs the API; `chauffeur-server dev` a throwaway demo environment;
//! `chauffeur-server migrate` only migrates the database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chauffeur_server::{
    demo_issuer, fresh_dev_dir, load_issuer, load_or_create_key, new_key, parse_key,
    placeholder_issuer, prepare, redact, seed_demo, serve, shutdown_signal, sqlite_url,
    ServerConfig, DEMO_ACCOUNTS, DEMO_PARTNERS,
};
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "chauffeur-server",
    version,
    about = "Chauffeur's HTTP API server"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (the default).
    Serve(ServeArgs),
    /// A fresh throwaway environment: new data dir, demo accounts, printed URLs and credentials.
    Dev(DevArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// A local payment provider speaking the provider's HTTP subset, with test cards (for tests
    /// and development; never in production).
    PaymentsDouble {
        /// Address to listen on (port 0: any free port; the first line printed says which).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
    /// Create an operator account (operators manage partners through the API).
    Operator {
        #[command(flatten)]
        database: DatabaseArgs,
        #[arg(long)]
        email: String,
        /// At least 10 characters.
        #[arg(long, env = "CHAUFFEUR_OPERATOR_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        name: String,
    },
    /// Manage partners (limousine companies), their accounts and vehicles.
    Partner {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        action: PartnerAction,
    },
}

#[derive(Subcommand)]
enum PartnerAction {
    /// Create a partner serving cities with vehicle classes; prints its id.
    Create {
        #[arg(long)]
        name: String,
        /// City id from the catalog (repeat for several).
        #[arg(long = "city", required = true)]
        cities: Vec<String>,
        /// business, first or van (repeat for several).
        #[arg(long = "class", required = true)]
        classes: Vec<String>,
    },
    /// Create an account for a partner: a dispatcher (role partner) or a chauffeur.
    AddMember {
        #[arg(long)]
        partner: uuid::Uuid,
        #[arg(long)]
        email: String,
        /// At least 10 characters.
        #[arg(long, env = "CHAUFFEUR_MEMBER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        name: String,
        /// partner (dispatcher) or chauffeur.
        #[arg(long, default_value = "partner")]
        role: String,
    },
    /// Register a vehicle of a partner.
    AddVehicle {
        #[arg(long)]
        partner: uuid::Uuid,
        #[arg(long)]
        class: String,
        #[arg(long)]
        plate: String,
        #[arg(long)]
        seats: i64,
        #[arg(long)]
        bags: i64,
    },
    /// List partners.
    List,
}

#[derive(Args, Clone)]
struct DatabaseArgs {
    /// Where the embedded SQLite database and the quote key live.
    #[arg(long, env = "CHAUFFEUR_DATA_DIR", default_value = "chauffeur-data")]
    data_dir: PathBuf,
    /// postgres://user:password@host/db to use PostgreSQL instead of SQLite.
    #[arg(long, env = "CHAUFFEUR_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args, Clone)]
struct CommonArgs {
    /// Address to listen on.
    #[arg(long, env = "CHAUFFEUR_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "CHAUFFEUR_LOG_JSON")]
    log_json: bool,
    /// Seconds before a request is abandoned.
    #[arg(long, env = "CHAUFFEUR_REQUEST_TIMEOUT", default_value_t = 30)]
    request_timeout_secs: u64,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "CHAUFFEUR_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    max_body_bytes: usize,
    /// Password hashes computed at once (each takes 19 MiB); defaults to the number of CPUs.
    #[arg(long, env = "CHAUFFEUR_HASHING_PERMITS")]
    hashing_permits: Option<usize>,
    /// Partners offered a booking at once.
    #[arg(long, env = "CHAUFFEUR_DISPATCH_BATCH_SIZE", default_value_t = chauffeur_core::dispatch::BATCH_SIZE)]
    dispatch_batch_size: usize,
    /// Milliseconds between the dispatcher's rounds over pending bookings.
    #[arg(long, env = "CHAUFFEUR_DISPATCH_INTERVAL_MS", default_value_t = 1000)]
    dispatch_interval_ms: u64,
    /// Proxies (addresses or networks, comma separated) whose X-Forwarded-For names the client
    /// address the log-in throttle counts; from any other peer the header is ignored.
    #[arg(long, env = "CHAUFFEUR_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<String>,
    /// FOR TESTS ONLY: serve POST /v1/test/clock, which moves the server's clock forward.
    #[arg(long, hide = true)]
    test_clock: bool,
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    common: CommonArgs,
    /// Hex key (≥ 32 bytes) that signs quotes; all replicas need the same one. Default: a key
    /// created in the data directory on first start.
    #[arg(long, env = "CHAUFFEUR_QUOTE_KEY", hide_env_values = true)]
    quote_key: Option<String>,
    /// Origins allowed by CORS (the web console), comma separated.
    #[arg(long, env = "CHAUFFEUR_CORS_ORIGINS", value_delimiter = ',')]
    cors_origin: Vec<String>,
    /// JSON file with the seller of record printed on invoices: name, address (lines),
    /// vat_id, number_prefix, and optionally registration and email. Without it invoices
    /// carry a placeholder issuer and the server warns at start.
    #[arg(long, env = "CHAUFFEUR_INVOICE_ISSUER")]
    invoice_issuer: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct DevArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// postgres://… of an empty database to seed and serve instead of a fresh SQLite file (the
    /// robustness run uses it). Deliberately not read from the environment, so that `dev`
    /// never seeds demo accounts into a database configured for `serve`.
    #[arg(long)]
    database_url: Option<String>,
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_env("CHAUFFEUR_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colours only for a person at a terminal, never in files or log collectors.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}

fn permits(common: &CommonArgs) -> usize {
    common.hashing_permits.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    })
}

fn database_url(args: &DatabaseArgs) -> anyhow::Result<String> {
    match &args.database_url {
        Some(url) => Ok(url.clone()),
        None => sqlite_url(&args.data_dir),
    }
}

async fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let database_url = database_url(&args.database)?;
    let quote_key = match &args.quote_key {
        Some(hex) => parse_key(hex)?,
        None => {
            if args.database.database_url.is_some() {
                tracing::warn!("no --quote-key given: using a key from the data directory; replicas must share one");
            }
            std::fs::create_dir_all(&args.database.data_dir)?;
            load_or_create_key(&args.database.data_dir.join("quote-key"))?
        }
    };
    let config = ServerConfig {
        listen: args.common.listen,
        database_url,
        quote_key,
        request_timeout: Duration::from_secs(args.common.request_timeout_secs),
        max_body_bytes: args.common.max_body_bytes,
        cors_origins: args.cors_origin.clone(),
        cors_any: false,
        hashing_permits: permits(&args.common),
        dispatch_batch_size: args.common.dispatch_batch_size,
        dispatch_interval: Duration::from_millis(args.common.dispatch_interval_ms.max(10)),
        test_clock: args.common.test_clock,
        trusted_proxies: args.common.trusted_proxies.clone(),
        invoice_issuer: match &args.invoice_issuer {
            Some(path) => load_issuer(path)?,
            None => {
                tracing::warn!("no --invoice-issuer given: invoices carry a placeholder issuer; configure the seller of record before taking real bookings");
                placeholder_issuer()
            }
        },
    };
    let state = prepare(&config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    // The first line on stdout says where we listen (tests read it when binding port 0).
    println!("listening on http://{local}");
    tracing::info!(%local, database = %redact(&config.database_url), "serving");
    serve(state, &config, listener, shutdown_signal()).await
}

async fn run_dev(args: DevArgs) -> anyhow::Result<()> {
    let dir = fresh_dev_dir()?;
    let config = ServerConfig {
        listen: args.common.listen,
        database_url: match &args.database_url {
            Some(url) => url.clone(),
            None => sqlite_url(&dir)?,
        },
        quote_key: new_key()?,
        request_timeout: Duration::from_secs(args.common.request_timeout_secs),
        max_body_bytes: args.common.max_body_bytes,
        cors_origins: Vec::new(),
        cors_any: true,
        hashing_permits: permits(&args.common),
        dispatch_batch_size: args.common.dispatch_batch_size,
        dispatch_interval: Duration::from_millis(args.common.dispatch_interval_ms.max(10)),
        test_clock: args.common.test_clock,
        trusted_proxies: args.common.trusted_proxies.clone(),
        invoice_issuer: demo_issuer(),
    };
    let state = prepare(&config).await?;
    seed_demo(&state).await?;
    let listener = TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (is another server running?)",
            config.listen
        )
    })?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("listening on {base}");
    println!();
    println!(
        "Chauffeur dev environment (throwaway data in {})",
        dir.display()
    );
    println!("  API:      {base}/v1/cities");
    println!("  OpenAPI:  {base}/openapi.json");
    println!("  Health:   {base}/healthz   Metrics: {base}/metrics");
    println!("  Demo accounts (e-mail / password):");
    for account in DEMO_ACCOUNTS {
        println!(
            "    {:<10} {} / {}",
            account.role.as_str(),
            account.email,
            account.password
        );
    }
    for chauffeur in DEMO_PARTNERS.iter().filter_map(|p| p.chauffeur) {
        println!(
            "    {:<10} {} / demo-chauffeur-pass",
            "chauffeur", chauffeur
        );
    }
    let partners: Vec<&str> = DEMO_PARTNERS.iter().map(|p| p.name).collect();
    println!(
        "  Demo partners: {} (the demo partner account dispatches for the first)",
        partners.join(", ")
    );
    println!("  Stop with Ctrl-C.");
    serve(state, &config, listener, shutdown_signal()).await
}

async fn run_partner(database: DatabaseArgs, action: PartnerAction) -> anyhow::Result<()> {
    use chauffeur_server::partners;
    use chauffeur_server::store::Store;
    let url = database_url(&database)?;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database ({})", redact(&url)))?;
    store.migrate().await?;
    let now = chrono::Utc::now();
    let fail = |e: chauffeur_server::error::ApiError| anyhow::anyhow!("{}", e.detail);
    match action {
        PartnerAction::Create {
            name,
            cities,
            classes,
        } => {
            let catalog = chauffeur_core::Catalog::shipped()?;
            let id = partners::create_partner(&store, &catalog, &name, &cities, &classes, now)
                .await
                .map_err(fail)?;
            println!("{id}");
        }
        PartnerAction::AddMember {
            partner,
            email,
            password,
            name,
            role,
        } => {
            let hashing = chauffeur_server::auth::PasswordHashing::new(1).map_err(fail)?;
            let id = partners::add_member(
                &store, &hashing, partner, &email, &password, &name, &role, now,
            )
            .await
            .map_err(fail)?;
            println!("{id}");
        }
        PartnerAction::AddVehicle {
            partner,
            class,
            plate,
            seats,
            bags,
        } => {
            let id = partners::add_vehicle(&store, partner, &class, &plate, seats, bags)
                .await
                .map_err(fail)?;
            println!("{id}");
        }
        PartnerAction::List => {
            for p in store.partners().await? {
                println!(
                    "{}  {}  cities={}  classes={}  members={}  vehicles={}{}",
                    p.id,
                    p.name,
                    p.cities.join(","),
                    p.classes.join(","),
                    p.members,
                    p.vehicles,
                    if p.active { "" } else { "  (inactive)" }
                );
            }
        }
    }
    Ok(())
}

async fn run_operator(
    database: DatabaseArgs,
    email: &str,
    password: &str,
    name: &str,
) -> anyhow::Result<()> {
    use chauffeur_server::auth;
    use chauffeur_server::store::{NewUser, Role, Store};
    let url = database_url(&database)?;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database ({})", redact(&url)))?;
    store.migrate().await?;
    let fail = |e: chauffeur_server::error::ApiError| anyhow::anyhow!("{}", e.detail);
    let email = auth::normalise_email(email).map_err(fail)?;
    auth::check_new_password(password).map_err(fail)?;
    let hash = auth::PasswordHashing::new(1)
        .map_err(fail)?
        .hash(password)
        .await
        .map_err(fail)?;
    let user = store
        .create_user(
            &NewUser {
                email: &email,
                password_hash: &hash,
                role: Role::Operator,
                name: Some(name.trim()),
                phone: None,
            },
            chrono::Utc::now(),
        )
        .await?;
    println!("{}", user.id);
    Ok(())
}

async fn run_migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    let url = database_url(&args)?;
    let store = chauffeur_server::store::Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database ({})", redact(&url)))?;
    let applied = store.migrate().await?;
    println!("{} migration(s) applied to {}", applied.len(), redact(&url));
    Ok(())
}

async fn run_payments_double(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    // The first line on stdout says where we listen (tests read it when binding port 0).
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, chauffeur_server::payments::double::router())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the payments double failed")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = match &cli.command {
        Some(Command::Serve(a)) => a.common.log_json,
        Some(Command::Dev(a)) => a.common.log_json,
        Some(Command::Migrate(_))
        | Some(Command::Partner { .. })
        | Some(Command::Operator { .. })
        | Some(Command::PaymentsDouble { .. }) => false,
        None => cli.serve.common.log_json,
    };
    init_logging(json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Some(Command::Serve(args)) => run_serve(args).await,
            None => run_serve(cli.serve).await,
            Some(Command::Dev(args)) => run_dev(args).await,
            Some(Command::Migrate(args)) => run_migrate(args).await,
            Some(Command::Partner { database, action }) => run_partner(database, action).await,
            Some(Command::Operator {
                database,
                email,
                password,
                name,
            }) => run_operator(database, &email, &password, &name).await,
            Some(Command::PaymentsDouble { listen }) => run_payments_double(listen).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
