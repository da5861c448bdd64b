//! The end-to-end harness: the real `chauffeur-server` binary on a free loopback port, on a
//! fresh SQLite file or a fresh database in the suite's private PostgreSQL, driven over real
//! HTTP and server-sent events. Used by this crate's tests across components (rider client and
//! app against the server, replicas) and by the server's own integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: panics report failures

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{json, Value};

pub const QUOTE_KEY_HEX: &str =
    "6368617566666575722d746573742d71756f74652d6b65792d33322d6279746573";

/// The server binary cargo built for this test run: `CHAUFFEUR_SERVER_BIN`, else
/// `chauffeur-server` beside the test executable's `deps/` folder (where `cargo test
/// --workspace` puts it).
pub fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CHAUFFEUR_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test executable lives in <target>/<profile>/deps");
    let binary = profile_dir.join(format!("chauffeur-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: build it first (cargo build -p chauffeur-server), or run the tests \
         with cargo test --workspace",
        binary.display()
    );
    binary
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL when the test script started one. Under CI=true a missing
/// PostgreSQL fails the test instead of skipping it.
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    match std::env::var("CHAUFFEUR_TEST_POSTGRES_URL") {
        Ok(_) => all.push(Backend::Postgres),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CHAUFFEUR_TEST_POSTGRES_URL is not set: under CI=true PostgreSQL is required")
        }
        Err(_) => eprintln!("WARNING: CHAUFFEUR_TEST_POSTGRES_URL not set; PostgreSQL skipped"),
    }
    all
}

pub struct TestServer {
    child: Child,
    pub base: String,
    pub backend: Backend,
    pub database_url: String,
    _data_dir: TempDir,
    client: Client,
}

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fresh_postgres_database() -> String {
    let admin = std::env::var("CHAUFFEUR_TEST_POSTGRES_URL").unwrap();
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let (prefix, _) = admin.rsplit_once('/').unwrap();
    format!("{prefix}/{name}")
}

impl TestServer {
    pub fn start(backend: Backend) -> TestServer {
        let data_dir = TempDir::new("chauffeur-test");
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", data_dir.0.join("chauffeur.db").display()),
            Backend::Postgres => fresh_postgres_database(),
        };
        TestServer::start_on(backend, data_dir, database_url)
    }

    pub fn start_on(backend: Backend, data_dir: TempDir, database_url: String) -> TestServer {
        TestServer::start_with(backend, data_dir, database_url, &[])
    }

    /// A fresh database for `backend`: (its URL, the directory holding it for SQLite).
    pub fn fresh_database(backend: Backend) -> (String, TempDir) {
        let dir = TempDir::new("chauffeur-db");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.0.join("chauffeur.db").display()),
            Backend::Postgres => fresh_postgres_database(),
        };
        (url, dir)
    }

    pub fn start_with(
        backend: Backend,
        data_dir: TempDir,
        database_url: String,
        extra: &[&str],
    ) -> TestServer {
        // A test may choose the address (`--listen` in `extra`); else a free loopback port.
        let listen: &[&str] = if extra.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let mut child = Command::new(server_binary())
            .args(["serve", "--hashing-permits", "2"])
            .args(listen)
            .args(extra)
            .arg("--data-dir")
            .arg(&data_dir.0)
            .args([
                "--database-url",
                &database_url,
                "--quote-key",
                QUOTE_KEY_HEX,
            ])
            .env("CHAUFFEUR_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        let client = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        TestServer {
            child,
            base,
            backend,
            database_url,
            _data_dir: data_dir,
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.client.delete(self.url(path))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Signs up and logs in a fresh rider; returns (email, token).
    pub fn rider(&self) -> (String, String) {
        let email = format!("rider-{}@example.com", uuid::Uuid::now_v7().simple());
        let r = self
            .post("/v1/accounts")
            .json(&json!({"email": email, "password": "correct horse battery", "name": "Test Rider", "phone": "+49 30 1234567"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
        (email.clone(), self.log_in(&email, "correct horse battery"))
    }

    pub fn log_in(&self, email: &str, password: &str) -> String {
        let r = self
            .post("/v1/sessions")
            .json(&json!({"email": email, "password": password}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
        r.json::<Value>().unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A binding quote token for a Berlin transfer (Brandenburg Gate → Alexanderplatz).
    pub fn quote_token(&self, pickup_time: Value) -> String {
        let quotes = self.quotes(berlin_transfer(pickup_time));
        quotes["quotes"][0]["quote_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn quotes(&self, body: Value) -> Value {
        let r = self.post("/v1/quotes").json(&body).send().unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
        r.json().unwrap()
    }

    pub fn book(&self, token: &str, key: &str, body: &Value) -> Response {
        self.post("/v1/bookings")
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(body)
            .send()
            .unwrap()
    }

    /// Books a quote a week ahead in Berlin; returns the booking id.
    pub fn book_berlin(&self, rider_token: &str) -> String {
        let quote = self.quote_token(next_week());
        let key = uuid::Uuid::now_v7().to_string();
        let r = self.book(rider_token, &key, &json!({"quote_token": quote}));
        assert_eq!(r.status(), 201);
        r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// How many bookings the rider with this session sees.
    pub fn booking_count(&self, token: &str) -> usize {
        let list: Value = self
            .get("/v1/bookings")
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        list["bookings"].as_array().unwrap().len()
    }

    /// Kills the process with SIGKILL (`kill -9`: no shutdown, nothing flushed, as a crash or
    /// the OOM killer would) and waits until it is gone.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().unwrap();
        status.success()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `chauffeur-server partner …` (the operator's command line) on a database; its stdout.
pub fn partner_cli(database_url: &str, args: &[&str]) -> String {
    let out = Command::new(server_binary())
        .arg("partner")
        .args(["--database-url", database_url])
        .args(args)
        .env("CHAUFFEUR_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "partner {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A Berlin partner with one business car and a dispatcher account; returns (partner id, e-mail).
pub fn berlin_partner(database_url: &str, name: &str) -> (String, String) {
    let id = partner_cli(
        database_url,
        &[
            "create", "--name", name, "--city", "berlin", "--class", "business",
        ],
    );
    let email = format!("dispatch-{}@example.com", uuid::Uuid::now_v7().simple());
    partner_cli(
        database_url,
        &[
            "add-member",
            "--partner",
            &id,
            "--email",
            &email,
            "--password",
            "dispatcher password",
            "--name",
            name,
        ],
    );
    let plate = format!("B-{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    partner_cli(
        database_url,
        &[
            "add-vehicle",
            "--partner",
            &id,
            "--class",
            "business",
            "--plate",
            &plate,
            "--seats",
            "3",
            "--bags",
            "2",
        ],
    );
    (id, email)
}

/// A pickup a week ahead, as an exact instant (no DST questions).
pub fn next_week() -> Value {
    let at = chrono::Utc::now() + chrono::Duration::days(7);
    json!({"kind": "instant", "at": at.to_rfc3339()})
}

pub fn berlin_transfer(pickup_time: Value) -> Value {
    json!({
        "city_id": "berlin",
        "pickup": {"lat": 52.5163, "lon": 13.3777},
        "product": {"type": "transfer", "dropoff": {"lat": 52.5219, "lon": 13.4132}},
        "pickup_time": pickup_time,
        "passengers": 2,
        "bags": 1
    })
}

/// Asserts a problem+json answer with this status and code.
pub fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "expected {status} {code}"
    );
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    body
}

/// One server-sent event: its id, its kind (`event:`) and its JSON data.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<String>,
    pub kind: String,
    pub data: Value,
}

/// Reads a server-sent event stream on a thread; events arrive on the returned channel.
pub fn subscribe(
    server: &TestServer,
    path: &str,
    token: &str,
    last_event_id: Option<&str>,
) -> Receiver<SseEvent> {
    subscribe_url(&server.url(path), token, last_event_id)
}

/// `subscribe` to a full URL (a proxy in front of the servers, say).
pub fn subscribe_url(url: &str, token: &str, last_event_id: Option<&str>) -> Receiver<SseEvent> {
    let client = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap();
    let mut request = client.get(url).bearer_auth(token);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let response = request.send().unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(response);
        let (mut id, mut kind, mut data) = (None, String::from("message"), String::new());
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if line.is_empty() {
                if !data.is_empty() {
                    let event = SseEvent {
                        id: id.take(),
                        kind: kind.clone(),
                        data: serde_json::from_str(&data).unwrap_or(Value::Null),
                    };
                    if tx.send(event).is_err() {
                        return;
                    }
                }
                kind = "message".into();
                data.clear();
            } else if let Some(v) = line.strip_prefix("id:") {
                id = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("event:") {
                kind = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim());
            }
        }
    });
    rx
}

/// A stream and everything it delivered so far, in order.
pub struct Stream {
    rx: Receiver<SseEvent>,
    pub seen: Vec<SseEvent>,
}

impl Stream {
    pub fn new(rx: Receiver<SseEvent>) -> Stream {
        Stream {
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits (10 s at most) for the next event of `kind` whose data satisfies `pred`; every event
    /// received meanwhile is kept in `seen`.
    pub fn wait(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> SseEvent {
        loop {
            let event = self
                .rx
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("no {kind} event; saw {:?}", self.seen));
            self.seen.push(event.clone());
            if event.kind == kind && pred(&event.data) {
                return event;
            }
        }
    }

    pub fn states(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter(|e| e.kind == "status")
            .map(|e| e.data["state"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Any event data.
pub fn any(_: &Value) -> bool {
    true
}

/// A status event for this state.
pub fn state_is(state: &'static str) -> impl Fn(&Value) -> bool {
    move |d: &Value| d["state"] == state
}
