//! Shared helpers for the simulator integration tests: start a simulator on a random
//! loopback port and talk to it with a reqwest client that trusts its CA.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use opnsense_sim::{SimConfig, Simulator, Version};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};

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

    /// Starts a simulator of firmware `version` (otherwise the default configuration).
    pub async fn at(version: Version) -> Harness {
        Harness::with(SimConfig {
            version,
            ..SimConfig::default()
        })
        .await
    }

    /// Starts a simulator that emulates pf cutting the API off (`lockout`) once a rule that
    /// blocks it is applied (otherwise the default configuration).
    pub async fn lockout() -> Harness {
        Harness::with(SimConfig {
            lockout: true,
            ..SimConfig::default()
        })
        .await
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

    /// GET `path` with the full-access credentials through `client` (another timeout, or
    /// another trusted CA, than the harness's own client).
    pub fn get_via(&self, client: &reqwest::Client, path: &str) -> reqwest::RequestBuilder {
        client
            .get(self.url(path))
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

    /// POSTs `{}` to `path` and asserts that the answer (HTTP 200) is `expected`.
    pub async fn post_expect(&self, path: &str, expected: Value) {
        let answer = self.post_ok(path, json!({})).await;
        assert_eq!(answer, expected, "POST {path}");
    }

    /// [`Harness::post_expect`] for each `(path, expected)` step, in order.
    pub async fn post_expect_each(&self, steps: &[(String, Value)]) {
        for (path, expected) in steps {
            self.post_expect(path, expected.clone()).await;
        }
    }

    /// Takes a filter savepoint (HTTP 200 expected); returns its revision.
    pub async fn savepoint(&self) -> String {
        let answer = self.post_ok("firewall/filter/savepoint", json!({})).await;
        answer["revision"].as_str().expect("revision").to_owned()
    }

    /// POSTs `body` to `path`, asserts that OPNsense refuses it (`"result": "failed"`) and
    /// returns the `validations` (field -> message).
    pub async fn refused(&self, path: &str, body: Value) -> Value {
        let answer = self.post_ok(path, body.clone()).await;
        assert_eq!(answer["result"], "failed", "POST {path} {body}: {answer}");
        answer["validations"].clone()
    }

    /// POSTs an add (`body`) to `path` and asserts that it is saved; returns the new
    /// record's uuid.
    pub async fn saved(&self, path: &str, body: Value) -> String {
        let answer = self.post_ok(path, body).await;
        assert_eq!(answer["result"], "saved", "POST {path}: {answer}");
        answer["uuid"].as_str().expect("uuid").to_owned()
    }

    /// Adds a filter rule (`rule`: the fields of `{"rule": ...}`); returns its uuid.
    pub async fn add_rule(&self, rule: Value) -> String {
        self.saved("firewall/filter/add_rule", json!({ "rule": rule }))
            .await
    }

    /// The uuid of the first row of the search `search` (POST `{}`) that `pick` accepts.
    pub async fn first_uuid(&self, search: &str, pick: impl Fn(&Value) -> bool) -> String {
        let all = self.post_ok(search, json!({})).await;
        rows(&all)
            .iter()
            .find(|r| pick(r))
            .and_then(|r| r["uuid"].as_str())
            .unwrap_or_else(|| panic!("no row of {search} picked: {all}"))
            .to_owned()
    }
}

/// Waits (at most about 10 s, in steps of 20 ms) until `cond` holds; panics if it never does.
pub async fn wait_until(mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("condition not reached within 10 s");
}

/// Sends and decodes the answer (`Null` when the body is empty or not JSON).
pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("request answered");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The rows of a search answer.
pub fn rows(answer: &Value) -> &[Value] {
    answer["rows"].as_array().expect("rows")
}

/// uuids of the rows of a search answer.
pub fn uuids(answer: &Value) -> Vec<String> {
    rows(answer)
        .iter()
        .map(|r| r["uuid"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Exactly one HTTP/1.1-over-TLS connection to the simulator, kept open (reqwest's pool
/// races a new connection against an idle one, so it cannot promise a single connection).
pub struct OneConnection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    authorization: String,
    host: String,
}

/// An answer on a [`OneConnection`].
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// The `Connection` response header, if any.
    pub connection: Option<String>,
}

impl OneConnection {
    /// TCP connect, TLS handshake (trusting the simulator's CA), HTTP/1.1 handshake.
    pub async fn open(sim: &Simulator) -> std::io::Result<OneConnection> {
        let mut roots = rustls::RootCertStore::empty();
        let ca = CertificateDer::from_pem_slice(sim.ca_pem().as_bytes()).expect("CA PEM");
        roots.add(ca).expect("CA");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(sim.addr()).await?;
        let name = ServerName::try_from("127.0.0.1").expect("server name");
        let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
            .connect(name, tcp)
            .await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(conn);
        let credentials = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", sim.api_key(), sim.api_secret()),
        );
        Ok(OneConnection {
            sender,
            authorization: format!("Basic {credentials}"),
            host: sim.addr().to_string(),
        })
    }

    /// Whether the connection is gone (closed by the server, or failed).
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// One request; `body` makes it a JSON POST.
    pub async fn call(&mut self, path: &str, body: Option<Value>) -> Result<Answer, hyper::Error> {
        let builder = http::Request::builder()
            .uri(format!("/api/{}", path.trim_start_matches('/')))
            .header(http::header::HOST, &self.host)
            .header(http::header::AUTHORIZATION, &self.authorization);
        let request = match body {
            Some(b) => builder
                .method(http::Method::POST)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(b.to_string()))),
            None => builder
                .method(http::Method::GET)
                .body(Full::new(Bytes::new())),
        }
        .expect("request");
        self.sender.ready().await?;
        let resp = self.sender.send_request(request).await?;
        let status = resp.status().as_u16();
        let connection = resp
            .headers()
            .get(http::header::CONNECTION)
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok(Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            connection,
        })
    }

    /// GET or POST expecting 200; returns the body.
    pub async fn ok(&mut self, path: &str, body: Option<Value>) -> Value {
        let a = self
            .call(path, body)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        a.body
    }

    /// Sets the `action` of filter rule `uuid` and applies, through this connection.
    pub async fn set_action_and_apply(&mut self, uuid: &str, action: &str) {
        self.ok(
            &format!("firewall/filter/set_rule/{uuid}"),
            Some(json!({"rule": {"action": action}})),
        )
        .await;
        self.ok("firewall/filter/apply", Some(json!({}))).await;
    }

    /// Adds and applies, through this connection, a LAN rule that blocks the API (TCP to
    /// `(self)` port 443); returns its uuid.
    pub async fn block_the_api(&mut self) -> String {
        let added = self
            .ok(
                "firewall/filter/add_rule",
                Some(
                    json!({"rule": {"action": "block", "interface": "lan", "protocol": "TCP",
                    "destination_net": "(self)", "destination_port": "443", "description": "bad"}}),
                ),
            )
            .await;
        let uuid = added["uuid"].as_str().unwrap().to_owned();
        self.ok("firewall/filter/apply", Some(json!({}))).await;
        uuid
    }
}
