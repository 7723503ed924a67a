-- Disputes (bezwaar): a listed person's objection to a listing, opened by a partner on their
-- behalf and decided by a reviewer. At most one open dispute per indicator.
CREATE TABLE disputes (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    opener_seq  BIGINT NOT NULL REFERENCES partners (seq),
    reason      TEXT    NOT NULL,
    opened_at   BIGINT NOT NULL,
    due_at      BIGINT NOT NULL,
    remind_at   BIGINT,
    decided_at  BIGINT,
    version     BIGINT NOT NULL
);
CREATE UNIQUE INDEX disputes_one_open ON disputes (kind, value) WHERE state = 'open';
CREATE INDEX disputes_by_state ON disputes (state, opened_at);
CREATE INDEX disputes_by_opener ON disputes (opener_seq, opened_at);

-- Every move of a dispute, with its reason, actor and time.
CREATE TABLE dispute_events (
    dispute_seq BIGINT NOT NULL REFERENCES disputes (seq),
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    from_state  TEXT,
    to_state    TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    PRIMARY KEY (dispute_seq, seq)
);
