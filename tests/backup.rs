#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
//! Backups, restore and the archive, on SQLite and PostgreSQL, with the real server binary:
//! the restore drill (a backup taken while bookings arrive, restored, served again), the
//! scheduled backups with retention and their metrics, a damaged backup refused, and the
//! booking archive with erased personal data.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chauffeur_e2e::*;
use serde_json::{json, Value};

/// Runs the server binary's command line.
fn cli(args: &[&str]) -> Output {
    Command::new(server_binary())
        .args(args)
        .env("CHAUFFEUR_LOG", "warn")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".manifest.json"))
        .collect();
    found.sort();
    found
}

fn admin_url() -> String {
    std::env::var("CHAUFFEUR_TEST_POSTGRES_URL").unwrap()
}

/// A booking the server acknowledged (201), with what it takes to replay it.
#[derive(Clone)]
struct Acked {
    rider: String,
    key: String,
    body: Value,
    id: String,
    /// Cancelled (a second version) before `at`.
    cancelled: bool,
    at: Instant,
}

/// Books from `threads` threads, `per_thread` bookings each, recording every acknowledgement.
fn booking_load(
    server: &Arc<TestServer>,
    riders: &[String],
    per_thread: usize,
    acked: &Arc<Mutex<Vec<Acked>>>,
) -> Vec<std::thread::JoinHandle<()>> {
    riders
        .iter()
        .cloned()
        .map(|rider| {
            let server = server.clone();
            let acked = acked.clone();
            std::thread::spawn(move || {
                let quote = server.quote_token(next_week());
                for n in 0..per_thread {
                    let key = uuid::Uuid::now_v7().to_string();
                    let body = json!({"quote_token": quote});
                    let r = server.book(&rider, &key, &body);
                    assert_eq!(r.status(), 201, "booking during the load");
                    let id = r.json::<Value>().unwrap()["id"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    // Every fourth booking is cancelled at once: a second version in its history.
                    if n % 4 == 0 {
                        let r = server
                            .post(&format!("/v1/bookings/{id}/cancel"))
                            .bearer_auth(&rider)
                            .json(&json!({"acknowledged_fee_minor": 0}))
                            .send()
                            .unwrap();
                        assert_eq!(r.status(), 200, "cancel during the load");
                    }
                    acked.lock().unwrap().push(Acked {
                        rider: rider.clone(),
                        key,
                        body,
                        id,
                        cancelled: n % 4 == 0,
                        at: Instant::now(),
                    });
                }
            })
        })
        .collect()
}

fn history(server: &TestServer, rider: &str, id: &str) -> Vec<Value> {
    let r = server
        .get(&format!("/v1/bookings/{id}/history"))
        .bearer_auth(rider)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().unwrap()["entries"]
        .as_array()
        .unwrap()
        .clone()
}

fn restore_drill(backend: Backend) {
    let server = Arc::new(TestServer::start(backend));
    let riders: Vec<String> = (0..2).map(|_| server.rider().1).collect();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let load = booking_load(&server, &riders, 60, &acked);
    // The backup starts once the load is well under way, and the load goes on meanwhile.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 30 {
        assert!(Instant::now() < deadline, "the booking load does not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let backups = TempDir::new("chauffeur-backups");
    let backup_started = Instant::now();
    let out = ok(&[
        "backup",
        "--database-url",
        &server.database_url,
        "--out-dir",
        backups.0.to_str().unwrap(),
    ]);
    let backup_finished = Instant::now();
    for handle in load {
        handle.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let before: Vec<&Acked> = acked.iter().filter(|a| a.at < backup_started).collect();
    let during = acked
        .iter()
        .filter(|a| a.at >= backup_started && a.at <= backup_finished)
        .count();
    assert!(out.contains("bookings"), "{out}");
    let manifest_path = manifests(&backups.0).pop().expect("a manifest");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    let in_snapshot = manifest["tables"]["bookings"].as_i64().unwrap();

    // The histories as the original server shows them now (they may have grown since).
    let originals: Vec<Vec<Value>> = before
        .iter()
        .map(|a| history(&server, &a.rider, &a.id))
        .collect();

    let mut verify = vec!["backup", "verify", manifest_path.to_str().unwrap()];
    let admin = admin_url_if(backend);
    if let Some(admin) = &admin {
        verify.extend(["--database-url", admin.as_str()]);
    }
    let verified = ok(&verify);
    assert!(verified.contains("verified"), "{verified}");

    // Restore into a fresh place and serve it.
    let (restored_url, restored_dir) = TestServer::fresh_database(backend);
    let mut restore = vec!["restore", manifest_path.to_str().unwrap()];
    let dir_text = restored_dir.0.display().to_string();
    match backend {
        Backend::Sqlite => restore.extend(["--data-dir", dir_text.as_str()]),
        Backend::Postgres => restore.extend(["--database-url", restored_url.as_str()]),
    }
    let restored_out = ok(&restore);
    assert!(restored_out.contains("restored backup"), "{restored_out}");
    // A second restore into the now non-empty target is refused without --force.
    let again = cli(&restore);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    drop(server);
    let restored = TestServer::start_on(backend, restored_dir, restored_url);

    let (mut found, mut with_two_versions) = (0, 0);
    for (a, original) in before.iter().zip(&originals) {
        let r = restored
            .get(&format!("/v1/bookings/{}", a.id))
            .bearer_auth(&a.rider)
            .send()
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "booking {} acknowledged before the backup",
            a.id
        );
        let booking: Value = r.json().unwrap();
        let restored_history = history(&restored, &a.rider, &a.id);
        // Every version the snapshot holds, exactly as the original server recorded it, from
        // version 1 up to the booking's version.
        assert!(!restored_history.is_empty());
        assert_eq!(
            restored_history.as_slice(),
            &original[..restored_history.len()],
            "history of {}",
            a.id
        );
        assert_eq!(
            restored_history.last().unwrap()["version"],
            booking["version"],
            "{booking}"
        );
        // A cancellation acknowledged before the backup started is in it: both versions.
        if a.cancelled {
            assert_eq!(booking["state"], "cancelled", "{booking}");
            assert_eq!(restored_history.len(), 2);
            assert_eq!(&restored_history, original);
            with_two_versions += 1;
        }
        found += 1;
    }
    // Idempotency keys from before the backup still replay the same booking.
    for a in &before {
        let r = restored.book(&a.rider, &a.key, &a.body);
        assert_eq!(r.status(), 201);
        assert_eq!(r.json::<Value>().unwrap()["id"], a.id.as_str());
    }
    // Of all acknowledged bookings (some during and after the backup), which came back.
    let mut present = 0;
    for a in &acked {
        let status = restored
            .get(&format!("/v1/bookings/{}", a.id))
            .bearer_auth(&a.rider)
            .send()
            .unwrap()
            .status();
        if status == 200 {
            present += 1;
        }
    }
    assert_eq!(
        present, in_snapshot as usize,
        "the snapshot's bookings are the ones restored"
    );
    // And the restored server takes new bookings.
    let fresh = restored.book_berlin(&riders[0]);
    assert!(!fresh.is_empty());
    println!(
        "restore drill ({backend:?}): {} acknowledged, {} before the backup started, {} during \
         it; {in_snapshot} in the snapshot; {found} of the {} found with their full history \
         ({with_two_versions} cancelled: both versions), each key replaying its booking; \
         {present} of all {} acknowledged present after restore",
        acked.len(),
        before.len(),
        during,
        before.len(),
        acked.len()
    );
    assert_eq!(found, before.len());
    assert!(in_snapshot as usize >= before.len());
}

fn admin_url_if(backend: Backend) -> Option<String> {
    (backend == Backend::Postgres).then(admin_url)
}

#[test]
fn restore_drill_every_acknowledged_booking_survives_backup_and_restore() {
    for backend in backends() {
        restore_drill(backend);
    }
}

fn metric(server: &TestServer, name: &str) -> Option<f64> {
    let text = server.get("/metrics").send().unwrap().text().unwrap();
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .map(|l| l[name.len() + 1..].trim().parse().unwrap())
}

#[test]
fn scheduled_backups_are_verified_pruned_and_reported_in_metrics() {
    for backend in backends() {
        let backups = TempDir::new("chauffeur-scheduled");
        let (url, dir) = TestServer::fresh_database(backend);
        // A policy that keeps nothing: only the newest verified backup (and anything newer)
        // may stay.
        let server = TestServer::start_with(
            backend,
            dir,
            url,
            &[
                "--backup-dir",
                backups.0.to_str().unwrap(),
                "--backup-every",
                "1s",
                "--keep-hourly",
                "0",
                "--keep-daily",
                "0",
                "--keep-weekly",
                "0",
                "--keep-monthly",
                "0",
            ],
        );
        let (_, rider) = server.rider();
        server.book_berlin(&rider);
        let deadline = Instant::now() + Duration::from_secs(60);
        while metric(&server, "chauffeur_backup_success_total").unwrap_or(0.0) < 3.0 {
            assert!(
                Instant::now() < deadline,
                "no three scheduled backups in 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(metric(&server, "chauffeur_backup_last_result"), Some(1.0));
        assert!(
            metric(&server, "chauffeur_backup_last_success_timestamp_seconds").unwrap() > 1.7e9
        );
        assert!(metric(&server, "chauffeur_backup_pruned_total").unwrap() >= 1.0);
        assert_eq!(
            metric(&server, "chauffeur_backup_failures_total"),
            Some(0.0)
        );
        let left = manifests(&backups.0);
        assert!(
            (1..=2).contains(&left.len()),
            "retention left {} backups",
            left.len()
        );
        // The newest verified one is there with its marker and still verifies.
        let verified: Vec<&PathBuf> = left
            .iter()
            .filter(|m| {
                let marker = m.to_string_lossy().replace(".manifest.json", ".verified");
                Path::new(&marker).exists()
            })
            .collect();
        assert!(!verified.is_empty());
        let mut verify = vec!["backup", "verify", verified[0].to_str().unwrap()];
        let admin = admin_url_if(backend);
        if let Some(admin) = &admin {
            verify.extend(["--database-url", admin.as_str()]);
        }
        ok(&verify);
        assert!(server.terminate());
    }
}

#[test]
fn a_damaged_backup_fails_verification_and_restore() {
    let server = TestServer::start(Backend::Sqlite);
    let (_, rider) = server.rider();
    server.book_berlin(&rider);
    let backups = TempDir::new("chauffeur-damaged");
    ok(&[
        "backup",
        "--database-url",
        &server.database_url,
        "--out-dir",
        backups.0.to_str().unwrap(),
    ]);
    let manifest = manifests(&backups.0).pop().unwrap();
    let payload = PathBuf::from(
        manifest
            .to_string_lossy()
            .replace(".manifest.json", ".sqlite.gz"),
    );
    let mut bytes = std::fs::read(&payload).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&payload, bytes).unwrap();
    let out = cli(&["backup", "verify", manifest.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not match its manifest"), "{stderr}");
    let target = TempDir::new("chauffeur-damaged-restore");
    let out = cli(&[
        "restore",
        manifest.to_str().unwrap(),
        "--data-dir",
        target.0.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(!target.0.join("chauffeur.db").exists());
}

fn archive_lines(path: &Path) -> Vec<Value> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_archive_holds_every_version_and_keeps_erased_data_erased() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (email, rider) = server.rider();
        let quote = server.quote_token(next_week());
        let passenger = "Zelda Archivist";
        let mut ids = Vec::new();
        for _ in 0..3 {
            let r = server.book(
                &rider,
                &uuid::Uuid::now_v7().to_string(),
                &json!({"quote_token": quote, "passenger": {"name": passenger, "phone": "+49 30 7654321"}}),
            );
            assert_eq!(r.status(), 201);
            ids.push(
                r.json::<Value>().unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        // One of them changes: a cancellation is a second version.
        let cancelled = &ids[0];
        let preview: Value = server
            .get(&format!("/v1/bookings/{cancelled}/cancellation"))
            .bearer_auth(&rider)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let r = server
            .post(&format!("/v1/bookings/{cancelled}/cancel"))
            .bearer_auth(&rider)
            .json(&json!({"acknowledged_fee_minor": preview["fee"]["amount_minor"]}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
        let versions: usize = ids
            .iter()
            .map(|id| history(&server, &rider, id).len())
            .sum();
        let other = server.rider().1;
        server.book_berlin(&other);

        let dir = TempDir::new("chauffeur-archive");
        let today = chrono::Utc::now().date_naive().to_string();
        let export = |name: &str| {
            let out = dir.0.join(name);
            let printed = ok(&[
                "archive",
                "export",
                "--database-url",
                &server.database_url,
                "--from",
                &today,
                "--to",
                &today,
                "--out",
                out.to_str().unwrap(),
            ]);
            assert!(printed.contains("booking versions"), "{printed}");
            archive_lines(&out)
        };
        let lines = export("before.jsonl.gz");
        let mine: Vec<&Value> = lines
            .iter()
            .filter(|l| ids.contains(&l["booking_id"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(mine.len(), versions, "one line per version of each booking");
        assert!(
            lines.len() > mine.len(),
            "the other rider's booking is there too"
        );
        assert!(mine.iter().all(|l| l["passenger"]["name"] == passenger));
        assert!(mine.iter().all(|l| l["rider"]["email"] == email.as_str()));
        let cancel_line = mine
            .iter()
            .find(|l| l["booking_id"] == cancelled.as_str() && l["version"] == 2)
            .unwrap();
        assert_eq!(cancel_line["from_state"], "pending");
        assert_eq!(cancel_line["booking"]["state"], cancel_line["to_state"]);
        // Nothing written outside the range: yesterday holds none of it.
        let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
        let empty = dir.0.join("yesterday.jsonl.gz");
        ok(&[
            "archive",
            "export",
            "--database-url",
            &server.database_url,
            "--from",
            &yesterday,
            "--to",
            &yesterday,
            "--out",
            empty.to_str().unwrap(),
        ]);
        assert!(archive_lines(&empty).is_empty());

        // The rider erases the account (which first cancels the two upcoming bookings, free of
        // charge): the archive keeps the bookings and every version, not the person.
        let r = server.delete("/v1/me").bearer_auth(&rider).send().unwrap();
        assert_eq!(r.status(), 204);
        let lines = export("after.jsonl.gz");
        let mine: Vec<&Value> = lines
            .iter()
            .filter(|l| ids.contains(&l["booking_id"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(mine.len(), versions + 2);
        for id in &ids {
            let last = mine
                .iter()
                .filter(|l| l["booking_id"] == id.as_str())
                .max_by_key(|l| l["version"].as_i64())
                .unwrap();
            assert_eq!(last["to_state"], "cancelled", "{last}");
        }
        let raw: String = lines.iter().map(Value::to_string).collect();
        assert!(
            !raw.contains(passenger),
            "an erased passenger name in the archive"
        );
        assert!(!raw.contains(&email), "an erased e-mail in the archive");
        assert!(mine.iter().all(|l| l["rider"]["name"].is_null()));
        assert!(mine.iter().all(|l| !l["rider"]["erased_at"].is_null()));
        println!(
            "archive ({backend:?}): {} lines, {} of them the erased rider's, none with their data",
            lines.len(),
            mine.len()
        );
    }
}

#[test]
fn a_failing_scheduled_backup_is_counted_and_the_server_carries_on() {
    let dir = TempDir::new("chauffeur-unwritable");
    // A file where the backup directory should be: every round fails to create it.
    let blocked = dir.0.join("not-a-directory");
    std::fs::write(&blocked, "in the way").unwrap();
    let (url, data) = TestServer::fresh_database(Backend::Sqlite);
    let server = TestServer::start_with(
        Backend::Sqlite,
        data,
        url,
        &[
            "--backup-dir",
            blocked.to_str().unwrap(),
            "--backup-every",
            "1s",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(&server, "chauffeur_backup_failures_total").unwrap_or(0.0) < 2.0 {
        assert!(Instant::now() < deadline, "no failed rounds counted");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(metric(&server, "chauffeur_backup_last_result"), Some(0.0));
    assert_eq!(metric(&server, "chauffeur_backup_success_total"), Some(0.0));
    // No success yet: the age and last-success gauges have no value rather than a made-up one.
    assert_eq!(
        metric(&server, "chauffeur_backup_last_success_timestamp_seconds"),
        None
    );
    assert_eq!(server.get("/readyz").send().unwrap().status(), 200);
    let (_, rider) = server.rider();
    server.book_berlin(&rider);
    assert!(server.terminate());
}
