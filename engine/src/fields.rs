//! The field catalogue of the syscall source and the valid `evt.type` names, generated at build
//! time from `engine/data/*.tsv` (copied verbatim from the Falco reference). This is the only
//! field table in Rulestudio: the collector, server and frontend import it from here.

mod args;

pub use args::{
    FieldArg, FieldError, FieldUse, argument_after_dot, event_param, parse as parse_condition_field,
};
use rustc_hash::FxHashMap;
use std::sync::OnceLock;

/// libsinsp parameter types that occur in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Abstime,
    Bool,
    Bytebuf,
    Charbuf,
    Double,
    /// `evt.rawarg.*`: the type of the named argument; compared as its natural type.
    Dynamic,
    Int16,
    Int32,
    Int64,
    Ipaddr,
    Ipnet,
    Port,
    Reltime,
    Uint32,
    Uint64,
}

impl FieldType {
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Abstime
                | FieldType::Double
                | FieldType::Int16
                | FieldType::Int32
                | FieldType::Int64
                | FieldType::Port
                | FieldType::Reltime
                | FieldType::Uint32
                | FieldType::Uint64
        )
    }

    pub fn is_string(self) -> bool {
        matches!(self, FieldType::Charbuf)
    }

    /// The libsinsp spelling, as shown in docs and diagnostics.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Abstime => "ABSTIME",
            FieldType::Bool => "BOOL",
            FieldType::Bytebuf => "BYTEBUF",
            FieldType::Charbuf => "CHARBUF",
            FieldType::Double => "DOUBLE",
            FieldType::Dynamic => "DYNAMIC",
            FieldType::Int16 => "INT16",
            FieldType::Int32 => "INT32",
            FieldType::Int64 => "INT64",
            FieldType::Ipaddr => "IPADDR",
            FieldType::Ipnet => "IPNET",
            FieldType::Port => "PORT",
            FieldType::Reltime => "RELTIME",
            FieldType::Uint32 => "UINT32",
            FieldType::Uint64 => "UINT64",
        }
    }
}

/// Whether a field takes an argument (`proc.aname[2]`, `evt.arg.flags`, `k8s.pod.label[app]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgSpec {
    None,
    Allowed,
    Required,
    RequiredKey,
    RequiredIndexOrKey,
}

impl ArgSpec {
    pub fn accepts_arg(self) -> bool {
        self != ArgSpec::None
    }

    pub fn requires_arg(self) -> bool {
        matches!(
            self,
            ArgSpec::Required | ArgSpec::RequiredKey | ArgSpec::RequiredIndexOrKey
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldFlags(u8);

impl FieldFlags {
    pub const NONE: FieldFlags = FieldFlags(0);
    pub const DEPRECATED: FieldFlags = FieldFlags(1);
    pub const TABLE_ONLY: FieldFlags = FieldFlags(2);
    pub const FILTER_ONLY: FieldFlags = FieldFlags(4);
    pub const PRINT_ONLY: FieldFlags = FieldFlags(8);
    pub const NO_RHS: FieldFlags = FieldFlags(16);
    pub const NO_TRANSFORMER: FieldFlags = FieldFlags(32);

    pub const fn union(self, other: FieldFlags) -> FieldFlags {
        FieldFlags(self.0 | other.0)
    }

    pub const fn contains(self, other: FieldFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: &'static str,
    pub ty: FieldType,
    /// Multi-valued (`LIST(CHARBUF)`): only `in`, `intersects`, `exists` apply.
    pub is_list: bool,
    /// The libsinsp field class (`process`, `fd`, `container plugin`, …).
    pub class: &'static str,
    pub arg: ArgSpec,
    pub flags: FieldFlags,
    pub desc: &'static str,
}

impl FieldInfo {
    pub fn is_deprecated(&self) -> bool {
        self.flags.contains(FieldFlags::DEPRECATED)
    }
}

/// Dense index of a field in [`all`]; cheap to copy and to use as an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u16);

impl FieldId {
    pub fn info(self) -> &'static FieldInfo {
        &FIELDS[self.0 as usize]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvtKind {
    Syscall,
    Event,
    EventAndSyscall,
}

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

/// Every field of the syscall source, in catalogue order.
pub fn all() -> &'static [FieldInfo] {
    FIELDS
}

pub fn count() -> usize {
    FIELDS.len()
}

/// Fx, not SipHash: every key of every ingested event is looked up here, and names come from
/// the field table, not from an adversary choosing collisions.
fn by_name() -> &'static FxHashMap<&'static str, FieldId> {
    static MAP: OnceLock<FxHashMap<&'static str, FieldId>> = OnceLock::new();
    MAP.get_or_init(|| {
        FIELDS
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name, FieldId(i as u16)))
            .collect()
    })
}

/// The field with exactly this name.
pub fn get(name: &str) -> Option<FieldId> {
    by_name().get(name).copied()
}

/// Resolves a field token as written in an interchange key or named by a lint, without its
/// `[arg]`: either an exact field name, or the dotted-argument form of a field that takes an
/// argument (`evt.arg.flags` → (`evt.arg`, `flags`), `k8s.pod.label.app` → (`k8s.pod.label`,
/// `app`)). Longest prefix wins. Conditions are stricter: [`parse_condition_field`] applies
/// libs' argument rules of each field.
pub fn resolve(token: &str) -> Option<(FieldId, Option<&str>)> {
    if let Some(id) = get(token) {
        return Some((id, None));
    }
    let mut end = token.len();
    while let Some(dot) = token[..end].rfind('.') {
        if let Some(id) = get(&token[..dot])
            && id.info().arg.accepts_arg()
            && dot + 1 < token.len()
        {
            return Some((id, Some(&token[dot + 1..])));
        }
        end = dot;
    }
    None
}

/// Falco's `deprecated_fields` (falco_load_result.cpp): the only fields its loader warns about,
/// in conditions and (by substring) in outputs. The table's DEPRECATED flag also marks
/// container-plugin fields Falco accepts silently.
pub(crate) const FALCO_DEPRECATED: &[&str] = &[
    "evt.dir",
    "evt.latency",
    "evt.latency.s",
    "evt.latency.ns",
    "evt.latency.human",
    "evt.wait_latency",
];

/// Every name accepted as an `evt.type` value.
pub fn evt_types() -> &'static [(&'static str, EvtKind)] {
    EVT_TYPES
}

fn evt_index() -> &'static FxHashMap<&'static str, u16> {
    static MAP: OnceLock<FxHashMap<&'static str, u16>> = OnceLock::new();
    MAP.get_or_init(|| {
        EVT_TYPES
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (*n, i as u16))
            .collect()
    })
}

/// Dense index of an `evt.type` name, for per-type rule dispatch.
pub fn evt_type_index(name: &str) -> Option<u16> {
    evt_index().get(name).copied()
}

/// Whether an event of type `evt_type` (an index of [`evt_types`]) has a parameter `name`:
/// the parameters of libs' events of that name (all versions), or of the generic syscall
/// event for a syscall without events of its own. Where libs reads `evt.arg.NAME` by name in
/// the event's own parameters, an event without NAME has no value.
pub fn evt_type_has_param(evt_type: u16, name: &str) -> bool {
    EVT_TYPE_PARAMS
        .get(evt_type as usize)
        .is_some_and(|params| params.contains(&name))
}

pub fn is_evt_type(name: &str) -> bool {
    evt_index().contains_key(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete() {
        assert_eq!(count(), 293);
        assert!(evt_types().len() > 400);
        let name = get("proc.name").unwrap().info();
        assert_eq!(name.ty, FieldType::Charbuf);
        assert!(get("fd.types").unwrap().info().is_list);
        assert!(is_evt_type("execve") && is_evt_type("openat2") && !is_evt_type("exec"));
    }

    #[test]
    fn dotted_arguments_resolve_to_their_field() {
        assert_eq!(
            resolve("evt.arg.flags"),
            Some((get("evt.arg").unwrap(), Some("flags")))
        );
        assert_eq!(
            resolve("k8s.pod.label.app"),
            Some((get("k8s.pod.label").unwrap(), Some("app")))
        );
        assert_eq!(
            resolve("proc.name"),
            Some((get("proc.name").unwrap(), None))
        );
        assert_eq!(resolve("proc.executable"), None);
        assert_eq!(resolve("proc.name.x"), None);
    }
}
