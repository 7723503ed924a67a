//! PNBF recovery cases: opening (with the eligibility check and the payee's bank from the
//! directory), moves through the state machine of [`vangnet_core::pnbf`], the scheduler that
//! lets terms pass, the NAW encrypted at rest, and the views, dossier and figures built from
//! the stored cases. The HTTP API and the console and victim pages share this service; their
//! wire shapes are in `vangnet_wire::pnbf`.

mod directory;
mod figures;

pub use figures::{FigureRow, Figures, figure_rows, figure_rows_for, figures};

use std::collections::BTreeMap;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::index::RecordView;
use vangnet_core::indicator::Iban;
use vangnet_core::pnbf::{self as rules, CaseFacts, CaseState, FraudCategory, Move, Outcome, PaymentMethod, Side};
use vangnet_core::{Indicator, Money, Timestamp};
use vangnet_store::{Partner, PnbfCaseRow, PnbfEventRow, StoreError};

use crate::state::Services;

/// The note shown with every released NAW.
pub const NAW_NOTE: &str = "As known to the payee's bank; not guaranteed to be correct or current.";

/// Longest NAW field, bank reference, aangifte reference and reason.
pub const MAX_NAW_FIELD: usize = 200;
pub const MAX_REFERENCE: usize = 64;
pub const MAX_REASON: usize = 1_000;

/// Everything of a case that the store does not filter on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseBody {
    pub payer_iban: String,
    pub payee_iban: String,
    pub amount_minor: i64,
    pub currency: String,
    /// Milliseconds since the epoch (as every time in the body).
    pub paid_at: i64,
    pub method: String,
    pub category: String,
    pub aangifte: Option<String>,
    /// The victim's bank's own reference.
    pub reference: Option<String>,
    pub payee_bank_code: Option<String>,
    pub conditions: Vec<ConditionBody>,
    /// Repaid so far (full amount for `repaid`).
    pub repaid_minor: Option<i64>,
    pub outcome: Option<String>,
    pub reminder_sent: bool,
    pub naw_released_at: Option<i64>,
    pub naw_deleted_at: Option<i64>,
    /// When the case first reached each state (for the figures).
    pub reached: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConditionBody {
    pub code: String,
    pub met: bool,
    pub explanation: String,
}

/// The payee's name and address as the payee's bank entered it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Naw {
    pub name: String,
    pub address: String,
    pub town: String,
}

/// A case read from the store, with its body parsed.
#[derive(Debug, Clone)]
pub struct Case {
    pub row: PnbfCaseRow,
    pub body: CaseBody,
}

impl Case {
    fn from_row(row: PnbfCaseRow) -> Result<Case, PnbfError> {
        // The parser's message could quote stored values (IBANs): only the case id is named.
        let body = serde_json::from_str(&row.body).map_err(|_| {
            PnbfError::Store(StoreError::Database(format!(
                "the stored body of PNBF case {} cannot be read",
                row.id
            )))
        })?;
        Ok(Case { row, body })
    }

    pub fn state(&self) -> CaseState {
        CaseState::from_key(&self.row.state).unwrap_or(CaseState::Closed)
    }

    pub fn amount(&self) -> Money {
        Money::from_minor(
            self.body.amount_minor,
            vangnet_core::Currency::parse(&self.body.currency).unwrap_or(vangnet_core::Currency::EUR),
        )
    }

    pub fn repaid(&self) -> Option<Money> {
        self.body.repaid_minor.map(|m| Money::from_minor(m, self.amount().currency()))
    }

    /// The side `partner` is on, if any.
    pub fn side_of(&self, partner: &Partner) -> Option<Side> {
        if self.row.victim_bank == partner.seq {
            Some(Side::VictimBank)
        } else if self.row.payee_bank == Some(partner.seq) {
            Some(Side::PayeeBank)
        } else {
            None
        }
    }

    pub fn eligible(&self) -> bool {
        self.body.conditions.iter().all(|c| c.met)
    }

    /// The moves `side` may make now.
    pub fn moves_for(&self, side: Side) -> Vec<Move> {
        Move::ALL
            .into_iter()
            .filter(|m| rules::transition(self.state(), *m, side).is_ok())
            .collect()
    }

    /// Whether the case waits for `side` to act: the payee's bank to answer or release the NAW;
    /// the victim's bank to ask for the NAW or close the case once the payee has answered or
    /// the term has passed. (Withdrawing is always possible and does not count.)
    pub fn waiting_for(&self, side: Side) -> bool {
        let s = self.state();
        match side {
            Side::PayeeBank => s.awaits_payee_bank(),
            Side::VictimBank => matches!(
                s,
                CaseState::Repaid | CaseState::PartiallyRepaid | CaseState::Refused | CaseState::NoResponse | CaseState::NawReleased
            ),
            Side::System => false,
        }
    }

    /// The term has passed but the scheduler has not moved the case yet.
    pub fn overdue(&self, now: Timestamp) -> bool {
        self.row.term_ends.is_some_and(|t| t <= now)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PnbfError {
    #[error("{message}")]
    Invalid {
        code: &'static str,
        field: String,
        message: String,
    },
    #[error("no such case")]
    NotFound,
    #[error("the payer's account is not at your bank: only the bank that holds it opens a PNBF case")]
    NotPayersBank,
    #[error("{0}")]
    Move(rules::MoveError),
    #[error("the case changed while this move was made; read it again and retry")]
    Conflict,
    #[error("no NAW key is configured (pnbf.naw_key_file); the NAW cannot be entered or read")]
    NoKey,
    #[error("the stored NAW cannot be decrypted with the configured key")]
    Unreadable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> PnbfError {
    PnbfError::Invalid {
        code,
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A case to open, checked.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub payer: Iban,
    pub payee: Iban,
    pub amount: Money,
    pub paid_at: Timestamp,
    pub method: PaymentMethod,
    pub category: FraudCategory,
    pub aangifte: Option<String>,
    pub reference: Option<String>,
}

/// A move to make, checked.
#[derive(Debug, Clone)]
pub struct NewMove {
    pub mv: Move,
    pub reason: Option<String>,
    /// For `partially_repaid`: the amount repaid.
    pub amount: Option<Money>,
    /// For `release_naw`.
    pub naw: Option<Naw>,
    /// For `close`.
    pub outcome: Option<Outcome>,
}

/// Checks free text: trimmed, not empty, at most `max` characters, no control characters.
pub fn text(value: &str, field: &str, max: usize) -> Result<String, PnbfError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(invalid("invalid_text", field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(invalid("invalid_text", field, format!("at most {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid("invalid_text", field, "must not contain control characters"));
    }
    Ok(v.to_owned())
}

/// Parses a payment date: `YYYY-MM-DD` (taken as noon UTC) or RFC 3339.
pub fn paid_at(value: &str, field: &str) -> Result<Timestamp, PnbfError> {
    let v = value.trim();
    let text = if v.len() == 10 { format!("{v}T12:00:00Z") } else { v.to_owned() };
    Timestamp::parse_rfc3339(&text).map_err(|e| invalid("invalid_timestamp", field, format!("a date (YYYY-MM-DD) or RFC 3339 time: {e}")))
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The digest under which the victim's link is stored.
pub fn link_digest(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

fn random_hex(bytes: usize) -> Result<String, PnbfError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| PnbfError::Store(StoreError::Database(format!("no randomness: {e}"))))?;
    Ok(hex::encode(buf))
}

fn seal(key: &[u8; 32], case_id: &str, naw: &Naw) -> Result<Vec<u8>, PnbfError> {
    let cipher = ChaCha20Poly1305::new_from_slice(key).map_err(|_| PnbfError::NoKey)?;
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|e| PnbfError::Store(StoreError::Database(format!("no randomness: {e}"))))?;
    let plain = serde_json::to_vec(naw).map_err(|e| PnbfError::Store(StoreError::Database(e.to_string())))?;
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &plain,
                aad: case_id.as_bytes(),
            },
        )
        .map_err(|_| PnbfError::Unreadable)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn open_sealed(key: &[u8; 32], case_id: &str, sealed: &[u8]) -> Result<Naw, PnbfError> {
    let cipher = ChaCha20Poly1305::new_from_slice(key).map_err(|_| PnbfError::NoKey)?;
    if sealed.len() < 12 {
        return Err(PnbfError::Unreadable);
    }
    let (nonce, body) = sealed.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().map_err(|_| PnbfError::Unreadable)?;
    let plain = cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: body,
                aad: case_id.as_bytes(),
            },
        )
        .map_err(|_| PnbfError::Unreadable)?;
    serde_json::from_slice(&plain).map_err(|_| PnbfError::Unreadable)
}

/// The partner that holds accounts with this IBAN's bank code, from the directory.
pub async fn payee_bank_of(app: &Services, iban: &Iban) -> Result<Option<Partner>, PnbfError> {
    let Some(code) = iban.bank_code() else { return Ok(None) };
    let codes = app.store.pnbf_bank_codes().await?;
    let Some((_, seq)) = codes.into_iter().find(|(c, _)| c == code) else {
        return Ok(None);
    };
    Ok(Parties::load(app).await?.get(seq).cloned())
}

/// The partners a request names by `seq` (the two banks of its cases), read from the store
/// once per request rather than once per name.
#[derive(Debug)]
pub struct Parties(Vec<Partner>);

impl Parties {
    pub async fn load(app: &Services) -> Result<Parties, PnbfError> {
        Ok(Parties(app.store.partners().await?))
    }

    pub fn get(&self, seq: i64) -> Option<&Partner> {
        self.0.iter().find(|p| p.seq == seq)
    }

    /// A partner's name, empty when it is unknown.
    pub fn name(&self, seq: Option<i64>) -> Option<String> {
        seq.and_then(|s| self.get(s)).map(|p| p.name.clone())
    }

    pub fn all(&self) -> &[Partner] {
        &self.0
    }
}

async fn audit(app: &Services, partner_actor: &str, action: AuditAction, case_id: &str, details: String) -> Result<(), PnbfError> {
    app.store
        .append_audit(&[AuditEvent {
            at: app.now(),
            actor: partner_actor.to_owned(),
            action,
            subject: format!("pnbf_case:{case_id}"),
            details,
        }])
        .await?;
    Ok(())
}

/// Opens a case for the victim's bank `partner`. Returns the case and the victim's secret
/// link (shown once; only its digest is stored).
pub async fn open(app: &Services, partner: &Partner, input: NewCase) -> Result<(Case, String), PnbfError> {
    let now = app.now();
    let procedure = &app.settings.pnbf.procedure;
    // The victim's side is the bank that holds the payer's account: no bank opens cases (or
    // learns eligibility) for another bank's customers.
    match payee_bank_of(app, &input.payer).await? {
        Some(holder) if holder.seq == partner.seq => {}
        Some(_) => return Err(PnbfError::NotPayersBank),
        None => {
            return Err(invalid(
                "unknown_payer_bank",
                "payer_iban",
                format!(
                    "no partner handles bank code {} in the PNBF directory; only the bank that holds the payer's account opens a case",
                    input.payer.bank_code().unwrap_or("?")
                ),
            ));
        }
    }
    let police_reports = {
        let index = app.index();
        index.police_aangifte_reports(
            index.key_of(&Indicator::Iban(input.payee.clone())),
            &partner.viewer(),
            now,
            &app.settings.scoring,
        )
    };
    let conditions = rules::eligibility(
        &CaseFacts {
            payer: &input.payer,
            payee: &input.payee,
            paid_at: input.paid_at,
            method: input.method,
            category: input.category,
            aangifte: input.aangifte.as_deref(),
            police_reports_against_payee: police_reports,
        },
        procedure,
        now,
    );
    let eligible = conditions.iter().all(|c| c.met);
    let payee_bank = payee_bank_of(app, &input.payee).await?;
    if eligible && payee_bank.is_none() {
        return Err(invalid(
            "unknown_payee_bank",
            "payee_iban",
            format!(
                "no partner handles bank code {} in the PNBF directory; the request cannot be sent",
                input.payee.bank_code().unwrap_or("?")
            ),
        ));
    }
    if payee_bank.as_ref().is_some_and(|p| p.seq == partner.seq) && eligible {
        return Err(invalid(
            "invalid_parameter",
            "payee_iban",
            "the payee's account is at your own bank: handle it internally",
        ));
    }
    let state = if eligible { CaseState::Requested } else { CaseState::Ineligible };
    let id = uuid_v7();
    let secret = random_hex(32)?;
    let mut reached = BTreeMap::new();
    reached.insert(state.as_str().to_owned(), now.millis());
    let body = CaseBody {
        payer_iban: input.payer.as_str().to_owned(),
        payee_iban: input.payee.as_str().to_owned(),
        amount_minor: input.amount.minor(),
        currency: input.amount.currency().code().to_owned(),
        paid_at: input.paid_at.millis(),
        method: input.method.as_str().to_owned(),
        category: input.category.as_str().to_owned(),
        aangifte: input.aangifte,
        reference: input.reference,
        payee_bank_code: input.payee.bank_code().map(str::to_owned),
        conditions: conditions
            .iter()
            .map(|c| ConditionBody {
                code: c.code.to_owned(),
                met: c.met,
                explanation: c.explanation.clone(),
            })
            .collect(),
        repaid_minor: None,
        outcome: None,
        reminder_sent: false,
        naw_released_at: None,
        naw_deleted_at: None,
        reached,
    };
    let row = PnbfCaseRow {
        id: id.clone(),
        victim_bank: partner.seq,
        // An ineligible case is never sent: the payee's bank does not see it.
        payee_bank: payee_bank.as_ref().filter(|_| eligible).map(|p| p.seq),
        state: state.as_str().to_owned(),
        version: 1,
        opened_at: now,
        updated_at: now,
        term_ends: eligible.then(|| procedure.term_end(now)),
        remind_at: eligible.then(|| procedure.reminder_at(now)),
        naw_delete_at: None,
        link_digest: link_digest(&secret),
        body: to_json(&body)?,
        naw: None,
    };
    let failed: Vec<&str> = conditions.iter().filter(|c| !c.met).map(|c| c.code).collect();
    let event = PnbfEventRow {
        case_id: id.clone(),
        seq: 1,
        at: now,
        actor: partner.actor(),
        side: Side::VictimBank.as_str().to_owned(),
        event: "open".to_owned(),
        from_state: None,
        to_state: state.as_str().to_owned(),
        reason: None,
        details: serde_json::json!({ "eligible": eligible, "failed_conditions": failed }).to_string(),
    };
    app.store.pnbf_open(&row, &event).await?;
    audit(
        app,
        &partner.actor(),
        AuditAction::PnbfCaseOpen,
        &id,
        format!("{{\"state\":\"{}\"}}", state.as_str()),
    )
    .await?;
    Ok((Case { row, body }, secret))
}

fn to_json(body: &CaseBody) -> Result<String, PnbfError> {
    serde_json::to_string(body).map_err(|e| PnbfError::Store(StoreError::Database(e.to_string())))
}

fn uuid_v7() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A case `partner` may see (either side), or `NotFound` — the same answer for a case that
/// does not exist and one of other banks, so ids cannot be probed.
pub async fn case_for(app: &Services, partner: &Partner, id: &str) -> Result<(Case, Side), PnbfError> {
    if id.len() > 64 {
        return Err(PnbfError::NotFound);
    }
    let row = app.store.pnbf_case(id).await?.ok_or(PnbfError::NotFound)?;
    let case = Case::from_row(row)?;
    let side = case.side_of(partner).ok_or(PnbfError::NotFound)?;
    Ok((case, side))
}

/// Reads a case for a partner and records the read in the audit log.
pub async fn read(app: &Services, partner: &Partner, id: &str) -> Result<(Case, Side), PnbfError> {
    let (case, side) = case_for(app, partner, id).await?;
    audit_read(app, partner, &case, side).await?;
    Ok((case, side))
}

/// Reads a case for its victim's bank only (the dossier): `NotFound` for the payee's bank as
/// for anyone else, and audited only once the reader is known to be the victim's bank.
pub async fn read_as_victim_bank(app: &Services, partner: &Partner, id: &str) -> Result<Case, PnbfError> {
    let (case, side) = case_for(app, partner, id).await?;
    if side != Side::VictimBank {
        return Err(PnbfError::NotFound);
    }
    audit_read(app, partner, &case, side).await?;
    Ok(case)
}

async fn audit_read(app: &Services, partner: &Partner, case: &Case, side: Side) -> Result<(), PnbfError> {
    audit(
        app,
        &partner.actor(),
        AuditAction::PnbfCaseRead,
        &case.row.id,
        format!("{{\"side\":\"{}\"}}", side.as_str()),
    )
    .await
}

/// The case behind a victim's link.
pub async fn by_link(app: &Services, secret: &str) -> Result<Case, PnbfError> {
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PnbfError::NotFound);
    }
    let row = app
        .store
        .pnbf_case_by_link(&link_digest(secret))
        .await?
        .ok_or(PnbfError::NotFound)?;
    Case::from_row(row)
}

/// The released NAW of a case, for the victim's bank or the victim (`actor` says who); every
/// read is audited before the NAW is returned. `None` when none is held.
pub async fn naw(app: &Services, case: &Case, actor: &str) -> Result<Option<Naw>, PnbfError> {
    let Some(sealed) = &case.row.naw else { return Ok(None) };
    let key = app.settings.pnbf.naw_key.as_ref().ok_or(PnbfError::NoKey)?;
    let naw = open_sealed(key, &case.row.id, sealed)?;
    audit(app, actor, AuditAction::PnbfNawRead, &case.row.id, "{}".to_owned()).await?;
    Ok(Some(naw))
}

/// Makes a move on a case for `partner`.
pub async fn apply(app: &Services, partner: &Partner, id: &str, input: NewMove) -> Result<Case, PnbfError> {
    let (case, side) = case_for(app, partner, id).await?;
    let changed = change(app, case, side, &partner.actor(), input).await?;
    audit(
        app,
        &partner.actor(),
        AuditAction::PnbfCaseMove,
        &changed.row.id,
        format!("{{\"state\":\"{}\"}}", changed.row.state),
    )
    .await?;
    Ok(changed)
}

/// Checks a move against the state machine and its own conditions, and writes the new case
/// and its event (if nobody changed the case in between).
async fn change(app: &Services, case: Case, side: Side, actor: &str, input: NewMove) -> Result<Case, PnbfError> {
    let now = app.now();
    let procedure = &app.settings.pnbf.procedure;
    let from = case.state();
    let to = rules::transition(from, input.mv, side).map_err(PnbfError::Move)?;
    let Case { row, mut body } = case;
    let mut next = row.clone();
    let mut details = serde_json::Map::new();
    match input.mv {
        Move::Repaid => body.repaid_minor = Some(body.amount_minor),
        Move::PartiallyRepaid => {
            let amount = input
                .amount
                .ok_or_else(|| invalid("missing_field", "amount", "partially_repaid needs the amount repaid"))?;
            if amount.currency().code() != body.currency || amount.minor() <= 0 || amount.minor() >= body.amount_minor {
                return Err(invalid(
                    "invalid_amount",
                    "amount",
                    format!(
                        "a partial repayment is more than 0 and less than the {} {} paid",
                        Money::from_minor(body.amount_minor, amount.currency()).decimal(),
                        body.currency
                    ),
                ));
            }
            body.repaid_minor = Some(amount.minor());
            details.insert("amount".to_owned(), amount.decimal().into());
        }
        Move::ReleaseNaw => {
            let naw = input
                .naw
                .ok_or_else(|| invalid("missing_field", "naw", "release_naw needs the name, address and town"))?;
            let key = app.settings.pnbf.naw_key.as_ref().ok_or(PnbfError::NoKey)?;
            next.naw = Some(seal(key, &row.id, &naw)?);
            next.naw_delete_at = Some(procedure.naw_delete_at(now));
            body.naw_released_at = Some(now.millis());
        }
        Move::Close => {
            let outcome = input
                .outcome
                .ok_or_else(|| invalid("missing_field", "outcome", "close needs an outcome"))?;
            body.outcome = Some(outcome.as_str().to_owned());
            details.insert("outcome".to_owned(), outcome.as_str().into());
        }
        Move::Withdraw if input.reason.is_none() => {
            return Err(invalid("missing_field", "reason", "a withdrawal needs a reason"));
        }
        Move::Withdraw | Move::Refused | Move::TermExpired | Move::RequestNaw => {}
    }
    if from == CaseState::Requested {
        next.term_ends = None;
        next.remind_at = None;
    }
    body.reached.entry(to.as_str().to_owned()).or_insert(now.millis());
    next.state = to.as_str().to_owned();
    let change = Change {
        actor: (actor, side),
        event: input.mv.as_str(),
        from_state: from.as_str(),
        reason: input.reason,
        details: serde_json::Value::Object(details).to_string(),
    };
    write_next(app, next, body, change, now).await
}

/// What one new version of a case records in its event.
struct Change<'a> {
    actor: (&'a str, Side),
    event: &'a str,
    from_state: &'a str,
    reason: Option<String>,
    details: String,
}

/// Writes `next` (made from the stored case, one version on) with its event, if nobody changed
/// the case since it was read; `Conflict` otherwise.
async fn write_next(app: &Services, mut next: PnbfCaseRow, body: CaseBody, change: Change<'_>, now: Timestamp) -> Result<Case, PnbfError> {
    let expected = next.version;
    next.version = expected + 1;
    next.updated_at = now;
    next.body = to_json(&body)?;
    let event = PnbfEventRow {
        case_id: next.id.clone(),
        seq: next.version,
        at: now,
        actor: change.actor.0.to_owned(),
        side: change.actor.1.as_str().to_owned(),
        event: change.event.to_owned(),
        from_state: Some(change.from_state.to_owned()),
        to_state: next.state.clone(),
        reason: change.reason,
        details: change.details,
    };
    if !app.store.pnbf_update(&next, expected, &event).await? {
        return Err(PnbfError::Conflict);
    }
    Ok(Case { row: next, body })
}

/// A change that does not move the state: the platform's reminder and deletion of the NAW, and
/// a new victim's link made by the victim's bank.
async fn housekeeping(
    app: &Services,
    case: Case,
    (actor, side): (&str, Side),
    event: &str,
    edit: impl FnOnce(&mut PnbfCaseRow, &mut CaseBody),
) -> Result<Case, PnbfError> {
    let now = app.now();
    let Case { row, mut body } = case;
    let mut next = row.clone();
    edit(&mut next, &mut body);
    let change = Change {
        actor: (actor, side),
        event,
        from_state: &row.state,
        reason: None,
        details: "{}".to_owned(),
    };
    write_next(app, next, body, change, now).await
}

/// Makes a new secret link for the victim (the victim's bank only, e.g. when the customer lost
/// the first); the old link stops working. Returns the new secret, shown once.
pub async fn new_link(app: &Services, partner: &Partner, id: &str) -> Result<String, PnbfError> {
    let (case, side) = case_for(app, partner, id).await?;
    if side != Side::VictimBank {
        return Err(PnbfError::NotFound);
    }
    let secret = random_hex(32)?;
    let digest = link_digest(&secret);
    let changed = housekeeping(app, case, (&partner.actor(), Side::VictimBank), "new_link", |row, _| {
        row.link_digest = digest;
    })
    .await?;
    audit(
        app,
        &partner.actor(),
        AuditAction::PnbfCaseMove,
        &changed.row.id,
        "{\"new_link\":true}".to_owned(),
    )
    .await?;
    Ok(secret)
}

/// What one run of the scheduler did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    pub expired: usize,
    pub reminded: usize,
    pub naw_deleted: usize,
}

/// Lets due terms pass, sends due reminders and deletes NAW past its retention. Safe to run
/// on several nodes at once: a case changed by another node is left to it.
pub async fn sweep(app: &Services) -> Result<Sweep, PnbfError> {
    let now = app.now();
    let mut done = Sweep::default();
    for row in app.store.pnbf_due(now).await? {
        let id = row.id.clone();
        let result: Result<(), PnbfError> = async {
            let mut case = Case::from_row(row)?;
            if case.state() == CaseState::Requested && case.row.term_ends.is_some_and(|t| t <= now) {
                case = change(
                    app,
                    case,
                    Side::System,
                    "system",
                    NewMove {
                        mv: Move::TermExpired,
                        reason: Some(format!(
                            "the payee's term of {} days passed without an answer",
                            app.settings.pnbf.procedure.term_days
                        )),
                        amount: None,
                        naw: None,
                        outcome: None,
                    },
                )
                .await?;
                audit(
                    app,
                    "system",
                    AuditAction::PnbfCaseMove,
                    &case.row.id,
                    "{\"state\":\"no_response\"}".to_owned(),
                )
                .await?;
                done.expired += 1;
            } else if case.row.remind_at.is_some_and(|t| t <= now) {
                case = housekeeping(app, case, ("system", Side::System), "reminder", |row, body| {
                    row.remind_at = None;
                    body.reminder_sent = true;
                })
                .await?;
                done.reminded += 1;
            }
            if case.row.naw_delete_at.is_some_and(|t| t <= now) {
                let deleted = housekeeping(app, case, ("system", Side::System), "naw_deleted", |row, body| {
                    row.naw = None;
                    row.naw_delete_at = None;
                    body.naw_deleted_at = Some(now.millis());
                })
                .await?;
                audit(
                    app,
                    "system",
                    AuditAction::PnbfCaseMove,
                    &deleted.row.id,
                    "{\"naw_deleted\":true}".to_owned(),
                )
                .await?;
                done.naw_deleted += 1;
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) | Err(PnbfError::Conflict) => {}
            // One case that cannot be handled must not hold up the others' terms.
            Err(e) => tracing::error!(case = %id, error = %e, "a PNBF case could not be moved on; the others go ahead"),
        }
    }
    Ok(done)
}

/// Runs [`sweep`] every `tick` until `stop`.
pub async fn scheduler(app: Services, stop: CancellationToken) {
    let tick = app.settings.pnbf.tick;
    loop {
        match sweep(&app).await {
            Ok(s) if s != Sweep::default() => {
                tracing::info!(
                    expired = s.expired,
                    reminded = s.reminded,
                    naw_deleted = s.naw_deleted,
                    "PNBF terms"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "PNBF scheduler run failed; trying again at the next tick"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(tick) => {}
        }
    }
}

/// The cases of a partner's outbox (as the victim's bank) or inbox (as the payee's bank):
/// those waiting for the partner first, overdue before due, then by term, then newest.
pub async fn cases_of(app: &Services, partner: &Partner, side: Side) -> Result<Vec<Case>, PnbfError> {
    let now = app.now();
    let mut cases: Vec<Case> = app
        .store
        .pnbf_cases(Some(partner.seq))
        .await?
        .into_iter()
        .map(Case::from_row)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|c| c.side_of(partner) == Some(side))
        .collect();
    cases.sort_by_key(|c| {
        (
            !c.waiting_for(side),
            !c.overdue(now),
            c.row.term_ends.map_or(i64::MAX, Timestamp::millis),
            std::cmp::Reverse(c.row.opened_at),
        )
    });
    Ok(cases)
}

/// The registry's record of the payee's account as the victim's bank may see it (under TLP),
/// the evidence of a case's dossier; `None` when the payee IBAN does not parse.
pub fn evidence(app: &Services, viewer: &Partner, payee_iban: &str) -> Option<RecordView> {
    let iban = Iban::parse(payee_iban).ok()?;
    Some(app.registry.view(&Indicator::Iban(iban), &viewer.viewer(), app.now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naw_is_sealed_to_its_case() {
        let key = [7u8; 32];
        let naw = Naw {
            name: "J. de Vries".to_owned(),
            address: "Dorpsstraat 1".to_owned(),
            town: "Utrecht".to_owned(),
        };
        let sealed = seal(&key, "case-1", &naw).expect("sealed");
        assert!(!String::from_utf8_lossy(&sealed).contains("Vries"));
        assert_eq!(open_sealed(&key, "case-1", &sealed).expect("opened"), naw);
        assert!(matches!(open_sealed(&key, "case-2", &sealed), Err(PnbfError::Unreadable)));
        assert!(matches!(open_sealed(&[8u8; 32], "case-1", &sealed), Err(PnbfError::Unreadable)));
        assert!(matches!(open_sealed(&key, "case-1", &sealed[..5]), Err(PnbfError::Unreadable)));
        // A fresh nonce every time.
        assert_ne!(seal(&key, "case-1", &naw).expect("sealed"), sealed);
    }

    #[test]
    fn dates_and_text() {
        assert_eq!(paid_at("2026-11-01", "f").expect("date").to_rfc3339(), "2026-11-01T12:00:00Z");
        assert!(paid_at("01-11-2026", "f").is_err());
        assert!(text("  ", "f", 10).is_err());
        assert!(text("a\u{7}b", "f", 10).is_err());
        assert!(text("elf tekens!", "f", 10).is_err());
        assert_eq!(text(" ok ", "f", 10).expect("ok"), "ok");
    }
}
