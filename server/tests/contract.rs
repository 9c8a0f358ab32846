//! The OpenAPI document is the contract: every endpoint is called here with a real request on a
//! real server, and `TestServer::send` checks each answer against the document
//! (`common::contract`), as it does in every server test. The test fails for any endpoint
//! whose successful answer was not checked; the validator glue is shown to catch a schema that
//! disagrees with what the server sends.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::contract::{self, CHECKED, DOC};
use common::{ADMIN_TOKEN, DRAFT, EVENTS, TestServer, label_benign};
use rulestudio_api::collector::Heartbeat;
use rulestudio_server::api::{Payload, endpoints};
use serde_json::{Value, json};

const RULE: &str = "Read file below etc";

#[tokio::test]
async fn every_endpoint_answers_as_its_document_says() {
    let s = TestServer::new().await;
    let admin = Some(ADMIN_TOKEN);
    let ok = |r: &common::Response, status: StatusCode, what: &str| {
        assert_eq!(r.status, status, "{what}: {}", r.text);
    };

    // Users, sessions and tokens.
    let r = s
        .call(
            "POST",
            "/api/v1/users",
            admin,
            Some(json!({"username": "alice", "password": "password123", "role": "author"})),
        )
        .await;
    ok(&r, StatusCode::CREATED, "create a user");
    ok(
        &s.call("GET", "/api/v1/users", admin, None).await,
        StatusCode::OK,
        "list users",
    );
    let r = s
        .call(
            "PATCH",
            "/api/v1/users/alice",
            admin,
            Some(json!({"role": "reviewer"})),
        )
        .await;
    ok(&r, StatusCode::OK, "change a role");
    let r = s
        .call(
            "PUT",
            "/api/v1/users/alice/password",
            admin,
            Some(json!({"password": "password456"})),
        )
        .await;
    ok(&r, StatusCode::NO_CONTENT, "set a password");
    let r = s
        .call(
            "POST",
            "/api/v1/session",
            None,
            Some(json!({"username": "alice", "password": "password456"})),
        )
        .await;
    ok(&r, StatusCode::OK, "sign in");
    ok(
        &s.call("DELETE", "/api/v1/session", None, None).await,
        StatusCode::NO_CONTENT,
        "sign out",
    );
    let r = s
        .call(
            "POST",
            "/api/v1/users/alice/tokens",
            admin,
            Some(json!({"name": "ci"})),
        )
        .await;
    ok(&r, StatusCode::CREATED, "create a token");
    let alice = r.body["token"].as_str().unwrap().to_string();
    ok(
        &s.call("GET", "/api/v1/session", Some(&alice), None).await,
        StatusCode::OK,
        "who am I",
    );
    ok(
        &s.call("GET", "/api/v1/users/alice/tokens", admin, None)
            .await,
        StatusCode::OK,
        "list tokens",
    );

    // The live set, events and alerts.
    s.promote(DRAFT).await;
    ok(
        &s.ingest(ADMIN_TOKEN, EVENTS, Some(("n1", 1))).await,
        StatusCode::OK,
        "ingest",
    );
    let heartbeat = Heartbeat {
        node: "n1".into(),
        captured: 3,
        ..Default::default()
    };
    let r = s
        .call(
            "POST",
            "/api/v1/collectors/heartbeat",
            admin,
            Some(serde_json::to_value(&heartbeat).unwrap()),
        )
        .await;
    ok(&r, StatusCode::NO_CONTENT, "heartbeat");
    for path in [
        "/api/v1/collectors",
        "/api/v1/live",
        "/api/v1/live/rules.yaml",
        "/api/v1/live/history",
        "/api/v1/events?limit=5",
        "/api/v1/events/export",
        "/api/v1/events/export?format=parquet",
        "/api/v1/events/stream",
        "/api/v1/alerts/stream",
        "/api/v1/alerts?limit=5",
        "/api/v1/alerts/counts",
        "/api/v1/alerts/summary?group_by=priority",
        "/api/v1/openapi.json",
        "/api/v1/docs",
    ] {
        ok(
            &s.call("GET", path, admin, None).await,
            StatusCode::OK,
            path,
        );
    }
    let r = s
        .call(
            "POST",
            "/api/v1/live/rollback",
            admin,
            Some(json!({"version": 1})),
        )
        .await;
    ok(&r, StatusCode::OK, "roll back");
    // Every match of the backup job is benign: the exception to suggest.
    let labelled = label_benign(&s, "proc.name = backup and fd.name startswith /etc/").await;
    assert!(labelled > 0);
    let event = s.event_id(1);
    ok(
        &s.call("GET", &format!("/api/v1/events/{event}"), admin, None)
            .await,
        StatusCode::OK,
        "one event",
    );
    ok(
        &s.call(
            "GET",
            &format!("/api/v1/events/{event}/matches"),
            admin,
            None,
        )
        .await,
        StatusCode::OK,
        "the live rules an event matches",
    );
    ok(
        &s.call(
            "GET",
            &format!("/api/v1/labels?events={event}"),
            admin,
            None,
        )
        .await,
        StatusCode::OK,
        "labels",
    );
    let listed = s.call("GET", "/api/v1/alerts", admin, None).await;
    let alert = &listed.body["alerts"][0];
    let id = alert["id"]
        .as_i64()
        .expect("the draft raises alerts on the events");
    ok(
        &s.call("GET", &format!("/api/v1/alerts/{id}"), admin, None)
            .await,
        StatusCode::OK,
        "one alert",
    );
    let r = s
        .call(
            "POST",
            &format!("/api/v1/alerts/{id}/triage"),
            admin,
            Some(json!({"state": "acknowledged", "note": "looking"})),
        )
        .await;
    ok(&r, StatusCode::OK, "triage");
    let mut node_alert = alert.clone();
    node_alert["id"] = json!(0);
    node_alert["event_id"] = json!("");
    let line = json!({"id": "n1:7:1", "node": "n1", "alert": node_alert});
    let req = Request::post("/api/v1/alerts")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(format!("{line}\n")))
        .unwrap();
    ok(&s.send(req).await, StatusCode::OK, "a node's alerts");

    // Baselines and previews.
    let r = s
        .call(
            "POST",
            "/api/v1/baselines",
            admin,
            Some(json!({"since": 0, "until": "2030-01-01T00:00:00Z", "note": "quiet"})),
        )
        .await;
    ok(&r, StatusCode::CREATED, "create a baseline");
    let baseline = r.body["id"].as_i64().unwrap();
    ok(
        &s.call("GET", "/api/v1/baselines", admin, None).await,
        StatusCode::OK,
        "baselines",
    );
    ok(
        &s.call(
            "DELETE",
            &format!("/api/v1/baselines/{baseline}"),
            admin,
            None,
        )
        .await,
        StatusCode::NO_CONTENT,
        "delete a baseline",
    );
    s.preview(DRAFT).await;
    let r = s
        .call(
            "POST",
            "/api/v1/preview/suggest-exception",
            admin,
            Some(json!({"rules": DRAFT, "rule": RULE, "window": {"last_events": 1000}})),
        )
        .await;
    ok(&r, StatusCode::OK, "suggest an exception");

    // A proposal's life.
    let files = |priority: &str| json!([{"name": "local_rules.yaml", "content": DRAFT.replace("WARNING", priority)}]);
    let propose = |title: &str, priority: &str| {
        s.call(
            "POST",
            "/api/v1/proposals",
            admin,
            Some(json!({"title": title, "description": "d", "files": files(priority)})),
        )
    };
    let r = propose("stricter", "ERROR").await;
    ok(&r, StatusCode::CREATED, "propose");
    let p = r.body["id"].as_i64().unwrap();
    let at = |action: &str| format!("/api/v1/proposals/{p}{action}");
    ok(
        &s.call("GET", "/api/v1/proposals", admin, None).await,
        StatusCode::OK,
        "proposals",
    );
    ok(
        &s.call("GET", &at(""), admin, None).await,
        StatusCode::OK,
        "a proposal",
    );
    let r = s
        .call(
            "PUT",
            &at(""),
            admin,
            Some(json!({"title": "stricter still", "files": files("CRITICAL")})),
        )
        .await;
    ok(&r, StatusCode::OK, "revise");
    let r = s
        .call(
            "POST",
            &at("/comments"),
            admin,
            Some(json!({"body": "see line 5", "file": "local_rules.yaml", "line": 5})),
        )
        .await;
    ok(&r, StatusCode::CREATED, "comment");
    ok(
        &s.call("POST", &at("/evidence"), admin, None).await,
        StatusCode::OK,
        "refresh evidence",
    );
    ok(
        &s.call("POST", &at("/rebase"), admin, None).await,
        StatusCode::OK,
        "rebase",
    );
    let r = s
        .call(
            "POST",
            &at("/reviews"),
            Some(&alice),
            Some(json!({"verdict": "approve", "body": "fine"})),
        )
        .await;
    ok(&r, StatusCode::CREATED, "review");
    ok(
        &s.call("POST", &at("/promote"), Some(&alice), None).await,
        StatusCode::OK,
        "promote",
    );
    let r = propose("another", "NOTICE").await;
    let other = r.body["id"].as_i64().unwrap();
    ok(
        &s.call(
            "POST",
            &format!("/api/v1/proposals/{other}/close"),
            admin,
            None,
        )
        .await,
        StatusCode::OK,
        "close",
    );
    ok(
        &s.call("GET", "/api/v1/audit", admin, None).await,
        StatusCode::OK,
        "audit",
    );

    // Last, what removes.
    ok(
        &s.call("DELETE", "/api/v1/users/alice/tokens/ci", admin, None)
            .await,
        StatusCode::NO_CONTENT,
        "revoke a token",
    );
    ok(
        &s.call("DELETE", "/api/v1/users/alice", admin, None).await,
        StatusCode::NO_CONTENT,
        "delete a user",
    );

    let checked = CHECKED.lock().unwrap().clone();
    let unchecked: Vec<String> = endpoints()
        .filter(|e| {
            !checked.contains(&(
                e.call.route.method.to_string(),
                e.call.route.path.to_string(),
                e.ok,
            ))
        })
        .map(|e| format!("{} {} {}", e.call.route.method, e.call.route.path, e.ok))
        .collect();
    assert!(
        unchecked.is_empty(),
        "answers not checked against the document: {unchecked:?}"
    );
    // And every JSON body an endpoint requires was sent, checked against the document.
    let sent = contract::REQUESTS_CHECKED.lock().unwrap().clone();
    let unsent: Vec<String> = endpoints()
        .filter(|e| matches!(e.call.request, Payload::Json(_)))
        .map(|e| {
            (
                e.call.route.method.to_string(),
                e.call.route.path.to_string(),
            )
        })
        .filter(|key| !sent.contains(key))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        unsent.is_empty(),
        "request bodies not checked against the document: {unsent:?}"
    );
}

/// The glue catches a document that disagrees with the server: a field of the wrong type, a
/// required field the body lacks, a media type or a status the document does not list.
#[tokio::test]
async fn a_schema_that_disagrees_with_the_answer_is_caught() {
    let s = TestServer::new().await;
    let who = s
        .call("GET", "/api/v1/session", Some(ADMIN_TOKEN), None)
        .await;
    let body = who.text.as_bytes();
    let check = |doc: &Value, status: u16, kind: &str| {
        contract::check(doc, "GET", "/session", status, Some(kind), Some(body))
    };
    assert_eq!(check(&DOC, 200, "application/json"), Ok(()));

    let mut wrong = DOC.clone();
    wrong["components"]["schemas"]["SessionInfo"]["properties"]["username"] =
        json!({"type": "integer"});
    let e = check(&wrong, 200, "application/json").unwrap_err();
    assert!(e.contains("/username"), "{e}");

    let mut wrong = DOC.clone();
    wrong["components"]["schemas"]["SessionInfo"]["required"] = json!(["username", "expires"]);
    let e = check(&wrong, 200, "application/json").unwrap_err();
    assert!(e.contains("expires"), "{e}");

    let e = check(&DOC, 200, "text/plain").unwrap_err();
    assert!(e.contains("text/plain"), "{e}");
    let e = check(&DOC, 418, "application/json").unwrap_err();
    assert!(e.contains("418"), "{e}");
    // An error body is checked against ErrorBody.
    let e = check(&DOC, 401, "application/json").unwrap_err();
    assert!(e.contains("code"), "{e}");
}

#[test]
fn the_endpoint_table_routes_exactly_the_declared_routes() {
    let table: Vec<_> = endpoints().map(|e| e.call.route).collect();
    for route in rulestudio_api::routes::ALL {
        assert!(
            table.contains(route),
            "{} {} is declared but not routed",
            route.method,
            route.path
        );
    }
    assert_eq!(table.len(), rulestudio_api::routes::ALL.len());
}

#[test]
fn every_path_parameter_has_a_type() {
    for e in endpoints() {
        let named = e.call.route.path.matches('{').count();
        assert_eq!(
            e.call.params.len(),
            named,
            "{} {} names {named} path parameters and types {}",
            e.call.route.method,
            e.call.route.path,
            e.call.params.len()
        );
    }
}

/// Request bodies are checked as answers are: `TestServer::call` refuses to send a body the
/// document does not describe for its endpoint (a test that means to send one says so with
/// `call_unchecked`), so every test's requests check the document's request schemas.
#[tokio::test]
async fn a_request_body_that_disagrees_with_the_document_is_caught() {
    let check =
        |method: &str, path: &str, body: Value| contract::check_request(&DOC, method, path, &body);
    let user = json!({"username": "eve", "password": "password123", "role": "viewer"});
    assert_eq!(check("POST", "/users", user), Ok(()));
    let e = check("POST", "/users", json!({"username": "eve", "role": "root"})).unwrap_err();
    assert!(e.contains("/role"), "{e}");
    let e = check("POST", "/session", json!({"username": "eve"})).unwrap_err();
    assert!(e.contains("password"), "{e}");
    let e = check("POST", "/proposals/{id}/close", json!({})).unwrap_err();
    assert!(e.contains("takes no body"), "{e}");
    let e = check("POST", "/events", json!([{}])).unwrap_err();
    assert!(e.contains("no JSON body"), "{e}");

    // Through the harness: the bad body fails the test before it is sent; unchecked, it is
    // sent, and the server refuses it too.
    let s = TestServer::new().await;
    let bad = json!({"username": "eve", "role": "root"});
    let sent = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(s.call(
        "POST",
        "/api/v1/users",
        Some(ADMIN_TOKEN),
        Some(bad.clone()),
    )))
    .await;
    let why = sent.err().expect("the harness refuses the body");
    let why = why.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        why.contains("POST /users request") && why.contains("/role"),
        "{why}"
    );
    let r = s
        .call_unchecked("POST", "/api/v1/users", Some(ADMIN_TOKEN), Some(bad))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}

/// Every JSON body an endpoint takes or answers with has an example in the document, and every
/// example, on an operation or on a schema, is valid against its own schema.
#[test]
fn every_json_body_has_an_example_valid_against_its_schema() {
    assert_eq!(examples_problems(&DOC), Vec::<String>::new());
    // The check fails on an example its schema refuses, and on a body without one.
    let mut wrong = DOC.clone();
    let login = &mut wrong["components"]["schemas"]["LoginRequest"]["examples"][0];
    login.as_object_mut().unwrap().remove("password");
    let op = &mut wrong["paths"]["/api/v1/session"]["post"];
    op["requestBody"]["content"]["application/json"]["example"] = json!({"username": 7});
    op["responses"]["200"]["content"]["application/json"]
        .as_object_mut()
        .unwrap()
        .remove("example");
    let problems = examples_problems(&wrong).join("\n");
    assert!(
        problems.contains("schema LoginRequest") && problems.contains("password"),
        "{problems}"
    );
    assert!(
        problems.contains("POST /api/v1/session request"),
        "{problems}"
    );
    assert!(
        problems.contains("POST /api/v1/session 200 has no example"),
        "{problems}"
    );
}

fn examples_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_ascii_uppercase();
            let mut bodies = vec![("request".to_string(), &op["requestBody"])];
            for (status, r) in op["responses"].as_object().unwrap() {
                if status.starts_with('2') {
                    bodies.push((status.clone(), r));
                }
            }
            for (what, body) in bodies {
                let Some(media) = body.pointer("/content/application~1json") else {
                    continue;
                };
                match media.get("example") {
                    None => problems.push(format!("{method} {path} {what} has no example")),
                    // A JSON array of items (`POST /events`): each item against the item schema.
                    Some(Value::Array(items)) if media.get("schema").is_none() => {
                        for item in items {
                            if let Err(e) = contract::validate(doc, &media["itemSchema"], item) {
                                problems.push(format!("{method} {path} {what}: {e}"));
                            }
                        }
                    }
                    Some(example) => {
                        if let Err(e) = contract::validate(doc, &media["schema"], example) {
                            problems.push(format!("{method} {path} {what}: {e}"));
                        }
                    }
                }
            }
        }
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let reference = json!({"$ref": format!("#/components/schemas/{name}")});
        for example in schema["examples"].as_array().into_iter().flatten() {
            if let Err(e) = contract::validate(doc, &reference, example) {
                problems.push(format!("the example of schema {name}: {e}"));
            }
        }
    }
    problems
}

/// A field with a serde default may be left out of a request but is always in an answer: the
/// request's schema leaves it optional, the answer's requires it (and every answer the server
/// tests get is validated against the answer's).
#[test]
fn fields_with_defaults_are_required_in_answers_only() {
    let schemas = &DOC["components"]["schemas"];
    let required = |name: &str, field: &str| {
        schemas[name]["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|f| f == field))
    };
    assert!(!required("Heartbeat", "alerts_sent"));
    assert!(required("CollectorStatus", "alerts_sent"));
    assert!(!required("Alert", "triage"));
    assert!(required("AlertAnswer", "triage"));
    let page = &DOC["paths"]["/api/v1/alerts"]["get"]["responses"]["200"];
    assert_eq!(
        page["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/AlertPage"
    );
    assert_eq!(
        schemas["AlertPage"]["properties"]["alerts"]["items"]["$ref"],
        "#/components/schemas/AlertAnswer"
    );
}
