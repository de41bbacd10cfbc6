//! `kea/*`: DHCPv4 reservations and subnets (CRUD, applied by `kea/service/reconfigure`),
//! leases search and the `dhcpv4/get` settings sections.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{IFACES, interface_options};
use crate::Version;
use crate::crud::{Actions, AreaSpec};
use crate::fields::{
    self, FieldSpec, Input, Opt, boolean, description, int, keys_as_opts, masked, multi,
    opt_boolean, opts, select, text,
};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, Record, SimState};
use crate::validate::{self, Hostname, Validations};

fn subnet_options(cfg: &Config) -> Vec<Opt> {
    cfg[Collection::Subnets]
        .iter()
        .map(|s| Opt::new(s.uuid.clone(), s.get("subnet")))
        .collect()
}

fn no_options(_: &Config) -> Vec<Opt> {
    Vec::new()
}

/// Reservation fields in model order.
pub(crate) static RESERVATION_FIELDS: &[FieldSpec] = &[
    select("subnet", subnet_options, None)
        .req()
        .msg("Related subnet not found."),
    text("ip_address").input(Input::TrimLower),
    text("hw_address").input(Input::Trim),
    masked("client_id", is_client_id)
        .msg("Value must be a colon-separated hexadecimal sequence (e.g., 01:02:f3)."),
    text("hostname").input(Input::Trim),
    description("description"),
    text("next_server").input(Input::TrimLower),
    text("option_data.domain_name_servers"),
    text("option_data.domain_search"),
    text("option_data.routers"),
    text("option_data.static_routes"),
    text("option_data.classless_static_route"),
    text("option_data.domain_name"),
    text("option_data.ntp_servers"),
    text("option_data.time_servers"),
    text("option_data.tftp_server_name"),
    text("option_data.boot_file_name"),
    multi("option", no_options),
];

fn allocator_options(_: &Config) -> Vec<Opt> {
    opts(&[
        ("iterative", "Iterative"),
        ("random", "Random"),
        ("flq", "Free Lease Queue"),
    ])
}

fn key_algorithm_options(_: &Config) -> Vec<Opt> {
    keys_as_opts(&[
        "hmac-md5",
        "hmac-sha1",
        "hmac-sha224",
        "hmac-sha256",
        "hmac-sha384",
        "hmac-sha512",
    ])
}

fn conflict_mode_options(_: &Config) -> Vec<Opt> {
    keys_as_opts(&[
        "no-check-with-dhcid",
        "check-exists-with-dhcid",
        "no-check-without-dhcid",
    ])
}

/// Subnet fields in model order (`KeaDhcpv4.xml` `subnets.subnet4`; 26.7 adds the
/// AutoNumberField `subnet_id`). The endpoints served for subnets are read-only.
pub(crate) static SUBNET_FIELDS: &[FieldSpec] = &[
    text("subnet_id").req().since(Version::V26_7),
    text("subnet").req().input(Input::TrimLower),
    int("valid_lifetime", 0, i64::MAX),
    text("next_server").input(Input::TrimLower),
    boolean("option_data_autocollect", "1"),
    text("option_data.domain_name_servers").input(Input::TrimLower),
    text("option_data.domain_search").input(Input::Trim),
    text("option_data.routers").input(Input::TrimLower),
    text("option_data.static_routes"),
    text("option_data.classless_static_route"),
    text("option_data.domain_name").input(Input::Trim),
    text("option_data.ntp_servers").input(Input::TrimLower),
    text("option_data.time_servers").input(Input::TrimLower),
    text("option_data.tftp_server_name"),
    text("option_data.boot_file_name"),
    int("option_data.v6_only_preferred", 300, i64::MAX),
    text("option_data.v4_dnr"),
    multi("option", no_options),
    boolean("match-client-id", "1"),
    select("allocator", allocator_options, Some("Default")),
    text("pools"),
    text("ddns_forward_zone").input(Input::Trim),
    text("ddns_reverse_zone").input(Input::Trim),
    text("ddns_qualifying_suffix").input(Input::Trim),
    text("ddns_dns_server").input(Input::TrimLower),
    text("ddns_dns_port").input(Input::Port),
    text("ddns_domain_key_name"),
    text("ddns_domain_key_secret"),
    select(
        "ddns_domain_key_algorithm",
        key_algorithm_options,
        Some("None"),
    ),
    opt_boolean("ddns_override_no_update"),
    opt_boolean("ddns_override_client_update"),
    opt_boolean("ddns_update_on_renew"),
    select(
        "ddns_conflict_resolution_mode",
        conflict_mode_options,
        Some("check-with-dhcid (default)"),
    ),
    description("description"),
];

/// AutoNumberField `subnet_id` (26.7): the first number from 1 not used by a subnet.
fn prepare_subnet(cfg: &Config, rec: &mut Record) {
    let used: Vec<&str> = cfg[Collection::Subnets]
        .iter()
        .map(|s| s.get("subnet_id"))
        .collect();
    let free = (1..=u64::try_from(used.len())
        .unwrap_or(u64::MAX)
        .saturating_add(1))
        .find(|n| !used.contains(&n.to_string().as_str()));
    if rec.fields.contains_key("subnet_id") {
        rec.set("subnet_id", free.unwrap_or(1).to_string());
    }
}

/// `client_id` mask `/^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)$/`: at least two hex pairs.
fn is_client_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() >= 2 && parts.iter().all(|p| validate::is_hex_pair(p))
}

/// `hostname`: HostnameField with `IsDNSName` (IP addresses allowed).
const HOSTNAME: Hostname = Hostname {
    dns_name: true,
    ..Hostname::DEFAULTS
};

fn subnet_of(cfg: &Config, uuid: &str) -> Option<(Ipv4Addr, u8)> {
    let subnet = cfg[Collection::Subnets].iter().find(|s| s.uuid == uuid)?;
    match validate::parse_cidr(subnet.get("subnet"))? {
        (IpAddr::V4(net), bits) => Some((net, bits)),
        _ => None,
    }
}

/// Another reservation with the same values in `fields` (UniqueConstraint; an empty,
/// non-required field is never a duplicate).
fn duplicate(cfg: &Config, rec: &Record, fields: &[&str], case_insensitive: bool) -> bool {
    let key = |r: &Record| {
        let joined = fields
            .iter()
            .map(|f| r.get(f))
            .collect::<Vec<_>>()
            .join("\n");
        if case_insensitive {
            joined.to_lowercase()
        } else {
            joined
        }
    };
    let mine = key(rec);
    cfg[Collection::Reservations]
        .iter()
        .any(|r| r.uuid != rec.uuid && key(r) == mine)
}

/// KeaDhcpv4.xml field validators and `KeaDhcpv4::performValidation()` (26.1.10 and
/// 26.7.2 alike).
fn validate_reservation(cfg: &Config, rec: &Record, _: &Req, v: &mut Validations) {
    let ip = rec.get("ip_address");
    if !ip.is_empty() {
        // NetworkField ipv4 without mask; `any` passes (WildcardEnabled).
        if ip != "any" && !validate::is_network_value(ip, false, true) {
            v.add("ip_address", validate::NETWORK);
        }
        if duplicate(cfg, rec, &["ip_address"], false) {
            v.add("ip_address", "Duplicate entry exists.");
        }
    }
    let mac = rec.get("hw_address");
    if !mac.is_empty() {
        if !validate::is_mac(mac) {
            v.add("hw_address", "Invalid MAC address.");
        }
        if duplicate(cfg, rec, &["hw_address", "subnet"], true) {
            v.add("hw_address", "Duplicate entry exists.");
        }
    }
    let client_id = rec.get("client_id");
    if !client_id.is_empty() && duplicate(cfg, rec, &["client_id", "subnet"], false) {
        v.add("client_id", "Duplicate entry exists.");
    }
    HOSTNAME.check(v, "hostname", rec.get("hostname"));
    let next_server = rec.get("next_server");
    if !next_server.is_empty()
        && next_server != "any"
        && !validate::is_network_value(next_server, false, true)
    {
        v.add("next_server", validate::NETWORK);
    }
    // performValidation(): `Util::isIPInCIDR(ip, subnet)` is false for an empty or
    // invalid address and for an unknown subnet.
    let in_subnet = match (ip.parse::<Ipv4Addr>(), subnet_of(cfg, rec.get("subnet"))) {
        (Ok(addr), Some((net, bits))) => validate::v4_in_subnet(addr, net, bits),
        _ => false,
    };
    if !in_subnet {
        v.add("ip_address", "Address not in specified subnet");
    }
    let (mac_empty, id_empty) = (validate::php_empty(mac), validate::php_empty(client_id));
    if !id_empty && !mac_empty {
        v.add(
            "hw_address",
            "Either a client ID or a MAC address should be specified, but not both",
        );
    } else if id_empty && mac_empty {
        v.add(
            "hw_address",
            "Either a client ID or a MAC address should be specified.",
        );
    }
}

/// The reservation area for the generic engine.
pub(crate) static RESERVATIONS: AreaSpec = AreaSpec {
    collection: Collection::Reservations,
    wrapper: "reservation",
    fields: RESERVATION_FIELDS,
    default_sort: "hw_address",
    validate: validate_reservation,
    ..AreaSpec::DEFAULT
};

/// The subnet area (read-only endpoints are served).
pub(crate) static SUBNETS: AreaSpec = AreaSpec {
    collection: Collection::Subnets,
    wrapper: "subnet4",
    fields: SUBNET_FIELDS,
    default_sort: "subnet",
    prepare_new: prepare_subnet,
    ..AreaSpec::DEFAULT
};

const RESERVATION_ACTIONS: Actions = Actions {
    search: Some("searchreservation"),
    get: Some("getreservation"),
    add: Some("addreservation"),
    set: Some("setreservation"),
    del: Some("delreservation"),
    toggle: None,
};

const SUBNET_ACTIONS: Actions = Actions {
    search: Some("searchsubnet"),
    get: Some("getsubnet"),
    add: None,
    set: None,
    del: None,
    toggle: None,
};

/// Endpoints of `kea/leases4` and `kea/dhcpv4`.
pub(crate) fn route(controller: &str, action: &str) -> Option<Route> {
    match (controller, action) {
        ("Leases4", "search") => Route::new(search_leases),
        ("Dhcpv4", "get") => Route::new(get_settings),
        ("Dhcpv4", _) => RESERVATIONS
            .crud(action, &RESERVATION_ACTIONS)
            .or_else(|| SUBNETS.crud(action, &SUBNET_ACTIONS)),
        _ => None,
    }
}

/// `leases4/search`: recordset over the leases, optional `selected_interfaces`.
fn search_leases(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let params = SearchParams::recordset(req);
    let selected: Option<Vec<String>> = match req.body.get("selected_interfaces") {
        Some(Value::Array(a)) if !a.is_empty() => Some(
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    };
    let reserved: Vec<String> = st.live[Collection::Reservations]
        .iter()
        .map(|r| r.get("hw_address").to_ascii_lowercase())
        .collect();
    let rows: Vec<Map<String, Value>> = st
        .leases
        .iter()
        .filter(|l| {
            selected.as_ref().is_none_or(|s| {
                l.get("if_name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| s.iter().any(|x| x == n))
            })
        })
        .filter_map(|l| l.as_object().cloned())
        .map(|mut row| {
            let mac = row
                .get("hwaddr")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let is_reserved = if reserved.iter().any(|r| r == mac) {
                json!(["hwaddr"])
            } else {
                json!([])
            };
            row.insert("is_reserved".into(), is_reserved);
            row
        })
        .collect();
    let mut answer = search::recordset(rows, &params, "");
    let mut interfaces = Map::new();
    for i in IFACES.iter().filter(|i| i.key == "lan") {
        interfaces.insert(i.key.into(), Value::String(i.descr.into()));
    }
    answer["interfaces"] = Value::Object(interfaces);
    Reply::ok(answer)
}

fn socket_type_options(_: &Config) -> Vec<Opt> {
    opts(&[("udp", "udp"), ("raw", "raw")])
}

fn compatibility_options(_: &Config) -> Vec<Opt> {
    keys_as_opts(&[
        "exclude-first-last-24",
        "ignore-dhcp-server-identifier",
        "ignore-rai-link-selection",
        "lenient-option-parsing",
    ])
}

/// `dhcpv4/get`: only `general`, `lexpire` and `ha` (GET only). `enabled` and the `lan`
/// interface as the simulated firewall runs Kea ([`crate::DhcpBackends`]).
fn get_settings(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_get {
        return Reply::empty_list();
    }
    let cfg = &st.staged;
    let (enabled, interfaces) = if shared.config.dhcp.kea {
        ("1", "lan")
    } else {
        ("0", "")
    };
    Reply::ok(json!({"dhcpv4": {
        "general": {
            "enabled": enabled,
            "manual_config": "0",
            "interfaces": fields::option_map(&interface_options(cfg), interfaces, true, None),
            "service_sockets_max_retries": "",
            "service_sockets_retry_wait_time": "",
            "valid_lifetime": "4000",
            "decline_probation_period": "",
            "fwrules": "1",
            "dhcp_socket_type": fields::option_map(&socket_type_options(cfg), "raw", false, None),
            "compatibility": fields::option_map(&compatibility_options(cfg), "", true, None)
        },
        "lexpire": {
            "hold_reclaimed_time": "", "reclaim_timer_wait_time": "",
            "flush_reclaimed_timer_wait_time": "", "max_reclaim_time": "",
            "max_reclaim_leases": "", "unwarned_reclaim_cycles": ""
        },
        "ha": {"enabled": "0", "this_server_name": "", "max_unacked_clients": "2", "%this_server_name": "OPNsense"}
    }}))
}
