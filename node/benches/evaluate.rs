//! The cost per event of judging on the node: decoding the interchange JSON line into the
//! engine's `Event`, and the whole `Evaluator::judge` (decode + the live set + alerts built and
//! numbered), with Falco's `falco_rules.yaml` as the live set. Events: a JSON-lines file given
//! as `RS_EVENTS` (such as one `rulestudio-collector --record` wrote on a busy node), else the
//! server's test events. `cargo bench -p rulestudio-node --bench evaluate`.

use rulestudio_api::live::{LiveSet, RuleMatching, RulesFile};
use rulestudio_engine::event::Event;
use rulestudio_node::{AlertIds, Evaluator, Live, RateLimit};
use std::sync::Arc;
use std::time::Instant;

const ROUNDS_MIN_EVENTS: usize = 200_000;

fn main() {
    let text = match std::env::var("RS_EVENTS") {
        Ok(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
        Err(_) => include_str!("../../server/tests/data/events.jsonl").to_string(),
    };
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let bytes: usize = lines.iter().map(String::len).sum();
    let rounds = ROUNDS_MIN_EVENTS.div_ceil(lines.len());
    let total = rounds * lines.len();

    let mut ev = Event::new();
    let start = Instant::now();
    for _ in 0..rounds {
        for l in &lines {
            ev.decode_json(l).expect("an interchange event");
        }
    }
    let decode = start.elapsed().as_nanos() as f64 / total as f64;

    let live = Arc::new(Live::default());
    let set = LiveSet {
        version: 1,
        files: vec![RulesFile {
            name: "falco_rules.yaml".into(),
            content: include_str!("../../engine/data/falco_rules.yaml").into(),
        }],
        rule_matching: RuleMatching::First,
        promoted_at: 0,
        promoted_by: String::new(),
        proposal: None,
        engine_changes: Vec::new(),
    };
    live.install(rulestudio_node::live::compile(set).expect("falco_rules.yaml compiles"));
    let ids = AlertIds::open("bench", None).unwrap();
    let mut evaluator = Evaluator::new(live, "bench", ids, RateLimit::default());
    let (mut alerts, mut suppressed) = (0, 0);
    let start = Instant::now();
    for _ in 0..rounds {
        for batch in lines.chunks(2000) {
            let judged = evaluator.judge(None, batch).unwrap();
            alerts += judged.alerts.len();
            suppressed += judged.suppressed;
        }
    }
    let judge = start.elapsed().as_nanos() as f64 / total as f64;

    println!(
        "{} events ({} B average), {rounds} rounds, live set falco_rules.yaml (rule_matching first)",
        lines.len(),
        bytes / lines.len()
    );
    println!("decode JSON line -> Event: {decode:.0} ns/event");
    println!(
        "judge (decode + evaluate + alerts): {judge:.0} ns/event = {:.0}k events/s on one core; {alerts} alerts, {suppressed} suppressed",
        1e6 / judge
    );
}
