//! Collector health (`/api/v1/collectors`): heartbeats in, the admin page's table out.

use super::{Endpoint, calls, fails, typed};
use crate::auth::{Access, Admin, Ingester};
use crate::error::{ApiJson, AppError, Result};
use crate::state::AppState;
use crate::time::now_ns;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::on;
use rulestudio_api::collector::{CollectorList, CollectorStatus, Heartbeat};
use rulestudio_api::protocol::Version;

const ADMIN: Access = Admin::ACCESS;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::PostHeartbeat>(),
        handler: |m| on(m, heartbeat),
        access: Ingester::ACCESS,
        summary: "A collector's cumulative counters",
        ok: 204,
        errors: &[fails::BODY, fails::TOO_LARGE],
    },
    Endpoint {
        call: typed::<calls::ListCollectors>(),
        handler: |m| on(m, list),
        access: ADMIN,
        summary: "Collectors: last seen, events/s, drops",
        ok: 200,
        errors: &[],
    },
];

async fn heartbeat(
    State(state): State<AppState>,
    _: Ingester,
    ApiJson(hb): ApiJson<Heartbeat>,
) -> Result<StatusCode> {
    record(&state, &hb).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Keeps `hb` as its node's latest heartbeat, however it came (REST, or NATS in fleet mode).
pub(crate) async fn record(state: &AppState, hb: &Heartbeat) -> Result<()> {
    hb.version
        .unwrap_or_default()
        .check()
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    crate::limits::NODE.check(&hb.node)?;
    if let Some(v) = &hb.engine_version {
        crate::limits::ENGINE_VERSION.check(v)?;
    }
    if let Some(e) = &hb.compile_error {
        crate::limits::COMPILE_ERROR.check(e)?;
    }
    let as_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO collectors (node, last_seen, captured, filtered, lost_kernel, spooled, sent, dropped,
                                 live_version, engine_version, compile_error, alerts_spooled, alerts_sent, alerts_dropped,
                                 alerts_suppressed, bpf_lsm, records_truncated, records_malformed,
                                 threads_evicted, protocol_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (node) DO UPDATE SET prev_seen = last_seen, prev_sent = sent,
           last_seen = excluded.last_seen, captured = excluded.captured, filtered = excluded.filtered,
           lost_kernel = excluded.lost_kernel, spooled = excluded.spooled, sent = excluded.sent,
           dropped = excluded.dropped, live_version = excluded.live_version,
           engine_version = excluded.engine_version, compile_error = excluded.compile_error,
           alerts_spooled = excluded.alerts_spooled, alerts_sent = excluded.alerts_sent,
           alerts_dropped = excluded.alerts_dropped, alerts_suppressed = excluded.alerts_suppressed,
           bpf_lsm = excluded.bpf_lsm, records_truncated = excluded.records_truncated,
           records_malformed = excluded.records_malformed, threads_evicted = excluded.threads_evicted,
           protocol_version = excluded.protocol_version",
    )
    .bind(&hb.node)
    .bind(now_ns())
    .bind(as_i64(hb.captured))
    .bind(as_i64(hb.filtered))
    .bind(as_i64(hb.lost_kernel))
    .bind(as_i64(hb.spooled))
    .bind(as_i64(hb.sent))
    .bind(as_i64(hb.dropped))
    .bind(hb.live_version)
    .bind(&hb.engine_version)
    .bind(&hb.compile_error)
    .bind(as_i64(hb.alerts_spooled))
    .bind(as_i64(hb.alerts_sent))
    .bind(as_i64(hb.alerts_dropped))
    .bind(as_i64(hb.alerts_suppressed))
    .bind(hb.bpf_lsm)
    .bind(as_i64(hb.records_truncated))
    .bind(as_i64(hb.records_malformed))
    .bind(as_i64(hb.threads_evicted))
    .bind(i64::from(hb.version.unwrap_or_default().0))
    .execute(&state.db)
    .await?;
    state.metrics.collector(hb);
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    node: String,
    last_seen: i64,
    captured: i64,
    filtered: i64,
    lost_kernel: i64,
    spooled: i64,
    sent: i64,
    dropped: i64,
    prev_seen: Option<i64>,
    prev_sent: Option<i64>,
    live_version: Option<i64>,
    engine_version: Option<String>,
    compile_error: Option<String>,
    alerts_spooled: i64,
    alerts_sent: i64,
    alerts_dropped: i64,
    alerts_suppressed: i64,
    bpf_lsm: Option<bool>,
    records_truncated: i64,
    records_malformed: i64,
    threads_evicted: i64,
    protocol_version: i64,
}

async fn list(State(state): State<AppState>, _: Admin) -> Result<Json<CollectorList>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT node, last_seen, captured, filtered, lost_kernel, spooled, sent, dropped, prev_seen, prev_sent,
                live_version, engine_version, compile_error,
                alerts_spooled, alerts_sent, alerts_dropped, alerts_suppressed, bpf_lsm,
                records_truncated, records_malformed, threads_evicted, protocol_version
         FROM collectors ORDER BY node",
    )
    .fetch_all(&state.db)
    .await?;
    let u = |v: i64| v.max(0) as u64;
    let collectors = rows
        .into_iter()
        .map(|r| {
            let events_per_sec = match (r.prev_seen, r.prev_sent) {
                (Some(ps), Some(pv)) if r.last_seen > ps => {
                    Some((r.sent - pv) as f64 / ((r.last_seen - ps) as f64 / 1e9))
                }
                _ => None,
            };
            CollectorStatus {
                heartbeat: Heartbeat {
                    version: Some(Version(
                        u32::try_from(r.protocol_version).unwrap_or_default(),
                    )),
                    node: r.node,
                    captured: u(r.captured),
                    filtered: u(r.filtered),
                    lost_kernel: u(r.lost_kernel),
                    spooled: u(r.spooled),
                    sent: u(r.sent),
                    dropped: u(r.dropped),
                    live_version: r.live_version,
                    engine_version: r.engine_version,
                    compile_error: r.compile_error,
                    alerts_spooled: u(r.alerts_spooled),
                    alerts_sent: u(r.alerts_sent),
                    alerts_dropped: u(r.alerts_dropped),
                    alerts_suppressed: u(r.alerts_suppressed),
                    bpf_lsm: r.bpf_lsm,
                    records_truncated: u(r.records_truncated),
                    records_malformed: u(r.records_malformed),
                    threads_evicted: u(r.threads_evicted),
                },
                last_seen: r.last_seen,
                events_per_sec,
            }
        })
        .collect();
    Ok(Json(CollectorList { collectors }))
}
