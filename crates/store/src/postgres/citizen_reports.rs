//! The review of citizens' reports (the triage queue and reviewers' decisions) on PostgreSQL.

use async_trait::async_trait;
use sqlx::PgPool;
use vangnet_core::Timestamp;
use vangnet_core::index::CitizenReview;

use super::{PostgresStore, append_audit_tx, load_reports, report_by_id};
use crate::batch::citizen_review_event;
use crate::{CITIZEN_SOURCE_ID, CitizenReportStore, Partner, ReviewOutcome, StoreError, StoredReport};

#[async_trait]
impl CitizenReportStore for PostgresStore {
    async fn review_citizen_report(
        &self,
        report_id: &str,
        review: CitizenReview,
        by: &Partner,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<ReviewOutcome, StoreError> {
        record_review(&self.pool, report_id, review, by, note, now).await
    }

    async fn citizen_reports(&self, review: CitizenReview, after: i64, limit: u32) -> Result<Vec<StoredReport>, StoreError> {
        review_queue(&self.pool, review, after, limit).await
    }
}

async fn record_review(
    pool: &PgPool,
    report_id: &str,
    review: CitizenReview,
    by: &Partner,
    note: Option<&str>,
    now: Timestamp,
) -> Result<ReviewOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    // Lock the report row so two reviewers cannot both decide.
    let locked: Option<i64> = sqlx::query_scalar("SELECT seq FROM reports WHERE id = $1 FOR UPDATE")
        .bind(report_id)
        .fetch_optional(&mut *tx)
        .await?;
    if locked.is_none() {
        return Ok(ReviewOutcome::NotFound);
    }
    let Some(report) = report_by_id(&mut tx, report_id).await?.filter(crate::StoredReport::is_citizen) else {
        return Ok(ReviewOutcome::NotFound);
    };
    if report.review.is_some() {
        return Ok(ReviewOutcome::AlreadyReviewed(report));
    }
    sqlx::query("INSERT INTO citizen_reviews (report_seq, outcome, by_partner_seq, note, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(report.seq)
        .bind(review.as_str())
        .bind(by.seq)
        .bind(note)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO changes (at, change, report_seq, status) VALUES ($1, 'review', $2, $3)")
        .bind(now.millis())
        .bind(report.seq)
        .bind(review.as_str())
        .execute(&mut *tx)
        .await?;
    append_audit_tx(&mut tx, &[citizen_review_event(&by.actor(), &report.id, review, now)]).await?;
    let reviewed = report_by_id(&mut tx, report_id).await?;
    tx.commit().await?;
    Ok(reviewed.map_or(ReviewOutcome::NotFound, ReviewOutcome::Reviewed))
}

async fn review_queue(pool: &PgPool, review: CitizenReview, after: i64, limit: u32) -> Result<Vec<crate::StoredReport>, StoreError> {
    let state = match review {
        CitizenReview::Unverified => "cr.outcome IS NULL",
        CitizenReview::Verified => "cr.outcome = 'verified'",
        CitizenReview::Rejected => "cr.outcome = 'rejected'",
    };
    let mut conn = pool.acquire().await?;
    let seqs: Vec<i64> = sqlx::query_scalar(super::sql(format!(
        "SELECT r.seq FROM reports r JOIN partners p ON p.seq = r.partner_seq \
         LEFT JOIN retractions x ON x.report_seq = r.seq LEFT JOIN citizen_reviews cr ON cr.report_seq = r.seq \
         WHERE p.id = $1 AND r.seq > $2 AND x.at IS NULL AND {state} ORDER BY r.seq LIMIT $3"
    )))
    .bind(CITIZEN_SOURCE_ID)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let mut reports = load_reports(&mut conn, "r.seq = ANY($1)", Some(&seqs), None).await?;
    reports.sort_by_key(|r| r.seq);
    Ok(reports)
}
