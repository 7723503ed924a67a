//! The audit log, and the verification of its chain.

use async_trait::async_trait;
use vangnet_core::audit::{AuditEntry, AuditEvent};

use crate::{Store, StoreError};

/// The append-only, hash-chained audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends entries to the audit log.
    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError>;

    /// Audit entries after sequence number `after`, in order, at most `limit`.
    async fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// The newest audit entries of one actor, newest first: `partner:<id>` also finds what the
    /// partner did with each of its tokens (`partner:<id>/<token id>`).
    async fn audit_entries_of(&self, actor: &str, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// The recorded head of the audit chain.
    async fn audit_head(&self) -> Result<Option<(u64, String)>, StoreError>;
}

/// Verifies the whole audit chain up to its recorded head, streaming it in pages;
/// `on_progress` gets the number of entries checked so far. With `anchor` (a sequence number
/// and hash recorded earlier, outside the database), the entry at that number must still
/// carry that hash, which detects even a rewrite of the whole log. The outer error is a
/// database failure; the inner one a broken chain.
pub async fn verify_audit(
    store: &dyn Store,
    anchor: Option<(u64, &str)>,
    mut on_progress: impl FnMut(u64) + Send,
) -> Result<Result<(u64, String), vangnet_core::audit::AuditBreak>, StoreError> {
    use vangnet_core::audit::{AuditBreak, ChainVerifier};
    const PAGE: u32 = 10_000;
    let mut verifier = ChainVerifier::new();
    // Entries written while verification runs come after the head read here; they are left
    // for the next run rather than taken for a rewritten end.
    let Some(head) = store.audit_head().await? else {
        // The head row is written by the first migration; without it the log was tampered with.
        return Ok(Err(AuditBreak::HeadMismatch));
    };
    let head_seq = head.0;
    let mut after = 0u64;
    let mut anchor_seen = false;
    'pages: while after < head_seq {
        let page = store.audit_entries(after, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for entry in &page {
            if entry.seq > head_seq {
                break 'pages;
            }
            if let Err(broken) = verifier.check(entry) {
                return Ok(Err(broken));
            }
            if let Some((seq, hash)) = anchor
                && entry.seq == seq
            {
                if entry.hash != hash {
                    return Ok(Err(AuditBreak::ExpectedHead {
                        expected: hash.to_owned(),
                        actual: entry.hash.clone(),
                    }));
                }
                anchor_seen = true;
            }
            after = entry.seq;
        }
        on_progress(after);
    }
    let verified = match verifier.finish(Some((head.0, head.1.as_str()))) {
        Ok(v) => v,
        Err(broken) => return Ok(Err(broken)),
    };
    if let Some((seq, _)) = anchor
        && !anchor_seen
    {
        return Ok(Err(AuditBreak::Truncated {
            last: verified.0,
            head: seq,
        }));
    }
    Ok(Ok(verified))
}
