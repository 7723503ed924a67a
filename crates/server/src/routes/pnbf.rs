//! PNBF recovery cases between banks (API.md "PNBF recovery cases"):
//! `POST /api/v1/pnbf/cases`, `GET /api/v1/pnbf/cases`, `GET /api/v1/pnbf/cases/{id}`,
//! `POST /api/v1/pnbf/cases/{id}/events`, `GET /api/v1/pnbf/cases/{id}/dossier`,
//! `GET /api/v1/pnbf/figures` and the bank-code directory `GET /api/v1/pnbf/bank-codes`,
//! `PUT`/`DELETE /api/v1/pnbf/bank-codes/{code}`.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::indicator::Iban;
use vangnet_core::pnbf::{FraudCategory, Move, Outcome, PaymentMethod, Side};
use vangnet_core::{PartnerKind, Timestamp};
use vangnet_store::Partner;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::pnbf::{self, Case, Naw, NewCase, NewMove, Parties, PnbfError};
use crate::state::AppState;
use crate::wire::MoneyJson;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pnbf/cases", post(open).get(list))
        .route("/api/v1/pnbf/cases/{id}", get(read))
        .route("/api/v1/pnbf/cases/{id}/events", post(event))
        .route("/api/v1/pnbf/cases/{id}/dossier", get(dossier))
        .route("/api/v1/pnbf/cases/{id}/link", post(new_link))
        .route("/api/v1/pnbf/figures", get(figures))
        .route("/api/v1/pnbf/bank-codes", get(bank_codes))
        .route("/api/v1/pnbf/bank-codes/{code}", put(set_bank_code).delete(remove_bank_code))
}

impl From<PnbfError> for ApiError {
    fn from(e: PnbfError) -> ApiError {
        match e {
            PnbfError::Invalid { code, field, message } => ApiError::invalid(code, field, message),
            PnbfError::NotFound => ApiError::not_found("case"),
            PnbfError::NotPayersBank => ApiError::new(StatusCode::FORBIDDEN, "not_payers_bank", e.to_string()).with_field("payer_iban"),
            // API.md: a move the state machine does not allow is 409, also one of the other side.
            PnbfError::Move(m) => ApiError::new(StatusCode::CONFLICT, m.code(), m.to_string()).with_field("event"),
            PnbfError::Conflict => ApiError::new(StatusCode::CONFLICT, "case_changed", e.to_string()),
            PnbfError::NoKey => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "naw_key_missing", e.to_string()),
            PnbfError::Unreadable => {
                tracing::error!("a stored NAW could not be decrypted: is pnbf.naw_key_file the key it was written with?");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "naw_unreadable", e.to_string())
            }
            PnbfError::Store(e) => e.into(),
        }
    }
}

/// Answers that carry personal data are not kept by caches.
const NO_STORE: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store")];

fn banks_only(partner: &Partner) -> Result<(), ApiError> {
    if partner.kind.holds_accounts() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only banks and payment service providers take part in PNBF cases",
        ))
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
pub async fn readable_naw(state: &AppState, case: &Case, actor: &str) -> Result<Option<Naw>, ApiError> {
    match pnbf::naw(state, case, actor).await {
        Ok(n) => Ok(n),
        Err(PnbfError::NoKey | PnbfError::Unreadable) => {
            tracing::error!(case = %case.row.id, "the NAW of this case cannot be read with the configured key (pnbf.naw_key_file)");
            Ok(None)
        }
        Err(e) => Err(e.into()),
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
pub async fn case_out(state: &AppState, case: &Case, side: Side, reader: &Partner) -> Result<CaseOut, ApiError> {
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
pub fn new_case(input: &CaseIn) -> Result<NewCase, ApiError> {
    let iban = |value: &str, field: &str| {
        Iban::parse(value).map_err(|e| ApiError::invalid("invalid_iban", field, format!("not a valid IBAN: {e}")))
    };
    let payer = iban(&input.payer_iban, "payer_iban")?;
    let payee = iban(&input.payee_iban, "payee_iban")?;
    let amount = input.amount.parse("amount")?;
    if amount.minor() <= 0 {
        return Err(ApiError::invalid(
            "invalid_amount",
            "amount.value",
            "the amount must be more than 0",
        ));
    }
    let paid_at = pnbf::paid_at(&input.paid_at, "paid_at")?;
    let method = PaymentMethod::from_key(&input.method).ok_or_else(|| {
        ApiError::invalid(
            "invalid_payment_method",
            "method",
            "one of transfer, payment_request, card, money_transfer",
        )
    })?;
    let category = FraudCategory::from_key(&input.category)
        .ok_or_else(|| ApiError::invalid("invalid_category", "category", "one of fake_seller, message_or_phone"))?;
    let optional = |v: &Option<String>, field: &str| -> Result<Option<String>, ApiError> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => Ok(Some(pnbf::text(t, field, pnbf::MAX_REFERENCE)?)),
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
pub fn new_move(input: &EventIn) -> Result<NewMove, ApiError> {
    let mv = Move::from_key(&input.event).filter(|m| *m != Move::TermExpired).ok_or_else(|| {
        ApiError::invalid(
            "invalid_event",
            "event",
            "one of repaid, partially_repaid, refused, request_naw, release_naw, close, withdraw",
        )
    })?;
    let reason = match input.reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => Some(pnbf::text(r, "reason", pnbf::MAX_REASON)?),
    };
    let amount = input.amount.as_ref().map(|a| a.parse("amount")).transpose()?;
    let naw = match &input.naw {
        None => None,
        Some(n) => Some(Naw {
            name: pnbf::text(&n.name, "naw.name", pnbf::MAX_NAW_FIELD)?,
            address: pnbf::text(&n.address, "naw.address", pnbf::MAX_NAW_FIELD)?,
            town: pnbf::text(&n.town, "naw.town", pnbf::MAX_NAW_FIELD)?,
        }),
    };
    let outcome = input
        .outcome
        .as_deref()
        .map(|o| {
            Outcome::from_key(o).ok_or_else(|| {
                ApiError::invalid(
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

/// Opens a case (the victim's bank).
#[utoipa::path(post, path = "/api/v1/pnbf/cases", tag = "pnbf", request_body = CaseIn,
    responses(
        (status = 201, description = "Opened: `requested`, or `ineligible` with the conditions not met; `victim_link` shown once", body = CaseOut),
        (status = 403, description = "Only banks and PSPs", body = ErrorBody),
        (status = 422, description = "Invalid input, or the payee's bank is not in the directory (`unknown_payee_bank`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn open(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiJson(input): ApiJson<CaseIn>,
) -> Result<(StatusCode, [(header::HeaderName, &'static str); 1], Json<CaseOut>), ApiError> {
    banks_only(&partner)?;
    let new = new_case(&input)?;
    let (case, secret) = pnbf::open(&state, &partner, new).await?;
    let mut out = case_out(&state, &case, Side::VictimBank, &partner).await?;
    out.victim_link = Some(format!("/zaak/{secret}"));
    Ok((StatusCode::CREATED, NO_STORE, Json(out)))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `outbox` (cases this bank opened) or `inbox` (requests to this bank); both when absent.
    pub r#box: Option<String>,
}

/// The bank's cases: outbox and inbox, those waiting for it first, overdue before due.
#[utoipa::path(get, path = "/api/v1/pnbf/cases", tag = "pnbf",
    params(("box" = Option<String>, Query, description = "`outbox` or `inbox`")),
    responses((status = 200, description = "The cases", body = [CaseSummary]), (status = 403, description = "Only banks and PSPs", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(partner): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<CaseSummary>>, ApiError> {
    banks_only(&partner)?;
    let sides: &[Side] = match q.r#box.as_deref() {
        None => &[Side::VictimBank, Side::PayeeBank],
        Some("outbox") => &[Side::VictimBank],
        Some("inbox") => &[Side::PayeeBank],
        Some(_) => return Err(ApiError::invalid("invalid_parameter", "box", "outbox or inbox")),
    };
    let parties = Parties::load(&state).await?;
    let now = state.now();
    let mut out = Vec::new();
    for side in sides {
        for case in pnbf::cases_of(&state, &partner, *side).await? {
            out.push(summary(&parties, now, &case, *side));
        }
    }
    Ok(Json(out))
}

/// A case in a list, as the bank on `side` sees it at `now`.
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
#[utoipa::path(get, path = "/api/v1/pnbf/cases/{id}", tag = "pnbf",
    params(("id" = String, Path, description = "The case id")),
    responses((status = 200, description = "The case", body = CaseOut), (status = 403, description = "Only banks and payment service providers", body = ErrorBody), (status = 404, description = "No such case, or not one of this bank's", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn read(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<CaseOut>), ApiError> {
    banks_only(&partner)?;
    let (case, side) = pnbf::read(&state, &partner, &id).await?;
    Ok((NO_STORE, Json(case_out(&state, &case, side, &partner).await?)))
}

/// Moves a case on. A move the state machine does not allow → 409 `transition_not_allowed`;
/// a move of the other bank → 409 `wrong_side`.
#[utoipa::path(post, path = "/api/v1/pnbf/cases/{id}/events", tag = "pnbf", request_body = EventIn,
    params(("id" = String, Path, description = "The case id")),
    responses(
        (status = 200, description = "The case after the move", body = CaseOut),
        (status = 403, description = "Not a bank or PSP", body = ErrorBody),
        (status = 404, description = "No such case, or not one of this bank's", body = ErrorBody),
        (status = 409, description = "Not allowed from the case's state (`transition_not_allowed`), the other bank's move (`wrong_side`), or changed meanwhile (`case_changed`)", body = ErrorBody),
        (status = 422, description = "Invalid input", body = ErrorBody),
        (status = 503, description = "No NAW key configured (`naw_key_missing`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn event(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<EventIn>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<CaseOut>), ApiError> {
    banks_only(&partner)?;
    let mv = new_move(&input)?;
    let case = pnbf::apply(&state, &partner, &id, mv).await?;
    let side = case.side_of(&partner).unwrap_or(Side::VictimBank);
    Ok((NO_STORE, Json(case_out(&state, &case, side, &partner).await?)))
}

/// A new victim's link.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    /// The path of the victim's page, shown once; the earlier link no longer works.
    pub victim_link: String,
}

/// Makes a new secret link for the victim (victim's bank only), e.g. when the customer lost the
/// first; the old link stops working. Recorded as the case event `new_link`.
#[utoipa::path(post, path = "/api/v1/pnbf/cases/{id}/link", tag = "pnbf",
    params(("id" = String, Path, description = "The case id")),
    responses((status = 200, description = "The new link, shown once", body = LinkOut), (status = 403, description = "Only banks and payment service providers", body = ErrorBody), (status = 404, description = "No such case, or not opened by this bank", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn new_link(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<LinkOut>), ApiError> {
    banks_only(&partner)?;
    let secret = pnbf::new_link(&state, &partner, &id).await?;
    Ok((
        NO_STORE,
        Json(LinkOut {
            victim_link: format!("/zaak/{secret}"),
        }),
    ))
}

/// The dossier for civil recovery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierOut {
    pub case: CaseOut,
    /// The registry's evidence against the payee's account, as the victim's bank may see it.
    #[schema(value_type = Object)]
    pub registry_evidence: Option<pnbf::Evidence>,
    pub generated_at: String,
}

#[derive(Debug, Deserialize)]
pub struct DossierQuery {
    /// `json` (default) or `html` (for print).
    pub format: Option<String>,
}

/// The dossier for a bailiff or court: payment, aangifte, timeline, the NAW once released and
/// the registry evidence against the payee's account. Victim's bank only; JSON, or HTML for
/// print with `?format=html`.
#[utoipa::path(get, path = "/api/v1/pnbf/cases/{id}/dossier", tag = "pnbf",
    params(("id" = String, Path, description = "The case id"), ("format" = Option<String>, Query, description = "`json` or `html`")),
    responses((status = 200, description = "The dossier", body = DossierOut), (status = 403, description = "Only banks and payment service providers", body = ErrorBody), (status = 404, description = "No such case, or not opened by this bank", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn dossier(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(id): ApiPath<String>,
    Query(q): Query<DossierQuery>,
) -> Result<Response, ApiError> {
    banks_only(&partner)?;
    let case = pnbf::read_as_victim_bank(&state, &partner, &id).await?;
    let out = dossier_out(&state, &case, &partner).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok((NO_STORE, Json(out)).into_response()),
        Some("html") => Ok(crate::web::pnbf::dossier_page(&out).into_response()),
        Some(_) => Err(ApiError::invalid("invalid_parameter", "format", "json or html")),
    }
}

pub async fn dossier_out(state: &AppState, case: &Case, partner: &Partner) -> Result<DossierOut, ApiError> {
    Ok(DossierOut {
        case: case_out(state, case, Side::VictimBank, partner).await?,
        registry_evidence: pnbf::evidence(state, partner, &case.body.payee_iban),
        generated_at: state.now().to_rfc3339(),
    })
}

#[derive(Debug, Deserialize)]
pub struct FiguresQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// Figures of the procedure per bank (as victim's bank and as payee's bank) and in total. The
/// operator sees every bank's rows; a bank or PSP its own rows and the total; other partners
/// the total.
#[utoipa::path(get, path = "/api/v1/pnbf/figures", tag = "pnbf",
    params(("format" = Option<String>, Query, description = "`json` or `csv`")),
    responses((status = 200, description = "Figures", body = Object)),
    security(("bearer" = []))
)]
pub async fn figures(State(state): State<AppState>, Caller(partner): Caller, Query(q): Query<FiguresQuery>) -> Result<Response, ApiError> {
    let rows = pnbf::figure_rows_for(&state, &partner).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(serde_json::json!({ "generated_at": state.now().to_rfc3339(), "rows": rows })).into_response()),
        Some("csv") => Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], pnbf::figures_csv(&rows)).into_response()),
        Some(_) => Err(ApiError::invalid("invalid_parameter", "format", "json or csv")),
    }
}

/// One entry of the bank-code directory.
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
#[utoipa::path(get, path = "/api/v1/pnbf/bank-codes", tag = "pnbf",
    responses((status = 200, description = "The directory", body = [BankCodeOut])),
    security(("bearer" = []))
)]
pub async fn bank_codes(State(state): State<AppState>, Caller(_partner): Caller) -> Result<Json<Vec<BankCodeOut>>, ApiError> {
    let partners = state.store.partners().await?;
    let out = state
        .store
        .pnbf_bank_codes()
        .await?
        .into_iter()
        .filter_map(|(code, seq)| {
            partners.iter().find(|p| p.seq == seq).map(|p| BankCodeOut {
                code,
                partner: PartyOut {
                    id: p.id.clone(),
                    name: p.name.clone(),
                },
            })
        })
        .collect();
    Ok(Json(out))
}

fn bank_code(code: &str) -> Result<String, ApiError> {
    vangnet_core::pnbf::bank_code(code)
        .ok_or_else(|| ApiError::invalid("invalid_bank_code", "code", "a Dutch bank code is four letters (e.g. INGB)"))
}

async fn directory_audit(state: &AppState, partner: &Partner, code: &str, details: String) -> Result<(), ApiError> {
    state
        .store
        .append_audit(&[AuditEvent {
            at: state.now(),
            actor: partner.actor(),
            action: AuditAction::PnbfDirectoryChange,
            subject: format!("bank_code:{code}"),
            details,
        }])
        .await?;
    Ok(())
}

/// Points a bank code at a partner (operators only).
#[utoipa::path(put, path = "/api/v1/pnbf/bank-codes/{code}", tag = "pnbf", request_body = BankCodeIn,
    params(("code" = String, Path, description = "Four-letter bank code")),
    responses((status = 200, description = "Set", body = BankCodeOut), (status = 403, description = "Operators only", body = ErrorBody), (status = 422, description = "Invalid code or partner", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn set_bank_code(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<BankCodeIn>,
) -> Result<Json<BankCodeOut>, ApiError> {
    if partner.kind != PartnerKind::Operator {
        return Err(ApiError::forbidden("only the platform operator keeps the PNBF directory"));
    }
    let code = bank_code(&code)?;
    let target = state
        .store
        .partner(&input.partner)
        .await?
        .filter(|p| p.kind.holds_accounts())
        .ok_or_else(|| ApiError::invalid("unknown_partner", "partner", "no bank or PSP with that id or name"))?;
    state.store.pnbf_set_bank_code(&code, Some(target.seq), state.now()).await?;
    directory_audit(&state, &partner, &code, format!("{{\"partner\":\"{}\"}}", target.id)).await?;
    Ok(Json(BankCodeOut {
        code,
        partner: PartyOut {
            id: target.id,
            name: target.name,
        },
    }))
}

/// Removes a bank code from the directory (operators only).
#[utoipa::path(delete, path = "/api/v1/pnbf/bank-codes/{code}", tag = "pnbf",
    params(("code" = String, Path, description = "Four-letter bank code")),
    responses((status = 204, description = "Removed"), (status = 403, description = "Operators only", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn remove_bank_code(
    State(state): State<AppState>,
    Caller(partner): Caller,
    ApiPath(code): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if partner.kind != PartnerKind::Operator {
        return Err(ApiError::forbidden("only the platform operator keeps the PNBF directory"));
    }
    let code = bank_code(&code)?;
    state.store.pnbf_set_bank_code(&code, None, state.now()).await?;
    directory_audit(&state, &partner, &code, "{\"removed\":true}".to_owned()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bank_codes_are_four_letters() {
        assert_eq!(bank_code("ingb").expect("valid"), "INGB");
        assert!(bank_code("IN1B").is_err());
    }
}
