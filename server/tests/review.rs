//! Team review end to end through the router: proposals, revisions, reviews, comments,
//! evidence, promotion (and each refusal), rebase, close, the audit trail and `--notify-url`.

mod common;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, DRAFT, EVENTS, Response, TestServer};
use serde_json::{Value, json};
use std::time::Duration;

const FALCO: &str = "falco_rules.yaml";
const CUSTOM: &str = "custom_rules.yaml";
const NEW_RULE: &str = "Read file below etc";
const SENSITIVE: &str = "Read sensitive file untrusted";
const EXEC_RULE: &str = "
- rule: Exec by cat
  desc: cat started
  condition: evt.type = execve and proc.name = cat
  output: \"%proc.name started (command=%proc.cmdline)\"
  priority: NOTICE
";

/// A server with a team: two authors, two reviewers, a viewer.
struct Team {
    s: TestServer,
    alice: String,
    mallory: String,
    bob: String,
    carol: String,
    victor: String,
}

impl Team {
    async fn new() -> Team {
        Team::with(|_| {}).await
    }

    async fn with(configure: impl FnOnce(&mut rulestudio_server::ServeArgs)) -> Team {
        let s = TestServer::with(configure).await;
        Team {
            alice: s.user("alice", "author").await,
            mallory: s.user("mallory", "author").await,
            bob: s.user("bob", "reviewer").await,
            carol: s.user("carol", "reviewer").await,
            victor: s.user("victor", "viewer").await,
            s,
        }
    }

    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Response {
        self.s
            .call(method, &format!("/api/v1{path}"), Some(token), body)
            .await
    }

    /// Creates a proposal and returns its id.
    async fn propose(&self, token: &str, files: Value) -> i64 {
        let r = self
            .propose_raw(token, json!({"title": "t", "files": files}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_i64().unwrap()
    }

    async fn propose_raw(&self, token: &str, body: Value) -> Response {
        self.call("POST", "/proposals", token, Some(body)).await
    }

    async fn get(&self, id: i64) -> Value {
        let r = self
            .call("GET", &format!("/proposals/{id}"), &self.victor, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body
    }

    async fn review(&self, token: &str, id: i64, verdict: &str) -> Response {
        let body = json!({"verdict": verdict, "body": "looked at the evidence"});
        self.call(
            "POST",
            &format!("/proposals/{id}/reviews"),
            token,
            Some(body),
        )
        .await
    }

    async fn approve(&self, token: &str, id: i64) {
        let r = self.review(token, id, "approve").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }

    async fn promote(&self, token: &str, id: i64) -> Response {
        self.call("POST", &format!("/proposals/{id}/promote"), token, None)
            .await
    }

    async fn act(&self, token: &str, id: i64, action: &str) -> Response {
        self.call("POST", &format!("/proposals/{id}/{action}"), token, None)
            .await
    }

    async fn live(&self) -> Value {
        self.call("GET", "/live", &self.victor, None).await.body
    }

    async fn live_file(&self, name: &str) -> String {
        let live = self.live().await;
        live["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in the live set"))["content"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn reasons(r: &Response) -> Vec<String> {
    r.body["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons in {}", r.text))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn add_custom(content: &str) -> Value {
    json!([{"name": CUSTOM, "content": content}])
}

/// The item of `rule` in `text`: from its `- rule:` line to the next item.
fn rule_item(text: &str, rule: &str) -> String {
    let start = text.find(&format!("- rule: {rule}\n")).unwrap();
    let end = text[start..]
        .find("\n\n- ")
        .map_or(text.len(), |e| start + e + 1);
    text[start..end].to_string()
}

/// The official rules with nginx excluded from [`SENSITIVE`].
fn sensitive_without_nginx(falco: &str) -> String {
    let item = rule_item(falco, SENSITIVE);
    let changed = item.replace(
        "    and not user_read_sensitive_file_containers\n",
        "    and not user_read_sensitive_file_containers\n    and not proc.name = nginx\n",
    );
    assert_ne!(item, changed);
    falco.replace(&item, &changed)
}

#[tokio::test]
async fn a_proposal_goes_from_open_to_approved_to_promoted() {
    let t = Team::new().await;
    let r = t
        .propose_raw(
            &t.alice,
            json!({"title": "Watch /etc", "description": "reads below /etc", "files": add_custom(DRAFT)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let p = &r.body;
    let id = p["id"].as_i64().unwrap();
    assert_eq!(
        (
            &p["status"],
            &p["revision"],
            &p["base_version"],
            &p["author"]
        ),
        (&json!("open"), &json!(1), &json!(1), &json!("alice"))
    );
    assert_eq!(p["diff"][0]["file"], CUSTOM);
    assert_eq!(p["diff"][0]["status"], "added");
    let diff = p["diff"][0]["diff"].as_str().unwrap();
    assert!(diff.starts_with("--- /dev/null\n+++ b/custom_rules.yaml\n@@ -0,0 +1,6 @@\n+- rule: Read file below etc\n"), "{diff}");
    assert_eq!(p["evidence"]["errors"], 0);
    assert_eq!(p["evidence"]["rules"][0]["name"], NEW_RULE);
    assert_eq!(
        p["blockers"],
        json!(["revision 1 has 0 of the 1 approvals it needs"])
    );

    let listed = t
        .call("GET", "/proposals?status=open", &t.victor, None)
        .await;
    assert_eq!(listed.body["proposals"][0]["id"], id);
    let none = t
        .call("GET", "/proposals?status=approved", &t.victor, None)
        .await;
    assert_eq!(none.body["proposals"], json!([]));

    let c = json!({"body": "why /etc and not /etc/ssl only?", "file": CUSTOM, "line": 4});
    let r = t
        .call(
            "POST",
            &format!("/proposals/{id}/comments"),
            &t.bob,
            Some(c),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["comments"][0]["author"], "bob");
    assert_eq!(r.body["comments"][0]["line"], 4);

    t.approve(&t.bob, id).await;
    let p = t.get(id).await;
    assert_eq!(
        (&p["status"], &p["approvals"]),
        (&json!("approved"), &json!(1))
    );
    assert_eq!(p["blockers"], json!([]));
    let listed = t
        .call("GET", "/proposals?status=approved", &t.victor, None)
        .await;
    assert_eq!(listed.body["proposals"][0]["id"], id);

    let r = t.promote(&t.bob, id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, json!({"live_version": 2}));
    let live = t.live().await;
    assert_eq!(
        (&live["version"], &live["proposal"]),
        (&json!(2), &json!(id))
    );
    assert_eq!(t.live_file(CUSTOM).await, DRAFT);
    let p = t.get(id).await;
    assert_eq!(
        (&p["status"], &p["live_version"]),
        (&json!("promoted"), &json!(2))
    );

    // Final: nothing more happens to it.
    let again = t.promote(&t.bob, id).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(reasons(&again), [format!("proposal #{id} is promoted")]);
    assert_eq!(
        t.review(&t.carol, id, "approve").await.status,
        StatusCode::CONFLICT
    );
    let put = json!({"files": add_custom("- list: x\n  items: []\n")});
    let r = t
        .call("PUT", &format!("/proposals/{id}"), &t.alice, Some(put))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        t.act(&t.alice, id, "close").await.status,
        StatusCode::CONFLICT
    );

    let doc =
        t.s.call("GET", "/api/v1/openapi.json", None, None)
            .await
            .body;
    for path in [
        "/api/v1/proposals/{id}/promote",
        "/api/v1/proposals/{id}/rebase",
        "/api/v1/audit",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} is not in openapi.json"
        );
    }
}

#[tokio::test]
async fn malformed_proposals_are_refused_with_the_place_of_the_problem() {
    let t = Team::new().await;
    let cases = [
        (json!({"title": "t", "files": []}), "`files` is empty"),
        (json!({"title": " ", "files": add_custom(DRAFT)}), "`title`"),
        (
            json!({"title": "t", "files": [{"name": CUSTOM}]}),
            "files[0] (`custom_rules.yaml`)",
        ),
        (
            json!({"title": "t", "files": [{"name": "../x", "content": ""}]}),
            "files[0] (`../x`)",
        ),
        (
            json!({"title": "t", "files": [{"name": "gone.yaml", "delete": true}]}),
            "`gone.yaml` cannot be deleted",
        ),
        (
            json!({"title": "t", "files": [{"name": FALCO, "delete": true}]}),
            "deletes every file",
        ),
        (
            json!({"title": "t", "files": [{"name": FALCO, "content": t.live_file(FALCO).await}]}),
            "would change nothing",
        ),
        (json!({"title": "t"}), "files"),
    ];
    for (body, needle) in cases {
        let r =
            t.s.call_unchecked(
                "POST",
                "/api/v1/proposals",
                Some(&t.alice),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert!(
            r.body["message"].as_str().unwrap().contains(needle),
            "{body}: {}",
            r.text
        );
    }
    let id = t.propose(&t.alice, add_custom(DRAFT)).await;
    for (c, needle) in [
        (json!({"body": "x", "line": 3}), "`line` needs the `file`"),
        (
            json!({"body": "x", "file": FALCO, "line": 3}),
            "does not change `falco_rules.yaml`",
        ),
        (json!({"body": "x", "file": CUSTOM, "line": 0}), "1-based"),
        (json!({"body": ""}), "`body`"),
    ] {
        let r = t
            .call(
                "POST",
                &format!("/proposals/{id}/comments"),
                &t.bob,
                Some(c.clone()),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{c}: {}", r.text);
        assert!(
            r.body["message"].as_str().unwrap().contains(needle),
            "{c}: {}",
            r.text
        );
    }
    let r = t
        .call("GET", "/proposals?status=merged", &t.victor, None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        t.call("GET", "/proposals/999", &t.victor, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.promote(&t.bob, 999).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn roles_and_authorship_decide_who_may_do_what() {
    let t = Team::new().await;
    let id = t.propose(&t.alice, add_custom(DRAFT)).await;
    let path = format!("/api/v1/proposals/{id}");
    assert_eq!(
        t.s.call("GET", &path, None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.propose_raw(&t.victor, json!({"title": "t", "files": add_custom(DRAFT)}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let comment = Some(json!({"body": "hello"}));
    assert_eq!(
        t.call(
            "POST",
            &format!("/proposals/{id}/comments"),
            &t.victor,
            comment
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Authors do not review or promote.
    assert_eq!(
        t.review(&t.mallory, id, "approve").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(t.promote(&t.alice, id).await.status, StatusCode::FORBIDDEN);
    // Only the author revises; only the author or a reviewer closes or rebases.
    let put = Some(json!({"files": add_custom("- list: x\n  items: []\n")}));
    let r = t
        .call("PUT", &format!("/proposals/{id}"), &t.mallory, put.clone())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        t.call("PUT", &format!("/proposals/{id}"), &t.bob, put)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.act(&t.mallory, id, "close").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.act(&t.mallory, id, "rebase").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(t.act(&t.bob, id, "rebase").await.status, StatusCode::OK);

    // A reviewer's own proposal: 403 on reviewing it, whatever the role, admin included.
    let own = t
        .propose(&t.bob, add_custom("- list: mine\n  items: []\n"))
        .await;
    let r = t.review(&t.bob, own, "approve").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("someone else must review it"),
        "{}",
        r.text
    );
    let admins = t
        .propose(ADMIN_TOKEN, add_custom("- list: admins\n  items: []\n"))
        .await;
    assert_eq!(
        t.review(ADMIN_TOKEN, admins, "approve").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.review(ADMIN_TOKEN, own, "request_changes").await.status,
        StatusCode::CREATED
    );

    assert_eq!(
        t.call("GET", "/audit", &t.bob, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.call("GET", "/audit", ADMIN_TOKEN, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn approvals_of_an_older_revision_stop_counting() {
    let t = Team::new().await;
    let id = t.propose(&t.alice, add_custom(DRAFT)).await;
    t.approve(&t.bob, id).await;
    assert_eq!(t.get(id).await["status"], "approved");

    let revised = DRAFT.replace("priority: WARNING", "priority: NOTICE");
    let put = json!({"files": add_custom(&revised), "title": "Watch /etc, quietly"});
    let r = t
        .call("PUT", &format!("/proposals/{id}"), &t.alice, Some(put))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let p = &r.body;
    assert_eq!(
        (&p["revision"], &p["status"], &p["approvals"], &p["title"]),
        (
            &json!(2),
            &json!("open"),
            &json!(0),
            &json!("Watch /etc, quietly")
        )
    );
    assert!(
        p["diff"][0]["diff"]
            .as_str()
            .unwrap()
            .contains("+  priority: NOTICE")
    );
    assert_eq!(p["reviews"][0]["revision"], 1);
    assert_eq!(
        p["blockers"],
        json!(["revision 2 has 0 of the 1 approvals it needs"])
    );
    let r = t.promote(&t.bob, id).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        reasons(&r),
        ["revision 2 has 0 of the 1 approvals it needs"]
    );

    t.approve(&t.bob, id).await;
    let r = t.promote(&t.carol, id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(t.live_file(CUSTOM).await, revised);
}

#[tokio::test]
async fn required_approvals_come_from_distinct_reviewers() {
    let t = Team::with(|a| a.required_approvals = 2).await;
    let id = t.propose(&t.alice, add_custom(DRAFT)).await;
    t.approve(&t.bob, id).await;
    t.approve(&t.bob, id).await;
    let r = t.promote(&t.bob, id).await;
    assert_eq!(
        reasons(&r),
        ["revision 1 has 1 of the 2 approvals it needs"]
    );
    t.approve(&t.carol, id).await;
    assert_eq!(t.promote(&t.bob, id).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_change_request_blocks_until_its_reviewer_approves() {
    let t = Team::new().await;
    let id = t.propose(&t.alice, add_custom(DRAFT)).await;
    let r = t.review(&t.carol, id, "request_changes").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    t.approve(&t.bob, id).await;
    let p = t.get(id).await;
    assert_eq!((&p["status"], &p["approvals"]), (&json!("open"), &json!(1)));
    let r = t.promote(&t.bob, id).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(reasons(&r), ["`carol` requested changes"]);

    // A new revision does not dismiss the request; its reviewer's approval does.
    let put = json!({"files": add_custom(&DRAFT.replace("WARNING", "ERROR"))});
    let r = t
        .call("PUT", &format!("/proposals/{id}"), &t.alice, Some(put))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    t.approve(&t.bob, id).await;
    assert_eq!(
        reasons(&t.promote(&t.bob, id).await),
        ["`carol` requested changes"]
    );
    t.approve(&t.carol, id).await;
    assert_eq!(t.get(id).await["status"], "approved");
    assert_eq!(t.promote(&t.bob, id).await.status, StatusCode::OK);
}

#[tokio::test]
async fn lint_errors_make_promotion_unprocessable() {
    let t = Team::new().await;
    let broken = DRAFT.replace("fd.name startswith", "fd.nme startswith");
    let id = t.propose(&t.alice, add_custom(&broken)).await;
    let p = t.get(id).await;
    assert!(
        p["evidence"]["errors"].as_u64().unwrap() >= 1,
        "{}",
        p["evidence"]
    );
    assert_eq!(p["evidence"]["diagnostics"][0]["file"], CUSTOM);
    t.approve(&t.bob, id).await;
    let r = t.promote(&t.bob, id).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["code"], "unprocessable");
    let why = reasons(&r);
    assert!(
        why[0].starts_with("lint error in custom_rules.yaml:3:"),
        "{why:?}"
    );
    assert!(why[0].contains("fd.nme"), "{why:?}");
    assert_eq!(t.live().await["version"], 1);
}

/// A node reports the engine it compiles with; what it cannot compile (Falco's
/// `required_engine_version` rule) blocks the promotion, naming the node, until it is upgraded.
#[tokio::test]
async fn nodes_whose_engine_is_too_old_block_the_promotion() {
    let t = Team::new().await;
    let collector = t.s.user("node-old", "collector").await;
    let beat = |node: &str, engine: &str| {
        json!({"node": node, "captured": 0, "filtered": 0, "lost_kernel": 0, "spooled": 0,
               "sent": 0, "dropped": 0, "live_version": 1, "engine_version": engine})
    };
    for (node, engine) in [("old", "0.50.0"), ("current", "0.63.0")] {
        let r = t
            .call(
                "POST",
                "/collectors/heartbeat",
                &collector,
                Some(beat(node, engine)),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    let id = t.propose(&t.alice, add_custom(DRAFT)).await;
    let p = t.get(id).await;
    // The live set's falco_rules.yaml declares `required_engine_version: 0.57.0`.
    assert_eq!(p["evidence"]["required_engine_version"], "0.57.0");
    let expected = "1 node cannot compile this: the rules require engine version 0.57.0, \
                    and `old` runs 0.50.0";
    let blockers: Vec<&str> = p["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert!(blockers.contains(&expected), "{blockers:?}");

    t.approve(&t.bob, id).await;
    let r = t.promote(&t.bob, id).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(reasons(&r), vec![expected.to_string()]);
    assert_eq!(t.live().await["version"], 1);

    // Upgraded, the node no longer blocks.
    let r = t
        .call(
            "POST",
            "/collectors/heartbeat",
            &collector,
            Some(beat("old", "0.63.0")),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(t.get(id).await["blockers"], json!([]));
    let r = t.promote(&t.bob, id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(t.live().await["version"], 2);
}

#[tokio::test]
async fn rule_tests_travel_with_the_proposal_and_block_when_they_fail() {
    let t = Team::new().await;
    let shadow = json!({"evt.type": "openat", "fd.name": "/etc/shadow", "proc.name": "cat"});
    let tmp = json!({"evt.type": "openat", "fd.name": "/tmp/x", "proc.name": "cat"});
    let tests = json!([
        {"name": "reads shadow", "rule": NEW_RULE, "event": shadow, "expect": "match"},
        {"rule": NEW_RULE, "event": tmp, "expect": "match"},
    ]);
    let body = json!({"title": "t", "files": add_custom(DRAFT), "tests": tests});
    let r = t.propose_raw(&t.alice, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.body["evidence"]["tests"],
        json!([
            {"name": "reads shadow", "rule": NEW_RULE, "passed": true},
            {"name": "#2", "rule": NEW_RULE, "passed": false, "message": "expected match, got no_match"},
        ])
    );
    t.approve(&t.bob, id).await;
    let r = t.promote(&t.bob, id).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        reasons(&r),
        [format!(
            "rule test #2 (rule '{NEW_RULE}') fails: expected match, got no_match"
        )]
    );

    let fixed = json!([{"rule": NEW_RULE, "event": tmp, "expect": "no_match"}]);
    let put = json!({"files": add_custom(&DRAFT.replace("WARNING", "NOTICE")), "tests": fixed});
    let r = t
        .call("PUT", &format!("/proposals/{id}"), &t.alice, Some(put))
        .await;
    assert_eq!(r.body["evidence"]["tests"][0]["passed"], true, "{}", r.text);
    t.approve(&t.bob, id).await;
    assert_eq!(t.promote(&t.bob, id).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_stale_base_is_refused_until_the_proposal_is_rebased() {
    let t = Team::new().await;
    let falco = t.live_file(FALCO).await;
    let first = t.propose(&t.alice, add_custom(DRAFT)).await;
    let edited = sensitive_without_nginx(&falco);
    let second = t
        .propose(&t.mallory, json!([{"name": FALCO, "content": edited}]))
        .await;
    let clashing = falco.replace(
        "    and not user_read_sensitive_file_containers\n",
        "    and not user_read_sensitive_file_containers\n    and not proc.name = apache2\n",
    );
    let third = t
        .propose(&t.mallory, json!([{"name": FALCO, "content": clashing}]))
        .await;
    for id in [first, second, third] {
        t.approve(&t.bob, id).await;
    }
    assert_eq!(t.promote(&t.bob, first).await.status, StatusCode::OK);

    let moved = "the live set moved from version 1 to 2 since the proposal's base; rebase first";
    assert_eq!(t.get(second).await["blockers"], json!([moved]));
    let r = t.promote(&t.bob, second).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(reasons(&r), [moved]);

    let r = t.act(&t.mallory, second, "rebase").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let p = &r.body;
    assert_eq!(
        (
            &p["base_version"],
            &p["revision"],
            &p["approvals"],
            &p["status"]
        ),
        (&json!(2), &json!(2), &json!(0), &json!("open"))
    );
    assert_eq!(p["evidence"]["live_version"], 2);
    assert_eq!(p["diff"].as_array().unwrap().len(), 1);
    assert!(
        p["diff"][0]["diff"]
            .as_str()
            .unwrap()
            .contains("+    and not proc.name = nginx\n")
    );
    t.approve(&t.carol, second).await;
    let r = t.promote(&t.carol, second).await;
    assert_eq!(r.body, json!({"live_version": 3}), "{}", r.text);
    // Both changes are live: the rebase carried the second onto the first.
    assert_eq!(t.live_file(FALCO).await, edited);
    assert_eq!(t.live_file(CUSTOM).await, DRAFT);

    // The third edits the lines the second changed: the rebase cannot merge it.
    let r = t.act(&t.mallory, third, "rebase").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(
        reasons(&r),
        ["`falco_rules.yaml`: the proposal's changes overlap changes made in the live set"]
    );
    assert_eq!(t.get(third).await["base_version"], 1);
}

#[tokio::test]
async fn concurrent_promotions_from_one_base_let_exactly_one_win() {
    let t = Team::new().await;
    let a = t.propose(&t.alice, add_custom(DRAFT)).await;
    let b = t
        .propose(
            &t.mallory,
            json!([{"name": "other_rules.yaml", "content": "- list: other\n  items: []\n"}]),
        )
        .await;
    t.approve(&t.bob, a).await;
    t.approve(&t.bob, b).await;
    let (ra, rb) = tokio::join!(t.promote(&t.bob, a), t.promote(&t.carol, b));
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        ra.text,
        rb.text
    );
    let (won, lost, lost_id) = if ra.status == StatusCode::OK {
        (ra, rb, b)
    } else {
        (rb, ra, a)
    };
    assert_eq!(won.body, json!({"live_version": 2}));
    let why = reasons(&lost);
    assert!(why[0].contains("moved from version 1 to 2"), "{why:?}");
    assert_eq!(t.live().await["version"], 2);
    assert_eq!(t.get(lost_id).await["status"], "approved");
    let history = t.call("GET", "/live/history", &t.victor, None).await.body;
    assert_eq!(history["versions"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn closing_ends_a_proposal() {
    let t = Team::new().await;
    let id = t.propose(&t.alice, add_custom(DRAFT)).await;
    let r = t.act(&t.alice, id, "close").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "closed");
    assert_eq!(
        reasons(&t.promote(&t.bob, id).await),
        [format!("proposal #{id} is closed")]
    );
    assert_eq!(
        t.review(&t.bob, id, "approve").await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        t.act(&t.alice, id, "rebase").await.status,
        StatusCode::CONFLICT
    );
    let closed = t
        .call("GET", "/proposals?status=closed", &t.victor, None)
        .await;
    assert_eq!(closed.body["proposals"][0]["id"], id);

    let other = t.propose(&t.alice, add_custom(DRAFT)).await;
    assert_eq!(
        t.act(&t.carol, other, "close").await.body["status"],
        "closed"
    );
    assert_eq!(t.live().await["version"], 1);
}

async fn preview(t: &Team, rules: &str, window: Value) -> Value {
    let body = json!({"rules": rules, "window": window});
    let r = t.call("POST", "/preview", &t.victor, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

#[tokio::test]
async fn evidence_equals_the_preview_of_the_same_rules_on_the_same_window() {
    let t = Team::new().await;
    t.s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let first = t.propose(&t.alice, add_custom(DRAFT)).await;
    let evidence = t.get(first).await["evidence"].clone();
    assert_eq!(evidence["window"], json!({"last_events": 100000}));
    let p = preview(&t, DRAFT, json!({"last_events": 100000})).await;
    assert_eq!(evidence["rules"], p["rules"]);
    assert_eq!(
        (&evidence["scanned"], &p["scanned"]),
        (&json!(72), &json!(72))
    );
    t.approve(&t.bob, first).await;
    assert_eq!(t.promote(&t.bob, first).await.status, StatusCode::OK);

    // A live rule altered and a rule added: the same file as a draft on top of the live set.
    let custom = DRAFT.replace(
        "fd.name startswith /etc/",
        "fd.name startswith /etc/ and proc.name != nginx",
    ) + EXEC_RULE;
    let second = t.propose(&t.alice, add_custom(&custom)).await;
    let evidence = t.get(second).await["evidence"].clone();
    let p = preview(&t, &custom, json!({"last_events": 100000})).await;
    assert_eq!(evidence["rules"], p["rules"]);
    assert_eq!(evidence["scanned"], p["scanned"]);
    let names: Vec<&str> = evidence["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [NEW_RULE, "Exec by cat"]);
    let altered = &evidence["rules"][0];
    // nginx's twelve reads below /etc were live matches; the change removes them.
    let counts =
        |r: &Value| ["matched", "live_matched", "added", "removed"].map(|k| r[k].as_u64().unwrap());
    assert_eq!(counts(altered), [24, 36, 0, 12]);
    assert_eq!(counts(&evidence["rules"][1]), [4, 0, 4, 0]);

    // Refreshed on another window: still equal.
    let window = json!({"last_events": 30});
    let r = t
        .call(
            "POST",
            &format!("/proposals/{second}/evidence"),
            &t.alice,
            Some(json!({"window": window})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["evidence"]["window"], window);
    assert_eq!(r.body["evidence"]["scanned"], 30);
    assert_eq!(
        r.body["evidence"]["rules"],
        preview(&t, &custom, window).await["rules"]
    );

    // Deleting a file: its rules are reported with what they matched live.
    let gone = t
        .propose(&t.alice, json!([{"name": CUSTOM, "delete": true}]))
        .await;
    let p = t.get(gone).await;
    assert_eq!(p["diff"][0]["status"], "deleted");
    assert_eq!(p["evidence"]["rules"], json!([]));
    assert_eq!(
        p["evidence"]["removed_rules"],
        json!([{"name": NEW_RULE, "live_matched": 36}])
    );
}

#[tokio::test]
async fn the_audit_trail_records_every_change_and_cannot_be_rewritten() {
    let t = Team::new().await;
    let r = t
        .call(
            "POST",
            "/users/alice/tokens",
            &t.alice,
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        t.call("DELETE", "/users/alice/tokens/ci", &t.alice, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let id = t.propose(&t.alice, add_custom(DRAFT)).await;
    t.review(&t.carol, id, "request_changes").await;
    t.approve(&t.carol, id).await;
    t.promote(&t.bob, id).await;
    let r = t
        .call(
            "POST",
            "/live/rollback",
            ADMIN_TOKEN,
            Some(json!({"version": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        t.call("DELETE", "/users/mallory", ADMIN_TOKEN, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let log = t.call("GET", "/audit", ADMIN_TOKEN, None).await.body;
    let entries = log["entries"].as_array().unwrap();
    let actions: Vec<(&str, &str, &str)> = entries
        .iter()
        .rev()
        .map(|e| {
            (
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
            )
        })
        .collect();
    let proposal = format!("proposal:{id}");
    let expected: Vec<(&str, &str, &str)> = vec![
        ("admin", "user.create", "user:alice"),
        ("admin", "token.create", "token:alice/test"),
        ("admin", "user.create", "user:mallory"),
        ("admin", "token.create", "token:mallory/test"),
        ("admin", "user.create", "user:bob"),
        ("admin", "token.create", "token:bob/test"),
        ("admin", "user.create", "user:carol"),
        ("admin", "token.create", "token:carol/test"),
        ("admin", "user.create", "user:victor"),
        ("admin", "token.create", "token:victor/test"),
        ("alice", "token.create", "token:alice/ci"),
        ("alice", "token.revoke", "token:alice/ci"),
        ("alice", "proposal.create", &proposal),
        ("carol", "proposal.review", &proposal),
        ("carol", "proposal.review", &proposal),
        ("bob", "proposal.promote", &proposal),
        ("admin", "live.rollback", "live:3"),
        ("admin", "user.delete", "user:mallory"),
    ];
    assert_eq!(actions, expected);
    let find = |action: &str| entries.iter().find(|e| e["action"] == action).unwrap();
    assert_eq!(find("user.create")["details"], json!({"role": "viewer"}));
    assert_eq!(
        find("proposal.review")["details"],
        json!({"verdict": "approve", "revision": 1})
    );
    assert_eq!(
        find("proposal.promote")["details"],
        json!({"live_version": 2, "revision": 1})
    );
    assert_eq!(find("live.rollback")["details"], json!({"to": 1}));
    assert!(
        find("proposal.create")["time"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let carol = t
        .call("GET", "/audit?actor=carol", ADMIN_TOKEN, None)
        .await
        .body;
    assert_eq!(carol["entries"].as_array().unwrap().len(), 2);
    let two = t
        .call("GET", "/audit?limit=2", ADMIN_TOKEN, None)
        .await
        .body;
    assert_eq!(two["entries"][0]["action"], "user.delete");
    assert_eq!(two["entries"].as_array().unwrap().len(), 2);
    let future = t
        .call(
            "GET",
            "/audit?since=2200-01-01T00:00:00Z",
            ADMIN_TOKEN,
            None,
        )
        .await
        .body;
    assert_eq!(future["entries"], json!([]));
    assert_eq!(
        t.call("GET", "/audit?since=soon", ADMIN_TOKEN, None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Append-only, whoever writes to the database.
    let db = &t.s.state.db;
    let update = sqlx::query("UPDATE audit_log SET actor = 'nobody'")
        .execute(db)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_log").execute(db).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'nobody'")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(all as usize, expected.len());
}

/// A real HTTP listener on loopback that hands every POSTed JSON body to the test.
async fn listener() -> (String, tokio::sync::mpsc::Receiver<Value>) {
    use axum::routing::post;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(body): axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                tx.send(body).await.unwrap();
                StatusCode::NO_CONTENT
            }
        }),
    );
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
    (url, rx)
}

async fn metric(t: &Team, name: &str) -> u64 {
    let text = t.s.call("GET", "/metrics", None, None).await.text;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} "))?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

#[tokio::test]
async fn proposal_events_are_posted_to_the_notify_url() {
    let (url, mut rx) = listener().await;
    let t = Team::with(|a| a.notify_url = Some(url)).await;
    let id = t.propose(&t.alice, add_custom(DRAFT)).await;
    t.approve(&t.bob, id).await;
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap()
    };
    let created = next().await;
    assert_eq!(created["event"], "proposal.created");
    assert_eq!(created["actor"], "alice");
    assert_eq!(created["text"], format!("alice proposed #{id} \"t\""));
    assert_eq!(
        created["proposal"],
        json!({"id": id, "title": "t", "author": "alice", "status": "open", "revision": 1})
    );
    let reviewed = next().await;
    assert_eq!(reviewed["event"], "proposal.reviewed");
    assert_eq!(reviewed["proposal"]["status"], "approved");
    eventually(&t, "rulestudio_notify_sent_total", 2).await;
}

#[tokio::test]
async fn an_unreachable_notify_url_is_counted_and_never_fails_the_request() {
    // A port that was just free: nothing listens there.
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", socket.local_addr().unwrap());
    drop(socket);
    let t = Team::with(|a| a.notify_url = Some(url)).await;
    t.propose(&t.alice, add_custom(DRAFT)).await;
    eventually(&t, "rulestudio_notify_failed_total", 1).await;
}

/// Waits (at most 10 s) for counter `name` to reach `n`: delivery is asynchronous.
async fn eventually(t: &Team, name: &str, n: u64) {
    for _ in 0..200 {
        if metric(t, name).await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} did not reach {n}");
}

/// Issue #11: a decided proposal's evidence is what the decision was based on, so it cannot be
/// computed again; an open one's can, and another window is in the audit trail.
#[tokio::test]
async fn evidence_is_frozen_once_decided_and_a_new_window_is_audited() {
    let t = Team::new().await;
    t.s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let t = &t;
    let evidence = |id: i64, body: Option<Value>| async move {
        let path = format!("/proposals/{id}/evidence");
        t.call("POST", &path, &t.alice, body).await
    };
    let audited = || async {
        let log = t.call("GET", "/audit", ADMIN_TOKEN, None).await.body;
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "proposal.evidence")
            .cloned()
            .collect::<Vec<_>>()
    };

    let open = t.propose(&t.alice, add_custom(DRAFT)).await;
    let before = t.get(open).await["evidence"]["window"].clone();
    let r = evidence(open, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        audited().await.is_empty(),
        "the same window is not a change"
    );
    let window = json!({"last_events": 30});
    let r = evidence(open, Some(json!({"window": window}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let entries = audited().await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(
        (&e["actor"], &e["target"]),
        (&json!("alice"), &json!(format!("proposal:{open}")))
    );
    assert_eq!(e["details"]["window"], window);
    assert_eq!(e["details"]["previous_window"], before);

    t.approve(&t.bob, open).await;
    assert_eq!(t.promote(&t.bob, open).await.status, StatusCode::OK);
    let frozen = t.get(open).await["evidence"].clone();
    let closed = t.propose(&t.alice, add_custom(EXEC_RULE)).await;
    assert_eq!(
        t.act(&t.alice, closed, "close").await.status,
        StatusCode::OK
    );
    for (id, status) in [(open, "promoted"), (closed, "closed")] {
        let r = evidence(id, Some(json!({"window": {"last_events": 5}}))).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        assert_eq!(
            r.body["message"],
            format!(
                "proposal #{id} is {status}: its evidence is frozen as it was when that was decided"
            )
        );
    }
    assert_eq!(t.get(open).await["evidence"], frozen);
    assert_eq!(audited().await.len(), 1);
}
