//! Reading the index: what one viewer may know about an indicator (a partner under TLP, or
//! the public), the score and the reasons behind it.

use super::*;

/// When the public check says an indicator is `reported` (configurable; ARCHITECTURE.md).
///
/// Only reports marked TLP:CLEAR or TLP:GREEN count, and only while they count for the score
/// (not retracted, within retention). Every partner report counts 1; every distinct citizen
/// whose report a reviewer verified counts `citizen_weight` (unverified ones count nothing);
/// together they must reach `min_reports`, and at least one must be a partner report, so
/// citizens alone can never make an indicator `reported`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublicThreshold {
    pub min_reports: f64,
    pub citizen_weight: f64,
}

impl Default for PublicThreshold {
    fn default() -> Self {
        PublicThreshold {
            min_reports: 2.0,
            citizen_weight: 0.5,
        }
    }
}

/// What a citizen may learn about one indicator: a status and the kinds of fraud, nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicView {
    pub status: CheckStatus,
    /// The fraud types of the counted reports, most reported first (empty unless reported).
    pub fraud_types: Vec<FraudType>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordView {
    pub status: CheckStatus,
    pub indicator_status: IndicatorStatus,
    pub reports: u32,
    pub reporting_partners: u32,
    pub aangifte_reports: u32,
    /// Counted reports of partners (not citizens) that name this account as a money mule's.
    pub mule_reports: u32,
    pub fraud_types: [u32; FRAUD_TYPE_COUNT],
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// The decayed, weighted evidence sum `S` of the score formula.
    pub evidence: f64,
    pub score: f64,
    /// Damage per currency, largest first.
    pub damage: Vec<Money>,
    /// Visible reports per source kind (in [`PartnerKind::ALL`] order) and their weights.
    pub by_source: [(u32, f64); 9],
    /// The half-life used, for the reasons.
    pub half_life_days: f64,
    /// Distinct citizens whose unverified reports name this indicator and are not counted
    /// above (no partner report the reader may see names it yet).
    pub unverified_citizen_reports: u32,
    /// Of the counted citizen reports, those still unverified (counted, but without weight).
    pub unweighted_citizen_reports: u32,
    /// Set when a URL was not reported itself and the answer is its registrable domain's.
    pub answered_for_domain: Option<String>,
}

impl RecordView {
    fn empty(indicator_status: IndicatorStatus, policy: &ScoringPolicy) -> RecordView {
        RecordView {
            status: CheckStatus::NotReported,
            indicator_status,
            reports: 0,
            reporting_partners: 0,
            aangifte_reports: 0,
            mule_reports: 0,
            fraud_types: [0; FRAUD_TYPE_COUNT],
            first_seen: None,
            last_seen: None,
            evidence: 0.0,
            score: 0.0,
            damage: Vec::new(),
            by_source: [(0, 0.0); 9],
            half_life_days: policy.half_life_days,
            unverified_citizen_reports: 0,
            unweighted_citizen_reports: 0,
            answered_for_domain: None,
        }
    }

    /// The fraud types with at least one report, most reported first.
    pub fn fraud_type_counts(&self) -> Vec<(FraudType, u32)> {
        let mut out: Vec<(FraudType, u32)> = FraudType::ALL
            .iter()
            .filter_map(|t| {
                let n = self.fraud_types[t.index()];
                (n > 0).then_some((*t, n))
            })
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Plain-language reasons for the answer, naming the facts and the score's inputs.
    pub fn reasons(&self) -> Vec<String> {
        let mut unverified = Vec::new();
        if self.unverified_citizen_reports > 0 {
            let n = self.unverified_citizen_reports;
            unverified.push(format!(
                "{n} unverified citizen report{} (not counted: a citizen report counts once a partner report names this value or the helpdesk or police verify it)",
                plural(n)
            ));
        }
        if self.reports == 0 {
            return unverified;
        }
        let mut reasons = Vec::with_capacity(5);
        if let Some(domain) = &self.answered_for_domain {
            reasons.push(format!(
                "this address itself is not reported, but its domain {domain} is; what follows is about the domain"
            ));
        }
        let types = self.fraud_type_counts();
        let mut what = String::new();
        for (i, (t, n)) in types.iter().enumerate() {
            if i > 0 {
                what.push_str(if i + 1 == types.len() { " and " } else { ", " });
            }
            if i == 0 {
                what.push_str(&format!("{n} report{} of {}", plural(*n), t.label_en()));
            } else {
                what.push_str(&format!("{n} of {}", t.label_en()));
            }
        }
        let last = self.last_seen.map(Timestamp::date_string).unwrap_or_default();
        reasons.push(format!(
            "{what} by {} partner{}, last on {last}",
            self.reporting_partners,
            plural(self.reporting_partners)
        ));
        if self.aangifte_reports > 0 {
            reasons.push(format!(
                "{} of the reports {} backed by an aangifte (police report)",
                self.aangifte_reports,
                if self.aangifte_reports == 1 { "is" } else { "are" }
            ));
        }
        let mut sources = Vec::new();
        for (kind, (n, weight)) in PartnerKind::ALL.iter().zip(self.by_source.iter()) {
            if *n > 0 {
                sources.push(format!("{n} from {kind} (weight {weight:.2})"));
            }
        }
        reasons.push(format!(
            "score {:.2} = 1 - exp(-{:.2}); {:.2} is the sum of report weights ({}), each halved every {} days since the report",
            self.score,
            self.evidence,
            self.evidence,
            sources.join(", "),
            self.half_life_days
        ));
        if self.unweighted_citizen_reports > 0 {
            let n = self.unweighted_citizen_reports;
            reasons.push(format!(
                "{n} of the citizen reports {} unverified and carr{} no weight until the helpdesk or police verify {}",
                if n == 1 { "is" } else { "are" },
                if n == 1 { "ies" } else { "y" },
                if n == 1 { "it" } else { "them" }
            ));
        }
        reasons.extend(unverified);
        if self.status == CheckStatus::Disputed {
            reasons.push("the holder disputes this listing; it is under review, so act with care".to_owned());
        }
        reasons
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}
impl IndicatorIndex {
    /// The coarse public answer about one indicator (see [`PublicThreshold`]).
    pub fn public_view(&self, key: IndexKey, now: Timestamp, policy: &ScoringPolicy, threshold: &PublicThreshold) -> PublicView {
        let not_reported = PublicView {
            status: CheckStatus::NotReported,
            fraud_types: Vec::new(),
        };
        let Some(entry) = self.entries.get(&key) else {
            return not_reported;
        };
        if entry.status == IndicatorStatus::Cleared {
            return not_reported;
        }
        let now_minute = now.minutes();
        let mut partner_reports = 0u32;
        let mut citizens: Vec<u32> = Vec::new();
        let mut types = [0u32; FRAUD_TYPE_COUNT];
        let mut at = entry.head;
        while at != NONE {
            let c = &self.contributions[at as usize];
            at = c.next;
            let public = matches!(Tlp::from_index(usize::from(c.tlp)), Some(Tlp::Clear | Tlp::Green));
            let age_days = f64::from(now_minute.saturating_sub(c.occurred_minute)) / 1440.0;
            if c.flags & FLAG_RETRACTED != 0 || !public || !policy.retained(age_days) {
                continue;
            }
            if c.is_citizen() {
                if c.flags & FLAG_VERIFIED == 0 || citizens.contains(&c.partner) {
                    continue;
                }
                citizens.push(c.partner);
            } else {
                partner_reports += 1;
            }
            if let Some(slot) = types.get_mut(usize::from(c.fraud_type)) {
                *slot += 1;
            }
        }
        let weight = f64::from(partner_reports) + threshold.citizen_weight * citizens.len() as f64;
        if partner_reports == 0 || weight < threshold.min_reports {
            return not_reported;
        }
        let mut fraud_types: Vec<(FraudType, u32)> = FraudType::ALL
            .iter()
            .filter_map(|t| (types[t.index()] > 0).then_some((*t, types[t.index()])))
            .collect();
        fraud_types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        PublicView {
            status: if entry.status == IndicatorStatus::Disputed {
                CheckStatus::Disputed
            } else {
                CheckStatus::Reported
            },
            fraud_types: fraud_types.into_iter().map(|(t, _)| t).collect(),
        }
    }

    /// Walks the reports of an indicator that `viewer` may see and that still count at `now`.
    fn visible<'a>(
        &'a self,
        key: IndexKey,
        viewer: &'a Viewer,
        now: Timestamp,
        policy: &'a ScoringPolicy,
    ) -> impl Iterator<Item = &'a Contribution> + 'a {
        let mut at = self.entries.get(&key).map_or(NONE, |e| e.head);
        let now_minute = now.minutes();
        std::iter::from_fn(move || {
            while at != NONE {
                let c = &self.contributions[at as usize];
                at = c.next;
                let tlp = Tlp::from_index(usize::from(c.tlp)).unwrap_or(Tlp::Red);
                let age_days = f64::from(now_minute.saturating_sub(c.occurred_minute)) / 1440.0;
                if c.flags & (FLAG_RETRACTED | FLAG_REJECTED) == 0 && viewer.may_see(tlp, c.owner()) && policy.retained(age_days) {
                    return Some(c);
                }
            }
            None
        })
    }

    /// The record of one indicator as `viewer` may see it at `now`.
    pub fn view(&self, key: IndexKey, viewer: &Viewer, now: Timestamp, policy: &ScoringPolicy) -> RecordView {
        let Some(entry) = self.entries.get(&key) else {
            return RecordView::empty(IndicatorStatus::Active, policy);
        };
        let mut view = RecordView::empty(entry.status, policy);
        if entry.status == IndicatorStatus::Cleared {
            return view;
        }
        let now_minute = now.minutes();
        let mut partners: Vec<u32> = Vec::new();
        let mut submitters: Vec<u32> = Vec::new();
        let mut damage: Vec<(u8, u64)> = Vec::new();
        let (mut first, mut last) = (u32::MAX, 0u32);
        let (counted, unverified) = self.counted(key, viewer, now, policy);
        for (c, weighted) in counted {
            if c.is_citizen() {
                // One person counts once per indicator, however often they report it.
                if submitters.contains(&c.partner) {
                    continue;
                }
                submitters.push(c.partner);
                if !weighted {
                    view.unweighted_citizen_reports += 1;
                }
            }
            view.reports += 1;
            if let Some(slot) = view.fraud_types.get_mut(usize::from(c.fraud_type)) {
                *slot += 1;
            }
            if !partners.contains(&c.owner()) {
                partners.push(c.owner());
            }
            first = first.min(c.occurred_minute);
            last = last.max(c.occurred_minute);
            let aangifte = c.flags & FLAG_AANGIFTE != 0;
            if aangifte {
                view.aangifte_reports += 1;
            }
            if c.flags & FLAG_MULE != 0 && !c.is_citizen() {
                view.mule_reports += 1;
            }
            let source = PartnerKind::from_code(c.source).unwrap_or(PartnerKind::Operator);
            let weight = if weighted { policy.source_weight(source, aangifte) } else { 0.0 };
            let age_days = f64::from(now_minute.saturating_sub(c.occurred_minute)) / 1440.0;
            view.evidence += weight * policy.decay(age_days);
            if let Some(i) = PartnerKind::ALL.iter().position(|k| *k == source) {
                view.by_source[i].0 += 1;
                view.by_source[i].1 += weight;
            }
            if c.currency != 0 {
                match damage.iter_mut().find(|(cur, _)| *cur == c.currency) {
                    Some(d) => d.1 = d.1.saturating_add(c.amount_minor),
                    None => damage.push((c.currency, c.amount_minor)),
                }
            }
        }
        view.unverified_citizen_reports = unverified;
        if view.reports == 0 {
            if self.has_reports(entry) && entry.status == IndicatorStatus::Active && self.all_expired(entry, now, policy) {
                view.indicator_status = IndicatorStatus::Expired;
            }
            return view;
        }
        view.reporting_partners = partners.len() as u32;
        view.first_seen = Some(Timestamp::from_minutes(first));
        view.last_seen = Some(Timestamp::from_minutes(last));
        view.score = policy.score(view.evidence);
        view.status = if entry.status == IndicatorStatus::Disputed {
            CheckStatus::Disputed
        } else {
            CheckStatus::Reported
        };
        damage.sort_by_key(|d| std::cmp::Reverse(d.1));
        view.damage = damage
            .into_iter()
            .filter_map(|(cur, minor)| {
                let currency = *self.currencies.get(usize::from(cur) - 1)?;
                Some(Money::from_minor(i64::try_from(minor).unwrap_or(i64::MAX), currency))
            })
            .collect();
        view
    }

    fn has_reports(&self, entry: &Entry) -> bool {
        entry.head != NONE
    }

    fn all_expired(&self, entry: &Entry, now: Timestamp, policy: &ScoringPolicy) -> bool {
        let mut at = entry.head;
        let now_minute = now.minutes();
        let mut any = false;
        while at != NONE {
            let c = &self.contributions[at as usize];
            at = c.next;
            if c.flags & FLAG_RETRACTED != 0 {
                continue;
            }
            any = true;
            if policy.retained(f64::from(now_minute.saturating_sub(c.occurred_minute)) / 1440.0) {
                return false;
            }
        }
        any
    }

    /// What a check of `indicator` answers: its own record, or, for a URL that is not reported
    /// itself, its registrable domain's when that is (not on shared platforms).
    pub fn check(&self, indicator: &Indicator, viewer: &Viewer, now: Timestamp, policy: &ScoringPolicy) -> RecordView {
        let own = self.view(self.key_of(indicator), viewer, now, policy);
        if own.status != CheckStatus::NotReported {
            return own;
        }
        match indicator.checked_domain() {
            Some(domain) => {
                let mut by_domain = self.view(self.key_of(&Indicator::Domain(domain.clone())), viewer, now, policy);
                if by_domain.status == CheckStatus::NotReported {
                    return own;
                }
                by_domain.answered_for_domain = Some(domain.as_str().to_owned());
                by_domain
            }
            None => own,
        }
    }

    /// The public answer for `indicator`, with a URL answered for its domain as in
    /// [`IndicatorIndex::check`]; the domain is returned when it answered.
    pub fn public_check(
        &self,
        indicator: &Indicator,
        now: Timestamp,
        policy: &ScoringPolicy,
        threshold: &PublicThreshold,
    ) -> (PublicView, Option<String>) {
        let own = self.public_view(self.key_of(indicator), now, policy, threshold);
        if own.status != CheckStatus::NotReported {
            return (own, None);
        }
        if let Some(domain) = indicator.checked_domain() {
            let by_domain = self.public_view(self.key_of(&Indicator::Domain(domain.clone())), now, policy, threshold);
            if by_domain.status != CheckStatus::NotReported {
                return (by_domain, Some(domain.as_str().to_owned()));
            }
        }
        (own, None)
    }

    /// Police reports backed by an aangifte about an indicator that `viewer` may see under
    /// TLP, within the retention period: the PNBF eligibility condition for the victim's bank.
    /// Only reports the bank may read count, so opening cases tells it nothing about AMBER+STRICT
    /// or RED reports; the condition's sentence never shows the number either. Retracted reports
    /// and cleared indicators count nothing.
    pub fn police_aangifte_reports(&self, key: IndexKey, viewer: &Viewer, now: Timestamp, policy: &ScoringPolicy) -> u32 {
        if self.status(key) == IndicatorStatus::Cleared {
            return 0;
        }
        let police = PartnerKind::Police.code();
        self.visible(key, viewer, now, policy)
            .filter(|c| c.flags & FLAG_AANGIFTE != 0 && c.source == police)
            .count() as u32
    }

    /// The reports of an indicator that count for `viewer` at `now`, newest first, each with
    /// whether it carries weight in the score; and the number of distinct citizens whose
    /// unverified reports are left out. Unverified citizen reports count (without weight) only
    /// when a partner report the viewer may see names the indicator too.
    pub(super) fn counted<'a>(
        &'a self,
        key: IndexKey,
        viewer: &'a Viewer,
        now: Timestamp,
        policy: &'a ScoringPolicy,
    ) -> (Vec<(&'a Contribution, bool)>, u32) {
        let mut counted = Vec::new();
        let mut held_back: Vec<&Contribution> = Vec::new();
        let mut corroborated = false;
        for c in self.visible(key, viewer, now, policy) {
            if c.is_unverified_citizen() {
                held_back.push(c);
                continue;
            }
            corroborated |= !c.is_citizen();
            counted.push((c, true));
        }
        if held_back.is_empty() {
            return (counted, 0);
        }
        if corroborated {
            // After the weighted ones: a person counts once, and then with their weight.
            counted.extend(held_back.into_iter().map(|c| (c, false)));
            return (counted, 0);
        }
        let mut people: Vec<u32> = held_back
            .iter()
            .map(|c| c.partner)
            .filter(|p| !counted.iter().any(|(k, _)| k.is_citizen() && k.partner == *p))
            .collect();
        people.sort_unstable();
        people.dedup();
        (counted, people.len() as u32)
    }

    /// The sequence numbers of the reports that count for `viewer` about an indicator (as in
    /// [`IndicatorIndex::view`]), newest first. Unverified citizen reports without a partner
    /// report beside them are not among them: their text goes only to the triage queue.
    pub fn visible_reports(&self, key: IndexKey, viewer: &Viewer, now: Timestamp, policy: &ScoringPolicy) -> Vec<u32> {
        if self.status(key) == IndicatorStatus::Cleared {
            return Vec::new();
        }
        let mut reports: Vec<u32> = self
            .counted(key, viewer, now, policy)
            .0
            .into_iter()
            .map(|(c, _)| c.report)
            .collect();
        // Newest first, as the reader expects (report numbers grow).
        reports.sort_unstable_by(|a, b| b.cmp(a));
        reports
    }
}
