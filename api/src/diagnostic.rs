//! A diagnostic as the CLI (`lint --format json`, `check`) and the REST API report it.

pub use rulestudio_engine::diagnostic::{Applicability, Severity};
use rulestudio_engine::diagnostic::{Diagnostic, Fix};
pub use rulestudio_engine::rule::Priority;
use rulestudio_engine::span::LineIndex;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DiagnosticJson {
    pub file: String,
    /// `error` or `warning`.
    #[serde(with = "named")]
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "named::schema::<Severity>")
    )]
    pub severity: Severity,
    pub code: String,
    pub message: String,
    /// 1-based; columns count characters.
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub item_type: Option<String>,
    pub item_name: Option<String>,
    pub help: Option<String>,
    pub fix: Option<FixJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FixJson {
    pub message: String,
    /// `safe`, `unsafe` or `display_only`.
    #[serde(with = "named")]
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "named::schema::<Applicability>")
    )]
    pub applicability: Applicability,
    pub edits: Vec<EditJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct EditJson {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// Byte offsets into the file, for tools that apply edits to the raw text.
    pub start: u32,
    pub end: u32,
    pub replacement: String,
}

/// A source file as a diagnostic's span refers to it (the loader's `FileId` indexes a slice
/// of these).
pub struct FileText<'a> {
    pub name: &'a str,
    pub text: &'a str,
    pub index: LineIndex,
}

impl<'a> FileText<'a> {
    pub fn new(name: &'a str, text: &'a str) -> Self {
        FileText {
            name,
            text,
            index: LineIndex::new(text),
        }
    }
}

impl DiagnosticJson {
    pub fn from_engine(d: &Diagnostic, files: &[FileText<'_>]) -> Self {
        let (file, (line, column), (end_line, end_column)) = match d.span {
            Some(span) => match files.get(span.file.0 as usize) {
                Some(f) => {
                    let a = f.index.line_col(f.text, span.start);
                    let b = f.index.line_col(f.text, span.end);
                    (f.name.to_string(), (a.line, a.column), (b.line, b.column))
                }
                None => (String::new(), (0, 0), (0, 0)),
            },
            None => (
                files
                    .first()
                    .map(|f| f.name.to_string())
                    .unwrap_or_default(),
                (0, 0),
                (0, 0),
            ),
        };
        DiagnosticJson {
            file,
            severity: d.severity,
            code: d.code.as_str().to_string(),
            message: d.message.clone(),
            line,
            column,
            end_line,
            end_column,
            item_type: d.item_kind.map(|k| k.as_str().to_string()),
            item_name: d.item_name.clone(),
            help: d.help.clone(),
            fix: d.fix.as_ref().map(|f| FixJson::from_engine(f, files)),
        }
    }
}

impl FixJson {
    fn from_engine(fix: &Fix, files: &[FileText<'_>]) -> Self {
        let edits = fix
            .edits
            .iter()
            .map(|e| {
                let (a, b) = match files.get(e.span.file.0 as usize) {
                    Some(f) => (
                        f.index.line_col(f.text, e.span.start),
                        f.index.line_col(f.text, e.span.end),
                    ),
                    None => Default::default(),
                };
                EditJson {
                    line: a.line,
                    column: a.column,
                    end_line: b.line,
                    end_column: b.column,
                    start: e.span.start,
                    end: e.span.end,
                    replacement: e.replacement.clone(),
                }
            })
            .collect();
        FixJson {
            message: fix.message.clone(),
            applicability: fix.applicability,
            edits,
        }
    }
}

/// The engine's closed sets written as their names (the engine's types are not `Serialize`:
/// their JSON shape is decided here, with one definition of the set, the engine's): a
/// diagnostic's severity, a fix's applicability, a rule's priority (as Falco prints it).
pub(crate) mod named {
    use super::{Applicability, Priority, Severity};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub trait Named: Copy + 'static {
        const WHAT: &'static str;
        fn all() -> &'static [Self];
        fn name(self) -> &'static str;
    }

    impl Named for Severity {
        const WHAT: &'static str = "severity";
        fn all() -> &'static [Self] {
            &Severity::ALL
        }
        fn name(self) -> &'static str {
            self.as_str()
        }
    }

    impl Named for Applicability {
        const WHAT: &'static str = "applicability";
        fn all() -> &'static [Self] {
            &Applicability::ALL
        }
        fn name(self) -> &'static str {
            self.as_str()
        }
    }

    impl Named for Priority {
        const WHAT: &'static str = "priority";
        fn all() -> &'static [Self] {
            &Priority::ALL
        }
        fn name(self) -> &'static str {
            self.as_str()
        }
    }

    pub fn serialize<T: Named, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.name())
    }

    /// The set as a JSON Schema: a string, one of the names.
    #[cfg(feature = "openapi")]
    pub fn schema<T: Named>(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = T::all().iter().map(|v| v.name()).collect();
        schemars::json_schema!({"type": "string", "enum": names})
    }

    pub fn deserialize<'de, T: Named, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        T::all()
            .iter()
            .copied()
            .find(|v| v.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = T::all().iter().map(|v| v.name()).collect();
                D::Error::custom(format!(
                    "unknown {} `{text}`, expected one of {}",
                    T::WHAT,
                    names.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_and_applicabilities_are_written_as_their_names_and_read_back() {
        for severity in Severity::ALL {
            for applicability in Applicability::ALL {
                let fix = FixJson {
                    message: "m".into(),
                    applicability,
                    edits: vec![],
                };
                let d = DiagnosticJson {
                    file: "f.yaml".into(),
                    severity,
                    code: "RS001".into(),
                    message: "m".into(),
                    line: 1,
                    column: 1,
                    end_line: 1,
                    end_column: 2,
                    item_type: None,
                    item_name: None,
                    help: None,
                    fix: Some(fix),
                };
                let json = serde_json::to_value(&d).unwrap();
                assert_eq!(json["severity"], severity.as_str());
                assert_eq!(json["fix"]["applicability"], applicability.as_str());
                assert_eq!(serde_json::from_value::<DiagnosticJson>(json).unwrap(), d);
            }
        }
    }

    #[test]
    fn priorities_are_written_as_falco_prints_them_and_read_back() {
        let alert = |priority: &str| {
            serde_json::json!({
                "id": 1, "event_id": "n:1:1", "time": "t", "rule": "r", "priority": priority,
                "output": "o", "output_fields": {}, "source": "syscall", "tags": [],
                "hostname": "h", "live_version": 1,
            })
        };
        for p in Priority::ALL {
            let json = alert(p.as_str());
            let read: crate::alerts::Alert = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(read.priority, p);
            assert_eq!(
                serde_json::to_value(&read).unwrap()["priority"],
                json["priority"]
            );
        }
        // Falco's rules files spell them in capitals; its alerts, and so the API, do not.
        let e = serde_json::from_value::<crate::alerts::Alert>(alert("WARNING"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown priority `WARNING`, expected one of Emergency, Alert, Critical"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_name_is_refused_naming_the_set() {
        let json = r#"{"message": "m", "applicability": "risky", "edits": []}"#;
        let e = serde_json::from_str::<FixJson>(json)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown applicability `risky`, expected one of safe, unsafe, display_only"),
            "{e}"
        );
    }
}
