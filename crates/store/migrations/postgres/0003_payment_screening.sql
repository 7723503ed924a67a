-- Payment screening: every decision, kept for look-up by payment id, and the bounded state
-- behind the behavioural rules (per payer and per account, keyed by a keyed hash of the
-- IBAN, never the IBAN itself), written in the same transaction as the decision.
CREATE TABLE payment_decisions (
    partner_seq    BIGINT NOT NULL REFERENCES partners (seq),
    payment_id     TEXT    NOT NULL,
    request_digest TEXT    NOT NULL,
    decided_at     BIGINT NOT NULL,
    decision       TEXT    NOT NULL,
    score          DOUBLE PRECISION    NOT NULL,
    reasons        TEXT    NOT NULL,
    rules_version  TEXT    NOT NULL,
    PRIMARY KEY (partner_seq, payment_id)
);

CREATE TABLE payer_profiles (
    payer      TEXT    PRIMARY KEY,
    state      BYTEA    NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE account_activity (
    account    TEXT    PRIMARY KEY,
    state      BYTEA    NOT NULL,
    updated_at BIGINT NOT NULL
);
