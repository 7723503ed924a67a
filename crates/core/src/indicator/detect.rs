//! Guessing the kind of a value given without one.
//!
//! The rules go from the most specific shape to the least, and a canonical value of every kind
//! is always detected as that kind (the property test in `mod.rs` checks this), so a check
//! without a kind finds what a report with a kind stored.

use super::IndicatorKind;
use super::crypto::detect_chain;
use super::handle::Platform;

/// The kind a raw, trimmed value most likely is, or `None` when it fits no kind.
pub(crate) fn detect_kind(value: &str) -> Option<IndicatorKind> {
    let lower_start: String = value.chars().take(12).collect::<String>().to_ascii_lowercase();
    if lower_start.starts_with("http://")
        || lower_start.starts_with("https://")
        || lower_start.starts_with("hxxp://")
        || lower_start.starts_with("hxxps://")
    {
        return Some(if is_profile_url(value) {
            IndicatorKind::Handle
        } else {
            IndicatorKind::Url
        });
    }
    if lower_start.starts_with("mailto:") {
        return Some(IndicatorKind::Email);
    }
    if lower_start.starts_with("tel:") {
        return Some(IndicatorKind::Phone);
    }
    if let Some((prefix, rest)) = value.split_once(':') {
        if Platform::from_key(prefix).is_some() && !rest.starts_with("//") {
            return Some(IndicatorKind::Handle);
        }
        if matches!(
            prefix.to_ascii_lowercase().as_str(),
            "btc" | "bitcoin" | "eth" | "ethereum" | "ltc" | "litecoin" | "trx" | "tron"
        ) {
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

fn is_profile_url(value: &str) -> bool {
    super::handle::Handle::parse(value).is_ok()
}

/// Two letters, two digits, then letters and digits, 15 to 34 in all, allowing the separators
/// and the `IBAN` prefix people write.
fn looks_like_iban(value: &str) -> bool {
    let compact: String = value.chars().filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.')).collect();
    let upper = compact.to_ascii_uppercase();
    let body = upper.strip_prefix("IBAN:").or_else(|| upper.strip_prefix("IBAN")).unwrap_or(&upper);
    let b = body.as_bytes();
    (15..=34).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric)
}

/// Digits with the punctuation people put in phone numbers, and nothing else.
fn looks_like_phone(value: &str) -> bool {
    let mut digits = 0usize;
    for c in value.chars() {
        match c {
            '0'..='9' => digits += 1,
            '+' | ' ' | '-' | '(' | ')' | '/' | '\u{a0}' => {}
            '.' => {}
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
