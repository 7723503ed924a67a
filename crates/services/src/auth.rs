//! Token authentication with a short-lived cache, so the check path does not hit the database
//! for every request. A revoked token stops working within `ttl`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use vangnet_core::token::{ApiToken, TokenDigest};
use vangnet_store::{Partner, Store, StoreError};

/// How long a failed look-up is remembered (a flood of wrong tokens costs one query each
/// per this interval).
const NEGATIVE_TTL: Duration = Duration::from_secs(2);
/// The most tokens remembered at once.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug)]
pub struct TokenCache {
    store: Arc<dyn Store>,
    ttl: Duration,
    entries: RwLock<HashMap<TokenDigest, (Option<Partner>, Instant)>>,
}

impl TokenCache {
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        TokenCache {
            store,
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The partner a presented token belongs to; `None` for a malformed, unknown or revoked one.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<Partner>, StoreError> {
        let Some(token) = ApiToken::parse(presented) else {
            return Ok(None);
        };
        self.authenticate_digest(&token.digest()).await
    }

    /// Whether a presented token is one this cache knows to be valid, without asking the store.
    pub fn known_valid(&self, presented: &str) -> bool {
        let Some(token) = ApiToken::parse(presented) else { return false };
        let now = Instant::now();
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&token.digest())
            .is_some_and(|(partner, at)| partner.is_some() && now.duration_since(*at) < self.ttl)
    }

    /// The partner a token digest belongs to (console sessions keep only the digest).
    pub async fn authenticate_digest(&self, digest: &TokenDigest) -> Result<Option<Partner>, StoreError> {
        let digest = *digest;
        let now = Instant::now();
        if let Some((partner, at)) = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&digest) {
            let ttl = if partner.is_some() { self.ttl } else { NEGATIVE_TTL };
            if now.duration_since(*at) < ttl {
                return Ok(partner.clone());
            }
        }
        let partner = self.store.authenticate(&digest).await?;
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(digest, (partner.clone(), now));
        Ok(partner)
    }
}
