-- Money-mule detection: the transactions the detectors saw (keyed pseudonyms of the accounts
-- and their bank codes, never an IBAN; one row per partner and transaction id, for
-- idempotency, the replay after a restart and the "payees its customers paid" rule), and the
-- patterns they flagged with the accounts involved. An account's IBAN is kept only once it is
-- named in a flag, for the readers entitled to it. Both are deleted after their term
-- (mules.transaction_days, mules.flag_days).
CREATE TABLE mule_transactions (
    seq            INTEGER PRIMARY KEY,
    partner_seq    INTEGER NOT NULL REFERENCES partners (seq),
    tx_id          TEXT    NOT NULL,
    digest         TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    payer          INTEGER NOT NULL,
    payee          INTEGER NOT NULL,
    payer_bank     TEXT    NOT NULL,
    payee_bank     TEXT    NOT NULL,
    amount_minor   INTEGER NOT NULL,
    received_minor INTEGER NOT NULL,
    stored_at      INTEGER NOT NULL,
    UNIQUE (partner_seq, tx_id)
);
CREATE INDEX mule_transactions_by_time ON mule_transactions (at, seq);
CREATE INDEX mule_transactions_by_payee ON mule_transactions (payee, payer_bank);

CREATE TABLE mule_flags (
    seq           INTEGER PRIMARY KEY,
    raised_at     INTEGER NOT NULL,
    pattern       TEXT    NOT NULL,
    score         REAL    NOT NULL,
    window_from   INTEGER NOT NULL,
    window_to     INTEGER NOT NULL,
    amount_minor  INTEGER NOT NULL,
    more_accounts INTEGER NOT NULL
);
CREATE INDEX mule_flags_by_time ON mule_flags (raised_at);

CREATE TABLE mule_flag_accounts (
    flag_seq INTEGER NOT NULL REFERENCES mule_flags (seq) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    account  INTEGER NOT NULL,
    bank     TEXT    NOT NULL,
    iban     TEXT,
    centre   INTEGER NOT NULL,
    PRIMARY KEY (flag_seq, position)
);
CREATE INDEX mule_flag_accounts_by_account ON mule_flag_accounts (account, flag_seq);
CREATE INDEX mule_flag_accounts_by_bank ON mule_flag_accounts (bank, flag_seq);
