//! Prints how long loading the official `falco_rules.yaml` takes (the browser lints on every
//! keystroke; the goal is ≤ 16 ms), alone and followed by the article's rules; then how long
//! a file of many lists and as many macros, each macro naming one list, takes (loading must
//! stay near-linear in the rules text: `LOAD_BENCH_ITEMS`, default 100,000 of each).
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

/// `n` lists and `n` macros, macro `i` naming list `i`, and a rule using the last macro.
fn lists_and_macros(n: usize) -> SourceFile {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "- list: list_{i}\n  items: [item_{i}, other_{i}]\n"
        ));
    }
    for i in 0..n {
        text.push_str(&format!(
            "- macro: macro_{i}\n  condition: proc.name in (list_{i})\n"
        ));
    }
    text.push_str(&format!(
        "- rule: r\n  desc: d\n  condition: evt.type = execve and macro_{}\n  output: o\n  priority: Warning\n",
        n - 1
    ));
    SourceFile {
        name: "many.yaml".into(),
        text,
    }
}

fn main() {
    let items = std::env::var("LOAD_BENCH_ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let many = lists_and_macros(items);
    let start = Instant::now();
    let loaded = load(std::slice::from_ref(&many), &LoadOptions::default());
    println!(
        "{items} lists + {items} macros ({} KB): {:.2} s per load ({} diagnostics)",
        many.text.len() / 1024,
        start.elapsed().as_secs_f64(),
        loaded.diagnostics.len()
    );

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
