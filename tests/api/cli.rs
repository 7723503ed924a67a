//! The command line, run as a user would run it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::Db;

fn vangnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vangnet"))
        .args(args)
        .env_remove("VANGNET_DB")
        .env_remove("VANGNET_LISTEN")
        .env_remove("VANGNET_CONFIG")
        .env("VANGNET_LOG_LEVEL", "warn")
        .env("VANGNET_PNBF_NAW_KEY_FILE", naw_key_file())
        .output()
        .expect("vangnet runs")
}

/// The NAW key file of the tests' `serve` and `demo` runs (not in the working directory).
fn naw_key_file() -> String {
    std::env::temp_dir().join("vangnet-cli-tests-naw.key").display().to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The databases to run command-line tests against: SQLite always, PostgreSQL when present.
async fn databases() -> Vec<Db> {
    let mut dbs = vec![Db::sqlite().await];
    if let Some(pg) = Db::postgres().await {
        dbs.push(pg);
    }
    dbs
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["partner", "--help"],
        vec!["partner", "add", "--help"],
        vec!["partner", "list", "--help"],
        vec!["token", "add", "--help"],
        vec!["token", "list", "--help"],
        vec!["token", "revoke", "--help"],
        vec!["retention", "--help"],
        vec!["retention", "run", "--help"],
        vec!["report", "erase", "--help"],
        vec!["import", "--help"],
        vec!["check", "--help"],
        vec!["audit", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["bench", "--help"],
        vec!["bench", "check", "--help"],
        vec!["bench", "screening", "--help"],
        vec!["bench", "stream", "--help"],
        vec!["worker", "--help"],
        vec!["replay", "--help"],
        vec!["pnbf", "--help"],
        vec!["pnbf", "bank-code", "--help"],
        vec!["pnbf", "bank-code", "set", "--help"],
        vec!["pnbf", "bank-code", "remove", "--help"],
        vec!["pnbf", "bank-code", "list", "--help"],
    ] {
        let out = vangnet(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Usage:"), "{args:?}");
    }
    let out = vangnet(&["partner", "add", "--name", "X", "--kind", "villain", "--db", "/nonexistent/x.db"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(text(&out.stderr).contains("unknown kind `villain`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_import_check_and_audit() {
    for db in databases().await {
        let url = db.url.as_str();
        let out = vangnet(&[
            "partner",
            "add",
            "--name",
            "Marktplein",
            "--kind",
            "marketplace",
            "--json",
            "--db",
            url,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert_eq!(stdout.lines().count(), 1, "exactly one JSON object: {stdout}");
        let created: Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(created["name"], "Marktplein");
        assert_eq!(created["kind"], "marketplace");
        assert!(created["token"].as_str().is_some_and(|t| t.starts_with("vn_") && t.len() == 51));
        let out = vangnet(&["partner", "add", "--name", "Marktplein", "--kind", "bank", "--db", url]);
        assert!(!out.status.success() && text(&out.stderr).contains("already exists"));

        // No piece of a token is kept in plain text: a token is listed by id and the label
        // the operator chose.
        let token = created["token"].as_str().expect("token").to_owned();
        let out = vangnet(&[
            "token",
            "add",
            "--partner",
            "Marktplein",
            "--label",
            "betaalmotor",
            "--json",
            "--db",
            url,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let second: Value = serde_json::from_str(&text(&out.stdout)).expect("JSON");
        let second_token = second["token"].as_str().expect("token").to_owned();
        let listed = text(&vangnet(&["token", "list", "--partner", "Marktplein", "--db", url]).stdout);
        assert!(listed.contains("betaalmotor") && listed.contains("(no label)"), "{listed}");
        for secret in [&token, &second_token] {
            assert!(!listed.contains(&secret[3..9]), "{listed}");
        }
        let tokens = db.store.tokens(created["id"].as_str().expect("id")).await.expect("tokens");
        assert!(
            tokens
                .iter()
                .all(|t| !t.label.contains(&token[3..9]) && !t.label.contains(&second_token[3..9])),
            "{tokens:?}"
        );

        let dir = tempfile::tempdir().expect("temp dir");
        let jsonl = dir.path().join("reports.jsonl");
        std::fs::write(
            &jsonl,
            concat!(
                r#"{"external_id": "m-1", "fraud_type": "marketplace", "occurred_at": "2026-11-01T10:00:00Z", "tlp": "green", "indicators": [{"value": "NL91 ABNA 0417 1643 00", "role": "payee"}]}"#,
                "\n",
                r#"{"external_id": "m-2", "fraud_type": "marketplace", "occurred_at": "2026-11-02T10:00:00Z", "tlp": "green", "indicators": [{"value": "06-12345678", "role": "seller"}, {"value": "NL91ABNA0417164300", "role": "payee"}]}"#,
                "\n",
                r#"{"external_id": "m-3", "fraud_type": "marketplace", "occurred_at": "2026-11-02T10:00:00Z", "indicators": [{"value": "NL91ABNA0417164301"}]}"#,
                "\n\n",
                "this is not json\n",
                r#"{"external_id": "m-4", "fraud_type": "webshop", "occurred_at": "2026-11-03T10:00:00Z", "tlp": "amber", "indicators": [{"value": "https://nep-winkel.nl/bestel"}]}"#,
                "\n",
            ),
        )
        .expect("write");
        let id = created["id"].as_str().expect("id");
        let out = vangnet(&["import", jsonl.to_str().expect("path"), "--partner", id, "--db", url]);
        assert_eq!(out.status.code(), Some(1), "some lines were rejected");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("line 3: indicators[0].value: not a valid IBAN"), "{stderr}");
        assert!(stderr.contains("line 5: "), "{stderr}");
        assert!(
            text(&out.stdout).contains("3 stored, 0 already there, 0 conflicting, 2 rejected"),
            "{}",
            text(&out.stdout)
        );
        let out = vangnet(&["import", jsonl.to_str().expect("path"), "--partner", "Marktplein", "--db", url]);
        assert!(
            text(&out.stdout).contains("0 stored, 3 already there"),
            "a re-run stores nothing: {}",
            text(&out.stdout)
        );

        let csv = dir.path().join("reports.csv");
        std::fs::write(
            &csv,
            "external_id,fraud_type,occurred_at,amount,aangifte,tlp,payee_iban,seller_phone,website_url\n\
             c-1,marketplace,2026-11-04T10:00:00Z,125.50,ja,green,NL91ABNA0417164300,0612345678;+31 6 87654321,\n\
             c-2,webshop,2026-11-05T10:00:00Z,80,nee,green,,,https://nep-winkel.nl/a\n\
             c-3,webshop,not a date,80,nee,green,,,https://nep-winkel.nl/a\n",
        )
        .expect("write");
        let out = vangnet(&["import", csv.to_str().expect("path"), "--partner", "Marktplein", "--db", url]);
        assert!(
            text(&out.stdout).contains("2 stored"),
            "{} {}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("line 4: occurred_at"), "{}", text(&out.stderr));

        let out = vangnet(&["check", "nl91abna0417164300", "nep-winkel.nl", "hello", "--json", "--db", url]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let checked: Value = serde_json::from_str(&text(&out.stdout)).expect("JSON");
        let results = checked["results"].as_array().expect("results");
        assert_eq!(
            (results[0]["status"].as_str(), results[0]["reports"].as_u64()),
            (Some("reported"), Some(3)),
            "GREEN reports are visible to the operator"
        );
        assert_eq!(results[1]["reports"], 1, "the operator does not see the AMBER report");
        assert_eq!(results[2]["status"], "invalid");
        let out = vangnet(&["check", "nep-winkel.nl", "--as", "Marktplein", "--db", url]);
        let stdout = text(&out.stdout);
        assert!(stdout.contains("nep-winkel.nl  (domain)  REPORTED"), "{stdout}");

        let out = vangnet(&["audit", "verify", "--db", url]);
        assert!(out.status.success(), "{} {}", text(&out.stdout), text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.contains("The audit log is intact"), "{stdout}");
        let head = stdout.lines().find_map(|l| l.strip_prefix("Head: ")).expect("head").to_owned();
        let out = vangnet(&["audit", "verify", "--anchor", &head, "--db", url]);
        assert!(out.status.success());
        db.drop().await;
    }
}

#[test]
fn audit_verify_detects_tampering() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vangnet.db");
    let url = path.to_str().expect("path");
    for name in ["A", "B", "C"] {
        assert!(
            vangnet(&["partner", "add", "--name", name, "--kind", "bank", "--db", url])
                .status
                .success()
        );
    }
    assert!(vangnet(&["audit", "verify", "--db", url]).status.success());
    let conn = rusqlite::Connection::open(&path).expect("open");
    assert!(
        conn.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3", [])
            .is_err(),
        "the log is append-only"
    );
    conn.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3;")
        .expect("tamper");
    let out = vangnet(&["audit", "verify", "--db", url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("entry 3 was changed"), "{}", text(&out.stdout));
    conn.execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= 3;")
        .expect("tamper");
    let out = vangnet(&["audit", "verify", "--db", url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("removed from the end"), "{}", text(&out.stdout));
}

#[test]
fn demo_is_idempotent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("vangnet.db").display().to_string();
    let out = vangnet(&["demo", "--no-serve", "--reports", "400", "--db", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first = text(&out.stdout);
    assert!(first.contains("400 new synthetic reports"), "{first}");
    assert!(first.contains("Politie (demo)"));
    let out = vangnet(&["demo", "--no-serve", "--reports", "400", "--db", &url]);
    let second = text(&out.stdout);
    assert!(second.contains("0 new synthetic reports (400 were there already)"), "{second}");
    let token = |s: &str| s.lines().find(|l| l.contains("Politie (demo)")).map(str::to_owned);
    assert_eq!(token(&first), token(&second), "the same demo tokens every run");
    // PNBF cases in every state, made once, with the victims' links.
    for state in [
        "requested",
        "repaid",
        "partially_repaid",
        "refused",
        "no_response",
        "naw_requested",
        "naw_released",
        "ineligible",
        "withdrawn",
        "closed",
    ] {
        assert!(
            second
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{state} ")) && l.contains("/zaak/")),
            "a {state} case: {second}"
        );
    }
    let links = |s: &str| s.lines().filter(|l| l.contains("/zaak/")).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(links(&first), links(&second), "made once");
    let out = vangnet(&["partner", "list", "--json", "--db", &url]);
    let partners: Value = serde_json::from_str(&text(&out.stdout)).expect("JSON");
    assert_eq!(partners.as_array().map(Vec::len), Some(9), "no duplicate partners");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pnbf_directory_is_kept_from_the_command_line() {
    for db in databases().await {
        let url = db.url.clone();
        let out = vangnet(&["partner", "add", "--name", "Dirbank", "--kind", "bank", "--json", "--db", &url]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = vangnet(&["partner", "add", "--name", "Dirpolice", "--kind", "police", "--db", &url]);
        assert!(out.status.success());
        let out = vangnet(&["pnbf", "bank-code", "set", "ingb", "--partner", "Dirbank", "--db", &url]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with("INGB → Dirbank"));
        let out = vangnet(&["pnbf", "bank-code", "set", "ABNA", "--partner", "Dirpolice", "--db", &url]);
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains("only banks and PSPs"), "{}", text(&out.stderr));
        let out = vangnet(&["pnbf", "bank-code", "set", "IN9B", "--partner", "Dirbank", "--db", &url]);
        assert!(text(&out.stderr).contains("not a bank code"));
        let out = vangnet(&["pnbf", "bank-code", "list", "--json", "--db", &url]);
        let list: Value = serde_json::from_str(&text(&out.stdout)).expect("JSON");
        assert_eq!(list[0]["code"], "INGB");
        assert_eq!(list[0]["partner"]["name"], "Dirbank");
        let out = vangnet(&["pnbf", "bank-code", "remove", "INGB", "--db", &url]);
        assert!(out.status.success());
        let out = vangnet(&["pnbf", "bank-code", "list", "--db", &url]);
        assert!(text(&out.stdout).trim().is_empty());
        let audit = db.store.audit_entries(0, 100).await.expect("audit");
        assert_eq!(
            audit
                .iter()
                .filter(|e| e.action == "pnbf.directory.change" && e.actor == "cli")
                .count(),
            2
        );
        db.drop().await;
    }
}

/// Starts `vangnet serve` on a free port over `url`; returns the process, the address it
/// serves on, and the rest of its log lines.
fn serve(url: &str) -> (std::process::Child, String, std::io::Lines<BufReader<std::process::ChildStderr>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vangnet"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", url])
        .env("VANGNET_LOG_LEVEL", "info")
        .env("VANGNET_PNBF_NAW_KEY_FILE", naw_key_file())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split("serving on http://")
                .nth(1)
                .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
        })
        .expect("the server says where it serves");
    (child, addr, lines)
}

/// The probe: a second process of one installation started elsewhere refused to start, as the
/// NAW key defaulted to the working directory; and log files carried colour codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_naw_key_lives_beside_the_sqlite_file_and_logs_have_no_colour_codes() {
    let data = tempfile::tempdir().expect("temp dir");
    let db = data.path().join("v.db");
    let db = db.to_str().expect("path");
    let run_in = |dir: &std::path::Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vangnet"))
            .args(args)
            .current_dir(dir)
            .env_remove("VANGNET_PNBF_NAW_KEY_FILE")
            .env_remove("NO_COLOR")
            .env("VANGNET_LOG_LEVEL", "info")
            .env("VANGNET_METRICS_LISTEN", "")
            .output()
            .expect("vangnet runs")
    };
    let here = tempfile::tempdir().expect("temp dir");
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let first = run_in(
        here.path(),
        &[
            "demo",
            "--no-serve",
            "--reports",
            "50",
            "--listen",
            "127.0.0.1:0",
            "--db",
            &format!("sqlite://{db}"),
        ],
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(data.path().join("v-naw.key").exists(), "the key is made beside the database");
    assert!(!here.path().join("vangnet-naw.key").exists(), "not in the working directory");
    let second = run_in(
        elsewhere.path(),
        &["demo", "--no-serve", "--reports", "50", "--listen", "127.0.0.1:0", "--db", db],
    );
    assert!(second.status.success(), "started from another directory: {}", text(&second.stderr));
    for out in [&first, &second] {
        let log = text(&out.stderr);
        assert!(log.contains("INFO"), "{log}");
        assert!(!log.contains('\u{1b}'), "no colour codes when the log is not a terminal: {log:?}");
    }
    // With another key the refusal names the file and both fingerprints.
    let other = data.path().join("other.key");
    std::fs::write(&other, format!("{}\n", "ab".repeat(32))).expect("write");
    let refused = Command::new(env!("CARGO_BIN_EXE_vangnet"))
        .args(["demo", "--no-serve", "--reports", "50", "--listen", "127.0.0.1:0", "--db", db])
        .env("VANGNET_PNBF_NAW_KEY_FILE", &other)
        .env("VANGNET_METRICS_LISTEN", "")
        .output()
        .expect("vangnet runs");
    let message = text(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        message.contains(other.to_str().expect("path")) && message.matches("fingerprint").count() == 2,
        "{message}"
    );
    // PostgreSQL has no file to sit beside: the key file must be named.
    if let Some(pg) = Db::postgres().await {
        let out = Command::new(env!("CARGO_BIN_EXE_vangnet"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db", &pg.url])
            .env_remove("VANGNET_PNBF_NAW_KEY_FILE")
            .output()
            .expect("vangnet runs");
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains("pnbf.naw_key_file"), "{}", text(&out.stderr));
        pg.drop().await;
    }
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("vangnet.db").display().to_string();
    let (mut child, addr, lines) = serve(&url);
    let health = Command::new("curl")
        .args(["-s", &format!("http://{addr}/healthz")])
        .output()
        .expect("curl");
    assert_eq!(text(&health.stdout), "{\"status\":\"ok\"}");
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the server did not stop within 10 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("SIGTERM received")), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
}

#[test]
fn replay_shows_the_interventions_of_a_demo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("vangnet.db").display().to_string();
    let out = vangnet(&["demo", "--no-serve", "--reports", "800", "--db", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (mut child, addr, _) = serve(&url);
    let out = vangnet(&[
        "replay",
        "--db",
        &url,
        "--url",
        &format!("http://{addr}"),
        "--events",
        "600",
        "--rate",
        "0",
        "--seed",
        "7",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("600 events in"), "{shown}");
    assert!(
        shown
            .lines()
            .any(|l| l.contains("-to-mule") && l.contains("hold") && l.contains("payee_mule")),
        "the live fan-in is flagged and a payment to its collector held: {shown}"
    );
    assert!(
        shown.contains("caller_protected_number"),
        "a spoofed bank-helpdesk call is blocked: {shown}"
    );
    assert!(
        shown.contains("payer_on_call_unverified"),
        "a payment during an unverified call is held: {shown}"
    );
    assert!(
        shown.contains("payee_reported"),
        "a payment to a reported mule account is stopped: {shown}"
    );
    assert!(!shown.contains(" error "), "every event got a decision: {shown}");
}

/// `vangnet token add --scope … --purpose …`: the scopes are checked against the partner's
/// kind, and the list shows them with the purpose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_carry_scopes_and_a_purpose() {
    for db in databases().await {
        let url = db.url.as_str();
        let created = vangnet(&["partner", "add", "--name", "Bank Scopes", "--kind", "bank", "--db", url]);
        assert!(created.status.success(), "{}", text(&created.stderr));
        let scoped = vangnet(&[
            "token",
            "add",
            "--partner",
            "Bank Scopes",
            "--scope",
            "check, report",
            "--purpose",
            "Fraudedesk: controles",
            "--json",
            "--db",
            url,
        ]);
        assert!(scoped.status.success(), "{}", text(&scoped.stderr));
        let answer: Value = serde_json::from_str(&text(&scoped.stdout)).expect("JSON");
        assert_eq!(answer["scopes"], "check,report");
        for (scope, message) in [
            ("check,admin", "cannot hold `admin`"),
            ("everything", "`everything` is not a scope"),
        ] {
            let refused = vangnet(&["token", "add", "--partner", "Bank Scopes", "--scope", scope, "--db", url]);
            assert!(!refused.status.success());
            assert!(text(&refused.stderr).contains(message), "{}", text(&refused.stderr));
        }
        let listed = text(&vangnet(&["token", "list", "--partner", "Bank Scopes", "--db", url]).stdout);
        assert!(listed.contains("all scopes of its kind"), "the first token keeps all: {listed}");
        assert!(
            listed.contains("scopes check,report  purpose \"Fraudedesk: controles\""),
            "{listed}"
        );
        db.drop().await;
    }
}

/// `vangnet retention run [--dry-run]` and `vangnet report erase`: a report received three years
/// ago goes, a fresh one stays; the dry run changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_runs_from_the_command_line() {
    use vangnet_core::Timestamp;
    for db in databases().await {
        let url = db.url.as_str();
        let created = vangnet(&["partner", "add", "--name", "Bank R", "--kind", "bank", "--db", url]);
        assert!(created.status.success(), "{}", text(&created.stderr));
        let partner = db.store.partner("Bank R").await.expect("read").expect("there");
        let report = |value: &str| {
            let draft = vangnet_core::report::ReportDraft {
                external_id: None,
                fraud_type: vangnet_core::report::FraudType::Webshop,
                channel: None,
                occurred_at: Timestamp::now().plus_millis(-86_400_000),
                amount: None,
                aangifte: false,
                victim_age_band: vangnet_core::report::AgeBand::Unknown,
                tlp: vangnet_core::report::Tlp::Green,
                description: None,
                indicators: vec![(
                    vangnet_core::Indicator::parse(None, value).expect("valid"),
                    vangnet_core::report::IndicatorRole::Website,
                )],
            };
            vangnet_core::report::NewReport::new(draft, Timestamp::now()).expect("valid")
        };
        let three_years_ago = Timestamp::now().plus_millis(-3 * 365 * 86_400_000);
        db.store
            .insert_reports(&partner, &[report("oude-winkel.nl")], "test", three_years_ago)
            .await
            .expect("old");
        let fresh = db
            .store
            .insert_reports(&partner, &[report("nieuwe-winkel.nl")], "test", Timestamp::now())
            .await
            .expect("fresh");
        let dry = vangnet(&["retention", "run", "--dry-run", "--db", url]);
        assert!(dry.status.success(), "{}", text(&dry.stderr));
        assert!(
            text(&dry.stdout).contains("1 of 1 reports looked at are past their term"),
            "{}",
            text(&dry.stdout)
        );
        let run = vangnet(&["retention", "run", "--db", url]);
        assert!(text(&run.stdout).contains("Deleted 1 reports"), "{}", text(&run.stdout));
        assert!(
            db.store
                .indicator(vangnet_core::IndicatorKind::Domain, "oude-winkel.nl")
                .await
                .expect("read")
                .is_none()
        );
        let vangnet_store::InsertOutcome::Created(fresh) = &fresh[0] else {
            panic!("created")
        };
        let refused = vangnet(&["report", "erase", &fresh.id, "--reason", "", "--db", url]);
        assert!(!refused.status.success(), "a reason is required");
        let erased = vangnet(&["report", "erase", &fresh.id, "--reason", "verkeerde winkel gemeld", "--db", url]);
        assert!(erased.status.success(), "{}", text(&erased.stderr));
        assert!(db.store.report(&fresh.id).await.expect("read").is_none());
        let unknown = vangnet(&["report", "erase", &fresh.id, "--reason", "nog eens", "--db", url]);
        assert!(!unknown.status.success());
        db.drop().await;
    }
}

/// `vangnet subject export`: JSON on standard output, the printable page as a file of its own
/// (its stylesheet inside), each audited, so the second lists the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_export_from_the_command_line() {
    for db in databases().await {
        let url = db.url.as_str();
        let created = vangnet(&["partner", "add", "--name", "Politie S", "--kind", "police", "--db", url]);
        assert!(created.status.success(), "{}", text(&created.stderr));
        let police = db.store.partner("Politie S").await.expect("read").expect("there");
        let draft = vangnet_core::report::ReportDraft {
            external_id: None,
            fraud_type: vangnet_core::report::FraudType::Bankhelpdesk,
            channel: None,
            occurred_at: vangnet_core::Timestamp::now().plus_millis(-86_400_000),
            amount: None,
            aangifte: true,
            victim_age_band: vangnet_core::report::AgeBand::Unknown,
            tlp: vangnet_core::report::Tlp::Green,
            description: Some("Belde namens de bank.".to_owned()),
            indicators: vec![(
                vangnet_core::Indicator::parse(None, "+31201234567").expect("valid"),
                vangnet_core::report::IndicatorRole::Caller,
            )],
        };
        let report = vangnet_core::report::NewReport::new(draft, vangnet_core::Timestamp::now()).expect("valid");
        db.store
            .insert_reports(&police, &[report], "test", vangnet_core::Timestamp::now())
            .await
            .expect("stored");
        let json = vangnet(&["subject", "export", "phone", "020 123 4567", "--db", url]);
        assert!(json.status.success(), "{}", text(&json.stderr));
        let out: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
        assert_eq!(out["value"], "+31201234567", "normalised");
        assert_eq!(out["reports"][0]["text"], "Belde namens de bank.");
        assert_eq!(out["reports"][0]["role"], "caller");
        assert_eq!(out["requested_by"]["kind"], "operator");
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("inzage.html");
        let html = vangnet(&[
            "subject",
            "export",
            "phone",
            "+31201234567",
            "--out",
            file.to_str().expect("path"),
            "--db",
            url,
        ]);
        assert!(html.status.success(), "{}", text(&html.stderr));
        let page = std::fs::read_to_string(&file).expect("written");
        assert!(
            page.contains("<style>") && !page.contains("/static/vangnet.css"),
            "a file of its own"
        );
        assert!(page.contains("Belde namens de bank.") && page.contains("Eerdere inzageverzoeken"));
        assert!(page.contains("id=\"earlier-exports\""), "the JSON export before is listed");
        let refused = vangnet(&["subject", "export", "fax", "123", "--db", url]);
        assert!(!refused.status.success());
        assert!(text(&refused.stderr).contains("not a kind"), "{}", text(&refused.stderr));
        db.drop().await;
    }
}
