//! A stateful OPNsense 26.x REST API simulator served over HTTPS on loopback.
//!
//! The simulator keeps a *staged* configuration (what `add_*`/`set_*`/`del_*` write, like
//! `config.xml`) and a *live* one (what `apply`/`reconfigure` loaded into the running
//! services), answers with the shapes and validation messages of OPNsense 26.1.10, 26.1.9
//! or 26.7.2 (read from opnsense/core at those tags), like a production firewall or, with
//! [`SimConfig::development_mode`], like one with `deployment=development`, and can inject
//! faults (latency, errors, stalls, HTML 502, an API lockout after a bad filter apply,
//! failing service scripts) so a client can be tested, demonstrated and benchmarked
//! without a firewall.
//!
//! Transport details a client depends on are modelled too: like pf, a lockout only stops
//! *new* connections (`block`: unanswered, `reject`: reset; [`Faults::set_lockout`]),
//! optionally enforced by the kernel with nftables ([`SimConfig::nft_lockout`],
//! [`netns::Namespace`]); lighttpd's keep-alive limits of the OPNsense web GUI
//! ([`SimConfig::max_keep_alive_requests`], [`SimConfig::max_keep_alive_idle`]); and
//! `/conf/backup`, one backup per configuration save (`core/backup/*`, the savepoint
//! revision of [`SimConfig::rollback_restores`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), opnsense_sim::SimError> {
//! use opnsense_sim::{SimConfig, Simulator};
//!
//! let sim = Simulator::start(SimConfig::default()).await?;
//! println!("{} (CA: {})", sim.base_url(), sim.ca_file().display());
//! // ... talk to sim.base_url() with sim.api_key()/sim.api_secret() ...
//! assert!(sim.live().filter_rules().len() >= 12);
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod areas;
mod backups;
mod crud;
mod fields;
mod lockout;
pub mod netns;
mod nft;
mod reply;
mod search;
mod seed;
mod server;
mod state;
mod tls;
mod validate;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use crate::server::RequestRecord;
pub use crate::state::Collection;

/// How many answered requests [`Simulator::requests`] keeps (the oldest are dropped).
pub const REQUEST_LOG_CAP: usize = 10_000;

/// Which OPNsense release the simulator pretends to be. Releases are ordered oldest
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Version {
    /// 26.1.9: like [`Version::V26_1`], but static routes still have a `disabled` field
    /// and `toggleroute/{uuid}/{x}` takes *disabled* (changed in 26.1.10), and the filter
    /// `search_rule` lists automatic and legacy rules only with `show_all`.
    V26_1_9,
    /// 26.1.10: firewall `savepoint` / `apply/{rev}` / `cancelRollback` / `revert` exist
    /// (with the stock rollback defect unless [`SimConfig::rollback_restores`] is set).
    #[default]
    V26_1,
    /// 26.7.2: the rollback actions were removed (404) and `apply` takes no argument.
    V26_7,
}

impl Version {
    /// The oldest simulated release.
    pub const OLDEST: Version = Version::V26_1_9;
    /// The newest simulated release.
    pub const NEWEST: Version = Version::V26_7;

    /// The `product_version` reported by `core/firmware/status`.
    pub fn product_version(self) -> &'static str {
        match self {
            Version::V26_1_9 => "26.1.9",
            Version::V26_1 => "26.1.10",
            Version::V26_7 => "26.7.2",
        }
    }

    /// The release series (`product_series`, `product_abi`).
    pub fn series(self) -> &'static str {
        match self {
            Version::V26_1_9 | Version::V26_1 => "26.1",
            Version::V26_7 => "26.7",
        }
    }

    /// `CORE_NICKNAME` of `Mk/version.mk` (`product_nickname`).
    pub fn nickname(self) -> &'static str {
        match self {
            Version::V26_1_9 | Version::V26_1 => "Witty Woodpecker",
            Version::V26_7 => "Xenial Xenops",
        }
    }

    /// Whether the firewall savepoint/rollback actions exist in this release.
    pub fn has_rollback(self) -> bool {
        self < Version::V26_7
    }
}

impl fmt::Display for Version {
    /// The release series (`26.1`, `26.7`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.series())
    }
}

impl FromStr for Version {
    type Err = SimError;

    /// Accepts `26.1` / `26.1.10` / `26.1.11` (26.1.10), `26.1.0` .. `26.1.9` (26.1.9),
    /// `26.7` and `26.7.x` (26.7.2).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let patch = |prefix: &str| -> Option<Option<u32>> {
            if s == prefix {
                Some(None)
            } else {
                s.strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .and_then(|p| p.parse().ok())
                    .map(Some)
            }
        };
        match (patch("26.1"), patch("26.7")) {
            (Some(Some(p)), _) if p <= 9 => Ok(Version::V26_1_9),
            (Some(_), _) => Ok(Version::V26_1),
            (_, Some(_)) => Ok(Version::V26_7),
            _ => Err(SimError::Config(format!(
                "unsupported version {s:?} (use 26.1, 26.1.x or 26.7)"
            ))),
        }
    }
}

/// A second API key whose access is limited to a list of URL path prefixes; any other
/// endpoint answers 403 `{"status":403,"message":"Forbidden"}` (OPNsense's ACL check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitedKey {
    /// API key (the user part of the Basic credentials).
    pub key: String,
    /// API secret (the password part of the Basic credentials).
    pub secret: String,
    /// Allowed path prefixes, e.g. `/api/core/system/` or `/api/firewall/filter/search`.
    pub allowed_prefixes: Vec<String>,
}

/// The pf verdict of the live rule that locks the API out (see [`Faults::set_lockout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockoutAction {
    /// `block` (pf `block drop`): new connections get no answer and time out.
    Block,
    /// `reject` (pf `block return`): new connections are reset (TCP RST: refused).
    Reject,
}

/// Enforce a lockout in the kernel with nftables, as pf would (see
/// [`SimConfig::nft_lockout`]). Only meaningful inside a network namespace of the test's
/// own ([`netns::Namespace`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NftLockout {
    /// The `nft` program (default `nft`, looked up in `PATH`).
    pub nft: PathBuf,
    /// Allow the table in the initial network namespace. `false` (default) makes
    /// [`Simulator::start`] fail there, so a test never firewalls its host.
    pub allow_initial_namespace: bool,
}

impl Default for NftLockout {
    fn default() -> Self {
        NftLockout {
            nft: PathBuf::from("nft"),
            allow_initial_namespace: false,
        }
    }
}

/// The DHCP servers a simulated firewall runs. Kea: `general.enabled` on with `lan` selected
/// in `kea/dhcpv4/get`, its leases served, its service running. Dnsmasq: `enable` on in
/// `dnsmasq/settings/get` (its DHCP range is always configured), its leases served, its
/// service running. Off: the switch is off, no leases, the service disabled. The
/// reservations of both are seeded either way (a configuration can hold them while the
/// server is off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpBackends {
    /// Kea DHCPv4 serves DHCP.
    pub kea: bool,
    /// Dnsmasq serves DHCP.
    pub dnsmasq: bool,
}

impl DhcpBackends {
    /// Kea only (the default).
    pub const KEA: DhcpBackends = DhcpBackends {
        kea: true,
        dnsmasq: false,
    };
    /// Dnsmasq only (a fresh 26.x install).
    pub const DNSMASQ: DhcpBackends = DhcpBackends {
        kea: false,
        dnsmasq: true,
    };
    /// Both.
    pub const BOTH: DhcpBackends = DhcpBackends {
        kea: true,
        dnsmasq: true,
    };
    /// Neither.
    pub const NONE: DhcpBackends = DhcpBackends {
        kea: false,
        dnsmasq: false,
    };
}

impl Default for DhcpBackends {
    fn default() -> Self {
        DhcpBackends::KEA
    }
}

/// Start-up configuration of a [`Simulator`].
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Pretended OPNsense release.
    pub version: Version,
    /// Seed for generated uuids, MAC addresses, leases and the error-rate RNG.
    pub seed: u64,
    /// Extra generated filter rules on top of the dozen seeded ones (for benchmarks).
    pub extra_rules: usize,
    /// Extra generated Kea leases on top of the seeded ones (for benchmarks).
    pub extra_leases: usize,
    /// Which DHCP servers the firewall runs (default: Kea only).
    pub dhcp: DhcpBackends,
    /// Added latency before every answer.
    pub latency: Duration,
    /// Probability (0.0..=1.0) that a request answers HTTP 500 "Unexpected error".
    pub error_rate: f64,
    /// Accept requests but never answer them.
    pub stall: bool,
    /// Answer every request with an HTML 502 page (a broken reverse proxy).
    pub html_502: bool,
    /// Lock new connections out after a filter `apply` loads a rule that blocks the
    /// management flow (see [`Faults::set_lockout`]).
    pub lockout: bool,
    /// Management interface used by the lockout check (default `lan`).
    pub management_interface: String,
    /// The firewall address the API client connects to, shown as an extra (virtual) IPv4
    /// address of the management interface in `interfaces/overview/interfacesInfo` and
    /// `diagnostics/interface/getInterfaceConfig` (default `127.0.0.1/8`, so a client on
    /// loopback arrives on `lan`; `lo0` then lists no IPv4 address of that network). The
    /// lockout check evaluates the flow from this address to the API port on the
    /// management interface.
    pub management_address: String,
    /// lighttpd `server.max-keep-alive-requests` (OPNsense `webgui.inc`: 15). lighttpd
    /// closes a connection when its request count exceeds this, so a connection carries
    /// at most `max_keep_alive_requests + 1` requests (16) and that last answer has
    /// `Connection: close`.
    pub max_keep_alive_requests: u32,
    /// lighttpd `server.max-keep-alive-idle` (OPNsense: 30 s): an idle connection is
    /// closed this long after its last answer. Zero disables keep-alive.
    pub max_keep_alive_idle: Duration,
    /// lighttpd `server.max-read-idle` (default 60 s; OPNsense does not set it): how long a
    /// new connection may take to send its first request (TLS handshake included).
    pub max_read_idle: Duration,
    /// Backups kept in `/conf/backup` (`Config::backupCount()`: `system/backupcount`,
    /// default 100); also the `retention` of `firewall/filter/savepoint`.
    pub backup_count: usize,
    /// Also enforce a lockout in the kernel: a filter apply that locks the API out
    /// installs an nftables rule dropping (block) or resetting (reject) new connections to
    /// the simulator's port, established ones keep going; lifting the lockout removes it.
    /// Without it the simulator emulates that itself (it accepts the TCP connection, then
    /// never answers the TLS handshake, or resets it). [`Simulator::start`] loads the
    /// table `inet opnsense_sim_<port>` (and fails when it cannot); it is deleted at
    /// shutdown.
    pub nft_lockout: Option<NftLockout>,
    /// Delay of the `apply/{rev}` rollback timer (OPNsense: 60 s).
    pub rollback_timeout: Duration,
    /// `false` (default) reproduces the stock 26.1 defect (opnsense/core#10721): the
    /// savepoint's `revision` has two decimals (`sprintf('%0.2f')`) while its backup file
    /// is `config-<microtime, 4 decimals>.xml`, so no `core/backup/backups/this` item is
    /// `config-<revision>.xml` and the timer and `revert` restore nothing. `true`
    /// simulates a fixed firmware: revision and file name share one four-decimal stamp
    /// (`1767361234.5712` / `config-1767361234.5712.xml`) and both restore the filter
    /// rules.
    pub rollback_restores: bool,
    /// Answer like a firewall with System > Settings > Miscellaneous > deployment =
    /// development: PHP warnings become HTTP 500 (toggling an unknown uuid, `setroute`
    /// without `network` ...), and 500 envelopes carry the exception message and an
    /// `errorTrace`. `false` (default) answers like a production firewall.
    pub development_mode: bool,
    /// API key of the full-access user.
    pub api_key: String,
    /// API secret of the full-access user.
    pub api_secret: String,
    /// Optional second, limited key (for 403 tests).
    pub limited_key: Option<LimitedKey>,
    /// TCP port on 127.0.0.1; 0 picks a free port.
    pub port: u16,
    /// Where to write the CA certificate PEM; `None` writes it into a temporary directory
    /// that lives as long as the simulator.
    pub ca_file: Option<PathBuf>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            version: Version::V26_1,
            seed: 1,
            extra_rules: 0,
            extra_leases: 0,
            dhcp: DhcpBackends::default(),
            latency: Duration::ZERO,
            error_rate: 0.0,
            stall: false,
            html_502: false,
            lockout: false,
            management_interface: "lan".to_owned(),
            management_address: "127.0.0.1/8".to_owned(),
            max_keep_alive_requests: 15,
            max_keep_alive_idle: Duration::from_secs(30),
            max_read_idle: Duration::from_secs(60),
            backup_count: 100,
            nft_lockout: None,
            rollback_timeout: Duration::from_secs(60),
            rollback_restores: false,
            development_mode: false,
            api_key: "sim-key".to_owned(),
            api_secret: "sim-secret".to_owned(),
            limited_key: None,
            port: 0,
            ca_file: None,
        }
    }
}

/// Errors when starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Invalid configuration value.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Certificate generation or TLS set-up failed.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// Binding the socket or writing the CA file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Loading the nftables table of [`SimConfig::nft_lockout`] failed.
    #[error("nftables: {0}")]
    Nft(String),
}

/// Current values of the fault-injection knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSettings {
    /// Added latency before every answer.
    pub latency: Duration,
    /// Probability of an HTTP 500 "Unexpected error" answer.
    pub error_rate: f64,
    /// Never answer requests.
    pub stall: bool,
    /// Answer with an HTML 502 page.
    pub html_502: bool,
    /// Whether the lockout-after-apply simulation is armed.
    pub lockout: bool,
}

/// How configd answers a `{module}/service/start|stop|restart` request that fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceFailure {
    /// The rc script exited with this status: `Error (<status>)`
    /// (`src/opnsense/service/modules/actions/script.py`).
    ExitStatus(i32),
    /// configd does not know or refuses the action: `Action not allowed or missing`
    /// (`src/opnsense/service/modules/processhandler.py`).
    NotAllowed,
}

impl ServiceFailure {
    /// The trimmed configd output the controller returns as `response`.
    pub fn configd_output(self) -> String {
        match self {
            ServiceFailure::ExitStatus(status) => format!("Error ({status})"),
            ServiceFailure::NotAllowed => "Action not allowed or missing".to_owned(),
        }
    }
}

/// Runtime handle to flip the fault-injection knobs while the simulator runs.
#[derive(Clone)]
pub struct Faults {
    shared: Arc<server::Shared>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults")
            .field("settings", &self.settings())
            .finish()
    }
}

impl Faults {
    /// A copy of the current settings.
    pub fn settings(&self) -> FaultSettings {
        self.shared.faults().clone()
    }

    /// Adds `latency` before every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.faults().latency = latency;
    }

    /// Makes a fraction of requests (0.0..=1.0, clamped) fail with HTTP 500.
    pub fn set_error_rate(&self, rate: f64) {
        self.shared.faults().error_rate = rate.clamp(0.0, 1.0);
    }

    /// Accepts requests but never answers them (until the client gives up).
    pub fn set_stall(&self, stall: bool) {
        self.shared.faults().stall = stall;
    }

    /// Answers every request with `502 Bad Gateway` as an HTML page.
    pub fn set_html_502(&self, on: bool) {
        self.shared.faults().html_502 = on;
    }

    /// Arms (or disarms) the lockout simulation: after a filter `apply` whose live rules
    /// block the management flow (IPv4 TCP from [`SimConfig::management_address`] to
    /// port 443 of that address, inbound on [`SimConfig::management_interface`]: an
    /// enabled block/reject rule on that interface or floating, direction in/any,
    /// protocol any/TCP/TCP-UDP, source and destination covering the address
    /// (`any`, `(self)`, `lan`, `lanip`, literals, host/network aliases), destination
    /// port empty/any/443/https or a range holding 443; pass rules are not considered)
    /// new connections are locked out until the rule is gone again: `block` leaves them
    /// unanswered (the client's connect or TLS handshake times out), `reject` resets
    /// them. Connections accepted before the lockout keep being served, as pf keeps
    /// their state. The first matching rule in pf order decides. Disarming also lifts an
    /// active lockout.
    pub fn set_lockout(&self, on: bool) {
        self.shared.faults().lockout = on;
        self.shared.recompute_lockout();
    }

    /// Whether the API is currently locked out.
    pub fn is_locked_out(&self) -> bool {
        self.shared.locked_out.borrow().is_some()
    }

    /// Makes `{module}/service/start|stop|restart` of `module` (`unbound`, `kea` ...)
    /// answer the configd failure (`None` restores normal operation). A failing service
    /// also does not come up on `reconfigure`, which still answers `{"status":"ok"}`.
    pub fn set_service_failure(&self, module: &str, failure: Option<ServiceFailure>) {
        let mut st = self.shared.state();
        match failure {
            Some(f) => {
                st.service_failures.insert(module.to_owned(), f);
            }
            None => {
                st.service_failures.remove(module);
            }
        }
    }
}

/// A copy of one side (staged or live) of the simulated configuration. Each record is a
/// JSON object holding `uuid` and the stored fields (nested objects for containers such
/// as the port-forward `source`). Records are grouped per [`Collection`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    collections: [Vec<Value>; Collection::COUNT],
}

impl Snapshot {
    pub(crate) fn new(collections: [Vec<Value>; Collection::COUNT]) -> Snapshot {
        Snapshot { collections }
    }

    /// The records of one collection.
    pub fn records(&self, collection: Collection) -> &[Value] {
        &self.collections[collection.index()]
    }

    /// Firewall filter rules (`firewall/filter`).
    pub fn filter_rules(&self) -> &[Value] {
        self.records(Collection::FilterRules)
    }

    /// Aliases (`firewall/alias`).
    pub fn aliases(&self) -> &[Value] {
        self.records(Collection::Aliases)
    }

    /// Port forwards (`firewall/d_nat`).
    pub fn port_forwards(&self) -> &[Value] {
        self.records(Collection::PortForwards)
    }

    /// Static routes (`routes/routes`).
    pub fn routes(&self) -> &[Value] {
        self.records(Collection::Routes)
    }

    /// Unbound host overrides.
    pub fn host_overrides(&self) -> &[Value] {
        self.records(Collection::HostOverrides)
    }

    /// Kea DHCPv4 reservations.
    pub fn reservations(&self) -> &[Value] {
        self.records(Collection::Reservations)
    }

    /// Kea DHCPv4 subnets.
    pub fn subnets(&self) -> &[Value] {
        self.records(Collection::Subnets)
    }

    /// Dnsmasq hosts (DHCP reservations and DNS overrides).
    pub fn dnsmasq_hosts(&self) -> &[Value] {
        self.records(Collection::DnsmasqHosts)
    }

    /// Outbound NAT rules (`firewall/source_nat`).
    pub fn source_nat(&self) -> &[Value] {
        self.records(Collection::SourceNat)
    }

    /// Unbound query forwards and DNS-over-TLS servers (`dots.dot`).
    pub fn forwards(&self) -> &[Value] {
        self.records(Collection::Forwards)
    }

    /// Finds a record by uuid in any collection.
    pub fn find(&self, uuid: &str) -> Option<&Value> {
        self.collections
            .iter()
            .flatten()
            .find(|r| r.get("uuid").and_then(Value::as_str) == Some(uuid))
    }
}

/// A running simulator. Dropping it stops the server; prefer [`Simulator::shutdown`].
pub struct Simulator {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    ca_pem: String,
    ca_file: PathBuf,
    _ca_dir: Option<tempfile::TempDir>,
    shutdown_tx: watch::Sender<bool>,
    server_task: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Generates the certificates, seeds the configuration and starts serving HTTPS on
    /// `127.0.0.1:<config.port>`.
    pub async fn start(config: SimConfig) -> Result<Simulator, SimError> {
        if !(0.0..=1.0).contains(&config.error_rate) {
            return Err(SimError::Config(
                "error_rate must be within 0.0..=1.0".into(),
            ));
        }
        let flow = lockout::MgmtFlow::new(&config.management_interface, &config.management_address)
            .map_err(SimError::Config)?;
        let certs = tls::generate()?;
        let (ca_file, ca_dir) = write_ca(&certs.ca_pem, config.ca_file.as_deref())?;
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], config.port))).await?;
        let addr = listener.local_addr()?;
        let nft = match &config.nft_lockout {
            Some(cfg) => Some(nft::NftTable::install(cfg, addr.port())?),
            None => None,
        };
        let shared = server::Shared::new(config, flow, nft);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(server::serve(
            listener,
            certs.server_config,
            Arc::clone(&shared),
            shutdown_rx,
        ));
        Ok(Simulator {
            shared,
            addr,
            ca_pem: certs.ca_pem,
            ca_file,
            _ca_dir: ca_dir,
            shutdown_tx,
            server_task: Mutex::new(Some(task)),
        })
    }

    /// `https://127.0.0.1:<port>` (no trailing slash; endpoints live under `/api/`).
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// PEM of the self-signed CA that issued the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// File holding [`Simulator::ca_pem`].
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// API key of the full-access user.
    pub fn api_key(&self) -> &str {
        &self.shared.config.api_key
    }

    /// API secret of the full-access user.
    pub fn api_secret(&self) -> &str {
        &self.shared.config.api_secret
    }

    /// The pretended OPNsense release.
    pub fn version(&self) -> Version {
        self.shared.config.version
    }

    /// Runtime fault-injection knobs.
    pub fn faults(&self) -> Faults {
        Faults {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The saved (not yet applied) configuration.
    pub fn staged(&self) -> Snapshot {
        self.shared.state().staged.snapshot()
    }

    /// The applied (running) configuration.
    pub fn live(&self) -> Snapshot {
        self.shared.state().live.snapshot()
    }

    /// The automatic (plugin generated) filter rules `firewall/filter/search_rule` lists
    /// next to the MVC rules (from 26.1.10 on; 26.1.9 only with `show_all`), as served:
    /// 32-hex-digit uuids, `legacy` and `is_automatic` true. They cannot be edited.
    pub fn automatic_filter_rules(&self) -> Vec<Value> {
        let st = self.shared.state();
        areas::filter::automatic_rows(&st.staged)
            .into_iter()
            .map(Value::Object)
            .collect()
    }

    /// The most recent answered requests (at most [`REQUEST_LOG_CAP`]), oldest first;
    /// stalled requests are not listed.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.state().log.to_vec()
    }

    /// Number of requests received, including unanswered (stalled) ones.
    pub fn request_count(&self) -> u64 {
        self.shared
            .received
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether an `apply/{rev}` rollback timer is pending.
    pub fn rollback_pending(&self) -> bool {
        self.shared.state().rollback.is_some()
    }

    /// Whether the API is currently locked out (see [`Faults::set_lockout`]).
    pub fn is_locked_out(&self) -> bool {
        self.shared.locked_out.borrow().is_some()
    }

    /// How new connections are locked out right now (`None`: they are not).
    pub fn lockout(&self) -> Option<LockoutAction> {
        *self.shared.locked_out.borrow()
    }

    /// TCP connections accepted so far (a client reusing a kept-alive connection does
    /// not add to it; with [`SimConfig::nft_lockout`] connections the kernel dropped or
    /// reset never reach the simulator).
    pub fn accepted_connections(&self) -> u64 {
        self.shared
            .accepted
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Connections open right now (accepted, not yet closed by either side; one waiting
    /// out a `block` lockout counts).
    pub fn open_connections(&self) -> u64 {
        self.shared.open.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The outbound NAT mode of the saved configuration (`nat/outbound/mode`; empty means
    /// automatic).
    pub fn snat_mode(&self) -> String {
        self.shared.state().staged.snat_mode.clone()
    }

    /// The backup file names of `/conf/backup` (`config-<stamp>.xml`), newest first.
    pub fn backup_ids(&self) -> Vec<String> {
        self.shared
            .state()
            .backups
            .newest_first()
            .map(backups::Backup::id)
            .collect()
    }

    /// The nftables table of [`SimConfig::nft_lockout`] (`inet opnsense_sim_<port>`).
    pub fn nft_table(&self) -> Option<String> {
        self.shared.nft_table_name()
    }

    /// Simulates the owner at the console restoring the previous configuration: the
    /// filter rules (staged and live) go back to what was live before the most recent
    /// filter `apply`. Returns `false` when no apply happened yet. Lifts the lockout when
    /// the restored rules no longer block the management interface. Like the console's
    /// restore (a copy over `config.xml`), it writes no backup.
    pub fn console_revert(&self) -> bool {
        let restored = {
            let mut st = self.shared.state();
            match st.before_last_filter_apply.take() {
                Some(rules) => {
                    st.live[Collection::FilterRules].clone_from(&rules);
                    st.staged[Collection::FilterRules] = rules;
                    true
                }
                None => false,
            }
        };
        self.shared.recompute_lockout();
        restored
    }

    /// Stops the server and waits for it to finish. Pending connections are dropped.
    pub async fn shutdown(self) {
        self.stop_signal();
        let task = self
            .server_task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    fn stop_signal(&self) {
        let _ = self.shutdown_tx.send(true);
        self.shared.abort_rollback_timer();
        self.shared.remove_nft();
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop_signal();
    }
}

fn write_ca(
    pem: &str,
    path: Option<&Path>,
) -> Result<(PathBuf, Option<tempfile::TempDir>), SimError> {
    if let Some(path) = path {
        std::fs::write(path, pem)?;
        return Ok((path.to_path_buf(), None));
    }
    let dir = tempfile::Builder::new().prefix("opnsense-sim-").tempdir()?;
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, pem)?;
    Ok((file, Some(dir)))
}
