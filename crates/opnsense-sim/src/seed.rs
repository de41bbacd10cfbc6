//! Deterministic seed data: a small realistic firewall plus optional bulk rules and
//! leases for benchmarks, and the seeded RNG.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::areas::{alias, dnat, dnsmasq, filter, kea, routes, services, snat, unbound};
use crate::backups::{Backups, Revision};
use crate::crud::AreaSpec;
use crate::state::{Category, Collection, Config, Record, RequestLog, ServiceState, SimState};
use crate::{SimConfig, Version};

/// splitmix64: tiny, fast and deterministic across platforms.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        // 53 random mantissa bits; the cast is exact.
        #[allow(clippy::cast_precision_loss)]
        let v = (self.next_u64() >> 11) as f64;
        v / 9_007_199_254_740_992.0 // 2^53
    }

    /// A random version-4 uuid.
    pub fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }

    /// A locally administered unicast MAC address.
    pub fn mac(&mut self) -> String {
        let b = self.next_u64().to_le_bytes();
        format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            (b[0] & 0xfe) | 0x02,
            b[1],
            b[2],
            b[3],
            b[4],
            b[5]
        )
    }
}

/// Builds a record of `area` with defaults, then sets `values`.
fn record(
    area: &AreaSpec,
    cfg: &Config,
    version: Version,
    rng: &mut Rng,
    values: &[(&str, &str)],
) -> Record {
    let mut rec = area.template(cfg, version, rng.uuid());
    for (k, v) in values {
        rec.set(k, *v);
    }
    rec
}

fn seed_aliases(cfg: &mut Config, version: Version, rng: &mut Rng) {
    let web = cfg.categories[0].uuid.clone();
    let entries: Vec<Vec<(&str, String)>> = vec![
        vec![
            ("name", "webservers".into()),
            ("type", "host".into()),
            ("content", "192.168.1.10\n192.168.1.11".into()),
            ("categories", web),
            ("description", "Web servers".into()),
        ],
        vec![
            ("name", "web_ports".into()),
            ("type", "port".into()),
            ("content", "80\n443\n8000:8100".into()),
            ("description", "Web ports".into()),
        ],
        vec![
            ("name", "rfc1918".into()),
            ("type", "network".into()),
            (
                "content",
                "10.0.0.0/8\n172.16.0.0/12\n192.168.0.0/16".into(),
            ),
            ("description", "Private networks".into()),
        ],
        vec![
            ("name", "dmz_net".into()),
            ("type", "network".into()),
            ("content", "10.0.10.0/24".into()),
            ("description", "DMZ network".into()),
        ],
        vec![
            ("name", "admin_hosts".into()),
            ("type", "host".into()),
            ("content", "192.168.1.20\n192.168.1.21".into()),
            ("description", "Administrator workstations".into()),
        ],
        vec![
            ("name", "internal_nets".into()),
            ("type", "networkgroup".into()),
            ("content", "rfc1918\ndmz_net".into()),
            ("description", "All internal networks".into()),
        ],
    ];
    for e in entries {
        let values: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let rec = record(&alias::AREA, cfg, version, rng, &values);
        cfg[Collection::Aliases].push(rec);
    }
}

fn seed_rules(cfg: &mut Config, version: Version, rng: &mut Rng, extra: usize) {
    let web = cfg.categories[0].uuid.clone();
    let mgmt = cfg.categories[1].uuid.clone();
    let rules: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("interface", "lan"),
            ("protocol", "TCP"),
            ("source_net", "lan"),
            ("destination_net", "webservers"),
            ("destination_port", "https"),
            ("categories", &web),
            ("description", "Allow LAN to web servers"),
        ],
        vec![
            ("interface", "lan"),
            ("protocol", "TCP"),
            ("source_net", "admin_hosts"),
            ("destination_net", "(self)"),
            ("destination_port", "ssh"),
            ("categories", &mgmt),
            ("description", "Admin SSH to firewall"),
        ],
        vec![
            ("interface", "lan"),
            ("source_net", "lan"),
            ("description", "Default allow LAN to any rule"),
        ],
        vec![
            ("interface", "lan"),
            ("ipprotocol", "inet6"),
            ("source_net", "lan"),
            ("description", "Default allow LAN IPv6 to any rule"),
        ],
        vec![
            ("interface", "opt1"),
            ("protocol", "TCP/UDP"),
            ("source_net", "opt1"),
            ("destination_net", "opt1ip"),
            ("destination_port", "domain"),
            ("description", "Allow DMZ DNS to firewall"),
        ],
        vec![
            ("interface", "opt1"),
            ("action", "block"),
            ("source_net", "opt1"),
            ("destination_net", "lan"),
            ("log", "1"),
            ("description", "Block DMZ to LAN"),
        ],
        vec![
            ("interface", "opt1"),
            ("protocol", "TCP"),
            ("source_net", "opt1"),
            ("destination_port", "web_ports"),
            ("description", "Allow DMZ web out"),
        ],
        vec![
            ("interface", "wan"),
            ("protocol", "TCP"),
            ("destination_net", "webservers"),
            ("destination_port", "https"),
            ("categories", &web),
            ("description", "Allow HTTPS to web servers"),
        ],
        vec![
            ("interface", "wan"),
            ("protocol", "ICMP"),
            ("icmptype", "echoreq"),
            ("destination_net", "wanip"),
            ("description", "Allow ping to WAN address"),
        ],
        vec![
            ("interface", "wan"),
            ("action", "block"),
            ("source_net", "bogons"),
            ("log", "1"),
            ("description", "Block bogon networks"),
        ],
        vec![
            ("interface", ""),
            ("direction", "out"),
            ("protocol", "UDP"),
            ("destination_port", "ntp"),
            ("description", "Allow NTP out (floating)"),
        ],
        vec![
            ("enabled", "0"),
            ("interface", "wan"),
            ("protocol", "TCP"),
            ("destination_net", "10.0.10.25"),
            ("destination_port", "ftp"),
            ("description", "Legacy FTP to DMZ (disabled)"),
        ],
    ];
    for values in rules {
        let mut rec = record(&filter::AREA, cfg, version, rng, &values);
        rec.set(
            "sequence",
            ((cfg[Collection::FilterRules].len() + 1) * 100).to_string(),
        );
        filter::update_sort_order(&mut rec);
        cfg[Collection::FilterRules].push(rec);
    }
    let ports = ["80", "443", "22", "8080", "25", "993"];
    let ifaces = ["lan", "opt1", "wan"];
    for i in 0..extra {
        let port = ports[i % ports.len()];
        let iface = ifaces[i % ifaces.len()];
        let dest = format!(
            "10.{}.{}.{}/32",
            50 + (i / 65_536) % 100,
            (i / 256) % 256,
            i % 256
        );
        let descr = format!("Generated rule {}", i + 1);
        let action = if i % 7 == 3 { "block" } else { "pass" };
        let values = [
            ("interface", iface),
            ("action", action),
            ("protocol", "TCP"),
            ("destination_net", dest.as_str()),
            ("destination_port", port),
            ("description", descr.as_str()),
        ];
        let mut rec = record(&filter::AREA, cfg, version, rng, &values);
        // Generated rules must never lock the API out: they target hosts, not (self).
        rec.set(
            "sequence",
            ((cfg[Collection::FilterRules].len() + 1) * 100).to_string(),
        );
        filter::update_sort_order(&mut rec);
        cfg[Collection::FilterRules].push(rec);
    }
}

fn seed_port_forwards(cfg: &mut Config, version: Version, rng: &mut Rng) {
    let forwards: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("interface", "wan"),
            ("ipprotocol", "inet"),
            ("protocol", "tcp"),
            ("source.network", "any"),
            ("destination.network", "wanip"),
            ("destination.port", "443"),
            ("target", "192.168.1.10"),
            ("local-port", "443"),
            ("category", "Web"),
            ("descr", "HTTPS to web server"),
        ],
        vec![
            ("interface", "wan"),
            ("ipprotocol", "inet"),
            ("protocol", "tcp"),
            ("source.network", "any"),
            ("destination.network", "wanip"),
            ("destination.port", "2222"),
            ("target", "192.168.1.20"),
            ("local-port", "22"),
            ("descr", "SSH to admin workstation"),
        ],
    ];
    for values in forwards {
        let mut rec = record(&dnat::AREA, cfg, version, rng, &values);
        dnat::stamp(&mut rec, "root", "1767361234.57");
        let uuids: Vec<String> = rec
            .list("category")
            .into_iter()
            .filter_map(|n| {
                cfg.categories
                    .iter()
                    .find(|c| c.name == n)
                    .map(|c| c.uuid.clone())
            })
            .collect();
        rec.set("categories", uuids.join(","));
        cfg[Collection::PortForwards].push(rec);
    }
}

fn seed_routes_dns_dhcp(cfg: &mut Config, version: Version, rng: &mut Rng) {
    for values in [
        [
            ("network", "10.20.0.0/16"),
            ("gateway", "WAN_GW"),
            ("descr", "Branch office"),
        ],
        [
            ("network", "172.16.50.0/24"),
            ("gateway", "WAN_DHCP"),
            ("descr", "Lab network"),
        ],
        [
            ("network", "2001:db8:100::/48"),
            ("gateway", "WAN_GWv6"),
            ("descr", "IPv6 partner network"),
        ],
    ] {
        let rec = record(&routes::AREA, cfg, version, rng, &values);
        cfg[Collection::Routes].push(rec);
    }
    let hosts: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("hostname", "nas"),
            ("domain", "example.lan"),
            ("rr", "A"),
            ("server", "192.168.1.50"),
            ("description", "NAS"),
        ],
        vec![
            ("hostname", "printer"),
            ("domain", "example.lan"),
            ("rr", "A"),
            ("server", "192.168.1.60"),
            ("description", "Office printer"),
        ],
        vec![
            ("hostname", "www"),
            ("domain", "example.lan"),
            ("rr", "A"),
            ("server", "192.168.1.10"),
            ("description", "Intranet web server"),
        ],
        vec![
            ("hostname", "nas6"),
            ("domain", "example.lan"),
            ("rr", "AAAA"),
            ("server", "2001:db8:1::50"),
            ("description", "NAS (IPv6)"),
        ],
        vec![
            ("hostname", ""),
            ("domain", "example.lan"),
            ("rr", "MX"),
            ("mxprio", "10"),
            ("mx", "mail.example.net"),
            ("description", "Mail exchanger"),
        ],
    ];
    for values in hosts {
        let rec = record(&unbound::AREA, cfg, version, rng, &values);
        cfg[Collection::HostOverrides].push(rec);
    }
    let subnet = record(
        &kea::SUBNETS,
        cfg,
        version,
        rng,
        &[
            ("subnet", "192.168.1.0/24"),
            ("option_data.domain_name_servers", "192.168.1.1"),
            ("option_data.routers", "192.168.1.1"),
            ("option_data.ntp_servers", "192.168.1.1"),
            ("pools", "192.168.1.100-192.168.1.199"),
            ("description", "LAN"),
        ],
    );
    let subnet_uuid = subnet.uuid.clone();
    cfg[Collection::Subnets].push(subnet);
    for (ip, mac, host, descr) in [
        ("192.168.1.50", "00:0d:b9:4a:12:34", "nas", "NAS box"),
        (
            "192.168.1.60",
            "00:1b:a9:33:21:0f",
            "printer",
            "Office printer",
        ),
        (
            "192.168.1.70",
            "00:0d:b9:4a:77:01",
            "ap-office",
            "Office access point",
        ),
    ] {
        let rec = record(
            &kea::RESERVATIONS,
            cfg,
            version,
            rng,
            &[
                ("subnet", subnet_uuid.as_str()),
                ("ip_address", ip),
                ("hw_address", mac),
                ("hostname", host),
                ("description", descr),
            ],
        );
        cfg[Collection::Reservations].push(rec);
    }
}

/// Dnsmasq hosts: two DHCP reservations (one by MAC, one by client id) and one DNS-only
/// host override (which dhcp_static_list leaves out).
fn seed_dnsmasq_hosts(cfg: &mut Config, version: crate::Version, rng: &mut Rng) {
    let hosts: [&[(&str, &str)]; 3] = [
        &[
            ("host", "nas2"),
            ("domain", "lan.example"),
            ("ip", "192.168.1.210"),
            ("hwaddr", "00:0d:b9:4a:12:35"),
            ("descr", "Second NAS"),
        ],
        &[
            ("host", "voip"),
            ("ip", "192.168.1.211"),
            ("client_id", "01:00:1b:a9:33:21:10"),
            ("descr", "VoIP phone"),
        ],
        &[
            ("host", "wiki"),
            ("domain", "lan.example"),
            ("ip", "192.168.1.20"),
            ("descr", "Wiki (DNS only)"),
        ],
    ];
    for values in hosts {
        let rec = record(&dnsmasq::HOSTS, cfg, version, rng, values);
        cfg[Collection::DnsmasqHosts].push(rec);
    }
}

/// Dnsmasq's lease file: rows as `get_dnsmasq_leases.py` writes them (the captured shape of
/// `dnsmasq/leases/search` without the columns the controller adds).
fn seed_dnsmasq_leases() -> Vec<Value> {
    let base: i64 = 1_767_229_200;
    [
        (
            "192.168.1.210",
            "00:0d:b9:4a:12:35",
            "nas2",
            "01:00:0d:b9:4a:12:35",
        ),
        (
            "192.168.1.211",
            "00:1b:a9:33:21:10",
            "voip",
            "01:00:1b:a9:33:21:10",
        ),
        ("192.168.1.230", "00:1b:a9:77:00:01", "*", "*"),
        (
            "192.168.1.231",
            "00:1b:a9:77:00:02",
            "tablet-7",
            "01:00:1b:a9:77:00:02",
        ),
    ]
    .iter()
    .zip(0i64..)
    .map(|((address, mac, host, id), i)| {
        json!({"expire": base + i * 60, "hwaddr": mac, "iaid": "", "address": address,
               "hostname": host, "client_id": id, "if": "igb1"})
    })
    .collect()
}

/// Outbound NAT in hybrid mode with two manual rules, and Unbound's query forwards (one forward
/// and one DNS-over-TLS server). Seeded after everything else, so the uuids of the older seed
/// records stay as they were.
fn seed_snat_and_forwards(cfg: &mut Config, version: Version, rng: &mut Rng) {
    cfg.snat_mode = "hybrid".into();
    for values in [
        vec![
            ("interface", "wan"),
            ("source_net", "opt1"),
            ("target", "203.0.113.10"),
            ("description", "DMZ out through its own public address"),
        ],
        vec![
            ("interface", "wan"),
            ("nonat", "1"),
            ("source_net", "lan"),
            ("destination_net", "10.8.0.0/24"),
            ("description", "No NAT to the VPN"),
        ],
    ] {
        let mut rec = record(&snat::AREA, cfg, version, rng, &values);
        (snat::AREA.before_save)(
            &mut rec,
            &crate::reply::Req {
                version,
                ..crate::reply::Req::default()
            },
        );
        cfg[Collection::SourceNat].push(rec);
    }
    for values in [
        vec![
            ("type", "forward"),
            ("domain", "corp.example.com"),
            ("server", "10.0.10.53"),
            ("port", "53"),
            ("description", "Corporate DNS"),
        ],
        vec![
            ("type", "dot"),
            ("server", "9.9.9.9"),
            ("port", "853"),
            ("verify", "dns.quad9.net"),
            ("description", "Quad9 over TLS"),
        ],
    ] {
        let rec = record(&unbound::DOTS, cfg, version, rng, &values);
        cfg[Collection::Forwards].push(rec);
    }
}

fn lease(address: &str, mac: &str, hostname: &str, expire: i64, vendor: &str) -> Value {
    json!({
        "address": address, "prefix_len": 128, "type": "", "hwaddr": mac, "duid": "",
        "client_id": format!("01:{mac}"), "iaid": "", "valid_lifetime": 4000, "expire": expire,
        "hostname": hostname, "state": 0, "if": "igb1", "if_descr": "LAN", "is_reserved": [],
        "if_name": "lan", "mac_info": vendor
    })
}

fn seed_leases(rng: &mut Rng, extra: usize) -> Vec<Value> {
    let base: i64 = 1_767_229_200;
    let mut leases = vec![
        lease(
            "192.168.1.50",
            "00:0d:b9:4a:12:34",
            "nas",
            base,
            "PC Engines GmbH",
        ),
        lease(
            "192.168.1.60",
            "00:1b:a9:33:21:0f",
            "printer",
            base + 60,
            "Brother Industries, Ltd.",
        ),
    ];
    let names = [
        "laptop", "phone", "tablet", "tv", "desktop", "watch", "console", "camera",
    ];
    for i in 0..18u32 {
        let mac = rng.mac();
        let host = format!("{}-{}", names[(i as usize) % names.len()], i + 1);
        leases.push(lease(
            &format!("192.168.1.{}", 100 + i),
            &mac,
            &host,
            base + i64::from(i) * 37,
            "",
        ));
    }
    for i in 0..extra {
        let mac = rng.mac();
        let addr = format!("10.100.{}.{}", (i / 250) % 256, i % 250 + 1);
        let offset = i64::try_from(i % 4000).unwrap_or(0);
        leases.push(lease(
            &addr,
            &mac,
            &format!("client-{}", i + 1),
            base + offset,
            "",
        ));
    }
    leases
}

fn seed_rulesets() -> Vec<Value> {
    let doc = "https://community.emergingthreats.net/t/frequently-asked-questions/56";
    let sets = [
        ("ET open/botcc", "botcc.rules", "2026/01/15 3:05", "1"),
        ("ET open/ciarmy", "ciarmy.rules", "2026/01/15 3:05", "1"),
        (
            "ET open/compromised",
            "compromised.rules",
            "2026/01/15 3:05",
            "1",
        ),
        ("ET open/drop", "drop.rules", "2026/01/15 3:05", "1"),
        ("ET open/dshield", "dshield.rules", "2026/01/15 3:05", "0"),
        (
            "ET open/emerging-exploit",
            "emerging-exploit.rules",
            "",
            "0",
        ),
        (
            "ET open/emerging-malware",
            "emerging-malware.rules",
            "2026/01/15 3:05",
            "1",
        ),
        ("ET open/emerging-scan", "emerging-scan.rules", "", "0"),
        (
            "ET open/emerging-web_server",
            "emerging-web_server.rules",
            "",
            "0",
        ),
        ("OPNsense-App-detect/test", "OPNsense.test.rules", "", "0"),
        (
            "abuse.ch/SSL Fingerprint Blacklist",
            "abuse-sslbl.rules",
            "2026/01/15 3:06",
            "1",
        ),
    ];
    sets.iter()
        .map(|(descr, file, modified, enabled)| {
            let modified = if modified.is_empty() {
                Value::Null
            } else {
                json!(modified)
            };
            json!({
                "description": descr, "filename": file, "documentation_url": doc,
                "documentation": format!("<a href='{doc}' target='_new'>{doc}</a>"),
                "modified_local": modified, "enabled": enabled
            })
        })
        .collect()
}

/// The whole initial state: staged == live (everything applied), no savepoints.
pub(crate) fn build(config: &SimConfig) -> SimState {
    let mut rng = Rng::new(config.seed);
    let mut cfg = Config::default();
    cfg.categories = vec![
        Category {
            uuid: rng.uuid(),
            name: "Web".into(),
            color: "#1e90ff".into(),
        },
        Category {
            uuid: rng.uuid(),
            name: "Management".into(),
            color: "#ff8c00".into(),
        },
    ];
    let version = config.version;
    seed_aliases(&mut cfg, version, &mut rng);
    seed_rules(&mut cfg, version, &mut rng, config.extra_rules);
    seed_port_forwards(&mut cfg, version, &mut rng);
    seed_routes_dns_dhcp(&mut cfg, version, &mut rng);
    let leases = seed_leases(&mut rng, config.extra_leases);
    // After the leases, so the records seeded before keep their uuids and MACs.
    seed_dnsmasq_hosts(&mut cfg, version, &mut rng);
    seed_snat_and_forwards(&mut cfg, version, &mut rng);
    let services: BTreeMap<&'static str, ServiceState> = services::MODULES
        .iter()
        .map(|(m, enabled, running)| {
            let (enabled, running) = match *m {
                "kea" => (config.dhcp.kea, config.dhcp.kea),
                "dnsmasq" => (config.dhcp.dnsmasq, config.dhcp.dnsmasq),
                _ => (*enabled, *running),
            };
            (*m, ServiceState { enabled, running })
        })
        .collect();
    let mut st = SimState {
        live: cfg.clone(),
        staged: cfg,
        leases: if config.dhcp.kea { leases } else { Vec::new() },
        dnsmasq_leases: seed_dnsmasq_leases(),
        rulesets: seed_rulesets(),
        services,
        backups: Backups::new(config.rollback_restores, config.backup_count),
        service_failures: HashMap::new(),
        rollback: None,
        before_last_filter_apply: None,
        firmware_checked: false,
        log: RequestLog::default(),
        rng,
    };
    // The box was set up before the simulator started: one backup of the seeded config
    // (the revision of this first save is illustrative).
    st.save(Revision::script("/usr/local/etc/rc.bootup"));
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every seeded record must pass the same validation a client's write would.
    #[test]
    fn seeded_records_validate() {
        let st = build(&SimConfig {
            extra_rules: 50,
            ..SimConfig::default()
        });
        let cfg = &st.staged;
        let areas: [&AreaSpec; Collection::COUNT] = [
            &filter::AREA,
            &alias::AREA,
            &dnat::AREA,
            &routes::AREA,
            &unbound::AREA,
            &kea::RESERVATIONS,
            &kea::SUBNETS,
            &dnsmasq::HOSTS,
            &snat::AREA,
            &unbound::DOTS,
        ];
        let req = crate::reply::Req::default();
        for (area, collection) in areas.iter().zip(Collection::ALL) {
            assert_eq!(area.collection, collection, "{}", area.wrapper);
            assert!(!area.wrapper.is_empty() && !area.fields.is_empty());
            for rec in &cfg[area.collection] {
                let v = area.validate(cfg, rec, &req);
                assert!(
                    v.is_empty(),
                    "{} {}: {}",
                    area.wrapper,
                    rec.uuid,
                    v.into_json()
                );
            }
        }
        let flow = crate::lockout::MgmtFlow::new("lan", "127.0.0.1/8").unwrap();
        assert_eq!(
            crate::lockout::verdict(cfg, &flow),
            None,
            "the seeded rules do not lock the API out"
        );
    }

    #[test]
    fn uuids_are_v4_and_deterministic() {
        let mut a = Rng::new(3);
        let mut b = Rng::new(3);
        let id = a.uuid();
        assert_eq!(id, b.uuid());
        let parsed = uuid::Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert!((0.0..1.0).contains(&a.unit()));
    }
}
