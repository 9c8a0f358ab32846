//! Falco's words for the diagnostics that other parts of the engine recognise: the lints that
//! explain a loader error, and `skip-if-unknown-filter`. Each message is built here and matched
//! here, so a recognised message cannot drift from the one the loader emits.

/// libs' filter compiler on a field it does not know (or an argument it does not take).
const NONEXISTENT_FIELD: &str = "filter_check called with nonexistent field";
/// Falco's YAML validation of a required key that is absent.
const MISSING_KEY: &str = "Item has no mapping for key";

pub(crate) fn nonexistent_field(field: &str) -> String {
    format!("{NONEXISTENT_FIELD} {field}")
}

pub(crate) fn missing_key(key: &str) -> String {
    format!("{MISSING_KEY} '{key}'")
}

pub(crate) fn unknown_key(key: &str) -> String {
    format!("Unknown key '{key}'. The key will be ignored.")
}

/// A loader diagnostic a lint may stand in for, by the message it was built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recognised {
    /// [`nonexistent_field`] for any field.
    NonexistentField,
    /// [`missing_key`] for this key, or for any key.
    MissingKey(Option<&'static str>),
    /// [`unknown_key`] for this key.
    UnknownKey(&'static str),
}

impl Recognised {
    pub(crate) fn matches(self, message: &str) -> bool {
        match self {
            Recognised::NonexistentField => message
                .strip_prefix(NONEXISTENT_FIELD)
                .is_some_and(|rest| rest.starts_with(' ')),
            Recognised::MissingKey(None) => message
                .strip_prefix(MISSING_KEY)
                .is_some_and(|rest| rest.starts_with(" '")),
            Recognised::MissingKey(Some(key)) => message == missing_key(key),
            Recognised::UnknownKey(key) => message == unknown_key(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_is_recognised_only_as_itself() {
        assert!(Recognised::NonexistentField.matches(&nonexistent_field("proc.nam")));
        assert!(Recognised::MissingKey(None).matches(&missing_key("output")));
        assert!(Recognised::MissingKey(Some("output")).matches(&missing_key("output")));
        assert!(!Recognised::MissingKey(Some("output")).matches(&missing_key("priority")));
        assert!(Recognised::UnknownKey("alert").matches(&unknown_key("alert")));
        assert!(!Recognised::UnknownKey("alert").matches(&missing_key("alert")));
        assert!(!Recognised::NonexistentField.matches("unknown event type x"));
    }
}
