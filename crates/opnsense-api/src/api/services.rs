//! `{module}/service/*`: status, start, stop, restart and reconfigure of one core service.

use std::fmt;
use std::str::FromStr;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::services::ServiceStatus;
use crate::outcome::{self, ActionStatus};
use crate::request::{Method, Request};

macro_rules! service_modules {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal ),+ $(,)?) => {
        /// A core service with the generic `{module}/service/*` controller in OPNsense 26.1.
        /// Only these can appear in a request path.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum ServiceModule {
            $( $(#[$doc])* $variant, )+
        }

        impl ServiceModule {
            /// Every supported module.
            pub const ALL: &'static [ServiceModule] = &[$(Self::$variant),+];

            /// The URL module name.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $name, )+ }
            }
        }

        // A plain string enum: the most portable schema for MCP clients.
        #[cfg(feature = "schemars")]
        impl schemars::JsonSchema for ServiceModule {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "ServiceModule".into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "enum": [$($name),+] })
            }
        }

        impl FromStr for ServiceModule {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $( $name => Ok(Self::$variant), )+
                    _ => Err(Error::invalid(
                        "module",
                        format!(
                            "{:?} is not a supported service; use one of: {}",
                            crate::error::excerpt(s),
                            [$($name),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}

service_modules! {
    /// Captive portal.
    Captiveportal = "captiveportal",
    /// Dnsmasq DNS/DHCP (the 26.1 default DHCP server).
    Dnsmasq = "dnsmasq",
    /// Host discovery.
    Hostdiscovery = "hostdiscovery",
    /// Suricata IDS/IPS.
    Ids = "ids",
    /// IPsec VPN.
    Ipsec = "ipsec",
    /// Kea DHCP.
    Kea = "kea",
    /// Monit.
    Monit = "monit",
    /// Router advertisements.
    Radvd = "radvd",
    /// Syslog.
    Syslog = "syslog",
    /// Unbound DNS resolver.
    Unbound = "unbound",
    /// WireGuard VPN.
    Wireguard = "wireguard",
}

impl fmt::Display for ServiceModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Handler for one service module.
#[derive(Debug, Clone, Copy)]
pub struct ServiceHandler<'c> {
    client: &'c Client,
    module: ServiceModule,
}

/// What a service action does, for requests and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAction {
    /// `start`.
    Start,
    /// `stop`.
    Stop,
    /// `restart`.
    Restart,
    /// `reconfigure` (regenerate configuration and reload: the apply step).
    Reconfigure,
}

impl ServiceAction {
    /// The URL action name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Restart => "restart",
            Self::Reconfigure => "reconfigure",
        }
    }
}

/// IDS's reconfigure passes on configd's output: only an explicit error or failure is one.
fn ids_reconfigure_ok(s: &str) -> bool {
    let t = s.trim().to_ascii_lowercase();
    !(t.starts_with("error") || t == "failed")
}

/// Reads a start/stop/restart answer: `{"response": "OK"}` is the only success.
fn service_outcome(
    path: &str,
    module: ServiceModule,
    action: ServiceAction,
    v: &serde_json::Value,
) -> Result<ActionStatus> {
    let output = match v.get("response") {
        Some(serde_json::Value::String(s)) => s.trim().to_owned(),
        Some(other) => other.to_string(),
        None => {
            return Err(Error::InvalidResponse {
                path: path.to_owned(),
                reason: "expected a \"response\" field".into(),
                excerpt: crate::error::excerpt_json(v),
            });
        }
    };
    if output.eq_ignore_ascii_case("ok") {
        Ok(ActionStatus { status: output })
    } else {
        Err(Error::ServiceFailed {
            module: module.as_str().to_owned(),
            action: action.as_str(),
            output,
        })
    }
}

/// `GET {module}/service/status`.
pub fn status_request(module: ServiceModule) -> Request {
    Request::with_path(Method::Get, format!("{module}/service/status"))
}

/// `POST {module}/service/{action}` without a body.
pub fn action_request(module: ServiceModule, action: ServiceAction) -> Request {
    Request::with_path(
        Method::Post,
        format!("{module}/service/{}", action.as_str()),
    )
}

impl<'c> ServiceHandler<'c> {
    pub(crate) fn new(client: &'c Client, module: ServiceModule) -> Self {
        Self { client, module }
    }

    /// `GET {module}/service/status`: running / stopped / disabled / unknown.
    pub async fn status(&self) -> Result<ServiceStatus> {
        self.client.send_json(status_request(self.module)).await
    }

    /// Runs `start`, `stop` or `restart` (answer `{"response": "<configd output>"}`: only `OK`
    /// is a success; `Error (N)`, `Action not allowed or missing` and the `[]` of a refused
    /// request are [`Error::ServiceFailed`]) or `reconfigure` (answer `{"status": "ok"}`;
    /// WireGuard answers `{"result": "ok"}`; anything else is [`Error::ActionFailed`]).
    pub async fn run(&self, action: ServiceAction) -> Result<ActionStatus> {
        let req = action_request(self.module, action);
        let module = self.module;
        match action {
            ServiceAction::Start | ServiceAction::Stop | ServiceAction::Restart => {
                self.client
                    .execute(req, |path, v| service_outcome(path, module, action, &v))
                    .await
            }
            ServiceAction::Reconfigure => {
                let (key, ok): (&str, fn(&str) -> bool) = match module {
                    ServiceModule::Wireguard => ("result", outcome::status_is_ok),
                    // IDS answers `OK`, or the start/restart output, or
                    // `error generating ids template (...)`.
                    ServiceModule::Ids => ("status", ids_reconfigure_ok),
                    _ => ("status", outcome::status_is_ok),
                };
                self.client
                    .execute(req, |path, v| {
                        outcome::status(path, "reconfigure service", key, &v, ok)
                    })
                    .await
            }
        }
    }

    /// `POST {module}/service/start`.
    pub async fn start(&self) -> Result<ActionStatus> {
        self.run(ServiceAction::Start).await
    }

    /// `POST {module}/service/stop`.
    pub async fn stop(&self) -> Result<ActionStatus> {
        self.run(ServiceAction::Stop).await
    }

    /// `POST {module}/service/restart`.
    pub async fn restart(&self) -> Result<ActionStatus> {
        self.run(ServiceAction::Restart).await
    }

    /// `POST {module}/service/reconfigure`.
    pub async fn reconfigure(&self) -> Result<ActionStatus> {
        self.run(ServiceAction::Reconfigure).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_parse_strictly() {
        assert_eq!(
            "kea".parse::<ServiceModule>().expect("kea"),
            ServiceModule::Kea
        );
        for bad in ["", "nginx", "../core", "Kea", "kea\n", "kea/service"] {
            let e = bad.parse::<ServiceModule>().expect_err(bad);
            assert!(e.to_string().contains("unbound"), "{e}");
        }
    }

    #[test]
    fn only_ok_starts_a_service() {
        use serde_json::json;
        let run = |v| service_outcome("p", ServiceModule::Kea, ServiceAction::Start, &v);
        assert_eq!(run(json!({"response": "OK"})).expect("ok").status, "OK");
        for bad in [
            json!({"response": "Error (1)"}),
            json!({"response": "Action not allowed or missing"}),
            json!({"response": []}),
            json!({"response": ""}),
        ] {
            let e = run(bad.clone()).expect_err(&bad.to_string());
            assert!(matches!(e, Error::ServiceFailed { .. }), "{e:?}");
            assert!(e.to_string().contains("kea"), "{e}");
        }
        assert!(matches!(
            run(json!({"status": "ok"})),
            Err(Error::InvalidResponse { .. })
        ));
    }

    #[test]
    fn paths() {
        assert_eq!(
            status_request(ServiceModule::Unbound).path,
            "unbound/service/status"
        );
        let r = action_request(ServiceModule::Ids, ServiceAction::Restart);
        assert_eq!(
            (r.method, r.path.as_str()),
            (Method::Post, "ids/service/restart")
        );
        assert!(r.body.is_none());
    }
}
