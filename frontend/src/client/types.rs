//! Request and response shapes of the REST API. Everything the server defines comes from
//! `rulestudio-api`; only the proposal shapes of #5 are declared here because `rulestudio-api`
//! has none yet (NOTE for the lead: move them to `api/src/proposals.rs` when the server gets
//! them, and this module shrinks to the re-exports).

pub use rulestudio_api::alerts::{Alert, AlertCounts, AlertPage};
pub use rulestudio_api::auth::{CreateToken, CreateUser, CreatedToken, LoginRequest, SessionInfo, TokenList, UserList};
pub use rulestudio_api::collector::CollectorList;
pub use rulestudio_api::error::ErrorBody;
pub use rulestudio_api::events::{
    Baseline, BaselineList, CreateBaseline, EventPage, Label, LabelList, LabelRequest, StoredEvent,
};
pub use rulestudio_api::live::{LiveHistory, LiveSet, LiveVersionCreated, RollbackRequest, RulesFile};
pub use rulestudio_api::preview::{
    Base, Bucket, PreviewRequest, PreviewResponse, RulePreview, Sample, SuggestExceptionRequest,
    SuggestExceptionResponse, Window,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct NewProposal {
    pub title: String,
    pub description: String,
    pub files: Vec<RulesFile>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Proposal {
    pub id: i64,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub author: String,
    pub status: String,
    #[serde(default)]
    pub revision: i64,
    #[serde(default)]
    pub base_version: i64,
    #[serde(default)]
    pub diff: Value,
    #[serde(default)]
    pub evidence: Value,
    #[serde(default)]
    pub reviews: Vec<Review>,
    #[serde(default)]
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProposalList {
    pub proposals: Vec<Proposal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub verdict: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing)]
    pub reviewer: String,
    #[serde(default, skip_serializing)]
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing)]
    pub author: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PromoteResponse {
    pub live_version: i64,
}

