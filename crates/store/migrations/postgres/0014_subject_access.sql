-- Subject access: find what the audit log holds about one indicator (by its pseudonym and its
-- reports' ids), and its objections and reviews, without reading whole tables. The reports
-- naming it come from the in-memory index, so report links get no second index (it would
-- cost a third of the import speed: BENCHMARKS.md, benchmark 3).
CREATE INDEX audit_log_by_subject ON audit_log (subject, seq);
CREATE INDEX dispute_requests_by_value ON dispute_requests (kind, value);
CREATE INDEX clearance_reviews_by_value ON clearance_reviews (kind, value);
