//! The benchmark's fake OPNsense: a static HTTPS server on 127.0.0.1 that answers at once from
//! recorded JSON (no simulator logic, no state), so every figure measures this server and not
//! the upstream. It runs in a process of its own (`bench --upstream`), so its CPU time is not
//! counted as the server's or the load generator's.
//!
//! Answers (captured OPNsense 26.1 bodies from `crates/opnsense-api/tests/corpus/`):
//! - `GET core/system/status`: `core__system__status/lib-opnsense-25.1.12.json`;
//! - `GET core/firmware/status`: `core__firmware__status/lib-opnsense-26.1.9.json`;
//! - `POST firewall/filter/search_rule`: 1,000 rules generated from the one full 26.1 row of
//!   `firewall__filter__search_rule/lib-opnsense-26.1.5.json` (every field of a real row,
//!   alias metadata included), each with its own uuid, sequence, interface, protocol, addresses,
//!   ports and description; pages are cut from that list by `current` and `rowCount` and kept
//!   once built.
//!
//! Anything else is `404`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../opnsense-api/tests/corpus");

/// How many filter rules the upstream holds.
pub const RULES: usize = 1000;

fn corpus(path: &str) -> Vec<u8> {
    std::fs::read(format!("{CORPUS}/{path}")).unwrap_or_else(|e| panic!("corpus {path}: {e}"))
}

/// The 1,000 rules, each serialised once.
pub fn rules() -> Vec<Vec<u8>> {
    let page: Value = serde_json::from_slice(&corpus(
        "firewall__filter__search_rule/lib-opnsense-26.1.5.json",
    ))
    .expect("template page");
    let template = page["rows"][0].clone();
    let interfaces = [
        ("lan", "LAN"),
        ("wan", "WAN"),
        ("opt1", "DMZ"),
        ("lan,opt1", "LAN, DMZ"),
    ];
    let protocols = ["TCP", "UDP", "any", "TCP/UDP", "ICMP"];
    let sources = ["any", "lan", "192.168.10.0/24", "hosts_admins", "!opt1"];
    let destinations = ["any", "(self)", "10.0.0.5", "webservers", "lanip"];
    let ports = ["443", "22", "", "53", "8080-8090", "port_web"];
    (0..RULES)
        .map(|i| {
            let mut r = template.clone();
            let (iface, iface_label) = interfaces[i % interfaces.len()];
            let protocol = protocols[i % protocols.len()];
            let (source, source_not) = match sources[(i / 3) % sources.len()] {
                s if s.starts_with('!') => (&s[1..], "1"),
                s => (s, "0"),
            };
            let destination = destinations[(i / 2) % destinations.len()];
            let port = if matches!(protocol, "TCP" | "UDP" | "TCP/UDP") {
                ports[(i / 5) % ports.len()]
            } else {
                ""
            };
            let meta = |v: &str| {
                json!([{"value": v, "%value": v, "isAlias": v.contains('_') || v == "webservers", "description": ""}])
            };
            let set = |r: &mut Value, k: &str, v: Value| {
                r[k] = v;
            };
            set(&mut r, "uuid", json!(format!("{i:08x}-bb53-4b98-9c37-c912b0870371")));
            set(&mut r, "sequence", json!((i + 1).to_string()));
            set(&mut r, "sort_order", json!(format!("400000.{:07}", i + 1)));
            set(&mut r, "enabled", json!(if i % 10 == 9 { "0" } else { "1" }));
            let action = ["pass", "pass", "block", "pass", "reject"][i % 5];
            set(&mut r, "action", json!(action));
            let mut label = action.to_owned();
            label[..1].make_ascii_uppercase();
            set(&mut r, "%action", json!(label));
            set(&mut r, "interface", json!(iface));
            set(&mut r, "%interface", json!(iface_label));
            set(&mut r, "protocol", json!(protocol));
            set(&mut r, "source_net", json!(source));
            set(&mut r, "source_not", json!(source_not));
            set(&mut r, "destination_net", json!(destination));
            set(&mut r, "destination_port", json!(port));
            set(&mut r, "log", json!(if i % 7 == 0 { "1" } else { "0" }));
            set(
                &mut r,
                "description",
                json!(format!("Rule {} for {iface} {protocol} {port}", i + 1)),
            );
            set(&mut r, "alias_meta_source_net", meta(source));
            set(&mut r, "alias_meta_destination_net", meta(destination));
            set(&mut r, "alias_meta_destination_port", meta(port));
            serde_json::to_vec(&r).expect("row")
        })
        .collect()
}

/// A search page (`current` from 1) over the rules, as OPNsense writes it.
pub fn page(rules: &[Vec<u8>], current: usize, row_count: usize) -> Vec<u8> {
    let start = current
        .saturating_sub(1)
        .saturating_mul(row_count)
        .min(rules.len());
    let end = start.saturating_add(row_count).min(rules.len());
    let mut out = format!(
        r#"{{"total":{},"rowCount":{},"current":{current},"rows":["#,
        rules.len(),
        end - start
    )
    .into_bytes();
    for (n, row) in rules[start..end].iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(row);
    }
    out.extend_from_slice(b"]}");
    out
}

struct State {
    status: Bytes,
    firmware: Bytes,
    rules: Vec<Vec<u8>>,
    pages: Mutex<HashMap<(usize, usize), Bytes>>,
}

impl State {
    fn search(&self, body: &[u8]) -> Bytes {
        let q: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let n = |k: &str, d: usize| {
            q[k].as_u64()
                .and_then(|v| usize::try_from(v).ok())
                .unwrap_or(d)
        };
        let key = (n("current", 1).max(1), n("rowCount", 100).min(RULES));
        let mut pages = self.pages.lock().expect("pages");
        pages
            .entry(key)
            .or_insert_with(|| Bytes::from(page(&self.rules, key.0, key.1)))
            .clone()
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let answer = match path.as_str() {
        "/api/core/system/status" => Some(state.status.clone()),
        "/api/core/firmware/status" => Some(state.firmware.clone()),
        "/api/firewall/filter/search_rule" => Some(state.search(&body)),
        _ => None,
    };
    let resp = match answer {
        Some(b) => Response::builder()
            .header("content-type", "application/json; charset=UTF-8")
            .body(Full::new(b)),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::from_static(b"{\"status\":404}"))),
    };
    Ok(resp.expect("response"))
}

/// A fresh CA and a leaf for 127.0.0.1; returns the server config and the CA PEM.
fn tls() -> (Arc<rustls::ServerConfig>, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("ca");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
        .expect("config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (Arc::new(config), ca_cert.pem())
}

/// `bench --upstream <ca file>`: writes the CA to the file, prints `https://127.0.0.1:PORT`
/// on stdout and serves until stdin closes.
pub fn run(ca_file: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (config, ca_pem) = tls();
        std::fs::write(ca_file, ca_pem).expect("write CA");
        let state = Arc::new(State {
            status: corpus("core__system__status/lib-opnsense-25.1.12.json").into(),
            firmware: corpus("core__firmware__status/lib-opnsense-26.1.9.json").into(),
            rules: rules(),
            pages: Mutex::new(HashMap::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "https://{addr}").expect("stdout");
            out.flush().expect("flush");
        }
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        });
        tokio::pin!(stdin_closed);
        loop {
            tokio::select! {
                _ = &mut stdin_closed => break,
                accepted = listener.accept() => {
                    let Ok((tcp, _)) = accepted else { continue };
                    let _ = tcp.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    let state = state.clone();
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(tcp).await else { return };
                        let service = service_fn(move |req| handle(state.clone(), req));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(tls), service)
                            .await;
                    });
                }
            }
        }
    });
}
