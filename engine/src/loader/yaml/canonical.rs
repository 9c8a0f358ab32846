//! Every document of a text as one canonical line, the form the yaml-cpp differential harness
//! (`tests/conformance/yaml/yaml-cpp-oracle/`) prints for yaml-cpp's own node tree, so the two
//! readers can be compared byte for byte: `~` for a null, a JSON string for a scalar, `[a,b]`,
//! `{k:v}`; aliases expanded as yaml-cpp shares their node. An error is `ERR ` and the message
//! (yaml-cpp's words and position for its own errors).

use super::{Kind, NodeId, Yaml};
use crate::span::FileId;

/// One line per document (`OK` first), or `ERR message`.
pub fn canonical(text: &str) -> String {
    let yaml = match super::parse(text, FileId(0)) {
        Ok(yaml) => yaml,
        Err(e) => return format!("ERR {}", e.message),
    };
    let mut out = String::from("OK");
    for &doc in &yaml.docs {
        out.push('\n');
        write_node(&yaml, doc, &mut out);
    }
    out
}

/// Iterative, so that nesting costs heap, not stack.
fn write_node(yaml: &Yaml, root: NodeId, out: &mut String) {
    enum Step {
        Node(NodeId),
        Text(&'static str),
    }
    let mut stack = vec![Step::Node(root)];
    while let Some(step) = stack.pop() {
        let id = match step {
            Step::Text(t) => {
                out.push_str(t);
                continue;
            }
            Step::Node(id) => id,
        };
        match &yaml.node(id).kind {
            Kind::Null => out.push('~'),
            Kind::Scalar { value, .. } => {
                out.push_str(&serde_json::Value::String(value.clone()).to_string())
            }
            Kind::Seq(items) => {
                out.push('[');
                stack.push(Step::Text("]"));
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push(Step::Node(*item));
                    if i > 0 {
                        stack.push(Step::Text(","));
                    }
                }
            }
            Kind::Map(entries) => {
                out.push('{');
                stack.push(Step::Text("}"));
                for (i, (k, v)) in entries.iter().enumerate().rev() {
                    stack.push(Step::Node(*v));
                    stack.push(Step::Text(":"));
                    stack.push(Step::Node(*k));
                    if i > 0 {
                        stack.push(Step::Text(","));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn documents_print_as_one_canonical_line_each() {
        assert_eq!(
            canonical("- a: 1\n  b: [x, 'y z']\n  c:\n---\nk: ~\n"),
            "OK\n[{\"a\":\"1\",\"b\":[\"x\",\"y z\"],\"c\":~}]\n{\"k\":~}"
        );
    }

    #[test]
    fn errors_carry_yaml_cpps_message() {
        let out = canonical("a: [b\n");
        assert!(out.starts_with("ERR yaml-cpp: error at line"), "{out}");
    }
}
