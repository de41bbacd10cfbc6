//! `{module}/service/*` against wiremock.

mod common;

use common::{
    assert_action_failed, assert_invalid_response, client, fixture, json, mock_get, mock_post,
};
use opnsense_api::api::services::{ServiceAction, ServiceModule, action_request, status_request};
use opnsense_api::models::services::ServiceState;
use opnsense_api::{Error, Method};
use serde_json::json as j;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

#[test]
fn request_builders() {
    for module in ServiceModule::ALL {
        let r = status_request(*module);
        assert_eq!(
            (r.method, r.path, r.body),
            (
                Method::Get,
                format!("{}/service/status", module.as_str()),
                None
            )
        );
    }
    for (action, name) in [
        (ServiceAction::Start, "start"),
        (ServiceAction::Stop, "stop"),
        (ServiceAction::Restart, "restart"),
        (ServiceAction::Reconfigure, "reconfigure"),
    ] {
        let r = action_request(ServiceModule::Unbound, action);
        assert_eq!(
            (r.method, r.path, r.body),
            (Method::Post, format!("unbound/service/{name}"), None)
        );
    }
    assert_eq!(ServiceModule::ALL.len(), 11);
}

#[test]
fn unknown_module_cannot_be_parsed() {
    for bad in ["nginx", "cron", "core", "Kea", " kea", "kea/../core", ""] {
        let e = bad.parse::<ServiceModule>().expect_err(bad);
        assert!(e.is_local(), "{e:?}");
        assert!(
            matches!(&e, Error::InvalidInput { field, .. } if field == "module"),
            "{e:?}"
        );
    }
    assert_eq!(
        "wireguard".parse::<ServiceModule>().expect("known"),
        ServiceModule::Wireguard
    );
}

#[tokio::test]
async fn unknown_module_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(json(j!({"status": "running"})))
        .expect(0)
        .mount(&server)
        .await;
    let c = client(&server).await;
    let result = match "haproxy".parse::<ServiceModule>() {
        Ok(module) => c.service(module).status().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(matches!(result, Err(Error::InvalidInput { .. })));
}

#[tokio::test]
async fn status() {
    let opn = mock_get(
        "unbound/service/status",
        fixture("services", "service_status.json"),
    )
    .await;
    let s = opn
        .service(ServiceModule::Unbound)
        .status()
        .await
        .expect("status");
    assert_eq!(s.status, Some(ServiceState::Running));
    assert!(s.is_running());
    let w = s.widget.expect("widget");
    assert_eq!(w.caption_restart.as_deref(), Some("Restart"));
    assert_eq!(w.caption_start.as_deref(), Some("Start"));
    assert_eq!(w.caption_stop.as_deref(), Some("Stop"));
}

#[tokio::test]
async fn status_disabled() {
    let opn = mock_get(
        "kea/service/status",
        j!({"status": "disabled", "widget": {}}),
    )
    .await;
    let s = opn
        .service(ServiceModule::Kea)
        .status()
        .await
        .expect("status");
    assert_eq!(s.status, Some(ServiceState::Disabled));
    assert!(!s.is_running());
}

#[test]
fn an_empty_widget_rendered_as_a_list_is_none() {
    let s: opnsense_api::models::services::ServiceStatus =
        serde_json::from_value(j!({"status": "stopped", "widget": []})).expect("parses");
    assert_eq!(s.status, Some(ServiceState::Stopped));
    assert!(s.widget.is_none());
}

async fn action_ok(module: ServiceModule, action: ServiceAction, fixture_name: &str) {
    let endpoint = format!("{module}/service/{}", action.as_str());
    let c = mock_post(&endpoint, fixture("services", fixture_name)).await;
    let h = c.service(module);
    let s = match action {
        ServiceAction::Start => h.start().await,
        ServiceAction::Stop => h.stop().await,
        ServiceAction::Restart => h.restart().await,
        ServiceAction::Reconfigure => h.reconfigure().await,
    }
    .expect("ok");
    assert!(s.status.eq_ignore_ascii_case("ok"), "{s:?}");
}

#[tokio::test]
async fn start() {
    action_ok(
        ServiceModule::Kea,
        ServiceAction::Start,
        "service_start.json",
    )
    .await;
}

#[tokio::test]
async fn stop() {
    action_ok(ServiceModule::Ids, ServiceAction::Stop, "service_stop.json").await;
}

#[tokio::test]
async fn restart() {
    action_ok(
        ServiceModule::Unbound,
        ServiceAction::Restart,
        "service_restart.json",
    )
    .await;
}

#[tokio::test]
async fn reconfigure() {
    action_ok(
        ServiceModule::Dnsmasq,
        ServiceAction::Reconfigure,
        "service_reconfigure.json",
    )
    .await;
}

#[tokio::test]
async fn wireguard_reconfigure_uses_result() {
    action_ok(
        ServiceModule::Wireguard,
        ServiceAction::Reconfigure,
        "wireguard_service_reconfigure.json",
    )
    .await;
}

#[tokio::test]
async fn wireguard_reconfigure_failed() {
    let opn = mock_post("wireguard/service/reconfigure", j!({"result": "failed"})).await;
    let e = opn
        .service(ServiceModule::Wireguard)
        .reconfigure()
        .await
        .expect_err("failed");
    assert_action_failed(&e, "failed");
}

/// Runs `action` on `module` against a mock answering `answer`.
async fn run_with(
    module: ServiceModule,
    action: ServiceAction,
    answer: serde_json::Value,
) -> opnsense_api::Result<opnsense_api::ActionStatus> {
    let endpoint = format!("{module}/service/{}", action.as_str());
    mock_post(&endpoint, answer)
        .await
        .service(module)
        .run(action)
        .await
}

#[tokio::test]
async fn start_stop_restart_accept_only_ok() {
    // configd's output keeps its trailing newline; OK in any case is a success.
    for answer in ["OK", "OK\n", "ok"] {
        let s = run_with(
            ServiceModule::Kea,
            ServiceAction::Restart,
            j!({"response": answer}),
        )
        .await
        .expect(answer);
        assert_eq!(s.status, answer.trim());
    }
}

#[tokio::test]
async fn a_failed_rc_script_is_service_failed() {
    for action in [
        ServiceAction::Start,
        ServiceAction::Stop,
        ServiceAction::Restart,
    ] {
        let e = run_with(
            ServiceModule::Unbound,
            action,
            j!({"response": "Error (1)\n"}),
        )
        .await
        .expect_err("Error (1)");
        match &e {
            Error::ServiceFailed {
                module,
                action: a,
                output,
            } => {
                assert_eq!(
                    (module.as_str(), *a, output.as_str()),
                    ("unbound", action.as_str(), "Error (1)")
                );
            }
            other => panic!("{other:?}"),
        }
        let text = e.to_string();
        assert!(
            text.contains(&format!(
                "{} of the unbound service failed",
                action.as_str()
            )),
            "{text}"
        );
        assert!(text.contains("Error (1)"), "{text}");
    }
}

#[tokio::test]
async fn an_unknown_configd_action_is_service_failed() {
    let e = run_with(
        ServiceModule::Hostdiscovery,
        ServiceAction::Start,
        j!({"response": "Action not allowed or missing\n"}),
    )
    .await
    .expect_err("not allowed");
    assert!(
        matches!(&e, Error::ServiceFailed { module, action: "start", output }
            if module == "hostdiscovery" && output == "Action not allowed or missing"),
        "{e:?}"
    );
}

#[tokio::test]
async fn refused_action_is_service_failed() {
    // `{"response": []}`: the answer to a request OPNsense refused (not a POST, ...).
    for action in [
        ServiceAction::Start,
        ServiceAction::Stop,
        ServiceAction::Restart,
    ] {
        let e = run_with(ServiceModule::Monit, action, j!({"response": []}))
            .await
            .expect_err("refused");
        assert!(
            matches!(&e, Error::ServiceFailed { module, action: a, output }
                if module == "monit" && *a == action.as_str() && output.starts_with("[] ") && output.contains("refused")),
            "{e:?}"
        );
    }
}

#[tokio::test]
async fn an_answer_without_response_is_invalid() {
    let e = run_with(
        ServiceModule::Kea,
        ServiceAction::Start,
        j!({"status": "ok"}),
    )
    .await
    .expect_err("no response key");
    assert_invalid_response(&e, "kea/service/start", "");
}

#[tokio::test]
async fn reconfigure_failed() {
    let opn = mock_post("radvd/service/reconfigure", j!({"status": "failed"})).await;
    let e = opn
        .service(ServiceModule::Radvd)
        .reconfigure()
        .await
        .expect_err("failed");
    assert!(matches!(e, Error::ActionFailed { .. }), "{e:?}");
}

#[tokio::test]
async fn ids_reconfigure_passes_configd_output() {
    for (status, ok) in [
        ("OK", true),
        ("", true),
        ("error generating ids template (x)", false),
    ] {
        let opn = mock_post("ids/service/reconfigure", j!({"status": status})).await;
        let r = opn.service(ServiceModule::Ids).reconfigure().await;
        assert_eq!(r.is_ok(), ok, "{status:?}: {r:?}");
    }
}
