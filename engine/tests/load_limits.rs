//! The studio limits on loading (`loader::limits`): ten times what the official rulesets need,
//! and inputs beyond them (macro chains, list bombs, huge conditions) answered with one
//! `RS017` error naming the item, on a small stack and without building what they describe.

use rulestudio_engine::diagnostic::{Diagnostic, ItemKind};
use rulestudio_engine::loader::{
    Expansion, LoadOptions, Loaded, MAX_CONDITION_BYTES, MAX_CONDITION_NODES, MAX_EXPANDED_DEPTH,
    STUDIO_LIMIT, SourceFile, load,
};

fn file(name: &str, text: String) -> SourceFile {
    SourceFile {
        name: name.into(),
        text,
    }
}

/// Loads on a thread with a 256 KB stack (a tokio worker has 2 MB): no walk may recurse with
/// the input.
fn load_on_small_stack(text: String) -> Loaded {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || load(&[file("r.yaml", text)], &LoadOptions::default()))
        .expect("spawn")
        .join()
        .expect("loading did not overflow the stack")
}

fn limits(loaded: &Loaded) -> Vec<&Diagnostic> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == STUDIO_LIMIT)
        .collect()
}

/// `n` macros, each wrapping the previous one, and a rule using the last.
fn macro_chain(n: usize) -> String {
    let mut text = String::from("- macro: m0\n  condition: proc.name = a\n");
    for i in 1..n {
        text.push_str(&format!(
            "- macro: m{i}\n  condition: (m{} and proc.name = a)\n",
            i - 1
        ));
    }
    text.push_str(&format!(
        "- rule: r\n  desc: d\n  condition: evt.type = execve and m{}\n  output: o\n  priority: Warning\n",
        n - 1
    ));
    text
}

#[test]
fn official_rulesets_use_a_tenth_of_every_budget() {
    let stable = include_str!("../data/falco_rules.yaml");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/rulesets");
    let mut most = Expansion::default();
    let mut loads = 0;
    for entry in std::fs::read_dir(dir).expect("rulesets") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let loaded = load(
            &[
                file("falco_rules.yaml", stable.into()),
                file("other.yaml", text),
            ],
            &LoadOptions::default(),
        );
        assert!(limits(&loaded).is_empty(), "{:#?}", limits(&loaded));
        let x = loaded.expansion;
        println!("{}: {x:?}", path.display());
        assert!(
            10 * x.total_nodes <= Expansion::node_budget(x.input_bytes),
            "{x:?}"
        );
        assert!(
            10 * x.total_bytes <= Expansion::byte_budget(x.input_bytes),
            "{x:?}"
        );
        most.depth = most.depth.max(x.depth);
        most.nodes = most.nodes.max(x.nodes);
        most.bytes = most.bytes.max(x.bytes);
        loads += 1;
    }
    assert!(loads >= 9, "only {loads} rulesets");
    println!("largest: {most:?}");
    assert!(10 * most.depth <= MAX_EXPANDED_DEPTH, "{most:?}");
    assert!(10 * most.nodes <= MAX_CONDITION_NODES, "{most:?}");
    assert!(10 * most.bytes <= MAX_CONDITION_BYTES, "{most:?}");
    // The budgets are not slack either: the official rulesets need at least a twentieth.
    assert!(20 * most.depth >= MAX_EXPANDED_DEPTH, "{most:?}");
}

#[test]
fn a_chain_of_twenty_thousand_macros_stops_at_the_depth_limit() {
    let loaded = load_on_small_stack(macro_chain(20_000));
    assert!(!loaded.ok());
    let found = limits(&loaded);
    assert_eq!(
        found.len(),
        1,
        "one limit, then the rest is broken: {found:#?}"
    );
    let d = found[0];
    assert!(d.is_error());
    assert_eq!(d.item_kind, Some(ItemKind::Macro));
    let name = d.item_name.clone().expect("the macro is named");
    assert!(d.message.contains("levels deep"), "{}", d.message);
    let level: usize = name[1..].parse().expect("m<number>");
    assert!(
        (MAX_EXPANDED_DEPTH / 2..=MAX_EXPANDED_DEPTH).contains(&level),
        "stopped at {name}"
    );
    // Nothing else is said: the later macros name a broken one, as Falco says nothing of them.
    assert!(
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .all(|d| d.code == STUDIO_LIMIT)
    );
    assert!(loaded.expansion.total_nodes <= Expansion::node_budget(loaded.expansion.input_bytes));
}

#[test]
fn a_short_chain_loads_as_falco_loads_it() {
    let loaded = load_on_small_stack(macro_chain(30));
    assert!(loaded.ok(), "{:#?}", loaded.diagnostics);
    assert!(loaded.rules[0].compiled_condition.is_some());
    assert_eq!(loaded.ruleset.rules().len(), 1);
}

#[test]
fn doubling_macros_stop_at_the_node_limit() {
    let mut text = String::from("- macro: d0\n  condition: proc.name = a\n");
    for i in 1..40 {
        text.push_str(&format!(
            "- macro: d{i}\n  condition: d{0} or d{0}\n",
            i - 1
        ));
    }
    let loaded = load_on_small_stack(text);
    let found = limits(&loaded);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].message.contains("nodes"), "{}", found[0].message);
    assert!(loaded.expansion.nodes <= MAX_CONDITION_NODES);
}

/// Lists naming lists defined after them: each substitution pass multiplies the names by 8.
#[test]
fn a_list_bomb_stops_at_the_byte_limit_naming_the_rule() {
    let mut text = String::new();
    for level in 0..7 {
        let items = vec![format!("l{}", level + 1); 8].join(", ");
        text.push_str(&format!("- list: l{level}\n  items: [{items}]\n"));
    }
    text.push_str("- list: l7\n  items: [a]\n");
    text.push_str(
        "- rule: bomb\n  desc: d\n  condition: proc.name in (l0)\n  output: o\n  priority: Warning\n",
    );
    assert!(text.len() < 1024);
    let loaded = load_on_small_stack(text);
    let found = limits(&loaded);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].item_kind, Some(ItemKind::Rule));
    assert_eq!(found[0].item_name.as_deref(), Some("bomb"));
    assert!(found[0].message.contains("bytes"), "{}", found[0].message);
    assert!(loaded.expansion.total_bytes <= Expansion::byte_budget(loaded.expansion.input_bytes));
}

#[test]
fn a_five_megabyte_condition_is_refused_unparsed() {
    let long = vec!["proc.name = a"; 400_000].join(" or ");
    let text = format!("- macro: big\n  condition: {long}\n");
    let loaded = load_on_small_stack(text);
    let found = limits(&loaded);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].item_name.as_deref(), Some("big"));
}

#[test]
fn a_list_naming_a_large_list_many_times_is_refused_where_it_is_used() {
    let big: Vec<String> = (0..10_000).map(|i| format!("item{i}")).collect();
    let mut text = format!("- list: big\n  items: [{}]\n", big.join(", "));
    text.push_str(&format!(
        "- list: huge\n  items: [{}]\n",
        vec!["big"; 1_000].join(", ")
    ));
    text.push_str(
        "- rule: r\n  desc: d\n  condition: proc.name in (huge)\n  output: o\n  priority: Warning\n",
    );
    let loaded = load_on_small_stack(text);
    let found = limits(&loaded);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].item_name.as_deref(), Some("r"));
    assert!(
        found[0].message.contains("list 'huge'"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_load_asked_to_stop_stops_between_items() {
    use rulestudio_engine::loader::load_or_stop;
    use rulestudio_engine::stop::{StopCheck, Stopped};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let files = [file("r.yaml", macro_chain(2_000))];
    let asked = AtomicUsize::new(0);
    // The caller's clock says stop after 100 items.
    let stop = || asked.fetch_add(1, Ordering::Relaxed) >= 100;
    let result = load_or_stop(&files, &LoadOptions::default(), StopCheck::new(&stop));
    assert_eq!(result.err(), Some(Stopped));
    assert_eq!(
        asked.load(Ordering::Relaxed),
        101,
        "it stopped at the first no"
    );
    let never = load_or_stop(&files, &LoadOptions::default(), StopCheck::NEVER);
    assert!(never.is_ok_and(|l| l.macros.len() == 2_000));
}

#[test]
fn the_deepest_condition_the_parser_accepts_loads_on_a_worker_stack() {
    for (open, close) in [
        ("(", ")"),
        ("not (", ")"),
        ("proc.name = b and (", ")"),
        ("proc.name = b or not (", ")"),
    ] {
        // Find the deepest nesting the parser accepts, then load it as a rule on a thread with
        // a tokio worker's stack (2 MB): compile, evaluation program and rendering recurse.
        let cond = |n: usize| format!("{}proc.name = a{}", open.repeat(n), close.repeat(n));
        let accepted = |n: usize| rulestudio_engine::syntax::parse(&cond(n)).errors.is_empty();
        let (mut lo, mut hi) = (1, 5_000);
        assert!(!accepted(hi));
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if accepted(mid) { lo = mid } else { hi = mid }
        }
        let text = format!(
            "- rule: r\n  desc: d\n  condition: evt.type = execve and {}\n  output: o\n  priority: Warning\n",
            cond(lo)
        );
        let loaded = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || load(&[file("r.yaml", text)], &LoadOptions::default()))
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert!(loaded.ok(), "{open:?} x {lo}: {:#?}", loaded.diagnostics);
        println!("{open:?} nested {lo} deep loads");
    }
}
