-- Money-mule detection: the transactions the detectors saw (keyed pseudonyms of the accounts
-- and their bank codes, never an IBAN; one row per partner and transaction id, for
-- idempotency, the replay after a restart and the "payees its customers paid" rule), and the
-- patterns they flagged with the accounts involved. An account's IBAN is kept only once it is
-- named in a flag, for the readers entitled to it. Both are deleted after their term
-- (mules.transaction_days, mules.flag_days).
CREATE TABLE mule_transactions (
    seq            BIGSERIAL PRIMARY KEY,
    partner_seq    BIGINT NOT NULL REFERENCES partners (seq),
    tx_id          TEXT    NOT NULL,
    digest         TEXT    NOT NULL,
    at             BIGINT NOT NULL,
    payer          BIGINT NOT NULL,
    payee          BIGINT NOT NULL,
    payer_bank     TEXT    NOT NULL,
    payee_bank     TEXT    NOT NULL,
    amount_minor   BIGINT NOT NULL,
    received_minor BIGINT NOT NULL,
    stored_at      BIGINT NOT NULL,
    UNIQUE (partner_seq, tx_id)
);
CREATE INDEX mule_transactions_by_time ON mule_transactions (at, seq);
CREATE INDEX mule_transactions_by_payee ON mule_transactions (payee, payer_bank);

CREATE TABLE mule_flags (
    seq           BIGSERIAL PRIMARY KEY,
    raised_at     BIGINT NOT NULL,
    pattern       TEXT    NOT NULL,
    score         DOUBLE PRECISION    NOT NULL,
    window_from   BIGINT NOT NULL,
    window_to     BIGINT NOT NULL,
    amount_minor  BIGINT NOT NULL,
    more_accounts BIGINT NOT NULL
);
CREATE INDEX mule_flags_by_time ON mule_flags (raised_at);

CREATE TABLE mule_flag_accounts (
    flag_seq BIGINT NOT NULL REFERENCES mule_flags (seq) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    account  BIGINT NOT NULL,
    bank     TEXT    NOT NULL,
    iban     TEXT,
    centre   BOOLEAN NOT NULL,
    PRIMARY KEY (flag_seq, position)
);
CREATE INDEX mule_flag_accounts_by_account ON mule_flag_accounts (account, flag_seq);
CREATE INDEX mule_flag_accounts_by_bank ON mule_flag_accounts (bank, flag_seq);
