//! The rulestudio command: lint, explain, check, eval, test, serve, demo.

fn main() {}
