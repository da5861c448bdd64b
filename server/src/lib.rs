//! chauffeur-server: the HTTP API over SQLite (default) or PostgreSQL, with the core computing
//! every price and every state change. `main.rs` is the command line; this is the machinery.

pub mod auth;
pub mod dispatch;
pub mod error;
pub mod files;
pub mod geocoder;
pub mod http;
pub mod invoice_pdf;
pub mod live;
pub mod metrics;
pub mod nearest;
pub mod ops;
pub mod partners;
pub mod payments;
pub mod state;
pub mod store;
pub mod throttle;
pub mod tokens;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::HeaderValue;
use chauffeur_core::{Catalog, VehicleClass};
use tokio::net::TcpListener;

use crate::auth::PasswordHashing;
use crate::metrics::Metrics;
use crate::state::{AppInner, AppState, ControlledClock, Limits, SystemClock};
use crate::store::{NewUser, Role, Store};
use crate::throttle::TrustedProxies;
use crate::tokens::QuoteSigner;
use chauffeur_core::invoice::Issuer;

pub use crate::files::{load_or_create_key, new_key, parse_key};

/// Everything `serve` and `dev` need to run.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    pub quote_key: Vec<u8>,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub cors_origins: Vec<String>,
    pub cors_any: bool,
    pub hashing_permits: usize,
    /// Partners offered a booking at once.
    pub dispatch_batch_size: usize,
    /// How often the dispatcher looks at pending bookings.
    pub dispatch_interval: Duration,
    /// Tests only: a clock that `POST /v1/test/clock` moves forward.
    pub test_clock: bool,
    /// The geocoder behind the place search (`--geocoder-url`), if any.
    pub geocoder: Option<geocoder::GeocoderConfig>,
    /// Addresses and networks whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// The seller of record on invoices.
    pub invoice_issuer: Issuer,
    /// The card payment provider; none: bookings carry no payment.
    pub payments: Option<PaymentsConfig>,
}

/// How to reach the card payment provider.
#[derive(Clone)]
pub struct PaymentsConfig {
    /// `https://api.stripe.com`, or the test provider's address.
    pub url: String,
    pub secret_key: String,
    pub webhook_secret: Option<String>,
    pub publishable_key: Option<String>,
    /// `stripe` or `test`.
    pub name: String,
    pub allowance_bp: u32,
    pub timeout: Duration,
}

impl std::fmt::Debug for PaymentsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets.
        f.debug_struct("PaymentsConfig")
            .field("url", &self.url)
            .field("name", &self.name)
            .field("allowance_bp", &self.allowance_bp)
            .finish_non_exhaustive()
    }
}

/// The issuer `dev` prints on invoices: clearly a demo.
pub fn demo_issuer() -> Issuer {
    Issuer {
        name: "Chauffeur Demo GmbH (demo data)".into(),
        address: vec![
            "Unter den Linden 1".into(),
            "10117 Berlin".into(),
            "Germany".into(),
        ],
        vat_id: "DE000000000".into(),
        registration: Some("Amtsgericht Charlottenburg HRB 000000 (demo)".into()),
        email: Some("billing@example.com".into()),
        number_prefix: "DEMO".into(),
    }
}

/// The issuer of a server started without `--invoice-issuer`: says so on every invoice.
pub fn placeholder_issuer() -> Issuer {
    Issuer {
        name: "Issuer not configured (start the server with --invoice-issuer)".into(),
        address: vec!["-".into()],
        vat_id: "-".into(),
        registration: None,
        email: None,
        number_prefix: "INV".into(),
    }
}

/// Reads `--invoice-issuer FILE` (JSON with the [`Issuer`] fields), naming the file on error.
pub fn load_issuer(path: &Path) -> anyhow::Result<Issuer> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the invoice issuer file {}", path.display()))?;
    let issuer: Issuer = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not an invoice issuer (JSON with name, address, vat_id, number_prefix)",
            path.display()
        )
    })?;
    issuer
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(issuer)
}

/// The SQLite URL for a data directory, creating the directory.
pub fn sqlite_url(data_dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let file = data_dir.join("chauffeur.db");
    Ok(format!("sqlite://{}", file.display()))
}

/// Connects, migrates and builds the shared state.
pub async fn prepare(config: &ServerConfig) -> anyhow::Result<AppState> {
    files::create_private_sqlite_file(&config.database_url)?;
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot open the database ({})",
                redact(&config.database_url)
            )
        })?;
    let applied = store.migrate().await.context("database migration failed")?;
    if !applied.is_empty() {
        tracing::info!(?applied, backend = store.backend(), "migrations applied");
    }
    let catalog = Catalog::shipped().context("the shipped catalog is invalid")?;
    let test_clock = config.test_clock.then(|| {
        tracing::warn!(
            "--test-clock: the clock can be moved by POST /v1/test/clock; never in production"
        );
        Arc::new(ControlledClock::default())
    });
    let catalog_json = serde_json::to_string(&catalog)?;
    let places = chauffeur_core::places::PlaceIndex::shipped(&catalog)
        .context("the shipped places are invalid")?;
    let metrics = Arc::new(Metrics::default());
    let geocoder = match &config.geocoder {
        Some(settings) => {
            tracing::info!(url = %redact(&settings.url), "place search asks the geocoder too");
            Some(Arc::new(geocoder::Geocoder::new(
                settings,
                metrics.clone(),
            )?))
        }
        None => None,
    };
    let trusted_proxies =
        TrustedProxies::parse(&config.trusted_proxies).map_err(|e| anyhow::anyhow!(e))?;
    let signer = QuoteSigner::new(&config.quote_key).context("the quote key is too short")?;
    let hashing = PasswordHashing::new(config.hashing_permits)
        .map_err(|e| anyhow::anyhow!("password hashing unavailable: {e}"))?;
    let payments = match &config.payments {
        Some(p) => {
            let api = payments::stripe::StripeApi::new(&p.url, &p.secret_key, p.timeout)
                .map_err(|e| anyhow::anyhow!(e))?;
            tracing::info!(provider = %p.name, url = %redact(&p.url), allowance_bp = p.allowance_bp, "card payments on");
            Some(Arc::new(payments::Payments {
                provider: Arc::new(api),
                name: p.name.clone(),
                publishable_key: p.publishable_key.clone(),
                webhook_secret: p.webhook_secret.clone(),
                allowance_bp: p.allowance_bp,
            }))
        }
        None => None,
    };
    tracing::info!(
        backend = store.backend(),
        catalog = catalog.version(),
        cities = catalog.cities().len(),
        "ready"
    );
    Ok(AppState(Arc::new(AppInner {
        store,
        catalog: Arc::new(catalog),
        catalog_json: catalog_json.into(),
        places: Arc::new(places),
        geocoder,
        signer,
        hashing,
        clock: match &test_clock {
            Some(clock) => clock.clone(),
            None => Arc::new(SystemClock),
        },
        metrics,
        in_flight: Arc::default(),
        dispatch_batch_size: config.dispatch_batch_size,
        test_clock,
        positions: Default::default(),
        trusted_proxies,
        invoice_issuer: config.invoice_issuer.clone(),
        payments,
    })))
}

/// Hides the password in a database URL for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Serves until `shutdown` resolves; in-flight requests finish first.
pub async fn serve(
    state: AppState,
    config: &ServerConfig,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let limits = Limits {
        request_timeout: config.request_timeout,
        max_body_bytes: config.max_body_bytes,
        cors_origins: config
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect(),
        cors_any: config.cors_any,
    };
    tokio::spawn(dispatch::run_dispatcher(
        state.clone(),
        config.dispatch_interval,
    ));
    tokio::spawn(live::flush_positions(state.clone(), Duration::from_secs(1)));
    tokio::spawn(payments::flow::run_reconciliation(state.clone()));
    let app = http::router(state, &limits);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("the HTTP server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// A demo account that `dev` creates.
pub struct DemoAccount {
    pub role: Role,
    pub email: &'static str,
    pub password: &'static str,
    pub name: &'static str,
}

pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        role: Role::Rider,
        email: "rider@demo.chauffeur.test",
        password: "demo-rider-pass",
        name: "Ada Rider",
    },
    DemoAccount {
        role: Role::Partner,
        email: "partner@demo.chauffeur.test",
        password: "demo-partner-pass",
        name: "Berlin Limousines GmbH",
    },
    DemoAccount {
        role: Role::Chauffeur,
        email: "chauffeur@demo.chauffeur.test",
        password: "demo-chauffeur-pass",
        name: "Carl Chauffeur",
    },
    DemoAccount {
        role: Role::Operator,
        email: "operator@demo.chauffeur.test",
        password: "demo-operator-pass",
        name: "Olga Operator",
    },
];

/// A demo partner: its cities and classes, and its vehicles (class, plate, seats, bags).
pub struct DemoPartner {
    pub name: &'static str,
    /// A chauffeur account of its own (password `demo-chauffeur-pass`); the first partner gets the
    /// demo chauffeur and the demo partner account instead.
    pub chauffeur: Option<&'static str>,
    pub cities: &'static [&'static str],
    pub vehicles: &'static [(VehicleClass, &'static str, i64, i64)],
}

pub const DEMO_PARTNERS: &[DemoPartner] = &[
    DemoPartner {
        name: "Berlin Limousines GmbH",
        chauffeur: None,
        cities: &["berlin", "potsdam"],
        vehicles: &[
            (VehicleClass::Business, "B-CL 1001", 3, 2),
            (VehicleClass::First, "B-CL 2001", 3, 2),
            (VehicleClass::Van, "B-CL 3001", 5, 5),
        ],
    },
    DemoPartner {
        name: "Spree Chauffeurs",
        chauffeur: Some("chauffeur@spree.demo.chauffeur.test"),
        cities: &["berlin"],
        vehicles: &[
            (VehicleClass::Business, "B-SP 77", 3, 2),
            (VehicleClass::Van, "B-SP 78", 5, 5),
        ],
    },
    DemoPartner {
        name: "Isar Premium Cars",
        chauffeur: Some("chauffeur@isar.demo.chauffeur.test"),
        cities: &["munich"],
        vehicles: &[
            (VehicleClass::Business, "M-IP 10", 3, 2),
            (VehicleClass::First, "M-IP 11", 3, 2),
        ],
    },
];

/// Seeds the demo accounts (skipping any that exist) and, on an empty database, the demo
/// partners with their vehicles; the demo partner and chauffeur accounts join the first partner.
pub async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    for account in DEMO_ACCOUNTS {
        let hash = state
            .hashing
            .hash(account.password)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let result = state
            .store
            .create_user(
                &NewUser {
                    email: account.email,
                    password_hash: &hash,
                    role: account.role,
                    name: Some(account.name),
                    phone: Some("+49 30 1234567"),
                },
                chrono::Utc::now(),
            )
            .await;
        match result {
            Ok(_) | Err(store::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if !state.store.partners().await?.is_empty() {
        return Ok(());
    }
    for (i, partner) in DEMO_PARTNERS.iter().enumerate() {
        let classes: Vec<VehicleClass> = {
            let mut c: Vec<VehicleClass> = partner.vehicles.iter().map(|v| v.0).collect();
            c.sort();
            c.dedup();
            c
        };
        let cities: Vec<String> = partner.cities.iter().map(|c| (*c).to_owned()).collect();
        let id = state
            .store
            .create_partner(partner.name, &cities, &classes, chrono::Utc::now())
            .await?;
        for &(class, plate, seats, bags) in partner.vehicles {
            state
                .store
                .add_vehicle(id, class, plate, seats, bags)
                .await?;
        }
        if let Some(email) = partner.chauffeur {
            let now = chrono::Utc::now();
            partners::add_member(
                &state.store,
                &state.hashing,
                id,
                email,
                "demo-chauffeur-pass",
                "Demo Chauffeur",
                "chauffeur",
                now,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
        }
        if i == 0 {
            for account in DEMO_ACCOUNTS
                .iter()
                .filter(|a| matches!(a.role, Role::Partner | Role::Chauffeur))
            {
                if let Some(account) = state.store.credentials(account.email).await? {
                    state.store.add_partner_member(account.user.id, id).await?;
                }
            }
        }
    }
    Ok(())
}

/// A fresh, throwaway data directory for `dev`.
pub fn fresh_dev_dir() -> anyhow::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let dir = std::env::temp_dir().join(format!("chauffeur-dev-{stamp}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
