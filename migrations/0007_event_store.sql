-- Events live in the event store (crate `rulestudio-store`), not in SQLite. A batch sent with
-- X-Rulestudio-Node and X-Rulestudio-Batch is claimed here before its events are appended to
-- the store: `pending_seq` is the store's next sequence number at the claim, and is cleared
-- once the batch's alerts are committed. A row still pending at start was cut by a crash:
-- if the store has events from `pending_seq` on, the batch is in it (kept, a retry is a
-- duplicate); otherwise its append never happened and the row is dropped (a retry stores it).
ALTER TABLE ingest_batches ADD COLUMN pending_seq INTEGER;

-- Labels name events by their event-store id `NODE:INCARNATION:SEQ`. Each labelled event is
-- copied here whole (its fields as the interchange JSON object), so that a label, and the event
-- page of what it labels, outlive the event's retention in the store. (`labels` keyed by the
-- old integer ids of the `events` table is no longer read.)
CREATE TABLE event_labels (
    event_id   TEXT NOT NULL,
    rule       TEXT NOT NULL DEFAULT '',
    label      TEXT NOT NULL CHECK (label IN ('benign', 'malicious')),
    note       TEXT,
    author     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, rule)
) WITHOUT ROWID;

CREATE TABLE labelled_events (
    event_id TEXT PRIMARY KEY,
    time     INTEGER NOT NULL,
    fields   TEXT NOT NULL
) WITHOUT ROWID;
