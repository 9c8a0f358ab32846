//! Administration over HTTP on a real SQLite file (issue #19): changing roles, resetting
//! passwords, and the audit trail's filters and paging.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{ADMIN_TOKEN, TestServer};
use serde_json::{Value, json};

async fn sign_in(s: &TestServer, username: &str, password: &str) -> Option<String> {
    let r = s
        .call(
            "POST",
            "/api/v1/session",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await;
    (r.status == StatusCode::OK).then(|| {
        let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
        cookie.split(';').next().unwrap().to_string()
    })
}

async fn session_status(s: &TestServer, cookie: &str) -> StatusCode {
    let req = Request::get("/api/v1/session")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    s.send(req).await.status
}

#[tokio::test]
async fn admins_change_roles_but_never_their_own() {
    let s = TestServer::new().await;
    let bob = s.user("bob", "viewer").await;
    let carol = s.user("carol", "admin").await;
    let users = |token: String| {
        let s = &s;
        async move {
            s.call("GET", "/api/v1/users", Some(&token), None)
                .await
                .status
        }
    };
    assert_eq!(users(bob.clone()).await, StatusCode::FORBIDDEN);

    let r = s
        .call(
            "PATCH",
            "/api/v1/users/bob",
            Some(&carol),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["username"], "bob");
    assert_eq!(r.body["role"], "admin");
    // Effective at bob's next request, with the token he already had.
    assert_eq!(users(bob.clone()).await, StatusCode::OK);

    // Neither admin can demote themself, so one always remains.
    for (token, me) in [(&bob, "bob"), (&carol, "carol")] {
        let r = s
            .call(
                "PATCH",
                &format!("/api/v1/users/{me}"),
                Some(token),
                Some(json!({"role": "viewer"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("your own role")
        );
    }
    // bob demotes carol, and carol loses admin at once.
    let r = s
        .call(
            "PATCH",
            "/api/v1/users/carol",
            Some(&bob),
            Some(json!({"role": "author"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(users(carol.clone()).await, StatusCode::FORBIDDEN);

    let bad = s
        .call_unchecked(
            "PATCH",
            "/api/v1/users/carol",
            Some(&bob),
            Some(json!({"role": "root"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["message"].as_str().unwrap().contains("root"));
    let missing = s
        .call(
            "PATCH",
            "/api/v1/users/nobody",
            Some(&bob),
            Some(json!({"role": "author"})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let audit = s
        .call(
            "GET",
            "/api/v1/audit?action=user.role",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    let entries = audit.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", audit.text);
    assert_eq!(entries[0]["actor"], "bob");
    assert_eq!(entries[0]["target"], "user:carol");
    assert_eq!(
        entries[0]["details"],
        json!({"from": "admin", "to": "author"})
    );
    assert_eq!(
        entries[1]["details"],
        json!({"from": "viewer", "to": "admin"})
    );
}

#[tokio::test]
async fn a_password_reset_ends_the_users_sessions_and_the_new_password_signs_in() {
    let s = TestServer::new().await;
    let dave = s.user("dave", "author").await;
    let cookie = sign_in(&s, "dave", "password123").await.unwrap();
    assert_eq!(session_status(&s, &cookie).await, StatusCode::OK);

    let short = s
        .call(
            "PUT",
            "/api/v1/users/dave/password",
            Some(ADMIN_TOKEN),
            Some(json!({"password": "short"})),
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(
        short.body["message"]
            .as_str()
            .unwrap()
            .contains("8 characters")
    );
    let not_admin = s
        .call(
            "PUT",
            "/api/v1/users/dave/password",
            Some(&dave),
            Some(json!({"password": "a new passphrase"})),
        )
        .await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);
    let missing = s
        .call(
            "PUT",
            "/api/v1/users/nobody/password",
            Some(ADMIN_TOKEN),
            Some(json!({"password": "a new passphrase"})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let r = s
        .call(
            "PUT",
            "/api/v1/users/dave/password",
            Some(ADMIN_TOKEN),
            Some(json!({"password": "a new passphrase"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(session_status(&s, &cookie).await, StatusCode::UNAUTHORIZED);
    assert!(sign_in(&s, "dave", "password123").await.is_none());
    assert!(sign_in(&s, "dave", "a new passphrase").await.is_some());
    // API tokens are revoked on their own, not by a reset.
    let me = s.call("GET", "/api/v1/session", Some(&dave), None).await;
    assert_eq!(me.status, StatusCode::OK);

    let audit = s
        .call(
            "GET",
            "/api/v1/audit?action=user.password",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(
        audit.body["entries"][0]["details"],
        json!({"sessions_ended": 1})
    );
}

#[tokio::test]
async fn the_audit_trail_filters_by_actor_action_and_time_and_pages_with_a_cursor() {
    let s = TestServer::new().await;
    let erin = s.user("erin", "admin").await;
    let start = rulestudio_server::time::now_ns();
    for name in ["f1", "f2", "f3"] {
        let r = s
            .call(
                "POST",
                "/api/v1/users",
                Some(&erin),
                Some(json!({"username": name, "role": "viewer"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = s
        .call("DELETE", "/api/v1/users/f2", Some(&erin), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let audit = |query: &str| {
        let s = &s;
        let query = query.to_string();
        async move {
            let r = s
                .call(
                    "GET",
                    &format!("/api/v1/audit?{query}"),
                    Some(ADMIN_TOKEN),
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
            r.body
        }
    };
    let targets = |body: &Value| -> Vec<String> {
        body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["action"].as_str().unwrap(),
                    e["target"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        targets(&audit("actor=erin").await),
        [
            "user.delete user:f2",
            "user.create user:f3",
            "user.create user:f2",
            "user.create user:f1"
        ]
    );
    // A noun stands for all its actions; an action for itself only; `user` is not `users…`.
    assert_eq!(targets(&audit("actor=erin&action=user").await).len(), 4);
    assert_eq!(
        targets(&audit("action=user.delete").await),
        ["user.delete user:f2"]
    );
    assert!(targets(&audit("action=use").await).is_empty());
    // The admin who created erin (and her token) did so before `start`.
    let since = audit(&format!("since={start}")).await;
    assert_eq!(targets(&since).len(), 4);
    let until = audit(&format!("until={start}")).await;
    assert!(
        targets(&until)
            .iter()
            .all(|t| !t.ends_with("user:f1") && !t.ends_with("user:f2")),
        "{until}"
    );
    assert!(targets(&until).contains(&"user.create user:erin".to_string()));

    // Pages of two, newest first, each continuing where the last stopped.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = audit(&format!("actor=erin&limit=2{cursor}")).await;
        seen.extend(targets(&page));
        match page["next_cursor"].as_i64() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, targets(&audit("actor=erin").await));

    let bad = s
        .call("GET", "/api/v1/audit?until=later", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["message"].as_str().unwrap().contains("until"));
}
