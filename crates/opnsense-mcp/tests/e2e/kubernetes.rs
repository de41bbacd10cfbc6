//! The Kubernetes manifests of `deploy/kubernetes/` (opt-in with `OPNSENSE_E2E=1`: it needs
//! the Python package index): validated against the Kubernetes 1.37 schemas with PyPI's
//! `kubernetes-validate --strict` (unknown fields are errors), then parsed and checked for what
//! the README promises: two replicas, non-root, a read-only root filesystem, readiness and
//! liveness on `/healthz` (a path the binary answers without a token), stateless HTTP, the
//! journal in the database the Secret names, every credential from the Secret, and a Service
//! without session affinity.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::support::{external_clients_enabled, pinned_venv, run_bounded};

const RUN_TIMEOUT: Duration = Duration::from_secs(120);

fn manifests() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kubernetes");
    ["secret.yaml", "deployment.yaml", "service.yaml"]
        .iter()
        .map(|f| dir.join(f))
        .collect()
}

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("kubernetes")
}

fn by_kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in deploy/kubernetes"))
}

fn env_of<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["env"]
        .as_array()
        .and_then(|e| e.iter().find(|v| v["name"] == name))
        .unwrap_or_else(|| panic!("the container sets no {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_manifests_validate_and_keep_their_promises() {
    if !external_clients_enabled("kubernetes-validate from the Python package index") {
        return;
    }
    let bin = pinned_venv(
        "e2e-kubernetes",
        &assets().join("requirements.txt"),
        "the manifest check needs Python 3 with the venv module (apt-get install python3-venv)",
    )
    .await;
    let mut cmd = Command::new(bin.join("kubernetes-validate"));
    cmd.arg("--strict").args(manifests());
    let (code, out, err) = run_bounded(cmd, RUN_TIMEOUT, "kubernetes-validate").await;
    assert_eq!(
        code, 0,
        "kubernetes-validate --strict failed:\n{out}\n{err}"
    );
    assert_eq!(
        out.matches(" passed ").count() + err.matches(" passed ").count(),
        3,
        "every manifest was checked against a schema:\n{out}\n{err}"
    );

    let mut cmd = Command::new(bin.join("python"));
    cmd.arg(assets().join("to_json.py")).args(manifests());
    let (code, out, err) = run_bounded(cmd, RUN_TIMEOUT, "to_json.py").await;
    assert_eq!(code, 0, "{err}");
    let docs: Vec<Value> = serde_json::from_str(&out).expect("JSON of the manifests");

    let deployment = by_kind(&docs, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert!(pod["securityContext"]["runAsUser"].as_i64().unwrap_or(0) > 0);
    let containers = pod["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    let port = c["ports"][0]["containerPort"].as_i64().expect("port");
    assert_eq!(env_of(c, "OPNSENSE_HTTP_PORT")["value"], port.to_string());
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(c[probe]["httpGet"]["path"], "/healthz", "{probe}");
        assert_eq!(
            c[probe]["httpGet"]["port"], c["ports"][0]["name"],
            "{probe}"
        );
    }
    assert_eq!(env_of(c, "OPNSENSE_TRANSPORT")["value"], "http");
    assert_eq!(env_of(c, "OPNSENSE_HTTP_STATELESS")["value"], "true");
    assert_eq!(env_of(c, "OPNSENSE_STATE_DIR")["value"], "");

    let secret = by_kind(&docs, "Secret");
    let name = secret["metadata"]["name"].as_str().expect("secret name");
    let keys = secret["stringData"].as_object().expect("stringData");
    for var in [
        "OPNSENSE_STATE_URL",
        "OPNSENSE_URL",
        "OPNSENSE_API_KEY",
        "OPNSENSE_HTTP_TOKEN",
    ] {
        let r = &env_of(c, var)["valueFrom"]["secretKeyRef"];
        assert_eq!(r["name"], name, "{var} comes from the Secret");
        let key = r["key"].as_str().expect("key");
        assert!(keys.contains_key(key), "{var}: the Secret has no {key}");
    }
    assert!(
        keys["state-url"]
            .as_str()
            .is_some_and(|u| u.starts_with("postgres://")),
        "the shared journal is a Postgres URL"
    );
    // The file-based credentials come from the same Secret, mounted read-only.
    let volume = pod["volumes"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["secret"]["secretName"] == name))
        .expect("a volume of the Secret");
    let mount = c["volumeMounts"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == volume["name"]))
        .expect("the Secret is mounted");
    assert_eq!(mount["readOnly"], true);
    let dir = mount["mountPath"].as_str().expect("mount path");
    for (var, item) in [
        ("OPNSENSE_API_SECRET_FILE", "api-secret"),
        ("OPNSENSE_CA_FILE", "ca.pem"),
    ] {
        assert_eq!(env_of(c, var)["value"], format!("{dir}/{item}"), "{var}");
        assert!(keys.contains_key(item), "the Secret has no {item}");
    }

    let service = by_kind(&docs, "Service");
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(service["spec"]["sessionAffinity"], "None");
    assert_eq!(
        service["spec"]["ports"][0]["targetPort"],
        c["ports"][0]["name"]
    );
}
