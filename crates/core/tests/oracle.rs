//! Independent oracles: the normalisers are compared with Python's `phonenumbers`
//! (libphonenumber) and `schwifty` on thousands of generated cases.
//!
//! The Python interpreter is `VANGNET_ORACLE_PYTHON` (CI makes a virtual environment with
//! pinned versions: `phonenumbers` 9.0.33, the metadata release the `phonenumber` crate
//! carries). Without the packages the tests are skipped with a notice, unless `CI` is set:
//! then they fail.

use std::process::Command;

use serde_json::Value;
use vangnet_core::indicator::{Indicator, IndicatorKind};

/// The libphonenumber metadata release of the `phonenumber` crate (its version's build
/// metadata, `0.3.10+9.0.33`); the oracle must use the same release, or new number ranges
/// look like disagreements.
const METADATA_RELEASE: &str = "9.0.33";

fn python() -> Option<String> {
    let python = std::env::var("VANGNET_ORACLE_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let version = Command::new(&python)
        .args(["-c", "import phonenumbers, schwifty; print(phonenumbers.__version__)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let problem = match version {
        Some(v) if v == METADATA_RELEASE => return Some(python),
        Some(v) => format!("{python} has phonenumbers {v}, not {METADATA_RELEASE}"),
        None => format!("{python} cannot import phonenumbers and schwifty"),
    };
    if std::env::var_os("CI").is_some() {
        panic!("the oracle is required in CI: {problem}; set VANGNET_ORACLE_PYTHON");
    }
    eprintln!("skipping the oracle test: {problem}; set VANGNET_ORACLE_PYTHON to a Python with phonenumbers=={METADATA_RELEASE}");
    None
}

fn cases(python: &str, script: &str, seed: u32) -> Vec<(String, Option<String>)> {
    let path = format!("{}/tests/oracle/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python)
        .arg(&path)
        .arg(seed.to_string())
        .output()
        .expect("the oracle script runs");
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let case: Value = serde_json::from_str(line).expect("a JSON line");
            (
                case["input"].as_str().unwrap_or("").to_owned(),
                case["expected"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn compare(kind: IndicatorKind, cases: &[(String, Option<String>)], allowed: impl Fn(&str, &Option<String>, &Option<String>) -> bool) {
    let mut mismatches = Vec::new();
    let mut prefixes = std::collections::BTreeSet::new();
    for (input, expected) in cases {
        let ours = Indicator::parse(Some(kind), input).ok().map(|i| i.canonical().to_owned());
        if &ours != expected && !allowed(input, expected, &ours) {
            mismatches.push(format!("{input:?}: oracle {expected:?}, ours {ours:?}"));
            prefixes.insert(
                input
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .take(3)
                    .collect::<String>()
                    .to_uppercase(),
            );
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from the oracle (starting {prefixes:?}):\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn phone_numbers_match_libphonenumber() {
    let Some(python) = python() else { return };
    for seed in [2026, 7] {
        let cases = cases(&python, "phone_cases.py", seed);
        assert!(cases.len() > 10_000);
        compare(IndicatorKind::Phone, &cases, |_, _, _| false);
    }
}

/// Codes schwifty accepts that the SWIFT IBAN registry files under another country (French
/// overseas territories under FR, Åland under FI, the Crown Dependencies under GB): banks
/// there issue FR, FI and GB IBANs.
const NOT_IN_REGISTRY: &[&str] = &[
    "AX", "BL", "GF", "GG", "GP", "IM", "JE", "MF", "MQ", "NC", "PF", "PM", "RE", "TF", "WF", "YT",
];

#[test]
fn ibans_match_schwifty() {
    let Some(python) = python() else { return };
    let cases = cases(&python, "iban_cases.py", 2026);
    assert!(cases.len() > 5_000);
    compare(IndicatorKind::Iban, &cases, |_, expected, ours| {
        ours.is_none() && expected.as_deref().is_some_and(|e| NOT_IN_REGISTRY.contains(&&e[..2]))
    });
}
