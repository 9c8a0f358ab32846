//! Loading arbitrary rules files never panics, and every diagnostic points inside its file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rulestudio_engine::loader::{LoadOptions, SourceFile, load};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let len = text.len();
    let loaded = load(
        &[SourceFile {
            name: "fuzz.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    );
    for d in &loaded.diagnostics {
        if let Some(span) = d.span {
            assert!(span.end as usize <= len, "diagnostic span out of the file");
        }
    }
});
