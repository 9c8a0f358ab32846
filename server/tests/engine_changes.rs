//! Issue #21: a live set stored by an earlier engine is linted at start; the items this engine
//! judges differently are reported on `GET /api/v1/live` (and logged), and kept in the set.

mod common;

use common::{ADMIN_TOKEN, TestServer};

/// Accepted by the engine before issue #21, rejected by libsinsp and now by the engine.
const OLD_ENGINE_RULES: &str = r#"
- rule: home from the environment
  desc: x
  condition: evt.type = execve and proc.env.HOME = /root
  output: "%proc.name"
  priority: WARNING
- rule: files by name
  desc: x
  condition: evt.type = openat and fd.filename = passwd
  output: "%proc.name"
  priority: WARNING
- rule: plain
  desc: x
  condition: evt.type = openat and fd.name = /etc/passwd
  output: "%proc.name"
  priority: WARNING
"#;

#[tokio::test]
async fn a_live_set_judged_differently_is_reported_at_start_and_kept() {
    let s = TestServer::new().await;
    // What an earlier engine stored: the version goes in as it was promoted then.
    let version = s.promote(OLD_ENGINE_RULES).await;
    // Versions promoted by this engine carry no report.
    let before = s.call("GET", "/api/v1/live", Some(ADMIN_TOKEN), None).await;
    assert!(
        before.body.get("engine_changes").is_none(),
        "{}",
        before.text
    );

    // A restart of a version this engine stored reports nothing either.
    let same_engine = s.reopen(|_| {}).await;
    let live = same_engine
        .call("GET", "/api/v1/live", Some(ADMIN_TOKEN), None)
        .await;
    assert!(live.body.get("engine_changes").is_none(), "{}", live.text);
    drop(same_engine);
    // Now say an earlier engine stored it (what the migration gives every older version).
    sqlx::query("UPDATE live_versions SET engine_revision = 0 WHERE version = ?")
        .bind(version)
        .execute(&s.state.db)
        .await
        .unwrap();

    let restarted = s.reopen(|_| {}).await;
    let live = restarted
        .call("GET", "/api/v1/live", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(live.body["version"], version);
    assert_eq!(
        live.body["files"][0]["content"], OLD_ENGINE_RULES,
        "the live set is kept as it is"
    );
    let changes = live.body["engine_changes"].as_array().unwrap();
    let find = |name: &str| {
        changes
            .iter()
            .find(|c| c["item_name"] == name)
            .unwrap_or_else(|| panic!("{name} not reported: {changes:#?}"))
    };
    let env = find("home from the environment");
    assert_eq!(env["item_kind"], "rule");
    assert_eq!(env["change"], "no_longer_loads");
    assert_eq!(
        env["detail"],
        "filter_check called with nonexistent field proc.env.HOME"
    );
    let by_name = find("files by name");
    assert_eq!(by_name["change"], "may_match_differently");
    assert_eq!(
        by_name["detail"],
        "fd.filename: fd.filename is derived from fd.name only for files"
    );
    assert!(changes.iter().all(|c| c["item_name"] != "plain"));
    // The rule that no longer loads is not evaluated; the others are.
    let current = restarted.state.live.current();
    let names: Vec<&str> = current
        .loaded
        .ruleset
        .rules()
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["files by name", "plain"]);
}
