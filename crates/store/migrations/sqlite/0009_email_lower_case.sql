-- E-mail addresses are lower case as a whole from this version on (the local part used to
-- keep its case, so `Fraud2@Outlook.COM` and `fraud2@outlook.com` were two indicators). The
-- stored values are lower-cased, and indicator records that now name the same address are
-- merged: counts added, first and last seen widened, the newer review status kept.
-- SQLite's lower() changes ASCII letters only; an address with capitals outside ASCII
-- keeps them in reports stored before this version.
UPDATE report_indicators SET value = lower(value) WHERE kind = 'email' AND value <> lower(value);

INSERT INTO indicators (kind, value, status, status_reason, status_at, reports, first_seen, last_seen, country, bank_code, mixed_script, confusable, status_seq, reports_bankhelpdesk, reports_marketplace, reports_webshop, reports_friend_in_need, reports_phishing, reports_romance, reports_investment, reports_identity, reports_invoice_ceo, reports_other)
SELECT kind, lower(value), status, status_reason, status_at, reports, first_seen, last_seen, country, bank_code, mixed_script, confusable, status_seq, reports_bankhelpdesk, reports_marketplace, reports_webshop, reports_friend_in_need, reports_phishing, reports_romance, reports_investment, reports_identity, reports_invoice_ceo, reports_other
FROM indicators WHERE kind = 'email' AND value <> lower(value)
ON CONFLICT (kind, value) DO UPDATE SET
    reports = reports + excluded.reports,
    first_seen = CASE WHEN first_seen IS NULL THEN excluded.first_seen WHEN excluded.first_seen IS NULL THEN first_seen ELSE min(first_seen, excluded.first_seen) END,
    last_seen = CASE WHEN last_seen IS NULL THEN excluded.last_seen WHEN excluded.last_seen IS NULL THEN last_seen ELSE max(last_seen, excluded.last_seen) END,
    mixed_script = max(mixed_script, excluded.mixed_script),
    confusable = max(confusable, excluded.confusable),
    status = CASE WHEN coalesce(excluded.status_at, 0) > coalesce(status_at, 0) THEN excluded.status ELSE status END,
    status_reason = CASE WHEN coalesce(excluded.status_at, 0) > coalesce(status_at, 0) THEN excluded.status_reason ELSE status_reason END,
    status_at = CASE WHEN coalesce(excluded.status_at, 0) > coalesce(status_at, 0) THEN excluded.status_at ELSE status_at END,
    status_seq = CASE WHEN coalesce(excluded.status_at, 0) > coalesce(status_at, 0) THEN excluded.status_seq ELSE status_seq END,
    reports_bankhelpdesk = reports_bankhelpdesk + excluded.reports_bankhelpdesk,
    reports_marketplace = reports_marketplace + excluded.reports_marketplace,
    reports_webshop = reports_webshop + excluded.reports_webshop,
    reports_friend_in_need = reports_friend_in_need + excluded.reports_friend_in_need,
    reports_phishing = reports_phishing + excluded.reports_phishing,
    reports_romance = reports_romance + excluded.reports_romance,
    reports_investment = reports_investment + excluded.reports_investment,
    reports_identity = reports_identity + excluded.reports_identity,
    reports_invoice_ceo = reports_invoice_ceo + excluded.reports_invoice_ceo,
    reports_other = reports_other + excluded.reports_other;

DELETE FROM indicators WHERE kind = 'email' AND value <> lower(value);

UPDATE changes SET value = lower(value) WHERE kind = 'email' AND value <> lower(value);
