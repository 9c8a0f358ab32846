//! Rule exceptions: their shape checks (falco `validate_exception_info`) and their textual
//! compilation into `and not (...)` clauses (falco `build_rule_exception_infos`). The generated
//! text keeps the positions of the fields, operators and values it was built from.

use super::mapped::MappedText;
use crate::diagnostic::{Code, Diagnostic, ItemKind};
use crate::span::Span;
use crate::syntax::ast::{CmpOp, Modifier};

/// A `fields`, `comps` or `values` entry: a scalar or a (nested) sequence.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    Scalar(MappedText),
    List(Vec<Entry>, Span),
}

impl Entry {
    pub fn is_list(&self) -> bool {
        matches!(self, Entry::List(..))
    }

    pub fn span(&self) -> Span {
        match self {
            Entry::Scalar(m) => m.whole_span(),
            Entry::List(_, s) => *s,
        }
    }

    fn items(&self) -> &[Entry] {
        match self {
            Entry::List(items, _) => items,
            Entry::Scalar(_) => &[],
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Exception {
    pub name: String,
    /// The exception's YAML mapping.
    pub span: Span,
    pub fields: Option<Entry>,
    pub comps: Option<Entry>,
    pub values: Vec<Entry>,
}

impl Exception {
    /// Whether `fields` is given (Falco's `entry::is_valid`).
    pub fn has_fields(&self) -> bool {
        is_valid(&self.fields)
    }

    /// Whether `comps` is given (Falco's `entry::is_valid`).
    pub fn has_comps(&self) -> bool {
        is_valid(&self.comps)
    }

    /// Places a diagnostic in this exception, as Falco's exception context does.
    pub fn item(&self, d: Diagnostic) -> Diagnostic {
        d.in_item(ItemKind::Exception, &self.name)
    }
}

/// Falco's `entry::is_valid`: a null, a mapping or an empty sequence is no entry at all.
fn is_valid(e: &Option<Entry>) -> bool {
    match e {
        None => false,
        Some(Entry::Scalar(m)) => !m.text.is_empty(),
        Some(Entry::List(items, _)) => !items.is_empty(),
    }
}

fn validation(message: impl Into<String>, span: Span) -> Diagnostic {
    Diagnostic::error(Code::ERR_VALIDATE, message, span)
}

/// `startswith oneof` and friends.
pub(crate) fn is_str_operator_with_modifier(op: &str) -> bool {
    let mut words = op.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(op), Some(m), None) => {
            CmpOp::parse(op).is_some_and(CmpOp::takes_modifier) && Modifier::parse(m).is_some()
        }
        _ => false,
    }
}

fn is_operator_for_list(op: &str) -> bool {
    CmpOp::parse(op).is_some_and(CmpOp::is_list_op) || is_str_operator_with_modifier(op)
}

/// Falco's `normalize_comp`: surrounding whitespace is not part of an operator.
fn normalize(m: &mut MappedText) {
    *m = m.trimmed();
}

/// Checks one exception of a rule of a known source (`check_field` says whether a field can
/// be used on the left-hand side), filling in the default `comps` as Falco does.
pub(crate) fn validate(
    ex: &mut Exception,
    check_field: Option<&dyn Fn(&str) -> bool>,
) -> Result<(), Diagnostic> {
    check_shape(ex, check_field).map_err(|d| ex.item(d))
}

fn check_shape(
    ex: &mut Exception,
    check_field: Option<&dyn Fn(&str) -> bool>,
) -> Result<(), Diagnostic> {
    if !ex.has_comps() {
        ex.comps = None;
    }
    let Some(fields) = ex.fields.as_ref().filter(|_| ex.has_fields()) else {
        return Err(validation(
            "Rule exception item must have fields property with a list of fields",
            ex.span,
        ));
    };
    match fields {
        Entry::List(fields, _) => {
            let comps = ex.comps.get_or_insert_with(|| {
                Entry::List(
                    fields
                        .iter()
                        .map(|f| Entry::Scalar(MappedText::fixed("=", f.span())))
                        .collect(),
                    ex.span,
                )
            });
            let Entry::List(comps, _) = comps else {
                return Err(validation(
                    "Fields and comps lists must have equal length",
                    ex.span,
                ));
            };
            if fields.len() != comps.len() {
                return Err(validation(
                    "Fields and comps lists must have equal length",
                    ex.span,
                ));
            }
            for comp in comps.iter_mut() {
                let Entry::Scalar(c) = comp else {
                    return Err(validation(
                        "'' is not a supported comparison operator",
                        comp.span(),
                    ));
                };
                normalize(c);
                // libs `parser::supported_operators`: the comparison operators and `exists`.
                let text = c.text.as_str();
                if text != "exists"
                    && CmpOp::parse(text).is_none()
                    && !is_str_operator_with_modifier(text)
                {
                    return Err(validation(
                        format!("'{}' is not a supported comparison operator", c.text),
                        c.whole_span(),
                    ));
                }
            }
            if let Some(check) = check_field {
                for f in fields {
                    let text = match f {
                        Entry::Scalar(m) => m.text.as_str(),
                        Entry::List(..) => "",
                    };
                    if !check(text) {
                        return Err(validation(
                            format!("'{text}' is not a supported filter field"),
                            f.span(),
                        ));
                    }
                }
            }
        }
        Entry::Scalar(field) => {
            let comp = ex
                .comps
                .get_or_insert_with(|| Entry::Scalar(MappedText::fixed("in", ex.span)));
            let Entry::Scalar(c) = comp else {
                return Err(validation(
                    "Fields and comps must both be strings",
                    comp.span(),
                ));
            };
            normalize(c);
            if !matches!(c.text.as_str(), "in" | "pmatch" | "intersects")
                && !is_str_operator_with_modifier(&c.text)
            {
                return Err(validation(
                    "When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier operator (e.g. startswith oneof)",
                    c.whole_span(),
                ));
            }
            if let Some(check) = check_field
                && !check(&field.text)
            {
                return Err(validation(
                    format!("'{}' is not a supported filter field", field.text),
                    field.whole_span(),
                ));
            }
        }
    }
    Ok(())
}

/// Falco's `quote_item`: values with a space are double-quoted unless already quoted.
fn quoted(value: &MappedText) -> MappedText {
    let t = &value.text;
    if t.contains(' ') && !t.starts_with('"') && !t.starts_with('\'') {
        let span = value.whole_span();
        let mut m = MappedText::fixed("\"", span);
        m.push(value);
        m.push_fixed("\"", span);
        m
    } else {
        value.clone()
    }
}

/// Falco's `paren_item`.
fn parenthesised(value: &MappedText) -> MappedText {
    if value.text.starts_with('(') {
        value.clone()
    } else {
        let span = value.whole_span();
        let mut m = MappedText::fixed("(", span);
        m.push(value);
        m.push_fixed(")", span);
        m
    }
}

fn scalar(e: &Entry) -> MappedText {
    match e {
        Entry::Scalar(m) => m.clone(),
        Entry::List(_, span) => MappedText::fixed("", *span),
    }
}

/// `(cond) and not <ex1> and not <ex2> ...` for the exceptions of a rule (validated already).
pub(crate) fn append_to_condition(
    cond: &MappedText,
    exceptions: &[Exception],
) -> Result<MappedText, Diagnostic> {
    let whole = cond.whole_span();
    let mut out = MappedText::fixed("(", whole);
    out.push(cond);
    out.push_fixed(")", whole);
    for ex in exceptions {
        let at = ex.span;
        let mut clause = MappedText::default();
        let (Some(fields), Some(comps)) = (&ex.fields, &ex.comps) else {
            continue;
        };
        match fields {
            Entry::Scalar(field) => {
                for val in &ex.values {
                    if val.is_list() {
                        return Err(ex.item(validation(
                            "Expected values array to contain a list of strings",
                            val.span(),
                        )));
                    }
                    if clause.is_empty() {
                        clause.push_fixed("(", at);
                        clause.push(field);
                        clause.push_fixed(" ", at);
                        clause.push(&scalar(comps));
                        clause.push_fixed(" (", at);
                    } else {
                        clause.push_fixed(", ", at);
                    }
                    clause.push(&quoted(&scalar(val)));
                }
                if !clause.is_empty() {
                    clause.push_fixed("))", at);
                }
            }
            Entry::List(fields, _) => {
                let comps = comps.items();
                for values in &ex.values {
                    let values_items = values.items();
                    if values_items.len() != fields.len() || !values.is_list() {
                        return Err(ex.item(validation(
                            "Fields and values lists must have equal length",
                            values.span(),
                        )));
                    }
                    clause.push_fixed(if clause.is_empty() { "((" } else { " or (" }, at);
                    for (k, field) in fields.iter().enumerate() {
                        if k > 0 {
                            clause.push_fixed(" and", at);
                        }
                        let comp = scalar(&comps[k]);
                        let value = match &values_items[k] {
                            Entry::List(items, span) => {
                                let mut list = MappedText::fixed("(", *span);
                                for (i, v) in items.iter().enumerate() {
                                    if i > 0 {
                                        list.push_fixed(", ", *span);
                                    }
                                    list.push(&quoted(&scalar(v)));
                                }
                                list.push_fixed(")", *span);
                                list
                            }
                            Entry::Scalar(v) if is_operator_for_list(&comp.text) => {
                                parenthesised(v)
                            }
                            Entry::Scalar(v) => quoted(v),
                        };
                        clause.push_fixed(" ", at);
                        clause.push(&scalar(field));
                        clause.push_fixed(" ", at);
                        clause.push(&comp);
                        clause.push_fixed(" ", at);
                        clause.push(&value);
                    }
                    clause.push_fixed(")", at);
                }
                if !clause.is_empty() {
                    clause.push_fixed(")", at);
                }
            }
        }
        if !clause.is_empty() {
            out.push_fixed(" and not ", at);
            out.push(&clause);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::FileId;

    fn s(text: &str) -> Entry {
        Entry::Scalar(MappedText::fixed(text, Span::new(FileId(0), 0, 1)))
    }

    fn l(items: Vec<Entry>) -> Entry {
        Entry::List(items, Span::default())
    }

    fn build(fields: Entry, comps: Option<Entry>, values: Vec<Entry>) -> String {
        let mut ex = Exception {
            name: "e".into(),
            span: Span::default(),
            fields: Some(fields),
            comps,
            values,
        };
        validate(&mut ex, None).unwrap();
        let cond = MappedText::fixed("cond", Span::default());
        append_to_condition(&cond, &[ex]).unwrap().text
    }

    #[test]
    fn list_form_quotes_values_with_spaces() {
        let text = build(
            l(vec![s("proc.cmdline")]),
            Some(l(vec![s("contains")])),
            vec![l(vec![s("curl 127.0.0.1")])],
        );
        assert_eq!(
            text,
            r#"(cond) and not (( proc.cmdline contains "curl 127.0.0.1"))"#
        );
    }

    #[test]
    fn list_form_with_modifier_and_nested_list() {
        let text = build(
            l(vec![s("proc.name"), s("fd.name")]),
            Some(l(vec![s("startswith oneof"), s("startswith")])),
            vec![l(vec![l(vec![s("sshd"), s("sudo")]), s("/etc/")])],
        );
        assert_eq!(
            text,
            "(cond) and not (( proc.name startswith oneof (sshd, sudo) and fd.name startswith /etc/))"
        );
    }

    #[test]
    fn scalar_form_defaults_to_in() {
        let text = build(s("proc.name"), None, vec![s("a"), s("b c")]);
        assert_eq!(text, r#"(cond) and not (proc.name in (a, "b c"))"#);
    }

    #[test]
    fn list_operator_value_is_parenthesised() {
        let text = build(
            l(vec![s("proc.name")]),
            Some(l(vec![s(" in ")])),
            vec![l(vec![s("my_list")])],
        );
        assert_eq!(text, "(cond) and not (( proc.name in (my_list)))");
    }

    #[test]
    fn modifier_operator_value_is_parenthesised() {
        let text = build(
            l(vec![s("proc.name")]),
            Some(l(vec![s("startswith oneof")])),
            vec![l(vec![s("sshd")])],
        );
        assert_eq!(
            text,
            "(cond) and not (( proc.name startswith oneof (sshd)))"
        );
    }

    #[test]
    fn no_values_contribute_nothing() {
        assert_eq!(build(l(vec![s("proc.name")]), None, vec![]), "(cond)");
        assert_eq!(build(s("proc.name"), None, vec![]), "(cond)");
    }

    #[test]
    fn shape_errors() {
        let mut ex = Exception {
            name: "e".into(),
            span: Span::default(),
            fields: Some(l(vec![s("proc.name"), s("fd.name")])),
            comps: Some(l(vec![s("=")])),
            values: vec![],
        };
        assert_eq!(
            validate(&mut ex, None).unwrap_err().message,
            "Fields and comps lists must have equal length"
        );
        ex.comps = Some(l(vec![s("="), s("in oneof")]));
        assert_eq!(
            validate(&mut ex, None).unwrap_err().message,
            "'in oneof' is not a supported comparison operator"
        );
        ex.fields = Some(s("proc.name"));
        ex.comps = Some(s("="));
        assert!(
            validate(&mut ex, None)
                .unwrap_err()
                .message
                .starts_with("When fields is a single value")
        );
    }
}
