//! API tokens: 192 random bits, shown once, stored only as a SHA-256 digest.
//!
//! A token is high-entropy, so a plain SHA-256 digest is enough to store it safely (a slow
//! password hash only helps against guessable secrets). The `vn_` prefix lets secret scanners
//! recognise a leaked token.

use std::fmt;

use sha2::{Digest, Sha256};

const PREFIX: &str = "vn_";
const RANDOM_BYTES: usize = 24;

/// A partner's secret API token. Its `Debug` output never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

/// The stored form of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest([u8; 32]);

/// The operating system could not provide random bytes.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random generator failed: {0}")]
pub struct RandomnessError(String);

impl ApiToken {
    /// A new random token.
    pub fn generate() -> Result<ApiToken, RandomnessError> {
        let mut bytes = [0u8; RANDOM_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| RandomnessError(e.to_string()))?;
        Ok(ApiToken(format!("{PREFIX}{}", hex::encode(bytes))))
    }

    /// A token as presented by a client, if it has the right shape.
    pub fn parse(presented: &str) -> Option<ApiToken> {
        let body = presented.strip_prefix(PREFIX)?;
        (body.len() == RANDOM_BYTES * 2 && body.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
            .then(|| ApiToken(presented.to_owned()))
    }

    /// The secret, to show once to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digest under which the token is stored.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest(Sha256::digest(self.0.as_bytes()).into())
    }
}

/// Not a single digit of the secret: a token is told apart by its id and the label its
/// operator chose, never by a piece of itself kept in plain text.
impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(vn_…)")
    }
}

/// Checks a token label an operator chose: at most 100 characters, no control characters.
pub fn check_label(label: &str) -> Result<&str, &'static str> {
    let label = label.trim();
    if label.chars().count() > 100 {
        Err("a token label is at most 100 characters")
    } else if label.chars().any(char::is_control) {
        Err("a token label cannot hold control characters")
    } else {
        Ok(label)
    }
}

impl TokenDigest {
    /// The digest as bytes, for storage.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A digest read back from storage.
    pub fn from_bytes(bytes: &[u8]) -> Option<TokenDigest> {
        bytes.try_into().ok().map(TokenDigest)
    }
}

/// A random secret of `n` bytes, for keys the platform makes itself.
pub fn random_secret(n: usize) -> Result<Vec<u8>, RandomnessError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| RandomnessError(e.to_string()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_parseable_and_never_printed() {
        let a = ApiToken::generate().expect("randomness");
        let b = ApiToken::generate().expect("randomness");
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 3 + 48);
        assert_eq!(ApiToken::parse(a.expose()), Some(a.clone()));
        assert_eq!(ApiToken::parse(a.expose()).map(|t| t.digest()), Some(a.digest()));
        assert!(!format!("{a:?}").contains(&a.expose()[10..]));
        assert_eq!(ApiToken::parse("vn_short"), None);
        assert_eq!(ApiToken::parse("Bearer whatever"), None);
    }
}
