//! Starting and stopping the services: the keys, the payment and call engines, the audit
//! writer and the index, then the background work (change-feed follower, call expiry, rules
//! reload, PNBF scheduler) until a stop, and the drain of the audit and decision queues.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vangnet_core::token::random_secret;
use vangnet_store::{Store, StoreError};

use crate::audit_sink::AuditSink;
use crate::feed::{self, FeedCursor};
use crate::metrics::Metrics;
use crate::mules::Mules;
use crate::screening::calls::CallScreening;
use crate::screening::{RulesHandle, Screening};
use crate::settings::Settings;
use crate::state::{Engines, Services, web_mac_with};

/// Why the services could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Randomness(String),
    #[error("payment rules: {0}")]
    Rules(String),
    #[error(
        "the NAW key in {file} (fingerprint {found}) is not the key this database's NAW was sealed with (fingerprint {expected}); \
         start with the original key file (pnbf.naw_key_file)"
    )]
    NawKey { file: String, expected: String, found: String },
}

/// The audit pseudonym key: from the settings, or made once and kept in the store.
pub async fn audit_key(store: &dyn Store, settings: &Settings) -> Result<Vec<u8>, StartError> {
    if let Some(key) = &settings.audit_key {
        return Ok(key.clone());
    }
    let fresh = hex::encode(random_secret(32).map_err(|e| StartError::Randomness(e.to_string()))?);
    let stored = store.setting_or_insert("audit_subject_key", &fresh).await?;
    Ok(stored.into_bytes())
}

/// Refuses to start with another NAW key than the one the database first saw: NAW sealed
/// under the old key could no longer be read. Only a fingerprint of the key is stored.
async fn check_naw_key(store: &dyn Store, settings: &Settings) -> Result<(), StartError> {
    let Some(key) = &settings.pnbf.naw_key else { return Ok(()) };
    let fingerprint = web_mac_with(key, "naw-key-fingerprint", "")[..16].to_owned();
    let stored = store.setting_or_insert("pnbf_naw_key_fingerprint", &fingerprint).await?;
    if stored == fingerprint {
        Ok(())
    } else {
        Err(StartError::NawKey {
            file: settings
                .pnbf
                .naw_key_file
                .as_ref()
                .map_or_else(|| "the configured key".to_owned(), |p| p.display().to_string()),
            expected: stored,
            found: fingerprint,
        })
    }
}

/// The background work of started services, not yet running.
#[derive(Debug)]
pub struct Background {
    cursor: FeedCursor,
    audit_task: JoinHandle<()>,
    decision_task: JoinHandle<()>,
    mule_task: JoinHandle<()>,
}

/// Background work that runs until [`Running::stop`].
#[derive(Debug)]
pub struct Running {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    audit_task: JoinHandle<()>,
    decision_task: JoinHandle<()>,
    mule_task: JoinHandle<()>,
}

impl Services {
    /// Checks the keys, starts the engines and the audit writer and loads the index.
    /// `metrics` holds the registry the services count in (an adapter may have added its own
    /// families to it).
    pub async fn start(settings: Settings, store: Arc<dyn Store>, metrics: Metrics) -> Result<(Services, Background), StartError> {
        let key = audit_key(store.as_ref(), &settings).await?;
        check_naw_key(store.as_ref(), &settings).await?;
        let metrics = Arc::new(metrics);
        let rules = RulesHandle::load(settings.screening.rules_file.as_deref()).map_err(StartError::Rules)?;
        let (screening, decision_task) = Screening::start(Arc::clone(&store), rules, settings.screening.max_state_entries).await?;
        let calls = CallScreening::start(store.as_ref(), &settings.calls).await?;
        let (mules, mule_task) = Mules::start(
            Arc::clone(&store),
            settings.mules.clone(),
            &key,
            Arc::clone(&settings.clock),
            metrics.mules.clone(),
        )
        .await?;
        let (audit, audit_task) = AuditSink::start(Arc::clone(&store), Arc::clone(&metrics), settings.audit_hits_window);
        let engines = Engines { screening, calls, mules };
        let services = Services::new(store, Arc::new(settings), key, audit, metrics, engines);
        let cursor = feed::load(&services).await?;
        Ok((
            services,
            Background {
                cursor,
                audit_task,
                decision_task,
                mule_task,
            },
        ))
    }
}

impl Background {
    /// Starts the change-feed follower, the call expiry, the rules reload and the PNBF
    /// scheduler.
    pub fn run(self, services: &Services) -> Running {
        let stop = CancellationToken::new();
        let follower = tokio::spawn(feed::follow(services.clone(), self.cursor, stop.clone()));
        let calls = services.clone();
        let calls_stop = stop.clone();
        let calls_expiry = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = calls_stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(60)) => calls.calls.expire(vangnet_core::Timestamp::now()),
                }
            }
        });
        let rules_watch = tokio::spawn(
            services
                .screening
                .rules
                .clone()
                .watch(services.settings.screening.rules_reload, stop.clone()),
        );
        let pnbf_scheduler = tokio::spawn(crate::pnbf::scheduler(services.clone(), stop.clone()));
        let dispute_terms = tokio::spawn(crate::disputes::scheduler(services.clone(), stop.clone()));
        let retention = tokio::spawn(crate::retention::scheduler(services.clone(), stop.clone()));
        Running {
            stop,
            tasks: vec![follower, calls_expiry, rules_watch, pnbf_scheduler, dispute_terms, retention],
            audit_task: self.audit_task,
            decision_task: self.decision_task,
            mule_task: self.mule_task,
        }
    }
}

impl Running {
    /// Stops the background work and waits until the audit and decision queues are written.
    /// The queues close when the last [`Services`] handle is gone: drop yours first.
    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
        let _ = self.audit_task.await;
        let _ = self.decision_task.await;
        let _ = self.mule_task.await;
    }
}
