//! Shared helpers for the simulator integration tests: start a simulator on a random
//! loopback port and talk to it with a reqwest client that trusts its CA.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::time::Duration;

use opnsense_sim::{SimConfig, Simulator};
use serde_json::Value;

/// A running simulator plus a client that trusts it.
pub struct Harness {
    pub sim: Simulator,
    pub http: reqwest::Client,
}

/// A reqwest client trusting only `ca_pem`.
pub fn client_for(ca_pem: &str, timeout: Duration) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA PEM");
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(timeout)
        .build()
        .expect("client")
}

impl Harness {
    /// Starts a simulator with the default configuration.
    pub async fn start() -> Harness {
        Harness::with(SimConfig::default()).await
    }

    /// Starts a simulator with `config` (port forced to 0).
    pub async fn with(config: SimConfig) -> Harness {
        let sim = Simulator::start(SimConfig { port: 0, ..config })
            .await
            .expect("simulator starts");
        let http = client_for(sim.ca_pem(), Duration::from_secs(10));
        Harness { sim, http }
    }

    /// Full URL of an API path such as `firewall/filter/search_rule`.
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/api/{}",
            self.sim.base_url(),
            path.trim_start_matches('/')
        )
    }

    /// Request builder with the full-access credentials.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .basic_auth(self.sim.api_key(), Some(self.sim.api_secret()))
    }

    /// GET; returns (status, JSON body or Null).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        send(self.request(reqwest::Method::GET, path)).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        send(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    /// POST without body and without content type.
    pub async fn post_empty(&self, path: &str) -> (u16, Value) {
        send(self.request(reqwest::Method::POST, path)).await
    }

    /// GET expecting 200 and returning the body.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// POST expecting 200 and returning the body.
    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.post(path, body).await;
        assert_eq!(status, 200, "POST {path}: {answer}");
        answer
    }
}

/// Sends and decodes the answer (`Null` when the body is empty or not JSON).
pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("request answered");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// uuids of the rows of a search answer.
pub fn uuids(answer: &Value) -> Vec<String> {
    answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["uuid"].as_str().unwrap_or_default().to_owned())
        .collect()
}
