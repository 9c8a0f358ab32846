//! Fields the evaluator computes when a source does not store them, so that every
//! [`FieldSource`] (decoded JSON, stored rows, collector records) gets the same semantics. A
//! field is derived only where libsinsp would extract the same value for that event
//! (`sinsp_filtercheck_fd.cpp`, `sinsp_filtercheck_thread.cpp`, `sinsp_filtercheck_event.cpp`):
//!
//! - `fd.directory`/`fd.filename` from `fd.name` by the fd's `fd.type`: libs extracts them
//!   for files (both) and directories (`fd.directory` is the name itself), nothing for other
//!   fds (sockets, pipes…); with no fd at all (a failed open) only `fd.directory`, from the
//!   name the event carries.
//! - `fd.*net` from the matching address (libs extracts both from the same socket fields).
//! - the parent fields from `proc.aname[1]`… (libs: both are the main thread's parent), the
//!   bare ancestor fields from `proc.aname[1]`, `[2]`…, and `[0]` from the process's own field
//!   for a main thread (`proc.apid[0]` always: `proc.pid` is the main thread's). Never an
//!   ancestor from a parent field: libs walks the thread table, which a source's parent field
//!   does not show.
//! - `syscall.type` from `evt.type` for syscall events only.
//!
//! And the reverse: `evt.arg.NAME`/`evt.rawarg.NAME` have no value on an event whose type
//! has no parameter NAME, even when a source gives one.

use crate::event::{FieldSource, Value};
use crate::fields::{self, FieldArg, FieldId};
use crate::syntax::ast::{Expr, ExprKind, FieldRef, Operand, Rhs, Transformer, TransformerArg};
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
    /// Whether the process's own field is its main thread's whatever the thread (`proc.pid`),
    /// so `[0]` can be derived from it on any thread.
    own_is_main_threads: bool,
}

struct Known {
    lineages: Vec<Lineage>,
    fd_name: FieldId,
    fd_directory: FieldId,
    fd_filename: FieldId,
    nets: [(FieldId, FieldId); 4],
    fd_type: FieldId,
    evt_arg: FieldId,
    evt_rawarg: FieldId,
    syscall_type: FieldId,
    evt_type: FieldId,
    proc_pid: FieldId,
    thread_tid: FieldId,
    thread_ismain: FieldId,
    /// Per field, what reading it involves beyond asking the source ([`DERIVABLE`],
    /// [`PARAMETER`]), so that a plain field costs one load of this table.
    flags: Box<[u8]>,
}

/// [`derive`] can compute the field from others.
const DERIVABLE: u8 = 1;
/// The field reads an event parameter by name (`evt.arg.NAME`, `evt.rawarg.NAME`), which
/// [`lacks_param`] checks against the event's type.
const PARAMETER: u8 = 2;

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
                own_is_main_threads: o == "proc.pid",
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
            fd_type: id("fd.type"),
            evt_arg: id("evt.arg"),
            evt_rawarg: id("evt.rawarg"),
            syscall_type: id("syscall.type"),
            evt_type: id("evt.type"),
            proc_pid: id("proc.pid"),
            thread_tid: id("thread.tid"),
            thread_ismain: id("thread.ismain"),
            flags: Box::default(),
        };
        let mut flags = vec![0u8; fields::count()];
        let derived = k
            .lineages
            .iter()
            .flat_map(|l| [l.ancestor, l.parent])
            .chain(k.nets.iter().map(|n| n.0));
        for f in derived.chain([k.fd_directory, k.fd_filename, k.syscall_type]) {
            flags[f.index()] |= DERIVABLE;
        }
        for f in [k.evt_arg, k.evt_rawarg] {
            flags[f.index()] |= PARAMETER;
        }
        k.flags = flags.into();
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
    let flags = known().flags[field.index()];
    if flags & PARAMETER != 0 && lacks_param(src, field, arg) {
        return false;
    }
    match src.stored(field, arg) {
        Some(Some(v)) => return test(v),
        Some(None) if flags & DERIVABLE == 0 => return false,
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
    let flags = known().flags[field.index()];
    if flags & PARAMETER != 0 && lacks_param(src, field, arg) {
        return None;
    }
    if let Some(v) = src.field(field, arg) {
        return Some(v);
    }
    if flags & DERIVABLE == 0 {
        return None;
    }
    derive(src, field, arg)
}

/// Whether `field[arg]` is `evt.arg.NAME`/`evt.rawarg.NAME` on an event whose type has no
/// parameter NAME: libs reads NAME in the event's own parameters and finds nothing, whatever
/// a source says (`fields::evt_type_has_param`, libs' event table). Unknown types are let be.
/// Callers ask only for fields flagged [`PARAMETER`].
#[cold]
fn lacks_param<S: FieldSource + ?Sized>(src: &S, field: FieldId, arg: Option<&str>) -> bool {
    let k = known();
    debug_assert!(field == k.evt_arg || field == k.evt_rawarg);
    let Some(name) = arg.filter(|a| !a.bytes().all(|b| b.is_ascii_digit())) else {
        return false;
    };
    let index = match src.evt_type_index() {
        Some(i) => i,
        None => match src.field(k.evt_type, None) {
            Some(Value::Str(t)) => match fields::evt_type_index(&t) {
                Some(i) => i,
                None => return false,
            },
            _ => return false,
        },
    };
    !fields::evt_type_has_param(index, name)
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
            // The compiler gives indexes in canonical form; ancestors are only what the source
            // lists, and `[0]` is the process's own field when that is the main thread's.
            (false, Some("0")) => {
                if l.own_is_main_threads || is_main_thread(src, k) {
                    src.field(l.own, None)
                } else {
                    None
                }
            }
            (false, Some(_)) => None,
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
        let fd_type = match src.field(k.fd_type, None) {
            None => None,
            Some(Value::Str(t)) => Some(t),
            Some(_) => return None,
        };
        let cut: for<'n> fn(&'n str, Option<&str>) -> Option<&'n str> =
            match field == k.fd_directory {
                true => fd_directory,
                false => fd_filename,
            };
        let ty = fd_type.as_deref();
        return Some(Value::Str(match name {
            Cow::Borrowed(s) => Cow::Borrowed(cut(s, ty)?),
            Cow::Owned(s) => Cow::Owned(cut(&s, ty)?.to_string()),
        }));
    }
    if let Some(&(_, ip)) = k.nets.iter().find(|(net, _)| *net == field) {
        return src.field(ip, None);
    }
    if field == k.syscall_type {
        let ty = src.field(k.evt_type, None)?;
        let index = match src.evt_type_index() {
            Some(i) => i,
            None => match &ty {
                Value::Str(name) => fields::evt_type_index(name)?,
                _ => return None,
            },
        };
        // Names libs has only as non-syscall events (`procexit`, `container`, `switch`…).
        let (_, kind) = fields::evt_types().get(index as usize)?;
        return (*kind != fields::EvtKind::Event).then_some(ty);
    }
    None
}

/// Whether the event's thread is its process's main thread, when the source tells.
fn is_main_thread<S: FieldSource + ?Sized>(src: &S, k: &Known) -> bool {
    if let Some(Value::Bool(b)) = src.field(k.thread_ismain, None) {
        return b;
    }
    let as_i128 = |v: Value<'_>| match v {
        Value::Int(i) => Some(i as i128),
        Value::Uint(u) => Some(u as i128),
        _ => None,
    };
    match (
        src.field(k.thread_tid, None).and_then(as_i128),
        src.field(k.proc_pid, None).and_then(as_i128),
    ) {
        (Some(tid), Some(pid)) => tid == pid,
        _ => false,
    }
}

/// `fd.directory` of an fd named `name` of type `fd_type` (`fd.type`; `None`: no fd, as after a
/// failed open, where libs reads the name from the event), as libs `TYPE_DIRECTORY` extracts
/// it: a directory's own name; for a file (or no fd) the name up to its last `/`, `/` when that
/// is the first byte or there is none, the whole name when it ends with `/`; nothing for any
/// other fd. The one definition, for the evaluator and the collector.
pub fn fd_directory<'a>(name: &'a str, fd_type: Option<&str>) -> Option<&'a str> {
    match fd_type {
        Some("directory") => return Some(name),
        None | Some("file") => {}
        Some(_) => return None,
    }
    Some(match name.rfind('/') {
        Some(pos) if pos != 0 && pos < name.len() - 1 => &name[..pos],
        Some(pos) if pos != 0 => name,
        _ => "/",
    })
}

/// `fd.filename` as libs `TYPE_FILENAME` extracts it: files only (an fd in the table); the
/// part after the last `/`, the whole name when it ends with `/`, `/` when there is no `/`.
pub fn fd_filename<'a>(name: &'a str, fd_type: Option<&str>) -> Option<&'a str> {
    if fd_type != Some("file") {
        return None;
    }
    Some(match name.rfind('/') {
        Some(pos) if pos < name.len() - 1 => &name[pos + 1..],
        Some(_) => name,
        None => "/",
    })
}

/// Calls `f` on every ancestor value (parent first) until it returns true; returns whether it
/// did. Uses the source's list for the field without index when it has one, else
/// `field[1]`, `field[2]`… until one is missing (not the parent field: libs walks the thread
/// table, and a source's parent field does not say that table has the parent).
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
        match src.field(l.ancestor, Some(arg)) {
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

/// The fields of `expr` whose value changed with issue #21 (derived only where libsinsp
/// extracts the same value, `evt.rawarg` values typed by their parameter), each as written
/// with what changed: a rule reading one may match differently than before.
pub fn rederived_fields(expr: &Expr) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    expr.walk(&mut |e| {
        match &e.kind {
            ExprKind::Exists(lhs) => operand_fields(lhs, &mut out),
            ExprKind::Compare { lhs, rhs, .. } => {
                operand_fields(lhs, &mut out);
                match rhs {
                    Rhs::Val(f, _) => field_change(f, &mut out),
                    Rhs::Transformer(t) => transformer_fields(t, &mut out),
                    _ => {}
                }
            }
            _ => {}
        }
        true
    });
    out.sort();
    out.dedup();
    out
}

fn operand_fields(op: &Operand, out: &mut Vec<(String, &'static str)>) {
    match op {
        Operand::Field(f) => field_change(f, out),
        Operand::Transformer(t) => transformer_fields(t, out),
    }
}

fn transformer_fields(t: &Transformer, out: &mut Vec<(String, &'static str)>) {
    let mut stack: Vec<&TransformerArg> = t.args.iter().collect();
    while let Some(a) = stack.pop() {
        match a {
            TransformerArg::Field(f) => field_change(f, out),
            TransformerArg::Transformer(t) => stack.extend(&t.args),
            TransformerArg::List(items, _) => stack.extend(items),
            TransformerArg::Const(_) => {}
        }
    }
}

fn field_change(f: &FieldRef, out: &mut Vec<(String, &'static str)>) {
    let Ok(used) = fields::parse_condition_field(&f.name, f.arg.as_deref()) else {
        return;
    };
    let name = used.id.name();
    let why = match (name, &used.arg) {
        ("fd.filename", _) => "fd.filename is derived from fd.name only for files",
        ("fd.directory", _) => {
            "fd.directory is derived from fd.name only for files, directories and failed opens"
        }
        ("syscall.type", _) => "syscall.type is derived from evt.type only for syscall events",
        ("evt.rawarg", _) => "evt.rawarg values are read as the type of the named parameter",
        _ if lineage(used.id).is_none() => return,
        (_, FieldArg::Some(n)) if n == "0" => {
            "[0] is the process's own value only on its main thread"
        }
        // [2] and beyond were never derived; [1] and the bare field read the parent fields.
        (_, FieldArg::Some(n)) if n != "1" => return,
        (_, FieldArg::Never) => return,
        _ => "ancestors come only from the event's ancestor list, not from the parent fields",
    };
    out.push((
        f.arg
            .as_ref()
            .map_or_else(|| f.name.clone(), |a| format!("{}[{a}]", f.name)),
        why,
    ));
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
        let e = ev(r#"{"fd.name":"/etc/passwd","fd.type":"file","fd.cip":"10.1.2.3"}"#);
        let get = |n: &str| extract(&e, fields::get(n).unwrap(), None);
        assert_eq!(get("fd.directory"), Some(Value::Str("/etc".into())));
        assert_eq!(get("fd.filename"), Some(Value::Str("passwd".into())));
        assert_eq!(get("fd.cnet"), Some(Value::Ip("10.1.2.3".parse().unwrap())));
        let root = ev(r#"{"fd.name":"/x","fd.type":"file"}"#);
        assert_eq!(
            extract(&root, fields::get("fd.directory").unwrap(), None),
            Some(Value::Str("/".into()))
        );
        let sock = ev(r#"{"fd.name":"1.2.3.4:5->6.7.8.9:10","fd.type":"ipv4"}"#);
        assert_eq!(
            extract(&sock, fields::get("fd.directory").unwrap(), None),
            None
        );
        let unix = ev(r#"{"fd.name":"/var/run/docker.sock","fd.type":"unix"}"#);
        assert_eq!(
            extract(&unix, fields::get("fd.directory").unwrap(), None),
            None
        );
        // A failed open: no fd, so no fd.filename; fd.directory from the event's name.
        let failed = ev(r#"{"fd.name":"/tmp/relative.txt"}"#);
        assert_eq!(
            extract(&failed, fields::get("fd.filename").unwrap(), None),
            None
        );
        assert_eq!(
            extract(&failed, fields::get("fd.directory").unwrap(), None),
            Some(Value::Str("/tmp".into()))
        );
        let dir = ev(r#"{"fd.name":"/etc","fd.type":"directory"}"#);
        assert_eq!(
            extract(&dir, fields::get("fd.directory").unwrap(), None),
            Some(Value::Str("/etc".into()))
        );
        assert_eq!(
            extract(&dir, fields::get("fd.filename").unwrap(), None),
            None
        );
    }

    #[test]
    fn ancestors() {
        let e = ev(
            r#"{"proc.name":"sh","proc.pid":7,"thread.tid":7,"proc.pname":"bash","proc.aname[1]":"bash","proc.aname[2]":"sshd"}"#,
        );
        let aname = fields::get("proc.aname").unwrap();
        assert_eq!(extract(&e, aname, Some("0")), Some(Value::Str("sh".into())));
        assert_eq!(
            extract(&e, aname, None),
            Some(Value::List(vec![
                Value::Str("bash".into()),
                Value::Str("sshd".into())
            ]))
        );
        // No ancestor from the parent field, and no [0] from a non-main thread's own name.
        let thread = ev(
            r#"{"proc.name":"worker","proc.pid":7,"thread.tid":8,"proc.pname":"bash","proc.ppid":1}"#,
        );
        assert_eq!(extract(&thread, aname, Some("1")), None);
        assert_eq!(extract(&thread, aname, Some("0")), None);
        assert_eq!(extract(&thread, aname, None), None);
        let apid = fields::get("proc.apid").unwrap();
        assert_eq!(extract(&thread, apid, Some("1")), None);
        assert_eq!(extract(&thread, apid, Some("0")), Some(Value::Int(7)));
        let e2 = ev(r#"{"proc.aname[1]":"init"}"#);
        assert_eq!(
            extract(&e2, fields::get("proc.pname").unwrap(), None),
            Some(Value::Str("init".into()))
        );
        assert_eq!(fmt_index(&mut itoa_buf(), 42), "42");
    }

    #[test]
    fn rederived_fields_are_named_with_the_change() {
        let expr = crate::syntax::parse(
            "fd.filename = x and proc.name = y and tolower(proc.aname[1]) = z or fd.name = val(fd.directory)",
        )
        .ok()
        .unwrap();
        let found: Vec<String> = rederived_fields(&expr).into_iter().map(|f| f.0).collect();
        assert_eq!(found, ["fd.directory", "fd.filename", "proc.aname[1]"]);
        let plain = crate::syntax::parse("proc.name = y and fd.name startswith /etc")
            .ok()
            .unwrap();
        assert!(rederived_fields(&plain).is_empty());
    }
}
