//! Generates the field and event-type tables from `data/*.tsv`, the one source of both.
//! Every other crate imports them from `rulestudio_engine::fields`; nobody copies them.

use std::{env, fmt::Write as _, fs, path::Path};

fn main() {
    let fields =
        fs::read_to_string("data/falco-fields-detail.tsv").expect("data/falco-fields-detail.tsv");
    let docs = fs::read_to_string("data/falco-fields.tsv").expect("data/falco-fields.tsv");
    let evts = fs::read_to_string("data/falco-evt-types.tsv").expect("data/falco-evt-types.tsv");
    let codes = fs::read_to_string("data/libs-event-codes.tsv").expect("data/libs-event-codes.tsv");
    let params =
        fs::read_to_string("data/libs-event-params.tsv").expect("data/libs-event-params.tsv");
    println!("cargo:rerun-if-changed=data/falco-fields-detail.tsv");
    println!("cargo:rerun-if-changed=data/falco-fields.tsv");
    println!("cargo:rerun-if-changed=data/falco-evt-types.tsv");
    println!("cargo:rerun-if-changed=data/libs-event-codes.tsv");
    println!("cargo:rerun-if-changed=data/libs-event-params.tsv");

    let desc: std::collections::HashMap<&str, &str> = docs
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut it = l.splitn(3, '\t');
            Some((it.next()?, it.nth(1)?))
        })
        .collect();

    let mut out = String::from("pub(crate) static FIELDS: &[FieldInfo] = &[\n");
    for line in fields.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [name, ty, class, arg, flags, ..] = cols[..] else {
            panic!("bad field row: {line}")
        };
        let (ty, is_list) = match ty.strip_prefix("LIST(").and_then(|t| t.strip_suffix(')')) {
            Some(inner) => (inner, true),
            None => (ty, false),
        };
        let arg = match arg {
            "-" => "ArgSpec::None",
            "allowed" => "ArgSpec::Allowed",
            "required" => "ArgSpec::Required",
            "required:key" => "ArgSpec::RequiredKey",
            "required:index|key" => "ArgSpec::RequiredIndexOrKey",
            "argument" => "ArgSpec::Allowed",
            other => panic!("unknown argument spec {other}"),
        };
        let mut fl = Vec::new();
        for f in flags.split(',').filter(|f| *f != "-" && !f.is_empty()) {
            fl.push(match f {
                "DEPRECATED" => "FieldFlags::DEPRECATED",
                "TABLE_ONLY" => "FieldFlags::TABLE_ONLY",
                "FILTER_ONLY" => "FieldFlags::FILTER_ONLY",
                "PRINT_ONLY" => "FieldFlags::PRINT_ONLY",
                "NO_RHS" => "FieldFlags::NO_RHS",
                "NO_TRANSFORMER" => "FieldFlags::NO_TRANSFORMER",
                "NO_PTR_STABILITY" => "FieldFlags::NONE",
                "flags" => "FieldFlags::NONE",
                other => panic!("unknown field flag {other}"),
            });
        }
        let flags = if fl.is_empty() {
            "FieldFlags::NONE".to_string()
        } else {
            fl.join(".union(") + &")".repeat(fl.len() - 1)
        };
        let ty = format!("FieldType::{}", camel(ty));
        let d = desc.get(name).copied().unwrap_or("");
        writeln!(
            out,
            "    FieldInfo {{ name: {name:?}, ty: {ty}, is_list: {is_list}, class: {class:?}, arg: {arg}, flags: {flags}, desc: {d:?} }},"
        )
        .unwrap();
    }
    out.push_str("];\n\npub(crate) static EVT_TYPES: &[(&str, EvtKind)] = &[\n");
    let mut codes_of_types = String::from("pub(crate) static EVT_TYPE_CODES: &[&[u16]] = &[\n");
    let mut params_of_types = String::from("pub(crate) static EVT_TYPE_PARAMS: &[&[&str]] = &[\n");
    let event_codes = EventCodes::parse(&codes);
    let params_of_code = params_by_code(&params, event_codes.names.len());
    for line in evts.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let (name, kind) = line.split_once('\t').expect("evt type row");
        let kind = match kind.trim() {
            "syscall" => "EvtKind::Syscall",
            "event" => "EvtKind::Event",
            "event+syscall" => "EvtKind::EventAndSyscall",
            other => panic!("unknown evt kind {other}"),
        };
        writeln!(out, "    ({name:?}, {kind}),").unwrap();
        let type_codes = event_codes.of_name(name, kind);
        let mut type_params: Vec<&str> = type_codes
            .iter()
            .flat_map(|&c| params_of_code[c as usize].iter().copied())
            .collect();
        type_params.sort_unstable();
        type_params.dedup();
        writeln!(codes_of_types, "    &{type_codes:?},").unwrap();
        writeln!(params_of_types, "    &{type_params:?},").unwrap();
    }
    out.push_str("];\n\n");
    out.push_str(&codes_of_types);
    out.push_str("];\n");
    out.push_str(&params_of_types);
    out.push_str("];\n");
    writeln!(
        out,
        "pub(crate) const PPM_EVENT_MAX: u16 = {};",
        event_codes.names.len()
    )
    .unwrap();
    out.push_str(&event_params(&params, &event_codes));
    writeln!(
        out,
        "pub(crate) static EVENT_NAMES: &[&str] = &{:?};",
        event_codes.names
    )
    .unwrap();
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("tables.rs");
    fs::write(dest, out).unwrap();
}

/// The parameter names of each event code.
fn params_by_code(text: &str, codes: usize) -> Vec<Vec<&str>> {
    let mut by_code = vec![Vec::new(); codes];
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let code: usize = cols[0].parse().expect("event code");
        by_code[code].push(cols[3]);
    }
    by_code
}

/// `EVT_PARAMS`: every event parameter name of libs' event table, once, with the type of its
/// first occurrence in table order (code, then position), the one libs'
/// `find_longest_matching_evt_param` returns for that name.
fn event_params(text: &str, codes: &EventCodes) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::from("pub(crate) static EVT_PARAMS: &[(&str, &str)] = &[\n");
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let [code, event, _index, name, ty] = line.split('\t').collect::<Vec<_>>()[..] else {
            panic!("bad event parameter row: {line}")
        };
        let code: usize = code.parse().expect("event code");
        assert_eq!(
            codes.names.get(code).map(String::as_str),
            Some(event),
            "libs-event-params.tsv disagrees with libs-event-codes.tsv at code {code}"
        );
        if seen.insert(name) {
            writeln!(out, "    ({name:?}, {ty:?}),").unwrap();
        }
    }
    out.push_str("];\n");
    out
}

fn camel(ty: &str) -> String {
    ty.split('_')
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect()
}

/// libs' event table (`driver/event_table.c`): the name of every event code, and the async
/// event names a plugin registers (all sharing the code of `asyncevent`).
struct EventCodes {
    names: Vec<String>,
    async_names: Vec<String>,
}

impl EventCodes {
    fn parse(text: &str) -> EventCodes {
        let mut names = Vec::new();
        let mut async_names = Vec::new();
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let (code, name) = line.split_once('\t').expect("event code row");
            if code == "async" {
                async_names.push(name.to_string());
            } else {
                assert_eq!(
                    code.parse::<usize>().ok(),
                    Some(names.len()),
                    "event codes are dense and in order"
                );
                names.push(name.to_string());
            }
        }
        EventCodes { names, async_names }
    }

    /// The event codes libs gives an `evt.type` name (`names_to_event_set`): every code with that
    /// name (codes 0 and 1, the generic events, are not looked up by name), the async event
    /// code for a plugin's async event name, and otherwise, for a syscall without events of its
    /// own, the two generic codes.
    fn of_name(&self, name: &str, kind: &str) -> Vec<u16> {
        let mut codes: Vec<u16> = (2..self.names.len())
            .filter(|&c| self.names[c] == name)
            .map(|c| c as u16)
            .collect();
        let has_events = !codes.is_empty();
        if self.async_names.iter().any(|n| n == name) {
            codes.push(
                self.names
                    .iter()
                    .position(|n| n == "asyncevent")
                    .expect("asyncevent code") as u16,
            );
        } else if !has_events && kind != "EvtKind::Event" {
            codes.extend([0, 1]);
        }
        let is_event = kind != "EvtKind::Syscall";
        assert!(
            has_events == is_event
                || self.async_names.iter().any(|n| n == name)
                || name == "syscall",
            "{name}: its kind in falco-evt-types.tsv disagrees with libs-event-codes.tsv"
        );
        codes.sort_unstable();
        codes.dedup();
        codes
    }
}
