-- Subject access: find everything about one indicator without reading whole tables.
CREATE INDEX report_indicators_by_value ON report_indicators (kind, value, report_seq);
CREATE INDEX audit_log_by_subject ON audit_log (subject, seq);
CREATE INDEX dispute_requests_by_value ON dispute_requests (kind, value);
CREATE INDEX clearance_reviews_by_value ON clearance_reviews (kind, value);
