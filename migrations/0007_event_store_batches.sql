-- Events live in the event store (crate `rulestudio-store`), not in SQLite. A batch sent with
-- X-Rulestudio-Node and X-Rulestudio-Batch is claimed here before its events are appended to
-- the store: `pending_seq` is the store's next sequence number at the claim, and is cleared
-- once the batch's alerts are committed. A row still pending at start was cut by a crash:
-- if the store has events from `pending_seq` on, the batch is in it (kept, a retry is a
-- duplicate); otherwise its append never happened and the row is dropped (a retry stores it).
ALTER TABLE ingest_batches ADD COLUMN pending_seq INTEGER;
