//! The store's rows evaluate exactly as the decoded events they store: every condition of
//! `tests/conformance/eval/` is judged on every event of those files, once on the decoded
//! `Event` (the row-at-a-time engine) and once on the stored row (from a sealed Parquet
//! segment and from the open segment's chunks), and the verdicts must be equal.

// The case-file format has one reader, the engine's conformance harness.
#[allow(dead_code)]
#[path = "../../engine/tests/common/cases.rs"]
mod cases;

use rulestudio_engine::compile::compile;
use rulestudio_engine::event::{Event, FieldSource};
use rulestudio_store::{Config, ScanRequest, Store};
use std::collections::BTreeMap;

#[test]
fn stored_rows_match_exactly_as_the_events_they_store() {
    let all = cases::load("eval");
    let mut filters = Vec::new();
    let mut events = Vec::new();
    for case in &all {
        let condition = case.get("condition").expect("a condition");
        let parsed = rulestudio_engine::syntax::parse(condition)
            .ok()
            .expect("conformance conditions parse");
        if let Some(filter) = compile(&parsed).filter {
            filters.push((case.whence(), condition.to_string(), filter));
        }
        for (key, value, _) in &case.entries {
            if key == "match" || key == "no_match" {
                events.push(Event::from_json_str(value).expect("conformance events decode"));
            }
        }
    }
    assert!(
        filters.len() > 100 && events.len() > 400,
        "the conformance files are read"
    );

    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(
        dir.path(),
        "diff",
        Config {
            free_floor: 0,
            chunk_rows: 64,
            ..Config::default()
        },
    )
    .unwrap();
    // The first half sealed into Parquet, the second half in the open segment.
    let half = events.len() / 2;
    store.append(&events[..half], 1).unwrap();
    store.seal().unwrap();
    store.append(&events[half..], 1).unwrap();

    let mut verdicts: BTreeMap<(usize, u64), bool> = BTreeMap::new();
    let mut rows = 0;
    store
        .visit(&ScanRequest::default(), |row| {
            rows += 1;
            let event = &events[row.seq() as usize - 1];
            // The rule set's dispatch key, read from the column's dictionary.
            assert_eq!(
                row.evt_type_index(),
                event.evt_type_index(),
                "seq {}",
                row.seq()
            );
            for (f, (_, _, filter)) in filters.iter().enumerate() {
                verdicts.insert((f, row.seq()), filter.matches(row));
            }
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(rows, events.len());

    let mut failures = Vec::new();
    let mut matched = 0;
    for (f, (whence, condition, filter)) in filters.iter().enumerate() {
        for (i, event) in events.iter().enumerate() {
            let engine = filter.matches(event);
            matched += engine as usize;
            if verdicts[&(f, i as u64 + 1)] != engine {
                failures.push(format!(
                    "{whence}: `{condition}` on event {i}: engine {engine}, store {}",
                    !engine
                ));
            }
        }
    }
    assert!(matched > 0);
    assert!(
        failures.is_empty(),
        "{} of {} verdicts differ:\n{}",
        failures.len(),
        filters.len() * events.len(),
        failures[..failures.len().min(30)].join("\n")
    );
}
