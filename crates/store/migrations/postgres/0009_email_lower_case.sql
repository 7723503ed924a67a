-- E-mail addresses are lower case as a whole from this version on (the local part used to
-- keep its case, so `Fraud2@Outlook.COM` and `fraud2@outlook.com` were two indicators). The
-- stored values are lower-cased, and indicator records that now name the same address are
-- merged: counts added, first and last seen widened, the newer review status kept (several
-- spellings of one address are first taken together, as one statement may touch a row once).
UPDATE report_indicators SET value = lower(value) WHERE kind = 'email' AND value <> lower(value);

INSERT INTO indicators (kind, value, status, status_reason, status_at, reports, first_seen, last_seen, country, bank_code, mixed_script, confusable, status_seq, reports_bankhelpdesk, reports_marketplace, reports_webshop, reports_friend_in_need, reports_phishing, reports_romance, reports_investment, reports_identity, reports_invoice_ceo, reports_other)
SELECT kind,
       lower(value),
       (array_agg(status ORDER BY coalesce(status_at, 0) DESC))[1],
       (array_agg(status_reason ORDER BY coalesce(status_at, 0) DESC))[1],
       max(status_at),
       sum(reports),
       min(first_seen),
       max(last_seen),
       min(country),
       min(bank_code),
       max(mixed_script),
       max(confusable),
       (array_agg(status_seq ORDER BY coalesce(status_at, 0) DESC))[1],
       sum(reports_bankhelpdesk),
       sum(reports_marketplace),
       sum(reports_webshop),
       sum(reports_friend_in_need),
       sum(reports_phishing),
       sum(reports_romance),
       sum(reports_investment),
       sum(reports_identity),
       sum(reports_invoice_ceo),
       sum(reports_other)
FROM indicators WHERE kind = 'email' AND value <> lower(value)
GROUP BY kind, lower(value)
ON CONFLICT (kind, value) DO UPDATE SET
    reports = indicators.reports + excluded.reports,
    first_seen = least(indicators.first_seen, excluded.first_seen),
    last_seen = greatest(indicators.last_seen, excluded.last_seen),
    mixed_script = greatest(indicators.mixed_script, excluded.mixed_script),
    confusable = greatest(indicators.confusable, excluded.confusable),
    status = CASE WHEN coalesce(excluded.status_at, 0) > coalesce(indicators.status_at, 0) THEN excluded.status ELSE indicators.status END,
    status_reason = CASE WHEN coalesce(excluded.status_at, 0) > coalesce(indicators.status_at, 0) THEN excluded.status_reason ELSE indicators.status_reason END,
    status_at = CASE WHEN coalesce(excluded.status_at, 0) > coalesce(indicators.status_at, 0) THEN excluded.status_at ELSE indicators.status_at END,
    status_seq = CASE WHEN coalesce(excluded.status_at, 0) > coalesce(indicators.status_at, 0) THEN excluded.status_seq ELSE indicators.status_seq END,
    reports_bankhelpdesk = indicators.reports_bankhelpdesk + excluded.reports_bankhelpdesk,
    reports_marketplace = indicators.reports_marketplace + excluded.reports_marketplace,
    reports_webshop = indicators.reports_webshop + excluded.reports_webshop,
    reports_friend_in_need = indicators.reports_friend_in_need + excluded.reports_friend_in_need,
    reports_phishing = indicators.reports_phishing + excluded.reports_phishing,
    reports_romance = indicators.reports_romance + excluded.reports_romance,
    reports_investment = indicators.reports_investment + excluded.reports_investment,
    reports_identity = indicators.reports_identity + excluded.reports_identity,
    reports_invoice_ceo = indicators.reports_invoice_ceo + excluded.reports_invoice_ceo,
    reports_other = indicators.reports_other + excluded.reports_other;

DELETE FROM indicators WHERE kind = 'email' AND value <> lower(value);

UPDATE changes SET value = lower(value) WHERE kind = 'email' AND value <> lower(value);
