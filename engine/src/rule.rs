//! Vocabulary shared by the loader, the evaluator and every consumer of rules.

use std::fmt;

/// Falco priorities, most severe first (falco `userspace/engine/falco_common.cpp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}

impl Priority {
    pub const ALL: [Priority; 8] = [
        Priority::Emergency,
        Priority::Alert,
        Priority::Critical,
        Priority::Error,
        Priority::Warning,
        Priority::Notice,
        Priority::Informational,
        Priority::Debug,
    ];

    /// Case-insensitive, `info` accepted for `Informational`, as Falco does.
    pub fn parse(s: &str) -> Option<Priority> {
        let s = s.to_ascii_lowercase();
        Some(match s.as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// The spelling Falco prints in alerts (`Warning`, `Informational`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Falco's `rule_matching`: stop at the first matching rule (Falco's default) or report all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Matching {
    First,
    #[default]
    All,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_parse_like_falco() {
        assert_eq!(Priority::parse("WARNING"), Some(Priority::Warning));
        assert_eq!(Priority::parse("info"), Some(Priority::Informational));
        assert_eq!(Priority::parse("Warn"), None);
        assert!(Priority::Critical < Priority::Warning);
    }
}
