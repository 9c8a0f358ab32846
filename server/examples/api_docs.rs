//! Prints `docs/api.md`, the REST API page rendered from the OpenAPI document. Starts nothing:
//! the document is built from the endpoint tables. `cargo xtask api-docs` writes it into docs/.

fn main() {
    print!("{}", rulestudio_server::api::docs::markdown());
}
