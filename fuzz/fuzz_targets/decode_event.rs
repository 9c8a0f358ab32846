//! The ingest decoder (`Event::decode_json`: the fast scanner, then `serde_json`) never panics,
//! and agrees with the exact reading: a line it accepts is one `serde_json` accepts as an
//! object, decoding to the same event (so every stored line reads back); a line it refuses is
//! refused by the exact reading too. A refusal naming a key names one of the line's text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rulestudio_engine::event::{Event, EventError, json_error};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut reused = Event::new();
    let fast = reused.decode_json(text);
    let exact = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => Some(Event::from_map(&map)),
        Ok(_) => None,
        Err(e) => {
            // Keys with escapes are decoded; others are named as written.
            if let EventError::Key { key, .. } = json_error(text, &e) {
                assert!(
                    text.contains('\\') || text.contains(key.as_str()),
                    "json_error named key {key:?}, which is not in the text"
                );
            }
            None
        }
    };
    match (&fast, exact) {
        (Ok(()), Some(Ok(ev))) => assert_eq!(reused, ev, "fast and exact decodings differ"),
        (Ok(()), other) => panic!("decode_json accepted what serde_json refuses: {other:?}"),
        (Err(_), Some(Ok(ev))) => panic!("decode_json refused an event serde_json reads: {ev:?}"),
        (Err(_), _) => {}
    }
    // Decoding again into the used event gives the same outcome (ingest reuses one event).
    let again = reused.decode_json(text);
    assert_eq!(again.is_ok(), fast.is_ok());
});
