//! Troubleshooting reads: filter-log entries, pf states, gateway status, the kernel routing
//! table. All read-only; every value OPNsense sends as text stays text here unless it is a count.
//!
//! Shapes (opnsense/core, identical at 26.1.11 and 26.7.2):
//! - log entries: `src/opnsense/scripts/filter/read_log.py:48-58` (field layouts per IP version
//!   and protocol) and `:141-159` (`__timestamp__`, `__host__`, `__digest__`, `__spec__`, `label`);
//! - pf states: `src/opnsense/scripts/filter/lib/states.py:136-248` (`query_states`), plus
//!   `interface` added by `FirewallController.php:202`;
//! - gateways: `src/opnsense/scripts/routes/gateway_status.php:38-79`;
//! - routes: `src/opnsense/scripts/routes/show_routes.py:36-62` (`netstat -rW` columns,
//!   lower-cased) plus `intf_description` and `id` from `InterfaceController.php:169-178`.

use serde::{Deserialize, Serialize};

use crate::fields::{Extra, list_or_empty, string_or_empty};
use crate::path::Uuid;

wire_model! {
    /// One parsed filter-log line (`diagnostics/firewall/log`). Fields after `ipversion` depend on
    /// the IP version and protocol (TCP/UDP carry ports, TCP its flags, CARP its vhid ...).
    pub struct FilterLogEntry {
        /// pf rule number in the loaded ruleset (changes with every reload).
        pub rulenr: String,
        /// The rule's label: a filter rule's uuid (rules of Firewall > Rules), a 32-digit hash
        /// OPNsense computes for the rules it generates (and those of the classic GUI), or `0`
        /// for NAT rules (`rdr`, `nat`, `binat`).
        pub rid: String,
        /// The device the packet was seen on (`igb1`, `vtnet0_vlan10`).
        pub interface: String,
        /// Why pf logged it (`match`, `state-mismatch`, ...).
        pub reason: String,
        /// `pass`, `block`, `rdr`, `nat`, `binat` (pf logs a reject rule's packets as `block`).
        pub action: String,
        /// `in` or `out`.
        pub dir: String,
        /// `4` or `6`.
        pub ipversion: String,
        /// Protocol name, lower case (`tcp`, `udp`, `icmp`, `ipv6-icmp`, `carp`, ...).
        pub protoname: Option<String>,
        /// IANA protocol number, as text.
        pub protonum: Option<String>,
        /// Packet length.
        pub length: Option<String>,
        /// Source address.
        pub src: Option<String>,
        /// Destination address.
        pub dst: Option<String>,
        /// Source port (TCP and UDP only).
        pub srcport: Option<String>,
        /// Destination port (TCP and UDP only).
        pub dstport: Option<String>,
        /// TCP flags (`S`, `SA`, `FPA`, ...).
        pub tcpflags: Option<String>,
        /// The matching rule's description from the loaded ruleset (`/tmp/rules.debug`), `rdr rule`
        /// and the like for NAT rules, or empty.
        pub label: String,
        /// When it was logged, as syslog wrote it (RFC 5424: `2026-06-28T12:52:27-05:00`).
        #[serde(rename = "__timestamp__")]
        pub timestamp: String,
        /// The host name in the syslog line.
        #[serde(rename = "__host__")]
        pub host: Option<String>,
        /// MD5 of the raw line (the GUI's cursor: `digest=` reads up to that line).
        #[serde(rename = "__digest__")]
        pub digest: String,
        /// Everything else (`subrulenr`, `anchorname`, `tos`, `ttl`, `seq`, `__spec__`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

/// What made the log line, from its `rid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOrigin {
    /// A filter rule of Firewall > Rules: `rid` is its uuid.
    User,
    /// A rule OPNsense generates (anti-lockout, default deny, plugins) or one made in the classic
    /// GUI: `rid` is a 32-digit hash OPNsense computes.
    Automatic,
    /// A NAT rule (`rdr`, `nat`, `binat`): no rule id in the log.
    Nat,
    /// No usable id.
    Unknown,
}

impl RuleOrigin {
    /// Lower-case name (`user`, `automatic`, `nat`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Automatic => "automatic",
            Self::Nat => "nat",
            Self::Unknown => "unknown",
        }
    }
}

/// True for OPNsense's computed rule hashes (`Util::calcRuleHash`): 32 lower-case hex digits.
pub fn is_rule_hash(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl FilterLogEntry {
    /// The uuid of the filter rule that matched, when it is a rule of Firewall > Rules.
    pub fn rule_uuid(&self) -> Option<Uuid> {
        Uuid::parse(&self.rid).ok()
    }

    /// What made the line: a user rule, a generated one, NAT, or unknown
    /// (`read_log.py:142-157`: `rid` is `0` for NAT, else the label pf logged).
    pub fn rule_origin(&self) -> RuleOrigin {
        if self.rule_uuid().is_some() {
            RuleOrigin::User
        } else if is_rule_hash(&self.rid) {
            RuleOrigin::Automatic
        } else if matches!(self.action.as_str(), "rdr" | "nat" | "binat") {
            RuleOrigin::Nat
        } else {
            RuleOrigin::Unknown
        }
    }
}

wire_model! {
    /// One pf state (`diagnostics/firewall/query_states` rows).
    pub struct PfState {
        /// `<state id>/<creator id>` (hexadecimal), unique.
        pub id: String,
        /// The device, or `all` for floating states.
        pub iface: String,
        /// The interface's description (`LAN`), else the device.
        pub interface: Option<String>,
        /// Protocol (`tcp`, `udp`, `icmp`, ...).
        pub proto: String,
        /// `ipv4` or `ipv6`.
        pub ipproto: String,
        /// `in` or `out`.
        pub direction: String,
        /// Source address.
        pub src_addr: String,
        /// Source port (`0` for protocols without ports).
        pub src_port: Option<String>,
        /// Destination address.
        pub dst_addr: String,
        /// Destination port.
        pub dst_port: Option<String>,
        /// Address after NAT, if translated.
        pub nat_addr: Option<String>,
        /// Port after NAT, if translated.
        pub nat_port: Option<String>,
        /// Gateway (`route-to`), if any.
        pub gateway: Option<String>,
        /// pf state (`ESTABLISHED:ESTABLISHED`, `SINGLE:NO_TRAFFIC`, ...).
        pub state: String,
        /// Age (`hh:mm:ss`).
        pub age: Option<String>,
        /// Time to expiry (`hh:mm:ss`).
        pub expires: Option<String>,
        /// Packets (out, in).
        #[serde(deserialize_with = "list_or_empty")]
        pub pkts: Vec<u64>,
        /// Bytes (out, in).
        #[serde(deserialize_with = "list_or_empty")]
        pub bytes: Vec<u64>,
        /// pf rule number that created the state.
        pub rule: Option<String>,
        /// That rule's label (uuid or 32-digit hash, see [`FilterLogEntry::rid`]).
        pub label: String,
        /// That rule's description, or empty.
        pub descr: String,
        /// Options (`allow-opts`, `sloppy`, ...).
        #[serde(deserialize_with = "list_or_empty")]
        pub flags: Vec<String>,
        /// Everything else (`rtable`, `route-to`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// One gateway of `routes/gateway/status`. Measurements are text with units
    /// (`"1.1 ms"`, `"0.0 %"`) and `~` when the gateway is not monitored.
    pub struct GatewayStatus {
        /// Gateway name (`WAN_GW`).
        pub name: String,
        /// Its address, or `~` (dynamic, not known yet).
        pub address: String,
        /// `none` (online), `down`, `force_down`, `delay`, `loss`, `delay+loss`, or another word
        /// (pending).
        pub status: String,
        /// The status in the GUI's words (`Online`, `Offline`, `Latency`, ...).
        pub status_translated: Option<String>,
        /// Packet loss (`"0.0 %"`) or `~`.
        pub loss: String,
        /// Average round-trip time (`"1.1 ms"`) or `~`.
        pub delay: String,
        /// Round-trip standard deviation (`"0.2 ms"`) or `~`.
        pub stddev: String,
        /// The address dpinger probes, or `~`.
        pub monitor: String,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

/// The leading number of `"1.1 ms"` / `"0.0 %"`; `None` for `~` or text without one.
pub fn measurement(s: &str) -> Option<f64> {
    s.split_whitespace()
        .next()
        .map(|n| n.trim_end_matches(['%', 'm', 's']))
        .and_then(|n| n.parse::<f64>().ok())
        .filter(|f| f.is_finite())
}

/// `~` or empty: OPNsense has no value.
fn unknown(s: &str) -> bool {
    matches!(s.trim(), "" | "~")
}

impl GatewayStatus {
    /// dpinger reports measurements for it (delay or loss is not `~`).
    pub fn is_monitored(&self) -> bool {
        !unknown(&self.delay) || !unknown(&self.loss)
    }

    /// Marked down (`down`, or `force_down` by the administrator).
    pub fn is_down(&self) -> bool {
        matches!(self.status.as_str(), "down" | "force_down")
    }

    /// Average round-trip time in milliseconds.
    pub fn delay_ms(&self) -> Option<f64> {
        measurement(&self.delay)
    }

    /// Round-trip standard deviation in milliseconds.
    pub fn stddev_ms(&self) -> Option<f64> {
        measurement(&self.stddev)
    }

    /// Packet loss in percent.
    pub fn loss_percent(&self) -> Option<f64> {
        measurement(&self.loss)
    }

    /// The address, unless OPNsense has none (`~`).
    pub fn known_address(&self) -> Option<&str> {
        (!unknown(&self.address)).then_some(self.address.as_str())
    }

    /// The probed address, unless none (`~`).
    pub fn known_monitor(&self) -> Option<&str> {
        (!unknown(&self.monitor)).then_some(self.monitor.as_str())
    }
}

/// `routes/gateway/status`: `{"items": [...], "status": "ok"}`; `status` is `failed` (and
/// `items` empty) when configd returned nothing, which is also what a firewall without any
/// gateway answers (`GatewayController.php:42-50`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayStatusList {
    /// One entry per gateway.
    #[serde(deserialize_with = "list_or_empty")]
    pub items: Vec<GatewayStatus>,
    /// `ok` or `failed`.
    #[serde(deserialize_with = "string_or_empty")]
    pub status: String,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

wire_model! {
    /// One kernel route (`diagnostics/interface/get_routes`, `netstat -rWn`).
    pub struct KernelRoute {
        /// `ipv4` or `ipv6`.
        pub proto: String,
        /// Destination (`default`, `10.0.0.0/24`, `192.168.1.10`).
        pub destination: String,
        /// Next hop (an address, `link#2`, or a MAC for host routes).
        pub gateway: String,
        /// Route flags (`UGS`, `UHS`, ...).
        pub flags: String,
        /// MTU.
        pub mtu: Option<String>,
        /// Device (`igb0`, `lo0`).
        pub netif: String,
        /// Expiry, when the route expires.
        pub expire: Option<String>,
        /// The device's interface description (`WAN`), or empty.
        pub intf_description: String,
        /// `destination,gateway`.
        pub id: Option<String>,
        /// Anything else (`nhop#`, `use`, ...: netstat's columns differ between FreeBSD releases).
        #[serde(flatten)]
        pub extra: Extra,
    }
}
