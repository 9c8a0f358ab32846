//! Prints how long loading the official `falco_rules.yaml` takes (the browser lints on every
//! keystroke; the goal is ≤ 16 ms), alone and followed by the article's rules.
//! Run: `cargo bench -p rulestudio-engine --bench load`.

use rulestudio_engine::loader::{LoadOptions, SourceFile, load};
use std::time::{Duration, Instant};

fn time(label: &str, files: &[SourceFile]) {
    let opts = LoadOptions::default();
    // Warm up (lazily built tables) and check the input is what we think it is.
    let loaded = load(files, &opts);
    let rules = loaded.rules.len();
    let mut runs = 0u32;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) || runs < 10 {
        std::hint::black_box(load(std::hint::black_box(files), &opts));
        runs += 1;
    }
    let per = start.elapsed().as_secs_f64() * 1000.0 / f64::from(runs);
    println!("{label}: {per:.2} ms per load ({rules} rules, {runs} runs)");
}

fn main() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/data/falco_rules.yaml");
    let falco = SourceFile {
        name: "falco_rules.yaml".into(),
        text: std::fs::read_to_string(data).expect("falco_rules.yaml"),
    };
    let article_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/conformance/load/article-rules.yaml"
    );
    time("falco_rules.yaml", std::slice::from_ref(&falco));
    if let Ok(text) = std::fs::read_to_string(article_path) {
        time(
            "falco_rules.yaml + article-rules.yaml",
            &[
                falco,
                SourceFile {
                    name: "article-rules.yaml".into(),
                    text,
                },
            ],
        );
    }
}
