//! The PNBF wire shapes: a case to open and a move on it, a case as one of its banks sees it,
//! the list entry, the dossier, the figures (JSON and CSV) and the bank-code directory. The API
//! routes and the console pages both build their answers from these.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::PartnerKind;
use vangnet_core::Timestamp;
use vangnet_core::index::RecordView;
use vangnet_core::indicator::Iban;
use vangnet_core::pnbf::{CaseState, FraudCategory, Move, Outcome, PaymentMethod, Side};
use vangnet_services::Services;
use vangnet_services::pnbf::{self, Case, FigureRow, Figures, Naw, NewCase, NewMove, Parties, PnbfError};
use vangnet_store::Partner;

use crate::error::WireError;
use crate::registry::MoneyJson;

/// A field error of the PNBF service as a wire error.
fn field_error(e: PnbfError) -> WireError {
    match e {
        PnbfError::Invalid { code, field, message } => WireError::invalid(code, field, message),
        other => WireError::invalid("invalid_request", ".", other.to_string()),
    }
}

/// A case to open: the victim's payment and what happened.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseIn {
    #[schema(example = "NL02ABNA0123456789")]
    pub payer_iban: String,
    #[schema(example = "NL91ABNA0417164300")]
    pub payee_iban: String,
    pub amount: MoneyJson,
    /// The payment date, `YYYY-MM-DD` or RFC 3339.
    #[schema(example = "2026-11-02")]
    pub paid_at: String,
    /// `transfer`, `payment_request`, `card` or `money_transfer`.
    pub method: String,
    /// `fake_seller` (fake seller or web shop) or `message_or_phone`.
    pub category: String,
    /// The aangifte reference (police report number).
    pub aangifte: Option<String>,
    /// The bank's own reference for the case.
    pub reference: Option<String>,
}

/// A move on a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    /// Payee's bank: `repaid`, `partially_repaid`, `refused`, `release_naw`. Victim's bank:
    /// `request_naw`, `close`, `withdraw`.
    pub event: String,
    /// Why (required for `withdraw`).
    pub reason: Option<String>,
    /// For `partially_repaid`: the amount the payee repaid.
    pub amount: Option<MoneyJson>,
    /// For `release_naw`.
    pub naw: Option<NawJson>,
    /// For `close`: `recovered`, `partly_recovered`, `civil_claim` or `not_recovered`.
    pub outcome: Option<String>,
}

/// The payee's name and address (*naam, adres, woonplaats*).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NawJson {
    pub name: String,
    pub address: String,
    pub town: String,
}

/// A party of the case.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyOut {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOut {
    pub payer_iban: String,
    pub payee_iban: String,
    pub amount: MoneyJson,
    pub paid_at: String,
    pub method: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConditionOut {
    /// `payment_age`, `dutch_accounts`, `payment_method`, `aangifte`, `reports_against_payee`.
    pub code: String,
    pub met: bool,
    pub explanation: String,
}

/// The released NAW, for the victim's bank only.
#[derive(Debug, Serialize, ToSchema)]
pub struct NawOut {
    pub name: String,
    pub address: String,
    pub town: String,
    pub released_at: String,
    /// When it is deleted.
    pub delete_at: Option<String>,
    /// "As known to the payee's bank; not guaranteed …".
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub seq: i64,
    pub at: String,
    /// `partner:<id>` or `system`.
    pub actor: String,
    pub side: String,
    pub event: String,
    pub from: Option<String>,
    pub to: String,
    pub reason: Option<String>,
    pub details: serde_json::Value,
}

/// A case as one of its banks sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseOut {
    pub id: String,
    pub state: String,
    /// `victim_bank` or `payee_bank`: the reader's side.
    pub your_side: String,
    pub victim_bank: PartyOut,
    pub payee_bank: Option<PartyOut>,
    pub payment: PaymentOut,
    pub category: String,
    pub aangifte: Option<String>,
    pub reference: Option<String>,
    pub eligible: bool,
    pub conditions: Vec<ConditionOut>,
    pub opened_at: String,
    pub updated_at: String,
    /// When the payee's term ends, while it runs.
    pub term_ends: Option<String>,
    /// The term has passed (the scheduler moves the case on shortly).
    pub overdue: bool,
    pub reminder_sent: bool,
    pub repaid: Option<MoneyJson>,
    pub outcome: Option<String>,
    /// Only for the victim's bank, once released and until deleted.
    pub naw: Option<NawOut>,
    pub naw_deleted_at: Option<String>,
    /// The moves the reader may make now.
    pub allowed_events: Vec<String>,
    pub events: Vec<EventOut>,
    /// Only in the answer that opens the case: the victim's secret link (path), shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub victim_link: Option<String>,
}

/// A case in a list, without its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    pub id: String,
    pub state: String,
    pub your_side: String,
    pub other_bank: Option<String>,
    pub amount: MoneyJson,
    pub paid_at: String,
    pub opened_at: String,
    pub term_ends: Option<String>,
    pub overdue: bool,
    /// Whether the reader has a move to make.
    pub waiting_for_you: bool,
    pub reference: Option<String>,
}

/// The NAW for a reader who may see it; a NAW that cannot be decrypted (wrong or missing key)
/// is left out and logged (by case id), so the rest of the case can still be worked.
pub async fn readable_naw(state: &Services, case: &Case, actor: &str) -> Result<Option<Naw>, PnbfError> {
    match pnbf::naw(state, case, actor).await {
        Ok(n) => Ok(n),
        Err(PnbfError::NoKey | PnbfError::Unreadable) => {
            tracing::error!(case = %case.row.id, "the NAW of this case cannot be read with the configured key (pnbf.naw_key_file)");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn money(m: vangnet_core::Money) -> MoneyJson {
    MoneyJson::from(m)
}

fn party(parties: &Parties, seq: i64) -> Option<PartyOut> {
    parties.get(seq).map(|p| PartyOut {
        id: p.id.clone(),
        name: p.name.clone(),
    })
}

/// Builds the full view of a case for the reader on `side`; the NAW (victim's bank only) is
/// decrypted and its read audited.
pub async fn case_out(state: &Services, case: &Case, side: Side, reader: &Partner) -> Result<CaseOut, PnbfError> {
    let events = state.store.pnbf_events(&case.row.id).await?;
    let parties = Parties::load(state).await?;
    let naw = if side == Side::VictimBank {
        readable_naw(state, case, &reader.actor()).await?.map(|n| NawOut {
            name: n.name,
            address: n.address,
            town: n.town,
            released_at: case
                .body
                .naw_released_at
                .map(|t| Timestamp::from_millis(t).to_rfc3339())
                .unwrap_or_default(),
            delete_at: case.row.naw_delete_at.map(Timestamp::to_rfc3339),
            note: pnbf::NAW_NOTE.to_owned(),
        })
    } else {
        None
    };
    Ok(CaseOut {
        id: case.row.id.clone(),
        state: case.row.state.clone(),
        your_side: side.as_str().to_owned(),
        victim_bank: party(&parties, case.row.victim_bank).unwrap_or(PartyOut {
            id: String::new(),
            name: String::new(),
        }),
        payee_bank: case.row.payee_bank.and_then(|seq| party(&parties, seq)),
        payment: PaymentOut {
            payer_iban: case.body.payer_iban.clone(),
            payee_iban: case.body.payee_iban.clone(),
            amount: money(case.amount()),
            paid_at: Timestamp::from_millis(case.body.paid_at).date_string(),
            method: case.body.method.clone(),
        },
        category: case.body.category.clone(),
        aangifte: case.body.aangifte.clone(),
        reference: case.body.reference.clone(),
        eligible: case.eligible(),
        conditions: case
            .body
            .conditions
            .iter()
            .map(|c| ConditionOut {
                code: c.code.clone(),
                met: c.met,
                explanation: c.explanation.clone(),
            })
            .collect(),
        opened_at: case.row.opened_at.to_rfc3339(),
        updated_at: case.row.updated_at.to_rfc3339(),
        term_ends: case.row.term_ends.map(Timestamp::to_rfc3339),
        overdue: case.overdue(state.now()),
        reminder_sent: case.body.reminder_sent,
        repaid: case.repaid().map(money),
        outcome: case.body.outcome.clone(),
        naw,
        naw_deleted_at: case.body.naw_deleted_at.map(|t| Timestamp::from_millis(t).to_rfc3339()),
        allowed_events: case.moves_for(side).iter().map(|m| m.as_str().to_owned()).collect(),
        events: events
            .into_iter()
            .map(|e| EventOut {
                seq: e.seq,
                at: e.at.to_rfc3339(),
                actor: e.actor,
                side: e.side,
                event: e.event,
                from: e.from_state,
                to: e.to_state,
                reason: e.reason,
                details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
        victim_link: None,
    })
}

/// Checks a case to open.
pub fn new_case(input: &CaseIn) -> Result<NewCase, WireError> {
    let iban = |value: &str, field: &str| {
        Iban::parse(value).map_err(|e| WireError::invalid("invalid_iban", field, format!("not a valid IBAN: {e}")))
    };
    let payer = iban(&input.payer_iban, "payer_iban")?;
    let payee = iban(&input.payee_iban, "payee_iban")?;
    let amount = input.amount.parse("amount")?;
    if amount.minor() <= 0 {
        return Err(WireError::invalid(
            "invalid_amount",
            "amount.value",
            "the amount must be more than 0",
        ));
    }
    let paid_at = pnbf::paid_at(&input.paid_at, "paid_at").map_err(field_error)?;
    let method = PaymentMethod::from_key(&input.method).ok_or_else(|| {
        WireError::invalid(
            "invalid_payment_method",
            "method",
            "one of transfer, payment_request, card, money_transfer",
        )
    })?;
    let category = FraudCategory::from_key(&input.category)
        .ok_or_else(|| WireError::invalid("invalid_category", "category", "one of fake_seller, message_or_phone"))?;
    let optional = |v: &Option<String>, field: &str| -> Result<Option<String>, WireError> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => Ok(Some(pnbf::text(t, field, pnbf::MAX_REFERENCE).map_err(field_error)?)),
        }
    };
    Ok(NewCase {
        payer,
        payee,
        amount,
        paid_at,
        method,
        category,
        aangifte: optional(&input.aangifte, "aangifte")?,
        reference: optional(&input.reference, "reference")?,
    })
}

/// Checks a move.
pub fn new_move(input: &EventIn) -> Result<NewMove, WireError> {
    let mv = Move::from_key(&input.event).filter(|m| *m != Move::TermExpired).ok_or_else(|| {
        WireError::invalid(
            "invalid_event",
            "event",
            "one of repaid, partially_repaid, refused, request_naw, release_naw, close, withdraw",
        )
    })?;
    let reason = match input.reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => Some(pnbf::text(r, "reason", pnbf::MAX_REASON).map_err(field_error)?),
    };
    let amount = input.amount.as_ref().map(|a| a.parse("amount")).transpose()?;
    let naw = match &input.naw {
        None => None,
        Some(n) => Some(Naw {
            name: pnbf::text(&n.name, "naw.name", pnbf::MAX_NAW_FIELD).map_err(field_error)?,
            address: pnbf::text(&n.address, "naw.address", pnbf::MAX_NAW_FIELD).map_err(field_error)?,
            town: pnbf::text(&n.town, "naw.town", pnbf::MAX_NAW_FIELD).map_err(field_error)?,
        }),
    };
    let outcome = input
        .outcome
        .as_deref()
        .map(|o| {
            Outcome::from_key(o).ok_or_else(|| {
                WireError::invalid(
                    "invalid_outcome",
                    "outcome",
                    "one of recovered, partly_recovered, civil_claim, not_recovered",
                )
            })
        })
        .transpose()?;
    Ok(NewMove {
        mv,
        reason,
        amount,
        naw,
        outcome,
    })
}

pub fn summary(parties: &Parties, now: Timestamp, case: &Case, side: Side) -> CaseSummary {
    let other = match side {
        Side::VictimBank => case.row.payee_bank,
        _ => Some(case.row.victim_bank),
    };
    CaseSummary {
        id: case.row.id.clone(),
        state: case.row.state.clone(),
        your_side: side.as_str().to_owned(),
        other_bank: parties.name(other),
        amount: money(case.amount()),
        paid_at: Timestamp::from_millis(case.body.paid_at).date_string(),
        opened_at: case.row.opened_at.to_rfc3339(),
        term_ends: case.row.term_ends.map(Timestamp::to_rfc3339),
        overdue: case.overdue(now),
        waiting_for_you: case.waiting_for(side),
        reference: case.body.reference.clone(),
    }
}

/// A case with its history (only the two banks involved; others get 404). Every read is audited.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    /// The path of the victim's page, shown once; the earlier link no longer works.
    pub victim_link: String,
}

/// Makes a new secret link for the victim (victim's bank only), e.g. when the customer lost the
/// first; the old link stops working. Recorded as the case event `new_link`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierOut {
    pub case: CaseOut,
    /// The registry's evidence against the payee's account, as the victim's bank may see it.
    pub registry_evidence: Option<EvidenceOut>,
    pub generated_at: String,
}

/// The registry evidence against the payee's account, as the victim's bank may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceOut {
    pub status: String,
    pub score: f64,
    pub reports: u32,
    pub aangifte_reports: u32,
    pub reporting_partners: u32,
    /// Police reports the reader may see (under TLP).
    pub police_reports: u32,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub fraud_types: Vec<String>,
    pub reasons: Vec<String>,
}

impl From<RecordView> for EvidenceOut {
    fn from(view: RecordView) -> EvidenceOut {
        EvidenceOut {
            status: view.status.as_str().to_owned(),
            score: (view.score * 1000.0).round() / 1000.0,
            reports: view.reports,
            aangifte_reports: view.aangifte_reports,
            reporting_partners: view.reporting_partners,
            police_reports: PartnerKind::ALL
                .iter()
                .position(|k| *k == PartnerKind::Police)
                .and_then(|i| view.by_source.get(i))
                .map_or(0, |s| s.0),
            first_seen: view.first_seen.map(Timestamp::date_string),
            last_seen: view.last_seen.map(Timestamp::date_string),
            fraud_types: view
                .fraud_type_counts()
                .iter()
                .map(|(t, n)| format!("{} ({n})", t.as_str()))
                .collect(),
            reasons: view.reasons(),
        }
    }
}

pub async fn dossier_out(state: &Services, case: &Case, partner: &Partner) -> Result<DossierOut, PnbfError> {
    Ok(DossierOut {
        case: case_out(state, case, Side::VictimBank, partner).await?,
        registry_evidence: pnbf::evidence(state, partner, &case.body.payee_iban).map(EvidenceOut::from),
        generated_at: state.now().to_rfc3339(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BankCodeOut {
    #[schema(example = "INGB")]
    pub code: String,
    pub partner: PartyOut,
}

/// The partner that handles a bank code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankCodeIn {
    /// The partner's id or exact name (a bank or PSP).
    pub partner: String,
}

/// The PNBF partner directory: which partner handles the accounts of each bank code.
/// One row of the figures: a bank in one role, or everything.
#[derive(Debug, Serialize)]
pub struct FigureRowOut {
    /// The bank's name, or `total`.
    pub bank: String,
    /// `victim_bank`, `payee_bank` or `all`.
    pub role: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// The figures as `GET /api/v1/pnbf/figures` answers them.
#[derive(Debug, Serialize)]
pub struct FiguresAnswer {
    pub generated_at: String,
    pub rows: Vec<FigureRowOut>,
}

impl FiguresAnswer {
    pub fn new(rows: Vec<FigureRow>, now: Timestamp) -> FiguresAnswer {
        FiguresAnswer {
            generated_at: now.to_rfc3339(),
            rows: rows
                .into_iter()
                .map(|r| FigureRowOut {
                    bank: r.bank,
                    role: r.role,
                    figures: r.figures,
                })
                .collect(),
        }
    }
}

/// The figures as CSV: one line per row, the maps spread over columns.
pub fn figures_csv(rows: &[FigureRow]) -> String {
    let mut out = String::from(
        "bank,role,cases,ineligible,repaid,partially_repaid,refused,no_response,naw_released,withdrawn,closed,\
         median_days_repaid,median_days_partially_repaid,median_days_refused,median_days_no_response,median_days_naw_released,\
         recovered_eur,claimed_eur\n",
    );
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    for r in rows {
        let f = &r.figures;
        let median = |s: CaseState| f.median_days.get(s.as_str()).map(|d| d.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            field(&r.bank),
            r.role,
            f.cases,
            f.ineligible,
            f.repaid,
            f.partially_repaid,
            f.refused,
            f.no_response,
            f.naw_released,
            f.withdrawn,
            f.closed,
            median(CaseState::Repaid),
            median(CaseState::PartiallyRepaid),
            median(CaseState::Refused),
            median(CaseState::NoResponse),
            median(CaseState::NawReleased),
            f.recovered.get("EUR").cloned().unwrap_or_else(|| "0.00".to_owned()),
            f.claimed.get("EUR").cloned().unwrap_or_else(|| "0.00".to_owned()),
        ));
    }
    out
}
