//! The texts citizens read, in Dutch and English: page texts, the help questionnaire, the
//! organisations that help, and the steps per fraud type. They live in reviewed content files
//! (`content/nl.toml`, `content/en.toml`) that a non-programmer can edit; they are built into
//! the binary, and the tests below refuse a build whose content is incomplete in either
//! language or where the two languages disagree on the steps.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use vangnet_core::report::FraudType;

/// A language of the citizen pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Nl,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The texts in this language.
    pub fn content(self) -> &'static Content {
        let contents = CONTENTS.get_or_init(|| {
            // The files are part of the build and checked by the tests in this module, so a
            // parse failure here is a build that should never have shipped.
            [
                Content::parse(include_str!("../../../../content/nl.toml")).expect("content/nl.toml is valid (tested)"),
                Content::parse(include_str!("../../../../content/en.toml")).expect("content/en.toml is valid (tested)"),
            ]
        });
        match self {
            Lang::Nl => &contents[0],
            Lang::En => &contents[1],
        }
    }
}

static CONTENTS: OnceLock<[Content; 2]> = OnceLock::new();

/// Every event a case's history can show.
pub const CASE_EVENTS: &[&str] = &[
    "open",
    "repaid",
    "partially_repaid",
    "refused",
    "term_expired",
    "request_naw",
    "release_naw",
    "close",
    "withdraw",
    "reminder",
    "naw_deleted",
    "new_link",
];

/// Everything one language file holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Content {
    pub lang: String,
    pub ui: Ui,
    pub kinds: KindNames,
    pub fraud_types: BTreeMap<String, String>,
    pub questionnaire: Vec<Question>,
    pub organisations: BTreeMap<String, Organisation>,
    pub guidance: BTreeMap<String, Guidance>,
    /// The victim's page of a PNBF recovery case.
    pub case: CaseTexts,
    pub disputes: DisputeTexts,
    pub privacy: PrivacyTexts,
    pub mules: MuleTexts,
    pub networks: NetworkTexts,
}

/// The texts of the console's network page (`/partner/netwerk`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkTexts {
    pub title: String,
    pub intro: String,
    pub link: String,
    pub value_label: String,
    pub depth_label: String,
    pub button: String,
    pub invalid: String,
    pub alone: String,
    pub truncated: String,
    pub graph_desc: String,
    pub kind: String,
    pub value: String,
    pub status: String,
    pub reports: String,
    pub depth: String,
    pub links_title: String,
    pub link_reports: String,
    pub last_seen: String,
    pub status_reported: String,
    pub status_not_reported: String,
    pub status_disputed: String,
}

/// The texts of the console's money-mule page (`/partner/geldezels`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuleTexts {
    pub title: String,
    pub intro: String,
    pub lookup_label: String,
    pub lookup_button: String,
    pub lookup_invalid: String,
    pub lookup_not_visible: String,
    pub account_title: String,
    pub score: String,
    pub mule_reports: String,
    pub reasons: String,
    pub no_reasons: String,
    pub alerts_title: String,
    pub none: String,
    pub older: String,
    pub raised: String,
    pub window: String,
    pub amount: String,
    pub accounts: String,
    pub centre: String,
    pub hidden_account: String,
    pub more_accounts: String,
    pub graph_desc: String,
    pub reason_pattern: String,
    pub reason_reports: String,
    pub bank: String,
    pub role: String,
    pub role_centre: String,
    pub role_member: String,
    /// The patterns' names, by key (`fan_in` …).
    pub patterns: BTreeMap<String, String>,
}

impl MuleTexts {
    /// The name of a pattern (its key when the file lacks it; the content test forbids that).
    pub fn pattern(&self, key: &str) -> String {
        self.patterns.get(key).cloned().unwrap_or_else(|| key.to_owned())
    }
}

/// The texts of the public privacy page (`/privacy`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyTexts {
    pub title: String,
    pub intro: String,
    pub listing_heading: String,
    pub listing_text: String,
    pub score_heading: String,
    pub score_text: String,
    pub recipients_heading: String,
    pub recipients_public: String,
    pub recipients_partners: String,
    pub recipients_banks: String,
    pub recipients_audit: String,
    pub terms_heading: String,
    pub terms_reports: String,
    pub terms_naw: String,
    pub terms_objections: String,
    pub rights_heading: String,
    pub rights_access: String,
    pub rights_correct: String,
    pub rights_complaint: String,
    pub objection_heading: String,
    pub objection_text: String,
    pub objection_link: String,
    pub footer_link: String,
}

/// The texts of disputes: the public objection form, the console's queues and the figures.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeTexts {
    pub form_title: String,
    pub form_intro: String,
    pub next_heading: String,
    pub next_read: String,
    pub next_open: String,
    pub next_decision: String,
    pub next_nothing_yet: String,
    pub kind_label: String,
    pub kind_detect: String,
    pub value_label: String,
    pub value_hint: String,
    pub reason_label: String,
    pub reason_hint: String,
    pub contact_label: String,
    pub contact_hint: String,
    pub submit: String,
    pub privacy_note: String,
    pub privacy_link: String,
    pub error_reason: String,
    pub error_contact: String,
    pub error_summary: String,
    pub thanks_title: String,
    pub thanks_reference: String,
    pub thanks_text: String,
    pub thanks_contact: String,
    pub thanks_no_contact: String,
    pub check_object_link: String,
    pub queue_title: String,
    pub queue_intro_decider: String,
    pub queue_intro_own: String,
    pub queue_none: String,
    pub filter_label: String,
    pub filter_all: String,
    pub filter_button: String,
    pub state_open: String,
    pub state_upheld: String,
    pub state_rejected: String,
    pub state_withdrawn: String,
    pub overdue: String,
    pub due_soon: String,
    pub col_value: String,
    pub col_kind: String,
    pub col_opened: String,
    pub col_due: String,
    pub col_state: String,
    pub col_opener: String,
    pub next_page: String,
    pub open_heading: String,
    pub open_intro: String,
    pub open_reason: String,
    pub open_submit: String,
    pub opened_notice: String,
    pub moved_notice: String,
    pub dispute_title: String,
    pub reason_heading: String,
    pub history_heading: String,
    pub event_opened: String,
    pub reports_heading: String,
    pub no_reports: String,
    pub record_link: String,
    pub fraud_type_label: String,
    pub move_heading: String,
    pub move_reason: String,
    pub move_uphold: String,
    pub move_reject: String,
    pub move_withdraw: String,
    pub no_moves: String,
    pub error_already_open: String,
    pub error_changed: String,
    pub error_not_allowed: String,
    pub error_not_permitted: String,
    pub error_holders_bank: String,
    pub error_forbidden: String,
    pub requests_title: String,
    pub requests_intro: String,
    pub requests_none: String,
    pub request_received: String,
    pub request_contact: String,
    pub request_no_contact: String,
    pub request_language: String,
    pub request_note: String,
    pub request_accept: String,
    pub request_decline: String,
    pub request_accepted: String,
    pub request_declined: String,
    pub request_already: String,
    pub clearance_title: String,
    pub clearance_intro: String,
    pub clearance_none: String,
    pub clearance_reports: String,
    pub clearance_keep: String,
    pub clearance_reactivate: String,
    pub clearance_done: String,
    pub figures_heading: String,
    pub fig_opened: String,
    pub fig_open: String,
    pub fig_overdue: String,
    pub fig_upheld: String,
    pub fig_rejected: String,
    pub fig_withdrawn: String,
    pub fig_late: String,
    pub fig_median: String,
    pub fig_none: String,
}

/// The texts of the victim's case page: what each state means and what happens next.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseTexts {
    pub title: String,
    pub intro: String,
    pub payment_heading: String,
    pub amount: String,
    pub paid_on: String,
    pub to_account: String,
    pub your_bank: String,
    pub their_bank: String,
    pub now_heading: String,
    pub next_heading: String,
    /// Before the date the payee's bank must answer.
    pub term_until: String,
    pub repaid_amount: String,
    pub history_heading: String,
    pub naw_heading: String,
    pub naw_note: String,
    pub naw_deleted: String,
    pub keep_link: String,
    /// Per state (`requested`, …, `closed`): what it means now, and what comes next.
    pub states: BTreeMap<String, StateText>,
    /// Per event (`open`, `refused`, …): a short name for the history.
    pub events: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateText {
    pub now: String,
    pub next: String,
}

/// Names of the indicator kinds, as a citizen would say them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindNames {
    pub iban: String,
    pub phone: String,
    pub url: String,
    pub domain: String,
    pub email: String,
    pub crypto: String,
    pub handle: String,
}

/// One yes/no question of the help questionnaire; `yes` means `fraud_type`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub hint: String,
    pub fraud_type: String,
}

/// An organisation that helps victims.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    pub what: String,
    pub phone: Option<String>,
    pub website: Option<String>,
}

/// The help for one fraud type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guidance {
    pub title: String,
    pub summary: String,
    pub steps: Vec<Step>,
}

/// One step, in the order to take them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    pub text: String,
    pub organisation: Option<String>,
    #[serde(default)]
    pub urgent: bool,
}

/// The texts of the pages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ui {
    pub partner_cases_title: String,
    pub partner_cases_intro: String,
    pub partner_cases_outbox: String,
    pub partner_cases_inbox: String,
    pub partner_cases_none: String,
    pub partner_case_open_title: String,
    pub partner_case_open_button: String,
    pub partner_case_title: String,
    pub partner_case_moves: String,
    pub partner_case_dossier: String,
    pub partner_case_new_link: String,
    pub partner_case_link_once: String,
    pub partner_case_waiting: String,
    pub partner_case_overdue: String,
    pub partner_figures_title: String,
    pub partner_triage_title: String,
    pub partner_triage_intro: String,
    pub partner_triage_none: String,
    pub partner_triage_received: String,
    pub partner_triage_occurred: String,
    pub partner_triage_fraud_type: String,
    pub partner_triage_amount: String,
    pub partner_triage_identifiers: String,
    pub partner_triage_text: String,
    pub partner_triage_no_text: String,
    pub partner_triage_aangifte: String,
    pub partner_triage_note: String,
    pub partner_triage_verify: String,
    pub partner_triage_reject: String,
    pub partner_triage_verified: String,
    pub partner_triage_rejected: String,
    pub partner_triage_already: String,
    pub partner_triage_next: String,
    pub partner_triage_reference: String,
    pub partner_unverified_citizen: String,
    pub case_naw_name: String,
    pub case_naw_address: String,
    pub case_naw_town: String,
    pub site_name: String,
    pub tagline: String,
    pub skip_link: String,
    pub nav_home: String,
    pub nav_check: String,
    pub nav_report: String,
    pub nav_help: String,
    pub nav_partner: String,
    pub other_language: String,
    pub other_language_code: String,
    pub emergency: String,
    pub footer: String,
    pub not_your_fault: String,
    pub yes: String,
    pub no: String,
    pub back: String,
    pub error_summary: String,
    pub optional: String,
    pub page_not_found_title: String,
    pub page_not_found_text: String,
    pub too_many_title: String,
    pub too_many_text: String,
    pub server_error_title: String,
    pub server_error_text: String,
    pub home_title: String,
    pub home_intro: String,
    pub home_check_title: String,
    pub home_check_text: String,
    pub home_report_title: String,
    pub home_report_text: String,
    pub home_help_title: String,
    pub home_help_text: String,
    pub check_title: String,
    pub check_intro: String,
    pub check_label: String,
    pub check_hint: String,
    pub check_button: String,
    pub check_result_for: String,
    pub check_reported_title: String,
    pub check_reported_text: String,
    pub check_fraud_types: String,
    pub check_disputed_title: String,
    pub check_disputed_text: String,
    pub check_not_reported_title: String,
    pub check_not_reported_text: String,
    /// `{domain}` is replaced by the reported domain.
    pub check_answered_for_domain: String,
    pub check_invalid_title: String,
    pub check_advice_reported: String,
    pub check_what_now: String,
    pub check_report_it: String,
    pub check_exact_only: String,
    pub report_title: String,
    pub report_intro: String,
    pub report_privacy: String,
    pub report_fraud_type_label: String,
    pub report_fraud_type_choose: String,
    pub report_occurred_label: String,
    pub report_occurred_hint: String,
    pub report_amount_label: String,
    pub report_amount_hint: String,
    pub report_identifiers_legend: String,
    pub report_identifiers_hint: String,
    pub report_identifier_label: String,
    pub report_add_identifier: String,
    pub report_description_label: String,
    pub report_description_hint: String,
    pub report_aangifte_legend: String,
    pub report_age_label: String,
    pub report_age_hint: String,
    pub report_age_unknown: String,
    pub report_honeypot_label: String,
    pub report_submit: String,
    pub report_thanks_title: String,
    pub report_thanks_reference: String,
    pub report_thanks_keep: String,
    pub report_thanks_next: String,
    pub error_required: String,
    pub error_fraud_type: String,
    pub error_date: String,
    pub error_date_future: String,
    pub error_amount: String,
    pub error_no_identifiers: String,
    pub error_too_many_identifiers: String,
    pub error_description: String,
    pub error_form_expired: String,
    pub error_identifier: String,
    pub error_iban: String,
    pub error_phone: String,
    pub error_url: String,
    pub error_domain: String,
    pub error_email: String,
    pub error_crypto: String,
    pub error_handle: String,
    pub error_unknown: String,
    pub help_title: String,
    pub help_intro: String,
    pub help_start: String,
    pub help_question: String,
    pub help_of: String,
    pub help_none_fit: String,
    pub help_all_types: String,
    pub help_steps_intro: String,
    pub help_urgent: String,
    pub help_phone: String,
    pub help_website: String,
    pub help_print: String,
    pub help_print_title: String,
    pub help_other_types: String,
    pub help_support: String,
    pub partner_title: String,
    pub partner_intro: String,
    pub partner_login_title: String,
    pub partner_token_label: String,
    pub partner_token_hint: String,
    pub partner_login_button: String,
    pub partner_login_failed: String,
    pub partner_signed_in_as: String,
    pub partner_logout: String,
    pub partner_search_title: String,
    pub partner_search_label: String,
    pub partner_search_button: String,
    pub partner_record_title: String,
    pub partner_status: String,
    pub partner_score: String,
    pub partner_reports: String,
    pub partner_partners: String,
    pub partner_first_seen: String,
    pub partner_last_seen: String,
    pub partner_reasons: String,
    pub partner_visible_reports: String,
    pub partner_no_reports: String,
    pub partner_subject_export: String,
    pub partner_report_title: String,
    pub partner_tlp_label: String,
    pub partner_report_created: String,
    pub partner_audit_title: String,
    pub partner_audit_intro: String,
    pub partner_audit_when: String,
    pub partner_audit_action: String,
    pub partner_audit_subject: String,
}

/// The fewest steps a fraud type's help may have.
const MIN_STEPS: usize = 3;

impl Content {
    /// Parses one language file and checks that it is complete.
    pub fn parse(text: &str) -> Result<Content, String> {
        let content: Content = toml::from_str(text).map_err(|e| e.to_string())?;
        let problems = content.problems();
        if problems.is_empty() {
            Ok(content)
        } else {
            Err(problems.join("; "))
        }
    }

    /// Everything missing or inconsistent in this file.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if Lang::from_code(&self.lang).is_none() {
            problems.push(format!("unknown lang `{}`", self.lang));
        }
        for s in vangnet_core::pnbf::CaseState::ALL {
            if self
                .case
                .states
                .get(s.as_str())
                .is_none_or(|t| t.now.trim().is_empty() || t.next.trim().is_empty())
            {
                problems.push(format!("case.states.{} needs `now` and `next`", s.as_str()));
            }
        }
        for e in CASE_EVENTS {
            if self.case.events.get(*e).is_none_or(|t| t.trim().is_empty()) {
                problems.push(format!("case.events.{e} is missing"));
            }
        }
        for t in FraudType::ALL {
            let key = t.as_str();
            if self.fraud_types.get(key).is_none_or(|s| s.trim().is_empty()) {
                problems.push(format!("fraud_types.{key} is missing"));
            }
            match self.guidance.get(key) {
                None => problems.push(format!("guidance.{key} is missing")),
                Some(g) => {
                    if g.title.trim().is_empty() || g.summary.trim().is_empty() {
                        problems.push(format!("guidance.{key} needs a title and a summary"));
                    }
                    if g.steps.len() < MIN_STEPS {
                        problems.push(format!("guidance.{key} needs at least {MIN_STEPS} steps"));
                    }
                    if !g.steps.first().is_some_and(|s| s.urgent) {
                        problems.push(format!("guidance.{key}: the first step must be the most urgent (urgent = true)"));
                    }
                    let mut seen_later = false;
                    for (i, step) in g.steps.iter().enumerate() {
                        if step.title.trim().is_empty() || step.text.trim().is_empty() {
                            problems.push(format!("guidance.{key}.steps[{i}] needs a title and a text"));
                        }
                        if let Some(org) = &step.organisation
                            && !self.organisations.contains_key(org)
                        {
                            problems.push(format!("guidance.{key}.steps[{i}] names unknown organisation `{org}`"));
                        }
                        if step.urgent && seen_later {
                            problems.push(format!("guidance.{key}.steps[{i}]: urgent steps come first"));
                        }
                        seen_later |= !step.urgent;
                    }
                }
            }
        }
        for key in self.fraud_types.keys().chain(self.guidance.keys()) {
            if FraudType::from_key(key).is_none() {
                problems.push(format!("`{key}` is not a fraud type"));
            }
        }
        for (key, org) in &self.organisations {
            if org.name.trim().is_empty() || org.what.trim().is_empty() {
                problems.push(format!("organisations.{key} needs a name and a text"));
            }
            if org.website.as_deref().is_some_and(|w| !w.starts_with("https://")) {
                problems.push(format!("organisations.{key}.website must start with https://"));
            }
        }
        if self.questionnaire.is_empty() {
            problems.push("the questionnaire has no questions".to_owned());
        }
        for q in &self.questionnaire {
            if FraudType::from_key(&q.fraud_type).is_none() {
                problems.push(format!("question `{}` leads to unknown fraud type `{}`", q.id, q.fraud_type));
            }
            if q.text.trim().is_empty() {
                problems.push(format!("question `{}` has no text", q.id));
            }
        }
        problems
    }

    /// The label of a fraud type.
    pub fn fraud_type(&self, t: FraudType) -> &str {
        self.fraud_types.get(t.as_str()).map_or(t.as_str(), String::as_str)
    }

    /// The help for a fraud type (every type has one: checked at parse time).
    pub fn guidance(&self, t: FraudType) -> Option<&Guidance> {
        self.guidance.get(t.as_str())
    }

    /// The name of an indicator kind.
    pub fn kind(&self, kind: vangnet_core::IndicatorKind) -> &str {
        use vangnet_core::IndicatorKind as K;
        let k = &self.kinds;
        match kind {
            K::Iban => &k.iban,
            K::Phone => &k.phone,
            K::Url => &k.url,
            K::Domain => &k.domain,
            K::Email => &k.email,
            K::Crypto => &k.crypto,
            K::Handle => &k.handle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NL: &str = include_str!("../../../../content/nl.toml");
    const EN: &str = include_str!("../../../../content/en.toml");

    #[test]
    fn content_is_complete_in_both_languages() {
        for (name, text) in [("nl", NL), ("en", EN)] {
            let content = Content::parse(text).unwrap_or_else(|e| panic!("content/{name}.toml: {e}"));
            assert_eq!(content.lang, name);
            for t in FraudType::ALL {
                let g = content.guidance(*t).expect("checked");
                assert!(g.steps.len() >= MIN_STEPS, "{name}: {t:?}");
            }
        }
    }

    #[test]
    fn content_languages_agree() {
        let nl = Content::parse(NL).expect("valid");
        let en = Content::parse(EN).expect("valid");
        assert_eq!(
            nl.organisations.keys().collect::<Vec<_>>(),
            en.organisations.keys().collect::<Vec<_>>(),
            "the same organisations"
        );
        let questions = |c: &Content| {
            c.questionnaire
                .iter()
                .map(|q| (q.id.clone(), q.fraud_type.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(questions(&nl), questions(&en), "the same questions in the same order");
        for t in FraudType::ALL {
            let shape = |c: &Content| {
                c.guidance(*t)
                    .expect("checked")
                    .steps
                    .iter()
                    .map(|s| (s.organisation.clone(), s.urgent))
                    .collect::<Vec<_>>()
            };
            assert_eq!(shape(&nl), shape(&en), "{t:?}: the same steps in both languages");
        }
    }

    #[test]
    fn content_problems_are_found() {
        let broken = NL.replace("guidance.romance", "guidance.not_a_type");
        let err = Content::parse(&broken).expect_err("romance is missing");
        assert!(err.contains("guidance.romance is missing"), "{err}");
        assert!(err.contains("`not_a_type` is not a fraud type"), "{err}");
        let unknown_org = NL.replacen("organisation = \"politie\"", "organisation = \"nobody\"", 1);
        assert!(
            Content::parse(&unknown_org)
                .expect_err("unknown organisation")
                .contains("unknown organisation `nobody`")
        );
        let missing_text = NL.replacen("check_button = \"Controleren\"\n", "", 1);
        assert!(Content::parse(&missing_text).expect_err("missing key").contains("check_button"));
    }

    #[test]
    fn bank_helpdesk_starts_with_hanging_up() {
        let nl = Lang::Nl.content().guidance(FraudType::Bankhelpdesk).expect("present");
        assert_eq!(nl.steps[0].title, "Hang op en bel zelf uw bank");
        assert!(nl.steps[0].text.contains("bankpas"));
        let en = Lang::En.content().guidance(FraudType::Bankhelpdesk).expect("present");
        assert_eq!(en.steps[0].title, "Hang up and call your bank yourself");
    }
}
