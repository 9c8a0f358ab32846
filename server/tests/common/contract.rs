//! The OpenAPI document as the oracle of every answer the server tests get: `TestServer::send`
//! checks each API answer's media type and its JSON body against the schema the document gives
//! for that path, method and status, and records what it checked, so a test can require that
//! every endpoint was checked.

use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

/// The server's OpenAPI document, made once per test binary.
pub static DOC: LazyLock<Value> = LazyLock::new(rulestudio_server::api::docs::openapi);

/// `(METHOD, path template, status)` of every answer checked in this test binary.
pub static CHECKED: Mutex<BTreeSet<(String, String, u16)>> = Mutex::new(BTreeSet::new());

/// `(METHOD, path template)` of every request body checked in this test binary.
pub static REQUESTS_CHECKED: Mutex<BTreeSet<(String, String)>> = Mutex::new(BTreeSet::new());

/// Validators by schema text: the same few schemas are checked thousands of times.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> =
    LazyLock::new(Default::default);

/// Checks an answer of the endpoint `method` `path` (its template, `/events/{id}`) against
/// `doc`: the status is documented, the media type is one it lists for that status (none for
/// a status without content), and a JSON body (or each line of JSON lines) is valid against
/// its schema. `body` is None for a stream that is not read (server-sent events).
pub fn check(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: Option<&[u8]>,
) -> Result<(), String> {
    let op = &doc["paths"][format!("/api/v1{path}")][method.to_ascii_lowercase()];
    let response = &op["responses"][status.to_string()];
    if response.is_null() {
        return Err(format!(
            "the document lists no {status} for {method} {path}"
        ));
    }
    let kind = content_type.map(|c| c.split(';').next().unwrap_or_default().trim());
    let Some(content) = response.get("content") else {
        return match body {
            Some(b) if !b.is_empty() => Err(format!(
                "{method} {path} {status} has a body ({kind:?}) where the document has none"
            )),
            _ => Ok(()),
        };
    };
    let Some(kind) = kind else {
        return Err(format!("{method} {path} {status} has no Content-Type"));
    };
    let Some(media) = content.get(kind) else {
        let listed: Vec<&String> = content
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        return Err(format!(
            "{method} {path} {status} is {kind}; the document lists {listed:?}"
        ));
    };
    let Some(body) = body else { return Ok(()) };
    let what = format!("{method} {path} {status}");
    if let Some(schema) = media.get("schema") {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{what}: the body is not JSON: {e}"))?;
        return validate(doc, schema, &value).map_err(|e| format!("{what}: {e}"));
    }
    if let (Some(items), "application/x-ndjson") = (media.get("itemSchema"), kind) {
        for (i, line) in body.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let value: Value = serde_json::from_slice(line)
                .map_err(|e| format!("{what}: line {} is not JSON: {e}", i + 1))?;
            validate(doc, items, &value).map_err(|e| format!("{what}: line {}: {e}", i + 1))?;
        }
    }
    Ok(())
}

/// Checks a JSON request body a test sends to the endpoint `method` `path` (its template)
/// against `doc`: the endpoint takes a JSON body and `body` is valid against its schema.
pub fn check_request(doc: &Value, method: &str, path: &str, body: &Value) -> Result<(), String> {
    let op = &doc["paths"][format!("/api/v1{path}")][method.to_ascii_lowercase()];
    let Some(request) = op.get("requestBody") else {
        return Err(format!(
            "{method} {path} takes no body in the document, and the test sends one"
        ));
    };
    let Some(schema) = request["content"]["application/json"].get("schema") else {
        return Err(format!(
            "{method} {path} takes no JSON body in the document, and the test sends one"
        ));
    };
    validate(doc, schema, body).map_err(|e| format!("{method} {path} request: {e}"))?;
    REQUESTS_CHECKED
        .lock()
        .unwrap()
        .insert((method.to_string(), path.to_string()));
    Ok(())
}

/// `value` against `schema`, whose `$ref`s point into `doc`'s `components`.
pub fn validate(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    let mut root = json!({"components": doc["components"]});
    match schema {
        Value::Object(keywords) => {
            for (k, v) in keywords {
                root[k] = v.clone();
            }
        }
        // `true`: anything goes.
        Value::Bool(true) => return Ok(()),
        other => return Err(format!("not a schema: {other}")),
    }
    // The document is one per binary (or a test's own copy, alive while it is checked).
    let key = format!("{:p} {schema}", doc);
    let validator = {
        let mut cache = VALIDATORS.lock().unwrap();
        match cache.get(&key) {
            Some(v) => v.clone(),
            None => {
                let v = Arc::new(
                    jsonschema::draft202012::new(&root)
                        .map_err(|e| format!("the document's schema does not compile: {e}"))?,
                );
                cache.insert(key, v.clone());
                v
            }
        }
    };
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} (at `{}`)", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "does not match the document: {}",
            errors.join("; ")
        ))
    }
}

/// Records that an answer of `method` `path` with `status` was checked.
pub fn record(method: &str, path: &str, status: u16) {
    CHECKED
        .lock()
        .unwrap()
        .insert((method.to_string(), path.to_string(), status));
}
