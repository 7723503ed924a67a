-- Vangnet registry schema, PostgreSQL. Times are milliseconds since the Unix epoch (UTC);
-- money is an integer number of minor units with its ISO 4217 currency.

CREATE TABLE partners (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT      NOT NULL UNIQUE,
    name        TEXT      NOT NULL UNIQUE,
    kind        TEXT      NOT NULL,
    created_at  BIGINT    NOT NULL
);

CREATE TABLE tokens (
    id          TEXT   PRIMARY KEY,
    partner_seq BIGINT NOT NULL REFERENCES partners (seq),
    digest      BYTEA  NOT NULL UNIQUE,
    label       TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE reports (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT   NOT NULL UNIQUE,
    partner_seq     BIGINT NOT NULL REFERENCES partners (seq),
    external_id     TEXT,
    content_digest  TEXT   NOT NULL,
    fraud_type      TEXT   NOT NULL,
    channel         TEXT,
    occurred_at     BIGINT NOT NULL,
    received_at     BIGINT NOT NULL,
    amount_minor    BIGINT,
    currency        TEXT,
    aangifte        BIGINT NOT NULL,
    victim_age_band TEXT   NOT NULL,
    tlp             TEXT   NOT NULL,
    description     TEXT,
    UNIQUE (partner_seq, external_id)
);

CREATE TABLE report_indicators (
    report_seq BIGINT NOT NULL REFERENCES reports (seq),
    position   BIGINT NOT NULL,
    kind       TEXT   NOT NULL,
    value      TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    derived    BIGINT NOT NULL,
    PRIMARY KEY (report_seq, position)
);

CREATE TABLE retractions (
    report_seq      BIGINT PRIMARY KEY REFERENCES reports (seq),
    by_partner_seq  BIGINT NOT NULL REFERENCES partners (seq),
    reason          TEXT,
    at              BIGINT NOT NULL
);

CREATE TABLE indicators (
    kind          TEXT   NOT NULL,
    value         TEXT   NOT NULL,
    status        TEXT   NOT NULL DEFAULT 'active',
    status_reason TEXT,
    status_at     BIGINT,
    reports       BIGINT NOT NULL DEFAULT 0,
    first_seen    BIGINT,
    last_seen     BIGINT,
    country       TEXT,
    bank_code     TEXT,
    mixed_script  BIGINT NOT NULL DEFAULT 0,
    confusable    BIGINT NOT NULL DEFAULT 0,
    -- Reports per fraud type (report.rs lists the types).
    reports_bankhelpdesk BIGINT NOT NULL DEFAULT 0,
    reports_marketplace BIGINT NOT NULL DEFAULT 0,
    reports_webshop BIGINT NOT NULL DEFAULT 0,
    reports_friend_in_need BIGINT NOT NULL DEFAULT 0,
    reports_phishing BIGINT NOT NULL DEFAULT 0,
    reports_romance BIGINT NOT NULL DEFAULT 0,
    reports_investment BIGINT NOT NULL DEFAULT 0,
    reports_identity BIGINT NOT NULL DEFAULT 0,
    reports_invoice_ceo BIGINT NOT NULL DEFAULT 0,
    reports_other BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, value)
);


CREATE TABLE changes (
    seq        BIGSERIAL PRIMARY KEY,
    at         BIGINT NOT NULL,
    change     TEXT   NOT NULL,
    report_seq BIGINT,
    kind       TEXT,
    value      TEXT,
    status     TEXT
);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    subject   TEXT   NOT NULL,
    details   TEXT   NOT NULL,
    prev_hash TEXT   NOT NULL,
    hash      TEXT   NOT NULL
);
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT   NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
