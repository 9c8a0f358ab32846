-- Alert triage (issue #19). One row per alert someone triaged; an alert without one is `new`.
-- A table of its own rather than columns of `alerts`, so that changes to how alerts refer to
-- their events leave it alone. `labelled` is 1 while this alert's `false_positive` is what
-- wrote the benign label of its event for its rule, so that leaving `false_positive` removes
-- that label and no other.
CREATE TABLE alert_triage (
    alert_id INTEGER PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    state    TEXT NOT NULL CHECK (state IN ('new', 'acknowledged', 'false_positive', 'resolved')),
    note     TEXT,
    by       TEXT NOT NULL,
    at       INTEGER NOT NULL,
    labelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_triage_state ON alert_triage (state, alert_id);

-- `GET /alerts/summary` counts a window's alerts per bucket, rule and priority from this index
-- alone (covering), without reading the alerts' bodies.
CREATE INDEX alerts_time_rule_priority ON alerts (time, rule, priority);
