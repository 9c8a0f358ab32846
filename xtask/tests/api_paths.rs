//! Every REST path is declared once, in `api/src/routes.rs`: the server routes those
//! declarations and every program that calls the API builds its URLs from them. This test fails
//! on an API path written as a literal anywhere else in a crate's sources (tests may write
//! them: they check what a client would send).

mod tree;

use std::fs;
use tree::{members, root, rust_files};

#[test]
fn no_api_path_is_written_outside_the_route_declarations() {
    let root = root();
    let declarations = root.join("api/src/routes.rs");
    let mut files = Vec::new();
    for member in members(&root) {
        rust_files(&member.join("src"), &mut files);
    }
    assert!(
        files.contains(&declarations),
        "no {}",
        declarations.display()
    );
    let mut strays = Vec::new();
    for file in files.iter().filter(|f| **f != declarations) {
        let text = fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            // A string that starts with the prefix, or a URL built on a base: not prose.
            let stray = line.match_indices("/api/v1").any(|(at, _)| {
                let before = &line[..at];
                before.ends_with('"') || before.ends_with('}')
            });
            if stray {
                strays.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        strays.is_empty(),
        "API paths written outside api/src/routes.rs (use rulestudio_api::routes):\n{}",
        strays.join("\n")
    );
}

/// The frontend calls the API only through `client::call::<calls::X>` and builds stream and
/// download URLs with `client::url::<calls::X>`; this test fails on a string in its sources that
/// is an API path (`"/session"`, `format!("/baselines/{id}")`) or an API query (`"/alerts?"`,
/// `"/events?limit="`). The UI's own addresses share some paths with the API (`/events`,
/// `/proposals/:id`): a string that is a page of the app's router passes, unless its query
/// is left to be appended (`"/alerts?"`) or names a parameter of the API's queries.
#[test]
fn the_frontend_writes_no_api_path_or_query() {
    let root = root();
    let api = api_paths(&fs::read_to_string(root.join("api/src/routes.rs")).unwrap());
    let pages = ui_pages(&fs::read_to_string(root.join("frontend/src/app.rs")).unwrap());
    let keys = query_keys(&fs::read_to_string(root.join("api/src/query.rs")).unwrap());
    assert!(api.len() > 40 && pages.len() > 10 && keys.len() > 10);
    let mut files = Vec::new();
    rust_files(&root.join("frontend/src"), &mut files);
    let mut strays = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for (line, literal) in string_literals(&text) {
            if let Some(why) = api_use(&literal, &api, &pages, &keys) {
                strays.push(format!("{}:{line}: \"{literal}\" {why}", file.display()));
            }
        }
    }
    assert!(
        strays.is_empty(),
        "API paths or queries written in the frontend (use client::call / client::url with rulestudio_api::calls):\n{}",
        strays.join("\n")
    );
}

#[test]
fn the_frontend_check_tells_api_strings_from_ui_addresses() {
    let api = api_paths(
        "path: \"/alerts\",\npath: \"/baselines/{id}\",\npath: \"/events\",\npath: \"/session\",",
    );
    let pages = ui_pages("path!(\"/events\")\npath!(\"/alerts\")\npath!(\"/events/:id\")");
    let keys = query_keys("limit: Option<u32>,\nfilter: Option<String>,");
    let flagged = |s: &str| api_use(s, &api, &pages, &keys).is_some();
    assert!(flagged("/alerts?"));
    assert!(flagged("/baselines/{id}"));
    assert!(flagged("/baselines/{}"));
    assert!(flagged("/session"));
    assert!(flagged("/events?limit={PAGE}"));
    assert!(flagged("/events?q={}&filter={}"));
    assert!(!flagged("/events?q={}"));
    assert!(!flagged("/events?{}"));
    assert!(!flagged("/events/{}"));
    assert!(!flagged("/alerts"));
    assert!(!flagged("/rules/edit?rule={}"));
    assert!(!flagged("data:application/yaml;charset=utf-8,{}"));
    let literals =
        string_literals("let a = '\"'; // \"/session\"\nlet b = format!(\"/alerts?{q}\");");
    assert_eq!(literals, vec![(2, "/alerts?{q}".to_string())]);
}

/// The route paths of `routes.rs`, split into segments.
fn api_paths(routes: &str) -> Vec<Vec<String>> {
    routes
        .lines()
        .filter_map(|l| l.trim().strip_prefix("path: \""))
        .filter_map(|l| l.strip_suffix("\","))
        .map(segments)
        .collect()
}

/// The page paths of the app's router (`path!("/events/:id")`).
fn ui_pages(app: &str) -> Vec<Vec<String>> {
    app.match_indices("path!(\"")
        .filter_map(|(at, m)| {
            let rest = &app[at + m.len()..];
            rest.find('"').map(|end| segments(&rest[..end]))
        })
        .collect()
}

/// The field names of the API's query types.
fn query_keys(query: &str) -> Vec<String> {
    query
        .lines()
        .map(|l| l.trim().trim_start_matches("pub "))
        .filter(|l| l.contains(": ") && l.ends_with(','))
        .filter_map(|l| l.split(':').next())
        .filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(str::to_string)
        .collect()
}

fn segments(path: &str) -> Vec<String> {
    path.split('/').skip(1).map(str::to_string).collect()
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') || segment.starts_with(':')
}

/// Whether the path `literal` matches `pattern`: same length, equal segments or a parameter
/// on either side.
fn matches(literal: &[String], pattern: &[String]) -> bool {
    literal.len() == pattern.len()
        && literal
            .iter()
            .zip(pattern)
            .all(|(a, b)| a == b || is_param(a) || is_param(b))
}

/// Why `literal` is an API path or query, if it is one.
fn api_use(
    literal: &str,
    api: &[Vec<String>],
    pages: &[Vec<String>],
    keys: &[String],
) -> Option<&'static str> {
    if !literal.starts_with('/') {
        return None;
    }
    let (path, query) = match literal.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (literal, None),
    };
    let path = segments(path);
    if !api.iter().any(|a| matches(&path, a)) {
        return None;
    }
    if !pages.iter().any(|p| matches(&path, p)) {
        return Some("is an API path and no page of the app");
    }
    let query = query?;
    if query.is_empty() {
        return Some("is an API path with a query built by hand");
    }
    query
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .any(|n| keys.iter().any(|k| k == n))
        .then_some("has a parameter of the API's queries")
}

/// The contents of the string literals of Rust source `text`, with their line numbers,
/// outside `//` comments (escapes are kept as written).
fn string_literals(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut chars = line.chars().peekable();
        let mut current: Option<String> = None;
        while let Some(c) = chars.next() {
            match (&mut current, c) {
                (Some(s), '\\') => {
                    s.push(c);
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                }
                (Some(_), '"') => out.push((i + 1, current.take().unwrap())),
                (Some(s), _) => s.push(c),
                (None, '/') if chars.peek() == Some(&'/') => break,
                // A char literal of a quote: '"' or '\"'.
                (None, '\'') => {
                    let ahead: String = chars.clone().take(3).collect();
                    if ahead.starts_with("\"'") {
                        chars.nth(1);
                    } else if ahead.starts_with("\\\"'") {
                        chars.nth(2);
                    }
                }
                (None, '"') => current = Some(String::new()),
                (None, _) => {}
            }
        }
    }
    out
}
