//! The record layout has one description on each side of the ring buffer: the C structs of
//! `collector/ebpf/records.h` and the Rust `shared!` structs of `collector/common`. This test
//! reads the C structs from the BTF that clang wrote into the compiled kernel object and checks
//! every Rust struct against them field by field (name, offset, size, in order), so a field
//! renamed, moved, resized or swapped with a same-size neighbour on one side fails here. It
//! also checks that no struct has padding (records are copied byte for byte) and that the
//! record kinds have the same values on both sides.

use rulestudio_collector_common::{
    Context, Field, Kind, Layout, RecHeader, SockTuple, SyscallBody, TaskBody,
};
use std::collections::HashMap;

static OBJECT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/collector.bpf.o"));

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The contents of the ELF64 section named `name`.
fn section<'a>(elf: &'a [u8], name: &str) -> &'a [u8] {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF object");
    let shoff = u64_at(elf, 0x28) as usize;
    let shentsize = u16_at(elf, 0x3a) as usize;
    let shnum = u16_at(elf, 0x3c) as usize;
    let shstrndx = u16_at(elf, 0x3e) as usize;
    let header = |i: usize| &elf[shoff + i * shentsize..shoff + (i + 1) * shentsize];
    let body = |h: &[u8]| {
        let (off, size) = (u64_at(h, 0x18) as usize, u64_at(h, 0x20) as usize);
        &elf[off..off + size]
    };
    let names = body(header(shstrndx));
    (0..shnum)
        .map(header)
        .find(|h| cstr(names, u32_at(h, 0) as usize) == name)
        .map(body)
        .unwrap_or_else(|| panic!("no {name} section in the object"))
}

fn cstr(b: &[u8], at: usize) -> &str {
    let end = b[at..].iter().position(|c| *c == 0).unwrap() + at;
    std::str::from_utf8(&b[at..end]).unwrap()
}

/// The BTF type kinds this test reads (see the kernel's `btf.h`).
const BTF_KIND_INT: u32 = 1;
const BTF_KIND_ARRAY: u32 = 3;
const BTF_KIND_STRUCT: u32 = 4;
const BTF_KIND_UNION: u32 = 5;
const BTF_KIND_ENUM: u32 = 6;
const BTF_KIND_TYPEDEF: u32 = 8;
const BTF_KIND_VOLATILE: u32 = 9;
const BTF_KIND_CONST: u32 = 10;
const BTF_KIND_RESTRICT: u32 = 11;
const BTF_KIND_TYPE_TAG: u32 = 18;

#[derive(Debug, Clone)]
struct BtfType {
    kind: u32,
    name: String,
    /// Size for ints, structs, unions and enums; the referenced type for modifiers.
    size_or_type: u32,
    /// Struct and union members (name, type, bit offset); enum values (name, value).
    members: Vec<(String, u32, u32)>,
    /// Arrays: element type and count.
    array: Option<(u32, u32)>,
}

/// Every type of a `.BTF` section, indexed by id (0 is void).
fn parse_btf(btf: &[u8]) -> Vec<BtfType> {
    assert_eq!(u16_at(btf, 0), 0xeb9f, "BTF magic");
    let hdr_len = u32_at(btf, 4) as usize;
    let (type_off, type_len) = (u32_at(btf, 8) as usize, u32_at(btf, 12) as usize);
    let str_off = u32_at(btf, 16) as usize;
    let types = &btf[hdr_len + type_off..hdr_len + type_off + type_len];
    let strings = &btf[hdr_len + str_off..];
    let mut out = vec![BtfType {
        kind: 0,
        name: String::new(),
        size_or_type: 0,
        members: vec![],
        array: None,
    }];
    let mut at = 0;
    while at < types.len() {
        let info = u32_at(types, at + 4);
        let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        let mut t = BtfType {
            kind,
            name: cstr(strings, u32_at(types, at) as usize).to_string(),
            size_or_type: u32_at(types, at + 8),
            members: vec![],
            array: None,
        };
        at += 12;
        let trailing = match kind {
            BTF_KIND_INT | 14 | 17 => 4, // int encoding, var linkage, decl tag index
            BTF_KIND_ARRAY => {
                t.array = Some((u32_at(types, at), u32_at(types, at + 8)));
                12
            }
            BTF_KIND_STRUCT | BTF_KIND_UNION => {
                for m in 0..vlen {
                    let m = at + m * 12;
                    let name = cstr(strings, u32_at(types, m) as usize).to_string();
                    // With kind_flag set, the top 8 bits hold a bitfield size: none here.
                    t.members
                        .push((name, u32_at(types, m + 4), u32_at(types, m + 8)));
                }
                vlen * 12
            }
            BTF_KIND_ENUM => {
                for m in 0..vlen {
                    let m = at + m * 8;
                    let name = cstr(strings, u32_at(types, m) as usize).to_string();
                    t.members.push((name, u32_at(types, m + 4), 0));
                }
                vlen * 8
            }
            13 => vlen * 8,  // func proto params
            15 => vlen * 12, // datasec entries
            19 => vlen * 12, // enum64 values
            _ => 0,
        };
        at += trailing;
        out.push(t);
    }
    out
}

/// The size in bytes of type `id`, through typedefs and qualifiers.
fn size_of(types: &[BtfType], id: u32) -> usize {
    let t = &types[id as usize];
    match t.kind {
        BTF_KIND_INT | BTF_KIND_STRUCT | BTF_KIND_UNION | BTF_KIND_ENUM => t.size_or_type as usize,
        BTF_KIND_ARRAY => {
            let (elem, n) = t.array.unwrap();
            size_of(types, elem) * n as usize
        }
        BTF_KIND_TYPEDEF | BTF_KIND_VOLATILE | BTF_KIND_CONST | BTF_KIND_RESTRICT
        | BTF_KIND_TYPE_TAG => size_of(types, t.size_or_type),
        k => panic!("type {} of kind {k} has no size this test knows", t.name),
    }
}

struct CLayout {
    size: usize,
    fields: Vec<Field>,
}

/// The shared structs' layouts in the object's BTF, by C name.
fn c_structs() -> HashMap<String, CLayout> {
    let shared = [
        RecHeader::C_NAME,
        SyscallBody::C_NAME,
        TaskBody::C_NAME,
        Context::C_NAME,
        SockTuple::C_NAME,
    ];
    let types = parse_btf(section(OBJECT, ".BTF"));
    types
        .iter()
        .filter(|t| t.kind == BTF_KIND_STRUCT && shared.contains(&t.name.as_str()))
        .map(|t| {
            let fields = t
                .members
                .iter()
                .map(|(name, ty, bits)| Field {
                    name: Box::leak(name.clone().into_boxed_str()),
                    offset: *bits as usize / 8,
                    size: size_of(&types, *ty),
                })
                .collect();
            (
                t.name.clone(),
                CLayout {
                    size: t.size_or_type as usize,
                    fields,
                },
            )
        })
        .collect()
}

fn check<T: Layout>(c: &HashMap<String, CLayout>) {
    let name = T::C_NAME;
    let Some(c) = c.get(name) else {
        panic!("struct {name} is not in the object's BTF (is it named in `union scratch`?)")
    };
    assert_eq!(
        T::FIELDS,
        c.fields.as_slice(),
        "struct {name}: Rust fields (left) differ from C's (right)"
    );
    assert_eq!(std::mem::size_of::<T>(), c.size, "struct {name}: size");
    let covered: usize = T::FIELDS.iter().map(|f| f.size).sum();
    assert_eq!(covered, c.size, "struct {name} has padding");
}

#[test]
fn rust_records_match_the_kernel_objects_btf_field_by_field() {
    let c = c_structs();
    check::<RecHeader>(&c);
    check::<SyscallBody>(&c);
    check::<TaskBody>(&c);
    check::<Context>(&c);
    check::<SockTuple>(&c);
}

#[test]
fn record_kinds_have_the_same_values_on_both_sides() {
    let types = parse_btf(section(OBJECT, ".BTF"));
    let kinds = types
        .iter()
        .find(|t| t.kind == BTF_KIND_ENUM && t.name == "record_kind")
        .expect("enum record_kind in the object's BTF");
    let c: Vec<(&str, u16)> = kinds
        .members
        .iter()
        .map(|(n, v, _)| (n.as_str(), *v as u16))
        .collect();
    let rust: Vec<(&str, u16)> = Kind::ALL.iter().map(|k| (k.c_name(), *k as u16)).collect();
    assert_eq!(rust, c);
}

/// The checker itself: a swap of two same-size fields is caught.
#[test]
fn a_swap_of_same_size_fields_is_caught() {
    let c = c_structs();
    let mut swapped: Vec<Field> = RecHeader::FIELDS.to_vec();
    // tgid and tid: both u32, adjacent.
    let (a, b) = (swapped[1].name, swapped[2].name);
    swapped[1].name = b;
    swapped[2].name = a;
    assert_ne!(swapped.as_slice(), c["rec_header"].fields.as_slice());
}
