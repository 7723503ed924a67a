//! Guessing the kind of a value given without one.
//!
//! The rules go from the most specific shape to the least, and a canonical value of every kind
//! is always detected as that kind (the property test in `mod.rs` checks this), so a check
//! without a kind finds what a report with a kind stored.

use super::IndicatorKind;
use super::crypto::detect_chain;
use super::handle::Platform;

/// Whether `value` starts with `prefix`, ignoring ASCII case.
fn starts_with_ci(value: &str, prefix: &str) -> bool {
    value
        .as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

const CHAIN_PREFIXES: [&str; 8] = ["btc", "bitcoin", "eth", "ethereum", "ltc", "litecoin", "trx", "tron"];

/// The kind a raw, trimmed value most likely is, or `None` when it fits no kind. Runs on
/// every value checked, so it allocates nothing.
pub(crate) fn detect_kind(value: &str) -> Option<IndicatorKind> {
    if ["http://", "https://", "hxxp://", "hxxps://"]
        .iter()
        .any(|p| starts_with_ci(value, p))
    {
        return Some(if is_profile_url(value) {
            IndicatorKind::Handle
        } else {
            IndicatorKind::Url
        });
    }
    if starts_with_ci(value, "mailto:") {
        return Some(IndicatorKind::Email);
    }
    if starts_with_ci(value, "tel:") {
        return Some(IndicatorKind::Phone);
    }
    if let Some((prefix, rest)) = value.split_once(':') {
        if Platform::from_key(prefix).is_some() && !rest.starts_with("//") {
            return Some(IndicatorKind::Handle);
        }
        if CHAIN_PREFIXES.iter().any(|c| c.eq_ignore_ascii_case(prefix)) {
            return Some(IndicatorKind::Crypto);
        }
    }
    if looks_like_iban(value) {
        return Some(IndicatorKind::Iban);
    }
    if detect_chain(value).is_some() {
        return Some(IndicatorKind::Crypto);
    }
    if looks_like_phone(value) {
        return Some(IndicatorKind::Phone);
    }
    if !value.contains(char::is_whitespace) {
        let refanged = super::refang(value);
        if refanged.contains('@') {
            return Some(IndicatorKind::Email);
        }
        let tld_has_letter = refanged
            .split(['/', '?', '#', ':'])
            .next()
            .and_then(|host| host.trim_end_matches('.').rsplit('.').next())
            .is_some_and(|tld| tld.chars().any(char::is_alphabetic));
        if refanged.contains('.') && tld_has_letter {
            let has_path = refanged.contains(['/', '?', '#']);
            return Some(if has_path { IndicatorKind::Url } else { IndicatorKind::Domain });
        }
    } else if value.contains('@') && value.starts_with('"') {
        return Some(IndicatorKind::Email);
    }
    None
}

/// A profile address on a platform Vangnet knows (`https://t.me/name`).
fn is_profile_url(value: &str) -> bool {
    let rest = value.split_once("://").map_or(value, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    Platform::for_host(host).is_some() && super::handle::Handle::parse(value).is_ok()
}

/// Two letters, two digits, then letters and digits, 15 to 34 in all, allowing the separators
/// and the `IBAN` prefix people write.
fn looks_like_iban(value: &str) -> bool {
    let mut body = value.trim_start();
    if starts_with_ci(body, "iban") {
        body = body[4..].trim_start();
        body = body.strip_prefix(':').unwrap_or(body).trim_start();
    }
    let mut n = 0usize;
    for b in body.bytes() {
        if b.is_ascii_whitespace() || b == b'-' || b == b'.' {
            continue;
        }
        let fits = match n {
            0 | 1 => b.is_ascii_alphabetic(),
            2 | 3 => b.is_ascii_digit(),
            _ => b.is_ascii_alphanumeric(),
        };
        if !fits {
            return false;
        }
        n += 1;
    }
    (15..=34).contains(&n)
}

/// Digits with the punctuation people put in phone numbers, and nothing else.
fn looks_like_phone(value: &str) -> bool {
    let mut digits = 0usize;
    for c in value.chars() {
        match c {
            '0'..='9' => digits += 1,
            '+' | ' ' | '-' | '(' | ')' | '/' | '.' | '\u{a0}' => {}
            _ => return false,
        }
    }
    let starts_well = value.starts_with(['+', '0', '(']);
    digits >= 6 && (starts_well || digits >= 9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        use IndicatorKind::*;
        let cases = [
            ("NL91ABNA0417164300", Some(Iban)),
            ("iban nl91 abna 0417 1643 00", Some(Iban)),
            ("+31612345678", Some(Phone)),
            ("06 123 456 78", Some(Phone)),
            ("tel:+31612345678", Some(Phone)),
            ("https://example.com", Some(Url)),
            ("example.com/path", Some(Url)),
            ("example.com", Some(Domain)),
            ("jan@example.com", Some(Email)),
            ("btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Some(Crypto)),
            ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Some(Crypto)),
            ("instagram:shop", Some(Handle)),
            ("https://instagram.com/shop", Some(Handle)),
            ("whatsapp:+31612345678", Some(Handle)),
            ("just words", None),
            ("12.5", None),
        ];
        for (value, kind) in cases {
            assert_eq!(detect_kind(value), kind, "{value}");
        }
    }
}
