//! Command-line launcher of the OPNsense API simulator.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use opnsense_sim::{NftLockout, SimConfig, Simulator, Version};

/// Runs a stateful OPNsense 26.x API simulator on https://127.0.0.1.
#[derive(Debug, Parser)]
// `--version` selects the OPNsense release, so clap's own version flag is disabled.
#[command(name = "opnsense-sim", about, disable_version_flag = true)]
struct Args {
    /// TCP port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8443)]
    port: u16,
    /// Seed for generated data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// OPNsense release to simulate: 26.1 (26.1.10), 26.1.9 or 26.7 (26.7.2).
    #[arg(long = "version", default_value = "26.1")]
    opnsense_version: Version,
    /// Extra generated filter rules.
    #[arg(long, default_value_t = 0)]
    rules: usize,
    /// Extra generated Kea leases.
    #[arg(long, default_value_t = 0)]
    leases: usize,
    /// Added latency per request in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fraction of requests answered with HTTP 500 (0.0..=1.0).
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Lock new connections out after a filter apply that blocks the management flow
    /// (established connections keep working).
    #[arg(long)]
    lockout: bool,
    /// Enforce the lockout in the kernel with an nftables table of its own
    /// (`inet opnsense_sim_<port>`); implies --lockout. Run it inside a network namespace
    /// of its own: `ip netns exec <ns> opnsense-sim --nft-lockout ...`.
    #[arg(long)]
    nft_lockout: bool,
    /// The nft program for --nft-lockout.
    #[arg(long, default_value = "nft")]
    nft: PathBuf,
    /// Management address shown on the management interface (lan).
    #[arg(long, default_value = "127.0.0.1/8")]
    management_address: String,
    /// lighttpd server.max-keep-alive-requests (a connection carries this + 1 requests).
    #[arg(long, default_value_t = 15)]
    max_keep_alive_requests: u32,
    /// lighttpd server.max-keep-alive-idle in seconds.
    #[arg(long, default_value_t = 30)]
    max_keep_alive_idle: u64,
    /// Configuration backups kept (system/backupcount).
    #[arg(long, default_value_t = 100)]
    backup_count: usize,
    /// Make the rollback timer and revert actually restore (a fixed firmware).
    #[arg(long)]
    rollback_restores: bool,
    /// Answer like a firewall with deployment=development (PHP warnings become 500).
    #[arg(long)]
    development: bool,
    /// Rollback timer in seconds.
    #[arg(long, default_value_t = 60)]
    rollback_timeout: u64,
    /// Where to write the CA certificate (default: a temporary file).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// API key.
    #[arg(long, default_value = "sim-key")]
    api_key: String,
    /// API secret.
    #[arg(long, default_value = "sim-secret")]
    api_secret: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let config = SimConfig {
        version: args.opnsense_version,
        seed: args.seed,
        extra_rules: args.rules,
        extra_leases: args.leases,
        latency: Duration::from_millis(args.latency_ms),
        error_rate: args.error_rate,
        lockout: args.lockout || args.nft_lockout,
        nft_lockout: args.nft_lockout.then(|| NftLockout {
            nft: args.nft.clone(),
            ..NftLockout::default()
        }),
        management_address: args.management_address.clone(),
        max_keep_alive_requests: args.max_keep_alive_requests,
        max_keep_alive_idle: Duration::from_secs(args.max_keep_alive_idle),
        backup_count: args.backup_count,
        rollback_restores: args.rollback_restores,
        development_mode: args.development,
        rollback_timeout: Duration::from_secs(args.rollback_timeout),
        ca_file: args.ca_file,
        api_key: args.api_key,
        api_secret: args.api_secret,
        port: args.port,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await?;
    println!("url:        {}", sim.base_url());
    println!("ca file:    {}", sim.ca_file().display());
    println!("api key:    {}", sim.api_key());
    println!("api secret: {}", sim.api_secret());
    println!("version:    OPNsense {}", sim.version().product_version());
    if let Some(table) = sim.nft_table() {
        println!("nft table:  {table}");
    }

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::Args;

    #[test]
    fn cli_definition_is_consistent() {
        Args::command().debug_assert();
        let args = Args::try_parse_from([
            "opnsense-sim",
            "--port",
            "0",
            "--version",
            "26.7",
            "--rules",
            "10",
            "--lockout",
            "--development",
            "--nft-lockout",
            "--max-keep-alive-requests",
            "3",
        ])
        .expect("parses");
        assert!(args.nft_lockout);
        assert_eq!(args.max_keep_alive_requests, 3);
        assert_eq!(args.opnsense_version, opnsense_sim::Version::V26_7);
        assert!(args.lockout);
        assert!(args.development);
        let old = Args::try_parse_from(["opnsense-sim", "--version", "26.1.9"]).expect("parses");
        assert_eq!(old.opnsense_version, opnsense_sim::Version::V26_1_9);
    }
}
