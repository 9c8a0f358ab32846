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
