//! `/conf/backup` and `core/backup/*` (BackupController at 26.1.10 and 26.7.2): a backup
//! per config save, the savepoint revision vs backup file names (opnsense/core#10721),
//! download, diff, revert and delete.

mod common;

use common::Harness;
use opnsense_sim::{SimConfig, Version};
use serde_json::{Value, json};

async fn items(h: &Harness) -> Vec<Value> {
    let list = h.get_ok("core/backup/backups/this").await;
    list["items"].as_array().expect("items").clone()
}

#[tokio::test]
async fn every_save_writes_a_backup_listed_newest_first() {
    let h = Harness::start().await;
    let first = items(&h).await;
    assert_eq!(first.len(), 1, "the box came with one backup");
    let b = &first[0];
    // The order of `$cfg_item` in backupsAction().
    let keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "time",
            "time_iso",
            "description",
            "username",
            "filesize",
            "id"
        ],
        "{b}"
    );
    // `time` is the revision's text (two decimals), `id` the file name (four).
    let time = b["time"].as_str().expect("time is a string");
    assert_eq!(time.split('.').nth(1).map(str::len), Some(2), "{time}");
    let id = b["id"].as_str().unwrap();
    let stamp = id
        .strip_prefix("config-")
        .and_then(|rest| rest.strip_suffix(".xml"))
        .unwrap_or_else(|| panic!("{id}"));
    let (secs, frac) = stamp.split_once('.').unwrap();
    assert!(
        secs.parse::<u64>().is_ok() && frac.parse::<u64>().is_ok(),
        "{id}"
    );
    assert!(
        (3..=4).contains(&frac.len()),
        "microtime with 4 decimals: {id}"
    );
    assert!(b["filesize"].as_u64().unwrap() > 1000);
    assert!(b["time_iso"].as_str().unwrap().ends_with("+00:00"));

    let uuid = h.add_rule(json!({"description": "one"})).await;
    let after = items(&h).await;
    assert_eq!(after.len(), 2);
    assert_eq!(
        after[0]["description"],
        "/api/firewall/filter/add_rule made changes"
    );
    assert_eq!(after[0]["username"], "root@127.0.0.1");
    assert_eq!(after[1], first[0], "older backups are unchanged");
    assert_eq!(
        h.sim.backup_ids(),
        after
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect::<Vec<_>>()
    );

    // Reads, failed writes and unchanged toggles save nothing.
    h.get_ok("firewall/filter/search_rule").await;
    h.post_ok(
        "firewall/filter/add_rule",
        json!({"rule": {"action": "nope"}}),
    )
    .await;
    h.post_ok(
        "firewall/filter/del_rule/00000000-0000-4000-8000-000000000000",
        json!({}),
    )
    .await;
    h.post_ok(&format!("firewall/filter/toggle_rule/{uuid}/1"), json!({}))
        .await;
    h.post_ok("firewall/filter/apply", json!({})).await;
    assert_eq!(items(&h).await.len(), 2);

    // Each of these saves.
    h.post_ok(&format!("firewall/filter/toggle_rule/{uuid}/0"), json!({}))
        .await;
    h.post_ok(
        &format!("firewall/filter/set_rule/{uuid}"),
        json!({"rule": {"description": "two"}}),
    )
    .await;
    h.post_ok(
        &format!("firewall/filter/toggle_rule_log/{uuid}/1"),
        json!({}),
    )
    .await;
    h.post_ok(&format!("firewall/filter/del_rule/{uuid}"), json!({}))
        .await;
    h.post_ok(
        "firewall/alias/add_item",
        json!({"alias": {"name": "bk_test", "type": "host", "content": "10.1.1.1"}}),
    )
    .await;
    let all = items(&h).await;
    let descriptions: Vec<&str> = all[..5]
        .iter()
        .map(|i| i["description"].as_str().unwrap())
        .collect();
    assert_eq!(
        descriptions,
        [
            "/api/firewall/alias/add_item made changes",
            &format!("/api/firewall/filter/del_rule/{uuid} made changes"),
            &format!("/api/firewall/filter/toggle_rule_log/{uuid}/1 made changes"),
            &format!("/api/firewall/filter/set_rule/{uuid} made changes"),
            &format!("/api/firewall/filter/toggle_rule/{uuid}/0 made changes"),
        ]
    );
    let mut ids: Vec<&str> = all.iter().map(|i| i["id"].as_str().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "distinct file names");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn stock_savepoint_revision_names_no_backup_fixed_one_does() {
    for (restores, found) in [(false, false), (true, true)] {
        let h = Harness::with(SimConfig {
            rollback_restores: restores,
            ..SimConfig::default()
        })
        .await;
        for _ in 0..20 {
            let sp = h.post_ok("firewall/filter/savepoint", json!({})).await;
            let rev = sp["revision"].as_str().unwrap();
            let list = items(&h).await;
            // The savepoint's save is the newest backup, its revision the item's time.
            assert_eq!(list[0]["time"], rev);
            assert_eq!(
                list[0]["description"],
                "/api/firewall/filter/savepoint made changes"
            );
            let wanted = format!("config-{rev}.xml");
            assert_eq!(
                list.iter().any(|i| i["id"] == wanted.as_str()),
                found,
                "restores={restores}: {rev} vs {}",
                list[0]["id"]
            );
        }
        h.sim.shutdown().await;
    }
}

#[tokio::test]
async fn retention_follows_backup_count() {
    let h = Harness::with(SimConfig {
        backup_count: 3,
        ..SimConfig::default()
    })
    .await;
    let sp = h.post_ok("firewall/filter/savepoint", json!({})).await;
    assert_eq!(sp["retention"], "3");
    for i in 0..5 {
        h.add_rule(json!({"description": format!("r{i}")})).await;
    }
    let list = items(&h).await;
    assert_eq!(list.len(), 3);
    assert_eq!(
        list[2]["description"], "/api/firewall/filter/add_rule made changes",
        "the oldest were cleaned up"
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn providers_download_and_diff() {
    let h = Harness::start().await;
    assert_eq!(
        h.get_ok("core/backup/providers").await,
        json!({"items": {"this": {"description": "This Firewall", "dirname": "/conf/backup"}}})
    );
    assert_eq!(
        h.get_ok("core/backup/backups/elsewhere").await,
        json!({"items": []})
    );
    let old = items(&h).await[0]["id"].as_str().unwrap().to_owned();
    h.add_rule(json!({"description": "Allow <b>'quoted'</b> & more"}))
        .await;
    let new = items(&h).await[0]["id"].as_str().unwrap().to_owned();

    // Without a name: the newest, with its revision block.
    let resp = h
        .request(reqwest::Method::GET, "core/backup/download/this")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    let stamp = new.trim_start_matches("config-");
    assert_eq!(
        resp.headers()["content-disposition"],
        format!("attachment; filename=config-OPNsense.localdomain-{stamp}").as_str()
    );
    let xml = resp.text().await.unwrap();
    assert!(xml.contains("Allow &lt;b&gt;'quoted'&lt;/b&gt; &amp; more"));
    assert!(xml.contains(
        "<revision>\n    <username>root@127.0.0.1</username>\n    <user_apitoken>sim-key</user_apitoken>\n    <description>/api/firewall/filter/add_rule made changes</description>"
    ));
    let older = h
        .request(
            reqwest::Method::GET,
            &format!("core/backup/download/this/{old}"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!older.contains("quoted"));
    assert!(older.contains("<description>/usr/local/etc/rc.bootup made changes</description>"));
    let (s, body) = h.get("core/backup/download/this/config-1.xml").await;
    assert_eq!((s, body), (200, json!([])));

    // diff -u <backup2> <backup1>, HTML-escaped line by line.
    let diff = h
        .get_ok(&format!("core/backup/diff/this/{new}/{old}"))
        .await;
    let lines: Vec<&str> = diff["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines[0].starts_with(&format!("--- /conf/backup/{old}\t")),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(&format!("+++ /conf/backup/{new}\t")),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("@@ -"), "{}", lines[2]);
    assert!(lines.contains(
        &"+            &lt;description&gt;Allow &amp;lt;b&amp;gt;&#039;quoted&#039;&amp;lt;/b&amp;gt; &amp;amp; more&lt;/description&gt;"
    ), "{lines:#?}");
    assert!(lines.contains(
        &"-    &lt;description&gt;/usr/local/etc/rc.bootup made changes&lt;/description&gt;"
    ));
    assert_eq!(
        h.get_ok(&format!("core/backup/diff/this/{new}/{new}"))
            .await,
        json!({"items": []})
    );
    assert_eq!(
        h.get_ok(&format!("core/backup/diff/this/{new}/config-1.xml"))
            .await,
        json!({"items": []})
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn revert_restores_the_staged_config_only_and_delete_removes() {
    let h = Harness::start().await;
    let seeded = h.sim.staged();
    let initial = items(&h).await[0]["id"].as_str().unwrap().to_owned();
    let uuid = h.add_rule(json!({"description": "to be reverted"})).await;
    h.post_ok("firewall/filter/apply", json!({})).await;

    let (s, body) = h.get(&format!("core/backup/revertBackup/{initial}")).await;
    assert_eq!((s, body), (200, json!({"status": "failed"})));
    h.post_expect_each(&[
        (
            "core/backup/revertBackup/config-1.xml".to_owned(),
            json!({"status": "not_found"}),
        ),
        (
            format!("core/backup/revertBackup/{initial}"),
            json!({"status": "reverted"}),
        ),
    ])
    .await;
    assert_eq!(h.sim.staged(), seeded, "the whole config is the backup's");
    assert!(
        h.sim.live().find(&uuid).is_some(),
        "nothing is reconfigured: the running ruleset keeps the rule"
    );
    let list = items(&h).await;
    assert_eq!(
        list[0]["description"],
        format!("/api/core/backup/revertBackup/{initial} made changes")
    );

    let (s, body) = h.get(&format!("core/backup/deleteBackup/{initial}")).await;
    assert_eq!((s, body), (200, json!({"status": "failed"})));
    // Deleting twice: the second time there is nothing to delete.
    for status in ["deleted", "not_found"] {
        h.post_expect(
            &format!("core/backup/deleteBackup/{initial}"),
            json!({ "status": status }),
        )
        .await;
    }
    assert!(items(&h).await.iter().all(|i| i["id"] != initial.as_str()));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn rollback_saves_and_names_its_script() {
    let h = Harness::with(SimConfig {
        rollback_restores: true,
        ..SimConfig::default()
    })
    .await;
    let rev = h.savepoint().await;
    let uuid = h.add_rule(json!({"description": "risky"})).await;
    h.post_ok("firewall/filter/apply", json!({})).await;
    h.post_expect(
        &format!("firewall/filter/revert/{rev}"),
        json!({"status": "ok"}),
    )
    .await;
    assert!(h.sim.live().find(&uuid).is_none());
    let list = items(&h).await;
    assert_eq!(
        list[0]["description"],
        format!("/api/firewall/filter/revert/{rev} made changes")
    );
    // 26.7 has the same backup API.
    let h7 = Harness::at(Version::V26_7).await;
    assert_eq!(items(&h7).await.len(), 1);
    h7.sim.shutdown().await;
    h.sim.shutdown().await;
}
