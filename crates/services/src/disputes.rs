//! Disputes (*bezwaar*): a partner opens one on behalf of the person concerned, the indicator
//! answers `disputed` at once (here at once, on every other node within one change-feed
//! cycle), and a decider upholds it (`cleared`) or rejects it (`active` again). The rules are
//! in `vangnet_core::dispute`; this module checks who may do what, keeps the index in step and
//! audits every read. The HTTP API, the console and the CLI reach disputes through here.

use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::dispute::{self, DisputeError, DisputeMove, DisputePolicy, DisputeState, ReasonError};
use vangnet_core::index::IndicatorStatus;
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::FraudType;
use vangnet_core::timestamp::DAY_MILLIS;
use vangnet_store::{DisputeChange, DisputeEvent, DisputeRow, NewDispute, OpenOutcome, Partner, StoreError};

use crate::state::Services;

/// The most disputes one list answers.
pub const MAX_PAGE: u32 = 500;

/// Why a dispute request is refused.
#[derive(Debug, thiserror::Error)]
pub enum DisputeServiceError {
    #[error("{0}")]
    Reason(ReasonError),
    #[error("{0}")]
    Forbidden(String),
    /// The holder's IBAN is at another bank (or no bank in the directory).
    #[error("the account is not held by your bank: only the holder's own bank or PSP opens a dispute about an IBAN")]
    NotHoldersBank,
    #[error("no such dispute")]
    NotFound,
    #[error("the indicator has an open dispute already")]
    AlreadyOpen { id: String },
    #[error("{0}")]
    Move(DisputeError),
    #[error("the dispute changed while this move was made; read it again and retry")]
    Changed,
    /// An objection or review was decided before; the first decision stands.
    #[error("a reviewer decided about this before; the first decision stands")]
    RequestDecided,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A dispute with what the reader may do with it.
#[derive(Debug, Clone)]
pub struct Dispute {
    pub row: DisputeRow,
    /// The indicator's main fraud type (which decides who decides).
    pub fraud_type: Option<FraudType>,
    /// The moves the reader may make now.
    pub moves: Vec<DisputeMove>,
    pub overdue: bool,
    /// The reminder is due: the decision is due within `remind_days_before` days.
    pub due_soon: bool,
}

impl Dispute {
    fn new(policy: &DisputePolicy, row: DisputeRow, fraud_type: Option<FraudType>, reader: &Partner, now: Timestamp) -> Dispute {
        let opener = row.opener_seq == reader.seq;
        let moves = [DisputeMove::Uphold, DisputeMove::Reject, DisputeMove::Withdraw]
            .into_iter()
            .filter(|mv| policy.transition(row.state, *mv, reader.kind, opener, fraud_type).is_ok())
            .collect();
        let overdue = dispute::overdue(row.state, row.due_at, now);
        let due_soon = row.state == DisputeState::Open && !overdue && row.remind_at.is_some_and(|t| t <= now);
        Dispute {
            row,
            fraud_type,
            moves,
            overdue,
            due_soon,
        }
    }
}

fn policy(app: &Services) -> &DisputePolicy {
    &app.settings.disputes
}

/// Whether `kind` decides disputes of any fraud type.
fn decides_some(policy: &DisputePolicy, kind: PartnerKind) -> bool {
    policy.deciders.contains(&kind) || policy.deciders_by_fraud_type.values().any(|k| k.contains(&kind))
}

/// Whether a partner of `kind` works the queue of every dispute and reads the figures: the
/// operator and whoever decides disputes of some fraud type.
pub fn works_the_queue(app: &Services, kind: PartnerKind) -> bool {
    kind == PartnerKind::Operator || decides_some(policy(app), kind)
}

/// Whether `reader` may see `row`: its opener, the operator and its deciders.
fn may_read(policy: &DisputePolicy, reader: &Partner, row: &DisputeRow, fraud_type: Option<FraudType>) -> bool {
    row.opener_seq == reader.seq || reader.kind == PartnerKind::Operator || policy.deciders(fraud_type).contains(&reader.kind)
}

/// The main fraud type of an indicator over all its counted reports (from its record).
async fn fraud_type_of(app: &Services, kind: IndicatorKind, value: &str) -> Result<Option<FraudType>, StoreError> {
    if policy(app).deciders_by_fraud_type.is_empty() {
        return Ok(None);
    }
    Ok(app
        .store
        .indicator(kind, value)
        .await?
        .and_then(|row| dispute::main_fraud_type(&row.fraud_types)))
}

/// Whether `partner` is the bank the PNBF directory names for the IBAN's bank code.
async fn holds_iban(app: &Services, partner: &Partner, indicator: &Indicator) -> Result<bool, StoreError> {
    let facts = indicator.facts();
    let (Some("NL"), Some(code)) = (facts.country.as_deref(), facts.bank_code.as_deref()) else {
        return Ok(false);
    };
    Ok(app
        .store
        .pnbf_bank_codes()
        .await?
        .into_iter()
        .any(|(c, seq)| c == code && seq == partner.seq))
}

/// Opens a dispute about `indicator` for `partner`, on behalf of the person concerned. The
/// indicator answers `disputed` on this node at once.
pub async fn open(app: &Services, partner: &Partner, indicator: &Indicator, reason: &str) -> Result<Dispute, DisputeServiceError> {
    if !DisputePolicy::may_open(partner.kind) {
        return Err(DisputeServiceError::Forbidden(format!(
            "a partner of kind `{}` does not open disputes; the person's own bank, the police, the fraud helpdesk, \
             victim support or the operator does",
            partner.kind.as_str()
        )));
    }
    let reason = dispute::reason(reason).map_err(DisputeServiceError::Reason)?;
    if partner.kind.holds_accounts() && indicator.kind() == IndicatorKind::Iban && !holds_iban(app, partner, indicator).await? {
        return Err(DisputeServiceError::NotHoldersBank);
    }
    let now = app.now();
    let policy = policy(app);
    let new = NewDispute {
        id: uuid::Uuid::now_v7().to_string(),
        kind: indicator.kind(),
        value: indicator.canonical().to_owned(),
        reason,
        due_at: policy.due(now),
        remind_at: Some(policy.remind_at(now)),
        audit_subject: app.pseudonym(indicator.kind(), indicator.canonical()),
    };
    match app.store.open_dispute(&new, partner, now).await? {
        OpenOutcome::Opened { dispute, position } => {
            apply_status(app, dispute.kind, &dispute.value, DisputeState::Open.indicator_status(), position);
            app.metrics.disputes.opened.inc();
            let fraud_type = fraud_type_of(app, dispute.kind, &dispute.value).await?;
            Ok(Dispute::new(policy, dispute, fraud_type, partner, now))
        }
        OpenOutcome::AlreadyOpen { id } => Err(DisputeServiceError::AlreadyOpen { id }),
    }
}

/// Sets an indicator's status in this node's index (other nodes follow the feed).
fn apply_status(app: &Services, kind: IndicatorKind, value: &str, status: IndicatorStatus, position: i64) {
    let mut index = app.index_mut();
    let key = index.key(kind, value);
    index.set_status(key, status, position);
}

/// A dispute `partner` may see, without auditing (for internal use and the moves).
async fn load(app: &Services, partner: &Partner, id: &str) -> Result<Dispute, DisputeServiceError> {
    if id.len() > 64 {
        return Err(DisputeServiceError::NotFound);
    }
    let row = app.store.dispute(id).await?.ok_or(DisputeServiceError::NotFound)?;
    let fraud_type = fraud_type_of(app, row.kind, &row.value).await?;
    if !may_read(policy(app), partner, &row, fraud_type) {
        return Err(DisputeServiceError::NotFound);
    }
    Ok(Dispute::new(policy(app), row, fraud_type, partner, app.now()))
}

/// A dispute and its moves, as `partner` may see them; the read is audited (the dispute holds
/// the person's own words).
pub async fn read(app: &Services, partner: &Partner, id: &str) -> Result<(Dispute, Vec<DisputeEvent>), DisputeServiceError> {
    let dispute = load(app, partner, id).await?;
    let events = app.store.dispute_events(id).await?;
    audit_read(app, partner, std::slice::from_ref(&dispute)).await?;
    Ok((dispute, events))
}

async fn audit_read(app: &Services, partner: &Partner, disputes: &[Dispute]) -> Result<(), StoreError> {
    if disputes.is_empty() {
        return Ok(());
    }
    let now = app.now();
    let events: Vec<AuditEvent> = disputes
        .iter()
        .map(|d| AuditEvent {
            at: now,
            actor: partner.actor(),
            action: AuditAction::DisputeRead,
            subject: app.pseudonym(d.row.kind, &d.row.value),
            details: serde_json::json!({ "dispute": d.row.id }).to_string(),
        })
        .collect();
    app.store.append_audit(&events).await
}

/// Decides (`Uphold`, `Reject`) or withdraws a dispute. `expected_version`, when given, is the
/// version the mover read: a move made in between makes this one [`DisputeServiceError::Changed`].
pub async fn apply(
    app: &Services,
    partner: &Partner,
    id: &str,
    mv: DisputeMove,
    reason: &str,
    expected_version: Option<i64>,
) -> Result<Dispute, DisputeServiceError> {
    let reason = dispute::reason(reason).map_err(DisputeServiceError::Reason)?;
    let current = load(app, partner, id).await?;
    let opener = current.row.opener_seq == partner.seq;
    let to = policy(app)
        .transition(current.row.state, mv, partner.kind, opener, current.fraud_type)
        .map_err(DisputeServiceError::Move)?;
    if expected_version.is_some_and(|v| v != current.row.version) {
        return Err(DisputeServiceError::Changed);
    }
    let change = DisputeChange {
        to,
        expected_version: current.row.version,
        reason,
        audit_subject: app.pseudonym(current.row.kind, &current.row.value),
    };
    let now = app.now();
    let (row, position) = app
        .store
        .move_dispute(id, &change, &partner.actor(), now)
        .await?
        .ok_or(DisputeServiceError::Changed)?;
    apply_status(app, row.kind, &row.value, to.indicator_status(), position);
    let m = &app.metrics.disputes;
    let counter = match to {
        DisputeState::Upheld => &m.upheld,
        DisputeState::Rejected => &m.rejected,
        DisputeState::Withdrawn | DisputeState::Open => &m.withdrawn,
    };
    counter.inc();
    Ok(Dispute::new(policy(app), row, current.fraud_type, partner, now))
}

/// What a list of disputes holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The disputes this partner opened.
    Own,
    /// The disputes this partner decides (every dispute, for the operator).
    Queue,
}

/// Disputes `partner` may see, oldest first: its own, or the queue of those it decides (the
/// default for deciders). Paged by the id of the last dispute of the previous page. Every
/// dispute listed is audited as read.
pub async fn list(
    app: &Services,
    partner: &Partner,
    scope: Option<Scope>,
    state: Option<DisputeState>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Dispute>, DisputeServiceError> {
    let policy = policy(app);
    let limit = limit.clamp(1, MAX_PAGE);
    let queue = works_the_queue(app, partner.kind);
    let scope = scope.unwrap_or(if queue { Scope::Queue } else { Scope::Own });
    if scope == Scope::Queue && !queue {
        return Err(DisputeServiceError::Forbidden(format!(
            "a partner of kind `{}` decides no disputes; list your own with `scope=own`",
            partner.kind.as_str()
        )));
    }
    let opener = (scope == Scope::Own).then_some(partner.seq);
    let now = app.now();
    let mut out = Vec::new();
    let mut cursor = after.map(str::to_owned);
    // Rows a decider may not see (another fraud type's deciders) are skipped; a few pages of
    // the store are read at most.
    for _ in 0..8 {
        let rows = app.store.disputes(state, opener, cursor.as_deref(), limit).await?;
        let exhausted = rows.len() < limit as usize;
        for row in rows {
            cursor = Some(row.id.clone());
            let fraud_type = fraud_type_of(app, row.kind, &row.value).await?;
            if may_read(policy, partner, &row, fraud_type) && out.len() < limit as usize {
                out.push(Dispute::new(policy, row, fraud_type, partner, now));
            }
        }
        if exhausted || out.len() >= limit as usize {
            break;
        }
    }
    audit_read(app, partner, &out).await?;
    Ok(out)
}

/// The disputes about one indicator that `partner` may see (for its record page).
pub async fn of_indicator(
    app: &Services,
    partner: &Partner,
    kind: IndicatorKind,
    value: &str,
) -> Result<Vec<Dispute>, DisputeServiceError> {
    let policy = policy(app);
    let fraud_type = fraud_type_of(app, kind, value).await?;
    let now = app.now();
    Ok(app
        .store
        .disputes_of(kind, value)
        .await?
        .into_iter()
        .filter(|row| may_read(policy, partner, row, fraud_type))
        .map(|row| Dispute::new(policy, row, fraud_type, partner, now))
        .collect())
}

/// The operator's figures about disputes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DisputeFigures {
    pub opened: u64,
    pub open: u64,
    pub overdue: u64,
    pub upheld: u64,
    pub rejected: u64,
    pub withdrawn: u64,
    /// The median days from opening to a decision (upheld or rejected), if any was decided.
    pub median_days_to_decision: Option<f64>,
    /// Decisions made after their due date.
    pub decided_late: u64,
}

/// Calls `visit` with every dispute (in `state`, or all), reading them a page at a time.
async fn each_dispute(app: &Services, state: Option<DisputeState>, mut visit: impl FnMut(&DisputeRow)) -> Result<(), StoreError> {
    const PAGE: u32 = 1_000;
    let mut after: Option<String> = None;
    loop {
        let rows = app.store.disputes(state, None, after.as_deref(), PAGE).await?;
        rows.iter().for_each(&mut visit);
        match rows.last() {
            Some(last) if rows.len() == PAGE as usize => after = Some(last.id.clone()),
            _ => return Ok(()),
        }
    }
}

/// Counts every dispute (operators and deciders).
pub async fn figures(app: &Services, partner: &Partner) -> Result<DisputeFigures, DisputeServiceError> {
    if !works_the_queue(app, partner.kind) {
        return Err(DisputeServiceError::Forbidden(
            "only the operator and the deciders read the dispute figures".to_owned(),
        ));
    }
    let now = app.now();
    let mut figures = DisputeFigures::default();
    let mut days = Vec::new();
    each_dispute(app, None, |row| {
        figures.opened += 1;
        match row.state {
            DisputeState::Open => {
                figures.open += 1;
                if dispute::overdue(row.state, row.due_at, now) {
                    figures.overdue += 1;
                }
            }
            DisputeState::Upheld => figures.upheld += 1,
            DisputeState::Rejected => figures.rejected += 1,
            DisputeState::Withdrawn => figures.withdrawn += 1,
        }
        if let (DisputeState::Upheld | DisputeState::Rejected, Some(decided)) = (row.state, row.decided_at) {
            days.push((decided.millis() - row.opened_at.millis()) as f64 / DAY_MILLIS as f64);
            if decided > row.due_at {
                figures.decided_late += 1;
            }
        }
    })
    .await?;
    days.sort_by(f64::total_cmp);
    figures.median_days_to_decision = match days.len() {
        0 => None,
        n if n % 2 == 1 => Some(days[n / 2]),
        n => Some((days[n / 2 - 1] + days[n / 2]) / 2.0),
    };
    Ok(figures)
}

/// Open disputes whose reminder is due or whose decision is overdue, counted for the metrics
/// (the queue marks them; the reviewers' console shows them first).
pub async fn refresh_gauges(app: &Services) -> Result<(), StoreError> {
    let now = app.now();
    let (mut open, mut overdue, mut due_soon) = (0i64, 0i64, 0i64);
    each_dispute(app, Some(DisputeState::Open), |row| {
        open += 1;
        if dispute::overdue(row.state, row.due_at, now) {
            overdue += 1;
        } else if row.remind_at.is_some_and(|t| t <= now) {
            due_soon += 1;
        }
    })
    .await?;
    let m = &app.metrics.disputes;
    m.open.set(open);
    m.overdue.set(overdue);
    m.due_soon.set(due_soon);
    Ok(())
}

/// Counts the open, due-soon and overdue disputes every `pnbf.tick` (the same scheduler tick)
/// until `stop`, and logs the overdue count when it changes.
pub async fn scheduler(app: Services, stop: tokio_util::sync::CancellationToken) {
    let tick = app.settings.pnbf.tick;
    let mut last_overdue = 0;
    loop {
        match refresh_gauges(&app).await {
            Ok(()) => {
                let overdue = app.metrics.disputes.overdue.get();
                if overdue != last_overdue {
                    tracing::info!(overdue, "disputes past their decision date");
                    last_overdue = overdue;
                }
            }
            Err(e) => tracing::warn!(error = %e, "dispute terms could not be counted; trying again at the next tick"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(tick) => {}
        }
    }
}
