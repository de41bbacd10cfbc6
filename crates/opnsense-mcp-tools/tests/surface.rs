//! The MCP surface beyond tools, in memory against wiremock: the prompts name only tools the
//! catalogue offers (and only arguments those tools take), `notifications/cancelled` for a
//! read drops the call at once, OPNsense request included, while the session goes on, and a
//! fleet of two targets (two wiremock firewalls) lists, reads, subscribes, prompts and completes
//! per target, each target's policy holding.

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

// -----------------------------------------------------------------------------------------------
// A fleet of two targets
// -----------------------------------------------------------------------------------------------

/// A firewall whose alias list holds one alias, `name` (uuid `uuid`); nothing else answers.
async fn firewall_with_alias(name: &str, uuid: &str) -> MockServer {
    let server = MockServer::builder().start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/api/firewall/alias/search_item"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "total": 1, "rowCount": 1, "current": 1,
            "rows": [{"uuid": uuid, "enabled": "1", "name": name, "type": "host",
                      "content": "192.0.2.1", "description": format!("hosts of {name}")}],
        })))
        .mount(&server)
        .await;
    server
}

fn target_on(
    name: &str,
    server: &MockServer,
    options: ToolOptions,
    in_flight: &InFlight,
) -> OpnsenseTools {
    let api = opnsense_api::Client::builder(server.uri())
        .credentials("test-key", "test-secret")
        .allow_insecure_http(true)
        .firmware_version(support::DEFAULT_FIRMWARE)
        .build()
        .expect("client");
    OpnsenseTools::build_named(name, api, options, None, in_flight.clone())
}

async fn requests_to(server: &MockServer, path: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == path)
        .count()
}

const OFFICE_ALIAS: &str = "0b6c1f52-6b5e-4f0e-9a44-3c1d2e3f4a01";
const BRANCH_ALIAS: &str = "7d2e9a10-1c3b-4d5e-8f60-7a8b9c0d1e02";
const ALIAS_SEARCH: &str = "/api/firewall/alias/search_item";

#[tokio::test]
#[allow(deprecated)] // resources/subscribe: legacy protocol versions, which the clients in use speak
async fn a_fleet_serves_each_targets_resources_prompts_and_completions() {
    use opnsense_mcp_tools::fleet::Fleet;
    use rmcp::model::{
        ArgumentInfo, CompleteRequestParams, CompletionContext, GetPromptRequestParams,
        ReadResourceRequestParams, Reference, ResourceContents, SubscribeRequestParams,
    };

    let office = firewall_with_alias("office_hosts", OFFICE_ALIAS).await;
    let branch = firewall_with_alias("branch_hosts", BRANCH_ALIAS).await;
    let in_flight = InFlight::default();
    let fleet = Fleet::new(
        vec![
            target_on("office", &office, ToolOptions::default(), &in_flight),
            target_on(
                "branch",
                &branch,
                ToolOptions {
                    tools_deny: vec!["firewall_rule_*".into()],
                    ..ToolOptions::default()
                },
                &in_flight,
            ),
        ],
        "office",
    )
    .expect("fleet");
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = fleet.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.expect("mcp client");

    // resources/list: both targets, each as its policy offers (branch denies the rule tools),
    // and nothing read from either firewall to list them.
    let listed = client.list_all_resources().await.expect("resources/list");
    let uris: BTreeSet<String> = listed.iter().map(|r| r.uri.clone()).collect();
    let mut expected = BTreeSet::new();
    for path in ["config", "rules", "aliases", "nat", "interfaces", "leases"] {
        expected.insert(format!("opnsense://office/{path}"));
        if path != "rules" {
            expected.insert(format!("opnsense://branch/{path}"));
        }
    }
    assert_eq!(uris, expected);
    for r in &listed {
        let target = r
            .uri
            .trim_start_matches("opnsense://")
            .split('/')
            .next()
            .unwrap_or_default();
        assert!(
            r.name.starts_with(&format!("{target}/")),
            "{} names its target",
            r.name
        );
        assert!(r.size.is_none(), "{}: no size without a read", r.uri);
    }
    for server in [&office, &branch] {
        assert!(
            server
                .received_requests()
                .await
                .unwrap_or_default()
                .is_empty(),
            "resources/list reads nothing"
        );
    }

    // resources/read goes to the target the URI names, and only there.
    let aliases_of = |target: &'static str| {
        let client = &client;
        async move {
            let uri = format!("opnsense://{target}/aliases");
            let r = client
                .read_resource(ReadResourceRequestParams::new(uri.clone()))
                .await
                .unwrap_or_else(|e| panic!("{uri}: {e}"));
            let ResourceContents::TextResourceContents { text, .. } = &r.contents[0] else {
                panic!("{uri}: not text")
            };
            let v: Value = serde_json::from_str(text).expect("json");
            v["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["name"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(aliases_of("branch").await, ["branch_hosts"]);
    assert_eq!(requests_to(&branch, ALIAS_SEARCH).await, 1);
    assert_eq!(requests_to(&office, ALIAS_SEARCH).await, 0);
    assert_eq!(aliases_of("office").await, ["office_hosts"]);
    assert_eq!(requests_to(&office, ALIAS_SEARCH).await, 1);

    // An unknown target names the known ones; a resource the target's policy hides is not
    // there (and nothing is sent for either).
    let before = branch.received_requests().await.unwrap_or_default().len();
    let e = client
        .read_resource(ReadResourceRequestParams::new("opnsense://nope/aliases"))
        .await
        .expect_err("unknown target");
    let e = e.to_string();
    assert!(
        e.contains("\"nope\"") && e.contains("branch, office"),
        "{e}"
    );
    let e = client
        .read_resource(ReadResourceRequestParams::new("opnsense://branch/rules"))
        .await
        .expect_err("branch has no rules resource")
        .to_string();
    assert!(e.contains("firewall_rule_list"), "{e}");
    assert_eq!(
        branch.received_requests().await.unwrap_or_default().len(),
        before
    );

    // Subscriptions follow the same rules.
    client
        .subscribe(SubscribeRequestParams::new("opnsense://branch/aliases"))
        .await
        .expect("subscribe to a branch resource");
    for refused in ["opnsense://branch/rules", "opnsense://nope/aliases"] {
        assert!(
            client
                .subscribe(SubscribeRequestParams::new(refused))
                .await
                .is_err(),
            "{refused}"
        );
    }

    // Templates carry a {target} variable, completed with the targets that offer them.
    let templates = client
        .list_all_resource_templates()
        .await
        .expect("templates");
    assert!(!templates.is_empty());
    for t in &templates {
        assert!(
            t.uri_template.starts_with("opnsense://{target}/"),
            "{}",
            t.uri_template
        );
    }
    let targets = client
        .complete_resource_simple("opnsense://{target}/rules/{uuid}", "target", "")
        .await
        .expect("complete target");
    assert_eq!(targets, ["office"], "branch offers no rules");
    let targets = client
        .complete_resource_simple("opnsense://{target}/aliases/{uuid}", "target", "b")
        .await
        .expect("complete target");
    assert_eq!(targets, ["branch"]);

    // A uuid completes from the target chosen: in the context, in the URI, or the default.
    let complete = |uri: &'static str, context: Option<&'static str>| {
        let client = &client;
        async move {
            let mut request = CompleteRequestParams::new(
                Reference::for_resource(uri),
                ArgumentInfo::new("uuid", ""),
            );
            if let Some(t) = context {
                request = request.with_context(CompletionContext::with_arguments(
                    [("target".to_owned(), t.to_owned())].into(),
                ));
            }
            client.complete(request).await.map(|r| r.completion.values)
        }
    };
    let template = "opnsense://{target}/aliases/{uuid}";
    assert_eq!(
        complete(template, Some("branch")).await.expect("branch"),
        [BRANCH_ALIAS]
    );
    assert_eq!(
        complete("opnsense://branch/aliases/{uuid}", None)
            .await
            .expect("in the uri"),
        [BRANCH_ALIAS]
    );
    assert_eq!(
        complete(template, None).await.expect("default"),
        [OFFICE_ALIAS]
    );
    let e = complete(template, Some("nope"))
        .await
        .expect_err("unknown target");
    assert!(e.to_string().contains("branch, office"), "{e}");
    // branch's policy hides the rules: no completion reads them.
    let rules_before = requests_to(&branch, "/api/firewall/filter/search_rule").await;
    let none = complete("opnsense://{target}/rules/{uuid}", Some("branch"))
        .await
        .expect("an empty completion");
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(
        requests_to(&branch, "/api/firewall/filter/search_rule").await,
        rules_before
    );

    // Prompts take `target` and name it in the workflow.
    let listed = client.list_all_prompts().await.expect("prompts/list");
    for p in &listed {
        assert!(
            p.arguments
                .iter()
                .flatten()
                .any(|a| a.name == "target" && a.required != Some(true)),
            "{} takes an optional target",
            p.name
        );
    }
    let got = client
        .get_prompt(
            GetPromptRequestParams::new("review_pending_changes").with_arguments(
                serde_json::json!({"target": "branch"})
                    .as_object()
                    .cloned()
                    .expect("object"),
            ),
        )
        .await
        .expect("prompts/get");
    let body = serde_json::to_value(&got.messages)
        .expect("json")
        .to_string();
    assert!(body.contains("target: \\\"branch\\\""), "{body}");
    let prompt_targets = client
        .complete_prompt_simple("audit_firewall", "target", "")
        .await
        .expect("complete a prompt's target");
    assert_eq!(prompt_targets, ["branch", "office"]);
    let e = client
        .get_prompt(
            GetPromptRequestParams::new("audit_firewall").with_arguments(
                serde_json::json!({"target": "nope"})
                    .as_object()
                    .cloned()
                    .expect("object"),
            ),
        )
        .await
        .expect_err("unknown target");
    assert!(e.to_string().contains("branch, office"), "{e}");
    let _ = client.cancel().await;
}
