//! Alerts the nodes raised (`POST /api/v1/alerts`, decision 0020): each stored once under the
//! id its node gave it, and linked to its stored event when that event's batch is stored.
//!
//! A node sends an alert with its event batch and place (`sent_in`). If the studio stored that
//! batch already, the alert gets the event's id at once; otherwise it waits (`awaiting_*`
//! columns, `event_id` -1) and [`link_awaiting`] links it in the transaction that stores the
//! batch. Both run in write transactions, so neither can miss the other. An alert whose batch
//! never comes (the node's event spool dropped it) still has its whole event in its body.
//!
//! A fleet node (decision 0025) keeps its events: its alerts come over NATS
//! ([`crate::fleet::alerts`]) without `sent_in`, naming their event by its id in the node's
//! own store (`NODE:INCARNATION:SEQ`, of that node), which is kept.

use crate::error::{AppError, Result};
use rulestudio_api::alerts::{Alert, NodeAlert};
use sqlx::{Sqlite, Transaction};

/// The longest node alert id (`NODE:INCARNATION:N`: a node name, two 64-bit numbers).
const MAX_ID: usize = crate::limits::NODE.max_bytes + 2 * 21;

/// A node alert as received, with its time read.
#[derive(Debug)]
pub struct Received {
    pub alert: NodeAlert,
    /// Nanoseconds since the Unix epoch, from the alert's `time`.
    pub time: i64,
}

/// Reads an NDJSON body of node alerts; an error names the line (1-based) and the problem.
pub fn parse(body: &str) -> Result<Vec<Received>> {
    let mut out = Vec::new();
    for (i, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fail = |p: String| AppError::BadRequest(format!("line {}: {p}", i + 1));
        let alert: NodeAlert =
            serde_json::from_str(line).map_err(|e| fail(format!("not a node alert: {e}")))?;
        alert.version.check().map_err(|e| fail(e.to_string()))?;
        crate::limits::NODE
            .check(&alert.node)
            .map_err(|e| fail(e.to_string()))?;
        crate::limits::LABEL_RULE
            .check(&alert.alert.rule)
            .map_err(|e| fail(e.to_string()))?;
        if !id_of_node(&alert.id, &alert.node) {
            return Err(fail(format!(
                "id `{}` is not `{}:INCARNATION:N` (at most {MAX_ID} bytes)",
                alert.id.chars().take(MAX_ID).collect::<String>(),
                alert.node
            )));
        }
        let time = crate::time::parse(
            "time",
            &rulestudio_api::time::Timestamp::Text(alert.alert.time.clone()),
        )
        .map_err(|e| fail(e.to_string()))?;
        out.push(Received { alert, time });
    }
    Ok(out)
}

/// Whether `id` is `NODE:INCARNATION:N` with this node (read from the right: names may hold
/// `:`), so no node can take another's ids.
fn id_of_node(id: &str, node: &str) -> bool {
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.len() < 21;
    let mut parts = id.rsplitn(3, ':');
    let (Some(n), Some(incarnation), Some(named)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    id.len() <= MAX_ID && number(n) && number(incarnation) && named == node
}

/// What storing a request's alerts did.
pub struct Stored {
    /// The alerts inserted now, with their studio ids: the only ones to publish.
    pub inserted: Vec<Alert>,
    pub duplicate: u64,
}

/// Stores each alert under its node's id, once: an id stored before is a duplicate, left as
/// it is. Returns after the commit.
pub async fn store(state: &crate::state::AppState, alerts: Vec<Received>) -> Result<Stored> {
    // IMMEDIATE: the batch lookups below see every batch committed before this one writes.
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let mut inserted = Vec::new();
    let mut duplicate = 0;
    for Received { alert, time } in alerts {
        let NodeAlert {
            version: _,
            id: node_alert_id,
            node,
            sent_in,
            suppressed,
            mut alert,
        } = alert;
        alert.node_alert_id = Some(node_alert_id.clone());
        alert.triage = Default::default();
        let stored_seq = match sent_in {
            Some(place) => batch_event(&mut tx, &node, place.batch, place.index).await?,
            None => None,
        };
        // A fleet node keeps its events and names the event by its id in the node's store.
        let on_node = (sent_in.is_none() && id_of_node(&alert.event_id, &node))
            .then(|| std::mem::take(&mut alert.event_id));
        alert.event_id = stored_seq
            .map(|s| state.store.id(s).to_string())
            .or(on_node)
            .unwrap_or_default();
        let awaiting = sent_in.filter(|_| stored_seq.is_none());
        let body = serde_json::to_string(&alert).map_err(anyhow::Error::from)?;
        let row: Option<i64> = sqlx::query_scalar(
            "INSERT INTO alerts (event_id, time, rule, priority, live_version, body, node_alert_id,
                                 awaiting_node, awaiting_batch, awaiting_index)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(stored_seq.map_or(-1, |s| s as i64))
        .bind(time)
        .bind(&alert.rule)
        .bind(alert.priority.as_str())
        .bind(alert.live_version)
        .bind(body)
        .bind(&node_alert_id)
        .bind(awaiting.map(|_| node.as_str()))
        .bind(awaiting.map(|p| p.batch))
        .bind(awaiting.map(|p| p.index))
        .fetch_optional(&mut *tx)
        .await?;
        match row {
            Some(id) => {
                alert.id = id;
                if suppressed > 0 {
                    state.metrics.suppressed(&alert.rule, suppressed);
                }
                inserted.push(alert);
            }
            None => duplicate += 1,
        }
    }
    tx.commit().await?;
    Ok(Stored {
        inserted,
        duplicate,
    })
}

/// The store's sequence number of event `index` of the node's `batch`, if that batch is stored
/// (its claim confirmed).
async fn batch_event(
    tx: &mut Transaction<'_, Sqlite>,
    node: &str,
    batch: i64,
    index: i64,
) -> Result<Option<u64>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT first_seq, accepted FROM ingest_batches
         WHERE node = ? AND batch = ? AND pending_seq IS NULL AND first_seq IS NOT NULL",
    )
    .bind(node)
    .bind(batch)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row
        .filter(|&(_, accepted)| (0..accepted).contains(&index))
        .map(|(first, _)| (first + index) as u64))
}

/// Links the alerts waiting for `batch` of `node` to its events (stored with sequence numbers
/// `seqs`, in the batch's order), in the transaction that stores the batch.
pub async fn link_awaiting(
    tx: &mut Transaction<'_, Sqlite>,
    store: &rulestudio_store::Store,
    node: &str,
    batch: i64,
    seqs: &[i64],
) -> Result<()> {
    let waiting: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, awaiting_index FROM alerts WHERE awaiting_node = ? AND awaiting_batch = ?",
    )
    .bind(node)
    .bind(batch)
    .fetch_all(&mut **tx)
    .await?;
    for (id, index) in waiting {
        // An index past the batch names no event: the alert keeps only its body's copy.
        let seq = usize::try_from(index)
            .ok()
            .and_then(|i| seqs.get(i))
            .copied();
        sqlx::query(
            "UPDATE alerts SET event_id = COALESCE(?1, -1),
                body = CASE WHEN ?1 IS NULL THEN body ELSE json_set(body, '$.event_id', ?2) END,
                awaiting_node = NULL, awaiting_batch = NULL, awaiting_index = NULL
             WHERE id = ?3",
        )
        .bind(seq)
        .bind(seq.map(|s| store.id(s as u64).to_string()))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_node() {
        assert!(id_of_node("n1:7:0", "n1"));
        assert!(id_of_node("a:b:7:12", "a:b"));
        assert!(!id_of_node("n2:7:0", "n1"));
        assert!(!id_of_node("n1:x:0", "n1"));
        assert!(!id_of_node("n1:7:", "n1"));
        assert!(!id_of_node("7:0", "n1"));
        assert!(!id_of_node(&format!("n1:7:{}", "9".repeat(30)), "n1"));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("\n{}\n").unwrap_err().to_string();
        assert!(e.contains("line 2: not a node alert"), "{e}");
    }
}
