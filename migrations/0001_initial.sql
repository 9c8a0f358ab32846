-- Users, their API tokens and browser sessions. Secrets are stored as SHA-256 hashes (tokens and
-- session ids are 256-bit random values) or argon2 hashes (passwords).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'author', 'reviewer', 'admin', 'collector')),
    created_at    INTEGER NOT NULL
);

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE sessions (
    id_hash    BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Events in the interchange format. The hot fields are columns so that preview and listing can
-- filter in SQL; `fields` is the whole event as JSON. AUTOINCREMENT keeps ids increasing even
-- after retention deleted the newest rows, so ids work as listing cursors.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    time         INTEGER NOT NULL,
    node         TEXT,
    evt_type     TEXT,
    proc_name    TEXT,
    fd_name      TEXT,
    container_id TEXT,
    fields       TEXT NOT NULL
);
CREATE INDEX events_time ON events (time);
CREATE INDEX events_type_time ON events (evt_type, time);

-- Batches already stored, so that a collector's retry is acknowledged and not stored twice.
CREATE TABLE ingest_batches (
    node        TEXT NOT NULL,
    batch       INTEGER NOT NULL,
    accepted    INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (node, batch)
) WITHOUT ROWID;

-- A label with rule '' applies to every rule; a label naming a rule overrides it for that rule.
CREATE TABLE labels (
    event_id   INTEGER NOT NULL,
    rule       TEXT NOT NULL DEFAULT '',
    label      TEXT NOT NULL CHECK (label IN ('benign', 'malicious')),
    note       TEXT,
    author     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, rule)
) WITHOUT ROWID;

-- Known-good periods: matches inside one count as false positives.
CREATE TABLE baselines (
    id         INTEGER PRIMARY KEY,
    since      INTEGER NOT NULL,
    until      INTEGER NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- The live rule set: every version is kept; the highest is current.
CREATE TABLE live_versions (
    version     INTEGER PRIMARY KEY,
    promoted_at INTEGER NOT NULL,
    promoted_by TEXT NOT NULL,
    proposal    INTEGER,
    note        TEXT NOT NULL DEFAULT ''
);

CREATE TABLE live_files (
    version  INTEGER NOT NULL REFERENCES live_versions (version),
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    content  TEXT NOT NULL,
    PRIMARY KEY (version, position)
) WITHOUT ROWID;

-- Alerts in Falco's JSON output shape (`body`), with the columns listing filters on.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     INTEGER NOT NULL,
    time         INTEGER NOT NULL,
    rule         TEXT NOT NULL,
    priority     TEXT NOT NULL,
    live_version INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX alerts_rule ON alerts (rule, id);
CREATE INDEX alerts_time ON alerts (time);

-- The latest heartbeat of each collector, and the one before it for the send rate.
CREATE TABLE collectors (
    node        TEXT PRIMARY KEY,
    last_seen   INTEGER NOT NULL,
    captured    INTEGER NOT NULL,
    filtered    INTEGER NOT NULL,
    lost_kernel INTEGER NOT NULL,
    spooled     INTEGER NOT NULL,
    sent        INTEGER NOT NULL,
    dropped     INTEGER NOT NULL,
    prev_seen   INTEGER,
    prev_sent   INTEGER
) WITHOUT ROWID;
