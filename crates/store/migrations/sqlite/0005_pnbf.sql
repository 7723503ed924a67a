-- PNBF recovery cases between two banks. The columns the platform filters on are columns;
-- the rest of a case (payment, eligibility, amounts, outcome) is JSON in `body`. The payee's
-- name and address (NAW) is only ever stored encrypted (`naw`), and deleted after its
-- retention period. Every change of a case is one row in `pnbf_events`, numbered by the
-- case's version.
CREATE TABLE pnbf_cases (
    id            TEXT    PRIMARY KEY,
    victim_bank   INTEGER NOT NULL REFERENCES partners (seq),
    payee_bank    INTEGER REFERENCES partners (seq),
    state         TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    opened_at     INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    term_ends     INTEGER,
    remind_at     INTEGER,
    naw_delete_at INTEGER,
    link_digest   TEXT    NOT NULL UNIQUE,
    body          TEXT    NOT NULL,
    naw           BLOB
);
CREATE INDEX pnbf_cases_victim ON pnbf_cases (victim_bank, opened_at);
CREATE INDEX pnbf_cases_payee ON pnbf_cases (payee_bank, opened_at);
CREATE INDEX pnbf_cases_term ON pnbf_cases (term_ends) WHERE term_ends IS NOT NULL;
CREATE INDEX pnbf_cases_remind ON pnbf_cases (remind_at) WHERE remind_at IS NOT NULL;
CREATE INDEX pnbf_cases_naw ON pnbf_cases (naw_delete_at) WHERE naw_delete_at IS NOT NULL;

CREATE TABLE pnbf_events (
    case_id    TEXT    NOT NULL REFERENCES pnbf_cases (id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    side       TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    from_state TEXT,
    to_state   TEXT    NOT NULL,
    reason     TEXT,
    details    TEXT    NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- The partner directory for the procedure: which partner holds the accounts of a bank code.
CREATE TABLE pnbf_bank_codes (
    code        TEXT    PRIMARY KEY,
    partner_seq INTEGER NOT NULL REFERENCES partners (seq),
    updated_at  INTEGER NOT NULL
);
