//! Accounts on platforms: `platform:name` (`instagram:fake.shop_nl`, `whatsapp:+31612345678`).
//!
//! Names are lower case without a leading `@`. Messenger accounts that are phone numbers
//! (WhatsApp, Signal) hold the number in E.164. A profile address (`https://t.me/name`) is
//! turned into the handle it points at.

use std::fmt;

use super::phone::PhoneNumber;

/// The platforms Vangnet knows handles of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Whatsapp,
    Signal,
    Telegram,
    Instagram,
    Facebook,
    Tiktok,
    Snapchat,
    X,
    Linkedin,
    Marktplaats,
    Vinted,
    Tweedehands,
    Ebay,
    Tinder,
    Discord,
    Youtube,
}

/// How names on a platform are written.
struct NameRule {
    min: usize,
    max: usize,
    extra: &'static str,
}

impl Platform {
    const ALL: [Platform; 16] = [
        Platform::Whatsapp,
        Platform::Signal,
        Platform::Telegram,
        Platform::Instagram,
        Platform::Facebook,
        Platform::Tiktok,
        Platform::Snapchat,
        Platform::X,
        Platform::Linkedin,
        Platform::Marktplaats,
        Platform::Vinted,
        Platform::Tweedehands,
        Platform::Ebay,
        Platform::Tinder,
        Platform::Discord,
        Platform::Youtube,
    ];

    /// The stable key used in the canonical form.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Whatsapp => "whatsapp",
            Platform::Signal => "signal",
            Platform::Telegram => "telegram",
            Platform::Instagram => "instagram",
            Platform::Facebook => "facebook",
            Platform::Tiktok => "tiktok",
            Platform::Snapchat => "snapchat",
            Platform::X => "x",
            Platform::Linkedin => "linkedin",
            Platform::Marktplaats => "marktplaats",
            Platform::Vinted => "vinted",
            Platform::Tweedehands => "tweedehands",
            Platform::Ebay => "ebay",
            Platform::Tinder => "tinder",
            Platform::Discord => "discord",
            Platform::Youtube => "youtube",
        }
    }

    /// The platform for a key or a common alias (`twitter`, `2dehands`, `ig`), in any case.
    pub fn from_key(key: &str) -> Option<Platform> {
        const ALIASES: [(&str, Platform); 7] = [
            ("twitter", Platform::X),
            ("2dehands", Platform::Tweedehands),
            ("2ememain", Platform::Tweedehands),
            ("ig", Platform::Instagram),
            ("fb", Platform::Facebook),
            ("tg", Platform::Telegram),
            ("wa", Platform::Whatsapp),
        ];
        let key = key.trim();
        ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(key))
            .map(|(_, p)| *p)
            .or_else(|| Self::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(key)))
    }

    /// The platform whose profile addresses live on `host` (`www.instagram.com`).
    pub fn for_host(host: &str) -> Option<Platform> {
        let host = host.trim_end_matches('.');
        let bare = ["www.", "m."]
            .iter()
            .find_map(|p| host.get(..p.len()).filter(|h| h.eq_ignore_ascii_case(p)).map(|_| &host[p.len()..]))
            .unwrap_or(host);
        Self::ALL
            .into_iter()
            .find(|p| p.hosts().iter().any(|h| h.eq_ignore_ascii_case(bare)))
    }

    fn is_phone_based(self) -> bool {
        matches!(self, Platform::Whatsapp | Platform::Signal)
    }

    fn rule(self) -> NameRule {
        match self {
            Platform::Telegram => NameRule {
                min: 5,
                max: 32,
                extra: "_",
            },
            Platform::Instagram => NameRule {
                min: 1,
                max: 30,
                extra: "._",
            },
            Platform::Tiktok => NameRule {
                min: 2,
                max: 24,
                extra: "._",
            },
            Platform::X => NameRule {
                min: 1,
                max: 15,
                extra: "_",
            },
            Platform::Snapchat => NameRule {
                min: 3,
                max: 15,
                extra: "._-",
            },
            Platform::Facebook => NameRule {
                min: 1,
                max: 50,
                extra: ".",
            },
            _ => NameRule {
                min: 1,
                max: 64,
                extra: "._- ",
            },
        }
    }

    /// Hosts whose profile addresses name an account on this platform.
    fn hosts(self) -> &'static [&'static str] {
        match self {
            Platform::Whatsapp => &["wa.me", "api.whatsapp.com"],
            Platform::Telegram => &["t.me", "telegram.me"],
            Platform::Instagram => &["instagram.com"],
            Platform::Facebook => &["facebook.com", "fb.com"],
            Platform::Tiktok => &["tiktok.com"],
            Platform::X => &["x.com", "twitter.com"],
            Platform::Snapchat => &["snapchat.com"],
            _ => &[],
        }
    }
}

/// Why a value is not a valid handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleProblem {
    #[error("write it as platform:name, for example instagram:shopname")]
    NoPlatform,
    #[error("unknown platform `{0}`")]
    UnknownPlatform(String),
    #[error("the name must be {min} to {max} characters")]
    Length { min: usize, max: usize },
    #[error("the name contains characters that {0} does not allow")]
    Characters(&'static str),
    #[error("{0} accounts are phone numbers: {1}")]
    Phone(&'static str, super::phone::PhoneProblem),
}

/// An account on a platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Handle {
    platform: Platform,
    value: String,
}

impl Handle {
    /// Parses `platform:name` or a profile address.
    pub fn parse(raw: &str) -> Result<Handle, HandleProblem> {
        let raw = raw.trim();
        if let Some(handle) = from_profile_url(raw) {
            return handle;
        }
        let (platform, name) = raw.split_once(':').ok_or(HandleProblem::NoPlatform)?;
        let platform = Platform::from_key(platform).ok_or_else(|| HandleProblem::UnknownPlatform(platform.chars().take(24).collect()))?;
        Handle::on(platform, name)
    }

    /// A handle on a known platform.
    pub fn on(platform: Platform, name: &str) -> Result<Handle, HandleProblem> {
        let name = name.trim();
        let name = if platform.is_phone_based() {
            PhoneNumber::parse(name)
                .map_err(|e| HandleProblem::Phone(platform.as_str(), e))?
                .as_str()
                .to_owned()
        } else {
            let name = name.strip_prefix('@').unwrap_or(name);
            let lowered: String = name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
            let rule = platform.rule();
            let len = lowered.chars().count();
            if len < rule.min || len > rule.max {
                return Err(HandleProblem::Length {
                    min: rule.min,
                    max: rule.max,
                });
            }
            if !lowered.chars().all(|c| c.is_alphanumeric() || rule.extra.contains(c)) {
                return Err(HandleProblem::Characters(platform.as_str()));
            }
            lowered
        };
        Ok(Handle {
            value: format!("{}:{name}", platform.as_str()),
            platform,
        })
    }

    /// The canonical `platform:name` form.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The platform.
    pub fn platform(&self) -> Platform {
        self.platform
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// A handle from a profile address such as `https://www.instagram.com/name/`.
fn from_profile_url(raw: &str) -> Option<Result<Handle, HandleProblem>> {
    let (scheme, rest) = raw.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return None;
    }
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let platform = Platform::for_host(host)?;
    let first = path.split(['/', '?', '#']).next().unwrap_or("");
    if first.is_empty() {
        return Some(Err(HandleProblem::Length {
            min: platform.rule().min,
            max: platform.rule().max,
        }));
    }
    Some(Handle::on(platform, first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn handle(raw: &str) -> Result<String, HandleProblem> {
        Handle::parse(raw).map(|h| h.value)
    }

    #[test]
    fn normalises_names() {
        assert_eq!(handle("Instagram:@Fake.Shop_NL"), Ok("instagram:fake.shop_nl".into()));
        assert_eq!(handle("twitter:@Scammer_01"), Ok("x:scammer_01".into()));
        assert_eq!(handle("whatsapp:06-12345678"), Ok("whatsapp:+31612345678".into()));
        assert_eq!(handle("marktplaats:Jan  de Vries"), Ok("marktplaats:jan de vries".into()));
        assert_eq!(
            handle("https://www.instagram.com/fake.shop_nl/"),
            Ok("instagram:fake.shop_nl".into())
        );
        assert_eq!(handle("https://t.me/crypto_gains_nl"), Ok("telegram:crypto_gains_nl".into()));
        assert_eq!(handle("https://wa.me/31612345678"), Ok("whatsapp:+31612345678".into()));
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(handle("shopname"), Err(HandleProblem::NoPlatform));
        assert_eq!(handle("myspace:tom"), Err(HandleProblem::UnknownPlatform("myspace".into())));
        assert_eq!(handle("telegram:abc"), Err(HandleProblem::Length { min: 5, max: 32 }));
        assert_eq!(handle("x:bad-name"), Err(HandleProblem::Characters("x")));
        assert!(matches!(handle("whatsapp:hello"), Err(HandleProblem::Phone("whatsapp", _))));
    }

    proptest! {
        #[test]
        fn idempotent(name in "@?[A-Za-z0-9._]{1,30}", platform in "(instagram|tiktok|vinted|marktplaats|ebay)") {
            if let Ok(h) = Handle::parse(&format!("{platform}:{name}")) {
                prop_assert_eq!(Handle::parse(h.as_str()).expect("canonical"), h);
            }
        }

        #[test]
        fn never_panics(raw in "\\PC{0,60}") {
            if let Ok(h) = Handle::parse(&raw) {
                prop_assert_eq!(Handle::parse(h.as_str()).map(|x| x.value), Ok(h.value));
            }
        }
    }
}
