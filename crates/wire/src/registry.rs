//! JSON wire types shared by several routes, and their conversion to and from domain types.
//! Only this crate knows them; the domain core has no serialisation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::index::{CheckStatus, RecordView};
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_core::report::{AgeBand, Channel, FraudType, IndicatorRole, NewReport, ReportDraft, Tlp};
use vangnet_core::{Currency, Money, Timestamp};
use vangnet_store::StoredReport;

use crate::error::{ErrorDetail, WireError};

/// An indicator as a client gives it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorIn {
    /// `iban`, `phone`, `url`, `domain`, `email`, `crypto` or `handle`; detected when left out.
    #[schema(example = "iban")]
    pub kind: Option<String>,
    /// The value as written; it is normalised.
    #[schema(example = "NL91 ABNA 0417 1643 00")]
    pub value: String,
    /// In a report: the part the indicator played (`payee`, `caller`, `seller`, `website` …).
    pub role: Option<String>,
}

/// A money amount: a decimal string and an ISO 4217 currency.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyJson {
    #[schema(example = "250.00")]
    pub value: String,
    #[schema(example = "EUR")]
    pub currency: String,
}

impl From<Money> for MoneyJson {
    fn from(m: Money) -> Self {
        MoneyJson {
            value: m.decimal(),
            currency: m.currency().code().to_owned(),
        }
    }
}

impl MoneyJson {
    pub fn parse(&self, field: &str) -> Result<Money, WireError> {
        let currency = Currency::parse(self.currency.trim())
            .map_err(|e| WireError::invalid("invalid_amount", format!("{field}.currency"), e.to_string()))?;
        Money::parse(&self.value, currency).map_err(|e| WireError::invalid("invalid_amount", format!("{field}.value"), e.to_string()))
    }
}

/// Parses a key of one of the domain's vocabularies, or explains which keys exist.
pub fn parse_key<T>(
    value: &str,
    field: &str,
    code: &'static str,
    keys: &[&str],
    from_key: impl Fn(&str) -> Option<T>,
) -> Result<T, WireError> {
    from_key(value).ok_or_else(|| WireError::invalid(code, field, format!("must be one of: {}", keys.join(", "))))
}

/// The kind named in a request, if any.
pub fn parse_kind(kind: Option<&str>, field: &str) -> Result<Option<IndicatorKind>, WireError> {
    kind.map(|k| {
        IndicatorKind::from_key(k).ok_or_else(|| {
            WireError::invalid(
                "unknown_indicator_kind",
                field,
                "kind must be one of: iban, phone, url, domain, email, crypto, handle",
            )
        })
    })
    .transpose()
}

impl IndicatorIn {
    /// The normalised indicator; errors name `{prefix}.kind` or `{prefix}.value`.
    pub fn parse(&self, prefix: &str) -> Result<Indicator, WireError> {
        let kind = parse_kind(self.kind.as_deref(), &format!("{prefix}.kind"))?;
        Indicator::parse(kind, &self.value).map_err(|e| WireError::indicator(&e, format!("{prefix}.value")))
    }
}

/// A report as a partner submits it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    /// The partner's own id for this report; a resubmission with the same id is not stored
    /// twice.
    pub external_id: Option<String>,
    #[schema(example = "marketplace")]
    pub fraud_type: String,
    #[schema(example = "marketplace")]
    pub channel: Option<String>,
    #[schema(example = "2026-11-01T10:00:00Z")]
    pub occurred_at: String,
    pub amount: Option<MoneyJson>,
    /// Whether the victim filed an aangifte (police report).
    #[serde(default)]
    pub aangifte: bool,
    /// `0-17` … `75+` or `unknown` (the default); for statistics only.
    pub victim_age_band: Option<String>,
    /// `clear`, `green`, `amber` (the default), `amber+strict` or `red`.
    pub tlp: Option<String>,
    /// Free text, at most 4,000 characters.
    pub description: Option<String>,
    /// At most 50.
    pub indicators: Vec<IndicatorIn>,
}

impl ReportIn {
    /// The checked report; errors name fields under `prefix` (empty for a single report).
    pub fn into_new(self, prefix: &str, now: Timestamp) -> Result<NewReport, WireError> {
        let field = |name: &str| format!("{prefix}{name}");
        let fraud_type = parse_key(
            &self.fraud_type,
            &field("fraud_type"),
            "invalid_fraud_type",
            &FraudType::keys(),
            FraudType::from_key,
        )?;
        let channel = self
            .channel
            .as_deref()
            .map(|c| parse_key(c, &field("channel"), "invalid_channel", &Channel::keys(), Channel::from_key))
            .transpose()?;
        let occurred_at = Timestamp::parse_rfc3339(&self.occurred_at)
            .map_err(|e| WireError::invalid("invalid_timestamp", field("occurred_at"), e.to_string()))?;
        let amount = self.amount.as_ref().map(|a| a.parse(&field("amount"))).transpose()?;
        let victim_age_band = match self.victim_age_band.as_deref() {
            Some(band) => parse_key(
                band,
                &field("victim_age_band"),
                "invalid_age_band",
                &AgeBand::keys(),
                AgeBand::from_key,
            )?,
            None => AgeBand::Unknown,
        };
        let tlp = match self.tlp.as_deref() {
            Some(tlp) => parse_key(&tlp.to_ascii_lowercase(), &field("tlp"), "invalid_tlp", &Tlp::keys(), Tlp::from_key)?,
            None => Tlp::Amber,
        };
        if self.indicators.len() > vangnet_core::report::MAX_INDICATORS_PER_REPORT {
            return Err(WireError::invalid(
                "too_many_indicators",
                field("indicators"),
                "a report may name at most 50 indicators",
            ));
        }
        let mut indicators = Vec::with_capacity(self.indicators.len());
        for (i, input) in self.indicators.iter().enumerate() {
            let at = field(&format!("indicators[{i}]"));
            let indicator = input.parse(&at)?;
            let role = match input.role.as_deref() {
                Some(role) => parse_key(
                    role,
                    &format!("{at}.role"),
                    "invalid_role",
                    &IndicatorRole::keys(),
                    IndicatorRole::from_key,
                )?,
                None => IndicatorRole::Other,
            };
            indicators.push((indicator, role));
        }
        let draft = ReportDraft {
            external_id: self.external_id,
            fraud_type,
            channel,
            occurred_at,
            amount,
            aangifte: self.aangifte,
            victim_age_band,
            tlp,
            description: self.description,
            indicators,
        };
        NewReport::new(draft, now).map_err(|e| WireError::invalid(e.code(), field(e.field()), e.to_string()))
    }
}

/// The organisation that filed a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerRef {
    pub id: String,
    pub name: String,
    pub kind: String,
}

/// An indicator named in a stored report, in canonical form.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportIndicatorOut {
    pub kind: String,
    pub value: String,
    pub role: String,
    /// True for indicators the platform added (the domain of a reported URL).
    pub derived: bool,
}

/// A retraction.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetractionOut {
    pub at: String,
    pub by_partner_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A reviewer's decision about a citizen report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    /// `verified` (counts like any report) or `rejected` (counts nowhere).
    pub outcome: String,
    pub at: String,
    pub by_partner_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A stored report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub partner: PartnerRef,
    pub fraud_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub occurred_at: String,
    pub received_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<MoneyJson>,
    pub aangifte: bool,
    pub victim_age_band: String,
    pub tlp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub indicators: Vec<ReportIndicatorOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retraction: Option<RetractionOut>,
    /// For a citizen report (partner kind `citizen`): `unverified`, `verified` or `rejected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citizen_review: Option<&'static str>,
    /// The reviewer's decision about a citizen report, once made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewOut>,
}

impl From<&StoredReport> for ReportOut {
    fn from(r: &StoredReport) -> Self {
        ReportOut {
            id: r.id.clone(),
            external_id: r.external_id.clone(),
            partner: PartnerRef {
                id: r.partner_id.clone(),
                name: r.partner_name.clone(),
                kind: r.partner_kind.as_str().to_owned(),
            },
            fraud_type: r.fraud_type.as_str().to_owned(),
            channel: r.channel.map(|c| c.as_str().to_owned()),
            occurred_at: r.occurred_at.to_rfc3339(),
            received_at: r.received_at.to_rfc3339(),
            amount: r.amount.map(MoneyJson::from),
            aangifte: r.aangifte,
            victim_age_band: r.victim_age_band.as_str().to_owned(),
            tlp: r.tlp.as_str().to_owned(),
            description: r.description.clone(),
            indicators: r
                .indicators
                .iter()
                .map(|i| ReportIndicatorOut {
                    kind: i.kind.as_str().to_owned(),
                    value: i.value.clone(),
                    role: i.role.as_str().to_owned(),
                    derived: i.derived,
                })
                .collect(),
            retraction: r.retraction.as_ref().map(|x| RetractionOut {
                at: x.at.to_rfc3339(),
                by_partner_id: x.by_partner_id.clone(),
                reason: x.reason.clone(),
            }),
            citizen_review: r.is_citizen().then(|| r.citizen_review().as_str()),
            review: r.review.as_ref().map(|x| ReviewOut {
                outcome: x.outcome.as_str().to_owned(),
                at: x.at.to_rfc3339(),
                by_partner_id: x.by_partner_id.clone(),
                note: x.note.clone(),
            }),
        }
    }
}

/// What the registry says about one indicator, for the partner asking.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// The kind (detected when the request left it out); absent when it could not be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// The canonical value; for an invalid value, the value as given.
    pub value: String,
    /// `reported`, `not_reported`, `disputed` or `invalid`.
    #[schema(example = "reported")]
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reports: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting_partners: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraud_types: Option<BTreeMap<&'static str, u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<String>>,
    /// Reported damage per currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_damage: Option<Vec<MoneyJson>>,
    /// Distinct citizens whose reports through the public web form name this value and are
    /// not counted above: unverified citizen reports inform, they never decide (they count once
    /// a partner report you may see names the value, or the helpdesk or police verify them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified_citizen_reports: Option<u32>,
    /// For a URL that is not reported itself: the reported registrable domain the answer is
    /// about (not on shared platforms, where one reported page says nothing about others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_for_domain: Option<String>,
    /// Why the value is invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

impl CheckResult {
    /// The answer for a valid indicator.
    pub fn from_view(indicator: &Indicator, view: &RecordView) -> CheckResult {
        let kind = Some(indicator.kind().as_str());
        let value = indicator.canonical().to_owned();
        let unverified = (view.unverified_citizen_reports > 0).then_some(view.unverified_citizen_reports);
        if view.status == CheckStatus::NotReported {
            let reasons = view.reasons();
            return CheckResult {
                kind,
                value,
                status: view.status.as_str(),
                reports: Some(0),
                unverified_citizen_reports: unverified,
                reasons: (!reasons.is_empty()).then_some(reasons),
                ..CheckResult::empty()
            };
        }
        CheckResult {
            kind,
            value,
            status: view.status.as_str(),
            reports: Some(view.reports),
            reporting_partners: Some(view.reporting_partners),
            fraud_types: Some(view.fraud_type_counts().into_iter().map(|(t, n)| (t.as_str(), n)).collect()),
            first_seen: view.first_seen.map(Timestamp::to_rfc3339),
            last_seen: view.last_seen.map(Timestamp::to_rfc3339),
            score: Some((view.score * 100.0).round() / 100.0),
            reasons: Some(view.reasons()),
            total_damage: (!view.damage.is_empty()).then(|| view.damage.iter().copied().map(MoneyJson::from).collect()),
            unverified_citizen_reports: unverified,
            answered_for_domain: view.answered_for_domain.clone(),
            error: None,
        }
    }

    /// The answer for a value that is not a valid indicator.
    pub fn invalid(kind: Option<IndicatorKind>, value: &str, error: &WireError) -> CheckResult {
        CheckResult {
            kind: kind.map(IndicatorKind::as_str),
            value: value.chars().take(200).collect(),
            status: "invalid",
            error: Some(error.detail()),
            ..CheckResult::empty()
        }
    }

    fn empty() -> CheckResult {
        CheckResult {
            kind: None,
            value: String::new(),
            status: "",
            reports: None,
            reporting_partners: None,
            fraud_types: None,
            first_seen: None,
            last_seen: None,
            score: None,
            reasons: None,
            total_damage: None,
            unverified_citizen_reports: None,
            answered_for_domain: None,
            error: None,
        }
    }
}
