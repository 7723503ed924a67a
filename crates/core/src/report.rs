//! Reports (*meldingen*): one incident from one source, and the vocabularies they use.
//!
//! A [`NewReport`] can only be built through [`NewReport::new`], which checks everything that
//! involves more than one field and adds the indicators a report implies (the domain of every
//! reported URL). Once stored, a report is never edited; a retraction is a separate event.

use std::fmt;

use crate::indicator::{Indicator, IndicatorKind};
use crate::money::Money;
use crate::timestamp::Timestamp;

macro_rules! keyed_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $key:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable key used on the wire and in storage.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            /// The value for a stable key.
            pub fn from_key(key: &str) -> Option<$name> {
                match key { $($key => Some($name::$variant),)+ _ => None }
            }

            /// The position in [`Self::ALL`], for compact storage.
            pub fn index(self) -> usize {
                self as usize
            }

            /// The value at a position in [`Self::ALL`].
            pub fn from_index(index: usize) -> Option<$name> {
                Self::ALL.get(index).copied()
            }

            /// All stable keys, for error messages and documentation.
            pub fn keys() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyed_enum! {
    /// The kinds of fraud (DESIGN §2).
    FraudType {
        Bankhelpdesk => "bankhelpdesk",
        Marketplace => "marketplace",
        Webshop => "webshop",
        FriendInNeed => "friend_in_need",
        Phishing => "phishing",
        Romance => "romance",
        Investment => "investment",
        Identity => "identity",
        InvoiceCeo => "invoice_ceo",
        Other => "other",
    }
}

/// The number of fraud types.
pub const FRAUD_TYPE_COUNT: usize = 10;

impl FraudType {
    /// The Dutch name, as the fraud helpdesk uses it.
    pub fn label_nl(self) -> &'static str {
        match self {
            FraudType::Bankhelpdesk => "bankhelpdeskfraude",
            FraudType::Marketplace => "aan- en verkoopfraude",
            FraudType::Webshop => "fraude met nepwebwinkels",
            FraudType::FriendInNeed => "vriend-in-noodfraude",
            FraudType::Phishing => "phishing",
            FraudType::Romance => "datingfraude",
            FraudType::Investment => "beleggingsfraude",
            FraudType::Identity => "identiteitsfraude",
            FraudType::InvoiceCeo => "facturen- en CEO-fraude",
            FraudType::Other => "andere fraude",
        }
    }

    /// The English name.
    pub fn label_en(self) -> &'static str {
        match self {
            FraudType::Bankhelpdesk => "bank helpdesk fraud",
            FraudType::Marketplace => "marketplace fraud",
            FraudType::Webshop => "fake web shop fraud",
            FraudType::FriendInNeed => "friend-in-need fraud",
            FraudType::Phishing => "phishing",
            FraudType::Romance => "romance fraud",
            FraudType::Investment => "investment fraud",
            FraudType::Identity => "identity fraud",
            FraudType::InvoiceCeo => "invoice and CEO fraud",
            FraudType::Other => "other fraud",
        }
    }
}

keyed_enum! {
    /// How the fraudster reached the victim.
    Channel {
        Phone => "phone",
        Sms => "sms",
        Whatsapp => "whatsapp",
        MessagingApp => "messaging_app",
        Email => "email",
        Marketplace => "marketplace",
        SocialMedia => "social_media",
        Webshop => "webshop",
        DatingSite => "dating_site",
        Website => "website",
        InPerson => "in_person",
        Other => "other",
    }
}

keyed_enum! {
    /// Victim age bands, for statistics only.
    AgeBand {
        Under18 => "0-17",
        From18 => "18-24",
        From25 => "25-34",
        From35 => "35-44",
        From45 => "45-54",
        From55 => "55-64",
        From65 => "65-74",
        From75 => "75+",
        Unknown => "unknown",
    }
}

keyed_enum! {
    /// Traffic Light Protocol 2.0 markings.
    Tlp {
        Clear => "clear",
        Green => "green",
        Amber => "amber",
        AmberStrict => "amber+strict",
        Red => "red",
    }
}

keyed_enum! {
    /// What part an indicator played in the incident.
    IndicatorRole {
        Payee => "payee",
        Payer => "payer",
        Caller => "caller",
        Sender => "sender",
        Seller => "seller",
        Buyer => "buyer",
        Website => "website",
        Contact => "contact",
        Profile => "profile",
        Wallet => "wallet",
        Other => "other",
        // Last, so that the stored positions of the others stay as they are.
        Mule => "mule",
    }
}

/// The most indicators one report may name.
pub const MAX_INDICATORS_PER_REPORT: usize = 50;
/// The longest free-text description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// The longest client-supplied report id.
pub const MAX_EXTERNAL_ID_LEN: usize = 128;
/// How far in the future `occurred_at` may lie, to allow for clocks that run ahead.
pub const CLOCK_SKEW_MILLIS: i64 = 10 * 60 * 1000;

/// One indicator named in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportIndicator {
    pub indicator: Indicator,
    pub role: IndicatorRole,
    /// True for indicators the platform added (the domain of a reported URL).
    pub derived: bool,
}

/// A report as a partner submits it, with every field already parsed into its type.
#[derive(Debug, Clone)]
pub struct ReportDraft {
    pub external_id: Option<String>,
    pub fraud_type: FraudType,
    pub channel: Option<Channel>,
    pub occurred_at: Timestamp,
    pub amount: Option<Money>,
    pub aangifte: bool,
    pub victim_age_band: AgeBand,
    pub tlp: Tlp,
    pub description: Option<String>,
    pub indicators: Vec<(Indicator, IndicatorRole)>,
}

/// Why a report as a whole cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("a report needs at least one indicator")]
    NoIndicators,
    #[error("a report may name at most {MAX_INDICATORS_PER_REPORT} indicators")]
    TooManyIndicators,
    #[error("occurred_at lies in the future")]
    OccurredInFuture,
    #[error("the description is longer than {MAX_DESCRIPTION_CHARS} characters")]
    DescriptionTooLong,
    #[error("the description contains control characters")]
    DescriptionCharacters,
    #[error("external_id must be 1 to {MAX_EXTERNAL_ID_LEN} letters, digits or . _ : -")]
    ExternalId,
}

impl ReportError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::NoIndicators => "no_indicators",
            ReportError::TooManyIndicators => "too_many_indicators",
            ReportError::OccurredInFuture => "occurred_in_future",
            ReportError::DescriptionTooLong => "description_too_long",
            ReportError::DescriptionCharacters => "invalid_text",
            ReportError::ExternalId => "invalid_external_id",
        }
    }

    /// The request field the error concerns.
    pub fn field(&self) -> &'static str {
        match self {
            ReportError::NoIndicators | ReportError::TooManyIndicators => "indicators",
            ReportError::OccurredInFuture => "occurred_at",
            ReportError::DescriptionTooLong | ReportError::DescriptionCharacters => "description",
            ReportError::ExternalId => "external_id",
        }
    }
}

/// A report that passed every check, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewReport {
    external_id: Option<String>,
    fraud_type: FraudType,
    channel: Option<Channel>,
    occurred_at: Timestamp,
    amount: Option<Money>,
    aangifte: bool,
    victim_age_band: AgeBand,
    tlp: Tlp,
    description: Option<String>,
    indicators: Vec<ReportIndicator>,
    /// For citizen reports: the submitter's pseudonym (a keyed hash, never a name or address).
    submitter: Option<String>,
    /// SHA-256 of the content, computed once when the report is checked.
    digest: String,
}

impl NewReport {
    /// Checks a draft against the rules that span fields, drops repeated indicators and adds
    /// the domain of every reported URL (unless it is a shared platform such as a form
    /// builder, where one fraudulent page says nothing about the domain).
    pub fn new(draft: ReportDraft, now: Timestamp) -> Result<NewReport, ReportError> {
        if draft.indicators.is_empty() {
            return Err(ReportError::NoIndicators);
        }
        if draft.indicators.len() > MAX_INDICATORS_PER_REPORT {
            return Err(ReportError::TooManyIndicators);
        }
        if draft.occurred_at.millis() > now.millis() + CLOCK_SKEW_MILLIS {
            return Err(ReportError::OccurredInFuture);
        }
        let description = draft.description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        if description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
            return Err(ReportError::DescriptionTooLong);
        }
        if description.as_deref().is_some_and(|d| !is_plain_text(d)) {
            return Err(ReportError::DescriptionCharacters);
        }
        if let Some(id) = &draft.external_id {
            let valid = !id.is_empty()
                && id.len() <= MAX_EXTERNAL_ID_LEN
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
            if !valid {
                return Err(ReportError::ExternalId);
            }
        }
        let mut indicators: Vec<ReportIndicator> = Vec::with_capacity(draft.indicators.len() + 1);
        let mut derived: Vec<ReportIndicator> = Vec::new();
        for (indicator, role) in draft.indicators {
            if let Some(domain) = indicator.derived_domain().filter(|d| !d.is_shared_platform()) {
                derived.push(ReportIndicator {
                    indicator: Indicator::Domain(domain.clone()),
                    role,
                    derived: true,
                });
            }
            if !indicators.iter().any(|i| i.indicator == indicator) {
                indicators.push(ReportIndicator {
                    indicator,
                    role,
                    derived: false,
                });
            }
        }
        for d in derived {
            if !indicators.iter().any(|i| i.indicator == d.indicator) {
                indicators.push(d);
            }
        }
        let mut report = NewReport {
            external_id: draft.external_id,
            fraud_type: draft.fraud_type,
            channel: draft.channel,
            occurred_at: draft.occurred_at,
            amount: draft.amount,
            aangifte: draft.aangifte,
            victim_age_band: draft.victim_age_band,
            tlp: draft.tlp,
            description,
            indicators,
            submitter: None,
            digest: String::new(),
        };
        report.digest = report.compute_digest();
        Ok(report)
    }

    /// Marks the report as a citizen's, under the submitter's pseudonym.
    pub fn from_submitter(mut self, pseudonym: String) -> NewReport {
        self.submitter = Some(pseudonym);
        self
    }

    pub fn submitter(&self) -> Option<&str> {
        self.submitter.as_deref()
    }

    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
    pub fn fraud_type(&self) -> FraudType {
        self.fraud_type
    }
    pub fn channel(&self) -> Option<Channel> {
        self.channel
    }
    pub fn occurred_at(&self) -> Timestamp {
        self.occurred_at
    }
    pub fn amount(&self) -> Option<Money> {
        self.amount
    }
    pub fn aangifte(&self) -> bool {
        self.aangifte
    }
    pub fn victim_age_band(&self) -> AgeBand {
        self.victim_age_band
    }
    pub fn tlp(&self) -> Tlp {
        self.tlp
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    pub fn indicators(&self) -> &[ReportIndicator] {
        &self.indicators
    }

    /// A digest of everything the report says, to tell an identical resubmission (same
    /// `external_id`, same content: answered with the stored report) from a conflicting one.
    pub fn content_digest(&self) -> &str {
        &self.digest
    }

    fn compute_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut field = |s: &str| {
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        };
        field(self.fraud_type.as_str());
        field(self.channel.map_or("", Channel::as_str));
        field(&self.occurred_at.millis().to_string());
        field(&self.amount.map_or(String::new(), |m| m.to_string()));
        field(if self.aangifte { "1" } else { "0" });
        field(self.victim_age_band.as_str());
        field(self.tlp.as_str());
        field(self.description.as_deref().unwrap_or(""));
        for i in &self.indicators {
            field(i.indicator.kind().as_str());
            field(i.indicator.canonical());
            field(i.role.as_str());
        }
        hex::encode(h.finalize())
    }
}

/// Text without control characters other than line breaks and tabs.
pub fn is_plain_text(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Whether a kind of indicator usually identifies a person (and so is personal data).
pub fn is_personal(kind: IndicatorKind) -> bool {
    !matches!(kind, IndicatorKind::Url | IndicatorKind::Domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(indicators: &[(&str, IndicatorRole)]) -> ReportDraft {
        ReportDraft {
            external_id: None,
            fraud_type: FraudType::Marketplace,
            channel: Some(Channel::Marketplace),
            occurred_at: Timestamp::parse_rfc3339("2026-11-01T10:00:00Z").expect("valid"),
            amount: None,
            aangifte: true,
            victim_age_band: AgeBand::Unknown,
            tlp: Tlp::Amber,
            description: Some("  Paid for a phone that never came.  ".into()),
            indicators: indicators
                .iter()
                .map(|(v, r)| (Indicator::parse(None, v).expect("valid"), *r))
                .collect(),
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-11-02T00:00:00Z").expect("valid")
    }

    #[test]
    fn adds_url_domains_and_drops_repeats() {
        let report = NewReport::new(
            draft(&[
                ("https://shop.fake-deals.nl/pay", IndicatorRole::Website),
                ("NL91ABNA0417164300", IndicatorRole::Payee),
                ("NL91 ABNA 0417 1643 00", IndicatorRole::Payee),
                ("https://docs.google.com/forms/x", IndicatorRole::Website),
            ]),
            now(),
        )
        .expect("valid");
        let values: Vec<(String, bool)> = report.indicators().iter().map(|i| (i.indicator.to_string(), i.derived)).collect();
        assert_eq!(
            values,
            vec![
                ("url:https://shop.fake-deals.nl/pay".to_owned(), false),
                ("iban:NL91ABNA0417164300".to_owned(), false),
                ("url:https://docs.google.com/forms/x".to_owned(), false),
                ("domain:fake-deals.nl".to_owned(), true),
            ]
        );
        assert_eq!(report.description(), Some("Paid for a phone that never came."));
    }

    #[test]
    fn refuses_bad_reports() {
        assert_eq!(NewReport::new(draft(&[]), now()).map(|_| ()), Err(ReportError::NoIndicators));
        let mut future = draft(&[("NL91ABNA0417164300", IndicatorRole::Payee)]);
        future.occurred_at = now().plus_millis(CLOCK_SKEW_MILLIS + 1);
        assert_eq!(NewReport::new(future, now()).map(|_| ()), Err(ReportError::OccurredInFuture));
        let mut bad_id = draft(&[("NL91ABNA0417164300", IndicatorRole::Payee)]);
        bad_id.external_id = Some("has space".into());
        assert_eq!(NewReport::new(bad_id, now()).map(|_| ()), Err(ReportError::ExternalId));
    }

    #[test]
    fn digest_tells_content_apart() {
        let a = NewReport::new(draft(&[("NL91ABNA0417164300", IndicatorRole::Payee)]), now()).expect("valid");
        let b = NewReport::new(draft(&[("NL91ABNA0417164300", IndicatorRole::Seller)]), now()).expect("valid");
        assert_eq!(a.content_digest(), a.clone().content_digest());
        assert_ne!(a.content_digest(), b.content_digest());
    }

    #[test]
    fn vocabularies_round_trip() {
        assert_eq!(FraudType::ALL.len(), FRAUD_TYPE_COUNT);
        for t in FraudType::ALL {
            assert_eq!(FraudType::from_key(t.as_str()), Some(*t));
            assert_eq!(FraudType::from_index(t.index()), Some(*t));
        }
        assert_eq!(Tlp::from_key("amber+strict"), Some(Tlp::AmberStrict));
        assert_eq!(AgeBand::from_key("75+"), Some(AgeBand::From75));
    }
}
