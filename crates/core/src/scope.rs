//! What a token may be used for. A token carries scopes and a purpose; the partner's kind still
//! bounds them (a telecom provider's token never screens payments, whatever it says). A token
//! made before scopes existed holds every scope its kind may have.

use std::fmt;

use crate::partner::PartnerKind;

/// One thing a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Check indicators and read their records and reports.
    Check,
    /// File and retract reports; review citizen reports.
    Report,
    /// Screen payments.
    Screen,
    /// Call screening, the call lists and the on-call signal.
    Calls,
    /// PNBF recovery cases.
    Pnbf,
    /// Disputes, objections, clearance reviews and review statuses.
    Disputes,
    /// Subject-access exports.
    Export,
    /// Running the platform: metrics, the PNBF directory, call-list approvals.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::Check,
        Scope::Report,
        Scope::Screen,
        Scope::Calls,
        Scope::Pnbf,
        Scope::Disputes,
        Scope::Export,
        Scope::Admin,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Check => "check",
            Scope::Report => "report",
            Scope::Screen => "screen",
            Scope::Calls => "calls",
            Scope::Pnbf => "pnbf",
            Scope::Disputes => "disputes",
            Scope::Export => "export",
            Scope::Admin => "admin",
        }
    }

    pub fn from_key(key: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == key)
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u16);

impl Scopes {
    pub const NONE: Scopes = Scopes(0);

    pub fn of(scopes: &[Scope]) -> Scopes {
        Scopes(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    pub const fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub const fn intersect(self, other: Scopes) -> Scopes {
        Scopes(self.0 & other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Comma-separated keys, in [`Scope::ALL`] order: `check,report`.
    pub fn to_text(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
    }

    /// Scopes from comma-separated keys (spaces allowed); the unknown key on failure.
    pub fn parse(text: &str) -> Result<Scopes, String> {
        let mut scopes = Scopes::NONE;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let scope = Scope::from_key(part).ok_or_else(|| part.to_owned())?;
            scopes = Scopes(scopes.0 | scope.bit());
        }
        Ok(scopes)
    }

    /// The scopes a partner of `kind` may hold at all.
    pub fn of_kind(kind: PartnerKind) -> Scopes {
        use PartnerKind as K;
        let mut scopes = vec![Scope::Check];
        if kind.may_submit_reports() {
            scopes.push(Scope::Report);
        }
        if kind.holds_accounts() {
            scopes.extend([Scope::Screen, Scope::Pnbf]);
        }
        if matches!(kind, K::Telecom | K::Bank | K::Psp | K::Operator) {
            scopes.push(Scope::Calls);
        }
        if matches!(kind, K::Police | K::Helpdesk | K::Bank | K::Psp | K::VictimSupport | K::Operator) {
            scopes.push(Scope::Disputes);
        }
        if matches!(kind, K::Police | K::Operator) {
            scopes.push(Scope::Export);
        }
        if kind == K::Operator {
            scopes.extend([Scope::Admin, Scope::Pnbf]);
        }
        if kind == K::Citizen {
            return Scopes::NONE;
        }
        Scopes::of(&scopes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_print_and_intersect() {
        let s = Scopes::parse(" report, check ,").expect("valid");
        assert_eq!(s.to_text(), "check,report");
        assert!(s.contains(Scope::Check) && !s.contains(Scope::Screen));
        assert_eq!(Scopes::parse("check,everything"), Err("everything".to_owned()));
        assert!(Scopes::parse("").expect("valid").is_empty());
        let telecom = Scopes::of_kind(PartnerKind::Telecom);
        assert_eq!(Scopes::parse("check,screen").expect("valid").intersect(telecom).to_text(), "check");
        for s in Scope::ALL {
            assert_eq!(Scope::from_key(s.as_str()), Some(s));
        }
    }

    #[test]
    fn kinds_bound_the_scopes() {
        let text = |k| Scopes::of_kind(k).to_text();
        assert_eq!(text(PartnerKind::Bank), "check,report,screen,calls,pnbf,disputes");
        assert_eq!(text(PartnerKind::Telecom), "check,report,calls");
        assert_eq!(text(PartnerKind::Police), "check,report,disputes,export");
        assert_eq!(text(PartnerKind::Operator), "check,calls,pnbf,disputes,export,admin");
        assert_eq!(text(PartnerKind::Citizen), "");
    }
}
