//! Helpers for the storage suite: the two stores, and ready-made partners and reports.

use std::path::PathBuf;
use std::sync::Arc;

use vangnet_core::Indicator;
use vangnet_core::Timestamp;
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::{AgeBand, Channel, FraudType, IndicatorRole, NewReport, ReportDraft, Tlp};
use vangnet_core::token::ApiToken;
use vangnet_store::postgres::PostgresStore;
use vangnet_store::sqlite::SqliteStore;
use vangnet_store::{Partner, Store};

/// Declares each scenario twice: `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! storage_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::support::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::support::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                    db.drop().await;
                }
            )+
        }
    };
}

pub fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("valid time stamp")
}

/// A fresh store, and a way around it for tests that play an attacker with database access.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    backdoor: Backdoor,
}

enum Backdoor {
    Sqlite { path: PathBuf, _dir: tempfile::TempDir },
    Postgres { pg: PostgresStore, schema: String },
}

pub fn postgres_url() -> String {
    std::env::var("VANGNET_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("vangnet.db");
        let store = SqliteStore::open(&path).await.expect("SQLite opens");
        TestDb {
            store: Arc::new(store),
            backdoor: Backdoor::Sqlite { path, _dir: dir },
        }
    }

    /// A store in a fresh schema, or `None` (with a notice) when no server answers outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let url = postgres_url();
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        match PostgresStore::connect_in_schema(&url, &schema).await {
            Ok(pg) => Some(TestDb {
                store: Arc::new(pg.clone()),
                backdoor: Backdoor::Postgres { pg, schema },
            }),
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("PostgreSQL at {} is required in CI: {e}", vangnet_store::describe_url(&url))
            }
            Err(e) => {
                eprintln!(
                    "skipping the PostgreSQL variant: no server at {} ({e}); with CI set this fails",
                    vangnet_store::describe_url(&url)
                );
                None
            }
        }
    }

    pub async fn drop(self) {
        if let Backdoor::Postgres { pg, schema } = &self.backdoor {
            let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pg.pool()).await;
        }
    }

    /// Runs SQL behind the store's back. With `force`, the append-only triggers are switched
    /// off first, as someone with full database access could do.
    pub async fn tamper(&self, statement: &str, force: bool) -> Result<(), String> {
        match &self.backdoor {
            Backdoor::Sqlite { path, .. } => {
                let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
                if force {
                    conn.execute_batch("DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;")
                        .map_err(|e| e.to_string())?;
                }
                conn.execute_batch(statement).map_err(|e| e.to_string())
            }
            Backdoor::Postgres { pg, .. } => {
                if force {
                    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
                        .execute(pg.pool())
                        .await
                        .map_err(|e| e.to_string())?;
                }
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
                    .execute(pg.pool())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

pub async fn partner(store: &Arc<dyn Store>, name: &str, kind: PartnerKind) -> Partner {
    let token = ApiToken::generate().expect("randomness");
    store
        .create_partner(name, kind, &token.digest(), "first", "cli", t("2026-10-01T00:00:00Z"))
        .await
        .expect("partner")
        .0
}

pub fn draft(fraud_type: FraudType, when: &str, values: &[&str]) -> ReportDraft {
    ReportDraft {
        external_id: None,
        fraud_type,
        channel: Some(Channel::Marketplace),
        occurred_at: t(when),
        amount: Some(vangnet_core::Money::from_minor(25_000, vangnet_core::Currency::EUR)),
        aangifte: true,
        victim_age_band: AgeBand::From65,
        tlp: Tlp::Green,
        description: Some("Paid for a phone that never came.".into()),
        indicators: values
            .iter()
            .map(|v| (Indicator::parse(None, v).expect("valid indicator"), IndicatorRole::Payee))
            .collect(),
    }
}

pub fn new_report(draft: ReportDraft) -> NewReport {
    NewReport::new(draft, t("2027-01-01T00:00:00Z")).expect("valid report")
}
