//! Robustness of the parser on hostile input: nothing panics, the stack and memory stay bounded.

use super::{parse, parse_with_max_depth, render};

/// Parses on a thread with a small stack, as a wasm module or a test harness thread has.
fn parse_on_small_stack(
    text: String,
    max_depth: u32,
    stack: usize,
) -> super::ast::Parsed<super::ast::Expr> {
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
    let parsed = parse_on_small_stack(unclosed.clone(), 100, 1 << 20);
    assert_eq!(parsed.errors[0].message, "exceeded max depth limit of 100");
    // A limit too high for the stack is lowered.
    let parsed = parse_on_small_stack(unclosed, u32::MAX, 1 << 20);
    assert_eq!(parsed.errors[0].message, "exceeded max depth limit of 1000");
}

#[test]
fn the_deepest_accepted_condition_fits_a_small_stack() {
    // libs counts parser functions, not parentheses: a check inside 198 groups is the deepest a
    // limit of 1000 allows, and 497 nested transformers.
    let deepest = |groups: usize, transformers: usize| {
        let check = "b64(".repeat(transformers) + "a.b" + &")".repeat(transformers) + " = 1";
        "(".repeat(groups) + &check + &")".repeat(groups)
    };
    for (groups, transformers, accepted) in [
        (198, 0, true),
        (199, 0, false),
        (0, 497, true),
        (0, 498, false),
    ] {
        let parsed = parse_on_small_stack(deepest(groups, transformers), 1000, 1 << 20);
        let messages: Vec<_> = parsed.errors.iter().map(|e| e.message.as_str()).collect();
        let expected: &[&str] = if accepted {
            &[]
        } else {
            &["exceeded max depth limit of 1000"]
        };
        assert_eq!(
            messages, expected,
            "{groups} groups, {transformers} transformers"
        );
    }
}

/// Deterministic garbage: every byte class the lexer cares about, in random order and lengths.
#[test]
fn garbage_never_panics_and_errors_stay_bounded() {
    const PIECES: &[&str] = &[
        "(",
        ")",
        "(",
        ")",
        " ",
        "\t",
        "\n",
        "and",
        "or",
        "not",
        "not(",
        "a.b",
        "x",
        "=",
        "!=",
        "<",
        "in",
        "exists",
        "contains ",
        "oneof",
        ",",
        "'",
        "\"",
        "\\",
        "[",
        "]",
        "0x1",
        "-1.5e+3",
        "val(",
        "b64(",
        "join(",
        "#",
        "é",
        "\u{0}",
        "\u{b}",
        "Tập",
        "!~",
        "!in",
        "&&",
        "||",
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
        let text: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        let parsed = parse(&text);
        assert!(parsed.errors.len() <= 101, "{text:?}");
        for e in &parsed.errors {
            assert!(
                e.span.start <= e.span.end && e.span.end as usize <= text.len(),
                "{text:?}: {e:?}"
            );
            assert!(
                text.is_char_boundary(e.span.start as usize)
                    && text.is_char_boundary(e.span.end as usize)
            );
        }
        if parsed.errors.is_empty() {
            // Whatever parses renders to text that parses to the same rendering.
            let canonical = render::canonical(&parsed.tree);
            let again = parse(&canonical);
            assert!(
                again.errors.is_empty(),
                "{text:?} -> {canonical:?}: {:?}",
                again.errors
            );
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
    assert!(
        parsed.errors[0].message.len() < 120,
        "token is shortened in the message"
    );
}

mod spans {
    use super::super::ast::*;
    use super::super::parse;
    use crate::span::Span;

    fn text_of(src: &str, span: Span) -> &str {
        &src[span.range()]
    }

    #[test]
    fn every_node_points_at_its_source_text() {
        let src = r#"not proc.aname[3] = "x y" and fd.name in (a, 'b') or tolower(proc.name) startswith oneof (c) or a.b = val(c.d)"#;
        let parsed = parse(src);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let ExprKind::Or(alternatives) = &parsed.tree.kind else {
            panic!("an or: {:?}", parsed.tree)
        };
        assert_eq!(text_of(src, parsed.tree.span), src);
        assert_eq!(
            text_of(src, alternatives[0].span),
            r#"not proc.aname[3] = "x y" and fd.name in (a, 'b')"#
        );

        let ExprKind::And(conjuncts) = &alternatives[0].kind else {
            panic!("an and")
        };
        let ExprKind::Not(negated) = &conjuncts[0].kind else {
            panic!("a not")
        };
        assert_eq!(
            text_of(src, conjuncts[0].span),
            r#"not proc.aname[3] = "x y""#
        );
        let ExprKind::Compare {
            lhs: Operand::Field(field),
            op,
            rhs: Rhs::Value(value),
            ..
        } = &negated.kind
        else {
            panic!("a comparison")
        };
        assert_eq!(text_of(src, negated.span), r#"proc.aname[3] = "x y""#);
        assert_eq!(
            (text_of(src, field.span), text_of(src, field.name_span)),
            ("proc.aname[3]", "proc.aname")
        );
        assert_eq!(
            (field.name.as_str(), field.arg.as_deref()),
            ("proc.aname", Some("3"))
        );
        assert_eq!(text_of(src, op.span), "=");
        assert_eq!(
            (text_of(src, value.span), value.text.as_str(), value.quoted),
            (r#""x y""#, "x y", true)
        );

        let ExprKind::Compare {
            rhs:
                Rhs::List {
                    items,
                    span,
                    bare: false,
                },
            ..
        } = &conjuncts[1].kind
        else {
            panic!("a list")
        };
        assert_eq!(text_of(src, *span), "(a, 'b')");
        let items: Vec<_> = items
            .iter()
            .map(|l| (text_of(src, l.span), l.text.as_str()))
            .collect();
        assert_eq!(items, [("a", "a"), ("'b'", "b")]);

        let ExprKind::Compare {
            lhs: Operand::Transformer(t),
            modifier: Some(m),
            ..
        } = &alternatives[1].kind
        else {
            panic!("a transformer with a modifier")
        };
        assert_eq!(
            (text_of(src, t.span), text_of(src, m.span)),
            ("tolower(proc.name)", "oneof")
        );

        let ExprKind::Compare {
            rhs: Rhs::Val(other, span),
            ..
        } = &alternatives[2].kind
        else {
            panic!("val()")
        };
        assert_eq!(
            (text_of(src, *span), text_of(src, other.span)),
            ("val(c.d)", "c.d")
        );
    }

    #[test]
    fn broken_parts_have_spans_too() {
        let src = "a.b = 1 and x.y !~ z and c.d >";
        let parsed = parse(src);
        let ExprKind::And(parts) = &parsed.tree.kind else {
            panic!("an and: {:?}", parsed.tree)
        };
        assert_eq!(text_of(src, parts[1].span), "x.y !~ z");
        assert!(matches!(parts[1].kind, ExprKind::Error));
        let ExprKind::Compare {
            rhs: Rhs::Missing(missing),
            ..
        } = &parts[2].kind
        else {
            panic!("missing rhs")
        };
        assert_eq!(missing.start as usize, src.len());
    }

    #[test]
    fn map_spans_reaches_every_span_and_walk_every_expression() {
        let src =
            r#"a.b[x] = val(c.d) and not join(",", (e.f, 1)) in (g, h) and i.j == anyof (k) and m"#;
        let mut tree = parse(src).ok().expect("valid");
        // and 1; first check 7 (itself, field and name, op, val, its field and name); not 1;
        // second check 11 (itself, transformer, ",", list, field and name, 1, op, list, 2 items);
        // third check 7 (itself, field and name, op, modifier, list, item); macro 1.
        let mut visited = Vec::new();
        tree.map_spans(&mut |s| {
            visited.push(s);
            Span::new(crate::span::FileId(7), s.start + 100, s.end + 100)
        });
        assert_eq!(visited.len(), 28);
        tree.map_spans(&mut |s| {
            assert_eq!(s.file.0, 7, "every span was mapped");
            s
        });

        let mut macros = Vec::new();
        let mut checks = 0;
        tree.walk(&mut |e| {
            match &e.kind {
                ExprKind::Macro(name) => macros.push(name.clone()),
                ExprKind::Compare { .. } => checks += 1,
                _ => {}
            }
            true
        });
        assert_eq!((macros, checks), (vec!["m".to_owned()], 3));

        tree.walk_mut(&mut |e| {
            if let ExprKind::Macro(_) = e.kind {
                e.kind = ExprKind::Error;
            }
            true
        });
        assert!(super::super::render::canonical(&tree).ends_with("and <error>)"));
    }
}
