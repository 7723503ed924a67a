//! Partners and API tokens on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row};
use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::partner::PartnerKind;
use vangnet_core::token::TokenDigest;

use super::{PARTNER_SELECT, PostgresStore, Tx, append_audit_tx, sql};
use crate::partners::token_event;
use crate::rows::{PartnerRecord, TokenRecord};
use crate::{Partner, PartnerStore, StoreError, TokenInfo, new_id};
use vangnet_core::scope::Scopes;

#[async_trait]
impl PartnerStore for PostgresStore {
    async fn create_partner(
        &self,
        name: &str,
        kind: PartnerKind,
        token: &TokenDigest,
        token_label: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<(Partner, TokenInfo), StoreError> {
        let mut tx = self.pool.begin().await?;
        let id = new_id();
        let seq: i64 = sqlx::query_scalar("INSERT INTO partners (id, name, kind, created_at) VALUES ($1, $2, $3, $4) RETURNING seq")
            .bind(&id)
            .bind(name)
            .bind(kind.as_str())
            .bind(now.millis())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::DuplicatePartner(name.to_owned())
                } else {
                    e.into()
                }
            })?;
        let partner = Partner {
            seq,
            id: id.clone(),
            name: name.to_owned(),
            kind,
            created_at: now,
            grant: crate::Grant::default(),
        };
        let info = insert_token(&mut tx, &partner, token, token_label, None, None, now).await?;
        let created = AuditEvent {
            at: now,
            actor: actor.to_owned(),
            action: AuditAction::PartnerCreate,
            subject: format!("partner:{id}"),
            details: serde_json::json!({ "kind": kind.as_str() }).to_string(),
        };
        append_audit_tx(&mut tx, &[created, token_event(AuditAction::TokenCreate, actor, &info, &id, now)]).await?;
        tx.commit().await?;
        Ok((partner, info))
    }

    async fn partners(&self) -> Result<Vec<Partner>, StoreError> {
        let rows = sqlx::query(sql(format!("{PARTNER_SELECT} WHERE kind <> 'citizen' ORDER BY seq")))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| partner_record(r).map_err(StoreError::from).and_then(PartnerRecord::into_partner))
            .collect()
    }

    async fn partner(&self, id_or_name: &str) -> Result<Option<Partner>, StoreError> {
        partner_by(&self.pool, id_or_name).await
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
        let mut tx = self.pool.begin().await?;
        let partner = partner_by(&mut *tx, partner_id)
            .await?
            .filter(|p| p.kind != PartnerKind::Citizen)
            .ok_or_else(|| StoreError::UnknownPartner(partner_id.to_owned()))?;
        let info = insert_token(&mut tx, &partner, token, label, scopes, purpose, now).await?;
        append_audit_tx(&mut tx, &[token_event(AuditAction::TokenCreate, actor, &info, &partner.id, now)]).await?;
        tx.commit().await?;
        Ok(info)
    }

    async fn tokens(&self, partner_id: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, p.id, t.label, t.created_at, t.revoked_at, t.scopes, t.purpose FROM tokens t JOIN partners p ON p.seq = t.partner_seq \
             WHERE p.id = $1 OR p.name = $1 ORDER BY t.created_at",
        )
        .bind(partner_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenRecord {
                    id: r.try_get(0)?,
                    partner_id: r.try_get(1)?,
                    label: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    revoked_at: r.try_get(4)?,
                    scopes: r.try_get(5)?,
                    purpose: r.try_get(6)?,
                }
                .into_info())
            })
            .collect()
    }

    async fn revoke_token(&self, token_id: &str, actor: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let partner_id: Option<String> = sqlx::query_scalar(
            "UPDATE tokens t SET revoked_at = $1 FROM partners p WHERE p.seq = t.partner_seq AND t.id = $2 AND t.revoked_at IS NULL RETURNING p.id",
        )
        .bind(now.millis())
        .bind(token_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(partner_id) = partner_id else {
            return Ok(false);
        };
        let revoked = TokenInfo {
            id: token_id.to_owned(),
            partner_id: partner_id.clone(),
            label: String::new(),
            created_at: now,
            revoked_at: Some(now),
            scopes: None,
            purpose: None,
        };
        append_audit_tx(&mut tx, &[token_event(AuditAction::TokenRevoke, actor, &revoked, &partner_id, now)]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn authenticate(&self, token: &TokenDigest) -> Result<Option<Partner>, StoreError> {
        let row = sqlx::query(
            "SELECT p.seq, p.id, p.name, p.kind, p.created_at, t.id, t.scopes, t.purpose FROM tokens t \
             JOIN partners p ON p.seq = t.partner_seq WHERE t.digest = $1 AND t.revoked_at IS NULL",
        )
        .bind(token.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let mut partner = partner_record(&r).map_err(StoreError::from).and_then(PartnerRecord::into_partner)?;
        partner.grant = crate::rows::grant(r.try_get(5)?, r.try_get(6)?, r.try_get(7)?);
        Ok(Some(partner))
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

async fn partner_by<'c, E>(conn: E, id_or_name: &str) -> Result<Option<Partner>, StoreError>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    let row = sqlx::query(sql(format!("{PARTNER_SELECT} WHERE id = $1 OR name = $1 ORDER BY seq LIMIT 1")))
        .bind(id_or_name)
        .fetch_optional(conn)
        .await?;
    row.map(|r| partner_record(&r).map_err(StoreError::from).and_then(PartnerRecord::into_partner))
        .transpose()
}

fn partner_record(r: &PgRow) -> Result<PartnerRecord, sqlx::Error> {
    Ok(PartnerRecord {
        seq: r.try_get(0)?,
        id: r.try_get(1)?,
        name: r.try_get(2)?,
        kind: r.try_get(3)?,
        created_at: r.try_get(4)?,
    })
}

async fn insert_token(
    tx: &mut Tx<'_>,
    partner: &Partner,
    token: &TokenDigest,
    label: &str,
    scopes: Option<Scopes>,
    purpose: Option<&str>,
    now: Timestamp,
) -> Result<TokenInfo, StoreError> {
    let id = new_id();
    sqlx::query("INSERT INTO tokens (id, partner_seq, digest, label, created_at, scopes, purpose) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&id)
        .bind(partner.seq)
        .bind(token.as_bytes().as_slice())
        .bind(label)
        .bind(now.millis())
        .bind(scopes.map(Scopes::to_text))
        .bind(purpose)
        .execute(&mut **tx)
        .await?;
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
