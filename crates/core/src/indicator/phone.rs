//! Telephone numbers in E.164 (`+31612345678`).
//!
//! The numbering facts come from libphonenumber's metadata (through the `phonenumber` crate),
//! with the Netherlands as the default region for numbers written without a country code. A
//! number must be valid for its region: a well-formed but unassigned number is refused,
//! because a fraud report about it could never match a real call.
//!
//! Validity follows libphonenumber's rules: the national number must match the region's
//! general pattern entirely and the pattern of at least one number type, with a length that
//! type allows. The patterns are compiled once per country into plain `regex` automata.
//!
//! Parsing follows libphonenumber's steps for numbers written as digits: the country calling
//! code after `+` or the Dutch international prefix `00`, then the national prefix (`0`)
//! removed by the country's rule, then the region by leading digits. It is written here
//! rather than taken from the `phonenumber` crate's parser, which is some thirty times slower
//! and disagrees with libphonenumber on a few countries (Italy's leading zero); the oracle
//! test in `tests/` compares the result with Python's `phonenumbers`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use phonenumber::Type;
use phonenumber::metadata::{DATABASE, Metadata};
use regex::Regex;

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
    region: Option<&'static str>,
}

/// The country calling code of the default region, the Netherlands.
const DEFAULT_CODE: u16 = 31;
/// The international call prefix of the default region.
const DEFAULT_IDD: &str = "00";
/// The most digits accepted: an international prefix, a country code and 17 national digits.
const MAX_DIGITS: usize = 22;
/// National significant numbers have 2 to 17 digits (libphonenumber's bounds).
const NATIONAL_DIGITS: std::ops::RangeInclusive<usize> = 2..=17;

impl PhoneNumber {
    /// Parses a phone number as people write it; the default region is the Netherlands.
    pub fn parse(raw: &str) -> Result<PhoneNumber, PhoneProblem> {
        let written = Written::parse(raw)?;
        let (country, national) = if written.plus {
            // `+00 56 …`: some people write the international prefix after the plus too.
            let digits = written.digits().strip_prefix(DEFAULT_IDD).unwrap_or(written.digits());
            let (code, rest) = split_country_code(digits).ok_or(PhoneProblem::UnknownCountryCode)?;
            let country = country_rules(code).ok_or(PhoneProblem::UnknownCountryCode)?;
            (country, country.strip_national_prefix(rest))
        } else if let Some(after_idd) = written.digits().strip_prefix(DEFAULT_IDD) {
            let (code, rest) = split_country_code(after_idd).ok_or(PhoneProblem::UnknownCountryCode)?;
            let country = country_rules(code).ok_or(PhoneProblem::UnknownCountryCode)?;
            (country, country.strip_national_prefix(rest))
        } else {
            let country = country_rules(DEFAULT_CODE).ok_or(PhoneProblem::UnknownCountryCode)?;
            (country, country.national_from_default(written.digits()))
        };
        country.number(&national)
    }

    /// The E.164 form.
    pub fn as_str(&self) -> &str {
        &self.e164
    }

    /// The ISO 3166 region the number belongs to.
    pub fn region(&self) -> Option<&'static str> {
        self.region
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

/// A number reduced to its digits and whether it started with `+`, on the stack.
struct Written {
    plus: bool,
    buf: [u8; MAX_DIGITS],
    len: usize,
}

impl Written {
    fn digits(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Written {
    /// Accepts digits with the separators people use, a leading `+`, the Dutch `(0)` after a
    /// country code and a `tel:` URI. An extension is refused (it has no place in E.164).
    /// Letters are read as on a phone keypad when there are at least three of them, as
    /// libphonenumber does, and only after at least three digits: `0800-FRAUDE` is
    /// `0800 372833` (helpdesks and scammers alike advertise such vanity numbers).
    fn parse(raw: &str) -> Result<Written, PhoneProblem> {
        let mut text = raw.trim();
        if text.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("tel:")) {
            text = &text[4..];
            let lower = text.to_ascii_lowercase();
            if lower.contains(";ext=") {
                return Err(PhoneProblem::Extension);
            }
            text = text.split(';').next().unwrap_or("");
        }
        let international = text.starts_with('+') || text.starts_with("00");
        // `+31 (0)6 …`: the trunk zero in brackets after the country code is not dialled.
        let without_trunk;
        if international && text.contains("(0)") {
            without_trunk = text.replacen("(0)", "", 1);
            text = &without_trunk;
        }
        let mut written = Written {
            plus: false,
            buf: [0; MAX_DIGITS],
            len: 0,
        };
        let vanity = text.chars().filter(char::is_ascii_alphabetic).count() >= 3;
        for (at, c) in text.char_indices() {
            let digit = match c {
                '0'..='9' => c as u8,
                '+' if at == 0 => {
                    written.plus = true;
                    continue;
                }
                ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' | '\t' => continue,
                _ if written.len >= 3 && is_extension(&text[at..]) => return Err(PhoneProblem::Extension),
                // libphonenumber takes letters only after at least three digits (`06-HULP12` is
                // not a number, `0800-HULP` is).
                _ if vanity && c.is_ascii_alphabetic() && written.len >= 3 => keypad_digit(c),
                _ => return Err(PhoneProblem::NotANumber),
            };
            if written.len == MAX_DIGITS {
                return Err(PhoneProblem::Length);
            }
            written.buf[written.len] = digit;
            written.len += 1;
        }
        if written.len < 3 {
            return Err(PhoneProblem::NotANumber);
        }
        Ok(written)
    }
}

/// Whether `rest` is an extension: `ext`, `x`, `#` or the Dutch `toestel`/`tst`, followed
/// by digits (with separators) to the end, as libphonenumber reads one. A mark without digits
/// after it is a letter of a vanity number (`0800-TAXI`).
fn is_extension(rest: &str) -> bool {
    let lower = rest.to_ascii_lowercase();
    ["ext.", "ext", "x", "#", "toestel", "tst"].iter().any(|mark| {
        lower.strip_prefix(mark).is_some_and(|tail| {
            let tail = tail.trim_start_matches([' ', '.', ':', '=', '\t']);
            !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit() || b == b' ' || b == b'-')
        })
    })
}

/// The digit a letter stands for on a phone keypad (ITU E.161).
fn keypad_digit(c: char) -> u8 {
    match c.to_ascii_uppercase() {
        'A'..='C' => b'2',
        'D'..='F' => b'3',
        'G'..='I' => b'4',
        'J'..='L' => b'5',
        'M'..='O' => b'6',
        'P'..='S' => b'7',
        'T'..='V' => b'8',
        _ => b'9',
    }
}

/// The country calling code at the start of `digits` (codes are prefix-free) and the rest.
fn split_country_code(digits: &str) -> Option<(u16, &str)> {
    if digits.starts_with('0') {
        return None;
    }
    (1..=3).filter(|n| digits.len() > *n).find_map(|n| {
        let code: u16 = digits[..n].parse().ok()?;
        country_rules(code).map(|_| (code, &digits[n..]))
    })
}

fn length_ok(lengths: &[u16], number: &str) -> bool {
    lengths.is_empty() || lengths.contains(&(number.len() as u16))
}

/// A pattern the whole number must match; the metadata writes them with insignificant
/// white space.
fn full_match(pattern: &str) -> Option<Regex> {
    Regex::new(&format!("^(?x:{pattern})$")).ok()
}

/// The number types that make a number valid (libphonenumber's `getNumberType`). Any one
/// will do, so the common ones come first.
const VALID_TYPES: [Type; 10] = [
    Type::Mobile,
    Type::FixedLine,
    Type::TollFree,
    Type::PremiumRate,
    Type::SharedCost,
    Type::Voip,
    Type::PersonalNumber,
    Type::Pager,
    Type::Uan,
    Type::Voicemail,
];

/// The validity rules of one region.
struct Region {
    id: String,
    general: Regex,
    /// Possible lengths of any valid number (the union over the number types).
    lengths: Vec<u16>,
    /// Lengths only diallable locally, without an area code.
    local_lengths: Vec<u16>,
    leading_digits: Option<Regex>,
    /// Each valid number type's pattern and lengths.
    types: Vec<(Regex, Vec<u16>)>,
}

impl Region {
    fn new(meta: &Metadata) -> Option<Region> {
        let descriptors = meta.descriptors();
        let general = descriptors.general();
        let mut types = Vec::new();
        let mut lengths: Vec<u16> = general.possible_length().to_vec();
        let mut local_lengths: Vec<u16> = general.possible_local_length().to_vec();
        for kind in VALID_TYPES {
            if let Some(d) = descriptors.get(kind) {
                types.push((full_match(d.national_number().as_str())?, d.possible_length().to_vec()));
                if general.possible_length().is_empty() {
                    lengths.extend_from_slice(d.possible_length());
                }
                if general.possible_local_length().is_empty() {
                    local_lengths.extend_from_slice(d.possible_local_length());
                }
            }
        }
        lengths.sort_unstable();
        lengths.dedup();
        local_lengths.sort_unstable();
        local_lengths.dedup();
        local_lengths.retain(|l| !lengths.contains(l));
        // A type without lengths of its own has the region's.
        for (_, l) in &mut types {
            if l.is_empty() {
                l.clone_from(&lengths);
            }
        }
        Some(Region {
            id: meta.id().to_owned(),
            general: full_match(general.national_number().as_str())?,
            lengths,
            local_lengths,
            leading_digits: meta
                .leading_digits()
                .and_then(|r| Regex::new(&format!("^(?x:{})", r.as_str())).ok()),
            types,
        })
    }

    fn valid(&self, national: &str) -> bool {
        length_ok(&self.lengths, national)
            && self.general.is_match(national)
            && self
                .types
                .iter()
                .any(|(regex, lengths)| length_ok(lengths, national) && regex.is_match(national))
    }

    /// libphonenumber's `testNumberLength`, reduced to the question the parser asks: is this
    /// a plausible length for a full national number?
    fn plausible_length(&self, number: &str) -> bool {
        let len = number.len() as u16;
        let (Some(min), Some(max)) = (self.lengths.first(), self.lengths.last()) else {
            return true;
        };
        if self.local_lengths.contains(&len) || len < *min {
            return false;
        }
        len > *max || self.lengths.contains(&len)
    }
}

/// How a country's national prefix is recognised and removed.
struct NationalPrefix {
    /// Matches the prefix at the start of the number.
    pattern: Regex,
    /// libphonenumber's transform rule, in `regex` replacement syntax.
    transform: Option<String>,
}

/// The rules of one country calling code: its regions, the main one first.
struct Country {
    code: u16,
    national_prefix: Option<NationalPrefix>,
    regions: Vec<Region>,
}

impl Country {
    fn new(code: u16) -> Option<Country> {
        let mut metas = DATABASE.by_code(&code)?;
        metas.sort_by_key(|m| !m.is_main_country_for_code());
        let main = metas.first()?;
        let for_parsing = main
            .national_prefix_for_parsing()
            .map(|r| r.as_str().to_owned())
            .or_else(|| main.national_prefix().map(str::to_owned));
        let national_prefix = for_parsing.filter(|p| !p.is_empty()).and_then(|p| {
            Some(NationalPrefix {
                pattern: Regex::new(&format!("^(?x:{p})")).ok()?,
                // `$1` in Java replacement syntax; `${1}` keeps a following digit apart.
                transform: main.national_prefix_transform_rule().filter(|t| !t.is_empty()).map(|t| {
                    let mut out = String::with_capacity(t.len() + 4);
                    let mut chars = t.chars().peekable();
                    while let Some(c) = chars.next() {
                        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                            out.push_str("${");
                            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                                out.push(d);
                            }
                            out.push('}');
                        } else {
                            out.push(c);
                        }
                    }
                    out
                }),
            })
        });
        let regions = metas.into_iter().filter_map(Region::new).collect::<Vec<_>>();
        (!regions.is_empty()).then_some(Country {
            code,
            national_prefix,
            regions,
        })
    }

    fn main(&self) -> &Region {
        &self.regions[0]
    }

    /// libphonenumber's `maybeStripNationalPrefixAndCarrierCode`, followed by its check that
    /// what is left still has a plausible length.
    fn strip_national_prefix<'a>(&self, number: &'a str) -> Cow<'a, str> {
        let Some(prefix) = &self.national_prefix else {
            return Cow::Borrowed(number);
        };
        let Some(captures) = prefix.pattern.captures(number) else {
            return Cow::Borrowed(number);
        };
        let whole = captures.get(0).map_or(0, |m| m.end());
        let general = &self.main().general;
        let viable_original = general.is_match(number);
        let last_group = captures.len().saturating_sub(1);
        let candidate = match &prefix.transform {
            Some(rule) if last_group > 0 && captures.get(last_group).is_some() => {
                let mut replaced = String::new();
                captures.expand(rule, &mut replaced);
                replaced.push_str(&number[whole..]);
                Cow::Owned(replaced)
            }
            _ => Cow::Borrowed(&number[whole..]),
        };
        if viable_original && !general.is_match(&candidate) {
            return Cow::Borrowed(number);
        }
        if self.main().plausible_length(&candidate) {
            candidate
        } else {
            Cow::Borrowed(number)
        }
    }

    /// A number written without `+` or an international prefix, in the default region: it
    /// may still start with the region's own country code (`31 6 …`).
    fn national_from_default<'a>(&self, digits: &'a str) -> Cow<'a, str> {
        let code = self.code.to_string();
        if let Some(rest) = digits.strip_prefix(&code) {
            let candidate = self.strip_national_prefix(rest);
            let general = &self.main().general;
            let too_long = self.main().lengths.last().is_some_and(|max| digits.len() as u16 > *max);
            if (!general.is_match(digits) && general.is_match(&candidate)) || too_long {
                return candidate;
            }
        }
        self.strip_national_prefix(digits)
    }

    /// The number, if valid: the region is the first whose leading digits it has or whose
    /// rules it fits (libphonenumber's `getRegionCodeForNumber`), and it must fit that region.
    fn number(&'static self, national: &str) -> Result<PhoneNumber, PhoneProblem> {
        if !NATIONAL_DIGITS.contains(&national.len()) {
            return Err(PhoneProblem::Length);
        }
        let region = if self.regions.len() == 1 {
            Some(self.main())
        } else {
            self.regions.iter().find(|r| match &r.leading_digits {
                Some(leading) => leading.is_match(national),
                None => r.valid(national),
            })
        };
        match region {
            Some(region) if region.valid(national) => {
                // Non-geographic numbers (+800, +883 …) have the pseudo-region `001`: no country.
                let id = (region.id != "001").then_some(region.id.as_str());
                Ok(PhoneNumber {
                    e164: format!("+{}{national}", self.code),
                    region: id,
                })
            }
            _ => Err(PhoneProblem::NotValidForRegion(self.main().id.clone())),
        }
    }
}

/// The compiled rules per country calling code, each built on first use.
fn country_rules(code: u16) -> Option<&'static Country> {
    static COUNTRIES: OnceLock<HashMap<u16, OnceLock<Option<Country>>>> = OnceLock::new();
    // Every calling code with metadata; non-geographic ones (+800, +883 …) share the region
    // id `001`, so the table is built from codes, not regions.
    let table = COUNTRIES.get_or_init(|| {
        (1..1000)
            .filter(|c| DATABASE.by_code(c).is_some())
            .map(|c| (c, OnceLock::new()))
            .collect()
    });
    table.get(&code)?.get_or_init(|| Country::new(code)).as_ref()
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
            "+31 0612345678",
            "(06) 123 456 78",
            "tel:+31-6-1234-5678",
            "612345678",
        ] {
            let phone = PhoneNumber::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(phone.as_str(), "+31612345678", "{raw}");
            assert_eq!(phone.region(), Some("NL"));
            assert!(phone.is_dutch());
        }
        assert_eq!(PhoneNumber::parse("020-1234567").map(|p| p.e164), Ok("+31201234567".into()));
        assert_eq!(PhoneNumber::parse("088 1234567").map(|p| p.e164), Ok("+31881234567".into()));
        assert_eq!(PhoneNumber::parse("0800-1234").map(|p| p.e164), Ok("+318001234".into()));
    }

    #[test]
    fn foreign_numbers_keep_their_country() {
        let be = PhoneNumber::parse("+32 470 12 34 56").expect("valid Belgian mobile");
        assert_eq!((be.as_str(), be.region()), ("+32470123456", Some("BE")));
        let gb = PhoneNumber::parse("+44 7400 123456").expect("valid UK mobile");
        assert_eq!((gb.as_str(), gb.region()), ("+447400123456", Some("GB")));
        let it = PhoneNumber::parse("+39 06 1234 5678").expect("valid Rome number");
        assert_eq!(it.as_str(), "+390612345678", "Italy keeps its leading zero");
        let us = PhoneNumber::parse("+1 212 555 0123").or_else(|_| PhoneNumber::parse("+1 201 555 0123"));
        assert!(us.is_ok(), "{us:?}");
        let de = PhoneNumber::parse("0049 30 1234567").expect("valid Berlin number");
        assert_eq!(de.as_str(), "+49301234567");
    }

    #[test]
    fn refuses_what_is_not_a_number_in_use() {
        assert_eq!(PhoneNumber::parse("06-1234"), Err(PhoneProblem::NotValidForRegion("NL".into())));
        assert_eq!(
            PhoneNumber::parse("0670000000"),
            Err(PhoneProblem::NotValidForRegion("NL".into())),
            "067 is not in use"
        );
        assert!(PhoneNumber::parse("hello").is_err());
        assert_eq!(PhoneNumber::parse("+999 123456789"), Err(PhoneProblem::UnknownCountryCode));
        assert!(PhoneNumber::parse("12").is_err());
        assert_eq!(PhoneNumber::parse("06 12345678 ext. 12"), Err(PhoneProblem::Extension));
        assert_eq!(PhoneNumber::parse("1234567890123456789"), Err(PhoneProblem::Length));
    }

    #[test]
    fn vanity_numbers_are_read_from_the_keypad() {
        assert_eq!(PhoneNumber::parse("0800-FRAUDE").map(|p| p.e164), Ok("+31800372833".into()));
        assert_eq!(PhoneNumber::parse("0800 fraude").map(|p| p.e164), Ok("+31800372833".into()));
        assert_eq!(PhoneNumber::parse("+31 800 FRAUDE").map(|p| p.e164), Ok("+31800372833".into()));
        assert_eq!(
            PhoneNumber::parse("0800-TAXI").map(|p| p.e164),
            Ok("+318008294".into()),
            "x is a letter here"
        );
        assert_eq!(
            PhoneNumber::parse("06-AB"),
            Err(PhoneProblem::NotANumber),
            "two letters are a typo, not a word"
        );
        assert_eq!(
            PhoneNumber::parse("06-FRAUDE12"),
            Err(PhoneProblem::NotANumber),
            "letters after only two digits"
        );
        assert_eq!(PhoneNumber::parse("+31 6 FRAUDE12").map(|p| p.e164), Ok("+31637283312".into()));
        assert_eq!(PhoneNumber::parse("020 123 4567 ext 12"), Err(PhoneProblem::Extension));
    }

    proptest! {
        #[test]
        fn dutch_mobiles_normalise_idempotently(n in "[1-58][0-9]{7}", style in 0usize..4) {
            // 06-1 to 06-5 and 06-8 are mobile ranges; 066 is for pagers, 067 and 069 are unused.
            let raw = match style {
                0 => format!("06-{n}"),
                1 => format!("+31 6 {n}"),
                2 => format!("00316{n}"),
                _ => format!("+31 (0)6 {n}"),
            };
            let phone = PhoneNumber::parse(&raw).expect("valid mobile");
            prop_assert_eq!(phone.as_str(), format!("+316{n}"));
            prop_assert_eq!(PhoneNumber::parse(phone.as_str()).expect("canonical"), phone);
        }

        #[test]
        fn never_panics(raw in "[0-9+() .-]{0,30}|\\PC{0,30}") {
            if let Ok(phone) = PhoneNumber::parse(&raw) {
                prop_assert_eq!(PhoneNumber::parse(phone.as_str()).map(|p| p.e164), Ok(phone.e164));
            }
        }
    }
}
