//! Robustness of the parser on hostile input: nothing panics, the stack and memory stay bounded.

use super::{parse, parse_with_max_depth, render};

/// Parses on a thread with a small stack, as a wasm module or a test harness thread has.
fn parse_on_small_stack(text: String, max_depth: u32, stack: usize) -> super::ast::Parsed<super::ast::Expr> {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || parse_with_max_depth(&text, max_depth))
        .expect("thread starts")
        .join()
        .expect("parser did not panic")
}

#[test]
fn ten_thousand_parentheses_hit_the_depth_limit() {
    let text = "(".repeat(10_000) + "a" + &")".repeat(10_000);
    let parsed = parse_on_small_stack(text, 1000, 1 << 20);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].message, "exceeded max depth limit of 1000");
    let unclosed = "(".repeat(100_000);
    let parsed = parse_on_small_stack(unclosed, 100, 1 << 20);
    assert_eq!(parsed.errors[0].message, "exceeded max depth limit of 100");
}

#[test]
fn the_deepest_accepted_condition_fits_a_small_stack() {
    // libs counts parser functions, not parentheses: a check inside 198 groups is the deepest a
    // limit of 1000 allows, and 497 nested transformers.
    let deepest = |groups: usize, transformers: usize| {
        let check = "b64(".repeat(transformers) + "a.b" + &")".repeat(transformers) + " = 1";
        "(".repeat(groups) + &check + &")".repeat(groups)
    };
    for (groups, transformers, accepted) in [(198, 0, true), (199, 0, false), (0, 497, true), (0, 498, false)] {
        let parsed = parse_on_small_stack(deepest(groups, transformers), 1000, 1 << 20);
        let messages: Vec<_> = parsed.errors.iter().map(|e| e.message.as_str()).collect();
        let expected: &[&str] = if accepted { &[] } else { &["exceeded max depth limit of 1000"] };
        assert_eq!(messages, expected, "{groups} groups, {transformers} transformers");
    }
}

/// Deterministic garbage: every byte class the lexer cares about, in random order and lengths.
#[test]
fn garbage_never_panics_and_errors_stay_bounded() {
    const PIECES: &[&str] = &[
        "(", ")", "(", ")", " ", "\t", "\n", "and", "or", "not", "not(", "a.b", "x", "=", "!=", "<",
        "in", "exists", "contains ", "oneof", ",", "'", "\"", "\\", "[", "]", "0x1", "-1.5e+3",
        "val(", "b64(", "join(", "#", "é", "\u{0}", "\u{b}", "Tập", "!~", "!in", "&&", "||",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let len = (next() % 40) as usize;
        let text: String = (0..len).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect();
        let parsed = parse(&text);
        assert!(parsed.errors.len() <= 101, "{text:?}");
        for e in &parsed.errors {
            assert!(e.span.start <= e.span.end && e.span.end as usize <= text.len(), "{text:?}: {e:?}");
            assert!(text.is_char_boundary(e.span.start as usize) && text.is_char_boundary(e.span.end as usize));
        }
        if parsed.errors.is_empty() {
            // Whatever parses renders to text that parses to the same rendering.
            let canonical = render::canonical(&parsed.tree);
            let again = parse(&canonical);
            assert!(again.errors.is_empty(), "{text:?} -> {canonical:?}: {:?}", again.errors);
            assert_eq!(render::canonical(&again.tree), canonical, "{text:?}");
        }
    }
}

#[test]
fn huge_inputs_stay_linear() {
    let many = "a.b = 1 and ".repeat(200_000) + "c";
    let parsed = parse(&many);
    assert!(parsed.errors.is_empty());
    let broken = "a.b = ( x ".repeat(100_000);
    let parsed = parse(&broken);
    assert!(parsed.errors.len() <= 101);
    let long_token = "x".repeat(1 << 20);
    let parsed = parse(&format!("a.b = {long_token} {long_token}"));
    assert_eq!(parsed.errors.len(), 1);
    assert!(parsed.errors[0].message.len() < 120, "token is shortened in the message");
}
