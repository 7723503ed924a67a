//! Web addresses and domain names.
//!
//! A URL keeps its path and query but loses what does not change where it leads: the default
//! port, the fragment, user name and password, the trailing dot of the host. The host is lower
//! case and in punycode. A domain indicator is the *registrable* domain according to the Public
//! Suffix List (`shop.example.co.uk` → `example.co.uk`), because that is what a fraudster
//! registers and what a registrar can take down.

use std::fmt;

use super::IndicatorFacts;
use super::refang;
use super::script::inspect_host;

/// Why a value is not a valid domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainProblem {
    #[error("it contains characters that cannot be part of a domain name")]
    Characters,
    #[error("a label is empty or longer than 63 characters, or the name is longer than 253")]
    Length,
    #[error("a label starts or ends with a hyphen")]
    Hyphen,
    #[error("it is an IP address, not a domain name")]
    IpAddress,
    #[error("`{0}` is not a known top-level domain")]
    UnknownSuffix(String),
    #[error("it is a public suffix such as `co.uk`, not a domain someone registered")]
    PublicSuffix,
}

/// Why a value is not a valid web address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    #[error("only http and https addresses are accepted")]
    Scheme,
    #[error("it is not a well-formed address")]
    Malformed,
    #[error("the address has no host")]
    NoHost,
    #[error("{0}")]
    Host(DomainProblem),
}

/// A registrable domain name in punycode (`example.co.uk`, `xn--pple-43d.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Domain {
    value: String,
}

/// A normalised http(s) URL, with the domain it points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebUrl {
    value: String,
    domain: Option<Domain>,
}

/// Registrable domains of platforms where anyone can publish a page (forms, hosting, link
/// shorteners, messengers). A fraudulent page there says nothing about the platform, so a
/// URL report on them does not produce a domain indicator.
const SHARED_PLATFORMS: &[&str] = &[
    "google.com",
    "goo.gl",
    "forms.gle",
    "microsoft.com",
    "office.com",
    "live.com",
    "sharepoint.com",
    "apple.com",
    "icloud.com",
    "amazonaws.com",
    "azurewebsites.net",
    "windows.net",
    "dropbox.com",
    "wetransfer.com",
    "facebook.com",
    "instagram.com",
    "whatsapp.com",
    "wa.me",
    "t.me",
    "telegram.org",
    "tiktok.com",
    "x.com",
    "twitter.com",
    "linkedin.com",
    "youtube.com",
    "bit.ly",
    "tinyurl.com",
    "rebrand.ly",
    "cutt.ly",
    "marktplaats.nl",
    "vinted.nl",
    "tikkie.me",
    "wix.com",
    "wixsite.com",
    "weebly.com",
    "jimdo.com",
    "jimdosite.com",
    "webflow.io",
    "netlify.app",
    "vercel.app",
    "pages.dev",
    "workers.dev",
    "github.io",
    "glitch.me",
    "typeform.com",
    "jotform.com",
    "ipfs.io",
];

impl Domain {
    /// Parses a domain name, a host name or a URL, and keeps its registrable domain.
    pub fn parse(raw: &str) -> Result<Domain, DomainProblem> {
        let value = refang(raw.trim());
        let host = if value.contains("://") {
            match WebUrl::parse(&value) {
                Ok(url) => return url.domain.ok_or(DomainProblem::IpAddress),
                Err(UrlProblem::Host(problem)) => return Err(problem),
                Err(_) => return Err(DomainProblem::Characters),
            }
        } else {
            bare_host(&value)
        };
        registrable(host)
    }

    /// The punycode form.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Whether anyone can publish pages under this domain (see `SHARED_PLATFORMS`).
    pub fn is_shared_platform(&self) -> bool {
        SHARED_PLATFORMS.contains(&self.value.as_str())
    }

    pub(super) fn host_facts(&self) -> IndicatorFacts {
        host_facts(&self.value)
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl WebUrl {
    /// Parses an http(s) address; one without a scheme is taken as `http://`.
    pub fn parse(raw: &str) -> Result<WebUrl, UrlProblem> {
        let value = refang(raw.trim());
        let with_scheme = match value.find("://") {
            Some(pos) => {
                let scheme = &value[..pos];
                if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
                    return Err(UrlProblem::Scheme);
                }
                value.into_owned()
            }
            None if value.contains(':') && !looks_like_host_with_port(&value) => {
                return Err(UrlProblem::Scheme);
            }
            None => format!("http://{}", value.trim_start_matches('/')),
        };
        if with_scheme.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlProblem::Malformed);
        }
        if let Some((value, host)) = plain_url(&with_scheme) {
            let domain = match registrable(&value[host]) {
                Ok(domain) => Some(domain),
                Err(DomainProblem::PublicSuffix) => None,
                Err(problem) => return Err(UrlProblem::Host(problem)),
            };
            return Ok(WebUrl { value, domain });
        }
        Self::parse_with_url_crate(&with_scheme)
    }

    /// The general path: the `url` crate's WHATWG parser.
    fn parse_with_url_crate(with_scheme: &str) -> Result<WebUrl, UrlProblem> {
        let mut url = url::Url::parse(with_scheme).map_err(|_| UrlProblem::Malformed)?;
        if url.fragment().is_some() {
            url.set_fragment(None);
        }
        // Setting the user name or password only fails for URLs that cannot have them, and an
        // http(s) URL always can.
        if !url.username().is_empty() {
            let _ = url.set_username("");
        }
        if url.password().is_some() {
            let _ = url.set_password(None);
        }
        let domain = match url.host() {
            None => return Err(UrlProblem::NoHost),
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => None,
            Some(url::Host::Domain(host)) => {
                if let Some(stripped) = host.strip_suffix('.') {
                    let stripped = stripped.to_owned();
                    url.set_host(Some(&stripped)).map_err(|_| UrlProblem::Malformed)?;
                }
                let host = url.host_str().ok_or(UrlProblem::NoHost)?;
                check_host_labels(host).map_err(UrlProblem::Host)?;
                match registrable(host) {
                    Ok(domain) => Some(domain),
                    // A page on a public suffix itself (`https://github.io/`) is a valid
                    // address, but no one registered that domain.
                    Err(DomainProblem::PublicSuffix) => None,
                    Err(problem) => return Err(UrlProblem::Host(problem)),
                }
            }
        };
        Ok(WebUrl { value: url.into(), domain })
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The registrable domain of the host; `None` for an IP address.
    pub fn domain(&self) -> Option<&Domain> {
        self.domain.as_ref()
    }

    pub(super) fn host_facts(&self) -> IndicatorFacts {
        match url::Url::parse(&self.value).ok().and_then(|u| u.host_str().map(str::to_owned)) {
            Some(host) => host_facts(&host),
            None => IndicatorFacts::default(),
        }
    }
}

impl fmt::Display for WebUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// The canonical form of a plain URL, without the general parser: an http(s) URL whose host
/// is ASCII letters, digits, dots and hyphens (no punycode, no IP address, no user name),
/// with an optional port, and whose path and query hold only characters the WHATWG URL
/// standard leaves as they are, with no `.` or `..` segments. For those, normalising is
/// lower-casing scheme and host, dropping a default port and the fragment, and writing an
/// empty path as `/`; a property test holds this to the `url` crate's output. Returns the
/// URL and the host's position in it, or `None` for anything else.
fn plain_url(value: &str) -> Option<(String, std::ops::Range<usize>)> {
    let (scheme, rest) = value.split_once("://")?;
    let (scheme, default_port) = if scheme.eq_ignore_ascii_case("https") {
        ("https", 443)
    } else if scheme.eq_ignore_ascii_case("http") {
        ("http", 80)
    } else {
        return None;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => {
            let valid = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) && !port.starts_with('0');
            let number: u32 = port.parse().ok().filter(|_| valid)?;
            (host, (number <= 65_535).then_some(number)?)
        }
        None => (authority, default_port),
    };
    let last_label = host.rsplit('.').next()?;
    let plain_host = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && host
            .split('.')
            .all(|label| !label.is_empty() && !label.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")))
        && last_label.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    if !plain_host {
        return None;
    }
    let tail = tail.split('#').next().unwrap_or("");
    let bytes = tail.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let safe = b.is_ascii_alphanumeric() || b"-._~!$&()*+,;=:@/?".contains(b);
        let escape = *b == b'%' && bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        if !safe && !escape {
            return None;
        }
    }
    let path = tail.split('?').next().unwrap_or("");
    let dot_segment = |s: &str| {
        let s = s.to_ascii_lowercase();
        matches!(s.as_str(), "." | ".." | "%2e" | ".%2e" | "%2e." | "%2e%2e")
    };
    if path.split('/').any(dot_segment) {
        return None;
    }
    let mut out = String::with_capacity(value.len() + 1);
    out.push_str(scheme);
    out.push_str("://");
    let host_start = out.len();
    out.extend(host.chars().map(|c| c.to_ascii_lowercase()));
    let host_range = host_start..out.len();
    if port != default_port {
        out.push(':');
        out.push_str(&port.to_string());
    }
    if !tail.starts_with('/') {
        out.push('/');
    }
    out.push_str(tail);
    Some((out, host_range))
}

fn looks_like_host_with_port(value: &str) -> bool {
    // `example.com:8080/path` has a colon but no scheme.
    let host_port = value.split(['/', '?', '#']).next().unwrap_or("");
    match host_port.rsplit_once(':') {
        Some((host, port)) => !host.is_empty() && host.contains('.') && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// The host part of a value without a scheme: before any path, query, fragment or port, and
/// after any user name.
fn bare_host(value: &str) -> &str {
    let end = value.find(['/', '?', '#']).unwrap_or(value.len());
    let authority = &value[..end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

/// Converts a host name to lower-case punycode and checks its labels.
fn to_ascii_host(host: &str) -> Result<String, DomainProblem> {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return Err(DomainProblem::Length);
    }
    let maybe_ip = host.starts_with('[') || host.contains(':') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if maybe_ip && (host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok()) {
        return Err(DomainProblem::IpAddress);
    }
    let ascii = host_to_ascii(host).ok_or(DomainProblem::Characters)?;
    check_host_labels(&ascii)?;
    Ok(ascii)
}

/// A host name in lower-case punycode (UTS 46), or `None` when IDNA refuses it. Plain ASCII
/// names without punycode labels, by far the most common, skip the IDNA machinery.
pub(crate) fn host_to_ascii(host: &str) -> Option<String> {
    let plain = host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !host
            .split('.')
            .any(|label| label.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")));
    if plain {
        return Some(host.to_ascii_lowercase());
    }
    idna::domain_to_ascii(host).ok()
}

/// Checks the labels of a lower-case punycode host name.
fn check_host_labels(ascii: &str) -> Result<(), DomainProblem> {
    if ascii.is_empty() || ascii.len() > 253 {
        return Err(DomainProblem::Length);
    }
    let mut labels = 0usize;
    for label in ascii.split('.') {
        labels += 1;
        if label.is_empty() || label.len() > 63 {
            return Err(DomainProblem::Length);
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(DomainProblem::Characters);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DomainProblem::Hyphen);
        }
    }
    let tld = ascii.rsplit('.').next().unwrap_or("");
    if labels < 2 || tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(if ascii.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
            DomainProblem::IpAddress
        } else {
            DomainProblem::UnknownSuffix(tld.to_owned())
        });
    }
    Ok(())
}

/// The registrable domain of a host name.
fn registrable(host: &str) -> Result<Domain, DomainProblem> {
    let ascii = to_ascii_host(host)?;
    let Some(domain) = psl::domain(ascii.as_bytes()) else {
        return match psl::suffix(ascii.as_bytes()) {
            Some(suffix) if suffix.is_known() => Err(DomainProblem::PublicSuffix),
            _ => Err(DomainProblem::UnknownSuffix(ascii.rsplit('.').next().unwrap_or("").to_owned())),
        };
    };
    if !domain.suffix().is_known() {
        let suffix = String::from_utf8_lossy(domain.suffix().as_bytes()).into_owned();
        return Err(DomainProblem::UnknownSuffix(suffix));
    }
    let value = std::str::from_utf8(domain.as_bytes())
        .map_err(|_| DomainProblem::Characters)?
        .to_owned();
    Ok(Domain { value })
}

pub(super) fn host_facts(ascii_host: &str) -> IndicatorFacts {
    let (unicode, result) = idna::domain_to_unicode(ascii_host);
    if result.is_err() {
        return IndicatorFacts::default();
    }
    let findings = inspect_host(&unicode);
    IndicatorFacts {
        mixed_script: findings.mixed_script,
        confusable: findings.confusable,
        unicode_host: (unicode != ascii_host).then_some(unicode),
        ..IndicatorFacts::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn url(raw: &str) -> Result<String, UrlProblem> {
        WebUrl::parse(raw).map(|u| u.value)
    }

    fn domain(raw: &str) -> Result<String, DomainProblem> {
        Domain::parse(raw).map(|d| d.value)
    }

    #[test]
    fn urls_lose_what_does_not_matter() {
        assert_eq!(
            url("https://Shop.Example.com/deal?id=1"),
            Ok("https://shop.example.com/deal?id=1".into())
        );
        assert_eq!(url("HTTPS://shop.example.com:443/x#frag"), Ok("https://shop.example.com/x".into()));
        assert_eq!(url("http://user:secret@shop.example.com:80"), Ok("http://shop.example.com/".into()));
        assert_eq!(url("shop.example.com/deal"), Ok("http://shop.example.com/deal".into()));
        assert_eq!(url("https://shop.example.com./"), Ok("https://shop.example.com/".into()));
        assert_eq!(url("https://shop.example.com:8443/"), Ok("https://shop.example.com:8443/".into()));
        assert_eq!(url("https://bücher.example.de/"), Ok("https://xn--bcher-kva.example.de/".into()));
        assert_eq!(url("http://192.0.2.7/login"), Ok("http://192.0.2.7/login".into()));
    }

    #[test]
    fn urls_yield_their_registrable_domain() {
        let u = WebUrl::parse("https://login.ing.nl.secure-check.co.uk/x").expect("valid");
        assert_eq!(u.domain().map(Domain::as_str), Some("secure-check.co.uk"));
        let ip = WebUrl::parse("http://192.0.2.7/").expect("valid");
        assert_eq!(ip.domain(), None);
        let suffix = WebUrl::parse("https://github.io/x").expect("valid");
        assert_eq!(suffix.domain(), None, "a public suffix is nobody's domain");
    }

    #[test]
    fn urls_refuse_other_schemes_and_garbage() {
        assert_eq!(url("javascript:alert(1)"), Err(UrlProblem::Scheme));
        assert_eq!(url("ftp://example.com/"), Err(UrlProblem::Scheme));
        assert_eq!(url("https://exa mple.com/"), Err(UrlProblem::Malformed));
        assert_eq!(
            url("https://example.notatld/"),
            Err(UrlProblem::Host(DomainProblem::UnknownSuffix("notatld".into())))
        );
        assert_eq!(
            url("https://localhost/"),
            Err(UrlProblem::Host(DomainProblem::UnknownSuffix("localhost".into())))
        );
    }

    #[test]
    fn domains_are_registrable_domains() {
        assert_eq!(domain("shop.example.co.uk"), Ok("example.co.uk".into()));
        assert_eq!(domain("WWW.Example.NL."), Ok("example.nl".into()));
        assert_eq!(domain("https://a.b.example.com/path"), Ok("example.com".into()));
        assert_eq!(domain("user@example.com:8080/x"), Ok("example.com".into()));
        assert_eq!(domain("evil.github.io"), Ok("evil.github.io".into()), "private suffixes count");
        assert_eq!(domain("münchen.de"), Ok("xn--mnchen-3ya.de".into()));
        assert_eq!(domain("co.uk"), Err(DomainProblem::PublicSuffix));
        assert_eq!(domain("192.0.2.1"), Err(DomainProblem::IpAddress));
        assert_eq!(domain("-bad-.nl"), Err(DomainProblem::Hyphen));
        assert_eq!(domain("exa$mple.nl"), Err(DomainProblem::Characters));
    }

    #[test]
    fn flags_homoglyph_hosts() {
        let d = Domain::parse("аpple.com").expect("valid IDN");
        assert!(d.as_str().starts_with("xn--"));
        let facts = d.host_facts();
        assert!(facts.mixed_script);
        assert_eq!(facts.unicode_host.as_deref(), Some("аpple.com"));
        assert!(!Domain::parse("apple.com").expect("valid").host_facts().mixed_script);
    }

    #[test]
    fn knows_shared_platforms() {
        assert!(Domain::parse("docs.google.com").expect("valid").is_shared_platform());
        assert!(!Domain::parse("bol-com-deals.shop").expect("valid").is_shared_platform());
    }

    /// Inputs built from the characters that decide whether the plain path applies.
    fn url_strategy() -> impl Strategy<Value = String> {
        let scheme = prop_oneof!["http", "https", "HTTP", "Https"];
        let host = prop_oneof![
            "[a-zA-Z0-9-]{1,8}(\\.[a-zA-Z0-9-]{1,8}){0,2}\\.(com|nl|COM|shop|co\\.uk)",
            "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
            "xn--[a-z0-9]{3,8}\\.com",
            "[a-z]{1,5}\\.[0-9]{1,3}"
        ];
        let port = prop_oneof!["", ":80", ":443", ":8080", ":0", ":080", ":99999", ":"];
        let path = "(/([a-zA-Z0-9._~!$&()*+,;=:@%'\"<>`{}|^\\[\\]-]|%[0-9a-fA-F]{2}|\\.\\.|\\.){0,6}){0,4}";
        let query = "(\\?[a-zA-Z0-9=&%./?'\"<>-]{0,12})?";
        let fragment = "(#[a-z0-9/]{0,6})?";
        (scheme, host, port, path, query, fragment).prop_map(|(s, h, p, pa, q, f)| format!("{s}://{h}{p}{pa}{q}{f}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn the_plain_path_agrees_with_the_url_crate(raw in url_strategy()) {
            if let Some((fast, host)) = plain_url(&raw) {
                prop_assert_eq!(WebUrl::parse(&raw), WebUrl::parse_with_url_crate(&raw), "{}", raw);
                if let Ok(parsed) = url::Url::parse(&fast) {
                    prop_assert_eq!(Some(&fast[host]), parsed.host_str());
                }
            }
        }
    }

    #[test]
    fn the_plain_path_takes_the_common_cases() {
        for raw in [
            "https://Shop.Example.com/deal?id=1",
            "http://a.nl",
            "https://x.co.uk:8443/p/q?r=s#frag",
            "https://a.com?x",
        ] {
            assert!(plain_url(raw).is_some(), "{raw}");
        }
        for raw in [
            "https://user@a.com/",
            "https://xn--pple-43d.com/",
            "http://192.0.2.7/",
            "https://a.com/./x",
            "https://a.com/a b",
            "https://a.com:080/",
        ] {
            assert!(plain_url(raw).is_none(), "{raw}");
        }
        assert_eq!(
            plain_url("HTTPS://A.com:443?x#y").map(|(v, _)| v).as_deref(),
            Some("https://a.com/?x")
        );
    }

    proptest! {
        #[test]
        fn domains_are_idempotent(label in "[a-z0-9]{1,20}", sub in "([a-z]{1,8}\\.)?", tld in "(nl|com|co\\.uk|de|shop|be)") {
            let raw = format!("{sub}{label}.{tld}");
            let d = Domain::parse(&raw).expect("valid");
            prop_assert_eq!(Domain::parse(d.as_str()).expect("canonical"), d);
        }

        #[test]
        fn urls_are_idempotent(host in "[a-z]{1,10}\\.(nl|com)", path in "(/[A-Za-z0-9._~%-]{0,10}){0,3}", query in "(\\?[a-z]=[0-9]{1,3})?") {
            let u = WebUrl::parse(&format!("https://{host}{path}{query}")).expect("valid");
            prop_assert_eq!(WebUrl::parse(u.as_str()).expect("canonical"), u);
        }

        #[test]
        fn never_panic(raw in "\\PC{0,60}") {
            if let Ok(u) = WebUrl::parse(&raw) {
                prop_assert_eq!(WebUrl::parse(u.as_str()).map(|x| x.value), Ok(u.value));
            }
            if let Ok(d) = Domain::parse(&raw) {
                prop_assert_eq!(Domain::parse(d.as_str()).map(|x| x.value), Ok(d.value));
            }
        }
    }
}
