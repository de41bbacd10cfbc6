//! Prints a firewall's firmware version, system status and rule/alias counts, using only the
//! SDK.
//!
//! ```text
//! OPNSENSE_URL=https://192.168.1.1 OPNSENSE_API_KEY=... OPNSENSE_API_SECRET=... \
//! OPNSENSE_CA_FILE=/path/to/ca.pem cargo run -p opnsense-api --example status
//! ```
//!
//! On failure it prints the error (which says what to do next) and exits with status 1.

use std::process::ExitCode;

use opnsense_api::{Client, Error, SearchQuery};

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| Error::Config(format!("set the {name} environment variable")))
}

async fn run() -> Result<(), Error> {
    let mut builder = Client::builder(env("OPNSENSE_URL")?)
        .credentials(env("OPNSENSE_API_KEY")?, env("OPNSENSE_API_SECRET")?);
    if let Some(ca) = std::env::var_os("OPNSENSE_CA_FILE").filter(|v| !v.is_empty()) {
        builder = builder.ca_file(ca);
    }
    let client = builder.build()?;

    let status = client.system().status().await?;
    let version = client
        .firmware_version()
        .await
        .map_or_else(|| "unknown".to_owned(), |v| v.to_string());
    // One row per page is enough: `total` counts every match.
    let one = SearchQuery::page(1, 1);
    let rules = client.firewall().filter().search(&one).await?;
    let aliases = client.firewall().alias().search(&one).await?;

    println!("firewall:       {}", client.api_base());
    println!("firmware:       {version}");
    let system = &status.metadata.system;
    match system.message.as_deref() {
        Some(msg) if !msg.is_empty() => println!("system status:  {} ({msg})", system.level()),
        _ => println!("system status:  {}", system.level()),
    }
    for (name, sub) in &status.subsystems {
        println!("  {name}: {} {}", sub.status, sub.message);
    }
    println!("filter rules:   {}", rules.total);
    println!("aliases:        {}", aliases.total);
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
