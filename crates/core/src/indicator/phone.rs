//! Telephone numbers in E.164 (`+31612345678`).
//!
//! Parsing and validation use libphonenumber's metadata (through the `phonenumber` crate), with
//! the Netherlands as the default region for numbers written without a country code. A number
//! must be valid for its region; a well-formed but unassigned number is refused, because a
//! fraud report about it could never match a real call.

use std::fmt;

use phonenumber::{Mode, country};

/// Why a value is not a valid phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneProblem {
    #[error("there is no phone number in it")]
    NotANumber,
    #[error("the country code is unknown")]
    UnknownCountryCode,
    #[error("it is too short or too long")]
    Length,
    #[error("extensions cannot be reported; leave out the part after `ext`")]
    Extension,
    #[error("it is not a number in use for {0}")]
    NotValidForRegion(String),
}

/// A valid phone number in E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    e164: String,
    region: Option<String>,
}

impl PhoneNumber {
    /// Parses a phone number as people write it; the default region is the Netherlands.
    pub fn parse(raw: &str) -> Result<PhoneNumber, PhoneProblem> {
        let cleaned = clean(raw)?;
        let number = phonenumber::parse(Some(country::Id::NL), &cleaned).map_err(|e| match e {
            phonenumber::ParseError::InvalidCountryCode => PhoneProblem::UnknownCountryCode,
            phonenumber::ParseError::TooShortAfterIdd | phonenumber::ParseError::TooShortNsn | phonenumber::ParseError::TooLong => {
                PhoneProblem::Length
            }
            _ => PhoneProblem::NotANumber,
        })?;
        if number.extension().is_some() {
            return Err(PhoneProblem::Extension);
        }
        let region = number.country().id().map(|id| id.as_ref().to_owned());
        if !phonenumber::is_valid(&number) {
            return Err(PhoneProblem::NotValidForRegion(
                region.unwrap_or_else(|| format!("+{}", number.country().code())),
            ));
        }
        let e164 = number.format().mode(Mode::E164).to_string();
        Ok(PhoneNumber { e164, region })
    }

    /// The E.164 form.
    pub fn as_str(&self) -> &str {
        &self.e164
    }

    /// The ISO 3166 region the number belongs to, when one region owns its country code.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Whether this is a Dutch number (+31).
    pub fn is_dutch(&self) -> bool {
        self.e164.starts_with("+31")
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

/// Removes what people add around a number that libphonenumber does not expect: the Dutch
/// habit of writing the trunk zero in brackets after the country code (`+31 (0)6 …`) and
/// characters that are never part of a number.
fn clean(raw: &str) -> Result<String, PhoneProblem> {
    let mut out = String::with_capacity(raw.len());
    let mut digits = 0usize;
    for c in raw.chars() {
        match c {
            '0'..='9' => {
                digits += 1;
                out.push(c);
            }
            '+' | ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' | '\t' => out.push(c),
            _ if c.is_ascii_alphabetic() || c == ':' || c == ';' || c == '=' => out.push(c),
            _ => return Err(PhoneProblem::NotANumber),
        }
    }
    if digits < 3 {
        return Err(PhoneProblem::NotANumber);
    }
    if digits > 17 {
        return Err(PhoneProblem::Length);
    }
    if out.contains("(0)") && (out.trim_start().starts_with('+') || out.trim_start().starts_with("00")) {
        out = out.replacen("(0)", "", 1);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dutch_formats_become_e164() {
        for raw in [
            "06-12345678",
            "06 12345678",
            "0612345678",
            "0031 6 1234 5678",
            "+31 (0)6 12345678",
            "+31 6 12345678",
            "+31612345678",
            "(06) 123 456 78",
            "tel:+31-6-1234-5678",
        ] {
            let phone = PhoneNumber::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(phone.as_str(), "+31612345678", "{raw}");
            assert_eq!(phone.region(), Some("NL"));
            assert!(phone.is_dutch());
        }
        assert_eq!(PhoneNumber::parse("020-1234567").map(|p| p.e164), Ok("+31201234567".into()));
        assert_eq!(PhoneNumber::parse("088 1234567").map(|p| p.e164), Ok("+31881234567".into()));
    }

    #[test]
    fn foreign_numbers_keep_their_country() {
        let be = PhoneNumber::parse("+32 470 12 34 56").expect("valid Belgian mobile");
        assert_eq!(be.as_str(), "+32470123456");
        assert_eq!(be.region(), Some("BE"));
        let gb = PhoneNumber::parse("+44 7400 123456").expect("valid UK mobile");
        assert_eq!(gb.as_str(), "+447400123456");
    }

    #[test]
    fn refuses_what_is_not_a_number_in_use() {
        assert_eq!(PhoneNumber::parse("06-1234"), Err(PhoneProblem::NotValidForRegion("NL".into())));
        assert!(PhoneNumber::parse("hello").is_err());
        assert!(PhoneNumber::parse("+999 123456789").is_err());
        assert!(PhoneNumber::parse("12").is_err());
        assert!(PhoneNumber::parse("06 12345678 ext. 12").is_err());
    }

    proptest! {
        #[test]
        fn dutch_mobiles_normalise_idempotently(n in "[1-58][0-9]{7}", style in 0usize..4) {
            // 06-1 to 06-5 and 06-8 are mobile ranges; 066 is for pagers, 067 and 069 are unused.
            let raw = match style {
                0 => format!("06-{n}"),
                1 => format!("+31 6 {n}"),
                2 => format!("0031{n}").replacen("0031", "00316", 1),
                _ => format!("+31 (0)6 {n}"),
            };
            let phone = PhoneNumber::parse(&raw).expect("valid mobile");
            prop_assert_eq!(phone.as_str(), format!("+316{n}"));
            prop_assert_eq!(PhoneNumber::parse(phone.as_str()).expect("canonical"), phone.clone());
        }

        #[test]
        fn never_panics(raw in "[0-9+() .-]{0,30}|\\PC{0,30}") {
            if let Ok(phone) = PhoneNumber::parse(&raw) {
                prop_assert_eq!(PhoneNumber::parse(phone.as_str()).map(|p| p.e164), Ok(phone.e164.clone()));
            }
        }
    }
}
