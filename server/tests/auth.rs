//! Every endpoint × role (401 without credentials, 403 below its role), sessions, users,
//! tokens, and the non-API routes.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{ADMIN_TOKEN, TestServer};
use rulestudio_server::api::endpoints;
use rulestudio_server::auth::Access;
use serde_json::json;

const ROLES: [&str; 5] = ["collector", "viewer", "author", "reviewer", "admin"];

#[tokio::test]
async fn every_endpoint_checks_its_role() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, common::EVENTS, None).await;
    let mut tokens = Vec::new();
    for role in ROLES {
        tokens.push((role, s.user(&format!("u-{role}"), role).await));
    }
    let mut checked = 0;
    for e in endpoints() {
        let path = |user: &str| {
            format!(
                "/api/v1{}",
                e.call
                    .route
                    .path
                    .replace("{id}", "1")
                    .replace("{username}", user)
                    .replace("{name}", "no-such-token")
            )
        };
        // Any body (unchecked: the role is refused before the body is read).
        let body = (e.call.route.method != "GET").then(|| json!({}));
        if e.access != Access::Public {
            let r = s
                .call_unchecked(e.call.route.method, &path("admin"), None, body.clone())
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{} {} without credentials: {}",
                e.call.route.method,
                e.call.route.path,
                r.text
            );
            assert_eq!(r.body["code"], "unauthorized");
            let r = s
                .call_unchecked(
                    e.call.route.method,
                    &path("admin"),
                    Some("rs_not_a_token"),
                    body.clone(),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{} {} with a bad token",
                e.call.route.method,
                e.call.route.path
            );
        }
        for (role, token) in &tokens {
            let role_enum = rulestudio_server::auth::Role::parse(role).unwrap();
            // Path users are the caller themself, so "admin or self" endpoints follow the table.
            let r = s
                .call_unchecked(
                    e.call.route.method,
                    &path(&format!("u-{role}")),
                    Some(token),
                    body.clone(),
                )
                .await;
            if e.access.allows(role_enum) {
                assert!(
                    r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED,
                    "{} {} as {role}: {} {}",
                    e.call.route.method,
                    e.call.route.path,
                    r.status,
                    r.text
                );
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{} {} as {role}: {}",
                    e.call.route.method,
                    e.call.route.path,
                    r.text
                );
                assert_eq!(r.body["code"], "forbidden");
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 5 * 25,
        "only {checked} checks: is the endpoint table complete?"
    );
}

/// A handler that checks nothing: whatever guards it comes from its table entry.
async fn unguarded() -> &'static str {
    "reached"
}

#[tokio::test]
async fn an_endpoint_s_access_is_enforced_from_its_table_entry_not_its_handler() {
    use axum::routing::on;
    use rulestudio_api::routes::Route;
    use rulestudio_server::api::{Endpoint, Payload, Typed, routes};
    use rulestudio_server::auth::Role;
    use tower::ServiceExt;
    static TABLE: &[Endpoint] = &[
        Endpoint {
            call: Typed {
                route: Route {
                    method: "POST",
                    path: "/reviewers-only",
                },
                request: Payload::Empty,
                query: None,
                params: &[],
                response: Payload::Empty,
            },
            handler: |m| on(m, unguarded),
            access: Access::AtLeast(Role::Reviewer),
            summary: "test",
            ok: 200,
            errors: &[],
        },
        Endpoint {
            call: Typed {
                route: Route {
                    method: "GET",
                    path: "/open",
                },
                request: Payload::Empty,
                query: None,
                params: &[],
                response: Payload::Empty,
            },
            handler: |m| on(m, unguarded),
            access: Access::Public,
            summary: "test",
            ok: 200,
            errors: &[],
        },
    ];
    let s = TestServer::new().await;
    let author = s.user("an-author", "author").await;
    let reviewer = s.user("a-reviewer", "reviewer").await;
    let app = routes(&s.state, TABLE).with_state(s.state.clone());
    let call = |method: &str, path: &str, token: Option<&str>| {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        app.clone().oneshot(req.body(Body::empty()).unwrap())
    };
    let status = |r: axum::response::Response| r.status();
    assert_eq!(
        status(call("POST", "/reviewers-only", None).await.unwrap()),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(
            call("POST", "/reviewers-only", Some(&author))
                .await
                .unwrap()
        ),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            call("POST", "/reviewers-only", Some(&reviewer))
                .await
                .unwrap()
        ),
        StatusCode::OK
    );
    assert_eq!(
        status(call("GET", "/open", None).await.unwrap()),
        StatusCode::OK
    );
    // Only what the table declares is routed: another method or path is not.
    assert_eq!(
        status(
            call("GET", "/reviewers-only", Some(&reviewer))
                .await
                .unwrap()
        ),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        status(call("GET", "/elsewhere", Some(&reviewer)).await.unwrap()),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_endpoint_table_matches_the_router() {
    let s = TestServer::new().await;
    // An unknown API path is a JSON 404 from the API fallback, a known one is not.
    let unknown = s.call("GET", "/api/v1/nope", Some(ADMIN_TOKEN), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["code"], "not_found");
    for e in endpoints() {
        let path = format!(
            "/api/v1{}",
            e.call
                .route
                .path
                .replace("{id}", "1")
                .replace("{username}", "admin")
                .replace("{name}", "x")
        );
        let r = s.call(e.call.route.method, &path, None, None).await;
        assert!(
            r.status != StatusCode::METHOD_NOT_ALLOWED
                && r.body["message"] != "no such API endpoint",
            "{} {} is documented but not routed",
            e.call.route.method,
            e.call.route.path
        );
    }
    // A path parameter that does not parse is refused in the API's error format.
    let bad_id = s
        .call("GET", "/api/v1/proposals/abc", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_id.body["code"], "bad_request", "{}", bad_id.text);
    let doc = s.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(doc.body["openapi"], "3.1.0");
    let create = &doc.body["paths"]["/api/v1/proposals"]["post"]["responses"];
    assert!(
        create["201"].is_object() && create["200"].is_null(),
        "{create}"
    );
    let promote = &doc.body["paths"]["/api/v1/proposals/{id}/promote"]["post"]["responses"];
    for status in ["200", "400", "401", "403", "404", "409", "422"] {
        assert!(
            promote[status].is_object(),
            "promote does not list {status}: {promote}"
        );
    }
    assert_eq!(
        promote["409"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    assert!(doc.body["paths"]["/api/v1/events/{id}/label"]["post"]["summary"].is_string());
    assert_eq!(
        doc.body["paths"].as_object().unwrap().len(),
        endpoints()
            .map(|e| e.call.route.path)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
}

#[tokio::test]
async fn browser_sessions_use_an_httponly_strict_cookie() {
    let s = TestServer::new().await;
    s.user("alice", "author").await;
    let bad = s
        .call(
            "POST",
            "/api/v1/session",
            None,
            Some(json!({"username": "alice", "password": "wrong-password"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let ok = s
        .call(
            "POST",
            "/api/v1/session",
            None,
            Some(json!({"username": "alice", "password": "password123"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body, json!({"username": "alice", "role": "author"}));
    let cookie = ok.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let with_cookie = |method: &str, path: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, pair.clone())
            // What a browser says of a request from the page it loaded from this server.
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .unwrap()
    };
    let me = s.send(with_cookie("GET", "/api/v1/session")).await;
    assert_eq!(me.body["username"], "alice");
    // An author may not manage users.
    assert_eq!(
        s.send(with_cookie("GET", "/api/v1/users")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.send(with_cookie("DELETE", "/api/v1/session"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.send(with_cookie("GET", "/api/v1/session")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn users_and_tokens_lifecycle() {
    let s = TestServer::new().await;
    let bob = s.user("bob", "viewer").await;
    let dup = s
        .call(
            "POST",
            "/api/v1/users",
            Some(ADMIN_TOKEN),
            Some(json!({"username": "bob", "role": "viewer"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad_role = s
        .call_unchecked(
            "POST",
            "/api/v1/users",
            Some(ADMIN_TOKEN),
            Some(json!({"username": "eve", "role": "root"})),
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::BAD_REQUEST);
    // Bob makes a second token for himself, but may not touch the admin's.
    let own = s
        .call(
            "POST",
            "/api/v1/users/bob/tokens",
            Some(&bob),
            Some(json!({"name": "laptop"})),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED);
    let laptop = own.body["token"].as_str().unwrap().to_string();
    assert_eq!(
        s.call("GET", "/api/v1/users/admin/tokens", Some(&bob), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let list = s
        .call("GET", "/api/v1/users/bob/tokens", Some(&laptop), None)
        .await;
    let names: Vec<&str> = list.body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["laptop", "test"]);
    // Tokens are stored hashed: the plaintext is nowhere in the database.
    let hits: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tokens WHERE token_hash = ? OR CAST(token_hash AS TEXT) = ?",
    )
    .bind(laptop.as_bytes())
    .bind(&laptop)
    .fetch_one(&s.state.db)
    .await
    .unwrap();
    assert_eq!(hits, 0);
    assert_eq!(
        s.call(
            "DELETE",
            "/api/v1/users/bob/tokens/laptop",
            Some(&bob),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.call("GET", "/api/v1/session", Some(&laptop), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.call("DELETE", "/api/v1/users/bob", Some(ADMIN_TOKEN), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.call("GET", "/api/v1/session", Some(&bob), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_ui_is_served_with_spa_fallback_or_a_placeholder() {
    let s = TestServer::new().await;
    let r = s.call("GET", "/", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("The web UI is not built"), "{}", r.text);
    assert_eq!(s.call("GET", "/healthz", None, None).await.text, "ok\n");

    let ui = tempfile::tempdir().unwrap();
    std::fs::write(ui.path().join("index.html"), "<html>studio</html>").unwrap();
    std::fs::write(ui.path().join("app.js"), "console.log(1)").unwrap();
    let dir = ui.path().to_path_buf();
    let s = TestServer::with(move |a| a.static_dir = dir).await;
    assert_eq!(
        s.call("GET", "/app.js", None, None).await.text,
        "console.log(1)"
    );
    assert_eq!(
        s.call("GET", "/rules/edit/42", None, None).await.text,
        "<html>studio</html>"
    );
    assert_eq!(
        s.call("GET", "/api/v1/nope", None, None).await.body["code"],
        "not_found"
    );
}
