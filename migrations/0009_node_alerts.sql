-- Alerts raised on the nodes (issue #14, decision 0020). Each carries the id its node gave it
-- (`NODE:INCARNATION:N`); the studio stores each id once however often it is delivered.
ALTER TABLE alerts ADD COLUMN node_alert_id TEXT;
CREATE UNIQUE INDEX alerts_node_alert_id ON alerts (node_alert_id) WHERE node_alert_id IS NOT NULL;

-- A node's alert names its event by the event batch it was sent in and its place there. An
-- alert stored before that batch waits here (its `event_id` is -1) and is linked in the
-- transaction that stores the batch; one whose batch never comes keeps its event in its body.
ALTER TABLE alerts ADD COLUMN awaiting_node TEXT;
ALTER TABLE alerts ADD COLUMN awaiting_batch INTEGER;
ALTER TABLE alerts ADD COLUMN awaiting_index INTEGER;
CREATE INDEX alerts_awaiting ON alerts (awaiting_node, awaiting_batch) WHERE awaiting_node IS NOT NULL;

-- The store's sequence number of a batch's first event (its events have the next ones), kept
-- after the claim is confirmed, so an alert that arrives after its batch is linked at once.
ALTER TABLE ingest_batches ADD COLUMN first_seq INTEGER;

-- What nodes report of their alerts: waiting in the node's alert spool, acknowledged, dropped
-- from the spool when it was full, held back by the per-rule rate limit.
ALTER TABLE collectors ADD COLUMN alerts_spooled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collectors ADD COLUMN alerts_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collectors ADD COLUMN alerts_dropped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collectors ADD COLUMN alerts_suppressed INTEGER NOT NULL DEFAULT 0;
