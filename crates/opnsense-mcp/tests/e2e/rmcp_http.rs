//! The built `opnsense-mcp` binary over streamable HTTP (bearer token on loopback), driven by
//! rmcp's own client, against the simulator over HTTPS with its CA trusted.

use crate::support::{HttpServer, close, rmcp_scenario, start_simulator};
use rmcp::ServiceExt;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rmcp_client_over_http() {
    let sim = start_simulator().await;
    let server = HttpServer::start(&sim).await;
    let client = server.connect().await;
    rmcp_scenario("rmcp http", &client, &sim, "rmcp_http").await;
    close(client).await;
    server.stop().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_refuses_a_wrong_token() {
    let sim = start_simulator().await;
    let server = HttpServer::start(&sim).await;
    let config = StreamableHttpClientTransportConfig::with_uri(server.url.clone())
        .auth_header("wrong-token-0123456789");
    let transport = StreamableHttpClientTransport::from_config(config);
    let info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("opnsense-mcp-e2e", "0"),
    );
    let outcome = tokio::time::timeout(crate::support::STEP_TIMEOUT, info.serve(transport))
        .await
        .expect("initialize with a wrong token timed out");
    assert!(outcome.is_err(), "initialize with a wrong token must fail");
    server.stop().await;
    sim.shutdown().await;
}
