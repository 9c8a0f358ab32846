//! Request and response shapes of the REST API: all of them come from `rulestudio-api`, the one
//! definition the server uses too.

pub use rulestudio_api::alerts::{
    Alert, AlertCounts, AlertPage, AlertSummary, GroupBy, Priority, TriageRequest, TriageState,
};
pub use rulestudio_api::audit::AuditLog;
pub use rulestudio_api::auth::{
    CreateToken, CreateUser, CreatedToken, LoginRequest, Role, SessionInfo, SetPassword, TokenList,
    UpdateUser, UserList,
};
pub use rulestudio_api::collector::CollectorList;
pub use rulestudio_api::error::ErrorBody;
pub use rulestudio_api::events::{
    Baseline, BaselineList, CreateBaseline, EventMatches, EventPage, Label, LabelList,
    LabelRequest, RuleMatch, StoredEvent, TailedEvent,
};
pub use rulestudio_api::live::{
    LiveHistory, LiveSet, LiveVersionCreated, RollbackRequest, RulesFile,
};
pub use rulestudio_api::preview::{
    Base, Bucket, ExceptionCandidate, ExceptionPick, PreviewRequest, PreviewResponse, RulePreview,
    Sample, SuggestExceptionRequest, SuggestExceptionResponse, Window,
};
pub use rulestudio_api::proposals::{
    Comment, Evidence, FileChange, FileDiff, FileStatus, NewComment, NewProposal, NewReview,
    PromoteRequest, Promoted, Proposal, ProposalList, RefreshEvidence, RemovedRule, Status,
    Verdict,
};
