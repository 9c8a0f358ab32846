-- What each node reports of the live set it follows (issue #14): the version it evaluates,
-- the engine it compiles with, and why the newest version does not compile there.
ALTER TABLE collectors ADD COLUMN live_version INTEGER;
ALTER TABLE collectors ADD COLUMN engine_version TEXT;
ALTER TABLE collectors ADD COLUMN compile_error TEXT;
