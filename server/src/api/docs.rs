//! `GET /api/v1/openapi.json` (OpenAPI 3.1), generated from the endpoint tables of the
//! resource modules; `GET /api/v1/docs`, a page listing them; and `docs/api.md`, rendered from
//! the same OpenAPI document by [`markdown`] (`cargo xtask api-docs`).

use super::{Endpoint, Payload, SchemaFn, calls, endpoints, json, typed};
use crate::auth::Access;
use axum::Json;
use axum::response::Html;
use axum::routing::on;
use rulestudio_api::alerts::NodeAlert;
use rulestudio_api::collector::Heartbeat;
use rulestudio_api::error::ErrorBody;
use rulestudio_api::fleet::{
    self, LivePointer, NodeEventReply, NodeEventRequest, NodePreviewReply, NodePreviewRequest,
};
use rulestudio_api::live::LiveSet;
use rulestudio_api::routes::PREFIX;
use schemars::{SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::GetOpenApi>(),
        handler: |m| on(m, || async { Json(openapi()) }),
        access: Access::Public,
        summary: "This API as OpenAPI 3.1",
        ok: 200,
        errors: &[],
    },
    Endpoint {
        call: typed::<calls::GetDocs>(),
        handler: |m| on(m, || async { Html(page()) }),
        access: Access::Public,
        summary: "This API as a page",
        ok: 200,
        errors: &[],
    },
];

pub fn openapi() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    // Answers are described as serde writes them (a field with a default is still always
    // written, so it is required), requests as serde reads them (such a field may be left out).
    let mut answers = settings.clone().for_serialize().into_generator();
    let mut generator = settings.into_generator();
    let error = json::<ErrorBody>(&mut answers).to_value();
    let mut paths = Map::new();
    for e in endpoints() {
        let mut params: Vec<Value> = path_params(e.call.route.path)
            .zip(e.call.params)
            .map(|(name, schema)| {
                let schema = schema(&mut generator).to_value();
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        if let Some(query) = e.call.query {
            params.extend(query_params(query(&mut generator).to_value()));
        }
        let responses: Map<String, Value> = e
            .responses()
            .into_iter()
            .map(|(status, why)| {
                let mut r = json!({"description": why});
                if status == e.ok {
                    if let Some(content) = content(&e.call.response, &mut answers) {
                        r["content"] = content;
                    }
                } else if status >= 400 {
                    r["content"] = json!({"application/json": {"schema": error}});
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
        if let Some(content) = content(&e.call.request, &mut generator) {
            let required = !matches!(e.call.request, Payload::OptionalJson(_));
            op["requestBody"] = json!({"required": required, "content": content});
        }
        if e.access != Access::Public {
            op["security"] = json!([{"bearer": []}, {"cookie": []}]);
        }
        let item = paths
            .entry(format!("{PREFIX}{}", e.call.route.path))
            .or_insert_with(|| json!({}));
        item[e.call.route.method.to_ascii_lowercase()] = op;
    }
    let nats = nats(&mut generator);
    let mut schemas = generator.take_definitions(true);
    let renamed = add_answer_schemas(&mut schemas, answers.take_definitions(true));
    for item in paths.values_mut() {
        for op in item.as_object_mut().into_iter().flatten().map(|(_, op)| op) {
            rename_refs(&mut op["responses"], &renamed);
        }
    }
    // The codes are the server's: `AppError` is their one definition.
    if let Some(code) = schemas
        .get_mut("ErrorBody")
        .and_then(|s| s.pointer_mut("/properties/code"))
    {
        code["enum"] = json!(crate::error::AppError::CODES);
    }
    let examples = examples();
    for (name, schema) in &mut schemas {
        if let Some(example) = examples.get(name.strip_suffix(ANSWER).unwrap_or(name)) {
            schema["examples"] = json!([example]);
        }
    }
    add_examples(&mut paths, &examples);
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Rulestudio", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "x-nats": nats,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE},
            },
            "schemas": schemas,
        },
    })
}

/// What an answer's schema is named when the same type reads differently in a request.
const ANSWER: &str = "Answer";

/// Adds the schemas of answers to those of requests. A type that is described alike both ways
/// is one schema; one whose answer differs (fields with a default, required only in answers) is
/// named `{name}Answer` on the answer side. Returns the names so renamed.
fn add_answer_schemas(
    schemas: &mut Map<String, Value>,
    answers: Map<String, Value>,
) -> Vec<String> {
    let renamed: Vec<String> = answers
        .iter()
        .filter(|(name, schema)| schemas.get(*name).is_some_and(|s| s != *schema))
        .map(|(name, _)| name.clone())
        .collect();
    for (name, mut schema) in answers {
        rename_refs(&mut schema, &renamed);
        if renamed.contains(&name) {
            schemas.insert(format!("{name}{ANSWER}"), schema);
        } else {
            schemas.entry(name).or_insert(schema);
        }
    }
    renamed
}

/// Points the `$ref`s in `value` to the answer side's schemas of the `renamed` types.
fn rename_refs(value: &mut Value, renamed: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let target = v
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"));
                match target {
                    Some(name) if key == "$ref" && renamed.iter().any(|n| n == name) => {
                        *v = json!(format!("#/components/schemas/{name}{ANSWER}"));
                    }
                    _ => rename_refs(v, renamed),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, renamed)),
        _ => {}
    }
}

/// The examples of JSON bodies (`examples.json`), by schema name, or by `METHOD /path` for a
/// body of no named schema: shown in the document beside each schema and on each operation's
/// JSON request and success answer, each valid against its schema (`tests/api_docs.rs`).
fn examples() -> Map<String, Value> {
    // A constant file of this crate, parsed by every test that makes the document.
    serde_json::from_str(include_str!("examples.json")).unwrap_or_default()
}

/// Each operation's JSON request body and success answer get the example of their schema.
fn add_examples(paths: &mut Map<String, Value>, examples: &Map<String, Value>) {
    for (path, item) in paths.iter_mut() {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            let own = format!(
                "{} {}",
                method.to_ascii_uppercase(),
                path.trim_start_matches(PREFIX)
            );
            let successes = op["responses"].as_object().into_iter().flatten();
            let answers = successes
                .filter(|(status, _)| status.starts_with('2'))
                .map(|(status, _)| format!("/responses/{status}/content/application~1json"));
            let bodies: Vec<String> =
                std::iter::once("/requestBody/content/application~1json".into())
                    .chain(answers)
                    .collect();
            for pointer in bodies {
                let Some(media) = op.pointer_mut(&pointer) else {
                    continue;
                };
                let named = media["schema"]["$ref"]
                    .as_str()
                    .and_then(|r| r.rsplit('/').next());
                // An answer-side schema shares its type's example.
                let named = named.map(|n| n.strip_suffix(ANSWER).unwrap_or(n));
                let example = named.and_then(|n| examples.get(n)).or(examples.get(&own));
                if let Some(example) = example {
                    media["example"] = example.clone();
                }
            }
        }
    }
}

/// Fleet mode's NATS subjects and what travels on them (decision 0025), as the document's
/// `x-nats`: each with who sends, the message's schema and, for a request, its reply's. Every
/// message carries the protocol version (`rulestudio_api::protocol`).
fn nats(generator: &mut SchemaGenerator) -> Value {
    let node = "{node}";
    let mut message = |subject: String, from: &str, what: &str, schema: SchemaFn| json!({"subject": subject, "from": from, "what": what, "message": schema(generator).to_value()});
    let mut rows = vec![
        message(
            fleet::heartbeat_subject(node),
            "node",
            "Its counters and the live version it runs, every period and at once on a change; the studio names the node by the subject",
            json::<Heartbeat>,
        ),
        message(
            format!(
                "{} (key-value bucket), key {}",
                fleet::LIVE_BUCKET,
                fleet::LIVE_KEY
            ),
            "studio",
            "Which object holds the current live-set version; nodes watch it",
            json::<LivePointer>,
        ),
        message(
            format!(
                "{} (object store), object {}",
                fleet::LIVE_OBJECTS,
                fleet::live_object(0).replace('0', "{version}")
            ),
            "studio",
            "The live set of that version, chunked",
            json::<LiveSet>,
        ),
        message(
            format!(
                "{} (stream {}, file storage, refuses new messages when full)",
                fleet::alerts_subject(node),
                fleet::ALERTS_STREAM
            ),
            "node",
            "Alerts the node raised (NDJSON, each naming its event by its id in the node's store); the studio stores each id once, acknowledges after its commit, and names the node by the subject",
            json::<NodeAlert>,
        ),
        message(
            fleet::preview_subject(node),
            "studio",
            "A preview request to one node, answered once on the request's reply subject",
            json::<NodePreviewRequest>,
        ),
    ];
    rows.push(message(
        fleet::event_subject(node),
        "studio",
        "Asks one node for one of its events by id (an event page, an alert's or a sample's event), answered once on the request's reply subject",
        json::<NodeEventRequest>,
    ));
    let event_reply = json::<NodeEventReply>(generator).to_value();
    rows.last_mut().expect("the event row")["reply"] = event_reply;
    let reply = json::<NodePreviewReply>(generator).to_value();
    let preview = rows
        .iter_mut()
        .find(|r| r["subject"] == fleet::preview_subject(node).as_str())
        .expect("the preview row");
    preview["reply"] = reply;
    Value::Array(rows)
}

/// A body's `content` map (none for an empty body). A sequence's items (JSON lines,
/// server-sent events' `data`) are under `itemSchema`, as OpenAPI 3.2 writes them.
fn content(body: &Payload, generator: &mut SchemaGenerator) -> Option<Value> {
    match body {
        Payload::Empty => None,
        Payload::Json(schema) | Payload::OptionalJson(schema) => {
            Some(json!({"application/json": {"schema": schema(generator).to_value()}}))
        }
        Payload::Media(kinds) => Some(Value::Object(
            kinds
                .iter()
                .map(|m| {
                    let mut media = json!({});
                    if let Some(items) = m.items {
                        media["itemSchema"] = items(generator).to_value();
                    }
                    (m.kind.to_string(), media)
                })
                .collect(),
        )),
    }
}

/// The names an object schema requires.
fn required(schema: &Value) -> Vec<&str> {
    schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// One query parameter per property of a query type's object schema.
fn query_params(schema: Value) -> Vec<Value> {
    let required = required(&schema);
    schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, property)| {
            let mut property = property.clone();
            // A parameter left out is `None`: it is never `null`.
            if let Some(types) = property.get_mut("type").and_then(Value::as_array_mut) {
                types.retain(|t| t != "null");
                if let [one] = types.as_slice() {
                    property["type"] = one.clone();
                }
            }
            let description = property
                .as_object_mut()
                .and_then(|p| p.remove("description"));
            let mut param = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": property,
            });
            if let Some(d) = description {
                param["description"] = d;
            }
            param
        })
        .collect()
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
            .trim_start_matches(PREFIX)
            .trim_start_matches('/')
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
    out.push_str(&nats_markdown(&doc["x-nats"]));
    out.push_str(&schemas(&doc["components"]["schemas"]));
    out
}

/// The NATS subjects of fleet mode (`x-nats`) as a table.
fn nats_markdown(rows: &Value) -> String {
    let mut out = String::from(
        "\n## NATS (fleet mode)\n\nWith `--nats`, nodes and the studio also speak over NATS \
         JetStream (decision 0025). Heartbeats, the pointer and preview requests and answers \
         carry the protocol version (`version`, or `format` where it was first; absent: 1), \
         which also covers the object the pointer names (decision 0028).\n\n\
         | Subject | From | Message | What |\n|---|---|---|---|\n",
    );
    for row in rows.as_array().into_iter().flatten() {
        let mut message = type_name(&row["message"]);
        if let Some(reply) = row.get("reply") {
            message.push_str(&format!(", reply {}", type_name(reply)));
        }
        out.push_str(&format!(
            "| `{}` | {} | {message} | {}. |\n",
            row["subject"].as_str().unwrap_or_default(),
            row["from"].as_str().unwrap_or_default(),
            row["what"].as_str().unwrap_or_default(),
        ));
    }
    out
}

/// The `components/schemas` as tables of their fields, in name order.
fn schemas(schemas: &Value) -> String {
    let mut out = String::from(
        "\n## Schemas\n\nThe bodies above, by name (JSON Schema 2020-12 in `openapi.json`); a \
         field not marked required may be absent. A type that an answer always writes in full but \
         a request may abridge (fields with defaults) has a second schema, `…Answer`, for \
         answers.\n",
    );
    for (name, schema) in schemas.as_object().into_iter().flatten() {
        out.push_str(&format!("\n### {name}\n\n"));
        if let Some(d) = schema["description"].as_str() {
            out.push_str(&format!("{}\n\n", one_line(d)));
        }
        let Some(properties) = schema["properties"].as_object() else {
            out.push_str(&format!("{}\n", type_name(schema)));
            continue;
        };
        let required = required(schema);
        out.push_str("| Field | Type | Required | |\n|---|---|---|---|\n");
        for (field, p) in properties {
            out.push_str(&format!(
                "| `{field}` | {} | {} | {} |\n",
                type_name(p).replace('|', "\\|"),
                if required.contains(&field.as_str()) {
                    "yes"
                } else {
                    ""
                },
                one_line(p["description"].as_str().unwrap_or_default()).replace('|', "\\|"),
            ));
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A schema as a short type: `Proposal`, `integer`, `[string]`, `string | null`.
fn type_name(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("[{name}](#{})", name.to_ascii_lowercase());
    }
    if schema == &Value::Bool(true) || schema.as_object().is_some_and(|o| o.is_empty()) {
        return "any".into();
    }
    if let Some(values) = schema["enum"].as_array() {
        let names: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        return names.join(" | ");
    }
    if let Some(value) = schema.get("const") {
        return format!("`{value}`");
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema[key].as_array() {
            let names: Vec<String> = options.iter().map(type_name).collect();
            return names.join(" | ");
        }
    }
    let one = |t: &str| match t {
        "array" => format!("[{}]", type_name(&schema["items"])),
        "object" => match schema.get("additionalProperties") {
            Some(v) if v.is_object() => format!("map of {}", type_name(v)),
            _ => "object".into(),
        },
        other => other.to_string(),
    };
    match &schema["type"] {
        Value::String(t) => one(t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".into(),
    }
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
        .map(|p| {
            let required = if p["required"] == true {
                ""
            } else {
                ", optional"
            };
            format!(
                "`{}` ({}, {}{required})",
                text(&p["name"]),
                text(&p["in"]),
                type_name(&p["schema"])
            )
        })
        .collect();
    if !params.is_empty() {
        out.push_str(&format!("\nParameters: {}.\n", params.join(", ")));
    }
    if let Some(body) = op.get("requestBody") {
        let optional = if body["required"] == false {
            " (may be left out)"
        } else {
            ""
        };
        out.push_str(&format!(
            "\nRequest{optional}: {}.\n",
            media(&body["content"])
        ));
    }
    out.push_str("\nResponses:\n\n");
    for (status, r) in op["responses"].as_object().into_iter().flatten() {
        let body = match r.get("content") {
            Some(c) if !status.starts_with('2') => format!(" → {}", media(c)).replace(
                "`application/json` [ErrorBody](#errorbody)",
                "[ErrorBody](#errorbody)",
            ),
            Some(c) => format!(" → {}", media(c)),
            None => String::new(),
        };
        out.push_str(&format!(
            "- **{status}**{body}: {}.\n",
            text(&r["description"])
        ));
    }
    if let Some(example) = op.pointer("/requestBody/content/application~1json/example") {
        out.push_str(&example_block("Example request", example));
    }
    for (status, r) in op["responses"].as_object().into_iter().flatten() {
        if let Some(example) = r.pointer("/content/application~1json/example")
            && status.starts_with('2')
        {
            out.push_str(&example_block(
                &format!("Example answer ({status})"),
                example,
            ));
        }
    }
    out
}

/// A JSON example under its label, as a fenced block.
fn example_block(label: &str, example: &Value) -> String {
    let text = serde_json::to_string_pretty(example).unwrap_or_default();
    format!("\n{label}:\n\n```json\n{text}\n```\n")
}

/// A `content` map as its media types and schemas: `application/json` [Proposal](#proposal).
fn media(content: &Value) -> String {
    let kinds: Vec<String> = content
        .as_object()
        .into_iter()
        .flatten()
        .map(|(kind, m)| match (m.get("schema"), m.get("itemSchema")) {
            (Some(s), _) => format!("`{kind}` {}", type_name(s)),
            (None, Some(items)) => format!("`{kind}`, each item {}", type_name(items)),
            (None, None) => format!("`{kind}`"),
        })
        .collect();
    kinds.join(" or ")
}

fn page() -> String {
    let mut rows = String::new();
    for e in endpoints() {
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>{PREFIX}{}</code></td><td>{}</td><td>{}</td></tr>\n",
            e.call.route.method,
            escape(e.call.route.path),
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
