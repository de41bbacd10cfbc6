//! The MCP surface beyond tools, in memory against wiremock: the prompts name only tools the
//! catalogue offers (and only arguments those tools take), and `notifications/cancelled` for a
//! read drops the call at once, OPNsense request included, while the session goes on.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use opnsense_mcp_tools::{InFlight, OpnsenseTools, ToolOptions, prompts};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequest, CallToolRequestParams, ClientRequest};
use rmcp::service::PeerRequestOptions;
use serde_json::{Map, Value};
use support::catalogue;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Prefixes of the catalogue's tool names (every tool starts with one).
const TOOL_PREFIXES: &[&str] = &[
    "system_",
    "firewall_",
    "change_",
    "interface_",
    "dhcp_",
    "dns_",
    "gateway_",
    "route_",
    "service_",
    "vpn_",
    "ids_",
];

/// Words of a text that look like identifiers (`firewall_rule_add`, `dry_run`).
fn identifiers(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.contains('_'))
        .map(str::to_owned)
        .collect()
}

/// Arguments that fill every argument of a prompt (the required ones and the optional ones).
fn arguments(def: &prompts::Def, device: &str) -> Map<String, Value> {
    def.args
        .iter()
        .map(|a| {
            let v = match a.name {
                "port" => "8443",
                "internal_host" | "source" => "192.168.1.10",
                "device" => device,
                "destination" => "10.0.0.1",
                "protocol" => "tcp",
                "interface" => "opt1",
                _ => "web",
            };
            (a.name.to_owned(), Value::from(v))
        })
        .collect()
}

#[test]
fn prompts_name_only_tools_and_arguments_the_catalogue_has() {
    let tools: Vec<Value> = catalogue(ToolOptions::default())
        .tools()
        .into_iter()
        .map(|t| serde_json::to_value(t).expect("json"))
        .collect();
    let names: BTreeSet<String> = tools
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    // Every property name of every input schema, nested ones included.
    let mut properties = BTreeSet::new();
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(props)) = m.get("properties") {
                    out.extend(props.keys().cloned());
                }
                m.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    for t in &tools {
        walk(&t["inputSchema"], &mut properties);
    }
    // Names of result fields the prompts point at.
    let results = ["change_id", "revert_at", "revert_failed"];
    for def in &prompts::PROMPTS {
        for device in ["192.168.1.50", "00:11:22:aa:bb:cc"] {
            let got = prompts::get(def.name, Some(&arguments(def, device))).expect(def.name);
            let text = serde_json::to_value(&got.messages)
                .expect("json")
                .to_string();
            let words = identifiers(&text);
            let mentioned: Vec<&String> = words
                .iter()
                .filter(|w| TOOL_PREFIXES.iter().any(|p| w.starts_with(p)))
                .filter(|w| !properties.contains(*w) && !results.contains(&w.as_str()))
                .collect();
            assert!(!mentioned.is_empty(), "{} names no tool: {text}", def.name);
            for w in &mentioned {
                assert!(
                    names.contains(*w),
                    "prompt {} names {w}, which is no tool of the catalogue",
                    def.name
                );
            }
            // Every other identifier is an argument of some tool or a result field.
            for w in words.iter().filter(|w| !names.contains(*w)) {
                assert!(
                    properties.contains(w) || results.contains(&w.as_str()),
                    "prompt {} names {w}, which is neither a tool, an argument nor a result field",
                    def.name
                );
            }
        }
    }
}

#[tokio::test]
async fn cancelling_a_read_drops_its_opnsense_call_and_the_session_goes_on() {
    let upstream = MockServer::builder().start().await;
    // OPNsense takes ten minutes to answer: only dropping the call ends it sooner.
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .mount(&upstream)
        .await;
    let api = opnsense_api::Client::builder(upstream.uri())
        .credentials("test-key", "test-secret")
        .allow_insecure_http(true)
        .read_timeout(Duration::from_secs(900))
        .call_timeout(Duration::from_secs(900))
        .firmware_version(support::DEFAULT_FIRMWARE)
        .build()
        .expect("client");
    let in_flight = InFlight::default();
    let server = OpnsenseTools::build(api, ToolOptions::default(), None, in_flight.clone());
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.expect("mcp client");

    let call = ClientRequest::CallToolRequest(CallToolRequest::new(CallToolRequestParams::new(
        "firewall_rule_list",
    )));
    let handle = client
        .send_cancellable_request(call, PeerRequestOptions::no_options())
        .await
        .expect("sent");
    // Wait (bounded) until the call reached OPNsense.
    tokio::time::timeout(Duration::from_secs(30), async {
        while upstream
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the call reaches OPNsense");
    assert_eq!(in_flight.count(), 1, "the call is in progress");

    handle
        .cancel(Some("user pressed stop".into()))
        .await
        .expect("cancel sent");
    // The call's future holds the in-flight guard: it is released only when the future is
    // dropped (OPNsense would answer in ten minutes).
    tokio::time::timeout(Duration::from_secs(30), in_flight.idle())
        .await
        .expect("the cancelled call was dropped, its OPNsense request with it");

    // The session goes on.
    let prompts = client.list_all_prompts().await.expect("prompts/list");
    assert_eq!(prompts.len(), prompts::PROMPTS.len());
    let _ = client.cancel().await;
}
