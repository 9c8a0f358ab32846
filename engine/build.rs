//! Generates the field and event-type tables from `data/*.tsv`, the one source of both.
//! Every other crate imports them from `rulestudio_engine::fields`; nobody copies them.

use std::{env, fmt::Write as _, fs, path::Path};

fn main() {
    let fields = fs::read_to_string("data/falco-fields-detail.tsv").expect("data/falco-fields-detail.tsv");
    let docs = fs::read_to_string("data/falco-fields.tsv").expect("data/falco-fields.tsv");
    let evts = fs::read_to_string("data/falco-evt-types.tsv").expect("data/falco-evt-types.tsv");
    println!("cargo:rerun-if-changed=data/falco-fields-detail.tsv");
    println!("cargo:rerun-if-changed=data/falco-fields.tsv");
    println!("cargo:rerun-if-changed=data/falco-evt-types.tsv");

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
        let [name, ty, class, arg, flags, ..] = cols[..] else { panic!("bad field row: {line}") };
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
        let flags = if fl.is_empty() { "FieldFlags::NONE".to_string() } else { fl.join(".union(") + &")".repeat(fl.len() - 1) };
        let ty = format!("FieldType::{}", camel(ty));
        let d = desc.get(name).copied().unwrap_or("");
        writeln!(
            out,
            "    FieldInfo {{ name: {name:?}, ty: {ty}, is_list: {is_list}, class: {class:?}, arg: {arg}, flags: {flags}, desc: {d:?} }},"
        )
        .unwrap();
    }
    out.push_str("];\n\npub(crate) static EVT_TYPES: &[(&str, EvtKind)] = &[\n");
    for line in evts.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let (name, kind) = line.split_once('\t').expect("evt type row");
        let kind = match kind.trim() {
            "syscall" => "EvtKind::Syscall",
            "event" => "EvtKind::Event",
            "event+syscall" => "EvtKind::EventAndSyscall",
            other => panic!("unknown evt kind {other}"),
        };
        writeln!(out, "    ({name:?}, {kind}),").unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("tables.rs");
    fs::write(dest, out).unwrap();
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
