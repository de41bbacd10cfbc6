//! Command-line launcher of the OPNsense API simulator.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use opnsense_sim::{SimConfig, Simulator, Version};

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
    /// Stop answering after a filter apply that blocks the management interface.
    #[arg(long)]
    lockout: bool,
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
        lockout: args.lockout,
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
        ])
        .expect("parses");
        assert_eq!(args.opnsense_version, opnsense_sim::Version::V26_7);
        assert!(args.lockout);
        assert!(args.development);
        let old = Args::try_parse_from(["opnsense-sim", "--version", "26.1.9"]).expect("parses");
        assert_eq!(old.opnsense_version, opnsense_sim::Version::V26_1_9);
    }
}
