//! `chauffeur-server [serve]` runs the API; `chauffeur-server dev` a throwaway demo environment;
//! `chauffeur-server migrate` only migrates the database; `backup`, `restore` and `archive export`
//! are the operator's tools for copies of the data (see `ops`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chauffeur_server::{
    demo_issuer, fresh_dev_dir, load_issuer, load_or_create_key, new_key, parse_key,
    placeholder_issuer, prepare, redact, seed_demo, serve, shutdown_signal, sqlite_url,
    PaymentsConfig, ServerConfig, DEMO_ACCOUNTS, DEMO_PARTNERS,
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
        /// Where to send signed webhooks (e.g. http://127.0.0.1:8080/v1/payments/webhook).
        #[arg(long)]
        webhook_url: Option<String>,
        /// The secret webhooks are signed with.
        #[arg(long, default_value = "whsec_test_double")]
        webhook_secret: String,
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
    /// Take an online backup (while the server runs) into --out-dir; `backup verify FILE`
    /// checks one by restoring it into a scratch place.
    Backup(BackupCommand),
    /// Restore a backup into an empty data directory or database (`--force` replaces one).
    Restore(RestoreArgs),
    /// The booking archive for accounting.
    Archive {
        #[command(subcommand)]
        action: ArchiveAction,
    },
    /// Manage partners (limousine companies), their accounts and vehicles.
    Partner {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        action: PartnerAction,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct BackupCommand {
    #[command(subcommand)]
    action: Option<BackupAction>,
    #[command(flatten)]
    database: DatabaseArgs,
    /// Where the backup's files go (created if missing).
    #[arg(long, env = "CHAUFFEUR_BACKUP_DIR")]
    out_dir: Option<PathBuf>,
    /// Also verify the new backup (PostgreSQL: a scratch database is created on the same
    /// server and dropped again).
    #[arg(long)]
    verify: bool,
    /// Afterwards delete the backups in --out-dir that the retention policy lets go.
    #[arg(long)]
    prune: bool,
    #[command(flatten)]
    retention: RetentionArgs,
}

#[derive(Subcommand)]
enum BackupAction {
    /// Restore a backup into a scratch place, run the integrity checks and compare with its
    /// manifest; exits non-zero on any mismatch.
    Verify {
        /// The backup's manifest or payload file.
        file: PathBuf,
        /// For a PostgreSQL backup: a server where a scratch database may be created.
        #[arg(long, env = "CHAUFFEUR_DATABASE_URL")]
        database_url: Option<String>,
    },
}

#[derive(Args, Clone)]
struct RetentionArgs {
    /// Hours that keep their newest backup.
    #[arg(long, env = "CHAUFFEUR_BACKUP_KEEP_HOURLY", default_value_t = 24)]
    keep_hourly: u32,
    /// Days that keep their newest backup.
    #[arg(long, env = "CHAUFFEUR_BACKUP_KEEP_DAILY", default_value_t = 14)]
    keep_daily: u32,
    /// ISO weeks that keep their newest backup.
    #[arg(long, env = "CHAUFFEUR_BACKUP_KEEP_WEEKLY", default_value_t = 8)]
    keep_weekly: u32,
    /// Months that keep their newest backup.
    #[arg(long, env = "CHAUFFEUR_BACKUP_KEEP_MONTHLY", default_value_t = 24)]
    keep_monthly: u32,
}

impl RetentionArgs {
    fn policy(&self) -> chauffeur_server::ops::retention::Policy {
        chauffeur_server::ops::retention::Policy {
            hourly: self.keep_hourly,
            daily: self.keep_daily,
            weekly: self.keep_weekly,
            monthly: self.keep_monthly,
        }
    }
}

#[derive(Args)]
struct RestoreArgs {
    /// The backup's manifest or payload file.
    file: PathBuf,
    /// Restore a SQLite backup into this data directory.
    #[arg(
        long,
        conflicts_with = "database_url",
        required_unless_present = "database_url"
    )]
    data_dir: Option<PathBuf>,
    /// Restore a PostgreSQL backup into this (existing) database.
    #[arg(long)]
    database_url: Option<String>,
    /// Replace what the target holds. Stop every server using it first.
    #[arg(long)]
    force: bool,
}

#[derive(Subcommand)]
enum ArchiveAction {
    /// Every version of every booking written from --from to --to (whole UTC days, both
    /// included) as gzip-compressed JSON Lines, one line per version.
    Export {
        #[command(flatten)]
        database: DatabaseArgs,
        /// First day (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day (YYYY-MM-DD, UTC), included.
        #[arg(long)]
        to: chrono::NaiveDate,
        /// The file to write (default: chauffeur-archive-FROM-TO.jsonl.gz here).
        #[arg(long)]
        out: Option<PathBuf>,
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
    /// Map tile URL template for the web pages, e.g. https://{s}.tile.example.org/{z}/{x}/{y}.png
    /// (its host is allowed by the pages' Content-Security-Policy). Default: no tiles; the map
    /// still works for picking points.
    #[arg(long, env = "CHAUFFEUR_TILE_URL")]
    tile_url: Option<String>,
    /// Proxies (addresses or networks, comma separated) whose X-Forwarded-For names the client
    /// address the log-in throttle counts; from any other peer the header is ignored.
    #[arg(long, env = "CHAUFFEUR_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<String>,
    /// FOR TESTS ONLY: serve POST /v1/test/clock, which moves the server's clock forward.
    #[arg(long, hide = true)]
    test_clock: bool,
    /// A geocoder speaking Photon's API (e.g. http://127.0.0.1:2322): place searches add its
    /// addresses to the built-in places. Without it, built-in places only.
    #[arg(long, env = "CHAUFFEUR_GEOCODER_URL")]
    geocoder_url: Option<String>,
    /// Milliseconds before a geocoder request is given up (the search then answers without it).
    #[arg(long, env = "CHAUFFEUR_GEOCODER_TIMEOUT_MS", default_value_t = 2000)]
    geocoder_timeout_ms: u64,
    #[command(flatten)]
    payments: PaymentsArgs,
}

#[derive(Args, Clone)]
struct PaymentsArgs {
    /// The card payment provider's API, e.g. https://api.stripe.com. Without it `serve` takes no
    /// payment (bookings carry none) and `dev` starts the local test provider.
    #[arg(long, env = "CHAUFFEUR_PAYMENTS_URL")]
    payments_url: Option<String>,
    /// The provider's secret API key (never logged).
    #[arg(long, env = "CHAUFFEUR_PAYMENTS_SECRET_KEY", hide_env_values = true)]
    payments_secret_key: Option<String>,
    /// The secret the provider signs its webhooks with (never logged); without it webhooks
    /// are refused and the reconciliation alone follows the provider.
    #[arg(
        long,
        env = "CHAUFFEUR_PAYMENTS_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    payments_webhook_secret: Option<String>,
    /// The provider's publishable key, handed to the apps for its client SDK.
    #[arg(long, env = "CHAUFFEUR_PAYMENTS_PUBLISHABLE_KEY")]
    payments_publishable_key: Option<String>,
    /// Which provider the URL is: `stripe`, or `test` for the local test provider.
    #[arg(long, env = "CHAUFFEUR_PAYMENTS_PROVIDER", default_value = "stripe",
          value_parser = ["stripe", "test"])]
    payments_provider: String,
    /// Held on the card over the quoted price for extras, in basis points (2000 = 20 %).
    #[arg(long, env = "CHAUFFEUR_PAYMENTS_ALLOWANCE_BP",
          default_value_t = chauffeur_core::payment::DEFAULT_ALLOWANCE_BP)]
    payments_allowance_bp: u32,
    /// Milliseconds before a provider call is given up (and retried later with its key).
    #[arg(long, env = "CHAUFFEUR_PAYMENTS_TIMEOUT_MS", default_value_t = 10_000)]
    payments_timeout_ms: u64,
}

impl PaymentsArgs {
    fn config(&self) -> anyhow::Result<Option<PaymentsConfig>> {
        let Some(url) = &self.payments_url else {
            return Ok(None);
        };
        let Some(secret_key) = self.payments_secret_key.clone() else {
            anyhow::bail!(
                "--payments-url needs --payments-secret-key (or CHAUFFEUR_PAYMENTS_SECRET_KEY)"
            );
        };
        Ok(Some(PaymentsConfig {
            url: url.clone(),
            secret_key,
            webhook_secret: self.payments_webhook_secret.clone(),
            publishable_key: self.payments_publishable_key.clone(),
            name: self.payments_provider.clone(),
            allowance_bp: self.payments_allowance_bp,
            timeout: Duration::from_millis(self.payments_timeout_ms.max(1)),
        }))
    }
}

impl CommonArgs {
    fn geocoder(&self) -> Option<chauffeur_server::geocoder::GeocoderConfig> {
        self.geocoder_url.as_ref().map(|url| {
            chauffeur_server::geocoder::GeocoderConfig::new(
                url.clone(),
                Duration::from_millis(self.geocoder_timeout_ms.max(1)),
            )
        })
    }
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
    /// Take a backup into this directory every --backup-every (the first at start), verify it
    /// and apply the retention policy. A failed backup is logged and counted in /metrics.
    #[arg(long, env = "CHAUFFEUR_BACKUP_DIR")]
    backup_dir: Option<PathBuf>,
    /// How often to back up: a number and a unit (s, m, h, d), e.g. 1h.
    #[arg(long, env = "CHAUFFEUR_BACKUP_EVERY", default_value = "1h",
          value_parser = chauffeur_server::ops::retention::parse_every)]
    backup_every: Duration,
    #[command(flatten)]
    retention: RetentionArgs,
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

/// The web pages' settings, checked before anything starts.
fn configure_web(common: &CommonArgs) -> anyhow::Result<()> {
    chauffeur_server::http::web::configure(chauffeur_server::http::web::WebConfig {
        tile_url: common.tile_url.clone(),
    })
    .map_err(|e| anyhow::anyhow!("--tile-url: {e}"))
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
    configure_web(&args.common)?;
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
        geocoder: args.common.geocoder(),
        trusted_proxies: args.common.trusted_proxies.clone(),
        invoice_issuer: match &args.invoice_issuer {
            Some(path) => load_issuer(path)?,
            None => {
                tracing::warn!("no --invoice-issuer given: invoices carry a placeholder issuer; configure the seller of record before taking real bookings");
                placeholder_issuer()
            }
        },
        payments: args.common.payments.config()?,
    };
    let state = prepare(&config).await?;
    if let Some(dir) = &args.backup_dir {
        let schedule = chauffeur_server::ops::Schedule {
            dir: dir.clone(),
            every: args.backup_every,
            policy: args.retention.policy(),
            database_url: config.database_url.clone(),
        };
        tracing::info!(dir = %dir.display(), every_s = args.backup_every.as_secs(), "scheduled backups");
        tokio::spawn(chauffeur_server::ops::run_backups(
            state.store.clone(),
            state.metrics.clone(),
            schedule,
            state.catalog.version().to_string(),
        ));
    }
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
    configure_web(&args.common)?;
    let dir = fresh_dev_dir()?;
    let listener = TcpListener::bind(args.common.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is another server running?)",
                args.common.listen
            )
        })?;
    let base = format!("http://{}", listener.local_addr()?);
    // The whole payment flow without an account anywhere: the local test provider, over
    // loopback HTTP like the real one, its webhooks signed and sent back here.
    let (payments, test_provider) = match args.common.payments.config()? {
        Some(configured) => (Some(configured), None),
        None => {
            let double = TcpListener::bind("127.0.0.1:0").await?;
            let url = format!("http://{}", double.local_addr()?);
            let webhook_secret = format!("whsec_dev_{}", hex::encode(new_key()?));
            let router = chauffeur_server::payments::double::router_with(
                chauffeur_server::payments::double::DoubleConfig {
                    webhook_url: Some(format!("{base}/v1/payments/webhook")),
                    webhook_secret: webhook_secret.clone(),
                    ..Default::default()
                },
            );
            tokio::spawn(async move {
                if let Err(e) = axum::serve(double, router).await {
                    tracing::error!(error = %e, "the test payment provider stopped");
                }
            });
            let config = PaymentsConfig {
                url: url.clone(),
                secret_key: "sk_test_dev".into(),
                webhook_secret: Some(webhook_secret),
                publishable_key: Some("pk_test_dev".into()),
                name: "test".into(),
                allowance_bp: args.common.payments.payments_allowance_bp,
                timeout: Duration::from_millis(args.common.payments.payments_timeout_ms.max(1)),
            };
            (Some(config), Some(url))
        }
    };
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
        geocoder: args.common.geocoder(),
        trusted_proxies: args.common.trusted_proxies.clone(),
        invoice_issuer: demo_issuer(),
        payments,
    };
    let state = prepare(&config).await?;
    seed_demo(&state).await?;
    println!("listening on {base}");
    println!();
    println!(
        "Chauffeur dev environment (throwaway data in {})",
        dir.display()
    );
    println!("  Booking page: {base}/   (riders; sign up there or use the demo rider)");
    println!("  Console:      {base}/console   (partner, chauffeur and operator logins below)");
    println!("  API:      {base}/v1/cities");
    println!("  OpenAPI:  {base}/openapi.json");
    println!("  Health:   {base}/healthz   Metrics: {base}/metrics");
    if let Some(url) = &test_provider {
        println!("  Payments: the local test provider at {url} (cards: pm_card_visa, pm_card_chargeDeclined, pm_card_threeDSecure2Required)");
    }
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

async fn run_payments_double(
    listen: SocketAddr,
    webhook_url: Option<String>,
    webhook_secret: String,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    // The first line on stdout says where we listen (tests read it when binding port 0).
    println!("listening on http://{}", listener.local_addr()?);
    let config = chauffeur_server::payments::double::DoubleConfig {
        webhook_url,
        webhook_secret,
        ..Default::default()
    };
    axum::serve(
        listener,
        chauffeur_server::payments::double::router_with(config),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("the payments double failed")
}

fn print_tables(tables: &std::collections::BTreeMap<String, i64>) {
    for (table, rows) in tables {
        println!("  {table:<22} {rows:>10} rows");
    }
}

async fn run_backup(command: BackupCommand) -> anyhow::Result<()> {
    use chauffeur_server::ops::{self, backup};
    if let Some(BackupAction::Verify { file, database_url }) = command.action {
        let files = backup::open_backup(&file)?;
        let checked = backup::verify(&files, database_url.as_deref()).await?;
        println!(
            "backup {} verified: checksum, integrity, schema version {} and row counts match its manifest",
            files.manifest.name, checked.schema_version
        );
        print_tables(&checked.tables);
        return Ok(());
    }
    let out_dir = command
        .out_dir
        .context("give the backup directory with --out-dir DIR")?;
    let url = database_url(&command.database)?;
    let source = backup::Source::open(&url).await?;
    let catalog = chauffeur_core::Catalog::shipped()?;
    let manifest = backup::take(&source, &out_dir, catalog.version(), chrono::Utc::now()).await?;
    let files = backup::BackupFiles {
        manifest: manifest.clone(),
        dir: out_dir.clone(),
    };
    println!(
        "backup {} of {} taken: {} ({} bytes, SHA-256 {}), schema version {}",
        manifest.name,
        redact(&url),
        files.payload_path().display(),
        manifest.payload_bytes,
        manifest.payload_sha256,
        manifest.schema_version
    );
    print_tables(&manifest.tables);
    if command.verify {
        backup::verify(&files, Some(&url)).await?;
        println!("verified");
    }
    if command.prune {
        let pruned = ops::prune(&out_dir, &command.retention.policy(), chrono::Utc::now())?;
        println!("pruned {} backup(s): {}", pruned.len(), pruned.join(", "));
    }
    Ok(())
}

async fn run_restore(args: RestoreArgs) -> anyhow::Result<()> {
    use chauffeur_server::ops::backup;
    let files = backup::open_backup(&args.file)?;
    let (target, place) = match (&args.data_dir, &args.database_url) {
        (Some(dir), _) => (
            backup::Target::DataDir(dir.clone()),
            dir.join("chauffeur.db").display().to_string(),
        ),
        (None, Some(url)) => (backup::Target::Postgres(url.clone()), redact(url)),
        (None, None) => anyhow::bail!("give --data-dir DIR or --database-url URL"),
    };
    let checked = backup::restore(&files, &target, args.force).await?;
    println!(
        "restored backup {} (taken {}, schema version {}, catalog {}) into {place}; row counts match its manifest:",
        files.manifest.name,
        files.manifest.created_at.to_rfc3339(),
        checked.schema_version,
        files.manifest.catalog_version
    );
    print_tables(&checked.tables);
    Ok(())
}

async fn run_archive(action: ArchiveAction) -> anyhow::Result<()> {
    let ArchiveAction::Export {
        database,
        from,
        to,
        out,
    } = action;
    if to < from {
        anyhow::bail!("--to ({to}) is before --from ({from})");
    }
    let start = from.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = to
        .succ_opt()
        .context("--to is too far in the future")?
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let out =
        out.unwrap_or_else(|| PathBuf::from(format!("chauffeur-archive-{from}-{to}.jsonl.gz")));
    let url = database_url(&database)?;
    if !chauffeur_server::ops::backup::is_postgres(&url)
        && !chauffeur_server::ops::backup::sqlite_path(&url).exists()
    {
        anyhow::bail!("there is no database at {} (give --data-dir)", redact(&url));
    }
    let store = chauffeur_server::store::Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database ({})", redact(&url)))?;
    let exported = chauffeur_server::ops::archive::export(&store, start, end, &out).await?;
    println!(
        "{} booking versions from {from} to {to} ({} with a receipt) written to {} ({} bytes)",
        exported.versions,
        exported.versions_with_receipt,
        exported.path.display(),
        exported.bytes
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = match &cli.command {
        Some(Command::Serve(a)) => a.common.log_json,
        Some(Command::Dev(a)) => a.common.log_json,
        Some(Command::Migrate(_))
        | Some(Command::Backup(_))
        | Some(Command::Restore(_))
        | Some(Command::Archive { .. })
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
            Some(Command::Backup(command)) => run_backup(command).await,
            Some(Command::Restore(args)) => run_restore(args).await,
            Some(Command::Archive { action }) => run_archive(action).await,
            Some(Command::Partner { database, action }) => run_partner(database, action).await,
            Some(Command::Operator {
                database,
                email,
                password,
                name,
            }) => run_operator(database, &email, &password, &name).await,
            Some(Command::PaymentsDouble {
                listen,
                webhook_url,
                webhook_secret,
            }) => run_payments_double(listen, webhook_url, webhook_secret).await,
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
