//! `GET /api/v1/openapi.json` (OpenAPI 3.0), generated from the endpoint tables of the
//! resource modules, and `GET /api/v1/docs`, a page listing them.

use super::{Endpoint, endpoints};
use crate::auth::Access;
use crate::state::AppState;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/openapi.json",
        access: Access::Public,
        summary: "This API as OpenAPI 3",
    },
    Endpoint {
        method: "GET",
        path: "/docs",
        access: Access::Public,
        summary: "This API as a page",
    },
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(openapi()) }))
        .route("/docs", get(|| async { Html(page()) }))
}

pub fn openapi() -> Value {
    let mut paths = Map::new();
    for e in endpoints() {
        let params: Vec<Value> = path_params(e.path)
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "summary": e.summary,
            "description": format!("Access: {}.", e.access.describe()),
            "parameters": params,
            "responses": {
                "200": {"description": "Success"},
                "400": {"description": "Invalid request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if e.access != Access::Public {
            op["security"] = json!([{"bearer": []}, {"cookie": []}]);
            op["responses"]["401"] = json!({"description": "Not signed in"});
            op["responses"]["403"] = json!({"description": "Role too low"});
        }
        let item = paths
            .entry(format!("/api/v1{}", e.path))
            .or_insert_with(|| json!({}));
        item[e.method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Rulestudio", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "diagnostics": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    })
}

fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
}

fn page() -> String {
    let mut rows = String::new();
    for e in endpoints() {
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>/api/v1{}</code></td><td>{}</td><td>{}</td></tr>\n",
            e.method,
            escape(e.path),
            escape(e.summary),
            escape(&e.access.describe())
        ));
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rulestudio API</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td{{padding:.3em .8em;border-bottom:1px solid #ddd}}</style></head>\
         <body><h1>Rulestudio REST API</h1><p>Machine-readable: <a href=\"openapi.json\">openapi.json</a>. \
         Authenticate with <code>Authorization: Bearer TOKEN</code> or the session cookie. \
         Errors are <code>{{\"code\",\"message\",\"diagnostics\"?}}</code>.</p>\
         <table><tr><th>Method</th><th>Path</th><th>What</th><th>Access</th></tr>{rows}</table></body></html>"
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
