//! `POST /api/v1/preview`: what a draft would match on stored events; and
//! `POST /api/v1/preview/suggest-exception`.

use super::{Endpoint, calls, fails, typed};
use crate::auth::{Access, Viewer};
use crate::error::{ApiJson, AppError, Result};
use crate::exception;
use crate::preview::{self, Deadline, Draft, Options, Truth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::routing::on;
use rulestudio_api::diagnostic::Severity;
use rulestudio_api::preview::{
    PreviewRequest, PreviewResponse, SuggestExceptionRequest, SuggestExceptionResponse,
};
use std::collections::HashSet;
use std::time::Instant;

const VIEW: Access = Viewer::ACCESS;
/// Samples of the matches a suggested exception removes, at most.
const REMOVED_SAMPLES: usize = 20;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::RunPreview>(),
        handler: |m| on(m, run),
        access: VIEW,
        summary: "Run draft rules over stored events: matches, false positives, changes versus live (with samples of what is added and removed), shadowing, samples, a histogram over the window, and the matches grouped by the `group_by` fields (the 50 largest groups, the rest as `groups_other`); in fleet mode (--nats) over every node's own store, merged, with the nodes that answered, are missing or offline",
        ok: 200,
        errors: &[fails::BODY, fails::TOO_LARGE, fails::BUDGET],
    },
    Endpoint {
        call: typed::<calls::SuggestException>(),
        handler: |m| on(m, suggest),
        access: VIEW,
        summary: "Suggest an exceptions: entry that removes a rule's benign matches, with the rules text it makes and the counts before and after on the same window, samples of the matches it removes (`removed_samples`), and `candidates`: the fields of the benign matches, each value with its generalisation (a directory for `fd.name` and `proc.exepath`, the image for `container.id`); with `picks` (fields, exact or generalised, and values among the candidates) the exception is exactly those, one value row per combination the benign matches have",
        ok: 200,
        errors: &[
            fails::BODY,
            (
                400,
                "A pick names a field not offered, a field twice, a generalisation the field does not have, no values, more than 50, a value no benign match has, or a value to generalise whose benign matches lack its generalisation (a container without an image) (`message` names the pick)",
            ),
            fails::TOO_LARGE,
            fails::BUDGET,
            (
                422,
                "No exception separates the rule's benign matches from the others, or no benign match has the picked values together",
            ),
        ],
    },
];

/// Loads the draft on a blocking thread, which stops at `deadline` even when the request's
/// future is gone.
pub(crate) async fn load(
    state: &AppState,
    rules: String,
    base: rulestudio_api::preview::Base,
    deadline: &Deadline,
) -> Result<Draft> {
    let live = state.live.current();
    let deadline = deadline.clone();
    tokio::task::spawn_blocking(move || preview::load_draft(&rules, base, &live, &deadline))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
}

async fn run(
    State(state): State<AppState>,
    _: Viewer,
    ApiJson(req): ApiJson<PreviewRequest>,
) -> Result<Json<PreviewResponse>> {
    Deadline::run(&state, |deadline| preview_within(&state, req, deadline)).await
}

async fn preview_within(
    state: &AppState,
    req: PreviewRequest,
    deadline: Deadline,
) -> Result<Json<PreviewResponse>> {
    if let Some(client) = state.fleet.client() {
        return crate::fleet::preview::run(state, &client, req, &deadline)
            .await
            .map(Json);
    }
    let started = Instant::now();
    let range = preview::resolve_window(state, req.window.as_ref()).await?;
    let draft = load(state, req.rules, req.base, &deadline).await?;
    let live = state.live.current();
    let opts = Options {
        samples: req.samples.unwrap_or(preview::DEFAULT_SAMPLES),
        group_by: &req.group_by,
    };
    let outcome = preview::run(state, &draft, &live, range, opts, &deadline).await?;
    let took = started.elapsed();
    state.metrics.preview_took(took);
    Ok(Json(PreviewResponse {
        scanned: outcome.scanned,
        took_ms: took.as_millis() as u64,
        diagnostics: draft.diagnostics,
        rules: outcome.rules,
        nodes: None,
    }))
}

async fn suggest(
    State(state): State<AppState>,
    _: Viewer,
    ApiJson(req): ApiJson<SuggestExceptionRequest>,
) -> Result<Json<SuggestExceptionResponse>> {
    Deadline::run(&state, |deadline| suggest_within(&state, req, deadline)).await
}

async fn suggest_within(
    state: &AppState,
    req: SuggestExceptionRequest,
    deadline: Deadline,
) -> Result<Json<SuggestExceptionResponse>> {
    let range = preview::resolve_window(state, req.window.as_ref()).await?;
    let draft = load(state, req.rules.clone(), req.base, &deadline).await?;
    let truth = Truth::load(state, range).await?;
    let rule = find_rule(&draft, &req.rule)?;
    let (before, verdicts) =
        preview::classified_matches(state, rule, range, &truth, &deadline).await?;
    let matches = exception::match_fields(&state.store, &verdicts)?;
    let candidates = exception::candidates(&matches);
    let (entry, picks) = if req.picks.is_empty() {
        let entry = preview::scan::cpu(|| exception::suggest(&matches, &deadline))?;
        let picks = exception::picks_of(&entry, &candidates);
        (entry, picks)
    } else {
        (exception::from_picks(&matches, &req.picks)?, req.picks)
    };
    let mut rules = exception::apply(&req.rules, &req.rule, &entry);
    let mut after_draft = load(state, rules.clone(), req.base, &deadline).await?;
    let fails = |d: &Draft| d.diagnostics.iter().any(|d| d.severity == Severity::Error);
    if fails(&after_draft) {
        // Written into a rule item this text reading misjudged: an override always loads.
        rules = exception::append_override(&req.rules, &req.rule, &entry);
        after_draft = load(state, rules.clone(), req.base, &deadline).await?;
    }
    if let Some(d) = after_draft
        .diagnostics
        .iter()
        .find(|d| d.severity == Severity::Error)
    {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the suggested exception does not load: {}",
            d.message
        )));
    }
    let after_rule = find_rule(&after_draft, &req.rule)?;
    let (after, kept) =
        preview::classified_matches(state, after_rule, range, &truth, &deadline).await?;
    let kept: HashSet<i64> = kept.into_iter().map(|(id, _)| id).collect();
    let mut removed: Vec<i64> = verdicts
        .iter()
        .map(|&(id, _)| id)
        .filter(|id| !kept.contains(id))
        .collect();
    removed.sort_unstable();
    let removed_samples = preview::samples_of(&state.store, rule, &removed, REMOVED_SAMPLES)?;
    Ok(Json(SuggestExceptionResponse {
        yaml: exception::to_yaml(&entry, ""),
        exception: entry,
        rules,
        before,
        after,
        candidates,
        picks,
        removed_samples,
    }))
}

fn find_rule<'a>(
    draft: &'a Draft,
    name: &str,
) -> Result<&'a rulestudio_engine::eval::CompiledRule> {
    draft
        .loaded
        .ruleset
        .rules()
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "rule `{name}` is not an enabled rule that compiles in the given rules"
            ))
        })
}
