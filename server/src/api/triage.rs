//! One alert, its triage (`/api/v1/alerts/{id}`, `/api/v1/alerts/{id}/triage`) and the alerts
//! of a window counted over time and per group (`/api/v1/alerts/summary`).
//!
//! Triage is a row of `alert_triage` (none: `new`). `false_positive` is also a label: the
//! alert's event is labelled benign for the alert's rule, once, in the transaction that sets
//! the state, and the label this wrote goes again when the alert leaves `false_positive`.

use super::{Endpoint, calls, fails, typed};
use crate::audit::{self, Entry};
use crate::auth::{Author, Viewer};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, Result};
use crate::limits;
use crate::state::AppState;
use crate::time::{self, now_ns};
use axum::Json;
use axum::extract::State;
use axum::routing::on;
use rulestudio_api::alerts::{
    Alert, AlertSummary, GroupBy, GroupCount, SummaryBucket, Triage, TriageRequest, TriageState,
};
use rulestudio_api::query::AlertSummaryQuery;
use serde_json::json;
use sqlx::AssertSqlSafe;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::SummariseAlerts>(),
        handler: |m| on(m, summary),
        access: Viewer::ACCESS,
        summary: "Alerts in [since, until) (default the last 24 hours) counted per time bucket (`bucket`, such as 5m; default: at most 60 buckets) and per group (`group_by`: rule, priority, node or state; the 100 largest, the rest as `other`)",
        ok: 200,
        errors: &[fails::QUERY],
    },
    Endpoint {
        call: typed::<calls::GetAlert>(),
        handler: |m| on(m, one),
        access: Viewer::ACCESS,
        summary: "One alert with its `triage`",
        ok: 200,
        errors: &[fails::ID, (404, "No such alert (or retention removed it)")],
    },
    Endpoint {
        call: typed::<calls::TriageAlert>(),
        handler: |m| on(m, set_triage),
        access: Author::ACCESS,
        summary: "Set an alert's triage {state: new|acknowledged|false_positive|resolved, note?} → the alert; `false_positive` labels its event benign for its rule (once), leaving it removes that label; recorded in the audit trail",
        ok: 200,
        errors: &[
            fails::ID,
            fails::BODY,
            (404, "No such alert (or retention removed it)"),
            fails::TOO_LARGE,
        ],
    },
];

/// An alert and its triage, as every alert read selects them.
pub(super) const FROM: &str = "alerts a LEFT JOIN alert_triage t ON t.alert_id = a.id";
pub(super) const COLUMNS: &str = "a.id, a.body, t.state, t.by, t.at, t.note";
pub(super) type Row = (
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// The alert of a row selected with [`COLUMNS`].
pub(super) fn alert((id, body, state, by, at, note): Row) -> Result<Alert> {
    let mut body: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| anyhow::anyhow!("stored alert {id}: {e}"))?;
    // Alerts stored before the event store name their event by its old row number, which no
    // event id resolves any more: answered as that number's text.
    if let Some(n) = body.get("event_id").and_then(|v| v.as_i64()) {
        body["event_id"] = n.to_string().into();
    }
    let mut alert: Alert =
        serde_json::from_value(body).map_err(|e| anyhow::anyhow!("stored alert {id}: {e}"))?;
    alert.id = id;
    let state = match state {
        None => TriageState::New,
        // The table's CHECK admits only the four spellings.
        Some(s) => TriageState::parse(&s)
            .ok_or_else(|| anyhow::anyhow!("alert {id} has unknown triage state {s}"))?,
    };
    alert.triage = Triage {
        state,
        by,
        at,
        note,
    };
    Ok(alert)
}

/// `?state=`.
pub(super) fn parse_state(s: &str) -> Result<TriageState> {
    TriageState::parse(s).ok_or_else(|| {
        AppError::BadRequest(format!(
            "state `{s}` is not one of new, acknowledged, false_positive, resolved"
        ))
    })
}

fn no_alert(id: i64) -> AppError {
    AppError::NotFound(format!(
        "alert {id} does not exist (or retention removed it)"
    ))
}

async fn read(db: impl sqlx::SqliteExecutor<'_>, id: i64) -> Result<Alert> {
    let row: Row = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE a.id = ?"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| no_alert(id))?;
    alert(row)
}

async fn one(
    State(state): State<AppState>,
    _: Viewer,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Alert>> {
    Ok(Json(read(&state.db, id).await?))
}

/// Benign for the alert's rule on the alert's event, written unless the event already has that
/// label for that rule (a malicious one is overruled: the team says this match is a false
/// positive).
const LABEL_BENIGN: &str =
    "INSERT INTO event_labels (event_id, rule, label, note, author, created_at)
     VALUES (?1, ?2, 'benign', ?3, ?4, ?5)
     ON CONFLICT (event_id, rule) DO UPDATE SET label = 'benign', note = excluded.note,
         author = excluded.author, created_at = excluded.created_at
     WHERE label <> 'benign'";
/// The label [`LABEL_BENIGN`] wrote, if no one has changed it since.
const UNLABEL: &str =
    "DELETE FROM event_labels WHERE label = 'benign' AND event_id = ? AND rule = ?";
/// The copy of a labelled event, so that the label outlives the event's retention.
const KEEP_COPY: &str =
    "INSERT INTO labelled_events (event_id, time, fields) VALUES (?, ?, ?) ON CONFLICT DO NOTHING";
/// The copy of an event no label names any more.
const DROP_COPY: &str = "DELETE FROM labelled_events WHERE event_id = ?1
     AND NOT EXISTS (SELECT 1 FROM event_labels WHERE event_id = ?1)";

async fn set_triage(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<TriageRequest>,
) -> Result<Json<Alert>> {
    if let Some(note) = &req.note {
        limits::LABEL_NOTE.check(note)?;
    }
    let false_positive = req.state == TriageState::FalsePositive;
    // The event a false positive labels, read from the store before the transaction; one that
    // retention already removed is labelled by its id alone.
    let event = if false_positive {
        let event_id = read(&state.db, id).await?.event_id;
        super::events::find(&state, &event_id).await.ok()
    } else {
        None
    };
    // IMMEDIATE: the state read below is the one the writes build on.
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let before = read(&mut *tx, id).await?;
    let was_labelled: bool =
        sqlx::query_scalar("SELECT labelled FROM alert_triage WHERE alert_id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(false);
    let now = now_ns();
    // What happened to the label: written, removed, or nothing.
    let mut label = None;
    let labelled = if false_positive && !was_labelled {
        let note = match &req.note {
            Some(n) => format!("false positive (alert {id}): {n}"),
            None => format!("false positive (alert {id})"),
        };
        let written = sqlx::query(LABEL_BENIGN)
            .bind(&before.event_id)
            .bind(&before.rule)
            .bind(note)
            .bind(&caller.username)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if let Some(event) = event.filter(|_| written) {
            let fields = serde_json::to_string(&event.fields).map_err(anyhow::Error::from)?;
            sqlx::query(KEEP_COPY)
                .bind(&event.id)
                .bind(event.time)
                .bind(fields)
                .execute(&mut *tx)
                .await?;
        }
        label = written.then_some("benign");
        written
    } else if !false_positive && was_labelled {
        sqlx::query(UNLABEL)
            .bind(&before.event_id)
            .bind(&before.rule)
            .execute(&mut *tx)
            .await?;
        sqlx::query(DROP_COPY)
            .bind(&before.event_id)
            .execute(&mut *tx)
            .await?;
        label = Some("removed");
        false
    } else {
        was_labelled
    };
    sqlx::query(
        "INSERT INTO alert_triage (alert_id, state, note, by, at, labelled) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (alert_id) DO UPDATE SET state = excluded.state, note = excluded.note,
             by = excluded.by, at = excluded.at, labelled = excluded.labelled",
    )
    .bind(id)
    .bind(req.state.as_str())
    .bind(&req.note)
    .bind(&caller.username)
    .bind(now)
    .bind(labelled)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        Entry {
            actor: &caller.username,
            action: "alert.triage",
            target: format!("alert:{id}"),
            details: json!({
                "rule": before.rule,
                "from": before.triage.state.as_str(),
                "to": req.state.as_str(),
                "note": req.note,
                "label": label,
            }),
        },
    )
    .await?;
    let after = read(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(Json(after))
}

/// Buckets per summary at most, and the default number.
const MAX_BUCKETS: i64 = 1_000;
const DEFAULT_BUCKETS: i64 = 60;
/// Groups listed at most; the rest are counted as `other`.
pub const MAX_GROUPS: i64 = 100;
/// The default window: the last 24 hours.
const DEFAULT_SINCE: &str = "-24h";
/// Default bucket widths, in seconds: the smallest that gives at most [`DEFAULT_BUCKETS`].
const STEPS: [i64; 17] = [
    1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800, 2592000,
];
const SEC: i64 = 1_000_000_000;

/// Counts per bucket of `[?1, ?2)`, bucket width `?3`.
pub const BUCKETS_SQL: &str = "SELECT (time - ?1) / ?3, COUNT(*) FROM alerts
     WHERE time >= ?1 AND time < ?2 GROUP BY 1";

/// Counts per group of `[?1, ?2)`, the `?3` largest.
pub fn groups_sql(by: GroupBy) -> String {
    let (key, from) = match by {
        GroupBy::Rule => ("rule", "alerts"),
        GroupBy::Priority => ("priority", "alerts"),
        // The window's rows by `alerts_time`, each body read: no index holds the hostname.
        GroupBy::Node => ("json_extract(body, '$.hostname')", "alerts"),
        GroupBy::State => (
            "COALESCE(t.state, 'new')",
            "alerts LEFT JOIN alert_triage t ON t.alert_id = alerts.id",
        ),
    };
    format!(
        "SELECT {key} AS k, COUNT(*) AS n FROM {from} WHERE time >= ?1 AND time < ?2
         GROUP BY k ORDER BY n DESC, k LIMIT ?3"
    )
}

async fn summary(
    State(state): State<AppState>,
    _: Viewer,
    ApiQuery(q): ApiQuery<AlertSummaryQuery>,
) -> Result<Json<AlertSummary>> {
    let since = time::parse_query("since", q.since.as_deref().unwrap_or(DEFAULT_SINCE))?;
    let until = time::parse_query_opt("until", q.until.as_deref())?.unwrap_or_else(now_ns);
    if until <= since {
        return Err(AppError::BadRequest(format!(
            "`until` ({}) is not after `since` ({})",
            time::rfc3339(until),
            time::rfc3339(since)
        )));
    }
    let span = until.checked_sub(since).ok_or_else(|| {
        AppError::BadRequest("the window from `since` to `until` is longer than 292 years".into())
    })?;
    let bucket = match q.bucket.as_deref() {
        None => default_bucket(span),
        Some(b) => {
            let d = humantime::parse_duration(b)
                .ok()
                .and_then(|d| i64::try_from(d.as_nanos()).ok())
                .filter(|&ns| ns > 0)
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "`bucket`: `{b}` is not a duration such as 30s, 5m or 1h"
                    ))
                })?;
            if count_buckets(span, d) > MAX_BUCKETS {
                return Err(AppError::BadRequest(format!(
                    "`bucket`: {b} makes {} buckets of the window; at most {MAX_BUCKETS}",
                    count_buckets(span, d)
                )));
            }
            d
        }
    };
    let group_by = match q.group_by.as_deref() {
        None => GroupBy::default(),
        Some(g) => GroupBy::parse(g).ok_or_else(|| {
            AppError::BadRequest(format!(
                "`group_by`: `{g}` is not one of rule, priority, node, state"
            ))
        })?,
    };
    let counted: Vec<(i64, i64)> = sqlx::query_as(BUCKETS_SQL)
        .bind(since)
        .bind(until)
        .bind(bucket)
        .fetch_all(&state.db)
        .await?;
    let mut buckets: Vec<SummaryBucket> = (0..count_buckets(span, bucket))
        .map(|i| SummaryBucket {
            start: since + i * bucket,
            count: 0,
        })
        .collect();
    let mut total = 0;
    for (i, n) in counted {
        // Every alert counted is in the window, so in a bucket.
        if let Some(b) = usize::try_from(i).ok().and_then(|i| buckets.get_mut(i)) {
            b.count = n as u64;
        }
        total += n as u64;
    }
    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(AssertSqlSafe(groups_sql(group_by)))
        .bind(since)
        .bind(until)
        .bind(MAX_GROUPS)
        .fetch_all(&state.db)
        .await?;
    let mut groups: Vec<GroupCount> = Vec::with_capacity(rows.len());
    for (key, n) in rows {
        // An alert without a hostname has none (NULL) or an empty one: both are "".
        let key = key.unwrap_or_default();
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.count += n as u64,
            None => groups.push(GroupCount {
                key,
                count: n as u64,
            }),
        }
    }
    // Merging may have grown a group past others.
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    let listed: u64 = groups.iter().map(|g| g.count).sum();
    Ok(Json(AlertSummary {
        since,
        until,
        bucket,
        buckets,
        group_by,
        groups,
        other: total.saturating_sub(listed),
        total,
    }))
}

/// Buckets of width `bucket` (> 0) that cover `span` (> 0).
fn count_buckets(span: i64, bucket: i64) -> i64 {
    span / bucket + i64::from(span % bucket != 0)
}

/// The smallest step that cuts `span` into at most [`DEFAULT_BUCKETS`].
fn default_bucket(span: i64) -> i64 {
    STEPS
        .iter()
        .map(|s| s * SEC)
        .find(|&b| count_buckets(span, b) <= DEFAULT_BUCKETS)
        .unwrap_or_else(|| count_buckets(span, DEFAULT_BUCKETS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_buckets_are_round_steps_and_at_most_sixty() {
        assert_eq!(default_bucket(3600 * SEC), 60 * SEC);
        assert_eq!(default_bucket(24 * 3600 * SEC), 1800 * SEC);
        assert_eq!(default_bucket(SEC / 2), SEC);
        let years = 10 * 365 * 86400 * SEC;
        assert!(count_buckets(years, default_bucket(years)) <= DEFAULT_BUCKETS);
    }
}
