//! Rule dispatch by event type and `Matching::First` / `All`.

mod common;

use rulestudio_engine::syntax::ast::Expr;

fn parse(text: &str) -> Expr {
    rulestudio_engine::syntax::parse(text)
        .ok()
        .unwrap_or_else(|e| panic!("{text:?} does not parse: {e:?}"))
}

use rulestudio_engine::compile::compile;
use rulestudio_engine::eval::{CompiledRule, RuleSet};
use rulestudio_engine::event::Event;
use rulestudio_engine::output::OutputFormat;
use rulestudio_engine::rule::{Matching, Priority};

fn rule(name: &str, condition: &str) -> CompiledRule {
    let c = compile(&parse(condition));
    CompiledRule {
        name: name.into(),
        priority: Priority::Notice,
        tags: vec![],
        source: "syscall".into(),
        filter: c.filter.expect("compiles"),
        output: OutputFormat::parse("%proc.name").unwrap(),
        evt_types: c.event_codes.dispatch_types(),
    }
}

fn set() -> RuleSet {
    RuleSet::new(vec![
        rule(
            "open etc",
            "evt.type in (open, openat) and fd.name startswith /etc/",
        ),
        rule("any shell", "proc.name = bash"),
        rule("exec shell", "evt.type = execve and proc.name = bash"),
        rule("not open", "not evt.type = openat"),
    ])
}

fn run<'a>(set: &'a RuleSet, json: &str, m: Matching) -> Vec<&'a str> {
    let mut out = Vec::new();
    set.eval(&Event::from_json_str(json).unwrap(), m, &mut out);
    out.iter().map(|&i| set.rules()[i].name.as_str()).collect()
}

#[test]
fn dispatch_keeps_load_order() {
    let s = set();
    let exec = r#"{"evt.type":"execve","proc.name":"bash"}"#;
    assert_eq!(
        run(&s, exec, Matching::All),
        ["any shell", "exec shell", "not open"]
    );
    assert_eq!(run(&s, exec, Matching::First), ["any shell"]);
    let open = r#"{"evt.type":"openat","proc.name":"bash","fd.name":"/etc/x"}"#;
    assert_eq!(run(&s, open, Matching::All), ["open etc", "any shell"]);
    assert_eq!(
        run(
            &s,
            r#"{"evt.type":"openat","proc.name":"cat"}"#,
            Matching::All
        ),
        Vec::<&str>::new()
    );
}

#[test]
fn events_without_a_known_type_meet_every_rule() {
    let s = set();
    assert_eq!(
        run(&s, r#"{"proc.name":"bash"}"#, Matching::All),
        ["any shell", "not open"]
    );
    assert_eq!(
        run(
            &s,
            r#"{"evt.type":"nosuchtype","proc.name":"zsh"}"#,
            Matching::All
        ),
        ["not open"]
    );
}

/// libs indexes rules by event code, and every syscall without events of its own has the same
/// two generic codes: a rule that excludes one generic syscall is never run on any of them,
/// while a rule naming one runs on all of them (its condition still tells them apart).
#[test]
fn generic_syscalls_dispatch_by_their_shared_codes() {
    let s = RuleSet::new(vec![
        rule("not llseek", "evt.type != _llseek and proc.name = bash"),
        rule("llseek", "evt.type = _llseek and proc.name = bash"),
        rule("any", "proc.name = bash"),
    ]);
    let newselect = r#"{"evt.type":"_newselect","proc.name":"bash"}"#;
    assert_eq!(run(&s, newselect, Matching::All), ["any"]);
    let llseek = r#"{"evt.type":"_llseek","proc.name":"bash"}"#;
    assert_eq!(run(&s, llseek, Matching::All), ["llseek", "any"]);
    let open = r#"{"evt.type":"open","proc.name":"bash"}"#;
    assert_eq!(run(&s, open, Matching::All), ["not llseek", "any"]);
}
