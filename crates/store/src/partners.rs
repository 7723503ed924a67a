//! Partner organisations and their API tokens.

use async_trait::async_trait;
use vangnet_core::Timestamp;
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_core::token::TokenDigest;

use crate::StoreError;

/// A partner organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// The partner's number, used inside the platform (and in the index).
    pub seq: i64,
    /// The public identifier.
    pub id: String,
    pub name: String,
    pub kind: PartnerKind,
    pub created_at: Timestamp,
}

impl Partner {
    /// This partner as a reader, for TLP decisions.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            partner: u32::try_from(self.seq).unwrap_or(u32::MAX),
            kind: self.kind,
        }
    }

    /// How this partner appears as the actor in the audit log.
    pub fn actor(&self) -> String {
        format!("partner:{}", self.id)
    }
}

/// An API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub partner_id: String,
    pub label: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Partner organisations and their API tokens.
#[async_trait]
pub trait PartnerStore: Send + Sync {
    /// Creates a partner with its first API token (given as a digest) and audits it.
    async fn create_partner(
        &self,
        name: &str,
        kind: PartnerKind,
        token: &TokenDigest,
        token_label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<(Partner, TokenInfo), StoreError>;

    /// Every partner, oldest first.
    async fn partners(&self) -> Result<Vec<Partner>, StoreError>;

    /// A partner by its id or its exact name.
    async fn partner(&self, id_or_name: &str) -> Result<Option<Partner>, StoreError>;

    /// Adds an API token to a partner.
    async fn add_token(
        &self,
        partner_id: &str,
        token: &TokenDigest,
        label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<TokenInfo, StoreError>;

    /// The tokens of a partner, revoked ones included.
    async fn tokens(&self, partner_id: &str) -> Result<Vec<TokenInfo>, StoreError>;

    /// Revokes a token; returns false if there is no such active token.
    async fn revoke_token(&self, token_id: &str, actor: &str, now: Timestamp) -> Result<bool, StoreError>;

    /// The partner an active token belongs to.
    async fn authenticate(&self, token: &TokenDigest) -> Result<Option<Partner>, StoreError>;
}
