//! The payment rules file (`rules/payments.toml` documents the format): parsed, validated
//! into the core's [`PaymentRules`], versioned by its `version` and a hash of its bytes, and
//! reloaded while the server runs when the file changes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use vangnet_core::screening::payments::{PaymentRules, Thresholds};
use vangnet_core::{Currency, Money};

/// The rules file's text that the built-in rules come from.
pub const BUILTIN_RULES: &str = include_str!("../../../../rules/payments.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: String,
    thresholds: ThresholdsFile,
    payee_reported: PayeeReported,
    first_payment: Weight,
    unusual_amount: Unusual,
    instant_new_payee: Instant,
    payer_on_call: Weight,
    mule: Mule,
    mule_fan_in: FanIn,
    mule_pass_through: PassThrough,
    name_mismatch: NameMismatch,
    /// Added with the mule detectors; older files without them get the built-in weights.
    #[serde(default)]
    payee_mule: Option<Weight>,
    #[serde(default)]
    payer_mule: Option<Weight>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdsFile {
    warn: f64,
    hold: f64,
    block: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Weight {
    weight: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayeeReported {
    weight: f64,
    disputed_factor: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Unusual {
    weight: f64,
    robust_z: f64,
    min_ratio: f64,
    min_history: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Instant {
    weight: f64,
    min_amount: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mule {
    window_minutes: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FanIn {
    weight: f64,
    distinct_payers: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PassThrough {
    weight: f64,
    share: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NameMismatch {
    weight: f64,
    close_match_factor: f64,
}

/// Parses and checks a rules file's text.
pub fn parse_rules(text: &str) -> Result<PaymentRules, String> {
    let f: File = toml::from_str(text).map_err(|e| e.to_string())?;
    let min_amount =
        Money::parse(&f.instant_new_payee.min_amount, Currency::EUR).map_err(|e| format!("instant_new_payee.min_amount: {e}"))?;
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    let rules = PaymentRules {
        version: format!("{}+{}", f.version.trim(), &digest[..8]),
        thresholds: Thresholds {
            warn: f.thresholds.warn,
            hold: f.thresholds.hold,
            block: f.thresholds.block,
        },
        payee_reported_weight: f.payee_reported.weight,
        payee_disputed_factor: f.payee_reported.disputed_factor,
        first_payment_weight: f.first_payment.weight,
        unusual_amount_weight: f.unusual_amount.weight,
        unusual_z: f.unusual_amount.robust_z,
        unusual_min_ratio: f.unusual_amount.min_ratio,
        unusual_min_history: f.unusual_amount.min_history,
        instant_new_payee_weight: f.instant_new_payee.weight,
        instant_min_minor: min_amount.minor(),
        payer_on_call_weight: f.payer_on_call.weight,
        mule_fan_in_weight: f.mule_fan_in.weight,
        fan_in_payers: f.mule_fan_in.distinct_payers,
        mule_pass_through_weight: f.mule_pass_through.weight,
        pass_through_share: f.mule_pass_through.share,
        mule_window_minutes: f.mule.window_minutes,
        name_mismatch_weight: f.name_mismatch.weight,
        close_match_factor: f.name_mismatch.close_match_factor,
        payee_mule_weight: f.payee_mule.map_or(PaymentRules::builtin().payee_mule_weight, |w| w.weight),
        payer_mule_weight: f.payer_mule.map_or(PaymentRules::builtin().payer_mule_weight, |w| w.weight),
    };
    let problems = rules.problems();
    if f.version.trim().is_empty() || f.version.len() > 48 {
        return Err("version: 1 to 48 characters".to_owned());
    }
    if problems.is_empty() { Ok(rules) } else { Err(problems.join("; ")) }
}

/// The rules in use, swapped whole when the file changes.
#[derive(Debug, Clone)]
pub struct RulesHandle {
    current: Arc<RwLock<Arc<PaymentRules>>>,
    path: Option<PathBuf>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl RulesHandle {
    /// The rules from `path`, or the built-in ones when there is none.
    pub fn load(path: Option<&Path>) -> Result<RulesHandle, String> {
        let rules = match path {
            None => parse_rules(BUILTIN_RULES)?,
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                parse_rules(&text).map_err(|e| format!("{}: {e}", p.display()))?
            }
        };
        Ok(RulesHandle {
            current: Arc::new(RwLock::new(Arc::new(rules))),
            path: path.map(Path::to_path_buf),
        })
    }

    pub fn current(&self) -> Arc<PaymentRules> {
        Arc::clone(&self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Reads the file again; returns the new version if it changed and is valid.
    pub fn reload(&self) -> Result<Option<String>, String> {
        let Some(path) = &self.path else { return Ok(None) };
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let rules = parse_rules(&text)?;
        let mut current = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.version == rules.version {
            return Ok(None);
        }
        let version = rules.version.clone();
        *current = Arc::new(rules);
        Ok(Some(version))
    }

    /// Watches the file's modification time every `interval` until cancelled.
    pub async fn watch(self, interval: Duration, cancel: CancellationToken) {
        let Some(path) = self.path.clone() else { return };
        let mut seen = modified(&path);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            let now = modified(&path);
            if now == seen {
                continue;
            }
            seen = now;
            match self.reload() {
                Ok(Some(version)) => tracing::info!(%version, "payment rules reloaded"),
                Ok(None) => {}
                Err(error) => tracing::error!(%error, "the changed payment rules file is invalid; the rules in use stay"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_the_builtin_rule_set() {
        let rules = parse_rules(BUILTIN_RULES).expect("valid");
        let builtin = PaymentRules::builtin();
        assert!(rules.version.starts_with("builtin-1+"));
        assert_eq!(
            PaymentRules {
                version: builtin.version.clone(),
                ..rules
            },
            builtin
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let unknown = BUILTIN_RULES.replace("[first_payment]\nweight = 0.10", "[first_payment]\nweight = 0.10\nwieght = 1");
        assert!(parse_rules(&unknown).expect_err("unknown key").contains("wieght"));
        let order = BUILTIN_RULES.replace("warn = 0.30", "warn = 0.70");
        assert!(parse_rules(&order).expect_err("warn above hold").contains("thresholds"));
        let missing = BUILTIN_RULES.replace("[payer_on_call]\nweight = 0.65\n", "");
        assert!(parse_rules(&missing).expect_err("missing rule").contains("payer_on_call"));
        let money = BUILTIN_RULES.replace("min_amount = \"1000.00\"", "min_amount = \"lots\"");
        assert!(parse_rules(&money).expect_err("bad amount").contains("min_amount"));
    }

    #[test]
    fn files_from_before_the_mule_rules_keep_working() {
        let cut = BUILTIN_RULES.find("# The payee account looks like a money mule").expect("section");
        let older = parse_rules(&BUILTIN_RULES[..cut]).expect("an older file is valid");
        let builtin = PaymentRules::builtin();
        assert_eq!(
            (older.payee_mule_weight, older.payer_mule_weight),
            (builtin.payee_mule_weight, builtin.payer_mule_weight)
        );
        let set = BUILTIN_RULES.replace("[payee_mule]\nweight = 0.75", "[payee_mule]\nweight = 0.5");
        assert!((parse_rules(&set).expect("valid").payee_mule_weight - 0.5).abs() < 1e-9);
    }

    #[test]
    fn reload_swaps_valid_rules_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, BUILTIN_RULES).expect("write");
        let handle = RulesHandle::load(Some(&path)).expect("loads");
        let first = handle.current().version.clone();
        assert_eq!(handle.reload(), Ok(None), "unchanged");
        std::fs::write(
            &path,
            BUILTIN_RULES
                .replace("version = \"builtin-1\"", "version = \"strict-2\"")
                .replace("block = 0.85", "block = 0.70"),
        )
        .expect("write");
        let version = handle.reload().expect("valid").expect("changed");
        assert!(version.starts_with("strict-2+"));
        assert!((handle.current().thresholds.block - 0.70).abs() < 1e-9);
        std::fs::write(&path, "version = \"broken\"").expect("write");
        assert!(handle.reload().is_err());
        assert!(handle.current().version.starts_with("strict-2+"), "the rules in use stay");
        assert_ne!(first, version);
    }
}
