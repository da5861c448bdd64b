#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
//! What the server must refuse or survive: its files are private, and a database connection
//! that breaks under it is a retryable 503, never a 500.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

#[cfg(unix)]
#[test]
fn the_sqlite_database_and_its_journal_are_readable_by_the_server_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start(Backend::Sqlite);
    // A write, so the WAL exists too.
    server.rider();
    let db = server
        .database_url
        .strip_prefix("sqlite://")
        .unwrap()
        .to_owned();
    for file in [db.clone(), format!("{db}-wal")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file} is {mode:o}");
    }
}

/// PostgreSQL connections of the server are killed (as a failover or a network reset would)
/// while riders keep reading and signing up: each answer is a success or a 503 with
/// Retry-After, and the server serves again once the connections come back.
#[test]
fn a_postgres_connection_reset_is_a_retryable_503_never_a_500() {
    if !backends().contains(&Backend::Postgres) {
        return;
    }
    let server = TestServer::start(Backend::Postgres);
    let (_, token) = server.rider();
    let database = server.database_url.rsplit('/').next().unwrap().to_owned();
    let admin = std::env::var("CHAUFFEUR_TEST_POSTGRES_URL").unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                let mut killed = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let rows: Vec<(bool,)> = sqlx::query_as(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = $1 AND pid <> pg_backend_pid()",
                    )
                    .bind(&database)
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                    killed += rows.len() as u64;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                killed
            })
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut ok, mut unavailable, mut requests) = (0, 0, 0);
    while requests < 300 && Instant::now() < deadline {
        requests += 1;
        // Every sixth request signs up: at most 50, the sign-ups one address may make at once.
        let response = if requests % 6 == 0 {
            server
                .post("/v1/accounts")
                .json(&json!({
                    "email": format!("reset-{requests}-{}@example.com", uuid::Uuid::now_v7()),
                    "password": "correct horse battery",
                }))
                .send()
                .unwrap()
        } else {
            server
                .get("/v1/bookings")
                .bearer_auth(&token)
                .send()
                .unwrap()
        };
        let status = response.status().as_u16();
        match status {
            200 | 201 => ok += 1,
            503 => {
                assert!(response.headers().contains_key("retry-after"));
                let problem: serde_json::Value = response.json().unwrap();
                assert_eq!(problem["code"], "storage_unavailable", "{problem}");
                unavailable += 1;
            }
            other => panic!("request {requests}: {other} {}", response.text().unwrap()),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let killed = killer.join().unwrap();
    eprintln!(
        "{requests} requests: {ok} ok, {unavailable} retryable 503; {killed} connections killed"
    );
    assert!(killed > 0, "the test killed no connection");
    // Connections come back by themselves.
    let answer = server
        .get("/v1/bookings")
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
}

/// A control character in any text of a body is refused with 422 `control_characters` naming
/// the field, the same on both backends (PostgreSQL used to answer 500 for NUL). Line breaks
/// and tabs are fine in booking notes, NUL nowhere.
#[test]
fn control_characters_in_text_are_refused_with_422_naming_the_field_on_every_backend() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let refused = |response: reqwest::blocking::Response, field: &str| {
            let problem = assert_problem(response, 422, "control_characters");
            assert_eq!(problem["field"], field, "{backend:?}: {problem}");
        };
        let sign_up =
            |body: serde_json::Value| server.post("/v1/accounts").json(&body).send().unwrap();
        refused(
            sign_up(json!({"email": "nul\u{0}@example.com", "password": "correct horse battery"})),
            "email",
        );
        refused(
            sign_up(
                json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada\u{0}"}),
            ),
            "name",
        );
        refused(
            sign_up(
                json!({"email": "ada@example.com", "password": "correct horse battery", "phone": "+49 30 1234567\u{1b}"}),
            ),
            "phone",
        );
        let r = server
            .post("/v1/sessions")
            .json(&json!({"email": "nobody\u{0}@example.com", "password": "correct horse\u{0}battery"}))
            .send()
            .unwrap();
        refused(r, "email");

        let (_, token) = server.rider();
        let quote = server.quote_token(next_week());
        let book = |key: &str, body: serde_json::Value| server.book(&token, key, &body);
        refused(
            book(
                "nul-notes",
                json!({"quote_token": quote, "notes": "ring twice\u{0}"}),
            ),
            "notes",
        );
        refused(
            book(
                "nul-passenger",
                json!({"quote_token": quote, "passenger": {"name": "Bob\u{0}", "phone": "+49 30 7654321"}}),
            ),
            "passenger.name",
        );
        refused(
            book(
                "tab-passenger",
                json!({"quote_token": quote, "passenger": {"name": "Bob\tBobson", "phone": "+49 30 7654321"}}),
            ),
            "passenger.name",
        );
        // A tab in the Idempotency-Key header (the only control character a header can carry).
        let r = server
            .post("/v1/bookings")
            .bearer_auth(&token)
            .header("idempotency-key", "key\twith-tab")
            .json(&json!({"quote_token": quote}))
            .send()
            .unwrap();
        assert_problem(r, 400, "idempotency_key_invalid");
        assert_eq!(
            server.booking_count(&token),
            0,
            "{backend:?}: nothing was booked"
        );
        // Notes are free text over several lines.
        let r = book(
            "multiline-notes",
            json!({"quote_token": quote, "notes": "Gate 3.\nRing twice.\r\n\tThanks"}),
        );
        assert_eq!(r.status(), 201, "{backend:?}: {}", r.text().unwrap());
        let booking: serde_json::Value = r.json().unwrap();
        assert_eq!(booking["notes"], "Gate 3.\nRing twice.\r\n\tThanks");
    }
}

/// Authentication schemes are case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are
/// the same scheme as `Bearer`.
#[test]
fn the_bearer_scheme_is_accepted_in_any_case() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (email, token) = server.rider();
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let r = server
                .get("/v1/me")
                .header("authorization", format!("{scheme} {token}"))
                .send()
                .unwrap();
            assert_eq!(r.status(), 200, "{backend:?}: {scheme}");
            assert_eq!(r.json::<serde_json::Value>().unwrap()["email"], email);
        }
        for not_bearer in [
            format!("Basic {token}"),
            format!("Bearer{token}"),
            token.clone(),
        ] {
            let r = server
                .get("/v1/me")
                .header("authorization", not_bearer)
                .send()
                .unwrap();
            assert_problem(r, 401, "unauthenticated");
        }
    }
}

/// An idempotent create is the same request when its JSON says the same thing: keys in
/// another order and other whitespace replay the first answer instead of answering 422.
#[test]
fn the_same_json_with_keys_reordered_replays_the_first_booking() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (_, token) = server.rider();
        let quote = server.quote_token(next_week());
        let send = |body: String| {
            server
                .post("/v1/bookings")
                .bearer_auth(&token)
                .header("idempotency-key", "reordered")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .unwrap()
        };
        let first = send(format!(
            r#"{{"quote_token":"{quote}","notes":"Gate 3","passenger":{{"name":"Bob","phone":"+49 30 7654321"}}}}"#
        ));
        assert_eq!(first.status(), 201, "{backend:?}");
        let first: serde_json::Value = first.json().unwrap();
        let again = send(format!(
            "{{\n  \"passenger\" : {{ \"phone\": \"+49 30 7654321\", \"name\": \"Bob\" }},\n  \"notes\": \"Gate 3\",\n  \"quote_token\": \"{quote}\"\n}}"
        ));
        assert_eq!(
            again.status(),
            201,
            "{backend:?}: {}",
            again.text().unwrap()
        );
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: serde_json::Value = again.json().unwrap();
        assert_eq!(again["id"], first["id"]);
        assert_eq!(server.booking_count(&token), 1);
        // What the request says still counts: other notes under the same key are refused.
        let other = send(format!(r#"{{"quote_token":"{quote}","notes":"Gate 4"}}"#));
        assert_problem(other, 422, "idempotency_key_reused");
    }
}

/// Every answer says `nosniff`; answers to signed-in requests and about accounts and sessions
/// are not to be stored by caches; the public catalog keeps its own caching and ETag.
#[test]
fn personal_answers_are_not_stored_and_nothing_is_sniffed() {
    let server = TestServer::start(Backend::Sqlite);
    let nosniff = |r: &reqwest::blocking::Response| {
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{}",
            r.url()
        );
    };
    let no_store = |r: &reqwest::blocking::Response| {
        assert_eq!(
            r.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{}",
            r.url()
        );
    };
    let email = format!("cache-{}@example.com", uuid::Uuid::now_v7().simple());
    let r = server
        .post("/v1/accounts")
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    nosniff(&r);
    no_store(&r);
    let r = server
        .post("/v1/sessions")
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    nosniff(&r);
    no_store(&r);
    let token = r.json::<serde_json::Value>().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let booking = server.book_berlin(&token);
    for path in [
        "/v1/me".to_owned(),
        "/v1/me/export".to_owned(),
        "/v1/bookings".to_owned(),
        format!("/v1/bookings/{booking}"),
        format!("/v1/bookings/{booking}/history"),
    ] {
        let r = server.get(&path).bearer_auth(&token).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        nosniff(&r);
        no_store(&r);
    }
    // A refusal of a signed-in request is personal too; any answer is not to be sniffed.
    let r = server
        .get("/v1/bookings/nope")
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    nosniff(&r);
    no_store(&r);
    let r = server.get("/v1/nowhere").send().unwrap();
    nosniff(&r);
    // The catalog is public and cacheable, with its ETag.
    let r = server.get("/v1/cities").send().unwrap();
    assert_eq!(r.status(), 200);
    nosniff(&r);
    let cache_control = r.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(!cache_control.contains("no-store"), "{cache_control}");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let r = server
        .get("/v1/cities")
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(r.status(), 304);
    nosniff(&r);
}

/// A burst of sign-ups from one client address is slowed down like failed log-ins: 429 with
/// Retry-After once 50 were made within 15 minutes.
#[test]
fn a_burst_of_sign_ups_from_one_address_gets_429_with_retry_after() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let sign_up = |i: usize| {
            server
                .post("/v1/accounts")
                .json(&json!({
                    "email": format!("burst-{i}-{}@example.com", uuid::Uuid::now_v7().simple()),
                    "password": "correct horse battery",
                }))
                .send()
                .unwrap()
        };
        // Invalid requests cost nothing and are not counted.
        for _ in 0..5 {
            let r = server
                .post("/v1/accounts")
                .json(&json!({"email": "not-an-email", "password": "correct horse battery"}))
                .send()
                .unwrap();
            assert_problem(r, 422, "invalid_email");
        }
        for i in 0..50 {
            let r = sign_up(i);
            assert_eq!(
                r.status(),
                201,
                "{backend:?}: sign-up {i}: {}",
                r.text().unwrap()
            );
        }
        let r = sign_up(50);
        let retry_after: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry_after > 0);
        assert_problem(r, 429, "too_many_attempts");
        // The budget is counted (atomically) once a request is valid; an invalid one still
        // costs nothing and is told what is wrong with it.
        let r = server
            .post("/v1/accounts")
            .json(&json!({"email": "not-an-email", "password": "correct horse battery"}))
            .send()
            .unwrap();
        assert_problem(r, 422, "invalid_email");
    }
}

/// A small tmpfs mounted by the test, unmounted when dropped (also when the test fails).
struct SmallDisk(std::path::PathBuf);

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Mounts a small tmpfs on `dir` (root needed); None where that cannot be done, which under
/// CI=true is a failure.
fn mount_small_disk(dir: &std::path::Path, size: &str) -> Option<SmallDisk> {
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    // CI runs as root, so there the test must run: a failure to mount fails it, never skips it.
    assert!(
        mounted || std::env::var("CI").as_deref() != Ok("true"),
        "cannot mount a tmpfs (root needed): under CI=true that is a failure, not a skip"
    );
    if !mounted {
        eprintln!("WARNING: cannot mount a tmpfs (not root?); disk-full test SKIPPED");
        return None;
    }
    Some(SmallDisk(dir.to_owned()))
}

/// After a disk-full spell on SQLite, bookings used to stay 503 until a restart (the writer was
/// left inside a transaction) while /readyz said ready. Now /readyz says not ready while the
/// database cannot take a write, and the server takes bookings again by itself once there is
/// space.
#[test]
fn after_a_full_disk_the_sqlite_server_recovers_by_itself_and_readyz_tells_the_truth() {
    let data = TempDir::new("chauffeur-full-disk");
    let Some(_disk) = mount_small_disk(&data.0, "4m") else {
        return;
    };
    let url = format!("sqlite://{}", data.0.join("chauffeur.db").display());
    let server = TestServer::start_with(Backend::Sqlite, TempDir::new("unused"), url, &[]);
    let (_, rider) = server.rider();
    server.book_berlin(&rider);
    assert_eq!(server.get("/readyz").send().unwrap().status(), 200);

    // Fill the disk to the last byte.
    let filler = data.0.join("filler");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
    }
    let quote = server.quote_token(next_week());
    let mut refused = 0;
    for attempt in 0..20 {
        let key = format!("full-{attempt}-{}", uuid::Uuid::now_v7());
        let answer = server.book(&rider, &key, &json!({"quote_token": quote}));
        let status = answer.status().as_u16();
        assert!(
            status == 201 || status == 503,
            "attempt {attempt}: {status}"
        );
        if status == 503 {
            refused += 1;
            assert!(answer.headers().contains_key("retry-after"));
        }
    }
    assert!(refused > 0, "the full disk refused no booking");
    let ready = server.get("/readyz").send().unwrap();
    assert_eq!(
        ready.status(),
        503,
        "/readyz must say not ready while no write can land"
    );

    std::fs::remove_file(&filler).unwrap();
    // Space is back: without a restart, the next booking lands and /readyz says ready.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = 0;
    let mut attempts_after_space = 0;
    while Instant::now() < deadline {
        attempts_after_space += 1;
        let key = uuid::Uuid::now_v7().to_string();
        last = server
            .book(
                &rider,
                &key,
                &json!({"quote_token": server.quote_token(next_week())}),
            )
            .status()
            .as_u16();
        if last == 201 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(last, 201, "bookings must land again once there is space");
    assert_eq!(server.get("/readyz").send().unwrap().status(), 200);
    println!(
        "disk full (SQLite on a 4 MiB tmpfs): {refused} of 20 bookings refused with 503 and \
         Retry-After, /readyz 503 while full; space back: booking {attempts_after_space} landed \
         without a restart, /readyz 200"
    );
    // The server stops before the disk goes (drop order: server, disk, directory).
    drop(server);
}
