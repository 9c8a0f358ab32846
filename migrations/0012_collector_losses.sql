-- What a node lost besides kernel reservations and spool overflow (issue #12): kernel records
-- that did not decode, and threads its bounded table forgot.
ALTER TABLE collectors ADD COLUMN records_truncated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collectors ADD COLUMN records_malformed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collectors ADD COLUMN threads_evicted INTEGER NOT NULL DEFAULT 0;
