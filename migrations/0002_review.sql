-- Team review: proposals with their revisions, reviews and comments; and the audit trail.
-- People are named by username (not a users.id foreign key) so that deleting a user keeps the
-- history they wrote.

-- `status` open/approved is recomputed from the reviews whenever they or the revision change;
-- `diff` and `evidence` are the JSON of the current revision's, against `base_version`.
CREATE TABLE proposals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    author       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'approved', 'promoted', 'closed')),
    revision     INTEGER NOT NULL,
    base_version INTEGER NOT NULL REFERENCES live_versions (version),
    live_version INTEGER REFERENCES live_versions (version),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    diff         TEXT NOT NULL,
    evidence     TEXT NOT NULL
);
CREATE INDEX proposals_status ON proposals (status, id);

-- `author` made the revision: the proposal's author, or whoever rebased it.
CREATE TABLE proposal_revisions (
    proposal     INTEGER NOT NULL REFERENCES proposals (id),
    revision     INTEGER NOT NULL,
    base_version INTEGER NOT NULL,
    author       TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    tests        TEXT NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (proposal, revision)
) WITHOUT ROWID;

-- The new full content of each file the revision changes; NULL content deletes the file.
CREATE TABLE proposal_files (
    proposal INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    content  TEXT,
    PRIMARY KEY (proposal, revision, position),
    FOREIGN KEY (proposal, revision) REFERENCES proposal_revisions (proposal, revision)
) WITHOUT ROWID;

CREATE TABLE reviews (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal   INTEGER NOT NULL REFERENCES proposals (id),
    revision   INTEGER NOT NULL,
    reviewer   TEXT NOT NULL,
    verdict    TEXT NOT NULL CHECK (verdict IN ('approve', 'request_changes')),
    body       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX reviews_proposal ON reviews (proposal, id);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal   INTEGER NOT NULL REFERENCES proposals (id),
    revision   INTEGER NOT NULL,
    author     TEXT NOT NULL,
    body       TEXT NOT NULL,
    file       TEXT,
    line       INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX comments_proposal ON comments (proposal, id);

-- Every state change of users, tokens, proposals, reviews and the live set. `details` is a
-- JSON object. Append-only: the triggers refuse any UPDATE or DELETE, whoever issues it.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    time    INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_actor ON audit_log (actor, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries are never updated');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries are never deleted');
END;
