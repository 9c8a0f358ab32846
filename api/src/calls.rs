//! Every REST endpoint as one typed call: its [`Route`], the type of its path parameters, of its
//! query, of its request body and of its response. This is the endpoint's one declaration:
//! the server's endpoint table takes its schemas from it (`doc::typed`, with the `openapi`
//! feature), and the clients — the frontend's `client::call`, the reqwest adapter
//! (`client::request`) the CLI, collector and node use — build the URL, the body and the
//! decoding of the answer from it, so no program writes a path or a query string.

use crate::alerts::{
    Alert, AlertCounts, AlertPage, AlertSummary, NodeAlertsResponse, TriageRequest,
};
// The items of media bodies, named only in the document.
use crate::audit::AuditLog;
use crate::auth::{
    CreateToken, CreateUser, CreatedToken, LoginRequest, SessionInfo, SetPassword, TokenList,
    UpdateUser, User, UserList,
};
use crate::collector::{CollectorList, Heartbeat, IngestResponse};
#[cfg(feature = "openapi")]
use crate::doc::{Media, Payload, SchemaFn, json};
use crate::events::{
    Baseline, BaselineList, CreateBaseline, EventMatches, EventPage, Label, LabelList,
    LabelRequest, StoredEvent,
};
use crate::live::{LiveHistory, LiveSet, LiveVersionCreated, RollbackRequest};
use crate::preview::{
    PreviewRequest, PreviewResponse, SuggestExceptionRequest, SuggestExceptionResponse,
};
use crate::proposals::{
    NewComment, NewProposal, NewReview, PromoteRequest, Promoted, Proposal, ProposalList,
    RefreshEvidence, ReviseProposal,
};
use crate::query::{
    AlertCountsQuery, AlertSummaryQuery, AlertsQuery, AuditQuery, EventStreamQuery, EventsQuery,
    ExportQuery, LabelsQuery, LiveQuery, ProposalsQuery,
};
use crate::routes::{self, Route};
#[cfg(feature = "openapi")]
use crate::{alerts::NodeAlert, events::TailedEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// One endpoint: how to call it and what it answers.
pub trait Call {
    const ROUTE: Route;
    /// Its path parameters, in the order the path names them: `()`, `i64`, `str` or
    /// `(String, String)`.
    type Params: Params + ?Sized;
    /// Its query: `()` or one of [`crate::query`]'s types.
    type Query: Query;
    /// What it takes in its body.
    type Request: Body;
    /// What it answers on success.
    type Response: Body;
}

/// The URL of `C` on the studio at `base` (`""` for the browser's own origin): its path with
/// `params` filled in and percent-encoded, then `query` as its query string.
pub fn url<C: Call>(base: &str, params: &C::Params, query: &C::Query) -> String {
    let segments = params.segments();
    let args: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut url = C::ROUTE.url(base, &args);
    for (i, (name, value)) in query.pairs().iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(name);
        url.push('=');
        url.push_str(&routes::encode(value));
    }
    url
}

/// Path parameters.
pub trait Params {
    /// Each parameter as written in the path, before percent-encoding.
    fn segments(&self) -> Vec<String>;
    #[cfg(feature = "openapi")]
    const SCHEMAS: &'static [SchemaFn];
}

impl Params for () {
    fn segments(&self) -> Vec<String> {
        Vec::new()
    }
    #[cfg(feature = "openapi")]
    const SCHEMAS: &'static [SchemaFn] = &[];
}

impl Params for i64 {
    fn segments(&self) -> Vec<String> {
        vec![self.to_string()]
    }
    #[cfg(feature = "openapi")]
    const SCHEMAS: &'static [SchemaFn] = &[json::<i64>];
}

impl Params for str {
    fn segments(&self) -> Vec<String> {
        vec![self.to_string()]
    }
    #[cfg(feature = "openapi")]
    const SCHEMAS: &'static [SchemaFn] = &[json::<String>];
}

impl Params for (String, String) {
    fn segments(&self) -> Vec<String> {
        vec![self.0.clone(), self.1.clone()]
    }
    #[cfg(feature = "openapi")]
    const SCHEMAS: &'static [SchemaFn] = &[json::<String>, json::<String>];
}

/// A query: written as the query string; `()` is none.
pub trait Query {
    /// Each field that has a value, by name, before percent-encoding.
    fn pairs(&self) -> Vec<(&'static str, String)>;
    #[cfg(feature = "openapi")]
    const FIELDS: Option<SchemaFn>;
}

impl Query for () {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    #[cfg(feature = "openapi")]
    const FIELDS: Option<SchemaFn> = None;
}

/// A request or response body: the value a client handles, and how it travels.
pub trait Body {
    type Value;
    /// Its media type and bytes, or `None` to send no body.
    fn encode(value: &Self::Value) -> Result<Option<(&'static str, Vec<u8>)>, BodyError>;
    /// The value of an answer's bytes.
    fn decode(bytes: &[u8]) -> Result<Self::Value, BodyError>;
    #[cfg(feature = "openapi")]
    const PAYLOAD: Payload;
}

/// A body that is not the JSON its call declares.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BodyError(String);

/// No body (a 204 answer, a request without one).
pub enum Empty {}

impl Body for Empty {
    type Value = ();
    fn encode(_: &()) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
        Ok(None)
    }
    fn decode(_: &[u8]) -> Result<(), BodyError> {
        Ok(())
    }
    #[cfg(feature = "openapi")]
    const PAYLOAD: Payload = Payload::Empty;
}

/// JSON of `T`.
pub struct Json<T>(PhantomData<T>);

#[cfg(not(feature = "openapi"))]
impl<T: Serialize + DeserializeOwned> Body for Json<T> {
    type Value = T;
    fn encode(value: &T) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
        encode_json(value).map(Some)
    }
    fn decode(bytes: &[u8]) -> Result<T, BodyError> {
        decode_json(bytes)
    }
}

#[cfg(feature = "openapi")]
impl<T: Serialize + DeserializeOwned + schemars::JsonSchema> Body for Json<T> {
    type Value = T;
    fn encode(value: &T) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
        encode_json(value).map(Some)
    }
    fn decode(bytes: &[u8]) -> Result<T, BodyError> {
        decode_json(bytes)
    }
    const PAYLOAD: Payload = Payload::Json(json::<T>);
}

/// JSON of `T`, or no body (`None`).
pub struct OptionalJson<T>(PhantomData<T>);

#[cfg(not(feature = "openapi"))]
impl<T: Serialize + DeserializeOwned> Body for OptionalJson<T> {
    type Value = Option<T>;
    fn encode(value: &Option<T>) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
        value.as_ref().map(encode_json).transpose()
    }
    fn decode(bytes: &[u8]) -> Result<Option<T>, BodyError> {
        optional(bytes)
    }
}

#[cfg(feature = "openapi")]
impl<T: Serialize + DeserializeOwned + schemars::JsonSchema> Body for OptionalJson<T> {
    type Value = Option<T>;
    fn encode(value: &Option<T>) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
        value.as_ref().map(encode_json).transpose()
    }
    fn decode(bytes: &[u8]) -> Result<Option<T>, BodyError> {
        optional(bytes)
    }
    const PAYLOAD: Payload = Payload::OptionalJson(json::<T>);
}

fn encode_json<T: Serialize>(value: &T) -> Result<(&'static str, Vec<u8>), BodyError> {
    serde_json::to_vec(value)
        .map(|bytes| ("application/json", bytes))
        .map_err(|e| BodyError(e.to_string()))
}

fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    serde_json::from_slice(bytes).map_err(|e| BodyError(e.to_string()))
}

fn optional<T: DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, BodyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    decode_json(bytes).map(Some)
}

/// Bodies that are not one JSON value (JSON lines, server-sent events, YAML, HTML, Parquet):
/// raw bytes, sent as the first of their media types.
macro_rules! media {
    ($($(#[$doc:meta])* $name:ident [$($kind:literal => $items:tt),+];)*) => {$(
        $(#[$doc])*
        pub enum $name {}

        impl Body for $name {
            type Value = Vec<u8>;
            fn encode(value: &Vec<u8>) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
                Ok(Some(([$($kind),+][0], value.clone())))
            }
            fn decode(bytes: &[u8]) -> Result<Vec<u8>, BodyError> {
                Ok(bytes.to_vec())
            }
            #[cfg(feature = "openapi")]
            const PAYLOAD: Payload = Payload::Media(&[$(Media {
                kind: $kind,
                items: media!(@items $items),
            }),+]);
        }
    )*};
    (@items ()) => { None };
    (@items $items:tt) => { Some(json::<$items>) };
}

/// A JSON object of an event, as ingest takes it.
#[cfg(feature = "openapi")]
type EventObject = serde_json::Map<String, serde_json::Value>;

media! {
    /// A node's alerts, one `NodeAlert` a line.
    NodeAlertLines ["application/x-ndjson" => NodeAlert];
    /// Events, one JSON object a line, or a JSON array of them.
    EventLines ["application/x-ndjson" => EventObject, "application/json" => EventObject];
    /// Server-sent events, one `alert` per new alert.
    AlertStream ["text/event-stream" => Alert];
    /// Server-sent events, one `event` per stored event.
    EventStream ["text/event-stream" => TailedEvent];
    /// Stored events as JSON lines, or a Parquet file.
    EventExport ["application/x-ndjson" => StoredEvent, "application/vnd.apache.parquet" => ()];
    /// A rules file.
    Yaml ["application/yaml" => ()];
    /// A web page.
    Html ["text/html" => ()];
}

/// Declares each call: `Name = ROUTE, params, query, request => response;`.
macro_rules! calls {
    ($($(#[$doc:meta])* $name:ident = $route:ident, $params:ty, $query:ty, $request:ty => $response:ty;)*) => {$(
        $(#[$doc])*
        pub enum $name {}

        impl Call for $name {
            const ROUTE: Route = routes::$route;
            type Params = $params;
            type Query = $query;
            type Request = $request;
            type Response = $response;
        }
    )*

    /// The route of every call, for the test that there is one call per route of
    /// [`routes::ALL`].
    #[cfg(test)]
    const ROUTES: &[Route] = &[$(routes::$route),*];
    };
}

calls! {
    /// Alerts, newest first, filtered.
    ListAlerts = GET_ALERTS, (), AlertsQuery, Empty => Json<AlertPage>;
    /// A node's alerts.
    IngestAlerts = POST_ALERTS, (), (), NodeAlertLines => Json<NodeAlertsResponse>;
    /// Alerts per rule since a time.
    CountAlerts = GET_ALERTS_COUNTS, (), AlertCountsQuery, Empty => Json<AlertCounts>;
    /// New alerts as they are stored.
    StreamAlerts = GET_ALERTS_STREAM, (), (), Empty => AlertStream;
    /// Alerts per bucket and group.
    SummariseAlerts = GET_ALERTS_SUMMARY, (), AlertSummaryQuery, Empty => Json<AlertSummary>;
    /// One alert.
    GetAlert = GET_ALERTS_ID, i64, (), Empty => Json<Alert>;
    /// Triage one alert.
    TriageAlert = POST_ALERTS_ID_TRIAGE, i64, (), Json<TriageRequest> => Json<Alert>;
    /// The audit log.
    ListAudit = GET_AUDIT, (), AuditQuery, Empty => Json<AuditLog>;
    /// Save a baseline window.
    AddBaseline = POST_BASELINES, (), (), Json<CreateBaseline> => Json<Baseline>;
    /// The baselines.
    ListBaselines = GET_BASELINES, (), (), Empty => Json<BaselineList>;
    /// Delete a baseline.
    DeleteBaseline = DELETE_BASELINES_ID, i64, (), Empty => Empty;
    /// A node's heartbeat.
    PostHeartbeat = POST_COLLECTORS_HEARTBEAT, (), (), Json<Heartbeat> => Empty;
    /// The nodes and their last heartbeats.
    ListCollectors = GET_COLLECTORS, (), (), Empty => Json<CollectorList>;
    /// This document.
    GetOpenApi = GET_OPENAPI_JSON, (), (), Empty => Json<serde_json::Value>;
    /// The API reference page.
    GetDocs = GET_DOCS, (), (), Empty => Html;
    /// Ingest events.
    IngestEvents = POST_EVENTS, (), (), EventLines => Json<IngestResponse>;
    /// Stored events, newest first.
    ListEvents = GET_EVENTS, (), EventsQuery, Empty => Json<EventPage>;
    /// Events as they are stored.
    StreamEvents = GET_EVENTS_STREAM, (), EventStreamQuery, Empty => EventStream;
    /// One stored event.
    GetEvent = GET_EVENTS_ID, str, (), Empty => Json<StoredEvent>;
    /// The live rules one stored event matches.
    GetEventMatches = GET_EVENTS_ID_MATCHES, str, (), Empty => Json<EventMatches>;
    /// Label one event.
    LabelEvent = POST_EVENTS_ID_LABEL, str, (), Json<LabelRequest> => Json<Label>;
    /// The labels of some events.
    ListLabels = GET_LABELS, (), LabelsQuery, Empty => Json<LabelList>;
    /// Export stored events.
    ExportEvents = GET_EVENTS_EXPORT, (), ExportQuery, Empty => EventExport;
    /// The live rule set.
    GetLive = GET_LIVE, (), LiveQuery, Empty => Json<LiveSet>;
    /// The live rule set as one rules file.
    GetLiveRulesYaml = GET_LIVE_RULES_YAML, (), (), Empty => Yaml;
    /// The live set's versions.
    GetLiveHistory = GET_LIVE_HISTORY, (), (), Empty => Json<LiveHistory>;
    /// Make an earlier version live again.
    RollbackLive = POST_LIVE_ROLLBACK, (), (), Json<RollbackRequest> => Json<LiveVersionCreated>;
    /// Run rules over stored events.
    RunPreview = POST_PREVIEW, (), (), Json<PreviewRequest> => Json<PreviewResponse>;
    /// An exception for a rule's benign matches.
    SuggestException = POST_PREVIEW_SUGGEST_EXCEPTION, (), (), Json<SuggestExceptionRequest> => Json<SuggestExceptionResponse>;
    /// Open a proposal.
    OpenProposal = POST_PROPOSALS, (), (), Json<NewProposal> => Json<Proposal>;
    /// The proposals.
    ListProposals = GET_PROPOSALS, (), ProposalsQuery, Empty => Json<ProposalList>;
    /// One proposal.
    GetProposal = GET_PROPOSALS_ID, i64, (), Empty => Json<Proposal>;
    /// Revise a proposal's files.
    UpdateProposal = PUT_PROPOSALS_ID, i64, (), Json<ReviseProposal> => Json<Proposal>;
    /// Comment on a proposal.
    CommentOnProposal = POST_PROPOSALS_ID_COMMENTS, i64, (), Json<NewComment> => Json<Proposal>;
    /// Review a proposal.
    ReviewProposal = POST_PROPOSALS_ID_REVIEWS, i64, (), Json<NewReview> => Json<Proposal>;
    /// Promote a proposal to the live set.
    PromoteProposal = POST_PROPOSALS_ID_PROMOTE, i64, (), OptionalJson<PromoteRequest> => Json<Promoted>;
    /// Close a proposal.
    CloseProposal = POST_PROPOSALS_ID_CLOSE, i64, (), Empty => Json<Proposal>;
    /// Rebase a proposal on the live set.
    RebaseProposal = POST_PROPOSALS_ID_REBASE, i64, (), Empty => Json<Proposal>;
    /// Run a proposal's evidence again.
    RefreshProposalEvidence = POST_PROPOSALS_ID_EVIDENCE, i64, (), OptionalJson<RefreshEvidence> => Json<Proposal>;
    /// Sign in.
    SignIn = POST_SESSION, (), (), Json<LoginRequest> => Json<SessionInfo>;
    /// Who is signed in.
    GetSession = GET_SESSION, (), (), Empty => Json<SessionInfo>;
    /// Sign out.
    SignOut = DELETE_SESSION, (), (), Empty => Empty;
    /// Add a user.
    AddUser = POST_USERS, (), (), Json<CreateUser> => Json<User>;
    /// The users.
    ListUsers = GET_USERS, (), (), Empty => Json<UserList>;
    /// Delete a user.
    DeleteUser = DELETE_USERS_USERNAME, str, (), Empty => Empty;
    /// Change a user's role.
    ChangeUser = PATCH_USERS_USERNAME, str, (), Json<UpdateUser> => Json<User>;
    /// Set a user's password.
    SetUserPassword = PUT_USERS_USERNAME_PASSWORD, str, (), Json<SetPassword> => Empty;
    /// Create an API token.
    AddToken = POST_USERS_USERNAME_TOKENS, str, (), Json<CreateToken> => Json<CreatedToken>;
    /// A user's API tokens.
    ListTokens = GET_USERS_USERNAME_TOKENS, str, (), Empty => Json<TokenList>;
    /// Revoke an API token.
    DeleteToken = DELETE_USERS_USERNAME_TOKENS_NAME, (String, String), (), Empty => Empty;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::PREFIX;

    #[test]
    fn a_call_s_url_fills_its_parameters_and_writes_its_query() {
        assert_eq!(
            url::<GetEvent>("", "n1:2:3", &()),
            format!("{PREFIX}/events/n1:2:3")
        );
        let query = AlertsQuery {
            rule: Some("Shell in a container".into()),
            limit: Some(100),
            ..AlertsQuery::default()
        };
        assert_eq!(
            url::<ListAlerts>("https://studio/", &(), &query),
            "https://studio/api/v1/alerts?rule=Shell%20in%20a%20container&limit=100"
        );
        assert_eq!(
            url::<ListAlerts>("", &(), &AlertsQuery::default()),
            format!("{PREFIX}/alerts")
        );
        assert_eq!(
            url::<DeleteToken>("", &("a b".into(), "ci/1".into()), &()),
            format!("{PREFIX}/users/a%20b/tokens/ci%2F1")
        );
        assert_eq!(
            url::<GetProposal>("", &7, &()),
            format!("{PREFIX}/proposals/7")
        );
    }

    #[test]
    fn every_route_has_exactly_one_call() {
        for route in routes::ALL {
            let calls = ROUTES.iter().filter(|r| *r == route).count();
            assert_eq!(
                calls, 1,
                "{} {} has {calls} calls",
                route.method, route.path
            );
        }
        assert_eq!(ROUTES.len(), routes::ALL.len());
    }

    #[test]
    fn bodies_travel_as_their_call_declares() {
        assert_eq!(<OptionalJson<PromoteRequest>>::encode(&None).unwrap(), None);
        assert_eq!(
            <OptionalJson<PromoteRequest>>::decode(b" \n").unwrap(),
            None
        );
        let (kind, bytes) = <Json<RollbackRequest>>::encode(&RollbackRequest {
            version: 3,
            reason: String::new(),
        })
        .unwrap()
        .unwrap();
        assert_eq!(
            (kind, bytes.as_slice()),
            ("application/json", &br#"{"version":3,"reason":""}"#[..])
        );
        assert_eq!(Empty::encode(&()).unwrap(), None);
        let e = <Json<Label>>::decode(b"{}").unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");
        assert_eq!(
            NodeAlertLines::encode(&b"{}\n".to_vec()).unwrap(),
            Some(("application/x-ndjson", b"{}\n".to_vec()))
        );
    }
}
