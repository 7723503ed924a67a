//! The web pages in a real browser: `tests/browser/run.mjs` (Playwright driving Debian's
//! Chromium, accessibility checked with axe-core) against `vangnet demo` on a free port. It
//! saves screenshots of every page into `docs/screenshots/`. Outside CI it is skipped when
//! Node.js, Chromium or the npm packages are missing (`.ci/run` installs them); with `CI` set
//! it fails instead.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn missing_tools(root: &Path, chromium: &str) -> Vec<String> {
    let mut missing = Vec::new();
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node".to_owned());
    }
    if !Path::new(chromium).exists() {
        missing.push(chromium.to_owned());
    }
    for package in ["playwright-core", "axe-core"] {
        if !root.join("tests/browser/node_modules").join(package).exists() {
            missing.push(format!("tests/browser/node_modules/{package} (npm ci --prefix tests/browser)"));
        }
    }
    missing
}

#[test]
fn web_pages_work_in_a_browser_and_pass_axe() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("VANGNET_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let missing = missing_tools(root, &chromium);
    if !missing.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the browser tests need {} in CI (.ci/run installs them)",
            missing.join(", ")
        );
        eprintln!("skipping the browser tests: missing {}; with CI set this fails", missing.join(", "));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_vangnet"))
        .args(["demo", "--db"])
        .arg(dir.path().join("demo.db"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("VANGNET_LOG_LEVEL", "warn")
        .env("VANGNET_PNBF_NAW_KEY_FILE", dir.path().join("naw.key"))
        .env("VANGNET_METRICS_LISTEN", "")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("vangnet demo starts");
    let stdout = server.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut token, mut mule, mut case_link, mut helpdesk, mut police) = (None, None, None, None, None);
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("the demo prints its tokens and starts serving");
        let words: Vec<&str> = line.split_whitespace().collect();
        if line.trim_start().starts_with("Noorderbank (demo)") {
            token = words.last().map(|t| (*t).to_owned());
        }
        if line.trim_start().starts_with("Politie (demo)") {
            police = words.last().map(|t| (*t).to_owned());
        }
        if line.trim_start().starts_with("Fraudehelpdesk (demo)") {
            helpdesk = words.last().map(|t| (*t).to_owned());
        }
        if line.trim_start().starts_with("vangnet check ") {
            mule = words.get(2).map(|m| (*m).to_owned());
        }
        if line.trim_start().starts_with("naw_released ") {
            case_link = words.last().and_then(|l| l.find("/zaak/").map(|i| l[i..].to_owned()));
        }
        if line.starts_with("Serving on") {
            break;
        }
    }
    let output = Command::new("node")
        .arg(root.join("tests/browser/run.mjs"))
        .env("VANGNET_URL", format!("http://127.0.0.1:{port}"))
        .env("VANGNET_MULE", mule.expect("the demo names a mule IBAN"))
        .env("VANGNET_TOKEN", token.expect("the demo prints a bank's token"))
        .env("VANGNET_HELPDESK_TOKEN", helpdesk.expect("the demo prints the helpdesk's token"))
        .env("VANGNET_POLICE_TOKEN", police.expect("the demo prints the police's token"))
        .env("VANGNET_CASE", case_link.expect("the demo prints a victim's case link"))
        .env("SCREENSHOTS", root.join("docs/screenshots"))
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "browser tests failed:\n{stdout}\n{stderr}");
    println!("{stdout}");
}
