-- Call screening: the do-not-originate list of protected numbers and the exceptions to the
-- spoofing rule (list = 'protected' or 'exception'), and the subscribers who opted out of the
-- on-call signal (by keyed reference, never by number). Call events themselves are not stored.
CREATE TABLE call_numbers (
    list        TEXT    NOT NULL,
    e164        TEXT    NOT NULL,
    partner_seq BIGINT NOT NULL REFERENCES partners (seq),
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (list, e164)
);

CREATE TABLE signal_opt_outs (
    subscriber_ref TEXT    PRIMARY KEY,
    at             BIGINT NOT NULL
);
