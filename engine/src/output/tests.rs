use super::*;
use crate::event::Event;

fn ev(json: &str) -> Event {
    Event::from_json_str(json).unwrap()
}

#[test]
fn renders_tokens_and_missing_values() {
    let f = OutputFormat::parse("user=%user.name cmd=%proc.cmdline file=%fd.name. parent=%proc.aname[1] up=%toupper(proc.name)").unwrap();
    let e = ev(
        r#"{"user.name":"root","proc.cmdline":"cat /etc/shadow","proc.name":"cat","proc.pname":"bash","proc.aname[1]":"bash","proc.pid":7}"#,
    );
    assert_eq!(
        f.render(&e),
        "user=root cmd=cat /etc/shadow file=<NA>. parent=bash up=CAT"
    );
    let fields = f.fields(&e);
    assert_eq!(fields[2], ("fd.name".to_string(), None));
    assert_eq!(
        fields[3],
        ("proc.aname[1]".to_string(), Some("bash".to_string()))
    );
    // A transformer reports its input field and itself (libs `formatter_visitor`).
    assert_eq!(
        fields[4],
        ("proc.name".to_string(), Some("cat".to_string()))
    );
    assert_eq!(
        fields[5],
        ("toupper(proc.name)".to_string(), Some("CAT".to_string()))
    );
}

#[test]
fn width_and_typed_values() {
    let f = OutputFormat::parse("[%5proc.name] %evt.failed %fd.sip %evt.arg.flags").unwrap();
    let e = ev(r#"{"proc.name":"sh","evt.failed":false,"fd.sip":"::1","evt.arg.flags":"O_RDWR"}"#);
    assert_eq!(f.render(&e), "[sh   ] false ::1 O_RDWR");
}

#[test]
fn errors_carry_ranges() {
    let e = OutputFormat::parse("x %not_a_real_field y").unwrap_err();
    assert_eq!(e.message, "invalid formatting token not_a_real_field");
    assert_eq!(e.range, 2..19);
    let e = OutputFormat::parse("trailing %").unwrap_err();
    assert_eq!(e.range, 9..10);
    assert!(OutputFormat::parse("%12").is_err());
    assert!(
        OutputFormat::parse("%fd.ip").is_err(),
        "filter-only fields cannot be printed"
    );
}

#[test]
fn deprecations_are_warnings() {
    // Falco drops %container.info and finds deprecated names by substring: %evt.latency.ns
    // reports evt.latency too.
    let f = OutputFormat::parse("%evt.dir %container.info%evt.latency.ns").unwrap();
    let messages: Vec<&str> = f.warnings().iter().map(|w| w.message.as_str()).collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert!(messages[0].starts_with("%container.info is deprecated"));
    assert!(messages[3].contains("'evt.latency.ns'"));
    assert!(f.warnings().iter().all(|w| w.code == Code::DEPRECATED_ITEM));
    assert_eq!(
        f.render(&ev(
            r#"{"container.id":"abc","evt.dir":"<","evt.latency.ns":5}"#
        )),
        "< 5"
    );
    // falco test_extra_output.cpp extra_format_empty_container_info.
    let f = OutputFormat::parse("out 1 (%container.info)").unwrap();
    assert_eq!(f.render(&ev(r#"{"container.id":"abc"}"#)), "out 1 ()");
}
