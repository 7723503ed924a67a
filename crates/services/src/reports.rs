//! Registry writes: partners' reports, retractions and review statuses. Each is stored first
//! (with its change-feed row and audit entry, in one transaction) and then applied to this
//! node's index at once, so the writer reads its own write; other nodes follow through the
//! change feed. The HTTP API and the console (a partner's report form, the citizen form's
//! anonymous source) both write through here.

use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::index::IndicatorStatus;
use vangnet_core::indicator::Indicator;
use vangnet_core::report::NewReport;
use vangnet_store::{InsertOutcome, Partner, RetractOutcome, StoreError, StoredReport};

use crate::feed::apply_report;
use crate::state::Services;

/// Whether `id` has the shape of a report id (a UUID), checked before any database look-up.
pub fn is_report_id(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

impl Services {
    /// Stores checked reports of `partner` and applies the new ones to the index.
    pub async fn file_reports(&self, partner: &Partner, reports: &[NewReport]) -> Result<Vec<InsertOutcome>, StoreError> {
        let outcomes = self.store.insert_reports(partner, reports, &partner.actor(), self.now()).await?;
        {
            let mut index = self.index_mut();
            for outcome in &outcomes {
                if let InsertOutcome::Created(report) = outcome {
                    apply_report(&mut index, report);
                }
            }
        }
        self.update_index_gauges();
        let counters = &self.metrics.counters;
        for outcome in &outcomes {
            let counter = match outcome {
                InsertOutcome::Created(_) => &counters.reports_created,
                InsertOutcome::Existing { .. } => &counters.reports_existing,
                InsertOutcome::Conflict { .. } => &counters.reports_conflict,
            };
            counter.inc();
        }
        Ok(outcomes)
    }

    /// Counts a report that failed validation.
    pub fn count_invalid_report(&self) {
        self.metrics.counters.reports_invalid.inc();
    }

    /// A report by id, if `partner` may see it under TLP (`None` otherwise, as for an unknown
    /// id, so that a reader cannot learn that a report exists). Not audited: see
    /// [`Services::read_report`].
    pub async fn visible_report(&self, partner: &Partner, id: &str) -> Result<Option<StoredReport>, StoreError> {
        if !is_report_id(id) {
            return Ok(None);
        }
        let Some(report) = self.store.report(id).await? else {
            return Ok(None);
        };
        let filer = u32::try_from(report.partner_seq).unwrap_or(u32::MAX);
        Ok(partner.viewer().may_see(report.tlp, filer).then_some(report))
    }

    /// A report as [`Services::visible_report`] finds it, with the read in the audit log.
    pub async fn read_report(&self, partner: &Partner, id: &str) -> Result<Option<StoredReport>, StoreError> {
        let Some(report) = self.visible_report(partner, id).await? else {
            return Ok(None);
        };
        self.store
            .append_audit(&[AuditEvent {
                at: self.now(),
                actor: partner.actor(),
                action: AuditAction::ReportRead,
                subject: format!("report:{}", report.id),
                details: "{}".to_owned(),
            }])
            .await?;
        Ok(Some(report))
    }

    /// Retracts a report `partner` may see; a retracted report leaves every count at once.
    pub async fn retract_report(&self, partner: &Partner, id: &str, reason: Option<&str>) -> Result<RetractOutcome, StoreError> {
        if self.visible_report(partner, id).await?.is_none() {
            return Ok(RetractOutcome::NotFound);
        }
        let outcome = self.store.retract_report(id, partner, reason, self.now()).await?;
        if let RetractOutcome::Retracted(report) = &outcome {
            {
                let mut index = self.index_mut();
                let seq = u32::try_from(report.seq).unwrap_or(u32::MAX);
                for named in &report.indicators {
                    let key = index.key(named.kind, &named.value);
                    index.retract(key, seq);
                }
            }
            self.metrics.counters.retractions.inc();
        }
        Ok(outcome)
    }

    /// Sets the review status of an indicator (the caller has checked that `partner` may).
    pub async fn set_indicator_status(
        &self,
        partner: &Partner,
        indicator: &Indicator,
        status: IndicatorStatus,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let subject = self.pseudonym(indicator.kind(), indicator.canonical());
        let position = self
            .store
            .set_indicator_status(
                indicator.kind(),
                indicator.canonical(),
                status,
                reason,
                &partner.actor(),
                &subject,
                self.now(),
            )
            .await?;
        let mut index = self.index_mut();
        let key = index.key_of(indicator);
        index.set_status(key, status, position);
        Ok(())
    }
}
