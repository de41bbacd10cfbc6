//! The built `opnsense-mcp` binary over stdio, driven by rmcp's own client, against the
//! simulator over HTTPS with its CA trusted.

use crate::support::{close, connect_stdio, rmcp_scenario, start_simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rmcp_client_over_stdio() {
    let sim = start_simulator().await;
    let (client, _log) = connect_stdio(&sim).await;
    rmcp_scenario("rmcp stdio", &client, &sim, "rmcp_stdio").await;
    close(client).await;
    sim.shutdown().await;
}
