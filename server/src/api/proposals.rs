//! Team review (`/api/v1/proposals`): propose changes to the live set, review them with their
//! diff and evidence, promote them. The rules live in [`crate::review`].

use super::{Endpoint, calls, fails, typed};
use crate::auth::{Access, Author, Reviewer, Viewer};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, Result};
use crate::review;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::on;
use rulestudio_api::proposals::{
    NewComment, NewProposal, NewReview, PromoteRequest, Promoted, Proposal, ProposalList,
    RefreshEvidence, ReviseProposal, Status,
};
use rulestudio_api::query::ProposalsQuery;

const VIEW: Access = Viewer::ACCESS;
const AUTHOR: Access = Author::ACCESS;
const REVIEWER: Access = Reviewer::ACCESS;
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;
const NO_PROPOSAL: (u16, &str) = (404, "No such proposal");
const NOT_ACTIVE: (u16, &str) = (
    409,
    "The proposal is promoted or closed, or changed while the request was handled",
);

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::OpenProposal>(),
        handler: |m| on(m, create),
        access: AUTHOR,
        summary: "Propose changes {title, description, files: [{name, content} | {name, delete: true}], tests?} → 201 proposal",
        ok: 201,
        errors: &[fails::BUDGET, fails::BODY, fails::TOO_LARGE],
    },
    Endpoint {
        call: typed::<calls::ListProposals>(),
        handler: |m| on(m, list),
        access: VIEW,
        summary: "Proposals, newest first (?status=open|approved|promoted|closed, ?limit=)",
        ok: 200,
        errors: &[fails::QUERY],
    },
    Endpoint {
        call: typed::<calls::GetProposal>(),
        handler: |m| on(m, show),
        access: VIEW,
        summary: "A proposal: diff against its base, evidence, reviews, comments, what blocks promotion",
        ok: 200,
        errors: &[fails::ID, NO_PROPOSAL],
    },
    Endpoint {
        call: typed::<calls::UpdateProposal>(),
        handler: |m| on(m, revise),
        access: AUTHOR,
        summary: "New revision {files, title?, description?, tests?} (the proposal's author); earlier approvals stop counting",
        ok: 200,
        errors: &[
            fails::BUDGET,
            fails::ID,
            fails::BODY,
            (403, "The caller did not write the proposal"),
            NO_PROPOSAL,
            NOT_ACTIVE,
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        call: typed::<calls::CommentOnProposal>(),
        handler: |m| on(m, comment),
        access: AUTHOR,
        summary: "Comment {body, file?, line?}, on a line of a changed file when given",
        ok: 201,
        errors: &[
            fails::ID,
            fails::BODY,
            (
                400,
                "`file` is not a file the proposal changes, or `line` is given without `file` or is 0",
            ),
            NO_PROPOSAL,
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        call: typed::<calls::ReviewProposal>(),
        handler: |m| on(m, review),
        access: REVIEWER,
        summary: "Review {verdict: approve|request_changes, body} (not the proposal's author)",
        ok: 201,
        errors: &[
            fails::ID,
            fails::BODY,
            (403, "The caller wrote the proposal"),
            NO_PROPOSAL,
            NOT_ACTIVE,
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        call: typed::<calls::PromoteProposal>(),
        handler: |m| on(m, promote),
        access: REVIEWER,
        summary: "Make the proposal the next live version {reason?} (kept in the audit trail) → {live_version}; 409 or 422 (lint errors) with reasons",
        ok: 200,
        errors: &[
            fails::ID,
            fails::BODY,
            NO_PROPOSAL,
            (
                409,
                "Something blocks the promotion: too few approvals, an open change request, failing rule tests, a live set that moved since the base, a proposal no longer open; `reasons` lists each",
            ),
            (
                422,
                "The resulting live set has lint errors; `reasons` lists each (with anything else that blocks)",
            ),
        ],
    },
    Endpoint {
        call: typed::<calls::CloseProposal>(),
        handler: |m| on(m, close),
        access: AUTHOR,
        summary: "Close without promoting (the proposal's author or a reviewer)",
        ok: 200,
        errors: &[
            fails::ID,
            (
                403,
                "The caller neither wrote the proposal nor is a reviewer",
            ),
            NO_PROPOSAL,
            NOT_ACTIVE,
        ],
    },
    Endpoint {
        call: typed::<calls::RebaseProposal>(),
        handler: |m| on(m, rebase),
        access: AUTHOR,
        summary: "Carry the changes onto the current live set; diff and evidence anew (the proposal's author or a reviewer)",
        ok: 200,
        errors: &[
            fails::BUDGET,
            fails::ID,
            (
                403,
                "The caller neither wrote the proposal nor is a reviewer",
            ),
            NO_PROPOSAL,
            NOT_ACTIVE,
            (
                409,
                "The changes conflict with what changed in the live set, or would change nothing on it; `reasons` lists each",
            ),
        ],
    },
    Endpoint {
        call: typed::<calls::RefreshProposalEvidence>(),
        handler: |m| on(m, refresh),
        access: AUTHOR,
        summary: "Compute the evidence again on the same base {window?}; another window is recorded in the audit trail",
        ok: 200,
        errors: &[
            fails::BUDGET,
            fails::ID,
            fails::BODY,
            NO_PROPOSAL,
            (
                409,
                "The proposal changed while the evidence was computed, or it is promoted or closed: its evidence is frozen",
            ),
            fails::TOO_LARGE,
        ],
    },
];

async fn create(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiJson(req): ApiJson<NewProposal>,
) -> Result<(StatusCode, Json<Proposal>)> {
    let p = review::create(&state, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

async fn list(
    State(state): State<AppState>,
    _: Viewer,
    ApiQuery(q): ApiQuery<ProposalsQuery>,
) -> Result<Json<ProposalList>> {
    let status = q
        .status
        .map(|s| {
            Status::parse(&s).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "`status`: `{s}` is not one of open, approved, promoted, closed"
                ))
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let proposals = review::list(&state, status, limit).await?;
    Ok(Json(ProposalList { proposals }))
}

async fn show(
    State(state): State<AppState>,
    _: Viewer,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Proposal>> {
    Ok(Json(review::get(&state, id).await?))
}

async fn revise(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReviseProposal>,
) -> Result<Json<Proposal>> {
    Ok(Json(review::revise(&state, &caller, id, req).await?))
}

async fn comment(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NewComment>,
) -> Result<(StatusCode, Json<Proposal>)> {
    let p = review::comment(&state, &caller, id, req).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

async fn review(
    State(state): State<AppState>,
    Reviewer(caller): Reviewer,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NewReview>,
) -> Result<(StatusCode, Json<Proposal>)> {
    let p = review::review(&state, &caller, id, req).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

async fn promote(
    State(state): State<AppState>,
    Reviewer(caller): Reviewer,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> Result<Json<Promoted>> {
    let req: PromoteRequest = optional_body(&body)?.unwrap_or_default();
    let live_version = review::promote(&state, &caller, id, &req.reason).await?;
    Ok(Json(Promoted { live_version }))
}

async fn close(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Proposal>> {
    Ok(Json(review::close(&state, &caller, id).await?))
}

async fn rebase(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Proposal>> {
    Ok(Json(review::rebase(&state, &caller, id).await?))
}

async fn refresh(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> Result<Json<Proposal>> {
    // The body is optional: none keeps the window the evidence was computed on.
    let window = optional_body::<RefreshEvidence>(&body)?.and_then(|r| r.window);
    Ok(Json(
        review::refresh_evidence(&state, &caller, id, window).await?,
    ))
}

/// A JSON body that may be left out (`None`).
fn optional_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<Option<T>> {
    if body.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| AppError::BadRequest(format!("invalid body: {e}")))
}
