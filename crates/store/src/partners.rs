//! Partner organisations and their API tokens.

use async_trait::async_trait;
use vangnet_core::Timestamp;
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_core::scope::{Scope, Scopes};
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
    /// What the token this partner authenticated with allows (everything its kind may, when
    /// it was not authenticated by a token: the command line, the store's own writes).
    pub grant: Grant,
}

/// The token a request was authenticated with: its id, scopes and purpose.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grant {
    pub token: Option<String>,
    /// `None`: every scope of the partner's kind (tokens made before scopes existed).
    pub scopes: Option<Scopes>,
    pub purpose: Option<String>,
}

impl Partner {
    /// The scopes this partner may use now: the token's, bounded by the kind.
    pub fn scopes(&self) -> Scopes {
        let kind = Scopes::of_kind(self.kind);
        self.grant.scopes.map_or(kind, |s| s.intersect(kind))
    }

    /// Whether this partner may use `scope` now.
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes().contains(scope)
    }

    /// This partner as a reader, for TLP decisions.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            partner: u32::try_from(self.seq).unwrap_or(u32::MAX),
            kind: self.kind,
        }
    }

    /// How this partner appears as the actor in the audit log: `partner:<id>`, and with the
    /// token it acted with `partner:<id>/<token id>` (the token's purpose and scopes are kept
    /// with the token and never change, so every entry names the purpose it was made for).
    pub fn actor(&self) -> String {
        match &self.grant.token {
            Some(token) => format!("partner:{}/{token}", self.id),
            None => format!("partner:{}", self.id),
        }
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
    /// `None`: every scope of the partner's kind.
    pub scopes: Option<Scopes>,
    pub purpose: Option<String>,
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

    /// Adds an API token with every scope of the partner's kind to a partner.
    async fn add_token(
        &self,
        partner_id: &str,
        token: &TokenDigest,
        label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<TokenInfo, StoreError> {
        self.add_scoped_token(partner_id, token, label, None, None, actor, now).await
    }

    /// Adds an API token limited to `scopes` (every scope of the kind when `None`) and issued
    /// for `purpose`; both are kept with the token, in its audit entry, and never change.
    #[allow(clippy::too_many_arguments)]
    async fn add_scoped_token(
        &self,
        partner_id: &str,
        token: &TokenDigest,
        label: &str,
        scopes: Option<Scopes>,
        purpose: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<TokenInfo, StoreError>;

    /// The tokens of a partner, revoked ones included.
    async fn tokens(&self, partner_id: &str) -> Result<Vec<TokenInfo>, StoreError>;

    /// Revokes a token; returns false if there is no such active token.
    async fn revoke_token(&self, token_id: &str, actor: &str, now: Timestamp) -> Result<bool, StoreError>;

    /// The partner an active token belongs to, with the token's grant.
    async fn authenticate(&self, token: &TokenDigest) -> Result<Option<Partner>, StoreError>;
}

/// The audit entry of a token made or revoked: the partner, and for a new token its scopes and
/// purpose (a description of the use, not personal data).
pub(crate) fn token_event(
    action: vangnet_core::audit::AuditAction,
    actor: &str,
    token: &TokenInfo,
    partner_id: &str,
    now: Timestamp,
) -> vangnet_core::audit::AuditEvent {
    let details = match action {
        vangnet_core::audit::AuditAction::TokenCreate => serde_json::json!({
            "partner": partner_id,
            "scopes": token.scopes.map(Scopes::to_text),
            "purpose": token.purpose,
        }),
        _ => serde_json::json!({ "partner": partner_id }),
    };
    vangnet_core::audit::AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action,
        subject: format!("token:{}", token.id),
        details: details.to_string(),
    }
}
