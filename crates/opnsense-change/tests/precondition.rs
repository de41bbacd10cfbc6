//! A write's precondition (`Engine::write_checked`) against the simulator: it sees the record
//! as OPNsense answers it, on the one read the write journals, and its refusal leaves nothing
//! journaled and nothing sent but that read (a dry run included).

use opnsense_api::Uuid;
use opnsense_api::api::firewall::FILTER_RULES;
use opnsense_change::engine::{ChangeError, Write};
use opnsense_sim::{SimConfig, Simulator};
use serde_json::{Value, json};

mod rig;

async fn rig() -> rig::Rig {
    rig::start(SimConfig::default()).await
}

/// Refuses a rule whose description is `keep me`.
fn not_kept(current: &Value) -> Result<(), String> {
    match current["description"].as_str() {
        Some("keep me") => Err("that rule is kept".to_owned()),
        _ => Ok(()),
    }
}

/// The requests the simulator answered since `from`, as `METHOD path`.
fn since(sim: &Simulator, from: usize) -> Vec<String> {
    sim.requests()[from..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn a_refused_precondition_sends_only_the_read_and_journals_nothing() {
    let r = rig().await;
    let kept = json!({"action": "pass", "interface": "lan", "protocol": "TCP", "source_net": "any", "destination_port": "22", "description": "keep me"});
    let uuid = rig::add(&r.engine, &FILTER_RULES, kept).await;
    let id: Uuid = uuid.parse().expect("uuid");
    let get = format!("GET /api/firewall/filter/get_rule/{uuid}");
    let staged_before = r
        .engine
        .journal()
        .staged(FILTER_RULES.desc.id)
        .await
        .expect("staged");
    for (write, dry_run) in [
        (
            Write::Set(id.clone(), json!({"description": "changed"})),
            false,
        ),
        (
            Write::Set(id.clone(), json!({"description": "changed"})),
            true,
        ),
        (Write::Delete(id.clone()), false),
        (Write::Delete(id), true),
    ] {
        let from = r.sim.requests().len();
        let e = r
            .engine
            .write_checked(&FILTER_RULES, write.clone(), dry_run, Some(&not_kept))
            .await
            .expect_err("refused");
        assert!(
            matches!(&e, ChangeError::Precondition(m) if m == "that rule is kept"),
            "{write:?} (dry run {dry_run}): {e}"
        );
        assert_eq!(
            since(&r.sim, from),
            vec![get.as_str()],
            "{write:?}: only the read"
        );
    }
    assert_eq!(
        r.engine
            .journal()
            .staged(FILTER_RULES.desc.id)
            .await
            .expect("staged")
            .len(),
        staged_before.len(),
        "nothing journaled"
    );
    let staged = r.sim.staged();
    let rule = staged.find(&uuid).expect("the rule is still there");
    assert_eq!(rule["description"], "keep me");
}

#[tokio::test]
async fn an_accepted_precondition_reads_once_and_writes() {
    let r = rig().await;
    let rule = json!({"action": "pass", "interface": "lan", "protocol": "TCP", "source_net": "any", "destination_port": "80", "description": "web"});
    let uuid = rig::add(&r.engine, &FILTER_RULES, rule).await;
    let id: Uuid = uuid.parse().expect("uuid");
    let seen = std::sync::Mutex::new(Vec::new());
    let record = |current: &Value| {
        seen.lock()
            .expect("lock")
            .push(current["description"].clone());
        not_kept(current)
    };
    let from = r.sim.requests().len();
    let set = r
        .engine
        .write_checked(
            &FILTER_RULES,
            Write::Set(id.clone(), json!({"description": "web 2"})),
            false,
            Some(&record),
        )
        .await
        .expect("written");
    assert_eq!(
        set.before.as_ref().map(|b| &b["description"]),
        Some(&json!("web"))
    );
    let sent = since(&r.sim, from);
    assert_eq!(
        sent.iter()
            .filter(|s| s.starts_with("GET /api/firewall/filter/get_rule/"))
            .count(),
        2,
        "the read before (also the check's) and the read-back after: {sent:?}"
    );
    assert!(
        sent.contains(&format!("POST /api/firewall/filter/set_rule/{uuid}")),
        "{sent:?}"
    );
    r.engine
        .write_checked(&FILTER_RULES, Write::Delete(id), false, Some(&record))
        .await
        .expect("deleted");
    assert!(r.sim.staged().find(&uuid).is_none(), "deleted");
    assert_eq!(*seen.lock().expect("lock"), [json!("web"), json!("web 2")]);
}
