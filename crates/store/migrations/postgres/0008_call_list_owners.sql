-- The call lists get owners: an entry belongs to the partner that added it (partner_seq), and
-- only that partner or an operator removes it. A bank's entry on the do-not-originate list is
-- 'pending' until an operator approves it; telecom providers and operators add 'active'
-- entries. Only active entries are screened against. Every change is kept in
-- call_number_events, which the owner can read, and audited.
ALTER TABLE call_numbers ADD COLUMN state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'pending'));
ALTER TABLE call_numbers ADD COLUMN approved_at BIGINT;

CREATE TABLE call_number_events (
    seq       BIGSERIAL PRIMARY KEY,
    list      TEXT   NOT NULL,
    e164      TEXT   NOT NULL,
    owner_seq BIGINT NOT NULL REFERENCES partners (seq),
    actor     TEXT   NOT NULL,
    change    TEXT   NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX call_number_events_by_number ON call_number_events (list, e164, seq);
