//! The condition parser never fails and never panics: any text gives a tree plus errors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let parsed = rulestudio_engine::syntax::parse(text);
        for e in &parsed.errors {
            assert!(
                e.span.end as usize <= text.len(),
                "error span out of the input"
            );
        }
    }
});
