//! Partner organisations, their kinds, and what each kind may do and see.
//!
//! The kind of a partner decides its rights; the rules are here, in one place, so that every
//! adapter (HTTP, CLI, streams) applies the same ones.

use std::fmt;

use crate::report::Tlp;

/// The kinds of partner organisation (API.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartnerKind {
    Police,
    Helpdesk,
    Bank,
    Psp,
    Telecom,
    Marketplace,
    VictimSupport,
    Operator,
    /// Citizens reporting through the public web form. Not a partner organisation: no tokens,
    /// never a reader; its reports are filed under one platform-internal partner.
    Citizen,
}

impl PartnerKind {
    /// Every source kind, in a fixed order: the partner kinds, then citizens.
    pub const ALL: [PartnerKind; 9] = [
        PartnerKind::Police,
        PartnerKind::Helpdesk,
        PartnerKind::Bank,
        PartnerKind::Psp,
        PartnerKind::Telecom,
        PartnerKind::Marketplace,
        PartnerKind::VictimSupport,
        PartnerKind::Operator,
        PartnerKind::Citizen,
    ];

    /// The kinds a partner organisation can have (API.md).
    pub const PARTNER_KINDS: [PartnerKind; 8] = [
        PartnerKind::Police,
        PartnerKind::Helpdesk,
        PartnerKind::Bank,
        PartnerKind::Psp,
        PartnerKind::Telecom,
        PartnerKind::Marketplace,
        PartnerKind::VictimSupport,
        PartnerKind::Operator,
    ];

    /// The stable key used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerKind::Police => "police",
            PartnerKind::Helpdesk => "helpdesk",
            PartnerKind::Bank => "bank",
            PartnerKind::Psp => "psp",
            PartnerKind::Telecom => "telecom",
            PartnerKind::Marketplace => "marketplace",
            PartnerKind::VictimSupport => "victim_support",
            PartnerKind::Operator => "operator",
            PartnerKind::Citizen => "citizen",
        }
    }

    /// The kind for a stable key (any source kind, as stored).
    pub fn from_key(key: &str) -> Option<PartnerKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == key)
    }

    /// The partner kind for a key a person gave (`citizen` is not one).
    pub fn partner_kind_from_key(key: &str) -> Option<PartnerKind> {
        Self::PARTNER_KINDS.into_iter().find(|k| k.as_str() == key)
    }

    /// A small stable number for compact storage in the index.
    pub const fn code(self) -> u8 {
        match self {
            PartnerKind::Police => 1,
            PartnerKind::Helpdesk => 2,
            PartnerKind::Bank => 3,
            PartnerKind::Psp => 4,
            PartnerKind::Telecom => 5,
            PartnerKind::Marketplace => 6,
            PartnerKind::VictimSupport => 7,
            PartnerKind::Operator => 8,
            PartnerKind::Citizen => 9,
        }
    }

    /// The kind for its compact number.
    pub fn from_code(code: u8) -> Option<PartnerKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether this kind may file reports. Operators run the platform; they do not report.
    pub fn may_submit_reports(self) -> bool {
        !matches!(self, PartnerKind::Operator | PartnerKind::Citizen)
    }

    /// Banks and payment service providers: the partners that hold customers' accounts, and so
    /// screen payments and take part in PNBF cases.
    pub fn holds_accounts(self) -> bool {
        matches!(self, PartnerKind::Bank | PartnerKind::Psp)
    }

    /// Whether this kind may retract any report, not only its own (police review).
    pub fn may_retract_any_report(self) -> bool {
        self == PartnerKind::Police
    }

    /// Whether this kind reviews citizen reports (the triage queue): the fraud helpdesk and
    /// the police verify or reject what citizens reported through the web form.
    pub fn may_review_citizen_reports(self) -> bool {
        matches!(self, PartnerKind::Helpdesk | PartnerKind::Police)
    }

    /// Whether this kind may change an indicator's status (dispute, clear, reactivate).
    pub fn may_set_indicator_status(self) -> bool {
        matches!(self, PartnerKind::Police | PartnerKind::Operator)
    }

    /// Whether TLP:AMBER reports are shared with this kind (need to know: every kind but the
    /// platform operator).
    fn needs_to_know(self) -> bool {
        !matches!(self, PartnerKind::Operator | PartnerKind::Citizen)
    }
}

impl fmt::Display for PartnerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is reading: a partner organisation (by its number) and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub partner: u32,
    pub kind: PartnerKind,
}

impl Viewer {
    /// Whether this viewer may see a report with marking `tlp` filed by partner `owner`.
    ///
    /// TLP 2.0 as the platform applies it: CLEAR and GREEN for every partner; AMBER for every
    /// partner with a need to know (all kinds but `operator`); AMBER+STRICT for the reporting
    /// organisation and the police; RED for the reporting organisation only.
    pub fn may_see(&self, tlp: Tlp, owner: u32) -> bool {
        if owner == self.partner {
            return true;
        }
        match tlp {
            Tlp::Clear | Tlp::Green => true,
            Tlp::Amber => self.kind.needs_to_know(),
            Tlp::AmberStrict => self.kind == PartnerKind::Police,
            Tlp::Red => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_matrix() {
        let owner = 1;
        let cases = [
            (PartnerKind::Bank, [true, true, true, false, false]),
            (PartnerKind::Police, [true, true, true, true, false]),
            (PartnerKind::Operator, [true, true, false, false, false]),
            (PartnerKind::Marketplace, [true, true, true, false, false]),
        ];
        let tlps = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];
        for (kind, expected) in cases {
            let other = Viewer { partner: 2, kind };
            let own = Viewer { partner: owner, kind };
            for (tlp, want) in tlps.into_iter().zip(expected) {
                assert_eq!(other.may_see(tlp, owner), want, "{kind} reading {tlp:?}");
                assert!(own.may_see(tlp, owner), "{kind} reading its own {tlp:?}");
            }
        }
    }

    #[test]
    fn keys_round_trip() {
        for kind in PartnerKind::ALL {
            assert_eq!(PartnerKind::from_key(kind.as_str()), Some(kind));
            assert_eq!(PartnerKind::from_code(kind.code()), Some(kind));
        }
        assert!(!PartnerKind::Operator.may_submit_reports());
        assert_eq!(
            PartnerKind::partner_kind_from_key("citizen"),
            None,
            "citizens are not a partner kind"
        );
        assert_eq!(PartnerKind::partner_kind_from_key("bank"), Some(PartnerKind::Bank));
    }
}
