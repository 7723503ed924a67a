//! Indicators: the identifiers fraudsters use, each in exactly one canonical form.
//!
//! Every kind has its own type with private fields and a `parse` function; a value of that type
//! is always valid and canonical, so nothing downstream checks it again. [`Indicator::parse`]
//! takes raw user input (with or without a kind) and is the only way in.
//!
//! Parsing must never panic, whatever the input; the property tests at the bottom of each
//! module hold every parser to that, and to idempotence: parsing a canonical value returns it
//! unchanged.

mod crypto;
mod detect;
mod email;
mod handle;
mod iban;
mod phone;
mod script;
mod web;

use std::fmt;

pub use crypto::{Chain, CryptoAddress, CryptoProblem};
pub use email::{Email, EmailProblem};
pub use handle::{Handle, HandleProblem, Platform};
pub use iban::{Iban, IbanProblem, check_digits as iban_check_digits};
pub use phone::{PhoneNumber, PhoneProblem};
pub use web::{Domain, DomainProblem, UrlProblem, WebUrl};

/// The longest raw value accepted for any kind, in bytes. URLs get more room than the rest.
pub const MAX_URL_LEN: usize = 2048;
/// The longest raw value accepted for kinds other than URL, in bytes.
pub const MAX_VALUE_LEN: usize = 320;

/// The kinds of indicator Vangnet knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorKind {
    Iban,
    Phone,
    Url,
    Domain,
    Email,
    Crypto,
    Handle,
}

impl IndicatorKind {
    /// Every kind, in a fixed order.
    pub const ALL: [IndicatorKind; 7] = [
        IndicatorKind::Iban,
        IndicatorKind::Phone,
        IndicatorKind::Url,
        IndicatorKind::Domain,
        IndicatorKind::Email,
        IndicatorKind::Crypto,
        IndicatorKind::Handle,
    ];

    /// The stable key used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Iban => "iban",
            IndicatorKind::Phone => "phone",
            IndicatorKind::Url => "url",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Email => "email",
            IndicatorKind::Crypto => "crypto",
            IndicatorKind::Handle => "handle",
        }
    }

    /// The kind for a stable key, if there is one.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == key)
    }

    /// A small number for compact storage; stable across versions.
    pub fn code(self) -> u8 {
        match self {
            IndicatorKind::Iban => 1,
            IndicatorKind::Phone => 2,
            IndicatorKind::Url => 3,
            IndicatorKind::Domain => 4,
            IndicatorKind::Email => 5,
            IndicatorKind::Crypto => 6,
            IndicatorKind::Handle => 7,
        }
    }

    /// The kind a raw value most likely is, or `None` when it fits no kind.
    pub fn detect(value: &str) -> Option<IndicatorKind> {
        detect::detect_kind(value.trim())
    }

    /// The error code for values of this kind that cannot be normalised.
    pub fn invalid_code(self) -> &'static str {
        match self {
            IndicatorKind::Iban => "invalid_iban",
            IndicatorKind::Phone => "invalid_phone",
            IndicatorKind::Url => "invalid_url",
            IndicatorKind::Domain => "invalid_domain",
            IndicatorKind::Email => "invalid_email",
            IndicatorKind::Crypto => "invalid_crypto",
            IndicatorKind::Handle => "invalid_handle",
        }
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a raw value is not a valid indicator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndicatorError {
    #[error("the value is empty")]
    Empty,
    #[error("the value is longer than {max} bytes")]
    TooLong { kind: Option<IndicatorKind>, max: usize },
    #[error("cannot tell what kind of indicator this is; give its kind (iban, phone, url, domain, email, crypto or handle)")]
    UnknownKind,
    #[error("not a valid IBAN: {0}")]
    Iban(#[from] IbanProblem),
    #[error("not a valid phone number: {0}")]
    Phone(#[from] PhoneProblem),
    #[error("not a valid web address: {0}")]
    Url(#[from] UrlProblem),
    #[error("not a valid domain name: {0}")]
    Domain(#[from] DomainProblem),
    #[error("not a valid e-mail address: {0}")]
    Email(#[from] EmailProblem),
    #[error("not a valid crypto address: {0}")]
    Crypto(#[from] CryptoProblem),
    #[error("not a valid platform handle: {0}")]
    Handle(#[from] HandleProblem),
}

impl IndicatorError {
    /// The kind the value was taken for, when it failed as a value of a known kind.
    pub fn kind(&self) -> Option<IndicatorKind> {
        match self {
            IndicatorError::Empty | IndicatorError::TooLong { .. } | IndicatorError::UnknownKind => None,
            IndicatorError::Iban(_) => Some(IndicatorKind::Iban),
            IndicatorError::Phone(_) => Some(IndicatorKind::Phone),
            IndicatorError::Url(_) => Some(IndicatorKind::Url),
            IndicatorError::Domain(_) => Some(IndicatorKind::Domain),
            IndicatorError::Email(_) => Some(IndicatorKind::Email),
            IndicatorError::Crypto(_) => Some(IndicatorKind::Crypto),
            IndicatorError::Handle(_) => Some(IndicatorKind::Handle),
        }
    }

    /// The stable, machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            IndicatorError::Empty => "empty_value",
            IndicatorError::TooLong { .. } => "value_too_long",
            IndicatorError::UnknownKind => "unknown_indicator_kind",
            // Every other variant is a value of a known kind.
            _ => self.kind().map_or("unknown_indicator_kind", IndicatorKind::invalid_code),
        }
    }
}

/// A valid indicator in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Indicator {
    Iban(Iban),
    Phone(PhoneNumber),
    Url(WebUrl),
    Domain(Domain),
    Email(Email),
    Crypto(CryptoAddress),
    Handle(Handle),
}

/// Extra facts recorded with an indicator; none of them change its identity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndicatorFacts {
    /// ISO 3166 country of an IBAN or of a phone number's region.
    pub country: Option<String>,
    /// The bank code of an IBAN, when the registry defines one for its country.
    pub bank_code: Option<String>,
    /// The host contains letters of more than one script (a homoglyph risk).
    pub mixed_script: bool,
    /// The host is written entirely in letters that look like Latin ones, but are not.
    pub confusable: bool,
    /// The host written in Unicode, when it differs from the punycode form.
    pub unicode_host: Option<String>,
}

impl Indicator {
    /// Normalises raw input into a canonical indicator. With `kind` `None` the kind is
    /// detected from the value; an explicit kind is always respected.
    pub fn parse(kind: Option<IndicatorKind>, raw: &str) -> Result<Indicator, IndicatorError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(IndicatorError::Empty);
        }
        let max = if matches!(kind, Some(IndicatorKind::Url) | None) {
            MAX_URL_LEN
        } else {
            MAX_VALUE_LEN
        };
        if trimmed.len() > max {
            return Err(IndicatorError::TooLong { kind, max });
        }
        let kind = match kind {
            Some(kind) => kind,
            None => detect::detect_kind(trimmed).ok_or(IndicatorError::UnknownKind)?,
        };
        if kind != IndicatorKind::Url && trimmed.len() > MAX_VALUE_LEN {
            return Err(IndicatorError::TooLong {
                kind: Some(kind),
                max: MAX_VALUE_LEN,
            });
        }
        Ok(match kind {
            IndicatorKind::Iban => Indicator::Iban(Iban::parse(trimmed)?),
            IndicatorKind::Phone => Indicator::Phone(PhoneNumber::parse(trimmed)?),
            IndicatorKind::Url => Indicator::Url(WebUrl::parse(trimmed)?),
            IndicatorKind::Domain => Indicator::Domain(Domain::parse(trimmed)?),
            IndicatorKind::Email => Indicator::Email(Email::parse(trimmed)?),
            IndicatorKind::Crypto => Indicator::Crypto(CryptoAddress::parse(trimmed)?),
            IndicatorKind::Handle => Indicator::Handle(Handle::parse(trimmed)?),
        })
    }

    /// The kind of this indicator.
    pub fn kind(&self) -> IndicatorKind {
        match self {
            Indicator::Iban(_) => IndicatorKind::Iban,
            Indicator::Phone(_) => IndicatorKind::Phone,
            Indicator::Url(_) => IndicatorKind::Url,
            Indicator::Domain(_) => IndicatorKind::Domain,
            Indicator::Email(_) => IndicatorKind::Email,
            Indicator::Crypto(_) => IndicatorKind::Crypto,
            Indicator::Handle(_) => IndicatorKind::Handle,
        }
    }

    /// The canonical value.
    pub fn canonical(&self) -> &str {
        match self {
            Indicator::Iban(v) => v.as_str(),
            Indicator::Phone(v) => v.as_str(),
            Indicator::Url(v) => v.as_str(),
            Indicator::Domain(v) => v.as_str(),
            Indicator::Email(v) => v.as_str(),
            Indicator::Crypto(v) => v.as_str(),
            Indicator::Handle(v) => v.as_str(),
        }
    }

    /// The facts recorded with this indicator.
    pub fn facts(&self) -> IndicatorFacts {
        match self {
            Indicator::Iban(v) => IndicatorFacts {
                country: Some(v.country().to_owned()),
                bank_code: v.bank_code().map(str::to_owned),
                ..IndicatorFacts::default()
            },
            Indicator::Phone(v) => IndicatorFacts {
                country: v.region().map(str::to_owned),
                ..IndicatorFacts::default()
            },
            Indicator::Url(v) => v.host_facts(),
            Indicator::Domain(v) => v.host_facts(),
            Indicator::Email(v) => v.host_facts(),
            _ => IndicatorFacts::default(),
        }
    }

    /// The domain a check of this indicator also answers for: the registrable domain of a URL,
    /// unless anyone can publish pages under it (a shared platform such as `docs.google.com`,
    /// where one reported page says nothing about the others).
    pub fn checked_domain(&self) -> Option<&Domain> {
        self.derived_domain().filter(|d| !d.is_shared_platform())
    }

    /// The domain a URL indicator points at, which is recorded as an indicator of its own.
    pub fn derived_domain(&self) -> Option<&Domain> {
        match self {
            Indicator::Url(url) => url.domain(),
            _ => None,
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.canonical())
    }
}

/// Replaces the "defanged" spellings threat-intelligence feeds use so links cannot be clicked
/// (`hxxps://example[.]com`) with the real characters.
pub(crate) fn refang(value: &str) -> std::borrow::Cow<'_, str> {
    let needs = value.contains('[') || value.contains("(.)") || value.starts_with("hxxp") || value.starts_with("HXXP");
    if !needs {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = value
        .replace("[.]", ".")
        .replace("(.)", ".")
        .replace("[dot]", ".")
        .replace("[:]", ":")
        .replace("[@]", "@");
    for (from, to) in [
        ("hxxps://", "https://"),
        ("hxxp://", "http://"),
        ("HXXPS://", "https://"),
        ("HXXP://", "http://"),
    ] {
        if let Some(rest) = out.strip_prefix(from) {
            out = format!("{to}{rest}");
            break;
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canon(kind: Option<IndicatorKind>, raw: &str) -> String {
        match Indicator::parse(kind, raw) {
            Ok(i) => format!("{}:{}", i.kind(), i.canonical()),
            Err(e) => format!("error:{}", e.code()),
        }
    }

    #[test]
    fn detects_kinds_of_common_inputs() {
        assert_eq!(canon(None, "NL91 ABNA 0417 1643 00"), "iban:NL91ABNA0417164300");
        assert_eq!(canon(None, "06-12345678"), "phone:+31612345678");
        assert_eq!(canon(None, "+31 (0)6 12345678"), "phone:+31612345678");
        assert_eq!(
            canon(None, "https://Shop.Example.com/deal?id=1#top"),
            "url:https://shop.example.com/deal?id=1"
        );
        assert_eq!(canon(None, "shop.example.co.uk"), "domain:example.co.uk");
        assert_eq!(canon(None, "Jan.Jansen@Example.COM"), "email:jan.jansen@example.com");
        assert_eq!(
            canon(None, "0x52908400098527886E0F7030069857D2E4169EE7"),
            "crypto:eth:0x52908400098527886E0F7030069857D2E4169EE7"
        );
        assert_eq!(
            canon(None, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
            "crypto:btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
        );
        assert_eq!(canon(None, "instagram:@Fake.Shop_NL"), "handle:instagram:fake.shop_nl");
        assert_eq!(canon(None, "hello world"), "error:unknown_indicator_kind");
        assert_eq!(canon(None, "   "), "error:empty_value");
    }

    #[test]
    fn explicit_kind_wins_and_explains() {
        assert_eq!(canon(Some(IndicatorKind::Iban), "NL91ABNA0417164301"), "error:invalid_iban");
        assert_eq!(canon(Some(IndicatorKind::Phone), "NL91ABNA0417164300"), "error:invalid_phone");
        assert_eq!(
            canon(Some(IndicatorKind::Domain), "https://login.bank-veilig.nl/x"),
            "domain:bank-veilig.nl"
        );
    }

    #[test]
    fn refangs_defanged_values() {
        assert_eq!(canon(None, "hxxps://evil-shop[.]nl/pay"), "url:https://evil-shop.nl/pay");
        assert_eq!(canon(None, "evil-shop[.]nl"), "domain:evil-shop.nl");
    }

    #[test]
    fn rejects_overlong_values() {
        let long = "a".repeat(MAX_URL_LEN + 1);
        assert_eq!(canon(None, &long), "error:value_too_long");
        let long = "1".repeat(MAX_VALUE_LEN + 1);
        assert_eq!(canon(Some(IndicatorKind::Phone), &long), "error:value_too_long");
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(raw in "\\PC{0,80}") {
            for kind in [None].into_iter().chain(IndicatorKind::ALL.into_iter().map(Some)) {
                if let Ok(first) = Indicator::parse(kind, &raw) {
                    let again = Indicator::parse(Some(first.kind()), first.canonical());
                    prop_assert_eq!(again.as_ref().map(Indicator::canonical), Ok(first.canonical()));
                    let detected = Indicator::parse(None, first.canonical());
                    // A canonical value is detected as its own kind, so a check without a kind
                    // finds what a report with a kind stored.
                    if kind.is_none() {
                        prop_assert_eq!(detected.map(|i| i.kind()), Ok(first.kind()));
                    }
                }
            }
        }
    }
}
