//! The read side of money-mule detection: one account's flags, score and explanation, and a
//! reader's alerts, under the visibility rule of [`crate::mules`] (the police see all; a bank or
//! payment service provider the accounts it holds and those its customers paid). Every read is
//! audited: the account under its pseudonym, an alerts page with one entry per IBAN shown.

use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::indicator::{Iban, Indicator, IndicatorKind};
use vangnet_core::mules::{AccountFlag, MuleScore, Pattern};
use vangnet_core::partner::PartnerKind;
use vangnet_store::{AlertScope, FlagRow, Partner};

use crate::mules::{MAX_ALERTS_PAGE, MuleError, as_stored, bank_of};
use crate::state::Services;

/// Who may read mule information: `None` for every account (the police), or the bank codes
/// whose accounts (and whose customers' payees) the reader may see.
async fn reader_banks(app: &Services, reader: &Partner) -> Result<Option<Vec<String>>, MuleError> {
    match reader.kind {
        PartnerKind::Police => Ok(None),
        k if k.holds_accounts() => Ok(Some(
            app.store
                .pnbf_bank_codes()
                .await?
                .into_iter()
                .filter(|(_, seq)| *seq == reader.seq)
                .map(|(code, _)| code)
                .collect(),
        )),
        _ => Err(MuleError::Forbidden(
            "mule flags are for the police and for banks and payment service providers".to_owned(),
        )),
    }
}

/// One account named in a flag, as the reader may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagAccountView {
    /// The IBAN, when the reader may see it and it is known.
    pub iban: Option<String>,
    /// The Dutch bank code (empty when unknown).
    pub bank: String,
    pub centre: bool,
    /// The reader may see this account (its own, or paid by its customers).
    pub visible: bool,
}

/// A flag as the reader may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagView {
    pub seq: i64,
    pub pattern: Pattern,
    pub score: f64,
    pub raised_at: Timestamp,
    pub window_from: Timestamp,
    pub window_to: Timestamp,
    pub amount_minor: i64,
    pub accounts: Vec<FlagAccountView>,
    pub more_accounts: i64,
}

/// One account's mule information.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountView {
    pub iban: Iban,
    pub score: MuleScore,
    /// Partners' reports naming it as a mule's account, as the reader may see them.
    pub mule_reports: u32,
    /// Its flags, newest first.
    pub flags: Vec<FlagView>,
}

/// A page of alerts, newest first; `next` is the `before` of the following page.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertsPage {
    pub alerts: Vec<FlagView>,
    pub next: Option<i64>,
}

/// Applies the reader's view to flags: which accounts it may see, and their IBANs.
async fn views(app: &Services, banks: &Option<Vec<String>>, rows: Vec<FlagRow>) -> Result<Vec<FlagView>, MuleError> {
    let paid: Vec<i64> = match banks {
        None => Vec::new(),
        Some(codes) => {
            let mut accounts: Vec<i64> = rows.iter().flat_map(|r| r.flag.accounts.iter().map(|a| a.account)).collect();
            accounts.sort_unstable();
            accounts.dedup();
            app.store.paid_by_banks(codes, &accounts).await?
        }
    };
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let pattern = Pattern::from_key(&row.flag.pattern)?;
            let accounts = row
                .flag
                .accounts
                .iter()
                .map(|a| {
                    let visible = match banks {
                        None => true,
                        Some(codes) => codes.contains(&a.bank) || paid.contains(&a.account),
                    };
                    FlagAccountView {
                        iban: if visible { a.iban.clone() } else { None },
                        bank: a.bank.clone(),
                        centre: a.centre,
                        visible,
                    }
                })
                .collect();
            Some(FlagView {
                seq: row.seq,
                pattern,
                score: row.flag.score,
                raised_at: row.flag.raised_at,
                window_from: row.flag.window_from,
                window_to: row.flag.window_to,
                amount_minor: row.flag.amount_minor,
                accounts,
                more_accounts: row.flag.more_accounts,
            })
        })
        .collect())
}

/// One account's flags, score and explanation, for a reader entitled to it (audited).
pub async fn account(app: &Services, reader: &Partner, iban: &Iban) -> Result<AccountView, MuleError> {
    let banks = reader_banks(app, reader).await?;
    let key = app.mules.keyer().key(iban.as_str());
    if let Some(codes) = &banks
        && !codes.contains(&bank_of(iban))
        && app.store.paid_by_banks(codes, &[as_stored(key)]).await?.is_empty()
    {
        return Err(MuleError::NotVisible);
    }
    let now = app.now();
    let since = now.plus_millis(-app.mules.settings().score.max_age_ms);
    let rows = app.store.flags_of_account(as_stored(key), since, 50).await?;
    let indicator = Indicator::Iban(iban.clone());
    let mule_reports = app.registry.view(&indicator, &reader.viewer(), now).mule_reports;
    let account_flags: Vec<AccountFlag> = rows
        .iter()
        .filter_map(|r| {
            let pattern = Pattern::from_key(&r.flag.pattern)?;
            let centre = r.flag.accounts.iter().any(|a| a.account == as_stored(key) && a.centre);
            Some(AccountFlag {
                pattern,
                score: r.flag.score,
                at: r.flag.window_to.millis(),
                centre,
            })
        })
        .collect();
    let score = app.mules.settings().score.score(&account_flags, mule_reports, now.millis());
    let flags = views(app, &banks, rows).await?;
    app.store
        .append_audit(&[AuditEvent {
            at: now,
            actor: reader.actor(),
            action: AuditAction::MuleAccountRead,
            subject: app.pseudonym(IndicatorKind::Iban, iban.as_str()),
            details: format!("{{\"flags\":{},\"score\":{:.2}}}", flags.len(), score.score),
        }])
        .await?;
    Ok(AccountView {
        iban: iban.clone(),
        score,
        mule_reports,
        flags,
    })
}

/// The reader's alerts: flags naming its accounts (or payees its customers paid), newest
/// first; the police see all. Audited: one entry for the page, and one per IBAN shown.
pub async fn alerts(app: &Services, reader: &Partner, before: Option<i64>, limit: u32) -> Result<AlertsPage, MuleError> {
    let banks = reader_banks(app, reader).await?;
    let limit = limit.clamp(1, MAX_ALERTS_PAGE);
    let scope = match &banks {
        None => AlertScope::All,
        Some(codes) => AlertScope::Banks(codes.clone()),
    };
    let rows = app.store.mule_alerts(&scope, before, limit).await?;
    let next = (rows.len() == limit as usize).then(|| rows.last().map(|r| r.seq)).flatten();
    let alerts = views(app, &banks, rows).await?;
    let now = app.now();
    let mut shown: Vec<&str> = alerts
        .iter()
        .flat_map(|f| f.accounts.iter().filter_map(|a| a.iban.as_deref()))
        .collect();
    shown.sort_unstable();
    shown.dedup();
    let mut events = vec![AuditEvent {
        at: now,
        actor: reader.actor(),
        action: AuditAction::MuleAlertsRead,
        subject: format!("partner:{}", reader.id),
        details: format!("{{\"alerts\":{},\"ibans\":{}}}", alerts.len(), shown.len()),
    }];
    events.extend(shown.iter().map(|iban| AuditEvent {
        at: now,
        actor: reader.actor(),
        action: AuditAction::MuleAccountRead,
        subject: app.pseudonym(IndicatorKind::Iban, iban),
        details: "{\"via\":\"alerts\"}".to_owned(),
    }));
    app.store.append_audit(&events).await?;
    Ok(AlertsPage { alerts, next })
}
