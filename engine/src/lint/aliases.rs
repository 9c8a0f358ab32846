//! What a field that Falco does not define was meant to be: the machine-translated `evt`
//! prefix, fields other tools (and LLMs) invent, and plain typos.

use super::condition::{Check, Scan};
use crate::fields;

/// The field an unknown name should become, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Meant {
    pub field: String,
    pub why: String,
    /// Certain (a rename with no other reading) or a guess (closest spelling).
    pub certain: bool,
}

/// Names that are not Falco fields but are written for one, with the field and the reason.
const ALIASES: &[(&str, &str, &str)] = &[
    (
        "evt.name",
        "evt.type",
        "the event (syscall) name is `evt.type`",
    ),
    (
        "evt.syscall",
        "evt.type",
        "the event (syscall) name is `evt.type`",
    ),
    (
        "evt.path",
        "fd.name",
        "the path of the file an event acts on is `fd.name`",
    ),
    (
        "evt.filename",
        "fd.name",
        "the path of the file an event acts on is `fd.name`",
    ),
    (
        "fd.path",
        "fd.name",
        "the path of a file descriptor is `fd.name`",
    ),
    (
        "evt.remote_ip",
        "fd.rip",
        "the remote address of a connection is `fd.rip`",
    ),
    (
        "evt.remote_port",
        "fd.rport",
        "the remote port of a connection is `fd.rport`",
    ),
    (
        "evt.local_ip",
        "fd.lip",
        "the local address of a connection is `fd.lip`",
    ),
    (
        "evt.local_port",
        "fd.lport",
        "the local port of a connection is `fd.lport`",
    ),
    (
        "proc.executable",
        "proc.exepath",
        "the full path of a process's executable is `proc.exepath`",
    ),
    (
        "proc.path",
        "proc.exepath",
        "the full path of a process's executable is `proc.exepath`",
    ),
    (
        "proc.parent",
        "proc.pname",
        "the parent process's name is `proc.pname`",
    ),
    (
        "proc.user",
        "user.name",
        "the user of a process is `user.name`",
    ),
    (
        "k8s.pod.privileged",
        "container.privileged",
        "privilege is a property of the container: `container.privileged`",
    ),
    (
        "fd.family",
        "fd.type",
        "the address family of a socket is `fd.type` (`ipv4`, `ipv6`, `unix`)",
    ),
    (
        "container.image_name",
        "container.image.repository",
        "the image name without tag is `container.image.repository`",
    ),
];

/// `Tập.name` → (`Tập`, `name`): a first segment that cannot start a Falco field, followed by
/// a plausible field suffix. Falco field segments are ASCII letters, digits and `_`.
pub(crate) fn garbled(name: &str) -> Option<(&str, &str)> {
    let (prefix, rest) = name.split_once('.')?;
    let valid_segment = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    let bad_prefix = !prefix.is_empty() && !valid_segment(prefix);
    (bad_prefix && rest.split('.').all(valid_segment)).then_some((prefix, rest))
}

/// Whether the condition is about process execution (`evt.type` is `execve`/`execveat`), where
/// "the path" is the executable's and not a file descriptor's.
pub(crate) fn is_exec(scan: &Scan) -> bool {
    scan.checks.iter().any(|c| {
        let Some(f) = &c.field else { return false };
        let is_type = f.name == "evt.type" || meant_plain(&f.name).is_some_and(|m| m == "evt.type");
        is_type
            && c.values()
                .iter()
                .any(|v| v.text == "execve" || v.text == "execveat")
    })
}

/// The alias of `name` without looking at the condition.
fn meant_plain(name: &str) -> Option<&'static str> {
    let name = match garbled(name) {
        Some((_, rest)) => {
            return ALIASES
                .iter()
                .find(|(from, ..)| from.strip_prefix("evt.") == Some(rest))
                .map(|(_, to, _)| *to)
                .or_else(|| fields::get(&format!("evt.{rest}")).map(|id| id.name()));
        }
        None => name,
    };
    ALIASES
        .iter()
        .find(|(from, ..)| *from == name)
        .map(|(_, to, _)| *to)
}

/// What the unknown field `name` in `check` (in a condition `scan`) was meant to be.
pub(crate) fn meant(name: &str, check: Option<&Check>, scan: &Scan) -> Option<Meant> {
    let name = match garbled(name) {
        Some((_, rest)) => {
            let evt = format!("evt.{rest}");
            if fields::resolve(&evt).is_some() {
                return Some(Meant {
                    field: evt,
                    why: "the prefix is a garbled `evt`".into(),
                    certain: true,
                });
            }
            evt
        }
        None => name.to_owned(),
    };
    if let Some((_, to, why)) = ALIASES.iter().find(|(from, ..)| *from == name) {
        let cidrs = check.is_some_and(|c| {
            !c.values().is_empty()
                && c.values()
                    .iter()
                    .all(|v| v.text.parse::<ipnet::IpNet>().is_ok())
        });
        let (field, why) = match *to {
            "fd.name" if is_exec(scan) => ("proc.exepath", "in an `execve` rule the path is the executed file's, `proc.exepath`".to_owned()),
            "fd.rip" if cidrs => ("fd.rnet", "the values are networks (CIDR), which `fd.rnet` matches; `fd.rip` compares whole addresses".to_owned()),
            _ => (*to, (*why).to_owned()),
        };
        return Some(Meant {
            field: field.to_owned(),
            why,
            certain: true,
        });
    }
    closest(&name).map(|field| Meant {
        field: field.to_owned(),
        why: "closest field name".into(),
        certain: false,
    })
}

/// The field name closest to `name` by edit distance, when close enough to be a typo.
fn closest(name: &str) -> Option<&'static str> {
    let limit = (name.chars().count() / 4).clamp(1, 3);
    fields::all()
        .iter()
        .map(|f| (distance(name, f.name), f.name))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::condition::scan;

    fn meant_in(cond: &str, field: &str) -> Option<String> {
        let s = scan(cond, &|_| cond.len());
        let check = s
            .checks
            .iter()
            .find(|c| c.field.as_ref().is_some_and(|f| f.name == field));
        meant(field, check, &s).map(|m| m.field)
    }

    #[test]
    fn garbled_evt_prefix() {
        assert_eq!(garbled("Tập.name"), Some(("Tập", "name")));
        assert_eq!(garbled("evt.name"), None);
        assert_eq!(
            meant_in("Tập.name = open", "Tập.name").as_deref(),
            Some("evt.type")
        );
        assert_eq!(
            meant_in("Tập.type = open", "Tập.type").as_deref(),
            Some("evt.type")
        );
        assert_eq!(
            meant_in("Tập.path startswith /tmp/", "Tập.path").as_deref(),
            Some("fd.name")
        );
        assert_eq!(
            meant_in("Tập.name = execve and Tập.path = /x", "Tập.path").as_deref(),
            Some("proc.exepath")
        );
    }

    #[test]
    fn remote_ip_with_networks_is_rnet() {
        assert_eq!(
            meant_in("evt.remote_ip in (\"10.0.0.0/8\")", "evt.remote_ip").as_deref(),
            Some("fd.rnet")
        );
        assert_eq!(
            meant_in("evt.remote_ip = 1.2.3.4", "evt.remote_ip").as_deref(),
            Some("fd.rip")
        );
    }

    #[test]
    fn typos_get_the_closest_field() {
        assert_eq!(
            meant_in("proc.nmae = x", "proc.nmae").as_deref(),
            Some("proc.name")
        );
        assert_eq!(
            meant_in("proc.cmdlin = x", "proc.cmdlin").as_deref(),
            Some("proc.cmdline")
        );
        assert_eq!(meant_in("totally.unrelated = x", "totally.unrelated"), None);
    }
}
