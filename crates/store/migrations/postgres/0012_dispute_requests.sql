-- Objections sent by the person concerned through the public form /bezwaar. A request
-- changes nothing by itself: a reviewer turns it into a dispute (opened by the reviewer's
-- partner) or declines it. The contact details are kept only for the reviewer's answer.
CREATE TABLE dispute_requests (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    value           TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    contact         TEXT,
    language        TEXT    NOT NULL,
    submitter       TEXT    NOT NULL,
    received_at     BIGINT  NOT NULL,
    state           TEXT    NOT NULL,
    decided_by      TEXT,
    decided_at      BIGINT,
    decision_reason TEXT,
    dispute_id      TEXT
);
CREATE INDEX dispute_requests_by_state ON dispute_requests (state, seq);

-- A new report naming a cleared indicator does not make it a hit again; it opens a review
-- for a human (police or operator), who keeps it cleared or makes it active again.
CREATE TABLE clearance_reviews (
    seq         BIGSERIAL PRIMARY KEY,
    kind        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    report_seq  BIGINT  NOT NULL,
    opened_at   BIGINT  NOT NULL,
    reports     BIGINT  NOT NULL,
    closed_at   BIGINT,
    closed_by   TEXT,
    outcome     TEXT,
    reason      TEXT
);
CREATE UNIQUE INDEX clearance_reviews_one_open ON clearance_reviews (kind, value) WHERE closed_at IS NULL;
CREATE INDEX clearance_reviews_by_open ON clearance_reviews (closed_at, seq);
