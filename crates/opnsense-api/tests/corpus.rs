//! Puts every OPNsense response captured from a real firewall (`tests/corpus/`, provenance in
//! its README and `manifest.json`) through the SDK: each body is served by wiremock at its
//! endpoint, read with the SDK call that reads that endpoint, and the decoded rows, keys and
//! selected values are compared with what the raw body says.
//!
//! Endpoints the SDK has no typed reader for yet go through the client's generic JSON path
//! (`send_json` into a bootgrid page, a list or an object), so their captures are ready for the
//! readers to come. Entries marked `expect_decode_failure` in the manifest are known SDK gaps: the
//! test asserts that they still fail, so it turns red (a reminder to drop the mark) once fixed;
//! entries marked `expect_mismatch` decode but are read wrongly (same rule).

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use common::client;
use opnsense_api::api::services::ServiceModule;
use opnsense_api::fields::CsvList;
use opnsense_api::models::unbound::HostOverride;
use opnsense_api::{Client, Error, Request, SearchPage, SearchQuery, Uuid};
use serde::Deserialize;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The uuid item endpoints are asked for (the captures do not depend on it).
const ID: &str = "0b9d7c39-6a2f-4c2e-9a7e-3f1d2b4c5e6f";

/// One line of `tests/corpus/manifest.json` (only what the test needs).
#[derive(Debug, Deserialize)]
struct Entry {
    file: String,
    endpoint: String,
    version: String,
    #[serde(default)]
    expect_decode_failure: Option<String>,
    #[serde(default)]
    expect_mismatch: Option<String>,
}

/// What a body holds, as the test compares it: the number of rows (lists) and the key
/// fields or selected values, in order.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    rows: Option<usize>,
    keys: Vec<String>,
}

/// How to read the raw body independently of the SDK.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `{<list>: [...]}`: row count and each row's `<key>`.
    Rows(&'static str, &'static str),
    /// A top-level list: length and each element's `<key>`.
    List(&'static str),
    /// A top-level map: its keys, each with the value's `<field>` (`key=field`), or the key alone.
    Map(Option<&'static str>),
    /// `{<wrapper>: {...}}`: the selected value of each field.
    Item(&'static str, &'static [&'static str]),
    /// A top-level object: the selected value at each dotted path.
    Fields(&'static [&'static str]),
    /// Bootgrid rows whose uuid is followed by ` (automatic)` when OPNsense generated the row
    /// (`is_automatic`, `legacy`, or a `lockout_` id: rows the API cannot change).
    AutoRows,
}

type Run = for<'a> fn(&'a Client) -> Pin<Box<dyn Future<Output = Result<Seen, Error>> + 'a>>;

/// One endpoint of the table: how the SDK reads it and how the raw body is read.
struct Reader {
    endpoint: &'static str,
    /// The method the SDK uses (the mock answers only that).
    method: &'static str,
    /// The SDK appends `/{uuid}` to the endpoint.
    item: bool,
    shape: Shape,
    run: Run,
}

/// The string OPNsense means by a field: a string as is, an option map's selected keys joined
/// with `,`, a list's elements so, numbers and booleans as text (`1`/`0`), `null` empty.
fn selected(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(selected)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(map) => map
            .iter()
            .filter(|(_, o)| matches!(o.get("selected"), Some(s) if s == 1 || s == true))
            .map(|(k, _)| k.clone())
            .filter(|k| !k.is_empty())
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn at<'v>(v: &'v Value, dotted: &str) -> &'v Value {
    dotted
        .split('.')
        .fold(v, |v, k| v.get(k).unwrap_or(&Value::Null))
}

/// What the raw body says, read without the SDK.
fn expected(shape: Shape, body: &Value) -> Seen {
    let rows_of = |list: &Value, key: &str| {
        let list = list.as_array().map(Vec::as_slice).unwrap_or_default();
        Seen {
            rows: Some(list.len()),
            keys: list
                .iter()
                .map(|r| selected(r.get(key).unwrap_or(&Value::Null)))
                .collect(),
        }
    };
    match shape {
        Shape::Rows(list, key) => rows_of(&body[list], key),
        Shape::List(key) => rows_of(body, key),
        Shape::Map(field) => {
            let map = body.as_object().cloned().unwrap_or_default();
            let sorted: BTreeMap<_, _> = map.into_iter().collect();
            Seen {
                rows: Some(sorted.len()),
                keys: sorted
                    .iter()
                    .map(|(k, v)| match field {
                        Some(f) => format!("{k}={}", selected(&v[f])),
                        None => k.clone(),
                    })
                    .collect(),
            }
        }
        Shape::Item(wrapper, fields) => Seen {
            rows: None,
            keys: fields
                .iter()
                .map(|f| selected(&body[wrapper][*f]))
                .collect(),
        },
        Shape::Fields(paths) => Seen {
            rows: None,
            keys: paths.iter().map(|p| selected(at(body, p))).collect(),
        },
        Shape::AutoRows => {
            let list = body["rows"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            Seen {
                rows: Some(list.len()),
                keys: list
                    .iter()
                    .map(|r| {
                        let uuid = selected(&r["uuid"]);
                        let auto = r["is_automatic"] == true
                            || r["legacy"] == true
                            || uuid.starts_with("lockout_");
                        automatic(uuid, auto)
                    })
                    .collect(),
            }
        }
    }
}

/// `uuid`, marked when the row is one OPNsense generated.
fn automatic(uuid: String, auto: bool) -> String {
    if auto {
        format!("{uuid} (automatic)")
    } else {
        uuid
    }
}

// Helpers that turn decoded values back into OPNsense's string form.
fn s(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}
fn b(v: Option<bool>) -> String {
    v.map(|on| if on { "1" } else { "0" }.to_owned())
        .unwrap_or_default()
}
fn csv(v: Option<&CsvList>) -> String {
    v.map(|l| l.0.join(",")).unwrap_or_default()
}
fn rows<T>(page: &SearchPage<T>, key: impl Fn(&T) -> String) -> Seen {
    Seen {
        rows: Some(page.rows.len()),
        keys: page.rows.iter().map(key).collect(),
    }
}
fn list<T>(items: &[T], key: impl Fn(&T) -> String) -> Seen {
    Seen {
        rows: Some(items.len()),
        keys: items.iter().map(key).collect(),
    }
}
fn id() -> Uuid {
    Uuid::parse(ID).expect("uuid")
}

/// Generic reads for endpoints without a typed SDK reader yet.
async fn generic_page(c: &Client, req: Request, key: &str) -> Result<Seen, Error> {
    let page: SearchPage<Value> = c.send_json(req).await?;
    Ok(rows(&page, |r| {
        selected(r.get(key).unwrap_or(&Value::Null))
    }))
}
async fn generic_value(c: &Client, req: Request, shape: Shape) -> Result<Seen, Error> {
    let v: Value = c.send_json(req).await?;
    Ok(expected(shape, &v))
}

fn search_body() -> Value {
    Value::Object(SearchQuery::all().to_body())
}

#[allow(clippy::too_many_lines)]
fn readers() -> Vec<Reader> {
    const FILTER_GET: &[&str] = &[
        "action",
        "direction",
        "ipprotocol",
        "protocol",
        "statetype",
        "sequence",
        "quick",
    ];
    const ALIAS_GET: &[&str] = &["enabled", "name", "type", "counters", "interface"];
    const DNAT_GET: &[&str] = &[
        "sequence",
        "disabled",
        "ipprotocol",
        "protocol",
        "poolopts",
        "natreflection",
        "pass",
    ];
    const ROUTE_GET: &[&str] = &["network", "gateway", "descr", "enabled", "disabled"];
    const RESERVATION_GET: &[&str] = &["subnet", "ip_address", "hw_address", "hostname"];
    const SUBNET_GET: &[&str] = &[
        "subnet",
        "pools",
        "match-client-id",
        "option_data_autocollect",
        "ddns_domain_key_algorithm",
    ];
    const HOST_GET: &[&str] = &["enabled", "hostname", "domain", "rr", "server"];
    const SYSTEM: &[&str] = &["metadata.system.status", "metadata.system.message"];
    const FIRMWARE: &[&str] = &["status", "product.product_version"];
    const KEA: &[&str] = &[
        "dhcpv4.general.enabled",
        "dhcpv4.general.valid_lifetime",
        "dhcpv4.general.interfaces",
        "dhcpv4.ha.enabled",
    ];
    const UNBOUND: &[&str] = &["unbound.general.enabled", "unbound.general.port"];
    const SERVICE: &[&str] = &["status"];
    const GATEWAYS: Shape = Shape::Rows("items", "name");
    const PF_STATES: &[&str] = &["current", "limit"];
    vec![
        Reader {
            endpoint: "firewall/filter/search_rule",
            method: "POST",
            item: false,
            shape: Shape::AutoRows,
            run: |c| {
                Box::pin(async move {
                    let p = c.firewall().filter().search(&SearchQuery::all()).await?;
                    Ok(rows(&p, |r| automatic(s(r.uuid.as_ref()), r.is_legacy())))
                })
            },
        },
        Reader {
            endpoint: "firewall/filter/get_rule",
            method: "GET",
            item: true,
            shape: Shape::Item("rule", FILTER_GET),
            run: |c| {
                Box::pin(async move {
                    let r = c.firewall().filter().get(&id()).await?;
                    Ok(Seen {
                        rows: None,
                        keys: vec![
                            s(r.action),
                            s(r.direction),
                            s(r.ipprotocol),
                            s(r.protocol),
                            s(r.statetype),
                            s(r.sequence),
                            b(r.quick),
                        ],
                    })
                })
            },
        },
        Reader {
            endpoint: "firewall/alias/search_item",
            method: "POST",
            item: false,
            shape: Shape::Rows("rows", "uuid"),
            run: |c| {
                Box::pin(async move {
                    let p = c.firewall().alias().search(&SearchQuery::all()).await?;
                    Ok(rows(&p, |r| s(r.uuid.as_ref())))
                })
            },
        },
        Reader {
            endpoint: "firewall/alias/get_item",
            method: "GET",
            item: true,
            shape: Shape::Item("alias", ALIAS_GET),
            run: |c| {
                Box::pin(async move {
                    let a = c.firewall().alias().get(&id()).await?;
                    Ok(Seen {
                        rows: None,
                        keys: vec![
                            b(a.enabled),
                            s(a.name),
                            s(a.alias_type),
                            b(a.counters),
                            s(a.interface),
                        ],
                    })
                })
            },
        },
        Reader {
            endpoint: "firewall/d_nat/search_rule",
            method: "POST",
            item: false,
            shape: Shape::AutoRows,
            run: |c| {
                Box::pin(async move {
                    let p = c.firewall().d_nat().search(&SearchQuery::all()).await?;
                    Ok(rows(&p, |r| automatic(r.uuid.clone(), r.is_automatic())))
                })
            },
        },
        Reader {
            endpoint: "firewall/d_nat/get_rule",
            method: "GET",
            item: true,
            shape: Shape::Item("rule", DNAT_GET),
            run: |c| {
                Box::pin(async move {
                    let r = c.firewall().d_nat().get(&id()).await?;
                    Ok(Seen {
                        rows: None,
                        keys: vec![
                            s(r.fields.sequence),
                            b(r.fields.disabled),
                            s(r.fields.ipprotocol),
                            s(r.fields.protocol),
                            s(r.fields.poolopts),
                            s(r.fields.natreflection),
                            s(r.fields.pass),
                        ],
                    })
                })
            },
        },
        Reader {
            endpoint: "firewall/source_nat/search_rule",
            method: "POST",
            item: false,
            shape: Shape::Rows("rows", "uuid"),
            run: |c| {
                Box::pin(generic_page(
                    c,
                    Request::post("firewall/source_nat/search_rule").json(search_body()),
                    "uuid",
                ))
            },
        },
        Reader {
            endpoint: "core/system/status",
            method: "GET",
            item: false,
            shape: Shape::Fields(SYSTEM),
            run: |c| {
                Box::pin(async move {
                    let st = c.system().status().await?;
                    let status = match &st.metadata.system.status {
                        opnsense_api::models::system::StatusValue::Code(n) => n.to_string(),
                        opnsense_api::models::system::StatusValue::Name(n) => n.clone(),
                    };
                    Ok(Seen {
                        rows: None,
                        keys: vec![status, s(st.metadata.system.message)],
                    })
                })
            },
        },
        Reader {
            endpoint: "core/firmware/status",
            method: "GET",
            item: false,
            shape: Shape::Fields(FIRMWARE),
            run: |c| {
                Box::pin(async move {
                    let f = c.system().firmware_status().await?;
                    Ok(Seen {
                        rows: None,
                        keys: vec![s(f.status), s(f.product.and_then(|p| p.product_version))],
                    })
                })
            },
        },
        Reader {
            endpoint: "diagnostics/interface/getInterfaceNames",
            method: "GET",
            item: false,
            shape: Shape::Map(None),
            run: |c| {
                Box::pin(async move {
                    let names = c.interfaces().names().await?;
                    Ok(Seen {
                        rows: Some(names.len()),
                        keys: names.keys().cloned().collect(),
                    })
                })
            },
        },
        Reader {
            endpoint: "diagnostics/interface/getInterfaceConfig",
            method: "GET",
            item: false,
            shape: Shape::Map(Some("device")),
            run: |c| {
                Box::pin(async move {
                    let all = c.interfaces().config().await?;
                    Ok(Seen {
                        rows: Some(all.len()),
                        keys: all
                            .iter()
                            .map(|(k, d)| format!("{k}={}", d.device))
                            .collect(),
                    })
                })
            },
        },
        Reader {
            endpoint: "diagnostics/interface/getArp",
            method: "GET",
            item: false,
            shape: Shape::List("ip"),
            run: |c| {
                Box::pin(async move {
                    let arp = c.interfaces().arp().await?;
                    Ok(list(&arp, |e| e.ip.clone()))
                })
            },
        },
        Reader {
            endpoint: "diagnostics/interface/getNdp",
            method: "GET",
            item: false,
            shape: Shape::List("ip"),
            run: |c| {
                Box::pin(async move {
                    let ndp = c.interfaces().ndp().await?;
                    Ok(list(&ndp, |e| e.ip.clone()))
                })
            },
        },
        Reader {
            endpoint: "routes/routes/searchroute",
            method: "POST",
            item: false,
            shape: Shape::Rows("rows", "uuid"),
            run: |c| {
                Box::pin(async move {
                    let p = c.routes().search(&SearchQuery::all()).await?;
                    Ok(rows(&p, |r| s(r.uuid.as_ref())))
                })
            },
        },
        Reader {
            endpoint: "routes/routes/getroute",
            method: "GET",
            item: true,
            shape: Shape::Item("route", ROUTE_GET),
            run: |c| {
                Box::pin(async move {
                    let r = c.routes().get(&id()).await?;
                    Ok(Seen {
                        rows: None,
                        keys: vec![
                            s(r.network),
                            s(r.gateway),
                            s(r.descr),
                            b(r.enabled),
                            b(r.disabled),
                        ],
                    })
                })
            },
        },
        Reader {
            endpoint: "routes/gateway/status",
            method: "GET",
            item: false,
            shape: GATEWAYS,
            run: |c| {
                Box::pin(async move {
                    let gateways = c.diagnostics().gateways().await?;
                    Ok(list(&gateways.items, |g| g.name.clone()))
                })
            },
        },
        Reader {
            endpoint: "kea/dhcpv4/get",
            method: "GET",
            item: false,
            shape: Shape::Fields(KEA),
            run: |c| {
                Box::pin(async move {
                    let k = c.kea().settings().await?;
                    let g = k.general().unwrap_or_default();
                    let ha = k.ha().unwrap_or_default();
                    Ok(Seen {
                        rows: None,
                        keys: vec![
                            b(g.enabled),
                            s(g.valid_lifetime),
                            csv(g.interfaces.as_ref()),
                            b(ha.enabled),
                        ],
                    })
                })
            },
        },
        Reader {
            endpoint: "kea/dhcpv4/getReservation",
            method: "GET",
            item: true,
            shape: Shape::Item("reservation", RESERVATION_GET),
            run: |c| {
                Box::pin(async move {
                    let r = c.kea().reservations().get(&id()).await?;
                    Ok(Seen {
                        rows: None,
                        keys: vec![s(r.subnet), s(r.ip_address), s(r.hw_address), s(r.hostname)],
                    })
                })
            },
        },
        Reader {
            endpoint: "kea/dhcpv4/getSubnet",
            method: "GET",
            item: true,
            shape: Shape::Item("subnet4", SUBNET_GET),
            run: |c| {
                Box::pin(async move {
                    let n = c.kea().subnets().get(&id()).await?;
                    Ok(Seen {
                        rows: None,
                        keys: vec![
                            s(n.subnet),
                            n.pools.map(|p| p.0.join(",")).unwrap_or_default(),
                            b(n.match_client_id),
                            b(n.option_data_autocollect),
                            s(n.ddns_domain_key_algorithm),
                        ],
                    })
                })
            },
        },
        Reader {
            endpoint: "kea/dhcpv4/searchSubnet",
            method: "POST",
            item: false,
            shape: Shape::Rows("rows", "uuid"),
            run: |c| {
                Box::pin(async move {
                    let p = c.kea().subnets().search(&SearchQuery::all()).await?;
                    Ok(rows(&p, |r| s(r.uuid.as_ref())))
                })
            },
        },
        Reader {
            endpoint: "unbound/settings/get",
            method: "GET",
            item: false,
            shape: Shape::Fields(UNBOUND),
            run: |c| {
                Box::pin(async move {
                    let u = c.unbound().settings().await?;
                    let body = serde_json::json!({"unbound": u.unbound});
                    Ok(expected(Shape::Fields(UNBOUND), &body))
                })
            },
        },
        Reader {
            endpoint: "unbound/settings/searchHostOverride",
            method: "POST",
            item: false,
            shape: Shape::Rows("rows", "uuid"),
            run: |c| {
                Box::pin(async move {
                    let p = c
                        .unbound()
                        .host_overrides()
                        .search(&SearchQuery::all())
                        .await?;
                    Ok(rows(&p, |r| s(r.uuid.as_ref())))
                })
            },
        },
        Reader {
            endpoint: "unbound/settings/getHostOverride",
            method: "GET",
            item: true,
            shape: Shape::Item("host", HOST_GET),
            run: |c| {
                Box::pin(async move {
                    let h = c.unbound().host_overrides().get(&id()).await?;
                    Ok(Seen {
                        rows: None,
                        keys: vec![
                            b(h.enabled),
                            s(h.hostname),
                            s(h.domain),
                            s(h.rr),
                            s(h.server),
                        ],
                    })
                })
            },
        },
        Reader {
            endpoint: "unbound/settings/addHostOverride",
            method: "POST",
            item: false,
            shape: Shape::Fields(&["uuid"]),
            run: |c| {
                Box::pin(async move {
                    let saved = c
                        .unbound()
                        .host_overrides()
                        .add(&HostOverride::default())
                        .await?;
                    Ok(Seen {
                        rows: None,
                        keys: vec![s(saved.uuid)],
                    })
                })
            },
        },
        Reader {
            endpoint: "unbound/settings/delHostOverride",
            method: "POST",
            item: true,
            shape: Shape::Fields(&[]),
            run: |c| {
                Box::pin(async move {
                    c.unbound().host_overrides().delete(&id()).await?;
                    Ok(Seen {
                        rows: None,
                        keys: Vec::new(),
                    })
                })
            },
        },
        Reader {
            endpoint: "unbound/settings/searchForward",
            method: "POST",
            item: false,
            shape: Shape::Rows("rows", "uuid"),
            run: |c| {
                Box::pin(generic_page(
                    c,
                    Request::post("unbound/settings/searchForward").json(search_body()),
                    "uuid",
                ))
            },
        },
        Reader {
            endpoint: "ids/service/status",
            method: "GET",
            item: false,
            shape: Shape::Fields(SERVICE),
            run: |c| {
                Box::pin(async move {
                    let st = c.service(ServiceModule::Ids).status().await?;
                    Ok(Seen {
                        rows: None,
                        keys: vec![s(st.status)],
                    })
                })
            },
        },
        Reader {
            endpoint: "wireguard/service/show",
            method: "GET",
            item: false,
            shape: Shape::Rows("rows", "name"),
            run: |c| {
                Box::pin(async move {
                    let page = c.vpn().wireguard().await?;
                    Ok(rows(&page, |r| r.name.clone()))
                })
            },
        },
        Reader {
            endpoint: "openvpn/service/search_sessions",
            method: "GET",
            item: false,
            shape: Shape::Rows("rows", "id"),
            run: |c| {
                Box::pin(async move {
                    let page = c.vpn().openvpn_sessions().await?;
                    Ok(rows(&page, |r| r.id.clone()))
                })
            },
        },
        Reader {
            endpoint: "diagnostics/firewall/query_states",
            method: "POST",
            item: false,
            shape: Shape::Rows("rows", "id"),
            run: |c| {
                Box::pin(async move {
                    let page = c.diagnostics().states(&SearchQuery::all()).await?;
                    Ok(rows(&page, |r| r.id.clone()))
                })
            },
        },
        Reader {
            endpoint: "diagnostics/firewall/log",
            method: "GET",
            item: false,
            shape: Shape::List("__digest__"),
            run: |c| {
                Box::pin(async move {
                    let lines = c.diagnostics().firewall_log(1000).await?;
                    Ok(list(&lines, |l| l.digest.clone()))
                })
            },
        },
        Reader {
            endpoint: "diagnostics/firewall/pf_states",
            method: "GET",
            item: false,
            shape: Shape::Fields(PF_STATES),
            run: |c| {
                Box::pin(generic_value(
                    c,
                    Request::get("diagnostics/firewall/pf_states"),
                    Shape::Fields(PF_STATES),
                ))
            },
        },
        Reader {
            endpoint: "diagnostics/firewall/pf_statistics",
            method: "GET",
            item: false,
            shape: Shape::List("name"),
            run: |c| {
                Box::pin(async move {
                    let stats: Vec<Value> = c
                        .send_json(Request::get("diagnostics/firewall/pf_statistics"))
                        .await?;
                    Ok(list(&stats, |l| selected(&l["name"])))
                })
            },
        },
    ]
}

fn corpus_dir() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "tests", "corpus"]
        .iter()
        .collect()
}

fn manifest() -> Vec<Entry> {
    let path = corpus_dir().join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Serves `text` for one reader and runs it.
async fn run_one(reader: &Reader, text: &str) -> Result<Seen, Error> {
    let server = MockServer::start().await;
    let mut at = format!("/api/{}", reader.endpoint);
    if reader.item {
        at.push('/');
        at.push_str(ID);
    }
    Mock::given(method(reader.method))
        .and(path(at))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(text.to_owned(), "application/json; charset=UTF-8"),
        )
        .mount(&server)
        .await;
    // A set or toggle would first check existence; no reader here does, so one mock suffices.
    let c = client(&server).await;
    (reader.run)(&c).await
}

#[tokio::test]
async fn every_captured_response_goes_through_the_sdk() {
    let table = readers();
    let entries = manifest();
    assert!(!entries.is_empty(), "empty manifest");
    let mut problems = Vec::new();
    let mut still_failing = Vec::new();
    for e in &entries {
        let Some(reader) = table.iter().find(|r| r.endpoint == e.endpoint) else {
            problems.push(format!("{}: no reader for endpoint {}", e.file, e.endpoint));
            continue;
        };
        let text = std::fs::read_to_string(corpus_dir().join(&e.file))
            .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: not JSON: {err}", e.file));
        let want = expected(reader.shape, &body);
        let got = run_one(reader, &text).await;
        match (&e.expect_decode_failure, got) {
            (None, Ok(seen)) => match (&e.expect_mismatch, seen == want) {
                (None, true) => {}
                (None, false) => problems.push(format!(
                    "{} ({}): decoded {seen:?}, the body says {want:?}",
                    e.file, e.version
                )),
                (Some(reason), true) => problems.push(format!(
                    "{}: marked expect_mismatch ({reason}) but the SDK reads it right now: drop the mark",
                    e.file
                )),
                (Some(_), false) => {
                    still_failing.push(format!("{}: decoded {seen:?}, the body says {want:?}", e.file));
                }
            },
            (None, Err(err)) => problems.push(format!(
                "{} ({}): does not decode: {err}",
                e.file, e.version
            )),
            (Some(reason), Ok(_)) => problems.push(format!(
                "{}: marked expect_decode_failure ({reason}) but decodes now: drop the mark",
                e.file
            )),
            (Some(_), Err(err)) => still_failing.push(format!("{}: {err}", e.file)),
        }
    }
    for f in &still_failing {
        eprintln!("known SDK gap (expect_decode_failure / expect_mismatch): {f}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn manifest_lists_every_corpus_file_once() {
    let entries = manifest();
    let mut listed: Vec<String> = entries.iter().map(|e| e.file.clone()).collect();
    listed.sort();
    let before = listed.len();
    listed.dedup();
    assert_eq!(before, listed.len(), "a file is listed twice");
    let mut on_disk = Vec::new();
    for dir in std::fs::read_dir(corpus_dir()).expect("corpus dir") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).expect("endpoint dir") {
            let f = f.expect("entry").path();
            let rel = f
                .strip_prefix(corpus_dir())
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/");
            on_disk.push(rel);
        }
    }
    on_disk.sort();
    assert_eq!(listed, on_disk, "manifest.json and the corpus files differ");
    for e in &entries {
        let dir = e.file.split('/').next().unwrap_or_default();
        assert_eq!(
            dir,
            e.endpoint.replace('/', "__"),
            "{}: directory does not match endpoint {}",
            e.file,
            e.endpoint
        );
    }
}
