-- Vangnet registry schema, SQLite. Times are milliseconds since the Unix epoch (UTC);
-- money is an integer number of minor units with its ISO 4217 currency.

CREATE TABLE partners (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE tokens (
    id          TEXT    PRIMARY KEY,
    partner_seq INTEGER NOT NULL REFERENCES partners (seq),
    digest      BLOB    NOT NULL UNIQUE,
    label       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE reports (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    partner_seq     INTEGER NOT NULL REFERENCES partners (seq),
    external_id     TEXT,
    content_digest  TEXT    NOT NULL,
    fraud_type      TEXT    NOT NULL,
    channel         TEXT,
    occurred_at     INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    amount_minor    INTEGER,
    currency        TEXT,
    aangifte        INTEGER NOT NULL,
    victim_age_band TEXT    NOT NULL,
    tlp             TEXT    NOT NULL,
    description     TEXT,
    UNIQUE (partner_seq, external_id)
);

CREATE TABLE report_indicators (
    report_seq INTEGER NOT NULL REFERENCES reports (seq),
    position   INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    derived    INTEGER NOT NULL,
    PRIMARY KEY (report_seq, position)
) WITHOUT ROWID;

-- A retraction is an event of its own; the report row is never changed.
CREATE TABLE retractions (
    report_seq      INTEGER PRIMARY KEY REFERENCES reports (seq),
    by_partner_seq  INTEGER NOT NULL REFERENCES partners (seq),
    reason          TEXT,
    at              INTEGER NOT NULL
);

-- The indicator record: every report about one canonical indicator, aggregated in the same
-- transaction that stores the report.
CREATE TABLE indicators (
    kind          TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'active',
    status_reason TEXT,
    status_at     INTEGER,
    reports       INTEGER NOT NULL DEFAULT 0,
    first_seen    INTEGER,
    last_seen     INTEGER,
    country       TEXT,
    bank_code     TEXT,
    mixed_script  INTEGER NOT NULL DEFAULT 0,
    confusable    INTEGER NOT NULL DEFAULT 0,
    -- Reports per fraud type (report.rs lists the types).
    reports_bankhelpdesk INTEGER NOT NULL DEFAULT 0,
    reports_marketplace INTEGER NOT NULL DEFAULT 0,
    reports_webshop INTEGER NOT NULL DEFAULT 0,
    reports_friend_in_need INTEGER NOT NULL DEFAULT 0,
    reports_phishing INTEGER NOT NULL DEFAULT 0,
    reports_romance INTEGER NOT NULL DEFAULT 0,
    reports_investment INTEGER NOT NULL DEFAULT 0,
    reports_identity INTEGER NOT NULL DEFAULT 0,
    reports_invoice_ceo INTEGER NOT NULL DEFAULT 0,
    reports_other INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;


-- The change feed every server node follows to keep its in-memory index current.
CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    change     TEXT    NOT NULL,
    report_seq INTEGER,
    kind       TEXT,
    value      TEXT,
    status     TEXT
);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    details   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
