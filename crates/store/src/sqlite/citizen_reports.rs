//! The review of citizens' reports (the triage queue and reviewers' decisions) on SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior, params};
use vangnet_core::Timestamp;
use vangnet_core::index::CitizenReview;

use super::{SqliteStore, append_audit_tx, load_report, report_record};
use crate::batch::citizen_review_event;
use crate::rows::REPORT_SELECT;
use crate::{CITIZEN_SOURCE_ID, CitizenReportStore, Partner, ReviewOutcome, StoreError, StoredReport};

#[async_trait]
impl CitizenReportStore for SqliteStore {
    async fn review_citizen_report(
        &self,
        report_id: &str,
        review: CitizenReview,
        by: &Partner,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<ReviewOutcome, StoreError> {
        let (report_id, by, note) = (report_id.to_owned(), by.clone(), note.map(str::to_owned));
        self.write(move |conn| record_review(conn, &report_id, review, &by, note.as_deref(), now))
            .await
    }

    async fn citizen_reports(&self, review: CitizenReview, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError> {
        self.read(move |conn| review_queue(conn, review, after, limit)).await
    }
}

fn record_review(
    conn: &mut Connection,
    report_id: &str,
    review: CitizenReview,
    by: &Partner,
    note: Option<&str>,
    now: Timestamp,
) -> Result<ReviewOutcome, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(report) = load_report(&tx, None, Some(report_id))?.filter(StoredReport::is_citizen) else {
        return Ok(ReviewOutcome::NotFound);
    };
    if report.review.is_some() {
        return Ok(ReviewOutcome::AlreadyReviewed(report));
    }
    tx.execute(
        "INSERT INTO citizen_reviews (report_seq, outcome, by_partner_seq, note, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![report.seq, review.as_str(), by.seq, note, now.millis()],
    )?;
    tx.execute(
        "INSERT INTO changes (at, change, report_seq, status) VALUES (?1, 'review', ?2, ?3)",
        params![now.millis(), report.seq, review.as_str()],
    )?;
    append_audit_tx(&tx, &[citizen_review_event(&by.actor(), &report.id, review, now)])?;
    let reviewed = load_report(&tx, Some(report.seq), None)?;
    tx.commit()?;
    Ok(reviewed.map_or(ReviewOutcome::NotFound, ReviewOutcome::Reviewed))
}

fn review_queue(conn: &mut Connection, review: CitizenReview, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError> {
    let state = match review {
        CitizenReview::Unverified => "cr.outcome IS NULL",
        CitizenReview::Verified => "cr.outcome = 'verified'",
        CitizenReview::Rejected => "cr.outcome = 'rejected'",
    };
    let mut stmt = conn.prepare_cached(&format!(
        "{REPORT_SELECT} WHERE p.id = ?1 AND r.seq > ?2 AND x.at IS NULL AND {state} ORDER BY r.seq LIMIT ?3"
    ))?;
    let records = stmt
        .query_map(params![CITIZEN_SOURCE_ID, after, limit], report_record)?
        .collect::<Result<Vec<_>, _>>()?;
    let mut links =
        conn.prepare_cached("SELECT kind, value, role, derived FROM report_indicators WHERE report_seq = ?1 ORDER BY position")?;
    records
        .into_iter()
        .map(|record| {
            let indicators = links
                .query_map([record.seq], super::indicator_record)?
                .collect::<Result<Vec<_>, _>>()?;
            record.into_report(indicators)
        })
        .collect()
}
