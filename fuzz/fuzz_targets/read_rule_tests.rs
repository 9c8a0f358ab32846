//! The rule tests reader never panics; every line an error names is a line of the input; and
//! each case it reads survives being written back (`to_yaml`) and read again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rulestudio_api::ruletest::{parse, to_yaml};
use rulestudio_engine::event::Event;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Lines as YAML counts them: `\r\n`, `\r` and `\n` each end one.
    let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count();
    match parse(text) {
        Err(e) => {
            // The places the message gives ("line N:", "(line N)", "at line N,"), before any
            // quoted input it echoes: within the input.
            let msg = e.0;
            let places = &msg[..msg.find(['"', '`', '\'']).unwrap_or(msg.len())];
            for (at, _) in places.match_indices("line ") {
                let digits: String = places[at + 5..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(n) = digits.parse::<usize>() {
                    assert!(n >= 1 && n <= lines, "error names line {n} of {lines}: {msg}");
                }
            }
        }
        Ok(cases) => {
            for case in cases {
                // Judging reads the event: bad values are errors, never panics.
                let _ = Event::from_map(&case.event);
                let written = to_yaml(&case);
                let back = parse(&written).unwrap_or_else(|e| panic!("{e}: {written}"));
                assert_eq!(back, vec![case], "round trip through {written}");
            }
        }
    }
});
