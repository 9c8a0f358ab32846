//! The one diagnostic type of the engine: loader errors and warnings (with Falco's load-result
//! codes, so Falco users recognise them), condition syntax and compile errors, and lints.
//! Serialisable shapes for the CLI and the REST API live in `rulestudio-api`, not here.

use crate::span::Span;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub const ALL: [Severity; 2] = [Severity::Error, Severity::Warning];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A stable diagnostic code. Falco's own load-result codes are constants here; lint codes are
/// declared next to their lint in `lint::registry`. Codes are never reused or renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub &'static str);

impl Code {
    // Errors (falco userspace/engine/falco_load_result.cpp).
    pub const ERR_FILE_READ: Code = Code("LOAD_ERR_FILE_READ");
    pub const ERR_YAML_PARSE: Code = Code("LOAD_ERR_YAML_PARSE");
    pub const ERR_YAML_VALIDATE: Code = Code("LOAD_ERR_YAML_VALIDATE");
    pub const ERR_COMPILE_CONDITION: Code = Code("LOAD_ERR_COMPILE_CONDITION");
    pub const ERR_COMPILE_OUTPUT: Code = Code("LOAD_ERR_COMPILE_OUTPUT");
    pub const ERR_VALIDATE: Code = Code("LOAD_ERR_VALIDATE");
    pub const ERR_EXTENSION: Code = Code("LOAD_ERR_EXTENSION");
    // Warnings.
    pub const UNKNOWN_SOURCE: Code = Code("LOAD_UNKNOWN_SOURCE");
    pub const UNSAFE_NA_CHECK: Code = Code("LOAD_UNSAFE_NA_CHECK");
    pub const NO_EVTTYPE: Code = Code("LOAD_NO_EVTTYPE");
    pub const UNKNOWN_FILTER: Code = Code("LOAD_UNKNOWN_FILTER");
    pub const UNUSED_MACRO: Code = Code("LOAD_UNUSED_MACRO");
    pub const UNUSED_LIST: Code = Code("LOAD_UNUSED_LIST");
    pub const UNKNOWN_ITEM: Code = Code("LOAD_UNKNOWN_ITEM");
    pub const DEPRECATED_ITEM: Code = Code("LOAD_DEPRECATED_ITEM");
    pub const WARNING_EXTENSION: Code = Code("LOAD_WARNING_EXTENSION");
    pub const APPEND_NO_VALUES: Code = Code("LOAD_APPEND_NO_VALUES");
    pub const EXCEPTION_NAME_NOT_UNIQUE: Code = Code("LOAD_EXCEPTION_NAME_NOT_UNIQUE");
    pub const INVALID_MACRO_NAME: Code = Code("LOAD_INVALID_MACRO_NAME");
    pub const INVALID_LIST_NAME: Code = Code("LOAD_INVALID_LIST_NAME");
    pub const COMPILE_CONDITION: Code = Code("LOAD_COMPILE_CONDITION");
    pub const UNKNOWN_KEY: Code = Code("LOAD_UNKNOWN_KEY");

    /// Every Falco load-result code, for the uniqueness test and the docs.
    pub const FALCO: &'static [Code] = &[
        Code::ERR_FILE_READ,
        Code::ERR_YAML_PARSE,
        Code::ERR_YAML_VALIDATE,
        Code::ERR_COMPILE_CONDITION,
        Code::ERR_COMPILE_OUTPUT,
        Code::ERR_VALIDATE,
        Code::ERR_EXTENSION,
        Code::UNKNOWN_SOURCE,
        Code::UNSAFE_NA_CHECK,
        Code::NO_EVTTYPE,
        Code::UNKNOWN_FILTER,
        Code::UNUSED_MACRO,
        Code::UNUSED_LIST,
        Code::UNKNOWN_ITEM,
        Code::DEPRECATED_ITEM,
        Code::WARNING_EXTENSION,
        Code::APPEND_NO_VALUES,
        Code::EXCEPTION_NAME_NOT_UNIQUE,
        Code::INVALID_MACRO_NAME,
        Code::INVALID_LIST_NAME,
        Code::COMPILE_CONDITION,
        Code::UNKNOWN_KEY,
    ];

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The kind of rules-file item a diagnostic belongs to (Falco's context item types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    RulesContent,
    /// A top-level entry that is not a mapping or has no known key.
    RulesContentItem,
    RequiredEngineVersion,
    RequiredPluginVersions,
    List,
    Macro,
    Rule,
    /// One of a rule's exceptions; its name is the exception's name.
    Exception,
    /// A condition checked on its own (`rulestudio check`, REST filters).
    Condition,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::RulesContent => "rules content",
            ItemKind::RulesContentItem => "rules content item",
            ItemKind::RequiredEngineVersion => "required_engine_version",
            // Falco's spelling (`item_type_strings` in rule_loader.cpp), unlike the key's.
            ItemKind::RequiredPluginVersions => "required plugin versions",
            ItemKind::List => "list",
            ItemKind::Macro => "macro",
            ItemKind::Rule => "rule",
            ItemKind::Exception => "exception",
            ItemKind::Condition => "condition",
        }
    }
}

/// How safe it is to apply a fix without a human reading it (ruff's model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Applicability {
    /// Keeps the meaning the author evidently intended; `--fix` applies it.
    Safe,
    /// Changes what the rule matches; `--unsafe-fixes` applies it.
    Unsafe,
    /// Shown only.
    DisplayOnly,
}

impl Applicability {
    pub const ALL: [Applicability; 3] = [
        Applicability::Safe,
        Applicability::Unsafe,
        Applicability::DisplayOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
            Applicability::DisplayOnly => "display_only",
        }
    }
}

/// Replace the bytes of `span` with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, imperative ("Replace `alert` with `priority`").
    pub message: String,
    /// Non-overlapping edits, all in the same file.
    pub edits: Vec<Edit>,
    pub applicability: Applicability,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    /// Where the problem is. `None` only for problems of a whole load (none today).
    pub span: Option<Span>,
    pub item_kind: Option<ItemKind>,
    pub item_name: Option<String>,
    /// How to fix it, in words.
    pub help: Option<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        code: Code,
        message: impl Into<String>,
        span: Option<Span>,
    ) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            span,
            item_kind: None,
            item_name: None,
            help: None,
            fix: None,
        }
    }

    pub fn error(code: Code, message: impl Into<String>, span: Span) -> Self {
        Self::new(Severity::Error, code, message, Some(span))
    }

    pub fn warning(code: Code, message: impl Into<String>, span: Span) -> Self {
        Self::new(Severity::Warning, code, message, Some(span))
    }

    pub fn in_item(mut self, kind: ItemKind, name: impl Into<String>) -> Self {
        self.item_kind = Some(kind);
        self.item_name = Some(name.into());
        self
    }

    /// [`Self::in_item`] unless a more specific item (an exception of the rule) is already set.
    pub fn or_in_item(self, kind: ItemKind, name: impl Into<String>) -> Self {
        if self.item_kind.is_some() {
            self
        } else {
            self.in_item(kind, name)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falco_codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::FALCO {
            assert!(seen.insert(c.0), "duplicate code {c}");
        }
    }
}
