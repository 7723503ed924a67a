-- Disputes (bezwaar): a listed person's objection to a listing, opened by a partner on their
-- behalf and decided by a reviewer. At most one open dispute per indicator.
CREATE TABLE disputes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    opener_seq  INTEGER NOT NULL REFERENCES partners (seq),
    reason      TEXT    NOT NULL,
    opened_at   INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    remind_at   INTEGER,
    decided_at  INTEGER,
    version     INTEGER NOT NULL
);
CREATE UNIQUE INDEX disputes_one_open ON disputes (kind, value) WHERE state = 'open';
CREATE INDEX disputes_by_state ON disputes (state, opened_at);
CREATE INDEX disputes_by_opener ON disputes (opener_seq, opened_at);

-- Every move of a dispute, with its reason, actor and time.
CREATE TABLE dispute_events (
    dispute_seq INTEGER NOT NULL REFERENCES disputes (seq),
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    from_state  TEXT,
    to_state    TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    PRIMARY KEY (dispute_seq, seq)
);
