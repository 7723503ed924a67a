-- The triage of citizen reports: a helpdesk or police reviewer verifies a report from the
-- public web form (then it counts like any report) or rejects it (then it counts nowhere).
-- One decision per report, final; the report itself is never changed.
CREATE TABLE citizen_reviews (
    report_seq     INTEGER PRIMARY KEY REFERENCES reports (seq),
    outcome        TEXT    NOT NULL CHECK (outcome IN ('verified', 'rejected')),
    by_partner_seq INTEGER NOT NULL REFERENCES partners (seq),
    note           TEXT,
    at             INTEGER NOT NULL
);

-- The triage queue reads one source's reports in order.
CREATE INDEX reports_by_partner ON reports (partner_seq, seq);
