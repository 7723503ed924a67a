//! Registry reads for people and systems that ask about a value: a partner's check (under its
//! TLP and partner kind) and the public check (a coarse answer for citizens). Both are answered
//! from the in-memory index without a database round trip; what they disclose is audited as a
//! keyed pseudonym, never the value, and counted in the metrics. The HTTP API, the console and
//! the citizen pages all check through here.

use vangnet_core::index::{CheckStatus, PublicView, RecordView};
use vangnet_core::indicator::Indicator;
use vangnet_store::Partner;

use crate::state::Services;

/// The public answer for one value, and the domain it was answered for when the value is a
/// web address that is not reported itself.
#[derive(Debug, Clone)]
pub struct PublicAnswer {
    pub view: PublicView,
    pub domain: Option<String>,
}

impl Services {
    /// Checks values for `partner`: each valid value with its view, in order; an invalid value
    /// (`Err`) is passed through and only counted. A value the partner learns something about
    /// (a hit, or unverified citizen reports) is audited as a `check` hit.
    pub async fn check_for_partner<E>(
        &self,
        partner: &Partner,
        values: Vec<Result<Indicator, E>>,
    ) -> Vec<Result<(Indicator, RecordView), E>> {
        let viewer = partner.viewer();
        let now = self.now();
        let policy = &self.settings.scoring;
        let views: Vec<Result<(Indicator, RecordView), E>> = {
            let index = self.index();
            values
                .into_iter()
                .map(|value| {
                    value.map(|indicator| {
                        let view = index.check(&indicator, &viewer, now, policy);
                        (indicator, view)
                    })
                })
                .collect()
        };
        let counters = &self.metrics.counters;
        for view in &views {
            let counter = match view.as_ref().map(|(_, v)| v.status) {
                Ok(CheckStatus::Reported) => &counters.checks_reported,
                Ok(CheckStatus::NotReported) => &counters.checks_not_reported,
                Ok(CheckStatus::Disputed) => &counters.checks_disputed,
                Err(_) => &counters.checks_invalid,
            };
            counter.inc();
        }
        // Unverified citizen reports are something the partner learns about the value too, so
        // their count is audited like a hit.
        let hits = views
            .iter()
            .filter_map(|v| v.as_ref().ok())
            .filter(|(_, view)| view.status != CheckStatus::NotReported || view.unverified_citizen_reports > 0);
        for (indicator, _) in hits {
            self.audit()
                .record_hit(
                    partner.actor(),
                    self.pseudonym(indicator.kind(), indicator.canonical()),
                    "check",
                    now,
                )
                .await;
        }
        views
    }

    /// The public answer for one value. A hit is audited (actor `public`, no address), like a
    /// partner's check hit: it discloses something about the indicator.
    pub async fn check_for_public(&self, indicator: &Indicator) -> PublicAnswer {
        let now = self.now();
        let (view, domain) = {
            let index = self.index();
            index.public_check(indicator, now, &self.settings.scoring, &self.settings.public.threshold)
        };
        let counters = &self.metrics.counters;
        let counter = match view.status {
            CheckStatus::Reported => &counters.public_checks_reported,
            CheckStatus::Disputed => &counters.public_checks_disputed,
            CheckStatus::NotReported => &counters.public_checks_not_reported,
        };
        counter.inc();
        if view.status != CheckStatus::NotReported {
            self.audit()
                .record_hit(
                    "public".to_owned(),
                    self.pseudonym(indicator.kind(), indicator.canonical()),
                    "public",
                    now,
                )
                .await;
        }
        PublicAnswer { view, domain }
    }

    /// Counts a public check of a value that did not parse.
    pub fn count_invalid_public_check(&self) {
        self.metrics.counters.public_checks_invalid.inc();
    }
}
