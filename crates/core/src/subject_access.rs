//! Subject access (AVG article 15): what the audit log says about one indicator, sorted into
//! the parts of an export. The log names an indicator by its pseudonym and a report by its id,
//! so the entries about one indicator are those with its pseudonym or one of its reports' ids
//! as subject; this module says what each of them means for the person concerned.

use crate::index::IndicatorStatus;

/// Bounds of one export (documented in ARCHITECTURE.md, "Bounds").
pub const MAX_EXPORT_REPORTS: u32 = 10_000;
/// The most audit entries one export lists; more are counted as left out.
pub const MAX_EXPORT_ENTRIES: u32 = 20_000;

/// How a partner (or the public) came to see the indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    /// A check answered with a hit (counted per partner and time window).
    CheckHit,
    /// A partner read the indicator's record with its reports.
    RecordRead,
    /// A partner read one report naming it.
    ReportRead,
    /// A partner read a dispute about it.
    DisputeRead,
    /// A partner read its money-mule flags and score.
    MuleRead,
    /// A partner read a network it is part of.
    NetworkRead,
}

impl AccessKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            AccessKind::CheckHit => "check_hit",
            AccessKind::RecordRead => "record_read",
            AccessKind::ReportRead => "report_read",
            AccessKind::DisputeRead => "dispute_read",
            AccessKind::MuleRead => "mule_read",
            AccessKind::NetworkRead => "network_read",
        }
    }
}

/// What one audit entry about the indicator is, for the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryClass {
    /// Someone saw it.
    Access(AccessKind),
    /// Its review status changed.
    Status(IndicatorStatus),
    /// An earlier subject-access export.
    Export,
    /// Anything else (a report filed or retracted, a dispute moved): shown with the reports
    /// and disputes themselves.
    Other,
}

/// Sorts an audit entry by its action key and details (the JSON the log stores).
pub fn classify(action: &str, details: &str) -> EntryClass {
    match action {
        "check.hits" => EntryClass::Access(AccessKind::CheckHit),
        "indicator.read" => EntryClass::Access(AccessKind::RecordRead),
        "report.read" => EntryClass::Access(AccessKind::ReportRead),
        "dispute.read" => EntryClass::Access(AccessKind::DisputeRead),
        "mule.account.read" => EntryClass::Access(AccessKind::MuleRead),
        "network.read" => EntryClass::Access(AccessKind::NetworkRead),
        "subject.export" => EntryClass::Export,
        "indicator.status" => status_of(details).map_or(EntryClass::Other, EntryClass::Status),
        _ => EntryClass::Other,
    }
}

/// How many hits a `check.hits` entry counts (1 for any other entry).
pub fn hit_count(details: &str) -> u64 {
    field(details, "count").and_then(|v| v.parse().ok()).unwrap_or(1)
}

fn status_of(details: &str) -> Option<IndicatorStatus> {
    field(details, "status").and_then(|v| IndicatorStatus::from_key(v.trim_matches('"')))
}

/// The text of one top-level field of a flat JSON object, as the audit log writes them
/// (`{"count":3,"status":"cleared"}`): enough here, and no JSON parser in the core.
fn field<'a>(details: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!("\"{name}\":");
    let start = details.find(&needle)? + needle.len();
    let rest = &details[start..];
    let end = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').map(|i| i + 2)?
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_sorted_by_what_they_mean() {
        assert_eq!(
            classify("check.hits", r#"{"count":3,"first":"x","via":"check"}"#),
            EntryClass::Access(AccessKind::CheckHit)
        );
        assert_eq!(hit_count(r#"{"count":3,"first":"x","via":"check"}"#), 3);
        assert_eq!(hit_count("{}"), 1);
        assert_eq!(
            classify("indicator.status", r#"{"status":"cleared"}"#),
            EntryClass::Status(IndicatorStatus::Cleared)
        );
        assert_eq!(classify("indicator.status", r#"{"status":"nonsense"}"#), EntryClass::Other);
        assert_eq!(classify("subject.export", "{}"), EntryClass::Export);
        assert_eq!(classify("report.read", "{}"), EntryClass::Access(AccessKind::ReportRead));
        assert_eq!(classify("report.create", "{}"), EntryClass::Other);
        assert_eq!(field(r#"{"a":"b,c","count":12}"#, "count"), Some("12"));
        assert_eq!(field(r#"{"a":"b,c"}"#, "a"), Some("\"b,c\""));
        assert_eq!(field(r#"{"a":"#, "a"), Some(""));
        assert_eq!(field(r#"{"a":"unterminated"#, "a"), None);
    }
}
