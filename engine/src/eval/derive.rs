//! Fields the evaluator computes when a source does not store them, so that every
//! [`FieldSource`] (decoded JSON, stored rows, collector records) gets the same semantics:
//! `fd.directory`/`fd.filename` from `fd.name`, `fd.*net` from the addresses, the ancestor
//! fields from `proc.aname[N]` and the parent fields, `syscall.type` from `evt.type`.

use crate::event::{FieldSource, Value};
use crate::fields::{self, FieldId};
use std::borrow::Cow;
use std::sync::OnceLock;

/// The ancestors walked for an ancestor field without index, at most (a bound on bad input).
const MAX_ANCESTORS: usize = 64;

/// An ancestor field and the fields of the process itself (`[0]`) and of its parent (`[1]`).
#[derive(Debug)]
pub(crate) struct Lineage {
    pub ancestor: FieldId,
    pub own: FieldId,
    pub parent: FieldId,
}

struct Known {
    lineages: Vec<Lineage>,
    fd_name: FieldId,
    fd_directory: FieldId,
    fd_filename: FieldId,
    nets: [(FieldId, FieldId); 4],
    syscall_type: FieldId,
    evt_type: FieldId,
    /// Per field: whether [`derive`] can compute it (so a missing plain field costs one load).
    derivable: Box<[bool]>,
}

fn id(name: &str) -> FieldId {
    fields::get(name).unwrap_or_else(|| panic!("field {name} missing from the catalogue"))
}

fn known() -> &'static Known {
    static K: OnceLock<Known> = OnceLock::new();
    K.get_or_init(|| {
        let mut k = Known {
            lineages: [
                ("proc.aname", "proc.name", "proc.pname"),
                ("proc.apid", "proc.pid", "proc.ppid"),
                ("proc.aexe", "proc.exe", "proc.pexe"),
                ("proc.aexepath", "proc.exepath", "proc.pexepath"),
                ("proc.acmdline", "proc.cmdline", "proc.pcmdline"),
            ]
            .into_iter()
            .map(|(a, o, p)| Lineage {
                ancestor: id(a),
                own: id(o),
                parent: id(p),
            })
            .collect(),
            fd_name: id("fd.name"),
            fd_directory: id("fd.directory"),
            fd_filename: id("fd.filename"),
            nets: [
                (id("fd.cnet"), id("fd.cip")),
                (id("fd.snet"), id("fd.sip")),
                (id("fd.lnet"), id("fd.lip")),
                (id("fd.rnet"), id("fd.rip")),
            ],
            syscall_type: id("syscall.type"),
            evt_type: id("evt.type"),
            derivable: Box::default(),
        };
        let mut derivable = vec![false; fields::count()];
        let derived = k
            .lineages
            .iter()
            .flat_map(|l| [l.ancestor, l.parent])
            .chain(k.nets.iter().map(|n| n.0));
        for f in derived.chain([k.fd_directory, k.fd_filename, k.syscall_type]) {
            derivable[f.index()] = true;
        }
        k.derivable = derivable.into();
        k
    })
}

/// The lineage of an ancestor field (`proc.aname`, `proc.apid`…), if `field` is one.
pub(crate) fn lineage(field: FieldId) -> Option<&'static Lineage> {
    known().lineages.iter().find(|l| l.ancestor == field)
}

/// Whether `test` holds for the value of `field[arg]` (false when it cannot be extracted);
/// reads a stored value in place when the source allows it.
#[inline]
pub(crate) fn test<S: FieldSource + ?Sized>(
    src: &S,
    field: FieldId,
    arg: Option<&str>,
    test: impl FnOnce(&Value<'_>) -> bool,
) -> bool {
    match src.stored(field, arg) {
        Some(Some(v)) => return test(v),
        Some(None) if !known().derivable[field.index()] => return false,
        _ => {}
    }
    extract(src, field, arg).is_some_and(|v| test(&v))
}

/// The value of `field[arg]`: from the source, else derived from what the source has.
pub(crate) fn extract<'a, S: FieldSource + ?Sized>(
    src: &'a S,
    field: FieldId,
    arg: Option<&str>,
) -> Option<Value<'a>> {
    if let Some(v) = src.field(field, arg) {
        return Some(v);
    }
    if !known().derivable[field.index()] {
        return None;
    }
    derive(src, field, arg)
}

#[cold]
fn derive<'a, S: FieldSource + ?Sized>(
    src: &'a S,
    field: FieldId,
    arg: Option<&str>,
) -> Option<Value<'a>> {
    let k = known();
    if let Some(l) = k
        .lineages
        .iter()
        .find(|l| l.ancestor == field || l.parent == field)
    {
        return match (field == l.parent, arg) {
            (true, None) => src.field(l.ancestor, Some("1")),
            (false, Some(n)) => match n.trim().parse::<usize>().ok()? {
                0 => src.field(l.own, None),
                1 => src.field(l.parent, None),
                _ => None,
            },
            (false, None) => {
                let mut all = Vec::new();
                for_each_ancestor(src, l, |v| {
                    all.push(v.clone().into_owned());
                    false
                });
                (!all.is_empty()).then_some(Value::List(all))
            }
            (true, Some(_)) => None,
        };
    }
    if field == k.fd_directory || field == k.fd_filename {
        let name = match src.field(k.fd_name, None)? {
            Value::Str(s) => s,
            _ => return None,
        };
        if !name.starts_with('/') {
            return None;
        }
        let cut = name.rfind('/')?;
        let part = |s: &str| -> String {
            if field == k.fd_directory {
                if cut == 0 {
                    "/".into()
                } else {
                    s[..cut].into()
                }
            } else {
                s[cut + 1..].into()
            }
        };
        return Some(Value::Str(match name {
            Cow::Borrowed(s) => match field == k.fd_directory {
                true if cut == 0 => Cow::Borrowed("/"),
                true => Cow::Borrowed(&s[..cut]),
                false => Cow::Borrowed(&s[cut + 1..]),
            },
            Cow::Owned(s) => Cow::Owned(part(&s)),
        }));
    }
    if let Some(&(_, ip)) = k.nets.iter().find(|(net, _)| *net == field) {
        return src.field(ip, None);
    }
    if field == k.syscall_type {
        return src.field(k.evt_type, None);
    }
    None
}

/// Calls `f` on every ancestor value (parent first) until it returns true; returns whether it
/// did. Uses the source's list for the field without index when it has one, else
/// `field[1]`, `field[2]`… until one is missing.
pub(crate) fn for_each_ancestor<S: FieldSource + ?Sized>(
    src: &S,
    l: &Lineage,
    mut f: impl FnMut(&Value<'_>) -> bool,
) -> bool {
    if let Some(Value::List(items)) = src.field(l.ancestor, None) {
        return items.iter().any(f);
    }
    let mut buf = itoa_buf();
    for n in 1..=MAX_ANCESTORS {
        let arg = fmt_index(&mut buf, n);
        let v = src.field(l.ancestor, Some(arg)).or_else(|| {
            if n == 1 {
                src.field(l.parent, None)
            } else {
                None
            }
        });
        match v {
            Some(v) => {
                if f(&v) {
                    return true;
                }
            }
            None => return false,
        }
    }
    false
}

fn itoa_buf() -> [u8; 4] {
    [0; 4]
}

/// Decimal rendering of a small index without allocating.
fn fmt_index(buf: &mut [u8; 4], n: usize) -> &str {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn ev(json: &str) -> Event {
        Event::from_json_str(json).unwrap()
    }

    #[test]
    fn paths_and_nets() {
        let e = ev(r#"{"fd.name":"/etc/passwd","fd.cip":"10.1.2.3"}"#);
        let get = |n: &str| extract(&e, fields::get(n).unwrap(), None);
        assert_eq!(get("fd.directory"), Some(Value::Str("/etc".into())));
        assert_eq!(get("fd.filename"), Some(Value::Str("passwd".into())));
        assert_eq!(get("fd.cnet"), Some(Value::Ip("10.1.2.3".parse().unwrap())));
        let root = ev(r#"{"fd.name":"/x"}"#);
        assert_eq!(
            extract(&root, fields::get("fd.directory").unwrap(), None),
            Some(Value::Str("/".into()))
        );
        let sock = ev(r#"{"fd.name":"1.2.3.4:5->6.7.8.9:10"}"#);
        assert_eq!(
            extract(&sock, fields::get("fd.directory").unwrap(), None),
            None
        );
    }

    #[test]
    fn ancestors() {
        let e = ev(r#"{"proc.name":"sh","proc.pname":"bash","proc.aname[2]":"sshd"}"#);
        let aname = fields::get("proc.aname").unwrap();
        assert_eq!(extract(&e, aname, Some("0")), Some(Value::Str("sh".into())));
        assert_eq!(
            extract(&e, aname, Some("1")),
            Some(Value::Str("bash".into()))
        );
        assert_eq!(
            extract(&e, aname, None),
            Some(Value::List(vec![
                Value::Str("bash".into()),
                Value::Str("sshd".into())
            ]))
        );
        let e2 = ev(r#"{"proc.aname[1]":"init"}"#);
        assert_eq!(
            extract(&e2, fields::get("proc.pname").unwrap(), None),
            Some(Value::Str("init".into()))
        );
        assert_eq!(fmt_index(&mut itoa_buf(), 42), "42");
    }
}
