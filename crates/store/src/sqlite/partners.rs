//! Partners and API tokens on SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::partner::PartnerKind;
use vangnet_core::token::TokenDigest;

use super::{PARTNER_SELECT, SqliteStore, append_audit_tx};
use crate::partners::token_event;
use crate::rows::{PartnerRecord, TokenRecord};
use crate::{Grant, Partner, PartnerStore, StoreError, TokenInfo, new_id};
use vangnet_core::scope::Scopes;

#[async_trait]
impl PartnerStore for SqliteStore {
    async fn create_partner(
        &self,
        name: &str,
        kind: PartnerKind,
        token: &TokenDigest,
        token_label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<(Partner, TokenInfo), StoreError> {
        let (name, token, token_label, actor) = (name.to_owned(), *token, token_label.to_owned(), actor.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = new_id();
            tx.execute(
                "INSERT INTO partners (id, name, kind, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, name, kind.as_str(), now.millis()],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::DuplicatePartner(name.clone())
                } else {
                    e.into()
                }
            })?;
            let partner = Partner {
                seq: tx.last_insert_rowid(),
                id: id.clone(),
                name: name.clone(),
                kind,
                created_at: now,
                grant: Grant::default(),
            };
            let info = insert_token(&tx, &partner, &token, &token_label, None, None, now)?;
            let created = AuditEvent {
                at: now,
                actor: actor.clone(),
                action: AuditAction::PartnerCreate,
                subject: format!("partner:{id}"),
                details: serde_json::json!({ "kind": kind.as_str() }).to_string(),
            };
            append_audit_tx(&tx, &[created, token_event(AuditAction::TokenCreate, &actor, &info, &id, now)])?;
            tx.commit()?;
            Ok((partner, info))
        })
        .await
    }

    async fn partners(&self) -> Result<Vec<Partner>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!("{PARTNER_SELECT} WHERE kind <> 'citizen' ORDER BY seq"))?;
            let records = stmt.query_map([], partner_record)?.collect::<Result<Vec<_>, _>>()?;
            records.into_iter().map(PartnerRecord::into_partner).collect()
        })
        .await
    }

    async fn partner(&self, id_or_name: &str) -> Result<Option<Partner>, StoreError> {
        let key = id_or_name.to_owned();
        self.read(move |conn| partner_by(conn, &key)).await
    }

    async fn add_scoped_token(
        &self,
        partner_id: &str,
        token: &TokenDigest,
        label: &str,
        scopes: Option<Scopes>,
        purpose: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<TokenInfo, StoreError> {
        let (partner_id, token, label, actor) = (partner_id.to_owned(), *token, label.to_owned(), actor.to_owned());
        let purpose = purpose.map(str::to_owned);
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let partner = partner_by(&tx, &partner_id)?
                .filter(|p| p.kind != PartnerKind::Citizen)
                .ok_or_else(|| StoreError::UnknownPartner(partner_id.clone()))?;
            let info = insert_token(&tx, &partner, &token, &label, scopes, purpose.as_deref(), now)?;
            append_audit_tx(&tx, &[token_event(AuditAction::TokenCreate, &actor, &info, &partner.id, now)])?;
            tx.commit()?;
            Ok(info)
        })
        .await
    }

    async fn tokens(&self, partner_id: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let partner_id = partner_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT t.id, p.id, t.label, t.created_at, t.revoked_at, t.scopes, t.purpose FROM tokens t \
                 JOIN partners p ON p.seq = t.partner_seq WHERE p.id = ?1 OR p.name = ?1 ORDER BY t.created_at",
            )?;
            let rows = stmt.query_map([&partner_id], |r| {
                Ok(TokenRecord {
                    id: r.get(0)?,
                    partner_id: r.get(1)?,
                    label: r.get(2)?,
                    created_at: r.get(3)?,
                    revoked_at: r.get(4)?,
                    scopes: r.get(5)?,
                    purpose: r.get(6)?,
                })
            })?;
            Ok(rows
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .map(TokenRecord::into_info)
                .collect())
        })
        .await
    }

    async fn revoke_token(&self, token_id: &str, actor: &str, now: Timestamp) -> Result<bool, StoreError> {
        let (token_id, actor) = (token_id.to_owned(), actor.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let partner_id: Option<String> = tx
                .query_row(
                    "SELECT p.id FROM tokens t JOIN partners p ON p.seq = t.partner_seq WHERE t.id = ?1 AND t.revoked_at IS NULL",
                    [&token_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(partner_id) = partner_id else { return Ok(false) };
            tx.execute("UPDATE tokens SET revoked_at = ?1 WHERE id = ?2", params![now.millis(), token_id])?;
            let revoked = revoked_info(&token_id, &partner_id, now);
            append_audit_tx(&tx, &[token_event(AuditAction::TokenRevoke, &actor, &revoked, &partner_id, now)])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn authenticate(&self, token: &TokenDigest) -> Result<Option<Partner>, StoreError> {
        let token = *token;
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT p.seq, p.id, p.name, p.kind, p.created_at, t.id, t.scopes, t.purpose FROM tokens t \
                 JOIN partners p ON p.seq = t.partner_seq WHERE t.digest = ?1 AND t.revoked_at IS NULL",
            )?;
            let found = stmt
                .query_row([token.as_bytes().as_slice()], |r| {
                    Ok((
                        partner_record(r)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                    ))
                })
                .optional()?;
            found
                .map(|(record, token, scopes, purpose)| {
                    let mut partner = record.into_partner()?;
                    partner.grant = crate::rows::grant(token, scopes, purpose);
                    Ok(partner)
                })
                .transpose()
        })
        .await
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

fn partner_by(conn: &Connection, id_or_name: &str) -> Result<Option<Partner>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{PARTNER_SELECT} WHERE id = ?1 OR name = ?1 ORDER BY seq LIMIT 1"))?;
    stmt.query_row([id_or_name], partner_record)
        .optional()?
        .map(PartnerRecord::into_partner)
        .transpose()
}

fn partner_record(r: &Row<'_>) -> rusqlite::Result<PartnerRecord> {
    Ok(PartnerRecord {
        seq: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        created_at: r.get(4)?,
    })
}

fn insert_token(
    tx: &Transaction<'_>,
    partner: &Partner,
    token: &TokenDigest,
    label: &str,
    scopes: Option<Scopes>,
    purpose: Option<&str>,
    now: Timestamp,
) -> Result<TokenInfo, StoreError> {
    let id = new_id();
    tx.execute(
        "INSERT INTO tokens (id, partner_seq, digest, label, created_at, scopes, purpose) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            partner.seq,
            token.as_bytes().as_slice(),
            label,
            now.millis(),
            scopes.map(Scopes::to_text),
            purpose
        ],
    )?;
    Ok(TokenInfo {
        id,
        partner_id: partner.id.clone(),
        label: label.to_owned(),
        created_at: now,
        revoked_at: None,
        scopes,
        purpose: purpose.map(str::to_owned),
    })
}

/// A revoked token as its audit entry names it.
fn revoked_info(token_id: &str, partner_id: &str, now: Timestamp) -> TokenInfo {
    TokenInfo {
        id: token_id.to_owned(),
        partner_id: partner_id.to_owned(),
        label: String::new(),
        created_at: now,
        revoked_at: Some(now),
        scopes: None,
        purpose: None,
    }
}
