//! `GET /api/v1/openapi.json` (OpenAPI 3.0), generated from the endpoint tables of the
//! resource modules; `GET /api/v1/docs`, a page listing them; and `docs/api.md`, rendered from
//! the same OpenAPI document by [`markdown`] (`cargo xtask api-docs`).

use super::{Endpoint, endpoints};
use crate::auth::Access;
use axum::Json;
use axum::response::Html;
use axum::routing::on;
use rulestudio_api::diagnostic::{Applicability, Severity};
use serde_json::{Map, Value, json};

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/openapi.json",
        handler: |m| on(m, || async { Json(openapi()) }),
        access: Access::Public,
        summary: "This API as OpenAPI 3",
        ok: 200,
        errors: &[],
    },
    Endpoint {
        method: "GET",
        path: "/docs",
        handler: |m| on(m, || async { Html(page()) }),
        access: Access::Public,
        summary: "This API as a page",
        ok: 200,
        errors: &[],
    },
];

pub fn openapi() -> Value {
    let mut paths = Map::new();
    for e in endpoints() {
        let params: Vec<Value> = path_params(e.path)
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let responses: Map<String, Value> = e
            .responses()
            .into_iter()
            .map(|(status, why)| {
                let mut r = json!({"description": why});
                if status >= 400 {
                    r["content"] = json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}});
                }
                (status.to_string(), r)
            })
            .collect();
        let mut op = json!({
            "summary": e.summary,
            "description": format!("Access: {}.", e.access.describe()),
            "parameters": params,
            "responses": responses,
        });
        if e.access != Access::Public {
            op["security"] = json!([{"bearer": []}, {"cookie": []}]);
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
                        "code": {
                            "type": "string",
                            "enum": crate::error::AppError::CODES,
                            "description": "Stable and machine-readable; the status says the same more coarsely.",
                        },
                        "message": {"type": "string", "description": "What is wrong, naming the field, parameter or line."},
                        "diagnostics": {
                            "type": "array",
                            "description": "Present when rules or a condition the caller sent do not load: every problem and its place.",
                            "items": {"$ref": "#/components/schemas/Diagnostic"},
                        },
                        "reasons": {
                            "type": "array",
                            "description": "Present when a request was refused for several reasons at once (promotion, rebase: 409 and 422).",
                            "items": {"type": "string"},
                        },
                    },
                },
                "Diagnostic": {
                    "type": "object",
                    "required": ["file", "severity", "code", "message", "line", "column", "end_line", "end_column"],
                    "properties": {
                        "file": {"type": "string"},
                        "severity": {"type": "string", "enum": Severity::ALL.map(Severity::as_str)},
                        "code": {"type": "string", "description": "Falco's load-result code or the linter's `RS` code."},
                        "message": {"type": "string"},
                        "line": {"type": "integer", "description": "1-based."},
                        "column": {"type": "integer", "description": "1-based, in characters."},
                        "end_line": {"type": "integer"},
                        "end_column": {"type": "integer"},
                        "item_type": {"type": "string", "nullable": true},
                        "item_name": {"type": "string", "nullable": true},
                        "help": {"type": "string", "nullable": true},
                        "fix": {
                            "type": "object",
                            "nullable": true,
                            "description": "`{message, applicability, edits: [{line, column, end_line, end_column, start, end, replacement}]}`.",
                            "properties": {
                                "applicability": {"type": "string", "enum": Applicability::ALL.map(Applicability::as_str)},
                            },
                        },
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

/// `docs/api.md`: the OpenAPI document as a Markdown page, endpoints grouped by resource (the
/// first path segment), in path order.
pub fn markdown() -> String {
    let doc = openapi();
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let resource = path
            .trim_start_matches("/api/v1/")
            .split(['/', '.'])
            .next()
            .unwrap_or_default()
            .to_string();
        let at = match groups.iter().position(|(r, _)| *r == resource) {
            Some(i) => i,
            None => {
                groups.push((resource, Vec::new()));
                groups.len() - 1
            }
        };
        for (method, op) in item.as_object().into_iter().flatten() {
            groups[at]
                .1
                .push(operation(&method.to_ascii_uppercase(), path, op));
        }
    }
    let mut out = format!(
        "# REST API\n\n\
         <!-- Generated from the server's OpenAPI document (`GET /api/v1/openapi.json`) by \
         `cargo xtask api-docs`; the `api_md_is_fresh` test fails when this file is stale. -->\n\n\
         {title} {version}, OpenAPI {openapi}. Every path is under `/api/v1`; the running server \
         also serves this list at `/api/v1/docs` and the machine-readable document at \
         `/api/v1/openapi.json`.\n\n\
         - **Authentication**: `Authorization: Bearer TOKEN` (an API token, from the Admin page \
         or `POST /api/v1/users/{{username}}/tokens`), or the session cookie `{cookie}` set by \
         `POST /api/v1/session`.\n\
         - **Roles**, each allowed what the ones before it are: viewer, author, reviewer, admin; \
         a collector may only ingest. Without credentials an endpoint answers 401, below its \
         role 403.\n\
         - **Errors** are JSON `{{\"code\", \"message\", \"diagnostics\"?, \"reasons\"?}}` \
         with the status each endpoint lists below (and 500 for a fault of the server, whose \
         log has the details); `diagnostics` (rules or a filter that do not load) give file, \
         line, column and a fix where one is known; `reasons` list every reason of a refusal.\n\
         - **Times** (`since`, `until`) are nanoseconds since the epoch, RFC 3339 \
         (`2025-01-31T12:00:00Z`), or relative to now (`-1h`, `-30m`).\n\n\
         ```sh\n\
         curl -H \"Authorization: Bearer $TOKEN\" 'http://127.0.0.1:8080/api/v1/events?limit=5&filter=proc.name%3Dbash'\n\
         ```\n\n",
        title = doc["info"]["title"].as_str().unwrap_or_default(),
        version = doc["info"]["version"].as_str().unwrap_or_default(),
        openapi = doc["openapi"].as_str().unwrap_or_default(),
        cookie = crate::auth::SESSION_COOKIE,
    );
    out.push_str("| Resource | Endpoints |\n|---|---|\n");
    for (resource, ops) in &groups {
        out.push_str(&format!("| [{resource}](#{resource}) | {} |\n", ops.len()));
    }
    for (resource, ops) in groups {
        out.push_str(&format!("\n## {resource}\n"));
        for op in ops {
            out.push('\n');
            out.push_str(&op);
        }
    }
    out
}

fn operation(method: &str, path: &str, op: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let summary = text(&op["summary"]);
    let mut out = format!(
        "### `{method} {path}`\n\n{}.\n\n{}\n",
        summary.trim_end_matches('.'),
        text(&op["description"])
    );
    let params: Vec<String> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("`{}` ({})", text(&p["name"]), text(&p["in"])))
        .collect();
    if !params.is_empty() {
        out.push_str(&format!("\nParameters: {}.\n", params.join(", ")));
    }
    out.push_str("\nResponses:\n\n");
    for (status, r) in op["responses"].as_object().into_iter().flatten() {
        out.push_str(&format!("- **{status}**: {}.\n", text(&r["description"])));
    }
    out
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
         <link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body class=\"api-docs\"><h1>Rulestudio REST API</h1><p>Machine-readable: <a href=\"openapi.json\">openapi.json</a>. \
         Authenticate with <code>Authorization: Bearer TOKEN</code> or the session cookie. \
         Errors are <code>{{\"code\",\"message\",\"diagnostics\"?,\"reasons\"?}}</code>; \
         <a href=\"openapi.json\">openapi.json</a> lists each endpoint's statuses.</p>\
         <table><tr><th>Method</th><th>Path</th><th>What</th><th>Access</th></tr>{rows}</table></body></html>"
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
