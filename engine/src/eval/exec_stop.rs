//! Which enforce rules the kernel can judge itself at exec (issue #15): the one compiler from a
//! compiled condition to what the collector's kernel maps hold, used by the node to fill them
//! and by the editor to say, for each enforce rule, how its matches are stopped.
//!
//! The subset is small and exact: `evt.type` restricted to `execve`/`execveat` (optionally with
//! `evt.dir = <`), `and` one `proc.name` test (`=`, `in`, or an `or` of them). Every other rule
//! that can match an exec is judged by the node after the fact, and says why.

use super::check::{Check, Lhs, Node, Test};
use super::matcher::{Const, ConstSet, Matcher};
use super::{EvtTypeSet, Filter};
use std::collections::BTreeSet;

/// The longest `proc.name`: the kernel's `comm`, 16 bytes with its NUL.
pub const NAME_MAX: usize = 15;

/// How the execs an enforce rule matches can be stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecStop {
    /// Every match is an exec of a program named one of `names` (each at most [`NAME_MAX`]
    /// bytes; longer names in the rule can never match): the kernel stops such an exec before
    /// the new program runs an instruction.
    Kernel { names: BTreeSet<String> },
    /// The rule cannot match an exec.
    NoExec,
    /// The rule can match an exec, outside the kernel's subset: why.
    Node(String),
}

fn exec_types() -> EvtTypeSet {
    EvtTypeSet::of(["execve", "execveat"])
}

impl Filter {
    /// How a rule with this condition and these event types has its exec matches stopped.
    pub fn exec_stop(&self, evt_types: &EvtTypeSet) -> ExecStop {
        let exec = exec_types();
        if evt_types.intersection(&exec).is_empty() {
            return ExecStop::NoExec;
        }
        if !evt_types.intersection(&exec.complement()).is_empty() {
            return ExecStop::Node("it also matches events other than execve/execveat".into());
        }
        let conjuncts = match &self.root {
            Node::And(items) => &items[..],
            other => std::slice::from_ref(other),
        };
        let mut names = None;
        for c in conjuncts {
            if is_exec_type_check(c) {
                continue;
            }
            match (name_test(c), &names) {
                (Some(n), None) => names = Some(n),
                (Some(_), Some(_)) => {
                    return ExecStop::Node("it tests proc.name more than once".into());
                }
                (None, _) => {
                    return ExecStop::Node(
                        "beside evt.type it may only test proc.name with =, in or or".into(),
                    );
                }
            }
        }
        match names {
            Some(names) => ExecStop::Kernel {
                names: names.into_iter().filter(|n| n.len() <= NAME_MAX).collect(),
            },
            None => ExecStop::Node("it does not name the programs (proc.name)".into()),
        }
    }
}

/// `evt.type in (…)` (the rule's event types say which) or `evt.dir = <` (an exec the kernel
/// sees has completed: libs' exit event).
fn is_exec_type_check(n: &Node) -> bool {
    let Node::Check(c) = n else { return false };
    match (&c.lhs, &c.test) {
        (Lhs::EvtType { negate: false, .. }, _) => true,
        (Lhs::Field { id, arg: None }, Test::Match(Matcher::Eq(Const::Bytes(b)))) => {
            id.info().name == "evt.dir" && &**b == b"<"
        }
        _ => false,
    }
}

/// The names a `proc.name` test accepts: `=`, `in`, and `or` of those.
fn name_test(n: &Node) -> Option<BTreeSet<String>> {
    match n {
        Node::Check(c) => name_check(c),
        Node::Or(items) => {
            let mut all = BTreeSet::new();
            for i in items.iter() {
                all.extend(name_test(i)?);
            }
            Some(all)
        }
        _ => None,
    }
}

fn name_check(c: &Check) -> Option<BTreeSet<String>> {
    let Lhs::Field { id, arg: None } = &c.lhs else {
        return None;
    };
    if id.info().name != "proc.name" {
        return None;
    }
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
    match &c.test {
        Test::Match(Matcher::Eq(Const::Bytes(b))) => Some(BTreeSet::from([text(b)?])),
        Test::Match(Matcher::In {
            set,
            overlap: false,
        }) => match set {
            ConstSet::SmallBytes(items) => items.iter().map(|b| text(b)).collect(),
            ConstSet::Bytes(items) => items.iter().map(|b| text(b)).collect(),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn stop(condition: &str) -> ExecStop {
        let c = crate::loader::compile_standalone(condition, None);
        let f = c
            .filter
            .unwrap_or_else(|| panic!("{condition}: {:?}", c.diagnostics));
        let types = crate::compile::compile(&crate::syntax::parse(condition).tree).evt_types;
        f.exec_stop(&types)
    }

    fn names(n: &[&str]) -> ExecStop {
        ExecStop::Kernel {
            names: n.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_kernel_subset_is_exec_types_and_one_proc_name_test() {
        assert_eq!(
            stop("evt.type in (execve, execveat) and proc.name in (nc, ncat)"),
            names(&["nc", "ncat"])
        );
        assert_eq!(
            stop("evt.type = execve and evt.dir = < and (proc.name = nc or proc.name in (socat))"),
            names(&["nc", "socat"])
        );
        // A name longer than the kernel's comm can never be a proc.name: nothing to stop.
        assert_eq!(
            stop("evt.type = execve and proc.name = a-name-of-sixteen"),
            names(&[])
        );
    }

    #[test]
    fn everything_else_says_why_or_that_it_cannot_match_an_exec() {
        assert_eq!(
            stop("evt.type = openat and proc.name = nc"),
            ExecStop::NoExec
        );
        for (condition, why) in [
            ("proc.name = nc", "also matches events other"),
            (
                "evt.type in (execve, openat) and proc.name = nc",
                "also matches",
            ),
            ("evt.type = execve", "does not name the programs"),
            (
                "evt.type = execve and not proc.name = nc",
                "may only test proc.name",
            ),
            (
                "evt.type = execve and proc.name startswith nc",
                "may only test proc.name",
            ),
            (
                "evt.type = execve and proc.name = nc and proc.name = x",
                "more than once",
            ),
            (
                "evt.type = execve and (proc.name = nc or user.uid = 0)",
                "may only test",
            ),
            (
                "evt.type = execve and proc.pname = sh and proc.name = nc",
                "may only test",
            ),
        ] {
            match stop(condition) {
                ExecStop::Node(reason) => assert!(reason.contains(why), "{condition}: {reason}"),
                other => panic!("{condition}: {other:?}"),
            }
        }
    }

    /// What the kernel would stop is what the engine matches, on execs of many names.
    #[test]
    fn kernel_names_match_exactly_the_execs_the_engine_matches() {
        let condition = "evt.type in (execve, execveat) and (proc.name in (nc, ncat) or proc.name = socat) and evt.dir = <";
        let ExecStop::Kernel { names } = stop(condition) else {
            panic!("in the subset")
        };
        let filter = crate::loader::compile_standalone(condition, None)
            .filter
            .unwrap();
        for name in [
            "nc", "ncat", "socat", "nc2", "NC", "", "sh", "socat ", "netcat",
        ] {
            for ty in ["execve", "execveat"] {
                let ev = Event::from_json_str(&format!(
                    r#"{{"evt.type":"{ty}","evt.dir":"<","proc.name":"{name}"}}"#
                ))
                .unwrap();
                assert_eq!(
                    filter.matches(&ev),
                    names.contains(name),
                    "{ty} of {name:?}"
                );
            }
        }
    }
}
