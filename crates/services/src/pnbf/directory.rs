//! The PNBF bank-code directory: which partner answers for the accounts of a Dutch bank code
//! (the four letters in an NL IBAN), so that a case reaches the payee's bank. Kept by the
//! platform operator; every change is audited.

use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_store::{Partner, StoreError};

use crate::state::Services;

impl Services {
    /// The directory: each bank code with the partner it points at, in code order.
    pub async fn bank_directory(&self) -> Result<Vec<(String, Partner)>, StoreError> {
        let partners = self.store.partners().await?;
        Ok(self
            .store
            .pnbf_bank_codes()
            .await?
            .into_iter()
            .filter_map(|(code, seq)| partners.iter().find(|p| p.seq == seq).map(|p| (code, p.clone())))
            .collect())
    }

    /// Points a (valid, upper-case) bank code at the bank or PSP named by id or name; `None`
    /// when there is no such bank or PSP. The caller has checked that `by` is the operator.
    pub async fn set_bank_code(&self, by: &Partner, code: &str, target: &str) -> Result<Option<Partner>, StoreError> {
        let Some(target) = self.store.partner(target).await?.filter(|p| p.kind.holds_accounts()) else {
            return Ok(None);
        };
        self.store.pnbf_set_bank_code(code, Some(target.seq), self.now()).await?;
        self.directory_audit(by, code, format!("{{\"partner\":\"{}\"}}", target.id)).await?;
        Ok(Some(target))
    }

    /// Removes a bank code from the directory (the caller has checked that `by` is the operator).
    pub async fn remove_bank_code(&self, by: &Partner, code: &str) -> Result<(), StoreError> {
        self.store.pnbf_set_bank_code(code, None, self.now()).await?;
        self.directory_audit(by, code, "{\"removed\":true}".to_owned()).await
    }

    async fn directory_audit(&self, by: &Partner, code: &str, details: String) -> Result<(), StoreError> {
        self.store
            .append_audit(&[AuditEvent {
                at: self.now(),
                actor: by.actor(),
                action: AuditAction::PnbfDirectoryChange,
                subject: format!("bank_code:{code}"),
                details,
            }])
            .await
    }
}
