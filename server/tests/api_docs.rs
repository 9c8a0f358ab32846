//! `docs/api.md` is the OpenAPI document rendered as Markdown; it must not drift from the code.

use std::path::Path;

#[test]
fn api_md_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api.md");
    let want = rulestudio_server::api::docs::markdown();
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/api.md is stale: run `cargo xtask api-docs`"
    );
}

#[test]
fn every_endpoint_is_on_the_api_page() {
    let page = rulestudio_server::api::docs::markdown();
    for e in rulestudio_server::api::endpoints() {
        let heading = format!("### `{} /api/v1{}`", e.call.route.method, e.call.route.path);
        assert!(page.contains(&heading), "{heading} is missing");
        assert!(
            page.contains(e.summary),
            "the summary of {heading} is missing"
        );
    }
}
