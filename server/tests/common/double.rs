//! The local payment provider (`chauffeur-server payments-double`) as a real process over
//! loopback, for the tests of the payment port and of the payment flow.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::server_binary;

/// The secret the double signs its webhooks with (the server under test is given the same).
pub const WEBHOOK_SECRET: &str = "whsec_payment_flow_test";

pub struct Double {
    child: Child,
    pub base: String,
}

impl Drop for Double {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Double {
    /// The test provider on a free loopback port, signing its webhooks with `WEBHOOK_SECRET`.
    pub fn start() -> Double {
        let mut child = Command::new(server_binary())
            .args(["payments-double", "--listen", "127.0.0.1:0"])
            .args(["--webhook-secret", WEBHOOK_SECRET])
            .env("CHAUFFEUR_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_owned();
        Double { child, base }
    }

    /// What it has done: authorizations, captures, cancellations, refunds, replays.
    pub fn stats(&self) -> Value {
        reqwest::blocking::get(format!("{}/_double/stats", self.base))
            .unwrap()
            .json()
            .unwrap()
    }

    /// Its webhook URL and capture delay, set at run time.
    pub fn configure(&self, body: Value) {
        let r = reqwest::blocking::Client::new()
            .post(format!("{}/_double/config", self.base))
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 204);
    }

    /// The rider finishing (or failing) the card step in the provider's SDK.
    pub fn authenticate(&self, client_secret: &str, outcome: &str) {
        let intent = client_secret.split("_secret_").next().unwrap();
        let r = reqwest::blocking::Client::new()
            .post(format!(
                "{}/_double/payment_intents/{intent}/authenticate",
                self.base
            ))
            .form(&[("outcome", outcome)])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    }
}
