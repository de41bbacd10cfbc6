//! Safe changes end to end: the real binary over stdio against the simulator, on every write
//! domain (Kea reservations and Dnsmasq hosts included) and on 26.1.9, 26.1.10 and 26.7. An unconfirmed change reverts itself and leaves the
//! firewall exactly as before (staged and live, record for record); a confirmed one stays; a
//! rollback undoes a confirmed change and is refused when the records were edited since; a dry
//! run sends no write; a server killed with SIGKILL reverts the change it left unconfirmed when
//! it starts again, and one that exits normally reverts it before exiting.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use opnsense_sim::{Collection, DhcpBackends, SimConfig, Simulator, Version};
use rmcp::ServiceExt;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use serde_json::{Value, json};
use tokio::process::Child;

use crate::support::{
    Client, Log, call, close, expect_error, expect_ok, listed_rows, server_command, server_env,
};

/// How long a test waits for a change to reach a status before it fails.
const SETTLE: Duration = Duration::from_secs(60);

/// The versions every scenario runs on.
const VERSIONS: [Version; 3] = [Version::V26_1_9, Version::V26_1, Version::V26_7];

/// One write domain: its tools, a record to add, a change to make to it, and where the
/// simulator keeps it.
struct Domain {
    name: &'static str,
    collection: Collection,
    add: &'static str,
    update: &'static str,
    delete: &'static str,
    apply: &'static str,
    /// The argument holding the record (`alias`, `rule`, ...).
    key: &'static str,
    record: fn() -> Value,
    change: fn() -> Value,
    /// Further arguments every tool call of the domain takes (`backend` for DHCP).
    args: fn() -> Value,
}

fn no_args() -> Value {
    json!({})
}

/// `v` with the domain's own arguments added.
fn with_args(d: &Domain, mut v: Value) -> Value {
    if let (Some(o), Value::Object(extra)) = (v.as_object_mut(), (d.args)()) {
        o.extend(extra);
    }
    v
}

const DOMAINS: [Domain; 9] = [
    Domain {
        name: "aliases",
        collection: Collection::Aliases,
        add: "firewall_alias_add",
        update: "firewall_alias_update",
        delete: "firewall_alias_delete",
        apply: "firewall_alias_apply",
        key: "alias",
        record: || json!({"name": "e2e_safe", "type": "host", "content": ["10.9.0.1"], "description": "e2e safe change"}),
        change: || json!({"content": ["10.9.0.2", "10.9.0.3"]}),
        args: no_args,
    },
    Domain {
        name: "filter rules",
        collection: Collection::FilterRules,
        add: "firewall_rule_add",
        update: "firewall_rule_update",
        delete: "firewall_rule_delete",
        apply: "firewall_rule_apply",
        key: "rule",
        record: || json!({"action": "pass", "interface": ["opt1"], "protocol": "TCP", "source_net": "10.9.0.0/24", "destination_port": "8080", "description": "e2e safe change"}),
        change: || json!({"destination_port": "8081"}),
        args: no_args,
    },
    Domain {
        name: "port forwards",
        collection: Collection::PortForwards,
        add: "firewall_nat_add",
        update: "firewall_nat_update",
        delete: "firewall_nat_delete",
        apply: "firewall_nat_apply",
        key: "rule",
        record: || json!({"interface": ["wan"], "protocol": "tcp", "destination": {"network": "wanip", "port": "8443"}, "target": "192.168.1.10", "local_port": "443", "description": "e2e safe change"}),
        change: || json!({"local_port": "8443"}),
        args: no_args,
    },
    Domain {
        name: "routes",
        collection: Collection::Routes,
        add: "route_add",
        update: "route_update",
        delete: "route_delete",
        apply: "route_apply",
        key: "route",
        record: || json!({"network": "10.99.0.0/16", "gateway": "WAN_GW", "description": "e2e safe change"}),
        change: || json!({"description": "e2e safe change, edited"}),
        args: no_args,
    },
    Domain {
        name: "host overrides",
        collection: Collection::HostOverrides,
        add: "dns_host_override_add",
        update: "dns_host_override_update",
        delete: "dns_host_override_delete",
        apply: "dns_apply",
        key: "host",
        record: || json!({"hostname": "e2e-safe", "domain": "example.lan", "rr": "A", "server": "192.168.1.77", "description": "e2e safe change"}),
        change: || json!({"server": "192.168.1.78"}),
        args: no_args,
    },
    Domain {
        name: "Kea reservations",
        collection: Collection::Reservations,
        add: "dhcp_static_add",
        update: "dhcp_static_update",
        delete: "dhcp_static_delete",
        apply: "dhcp_apply",
        key: "reservation",
        record: || json!({"ip_address": "192.168.1.80", "hw_address": "00:0d:b9:4a:99:01", "hostname": "e2e-safe", "description": "e2e safe change"}),
        change: || json!({"ip_address": "192.168.1.81"}),
        args: || json!({"backend": "kea"}),
    },
    Domain {
        name: "Dnsmasq hosts",
        collection: Collection::DnsmasqHosts,
        add: "dhcp_static_add",
        update: "dhcp_static_update",
        delete: "dhcp_static_delete",
        apply: "dhcp_apply",
        key: "reservation",
        record: || json!({"ip_address": "192.168.1.220", "hw_address": "00:0d:b9:4a:99:02", "hostname": "e2e-safe", "domain": "lan.example", "description": "e2e safe change"}),
        change: || json!({"ip_address": "192.168.1.221"}),
        args: || json!({"backend": "dnsmasq"}),
    },
    Domain {
        name: "dns forwards",
        collection: Collection::Forwards,
        add: "dns_forward_add",
        update: "dns_forward_update",
        delete: "dns_forward_delete",
        apply: "dns_apply",
        key: "forward",
        record: || json!({"domain": "e2e.example", "server": "10.9.0.53", "port": 53, "description": "e2e safe change"}),
        change: || json!({"server": "10.9.0.54", "forward_first": true}),
        args: no_args,
    },
    Domain {
        name: "outbound NAT",
        collection: Collection::SourceNat,
        add: "firewall_snat_add",
        update: "firewall_snat_update",
        delete: "firewall_snat_delete",
        apply: "firewall_snat_apply",
        key: "rule",
        record: || json!({"interface": "wan", "source_net": "10.9.0.0/24", "target": "wanip", "description": "e2e safe change"}),
        change: || json!({"no_nat": true, "destination_net": "10.8.0.0/24"}),
        args: no_args,
    },
];

/// A server process over stdio with its own state directory; kept so a test can kill it.
pub struct Server {
    pub client: Client,
    child: Child,
    log: Log,
}

impl Server {
    pub async fn start(sim: &Simulator, state: &Path) -> Self {
        let mut env = server_env(sim);
        env.push(("OPNSENSE_STATE_DIR".into(), state.display().to_string()));
        let mut cmd = server_command(&["serve", "--transport", "stdio"], &env);
        cmd.stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn opnsense-mcp serve");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take().expect("stdin");
        let log = child.stderr.take().map(Log::drain).unwrap_or_default();
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("opnsense-mcp-e2e-changes", env!("CARGO_PKG_VERSION")),
        );
        let client = match tokio::time::timeout(SETTLE, info.serve((stdout, stdin))).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!("initialize failed: {e}\nstderr:\n{}", log.text()),
            Err(elapsed) => panic!("initialize: {elapsed}\nstderr:\n{}", log.text()),
        };
        Self { client, child, log }
    }

    /// Ends the session (EOF on stdin) and waits for the process to exit.
    pub async fn stop(mut self) -> String {
        close(self.client).await;
        let status = tokio::time::timeout(SETTLE, self.child.wait())
            .await
            .expect("the server exits after EOF")
            .expect("wait");
        assert!(
            status.success(),
            "exit {status}\nstderr:\n{}",
            self.log.text()
        );
        self.log.text()
    }

    /// SIGKILL: no shutdown code runs.
    async fn kill(mut self) {
        self.child.start_kill().expect("kill");
        let _ = self.child.wait().await;
        drop(self.client);
    }
}

async fn simulator(version: Version) -> Simulator {
    Simulator::start(SimConfig {
        version,
        // Both DHCP servers on: every DHCP call must then name its backend.
        dhcp: DhcpBackends::BOTH,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// The collection's records, staged and live, without OPNsense's write bookkeeping (`created`,
/// `updated`: who wrote a record when, which every write, a revert too, sets anew).
fn state(sim: &Simulator, c: Collection) -> (Vec<Value>, Vec<Value>) {
    let clean = |records: &[Value]| -> Vec<Value> {
        records
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if let Some(o) = r.as_object_mut() {
                    o.remove("created");
                    o.remove("updated");
                }
                r
            })
            .collect()
    };
    (clean(sim.staged().records(c)), clean(sim.live().records(c)))
}

/// Records without their uuid, sorted: a deleted record put back by a revert gets a new uuid
/// (OPNsense's API cannot add a record under a given one), everything else must be identical.
fn without_uuids(records: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(o) = r.as_object_mut() {
                o.remove("uuid");
            }
            r.to_string()
        })
        .collect();
    out.sort();
    out
}

pub fn uuid_of(tool: &str, result: &Value) -> String {
    expect_ok(tool, result)["uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("{tool} answered no uuid: {result}"))
        .to_owned()
}

/// Adds `d`'s sample record and returns its uuid.
async fn add_record(client: &Client, d: &Domain) -> String {
    let added = call(client, d.add, with_args(d, json!({d.key: (d.record)()}))).await;
    uuid_of(d.add, &added)
}

/// Applies and returns the change id (the change is pending).
async fn apply(client: &Client, d: &Domain, confirm_timeout_s: u32) -> String {
    let r = call(
        client,
        d.apply,
        with_args(d, json!({"confirm_timeout_s": confirm_timeout_s})),
    )
    .await;
    let s = expect_ok(d.apply, &r);
    assert_eq!(s["status"], "pending", "{}: {s}", d.name);
    assert_eq!(s["confirm_with"], "change_confirm", "{}: {s}", d.name);
    s["change_id"].as_str().expect("change_id").to_owned()
}

/// Polls `change_get` until the change has `status`.
async fn wait_for(client: &Client, change_id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let r = call(client, "change_get", json!({"change_id": change_id})).await;
        let change = expect_ok("change_get", &r)["change"].clone();
        if change["status"] == status {
            return change;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "change {change_id} never reached {status}: {change}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn confirm(client: &Client, change_id: &str) {
    let r = call(client, "change_confirm", json!({"change_id": change_id})).await;
    assert_eq!(
        expect_ok("change_confirm", &r)["change"]["status"],
        "confirmed"
    );
}

/// Every step of a domain's life through the change engine, checked on the simulator.
async fn lifecycle(sim: &Simulator, client: &Client, d: &Domain) {
    let c = d.collection;
    let original = state(sim, c);

    // Added, applied, not confirmed: reverted, and the firewall is exactly as before.
    let uuid = add_record(client, d).await;
    let change = apply(client, d, 1).await;
    assert!(
        sim.live().find(&uuid).is_some(),
        "{}: the added record is live while pending",
        d.name
    );
    let reverted = wait_for(client, &change, "reverted").await;
    assert_eq!(
        state(sim, c),
        original,
        "{}: an unconfirmed add must leave staged and live exactly as before: {reverted}",
        d.name
    );

    // Added, applied, confirmed: it stays.
    let uuid = add_record(client, d).await;
    let add_change = apply(client, d, 30).await;
    confirm(client, &add_change).await;
    let kept = state(sim, c);
    assert!(
        sim.live().find(&uuid).is_some(),
        "{}: confirmed add",
        d.name
    );
    assert_ne!(
        kept, original,
        "{}: the confirmed add changed nothing",
        d.name
    );

    // Updated, not confirmed: back to the confirmed record.
    let updated = call(
        client,
        d.update,
        with_args(d, json!({"uuid": uuid, d.key: (d.change)()})),
    )
    .await;
    expect_ok(d.update, &updated);
    let change = apply(client, d, 1).await;
    assert_ne!(state(sim, c).1, kept.1, "{}: the update is live", d.name);
    wait_for(client, &change, "reverted").await;
    assert_eq!(state(sim, c), kept, "{}: an unconfirmed update", d.name);

    // Deleted, not confirmed: put back (under a new uuid), every field as it was.
    let deleted = call(client, d.delete, with_args(d, json!({"uuid": uuid}))).await;
    expect_ok(d.delete, &deleted);
    let change = apply(client, d, 1).await;
    assert!(
        sim.live().find(&uuid).is_none(),
        "{}: deleted while pending",
        d.name
    );
    let back = wait_for(client, &change, "reverted").await;
    let now = state(sim, c);
    assert_eq!(
        without_uuids(&now.0),
        without_uuids(&kept.0),
        "{}: staged after an unconfirmed delete: {back}",
        d.name
    );
    assert_eq!(
        without_uuids(&now.1),
        without_uuids(&kept.1),
        "{}: live after an unconfirmed delete",
        d.name
    );
    let readded = back["records"][0]["readded_uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: the revert names the new uuid: {back}", d.name))
        .to_owned();

    // The re-added record was edited since the confirmed add: its rollback is refused, naming
    // the record, and changes nothing.
    let edited = call(
        client,
        d.update,
        with_args(d, json!({"uuid": readded, d.key: (d.change)()})),
    )
    .await;
    expect_ok(d.update, &edited);
    let edit_change = apply(client, d, 30).await;
    confirm(client, &edit_change).await;
    let before_rollback = state(sim, c);
    let refused = call(client, "change_rollback", json!({"change_id": add_change})).await;
    let text = expect_error("change_rollback", &refused);
    assert!(
        text.contains(&uuid) || text.contains(&readded),
        "{}: the conflict names the record: {text}",
        d.name
    );
    assert_eq!(
        state(sim, c),
        before_rollback,
        "{}: a refused rollback changes nothing",
        d.name
    );

    // The last change rolled back: the record is as the revert left it.
    let r = call(client, "change_rollback", json!({"change_id": edit_change})).await;
    assert_eq!(
        expect_ok("change_rollback", &r)["change"]["status"],
        "reverted",
        "{}",
        d.name
    );
    assert_eq!(
        without_uuids(&state(sim, c).1),
        without_uuids(&kept.1),
        "{}: rolled back",
        d.name
    );
}

/// The apply group of an apply tool: the grids one apply makes live together (host overrides
/// and forwards share `dns_apply`; the filter rules, port forwards and outbound NAT rules are
/// all configd `filter reload`, whichever of their three tools applies them).
fn apply_group(apply: &'static str) -> &'static str {
    match apply {
        "firewall_rule_apply" | "firewall_nat_apply" | "firewall_snat_apply" => "filter reload",
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_domain_reverts_unconfirmed_keeps_confirmed_and_rolls_back() {
    for version in VERSIONS {
        let sim = simulator(version).await;
        let state_dir = tempfile::tempdir().expect("state dir");
        let server = Server::start(&sim, state_dir.path()).await;
        // The domains run concurrently: the engine serialises per apply group, not globally.
        // Domains of one apply group run one after the other, since any apply of the group
        // makes every grid's staged writes live as one change.
        let mut groups: Vec<&str> = Vec::new();
        for d in &DOMAINS {
            if !groups.contains(&apply_group(d.apply)) {
                groups.push(apply_group(d.apply));
            }
        }
        let (sim_ref, client) = (&sim, &server.client);
        let runs = groups.into_iter().map(|group| async move {
            for d in DOMAINS.iter().filter(|d| apply_group(d.apply) == group) {
                lifecycle(sim_ref, client, d).await;
            }
        });
        futures_join_all(runs).await;
        let log = server.stop().await;
        assert!(
            !log.contains(sim.api_secret()),
            "the secret reached the log"
        );
        sim.shutdown().await;
    }
}

/// `join_all` without another dependency: the futures run concurrently on this task.
async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut set: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    std::future::poll_fn(move |cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

/// Paths that write: every POST but the searches (OPNsense's reads by POST).
fn writes(sim: &Simulator, from: usize) -> Vec<String> {
    sim.requests()
        .into_iter()
        .skip(from)
        .filter(|r| {
            r.method == "POST"
                && !r
                    .path
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .starts_with("search")
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_sends_no_write_and_says_what_it_would_send() {
    let sim = simulator(Version::V26_1).await;
    let state_dir = tempfile::tempdir().expect("state dir");
    let server = Server::start(&sim, state_dir.path()).await;
    let client = &server.client;
    for d in &DOMAINS {
        let before = (sim.staged(), sim.live());
        let existing = sim.staged().records(d.collection)[0]["uuid"]
            .as_str()
            .expect("a seeded record")
            .to_owned();
        let from = sim.requests().len();
        for (tool, args) in [
            (d.add, json!({"dry_run": true, d.key: (d.record)()})),
            (
                d.update,
                json!({"dry_run": true, "uuid": existing, d.key: (d.change)()}),
            ),
            (d.delete, json!({"dry_run": true, "uuid": existing})),
            (d.apply, json!({"dry_run": true})),
        ] {
            let r = call(client, tool, with_args(d, args)).await;
            let s = expect_ok(tool, &r);
            assert_eq!(s["dry_run"], true, "{tool}: {s}");
            let planned = s["calls"].as_array().map_or(0, Vec::len);
            assert!(
                planned > 0,
                "{tool}: a dry run lists the calls it would make: {s}"
            );
        }
        assert_eq!(
            writes(&sim, from),
            Vec::<String>::new(),
            "{}: a dry run wrote",
            d.name
        );
        assert_eq!(
            (sim.staged(), sim.live()),
            before,
            "{}: a dry run changed the firewall",
            d.name
        );
    }
    server.stop().await;
    sim.shutdown().await;
}

/// A Dnsmasq host without MAC address and client id is a DNS host entry, which
/// `dhcp_static_list` does not show: `dhcp_static_update` and `dhcp_static_delete` refuse its
/// uuid, and an update may not clear a reservation's only MAC address (OPNsense would keep the
/// host as a DNS entry). Nothing is written; the simulator stores such hosts as OPNsense does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dhcp_writes_refuse_a_dnsmasq_dns_host_entry_and_keep_a_reservation_one() {
    let sim = simulator(Version::V26_1).await;
    let state_dir = tempfile::tempdir().expect("state dir");
    let server = Server::start(&sim, state_dir.path()).await;
    let client = &server.client;
    let uuid_of_host = |name: &str| {
        sim.staged()
            .records(Collection::DnsmasqHosts)
            .iter()
            .find(|r| r["host"] == name)
            .and_then(|r| r["uuid"].as_str())
            .expect("a seeded host")
            .to_owned()
    };
    let (wiki, nas2) = (uuid_of_host("wiki"), uuid_of_host("nas2"));
    let listed = call(client, "dhcp_static_list", json!({"backend": "dnsmasq"})).await;
    let rows = listed_rows(expect_ok("dhcp_static_list", &listed));
    assert!(rows.iter().any(|r| r["uuid"] == nas2), "{rows:?}");
    assert!(!rows.iter().any(|r| r["uuid"] == wiki), "{rows:?}");

    let before = (sim.staged(), sim.live());
    let from = sim.requests().len();
    for (tool, args) in [
        (
            "dhcp_static_update",
            json!({"backend": "dnsmasq", "uuid": wiki, "reservation": {"hw_address": "00:0d:b9:4a:99:03"}}),
        ),
        (
            "dhcp_static_update",
            json!({"backend": "dnsmasq", "uuid": wiki, "reservation": {"description": "x"}, "dry_run": true}),
        ),
        (
            "dhcp_static_delete",
            json!({"backend": "dnsmasq", "uuid": wiki}),
        ),
    ] {
        let text = expect_error(tool, &call(client, tool, args).await);
        assert!(
            text.contains("invalid argument uuid") && text.contains("DNS host entry"),
            "{tool}: {text}"
        );
        assert!(text.contains(&wiki), "{tool} names the uuid: {text}");
    }
    let text = expect_error(
        "dhcp_static_update",
        &call(
            client,
            "dhcp_static_update",
            json!({"backend": "dnsmasq", "uuid": nas2, "reservation": {"hw_address": ""}}),
        )
        .await,
    );
    assert!(
        text.contains("invalid argument reservation.hw_address"),
        "{text}"
    );
    assert_eq!(writes(&sim, from), Vec::<String>::new(), "nothing written");
    assert_eq!((sim.staged(), sim.live()), before);

    // The reservation itself is still changed and deleted as before.
    let r = call(
        client,
        "dhcp_static_update",
        json!({"backend": "dnsmasq", "uuid": nas2, "reservation": {"description": "Second NAS, rack 2"}}),
    )
    .await;
    expect_ok("dhcp_static_update", &r);
    let r = call(
        client,
        "dhcp_static_delete",
        json!({"backend": "dnsmasq", "uuid": nas2}),
    )
    .await;
    expect_ok("dhcp_static_delete", &r);
    assert_eq!(
        writes(&sim, from),
        [
            format!("POST /api/dnsmasq/settings/setHost/{nas2}"),
            format!("POST /api/dnsmasq/settings/delHost/{nas2}"),
        ]
    );
    server.stop().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_reverts_its_unconfirmed_change_when_it_starts_again() {
    for version in VERSIONS {
        let sim = simulator(version).await;
        let state_dir = tempfile::tempdir().expect("state dir");
        let original = (sim.staged(), sim.live());
        let d = &DOMAINS[1];
        let server = Server::start(&sim, state_dir.path()).await;
        let uuid = add_record(&server.client, d).await;
        let change = apply(&server.client, d, 1).await;
        server.kill().await;
        // Nothing watches the change now: it is still live.
        assert!(
            sim.live().find(&uuid).is_some(),
            "{version:?}: live after SIGKILL"
        );
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // Its time is up: the next start reverts it before serving.
        let server = Server::start(&sim, state_dir.path()).await;
        let reverted = wait_for(&server.client, &change, "reverted").await;
        assert!(
            reverted["detail"]["revert"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("restart")),
            "{version:?}: {reverted}"
        );
        assert_eq!(
            (sim.staged(), sim.live()),
            original,
            "{version:?}: after the restart"
        );
        server.stop().await;
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_before_the_deadline_keeps_the_timer() {
    let sim = simulator(Version::V26_7).await;
    let state_dir = tempfile::tempdir().expect("state dir");
    let original = (sim.staged(), sim.live());
    let d = &DOMAINS[0];
    let server = Server::start(&sim, state_dir.path()).await;
    let uuid = add_record(&server.client, d).await;
    let change = apply(&server.client, d, 8).await;
    server.kill().await;
    let server = Server::start(&sim, state_dir.path()).await;
    // Still pending after the restart: confirming it is still possible...
    let r = call(&server.client, "change_get", json!({"change_id": change})).await;
    assert_eq!(expect_ok("change_get", &r)["change"]["status"], "pending");
    assert!(sim.live().find(&uuid).is_some());
    // ...and left alone, the re-armed timer reverts it.
    wait_for(&server.client, &change, "reverted").await;
    assert_eq!((sim.staged(), sim.live()), original);
    server.stop().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_exits_reverts_what_is_still_pending() {
    let sim = simulator(Version::V26_1).await;
    let state_dir = tempfile::tempdir().expect("state dir");
    let original = (sim.staged(), sim.live());
    let d = &DOMAINS[3];
    let server = Server::start(&sim, state_dir.path()).await;
    let uuid = add_record(&server.client, d).await;
    apply(&server.client, d, 600).await;
    assert!(sim.live().find(&uuid).is_some());
    let log = server.stop().await;
    assert_eq!(
        (sim.staged(), sim.live()),
        original,
        "reverted at exit; log:\n{log}"
    );
    assert!(log.contains("at shutdown"), "the log says why: {log}");
    sim.shutdown().await;
}

/// A rule that blocks every new TCP connection to the firewall's LAN address: the server's own
/// path to the simulator (127.0.0.1 is the LAN address there).
fn lockout_rule() -> Value {
    lockout_rule_with("block")
}

/// [`lockout_rule`] with `action` (`block` or `reject`).
pub fn lockout_rule_with(action: &str) -> Value {
    json!({"rule": {"action": action, "interface": ["lan"], "protocol": "TCP", "source_net": "any", "destination_net": "lanip", "sequence": 1, "description": "e2e lockout"}})
}

/// A simulator of `version` that emulates pf cutting this server off (`lockout`).
async fn lockout_simulator(version: Version) -> Simulator {
    Simulator::start(SimConfig {
        version,
        lockout: true,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// Forces `firewall_rule_apply` (a lockout rule staged) and asserts that the change was
/// reverted: the answer says `REVERTED` and `says`, the lockout is lifted and the live filter
/// rules are `live_before` again; `case` names the case in a failure. Returns how long the
/// apply took.
pub async fn forced_apply_is_reverted(
    client: &Client,
    sim: &Simulator,
    live_before: &[Value],
    says: &str,
    case: &str,
) -> std::time::Duration {
    let started = std::time::Instant::now();
    let forced = call(client, "firewall_rule_apply", json!({"force": true})).await;
    let elapsed = started.elapsed();
    let text = expect_error("firewall_rule_apply", &forced);
    assert!(text.contains("REVERTED"), "{case}: {text}");
    assert!(
        text.contains(says),
        "{case}: the answer says {says:?}: {text}"
    );
    assert!(!sim.is_locked_out(), "{case}: the lockout is lifted");
    assert_eq!(
        sim.live().records(Collection::FilterRules),
        live_before,
        "{case}: live rules as before"
    );
    elapsed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_that_cuts_this_server_off_is_refused_and_forced_it_is_reverted() {
    for version in [Version::V26_1, Version::V26_7] {
        let sim = lockout_simulator(version).await;
        let state_dir = tempfile::tempdir().expect("state dir");
        let server = Server::start(&sim, state_dir.path()).await;
        let client = &server.client;
        let live_before = sim.live().records(Collection::FilterRules).to_vec();
        let added = call(client, "firewall_rule_add", lockout_rule()).await;
        let uuid = uuid_of("firewall_rule_add", &added);

        // The pre-flight sees it: refused, the rule named, nothing applied.
        let refused = call(client, "firewall_rule_apply", json!({})).await;
        let text = expect_error("firewall_rule_apply", &refused);
        assert!(
            text.contains(&uuid) || text.contains("e2e lockout"),
            "{version:?}: the refusal names the rule: {text}"
        );
        assert!(
            text.contains("force"),
            "{version:?}: says how to override: {text}"
        );
        assert!(!sim.is_locked_out(), "{version:?}: nothing was applied");
        assert_eq!(
            sim.live().records(Collection::FilterRules),
            live_before.as_slice()
        );

        // Forced: applied, the probe over a new connection fails, and the change is reverted
        // through the connection kept open across the apply.
        let case = format!("{version:?}");
        let elapsed =
            forced_apply_is_reverted(client, &sim, &live_before, "new connection", &case).await;
        eprintln!("{version:?}: forced lockout apply to reverted: {elapsed:?}");
        server.stop().await;
        sim.shutdown().await;
    }
}

/// An outbound NAT apply runs configd `filter reload` like a filter apply (one PHP method,
/// `FilterBaseController::applyAction`), so it makes a staged filter rule live: the lockout
/// pre-flight refuses it, naming the filter rule; forced, the one change (the filter rule and
/// the outbound NAT rule) is applied, the probe over a new connection fails, and both are
/// reverted, staged and live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbound_nat_apply_making_a_lockout_rule_live_is_refused_and_forced_it_is_reverted() {
    let snat = DOMAINS
        .iter()
        .find(|d| d.apply == "firewall_snat_apply")
        .expect("the outbound NAT domain");
    for version in [Version::V26_1, Version::V26_7] {
        let sim = lockout_simulator(version).await;
        let state_dir = tempfile::tempdir().expect("state dir");
        let server = Server::start(&sim, state_dir.path()).await;
        let client = &server.client;
        let before = [Collection::FilterRules, Collection::SourceNat].map(|c| (c, state(&sim, c)));
        let rule = uuid_of(
            "firewall_rule_add",
            &call(client, "firewall_rule_add", lockout_rule()).await,
        );
        let nat = uuid_of(
            "firewall_snat_add",
            &call(
                client,
                "firewall_snat_add",
                json!({"rule": (snat.record)()}),
            )
            .await,
        );

        // The outbound NAT apply would load the filter rule too: refused, the rule named.
        let refused = call(client, "firewall_snat_apply", json!({})).await;
        let text = expect_error("firewall_snat_apply", &refused);
        assert!(
            text.contains(&rule) || text.contains("e2e lockout"),
            "{version:?}: the refusal names the filter rule: {text}"
        );
        assert!(text.contains("force"), "{version:?}: {text}");
        assert!(!sim.is_locked_out(), "{version:?}: nothing was applied");
        for (c, (_, live)) in &before {
            assert_eq!(
                &state(&sim, *c).1,
                live,
                "{version:?}: {c:?} live as before"
            );
        }

        // Forced: applied (the simulator loads the filter rule with the outbound NAT rule), the
        // probe fails, and the one change is reverted in both grids.
        let forced = call(client, "firewall_snat_apply", json!({"force": true})).await;
        let text = expect_error("firewall_snat_apply", &forced);
        assert!(text.contains("REVERTED"), "{version:?}: {text}");
        assert!(text.contains("new connection"), "{version:?}: {text}");
        assert!(!sim.is_locked_out(), "{version:?}: the lockout is lifted");
        for (c, was) in &before {
            assert_eq!(
                &state(&sim, *c),
                was,
                "{version:?}: {c:?} staged and live as before"
            );
        }
        let changes = call(client, "change_list", json!({})).await;
        let listed = expect_ok("change_list", &changes).to_string();
        assert!(
            listed.contains(&rule) && listed.contains(&nat),
            "{version:?}: the change holds both writes: {listed}"
        );
        server.stop().await;
        sim.shutdown().await;
    }
}
