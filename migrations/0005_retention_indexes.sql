-- Retention deletes expired sessions in small batches, oldest first: by an index on the time,
-- not a scan of the table. (Events and alerts have theirs: events_time, alerts_time.)
CREATE INDEX sessions_expires_at ON sessions (expires_at);
