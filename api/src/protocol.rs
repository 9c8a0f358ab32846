//! The version of the node–studio protocol: one number for every message a node and the studio
//! exchange, over REST and over NATS (heartbeats, a node's alerts, the fleet's live-set pointer,
//! preview requests and answers). A message says which version it speaks; one without it is
//! version 1, as nodes wrote them before the version was written down. A side accepts every
//! version from [`OLDEST`] to [`CURRENT`] and refuses another, naming both (decision 0028).
//!
//! The JSON key is `version` in heartbeats and node alerts, and `format` in the fleet's pointer
//! and preview messages, which carried it under that name first (and where `version` is the
//! live set's): one number, one type, two spellings kept for the nodes already running.

use serde::{Deserialize, Serialize};

/// The version this build speaks and writes.
pub const CURRENT: u32 = 1;
/// The oldest version this build still accepts.
pub const OLDEST: u32 = 1;

/// A message's protocol version (absent: 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Version(pub u32);

impl Version {
    pub const CURRENT: Version = Version(CURRENT);

    /// Whether this side speaks it: an error naming the versions otherwise.
    pub fn check(self) -> Result<(), Unsupported> {
        if (OLDEST..=CURRENT).contains(&self.0) {
            Ok(())
        } else {
            Err(Unsupported(self.0))
        }
    }
}

/// What nodes that predate the version field send.
impl Default for Version {
    fn default() -> Self {
        Version(1)
    }
}

/// A message in a version this side does not speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "protocol version {0} is not one this side speaks (versions {OLDEST} to {CURRENT}): {advice}",
    advice = if *.0 > CURRENT { "the sender is newer; upgrade this side" } else { "the sender is too old; upgrade it" }
)]
pub struct Unsupported(pub u32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_versions_spoken_pass_and_others_are_refused_naming_them() {
        for v in OLDEST..=CURRENT {
            assert_eq!(Version(v).check(), Ok(()));
        }
        let e = Version(CURRENT + 1).check().unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "protocol version {} is not one this side speaks (versions {OLDEST} to {CURRENT}): \
                 the sender is newer; upgrade this side",
                CURRENT + 1
            )
        );
        assert!(
            Version(0)
                .check()
                .unwrap_err()
                .to_string()
                .contains("too old")
        );
        assert_eq!(Version::default(), Version(1));
    }
}
