//! The person's own objection (`/bezwaar`) and the review of cleared indicators that a new
//! report named. An objection is anonymous input: it informs, never decides. A reviewer (the
//! fraud helpdesk, victim support, the police or the operator) turns it into a dispute, which
//! is what makes the indicator `disputed`, or declines it.

use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::dispute::{self, ClearanceOutcome, RequestState};
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_store::{ClearanceReviewRow, DisputeRequestRow, NewDisputeRequest, Partner, RequestDecision};

use crate::disputes::{self as disputes, Dispute, DisputeServiceError};
use crate::state::Services;

/// The longest contact detail (an e-mail address or phone number) the form takes.
pub const MAX_CONTACT_CHARS: usize = 254;

/// An objection as the form sends it, before it is checked.
#[derive(Debug, Clone)]
pub struct ObjectionInput<'a> {
    pub indicator: &'a Indicator,
    pub reason: &'a str,
    pub contact: Option<&'a str>,
    /// `nl` or `en`.
    pub language: &'a str,
    /// A keyed pseudonym of the sender's address.
    pub submitter: String,
}

/// Why an objection is refused.
#[derive(Debug, thiserror::Error)]
pub enum ObjectionError {
    #[error("{0}")]
    Reason(dispute::ReasonError),
    #[error("the contact is not an e-mail address or phone number")]
    Contact,
    #[error(transparent)]
    Store(#[from] vangnet_store::StoreError),
}

/// A contact detail as stored: an e-mail address or a phone number in its canonical form.
fn contact(text: &str) -> Result<Option<String>, ObjectionError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_CONTACT_CHARS {
        return Err(ObjectionError::Contact);
    }
    let kind = if text.contains('@') {
        IndicatorKind::Email
    } else {
        IndicatorKind::Phone
    };
    Indicator::parse(Some(kind), text)
        .map(|i| Some(i.canonical().to_owned()))
        .map_err(|_| ObjectionError::Contact)
}

/// A new reference for an objection, short enough to read out on the phone:
/// `BZ-` and twelve hexadecimal digits in three groups (48 random bits).
fn reference() -> String {
    let hex = hex::encode_upper(&uuid::Uuid::new_v4().as_bytes()[..6]);
    format!("BZ-{}-{}-{}", &hex[0..4], &hex[4..8], &hex[8..12])
}

/// Whether `text` has the shape of an objection's reference.
pub fn is_reference(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 17
        && text.starts_with("BZ-")
        && b[7] == b'-'
        && b[12] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 0..=2 | 7 | 12) || c.is_ascii_digit() || (b'A'..=b'F').contains(c))
}

/// Stores an objection from the public form; returns its id (the person's reference).
pub async fn submit(app: &Services, input: ObjectionInput<'_>) -> Result<String, ObjectionError> {
    let reason = dispute::reason(input.reason).map_err(ObjectionError::Reason)?;
    let contact = input.contact.map(contact).transpose()?.flatten();
    let language = if input.language == "en" { "en" } else { "nl" };
    let id = reference();
    let new = NewDisputeRequest {
        id: id.clone(),
        kind: input.indicator.kind(),
        value: input.indicator.canonical().to_owned(),
        reason,
        contact,
        language: language.to_owned(),
        submitter: input.submitter,
    };
    app.store.add_dispute_request(&new, app.now()).await?;
    app.metrics.disputes.requests.inc();
    Ok(id)
}

fn reviewer(partner: &Partner) -> Result<(), DisputeServiceError> {
    if dispute::may_review_requests(partner.kind) {
        Ok(())
    } else {
        Err(DisputeServiceError::Forbidden(
            "only the fraud helpdesk, victim support, the police and the operator review objections".to_owned(),
        ))
    }
}

/// Objections in `state` (pending when `None`), oldest first; the read is audited (they hold
/// the person's own words and contact details).
pub async fn list(
    app: &Services,
    partner: &Partner,
    state: Option<RequestState>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<DisputeRequestRow>, DisputeServiceError> {
    reviewer(partner)?;
    let rows = app
        .store
        .dispute_requests(
            Some(state.unwrap_or(RequestState::Pending)),
            after,
            limit.clamp(1, disputes::MAX_PAGE),
        )
        .await?;
    audit_read(app, partner, &rows).await?;
    Ok(rows)
}

/// One objection, audited.
pub async fn read(app: &Services, partner: &Partner, id: &str) -> Result<DisputeRequestRow, DisputeServiceError> {
    reviewer(partner)?;
    if id.len() > 64 {
        return Err(DisputeServiceError::NotFound);
    }
    let row = app.store.dispute_request(id).await?.ok_or(DisputeServiceError::NotFound)?;
    audit_read(app, partner, std::slice::from_ref(&row)).await?;
    Ok(row)
}

async fn audit_read(app: &Services, partner: &Partner, rows: &[DisputeRequestRow]) -> Result<(), vangnet_store::StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let now = app.now();
    let events: Vec<AuditEvent> = rows
        .iter()
        .map(|r| AuditEvent {
            at: now,
            actor: partner.actor(),
            action: AuditAction::DisputeRequestRead,
            subject: format!("dispute_request:{}", r.id),
            details: "{}".to_owned(),
        })
        .collect();
    app.store.append_audit(&events).await
}

/// What a reviewer decided about an objection.
#[derive(Debug)]
pub enum Accepted {
    /// A dispute was opened for it.
    Opened(Dispute),
    /// The indicator had an open dispute already; the objection joins it.
    Joined { dispute_id: String },
}

/// Turns a pending objection into a dispute opened by the reviewer's partner, with the
/// person's reason; `note` is the reviewer's own reason for accepting it.
pub async fn accept(app: &Services, partner: &Partner, id: &str, note: &str) -> Result<Accepted, DisputeServiceError> {
    reviewer(partner)?;
    let note = dispute::reason(note).map_err(DisputeServiceError::Reason)?;
    let row = app.store.dispute_request(id).await?.ok_or(DisputeServiceError::NotFound)?;
    if row.state != RequestState::Pending {
        return Err(DisputeServiceError::RequestDecided);
    }
    let indicator = Indicator::parse(Some(row.kind), &row.value)
        .map_err(|_| DisputeServiceError::Store(vangnet_store::StoreError::Corrupt("a stored objection's value".to_owned())))?;
    let outcome = match disputes::open(app, partner, &indicator, &row.reason).await {
        Ok(dispute) => Accepted::Opened(dispute),
        Err(DisputeServiceError::AlreadyOpen { id }) => Accepted::Joined { dispute_id: id },
        Err(e) => return Err(e),
    };
    let dispute_id = match &outcome {
        Accepted::Opened(d) => d.row.id.clone(),
        Accepted::Joined { dispute_id } => dispute_id.clone(),
    };
    let decision = RequestDecision {
        to: RequestState::Accepted,
        reason: note,
        dispute_id: Some(dispute_id),
    };
    if !app.store.decide_dispute_request(id, &decision, &partner.actor(), app.now()).await? {
        return Err(DisputeServiceError::RequestDecided);
    }
    Ok(outcome)
}

/// Declines a pending objection, with the reason the person is told.
pub async fn decline(app: &Services, partner: &Partner, id: &str, reason: &str) -> Result<(), DisputeServiceError> {
    reviewer(partner)?;
    let reason = dispute::reason(reason).map_err(DisputeServiceError::Reason)?;
    let decision = RequestDecision {
        to: RequestState::Declined,
        reason,
        dispute_id: None,
    };
    if id.len() > 64 || app.store.dispute_request(id).await?.is_none() {
        return Err(DisputeServiceError::NotFound);
    }
    if !app.store.decide_dispute_request(id, &decision, &partner.actor(), app.now()).await? {
        return Err(DisputeServiceError::RequestDecided);
    }
    Ok(())
}

fn status_reviewer(partner: &Partner) -> Result<(), DisputeServiceError> {
    if partner.kind.may_set_indicator_status() {
        Ok(())
    } else {
        Err(DisputeServiceError::Forbidden(
            "only the police and the operator review cleared indicators".to_owned(),
        ))
    }
}

/// Reviews of cleared indicators that new reports named, oldest first (police, operator).
pub async fn clearance_reviews(
    app: &Services,
    partner: &Partner,
    open_only: bool,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<ClearanceReviewRow>, DisputeServiceError> {
    status_reviewer(partner)?;
    Ok(app
        .store
        .clearance_reviews(open_only, after, limit.clamp(1, disputes::MAX_PAGE))
        .await?)
}

/// Keeps a cleared indicator cleared, or makes it active again; the index follows at once here
/// and through the feed elsewhere.
pub async fn close_clearance_review(
    app: &Services,
    partner: &Partner,
    seq: i64,
    outcome: ClearanceOutcome,
    reason: &str,
) -> Result<ClearanceReviewRow, DisputeServiceError> {
    status_reviewer(partner)?;
    let reason = dispute::reason(reason).map_err(DisputeServiceError::Reason)?;
    let Some(review) = app.store.clearance_review(seq).await? else {
        return Err(DisputeServiceError::NotFound);
    };
    if review.closed_at.is_some() {
        return Err(DisputeServiceError::RequestDecided);
    }
    let subject = app.pseudonym(review.kind, &review.value);
    let (row, position) = app
        .store
        .close_clearance_review(seq, outcome, &reason, &partner.actor(), &subject, app.now())
        .await?
        .ok_or(DisputeServiceError::RequestDecided)?;
    {
        let mut index = app.index_mut();
        let key = index.key(row.kind, &row.value);
        index.set_status(key, outcome.indicator_status(), position);
    }
    Ok(row)
}
