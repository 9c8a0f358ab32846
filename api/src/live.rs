//! The versioned live rule set: `/api/v1/live`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RulesFile {
    pub name: String,
    pub content: String,
}

/// The files of a live set (or of a draft over it) as the engine's loader input, in load order:
/// what the server evaluates and what the browser lints against.
pub fn source_files(files: &[RulesFile]) -> Vec<rulestudio_engine::loader::SourceFile> {
    files
        .iter()
        .map(|f| rulestudio_engine::loader::SourceFile {
            name: f.name.clone(),
            text: f.content.clone(),
        })
        .collect()
}

/// Falco's `rule_matching`: every matching rule alerts, or only the first in load order. It
/// travels with the live set, so every node that evaluates it judges alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum RuleMatching {
    #[default]
    All,
    First,
}

impl RuleMatching {
    pub const ALL: [RuleMatching; 2] = [RuleMatching::All, RuleMatching::First];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleMatching::All => "all",
            RuleMatching::First => "first",
        }
    }

    pub fn parse(s: &str) -> Option<RuleMatching> {
        RuleMatching::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl From<RuleMatching> for rulestudio_engine::rule::Matching {
    fn from(m: RuleMatching) -> Self {
        match m {
            RuleMatching::All => rulestudio_engine::rule::Matching::All,
            RuleMatching::First => rulestudio_engine::rule::Matching::First,
        }
    }
}

/// `GET /api/v1/live`: the current version, files in load order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LiveSet {
    pub version: i64,
    pub files: Vec<RulesFile>,
    /// How the set's rules are evaluated (absent from an older studio: `all`).
    #[serde(default)]
    pub rule_matching: RuleMatching,
    pub promoted_at: i64,
    pub promoted_by: String,
    /// The proposal that produced this version, if any.
    pub proposal: Option<i64>,
    /// Items of this version whose verdict the engine changed when it learnt to judge as
    /// libsinsp does (issue #21), found when the server started on a live set stored by an
    /// earlier engine. The items stay in the live set; a version promoted since has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub engine_changes: Vec<EngineChange>,
}

/// One item whose verdict changed (see [`LiveSet::engine_changes`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct EngineChange {
    /// `rule`, `macro`, `list`, or `file` for a problem outside any item.
    pub item_kind: String,
    pub item_name: String,
    /// `no_longer_loads` (a compile error now: the rule is not evaluated) or
    /// `may_match_differently` (it reads a field whose value changed).
    pub change: String,
    /// The error, or each changed field and what changed.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LiveVersion {
    pub version: i64,
    pub promoted_at: i64,
    pub promoted_by: String,
    pub proposal: Option<i64>,
    /// Why the version exists: `seed`, `rollback to N`, a proposal title…
    pub note: String,
    /// The reason given by whoever promoted or rolled back (empty when none was given).
    #[serde(default)]
    pub reason: String,
}

/// `GET /api/v1/live/history`: newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LiveHistory {
    pub versions: Vec<LiveVersion>,
}

/// `POST /api/v1/live/rollback` (admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RollbackRequest {
    pub version: i64,
    /// Why, for the audit trail.
    #[serde(default)]
    pub reason: String,
}

/// The version a promotion or rollback created.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LiveVersionCreated {
    pub version: i64,
}
