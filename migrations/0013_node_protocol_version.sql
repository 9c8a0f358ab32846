-- The node–studio protocol version each node's last heartbeat spoke (issue #20): nodes that
-- predate the field, and rows written before this migration, spoke version 1.
ALTER TABLE collectors ADD COLUMN protocol_version INTEGER NOT NULL DEFAULT 1;
