//! Which token scope each API resource needs. The `Caller` extractor refuses a request whose
//! token lacks it with 403 `scope_missing`, naming the scope; the partner's kind still decides
//! what the resource then allows. One table for every route, so a new route cannot forget it.

use axum::http::Method;
use vangnet_core::scope::Scope;

/// The scope a request to `path` needs (`None`: none beyond a valid token).
pub fn required(method: &Method, path: &str) -> Option<Scope> {
    let rest = path.strip_prefix("/api/v1/");
    let Some(rest) = rest else {
        return (path == "/metrics").then_some(Scope::Admin);
    };
    let first = rest.split('/').next().unwrap_or("");
    Some(match first {
        "checks" => Scope::Check,
        // Reading a record is a check; its review status belongs to the disputes.
        "indicators" if rest.ends_with("/status") => Scope::Disputes,
        "indicators" | "networks" => Scope::Check,
        "reports" if method == Method::GET => Scope::Check,
        "reports" | "citizen-reports" => Scope::Report,
        "payments" | "transactions" => Scope::Screen,
        // Mule flags are read like a record: the partner's kind decides what it sees.
        "mules" => Scope::Check,
        "calls" | "protected-numbers" | "spoofing-exceptions" | "signals" => Scope::Calls,
        "pnbf" if rest.starts_with("pnbf/bank-codes") && method != Method::GET => Scope::Admin,
        "pnbf" => Scope::Pnbf,
        "disputes" | "dispute-requests" | "clearance-reviews" => Scope::Disputes,
        "subjects" => Scope::Export,
        _ => return None,
    })
}

/// The scope a console page needs: the same as the API resource it shows.
pub fn required_in_console(path: &str) -> Option<Scope> {
    let rest = path.strip_prefix("/partner")?;
    Some(match rest.trim_start_matches('/').split('/').next().unwrap_or("") {
        "inloggen" | "uitloggen" => return None,
        "bezwaren" => Scope::Disputes,
        "inzage" => Scope::Export,
        "zaken" => Scope::Pnbf,
        "burgermeldingen" | "melden" => Scope::Report,
        _ => Scope::Check,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_names_its_scope() {
        let cases = [
            (Method::POST, "/api/v1/checks", Some(Scope::Check)),
            (Method::GET, "/api/v1/indicators/iban/NL91ABNA0417164300", Some(Scope::Check)),
            (
                Method::PUT,
                "/api/v1/indicators/iban/NL91ABNA0417164300/status",
                Some(Scope::Disputes),
            ),
            (Method::POST, "/api/v1/reports", Some(Scope::Report)),
            (
                Method::GET,
                "/api/v1/reports/0190a1b2-0000-7000-8000-000000000001",
                Some(Scope::Check),
            ),
            (Method::POST, "/api/v1/payments/score", Some(Scope::Screen)),
            (Method::POST, "/api/v1/transactions", Some(Scope::Screen)),
            (Method::GET, "/api/v1/mules/alerts", Some(Scope::Check)),
            (Method::PUT, "/api/v1/protected-numbers", Some(Scope::Calls)),
            (Method::GET, "/api/v1/signals/on-call/ab", Some(Scope::Calls)),
            (Method::POST, "/api/v1/pnbf/cases", Some(Scope::Pnbf)),
            (Method::GET, "/api/v1/pnbf/bank-codes", Some(Scope::Pnbf)),
            (Method::PUT, "/api/v1/pnbf/bank-codes/ABNA", Some(Scope::Admin)),
            (Method::POST, "/api/v1/disputes", Some(Scope::Disputes)),
            (Method::GET, "/api/v1/clearance-reviews", Some(Scope::Disputes)),
            (Method::GET, "/api/v1/subjects/iban/NL91ABNA0417164300/export", Some(Scope::Export)),
            (Method::GET, "/metrics", Some(Scope::Admin)),
            (Method::GET, "/api/v1/nothing-here", None),
        ];
        for (method, path, scope) in cases {
            assert_eq!(required(&method, path), scope, "{method} {path}");
        }
        assert_eq!(required_in_console("/partner/bezwaren/verzoeken"), Some(Scope::Disputes));
        assert_eq!(required_in_console("/partner/zaken/cijfers"), Some(Scope::Pnbf));
        assert_eq!(required_in_console("/partner/inzage"), Some(Scope::Export));
        assert_eq!(required_in_console("/partner"), Some(Scope::Check));
        assert_eq!(required_in_console("/partner/uitloggen"), None);
    }
}
