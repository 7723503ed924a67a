//! Money as an integer number of minor units (cents) and an ISO 4217 currency. Never floats.

use std::fmt;

/// Why a money amount is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency code")]
    Currency(String),
    #[error("the amount must be a decimal number such as 250.00")]
    Format,
    #[error("{currency} amounts have at most {exponent} decimals")]
    Precision { currency: String, exponent: u8 },
    #[error("the amount must not be negative")]
    Negative,
    #[error("the amount is too large")]
    TooLarge,
}

/// An ISO 4217 currency with its number of decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Active ISO 4217 codes and their minor-unit exponents. Codes not listed here are refused,
/// so a typing error (`EUT`) never becomes a currency of its own.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    /// The euro.
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        exponent: 2,
    };

    /// The currency for an ISO 4217 code (upper case).
    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, exponent)| {
                let b = c.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    exponent: *exponent,
                }
            })
            .ok_or_else(|| MoneyError::Currency(code.chars().take(8).collect()))
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // The code is always three ASCII letters taken from the table above.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// The number of decimals of the minor unit.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

/// A non-negative amount of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// The largest amount accepted: a trillion in major units, far above any fraud.
const MAX_MAJOR: i64 = 1_000_000_000_000;

impl Money {
    /// Parses a decimal string such as `250.00` in the given currency.
    pub fn parse(value: &str, currency: Currency) -> Result<Money, MoneyError> {
        let value = value.trim();
        if value.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
        if whole.is_empty() || whole.len() > 15 || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Format);
        }
        if value.contains('.') && fraction.is_empty() {
            return Err(MoneyError::Format);
        }
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Format);
        }
        let significant = fraction.trim_end_matches('0');
        if significant.len() > usize::from(currency.exponent) {
            return Err(MoneyError::Precision {
                currency: currency.code().to_owned(),
                exponent: currency.exponent,
            });
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::TooLarge)?;
        if whole > MAX_MAJOR {
            return Err(MoneyError::TooLarge);
        }
        let scale = 10i64.pow(u32::from(currency.exponent));
        let mut frac_minor: i64 = 0;
        for (i, b) in significant.bytes().enumerate() {
            frac_minor += i64::from(b - b'0') * 10i64.pow(u32::from(currency.exponent) - 1 - i as u32);
        }
        Ok(Money {
            minor: whole * scale + frac_minor,
            currency,
        })
    }

    /// An amount from minor units; negative amounts become zero.
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money {
            minor: minor.max(0),
            currency,
        }
    }

    /// The amount in minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount as a decimal string with exactly the currency's number of decimals.
    pub fn decimal(&self) -> String {
        let exp = u32::from(self.currency.exponent);
        if exp == 0 {
            return self.minor.to_string();
        }
        let scale = 10i64.pow(exp);
        format!("{}.{:0width$}", self.minor / scale, self.minor % scale, width = exp as usize)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency.code(), self.decimal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_decimal_strings() {
        let eur = Currency::EUR;
        assert_eq!(Money::parse("250.00", eur).map(|m| m.minor()), Ok(25_000));
        assert_eq!(Money::parse("250", eur).map(|m| m.minor()), Ok(25_000));
        assert_eq!(Money::parse("0.5", eur).map(|m| m.minor()), Ok(50));
        assert_eq!(Money::parse("12.340", eur).map(|m| m.minor()), Ok(1_234));
        assert_eq!(
            Money::parse("1.005", eur),
            Err(MoneyError::Precision {
                currency: "EUR".into(),
                exponent: 2
            })
        );
        assert_eq!(Money::parse("-5", eur), Err(MoneyError::Negative));
        assert_eq!(Money::parse("1,50", eur), Err(MoneyError::Format));
        assert_eq!(Money::parse("1.", eur), Err(MoneyError::Format));
        assert_eq!(Money::parse("99999999999999999999", eur), Err(MoneyError::Format));
        let jpy = Currency::parse("JPY").expect("known");
        assert_eq!(Money::parse("1000", jpy).map(|m| m.decimal()), Ok("1000".into()));
        assert_eq!(Currency::parse("EUT"), Err(MoneyError::Currency("EUT".into())));
    }

    proptest! {
        #[test]
        fn decimal_round_trips(minor in 0i64..1_000_000_000_000) {
            let m = Money::from_minor(minor, Currency::EUR);
            prop_assert_eq!(Money::parse(&m.decimal(), Currency::EUR), Ok(m));
        }

        #[test]
        fn never_panics(raw in "\\PC{0,30}") {
            let _ = Money::parse(&raw, Currency::EUR);
        }
    }
}
