//! E-mail addresses.
//!
//! The whole address is lower case and the domain punycode. RFC 5321 leaves the meaning of the
//! local part's case to the receiving server, but every major provider ignores it, so
//! `Fraud2@Outlook.COM` and `fraud2@outlook.com` are one mailbox and must be one indicator.
//! Quoted local parts and international (UTF-8) local parts are accepted; domain literals
//! (`user@[192.0.2.1]`) are not, since no fraud report needs them and they cannot be taken
//! down by a registrar. The domain gets the same homoglyph facts as a web domain.

use std::fmt;

use super::refang;

/// Why a value is not a valid e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailProblem {
    #[error("it needs exactly one @ between a name and a domain")]
    NoAt,
    #[error("the part before the @ is empty or longer than 64 characters")]
    LocalLength,
    #[error("the part before the @ contains characters that are not allowed")]
    LocalCharacters,
    #[error("the domain after the @ is not valid")]
    Domain,
    #[error("the address is longer than 254 characters")]
    Length,
}

/// A valid e-mail address with a normalised domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email {
    value: String,
}

impl Email {
    /// Parses an e-mail address, with or without `mailto:`.
    pub fn parse(raw: &str) -> Result<Email, EmailProblem> {
        let value = refang(raw.trim());
        let value = value.strip_prefix("mailto:").unwrap_or(&value);
        let value = value.strip_prefix('<').and_then(|v| v.strip_suffix('>')).unwrap_or(value);
        let (local, domain) = value.rsplit_once('@').ok_or(EmailProblem::NoAt)?;
        check_local(local)?;
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        if domain.is_empty() || domain.starts_with('[') {
            return Err(EmailProblem::Domain);
        }
        let ascii = super::web::host_to_ascii(domain).ok_or(EmailProblem::Domain)?;
        let labels: Vec<&str> = ascii.split('.').collect();
        let valid_labels = labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
        let tld_ok = labels
            .last()
            .is_some_and(|t| t.len() >= 2 && !t.bytes().all(|b| b.is_ascii_digit()));
        if labels.len() < 2 || !valid_labels || !tld_ok || ascii.len() > 253 {
            return Err(EmailProblem::Domain);
        }
        let value = format!("{}@{ascii}", local.to_lowercase());
        if value.len() > 254 {
            return Err(EmailProblem::Length);
        }
        Ok(Email { value })
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The domain part, in punycode.
    pub fn domain(&self) -> &str {
        self.value.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// The homoglyph facts of the domain, as for a web domain (`gmаil.com` with a Cyrillic `а`).
    pub(super) fn host_facts(&self) -> super::IndicatorFacts {
        super::web::host_facts(self.domain())
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// RFC 5322 `atext`, plus any non-ASCII character (RFC 6531).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c) || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
}

fn check_local(local: &str) -> Result<(), EmailProblem> {
    if local.is_empty() || local.chars().count() > 64 {
        return Err(EmailProblem::LocalLength);
    }
    if let Some(inner) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        // A quoted string: printable characters, with `"` and `\` only when escaped.
        let mut escaped = false;
        for c in inner.chars() {
            if c.is_control() {
                return Err(EmailProblem::LocalCharacters);
            }
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                return Err(EmailProblem::LocalCharacters);
            }
        }
        return if escaped { Err(EmailProblem::LocalCharacters) } else { Ok(()) };
    }
    // A dot-atom: atext separated by single dots.
    if local.split('.').any(|part| part.is_empty() || !part.chars().all(is_atext)) {
        return Err(EmailProblem::LocalCharacters);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email(raw: &str) -> Result<String, EmailProblem> {
        Email::parse(raw).map(|e| e.value)
    }

    #[test]
    fn lower_cases_everything_and_encodes_the_domain() {
        assert_eq!(email("  Jan.Jansen@Example.COM "), Ok("jan.jansen@example.com".into()));
        assert_eq!(email("Fraud2@Outlook.COM"), email("fraud2@outlook.com"));
        assert_eq!(email("JÜRGEN@Example.de"), Ok("jürgen@example.de".into()));
        assert_eq!(email("mailto:info@Bücher.de"), Ok("info@xn--bcher-kva.de".into()));
        assert_eq!(email("<helpdesk@ing-veilig.nl>"), Ok("helpdesk@ing-veilig.nl".into()));
        assert_eq!(email("\"Jan Jansen\"@example.nl"), Ok("\"jan jansen\"@example.nl".into()));
        assert_eq!(email("jürgen@example.de"), Ok("jürgen@example.de".into()));
        assert_eq!(email("info[@]fake-shop[.]nl"), Ok("info@fake-shop.nl".into()));
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(email("jan.example.com"), Err(EmailProblem::NoAt));
        assert_eq!(email("@example.com"), Err(EmailProblem::LocalLength));
        assert_eq!(email("jan..jansen@example.com"), Err(EmailProblem::LocalCharacters));
        assert_eq!(email("jan jansen@example.com"), Err(EmailProblem::LocalCharacters));
        assert_eq!(email("jan@localhost"), Err(EmailProblem::Domain));
        assert_eq!(email("jan@[192.0.2.1]"), Err(EmailProblem::Domain));
        assert_eq!(email(&format!("{}@example.com", "a".repeat(65))), Err(EmailProblem::LocalLength));
    }

    #[test]
    fn lookalike_letters_in_the_domain_are_flagged() {
        let cyrillic_a = Email::parse("helpdesk@gm\u{0430}il.com").expect("valid");
        assert_eq!(cyrillic_a.domain(), "xn--gmil-63d.com");
        let facts = cyrillic_a.host_facts();
        assert!(facts.mixed_script, "{facts:?}");
        assert_eq!(facts.unicode_host.as_deref(), Some("gm\u{0430}il.com"));
        assert!(!Email::parse("helpdesk@gmail.com").expect("valid").host_facts().mixed_script);
    }

    proptest! {
        #[test]
        fn idempotent(local in "[A-Za-z0-9._%+-]{1,20}", domain in "[A-Za-z0-9]{1,12}\\.(nl|COM|de)") {
            if let Ok(e) = Email::parse(&format!("{local}@{domain}")) {
                prop_assert_eq!(e.as_str(), e.as_str().to_lowercase());
                prop_assert_eq!(Email::parse(e.as_str()).expect("canonical"), e);
            }
        }

        #[test]
        fn never_panics(raw in "\\PC{0,60}") {
            if let Ok(e) = Email::parse(&raw) {
                prop_assert_eq!(Email::parse(e.as_str()).map(|x| x.value), Ok(e.value));
            }
        }
    }
}
