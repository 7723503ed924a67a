//! A real server on a random port over a fresh database, and clients for its partners.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vangnet_core::Timestamp;
use vangnet_core::partner::PartnerKind;
use vangnet_core::token::ApiToken;
use vangnet_server::{Application, HttpSettings, Rate, Settings};
use vangnet_store::postgres::PostgresStore;
use vangnet_store::sqlite::SqliteStore;
use vangnet_store::{Partner, Store};

/// Declares each scenario for both stores: `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! api_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::helpers::Db::sqlite().await;
                    let app = $crate::helpers::TestApp::spawn(&db).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::helpers::Db::postgres().await else { return };
                    let app = $crate::helpers::TestApp::spawn(&db).await;
                    super::$name(&app).await;
                    app.stop().await;
                    db.drop().await;
                }
            )+
        }
    };
}

pub fn postgres_url() -> String {
    std::env::var("VANGNET_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh database of either kind.
pub struct Db {
    pub store: Arc<dyn Store>,
    /// The URL the command line would use for this database.
    pub url: String,
    pg: Option<(PostgresStore, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        let path: PathBuf = dir.path().join("vangnet.db");
        let store = SqliteStore::open(&path).await.expect("SQLite opens");
        Db {
            store: Arc::new(store),
            url: path.display().to_string(),
            pg: None,
            _dir: Some(dir),
        }
    }

    /// A database in a schema of its own, or `None` outside CI when no server answers.
    pub async fn postgres() -> Option<Db> {
        let url = postgres_url();
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        match PostgresStore::connect_in_schema(&url, &schema).await {
            Ok(pg) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                let cli_url = format!("{url}{sep}options[search_path]={schema}");
                Some(Db {
                    store: Arc::new(pg.clone()),
                    url: cli_url,
                    pg: Some((pg, schema)),
                    _dir: None,
                })
            }
            Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL at {url} is required in CI: {e}"),
            Err(e) => {
                eprintln!("skipping the PostgreSQL variant: no server at {url} ({e}); with CI set this fails");
                None
            }
        }
    }

    /// The PostgreSQL pool of a PostgreSQL database (its schema is the connection's default).
    pub fn pg_pool(&self) -> Option<&sqlx::PgPool> {
        self.pg.as_ref().map(|(pg, _)| pg.pool())
    }

    pub async fn drop(&self) {
        if let Some((pg, schema)) = &self.pg {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                .execute(pg.pool())
                .await;
        }
    }
}

/// A partner with its token.
#[derive(Debug, Clone)]
pub struct Client {
    pub partner: Partner,
    pub token: String,
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// The same partner with another of its tokens.
    pub fn with_token(&self, token: &str) -> Client {
        Client {
            token: token.to_owned(),
            ..self.clone()
        }
    }

    /// The same partner and token, talking to another node at `base` (`http://host:port`).
    pub fn on(&self, base: String) -> Client {
        Client { base, ..self.clone() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request");
        decode(response).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .put(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request");
        decode_or_empty(response).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .delete(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        decode_or_empty(response).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        decode(response).await
    }

    /// A GET whose answer is not JSON (HTML, CSV): its body as text.
    pub async fn text(&self, path: &str) -> String {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        response.text().await.expect("text")
    }

    /// Checks one value; returns its result.
    pub async fn check(&self, value: &str) -> Value {
        let (status, body) = self.post("/api/v1/checks", &json!({"indicators": [{"value": value}]})).await;
        assert_eq!(status, 200, "{body}");
        body["results"][0].clone()
    }
}

/// Like [`decode`], for answers that may have no body (204): an empty or non-JSON body is `null`.
pub async fn decode_or_empty(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn decode(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("status {status}: the body is not JSON: {text}"));
    (status, body)
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// Where `/metrics` is served without a token.
    pub metrics_addr: Option<SocketAddr>,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    pub police: Client,
    pub bank: Client,
    pub other_bank: Client,
    pub operator: Client,
    telecom: Client,
    /// The server's state, for stream workers started beside it.
    pub state: Option<vangnet_services::Services>,
    cancel: CancellationToken,
    handle: JoinHandle<std::io::Result<()>>,
}

pub fn test_settings() -> Settings {
    Settings {
        http: HttpSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_body_bytes: 256 * 1024,
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..HttpSettings::default()
        },
        services: vangnet_services::Settings {
            token_cache_ttl: Duration::ZERO,
            feed_interval: Duration::from_millis(50),
            partner_rate: Rate::UNLIMITED,
            auth_failure_rate: Rate::UNLIMITED,
            audit_hits_window: Duration::from_millis(200),
            public: vangnet_services::settings::PublicSettings {
                check_rate: Rate::UNLIMITED,
                report_rate: Rate::UNLIMITED,
                ..Default::default()
            },
            pnbf: vangnet_services::settings::PnbfSettings {
                naw_key: Some([42; 32]),
                tick: Duration::from_millis(100),
                ..Default::default()
            },
            ..vangnet_services::Settings::default()
        },
    }
}

async fn partner(store: &Arc<dyn Store>, name: &str, kind: PartnerKind) -> (Partner, String) {
    let token = ApiToken::generate().expect("randomness");
    let (partner, _) = store
        .create_partner(name, kind, &token.digest(), "test", "test", Timestamp::now())
        .await
        .expect("partner");
    (partner, token.expose().to_owned())
}

impl TestApp {
    pub async fn spawn(db: &Db) -> TestApp {
        Self::spawn_with(db, test_settings()).await
    }

    pub async fn spawn_with(db: &Db, settings: Settings) -> TestApp {
        let store = Arc::clone(&db.store);
        let police = partner(&store, "Politie", PartnerKind::Police).await;
        let bank = partner(&store, "Bank A", PartnerKind::Bank).await;
        let other_bank = partner(&store, "Bank B", PartnerKind::Bank).await;
        let operator = partner(&store, "Beheer", PartnerKind::Operator).await;
        let telecom = partner(&store, "Belnet", PartnerKind::Telecom).await;
        let app = Application::build(settings, Arc::clone(&store)).await.expect("the server starts");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let state = Some(app.services().clone());
        let cancel = CancellationToken::new();
        let handle = tokio::spawn(app.run_until_stopped(cancel.clone()));
        let http = reqwest::Client::new();
        let base = format!("http://{addr}");
        let client = |(partner, token): (Partner, String)| Client {
            partner,
            token,
            base: base.clone(),
            http: http.clone(),
        };
        TestApp {
            addr,
            metrics_addr,
            store,
            police: client(police),
            bank: client(bank),
            other_bank: client(other_bank),
            operator: client(operator),
            telecom: client(telecom),
            state,
            http,
            cancel,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A new partner of `kind` and its client.
    pub async fn new_client(&self, name: &str, kind: PartnerKind) -> Client {
        let (partner, token) = partner(&self.store, name, kind).await;
        Client {
            partner,
            token,
            base: format!("http://{}", self.addr),
            http: self.http.clone(),
        }
    }

    /// A telecom provider's client.
    pub fn telecom(&self) -> &Client {
        &self.telecom
    }

    /// Stops this server and starts a new one on the same database, with the same partners.
    pub async fn restart(self, settings: Settings) -> TestApp {
        let TestApp {
            store,
            http,
            police,
            bank,
            other_bank,
            operator,
            telecom,
            cancel,
            handle,
            state,
            ..
        } = self;
        drop(state);
        cancel.cancel();
        handle.await.expect("the server task").expect("the server stops cleanly");
        let app = Application::build(settings, Arc::clone(&store))
            .await
            .expect("the server starts again");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let state = Some(app.services().clone());
        let cancel = CancellationToken::new();
        let handle = tokio::spawn(app.run_until_stopped(cancel.clone()));
        let base = format!("http://{addr}");
        let rebase = |c: Client| Client { base: base.clone(), ..c };
        TestApp {
            addr,
            metrics_addr,
            store,
            http,
            police: rebase(police),
            bank: rebase(bank),
            other_bank: rebase(other_bank),
            operator: rebase(operator),
            telecom: rebase(telecom),
            state,
            cancel,
            handle,
        }
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(mut self) {
        self.state = None;
        self.cancel.cancel();
        self.handle.await.expect("the server task").expect("the server stops cleanly");
    }

    /// Files a report as `client` and returns the stored report.
    pub async fn report(&self, client: &Client, body: Value) -> Value {
        let (status, stored) = client.post("/api/v1/reports", &body).await;
        assert_eq!(status, 201, "{stored}");
        stored
    }
}

/// A minimal valid report naming `values`.
pub fn report_body(fraud_type: &str, tlp: &str, values: &[&str]) -> Value {
    json!({
        "fraud_type": fraud_type,
        "channel": "marketplace",
        "occurred_at": Timestamp::now().plus_millis(-86_400_000).to_rfc3339(),
        "amount": {"value": "250.00", "currency": "EUR"},
        "aangifte": true,
        "victim_age_band": "65-74",
        "tlp": tlp,
        "description": "Paid for a phone that never came.",
        "indicators": values.iter().map(|v| json!({"value": v, "role": "payee"})).collect::<Vec<_>>(),
    })
}

/// A green report of now naming `indicators` (values with their roles), as the store takes it:
/// for writes made straight to the store, as another node or `vangnet import` would.
pub fn report_now(
    fraud_type: vangnet_core::report::FraudType,
    indicators: &[(&str, vangnet_core::report::IndicatorRole)],
) -> vangnet_core::report::NewReport {
    use vangnet_core::report::{AgeBand, NewReport, ReportDraft, Tlp};
    let now = Timestamp::now();
    let draft = ReportDraft {
        external_id: None,
        fraud_type,
        channel: None,
        occurred_at: now,
        amount: None,
        aangifte: false,
        victim_age_band: AgeBand::Unknown,
        tlp: Tlp::Green,
        description: None,
        indicators: indicators
            .iter()
            .map(|(v, role)| (vangnet_core::Indicator::parse(None, v).expect("valid"), *role))
            .collect(),
    };
    NewReport::new(draft, now).expect("valid")
}
