-- Which revision of the engine's verdicts stored each live-set version (rulestudio_engine::
-- VERDICT_REVISION). Versions stored before the column existed are revision 0: at start the
-- server reports the items that the current engine judges differently (issue #21).
ALTER TABLE live_versions ADD COLUMN engine_revision INTEGER NOT NULL DEFAULT 0;
