//! The citizen side and the partner console through HTTP: the public check API and page, the
//! report form (CSRF, honeypot, validation, one person counted once), the console's session.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::api_tests;
use crate::helpers::{self, Db, TestApp, report_body, test_settings};
use vangnet_server::Rate;

api_tests! {
    public_check_is_coarse_and_needs_enough_reports,
    public_check_cannot_be_used_to_enumerate,
    citizen_report_form_validates_and_counts_a_person_once,
    citizen_reports_never_decide,
    citizen_reports_are_triaged_by_the_helpdesk_and_police,
    citizen_form_refuses_forgeries_and_robots,
    partner_console_signs_in_searches_and_signs_out,
    partner_console_works_pnbf_cases,
    pages_render_without_scripts_and_with_security_headers,
}

/// A browser without a cookie jar of its own: cookies are kept here, redirects not followed.
pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: HashMap<String, String>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    set_cookies: Vec<String>,
    pub(crate) body: String,
    headers: reqwest::header::HeaderMap,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: app.url(""),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn take(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for c in &set_cookies {
            if let Some((name, rest)) = c.split_once('=') {
                let value = rest.split(';').next().unwrap_or("").to_owned();
                if value.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value);
                }
            }
        }
        Page {
            status,
            location: headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_owned),
            set_cookies,
            body: response.text().await.expect("body"),
            headers,
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept", "text/html")
            .send()
            .await
            .expect("request");
        self.take(response).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(form).expect("form");
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("request");
        self.take(response).await
    }
}

/// The value of a hidden input in a page.
pub(crate) fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no hidden field {name}")) + marker.len();
    body[start..].split('"').next().unwrap_or("").to_owned()
}

async fn public(app: &TestApp, value: &str) -> (u16, Value) {
    let url = format!("{}?value={}", app.url("/api/public/check"), urlencode(value));
    helpers::decode(app.http.get(url).send().await.expect("request")).await
}

fn urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)]).expect("encodes")[2..].to_owned()
}

async fn public_check_is_coarse_and_needs_enough_reports(app: &TestApp) {
    let iban = "NL91ABNA0417164300";
    app.report(&app.bank, report_body("marketplace", "green", &[iban])).await;
    let (status, body) = public(app, "nl91 abna 0417 1643 00").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "not_reported", "one report is not enough: {body}");
    assert!(
        body["advice"].as_str().is_some_and(|a| a.contains("niet dat het veilig is")),
        "says honestly: {body}"
    );

    app.report(&app.police, report_body("marketplace", "clear", &[iban])).await;
    let (_, body) = public(app, "nl91 abna 0417 1643 00").await;
    assert_eq!(body["status"], "reported", "{body}");
    assert_eq!(body["value"], iban);
    assert_eq!(body["kind"], "iban");
    assert_eq!(body["fraud_types"], json!(["marketplace"]));
    let keys: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec!["advice", "fraud_types", "kind", "status", "value"],
        "nothing but the coarse answer"
    );

    let mut audited = Vec::new();
    for _ in 0..50 {
        audited = app.store.audit_entries_of("public", 10).await.expect("audit");
        if !audited.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        audited
            .iter()
            .any(|e| e.action == "check.hits" && e.subject.starts_with("indicator:") && !e.subject.contains(iban)),
        "a public hit is audited under a pseudonym: {audited:?}"
    );

    let phone = "+31612345678";
    for _ in 0..3 {
        app.report(&app.bank, report_body("bankhelpdesk", "amber", &[phone])).await;
    }
    app.report(&app.police, report_body("bankhelpdesk", "red", &[phone])).await;
    let (_, body) = public(app, "06-12345678").await;
    assert_eq!(body["status"], "not_reported", "AMBER and RED reports stay among partners: {body}");

    let path = format!("/api/v1/indicators/iban/{iban}/status");
    let (status, _) = app
        .police
        .put(&path, &json!({"status": "disputed", "reason": "holder objects"}))
        .await;
    assert_eq!(status, 200);
    let (_, body) = public(app, iban).await;
    assert_eq!(body["status"], "disputed", "{body}");
    app.police
        .put(&path, &json!({"status": "cleared", "reason": "wrongly listed"}))
        .await;
    let (_, body) = public(app, iban).await;
    assert_eq!(body["status"], "not_reported", "cleared shows as not reported: {body}");
    assert_eq!(body["fraud_types"], json!([]));
}

async fn public_check_cannot_be_used_to_enumerate(app: &TestApp) {
    let iban = "NL91ABNA0417164300";
    app.report(&app.bank, report_body("marketplace", "green", &[iban])).await;
    app.report(&app.police, report_body("marketplace", "green", &[iban])).await;
    assert_eq!(public(app, iban).await.1["status"], "reported");
    for partial in [
        "NL91ABNA",
        "NL91ABNA041716430",
        "NL91ABNA041716430*",
        "NL91ABNA%",
        "NL91ABNA04171643__",
        "*",
        ".*",
    ] {
        let (status, body) = public(app, partial).await;
        assert_eq!(status, 200);
        assert_ne!(body["status"], "reported", "`{partial}` must not match: {body}");
    }
    let (status, body) = helpers::decode(app.http.get(app.url("/api/public/check")).send().await.expect("request")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_parameter");
    let (status, body) = helpers::decode(
        app.http
            .get(app.url("/api/public/check?value=x&kind=planet"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("kind")));
    let (_, body) = public(app, "NL91ABNA0417164301").await;
    assert_eq!(body["status"], "invalid");
    assert_eq!(body["kind"], "iban");
    assert_eq!(body["error"]["code"], "invalid_iban");
}

/// Fills in and sends the report form as `browser`; returns the response.
async fn send_report(browser: &mut Browser, identifiers: &[&str], extra: &[(&str, &str)]) -> Page {
    let form = browser.get("/melden").await;
    assert_eq!(form.status, 200);
    let csrf = hidden(&form.body, "csrf");
    let reference = hidden(&form.body, "reference");
    let mut fields: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("reference", &reference),
        ("fraud_type", "marketplace"),
        ("occurred", "2026-11-01"),
        ("amount", "249,95"),
        ("description", "Telefoon betaald, nooit gekregen."),
        ("aangifte", "ja"),
        ("age_band", "75+"),
        ("website", ""),
        ("action", "send"),
    ];
    fields.retain(|(name, _)| !extra.iter().any(|(n, _)| n == name));
    for id in identifiers {
        fields.push(("identifier", id));
    }
    fields.extend_from_slice(extra);
    browser.post("/melden", &fields).await
}

async fn citizen_report_form_validates_and_counts_a_person_once(app: &TestApp) {
    let iban = "NL20INGB0001234567";
    let mut citizen = Browser::new(app);
    let page = send_report(&mut citizen, &["NL20 INGB 0001 2345 68", "06-23456789"], &[]).await;
    assert_eq!(page.status, 422, "{}", &page.body[page.body.find("<main").unwrap_or(0)..]);
    assert!(page.body.contains("id=\"identifier-1-error\""), "the error is next to the field");
    assert!(page.body.contains("Dit is geen geldig rekeningnummer"), "in plain Dutch");
    assert!(page.body.contains("value=\"06-23456789\""), "what was typed is kept");

    let page = send_report(&mut citizen, &["NL20 INGB 0001 2345 67", "06-23456789"], &[]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let location = page.location.expect("redirect");
    assert!(location.starts_with("/melden/ontvangen?kenmerk=VN-"), "{location}");
    let thanks = citizen.get(&location).await;
    assert_eq!(thanks.status, 200);
    let reference = location
        .split("kenmerk=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .expect("reference");
    assert!(thanks.body.contains(reference));
    assert!(
        thanks.body.contains("Vraag uw bank naar de PNBF-procedure"),
        "next steps for marketplace fraud"
    );

    // Unverified, a citizen informs partners (a count of people) and decides nothing.
    let unverified = |v: &Value| {
        (
            v["status"].as_str().map(str::to_owned),
            v["reports"].as_u64(),
            v["unverified_citizen_reports"].as_u64(),
        )
    };
    let first = app.bank.check(iban).await;
    assert_eq!(unverified(&first), (Some("not_reported".into()), Some(0), Some(1)), "{first}");
    let again = send_report(&mut citizen, &[iban], &[]).await;
    assert_eq!(again.status, 303);
    assert_eq!(unverified(&app.bank.check(iban).await).2, Some(1), "the same person counts once");
    let mut neighbour = Browser::new(app);
    assert_eq!(send_report(&mut neighbour, &[iban], &[]).await.status, 303);
    assert_eq!(
        unverified(&app.bank.check(iban).await),
        (Some("not_reported".into()), Some(0), Some(2))
    );

    let mut third = Browser::new(app);
    assert_eq!(send_report(&mut third, &[iban], &[]).await.status, 303);
    assert_eq!(
        public(app, iban).await.1["status"],
        "not_reported",
        "citizens alone never make it reported"
    );
    // A partner report names it: the citizens are counted beside it (without weight)…
    app.report(&app.bank, report_body("marketplace", "green", &[iban])).await;
    let result = app.bank.check(iban).await;
    assert_eq!(
        (result["status"].as_str(), result["reports"].as_u64()),
        (Some("reported"), Some(4)),
        "{result}"
    );
    assert_eq!(result["reporting_partners"], 2, "the bank, and the citizens as one source");
    // …but the public check counts only verified citizens.
    assert_eq!(
        public(app, iban).await.1["status"],
        "not_reported",
        "one partner report and three unverified citizens do not reach the threshold"
    );
}

/// The probe: fifteen form posts from three addresses, each with a fresh cookie, made a payment
/// to that IBAN `block`; one made partner checks answer `reported` and calls from a number
/// `flag`. Here many more, from many people, change no decision at all.
async fn citizen_reports_never_decide(app: &TestApp) {
    let (alone_iban, control_iban) = ("NL28ABNA0412345601", "NL98ABNA0412345602");
    let (listed_iban, listed_control) = ("NL38RABO0398765401", "NL11RABO0398765402");
    let phone = "+31623456700";
    app.report(&app.police, report_body("marketplace", "amber", &[listed_iban, listed_control]))
        .await;
    let decide = |id: &str, payer: &str, payee: &str| json!({"id": id, "payer": {"iban": payer}, "payee": {"iban": payee}, "amount": {"value": "950.00", "currency": "EUR"}, "instant": true});
    let score = |d: &Value| (d["decision"].as_str().map(str::to_owned), d["score"].as_f64());
    let (status, before) = app
        .bank
        .post("/api/v1/payments/score", &decide("p-before", "NL19INGB0006543201", listed_iban))
        .await;
    assert_eq!(status, 200, "{before}");

    for person in 0..40 {
        let mut visitor = Browser::new(app);
        let values: &[&str] = if person % 2 == 0 {
            &[alone_iban, phone]
        } else {
            &[alone_iban, listed_iban, phone]
        };
        assert_eq!(send_report(&mut visitor, values, &[]).await.status, 303);
    }

    let check = app.bank.check(alone_iban).await;
    assert_eq!(
        (check["status"].as_str(), check["unverified_citizen_reports"].as_u64()),
        (Some("not_reported"), Some(40)),
        "{check}"
    );
    assert_eq!(public(app, alone_iban).await.1["status"], "not_reported");
    let (_, alone) = app
        .bank
        .post("/api/v1/payments/score", &decide("p-alone", "NL19INGB0006543201", alone_iban))
        .await;
    let (_, control) = app
        .bank
        .post("/api/v1/payments/score", &decide("p-control", "NL89INGB0006543202", control_iban))
        .await;
    assert_eq!(
        score(&alone),
        score(&control),
        "as for an account nobody reported: {alone} / {control}"
    );
    assert!(!alone.to_string().contains("payee_reported"), "{alone}");

    // Beside a partner's report, 20 citizens do not move the score either.
    let (_, after) = app
        .bank
        .post("/api/v1/payments/score", &decide("p-after", "NL24SNSB0923456701", listed_iban))
        .await;
    let (_, twin) = app
        .bank
        .post("/api/v1/payments/score", &decide("p-twin", "NL94SNSB0923456702", listed_control))
        .await;
    assert_eq!(score(&after), score(&twin), "{after} / {twin}");
    assert_eq!(
        score(&after).1,
        score(&before).1,
        "the same registry score before and after the citizens"
    );

    let (_, call) = app
        .telecom()
        .post(
            "/api/v1/calls/events",
            &json!({"call_id": "c-citizens", "event": "start", "caller": phone, "callee": "+31612345678", "ingress": "domestic"}),
        )
        .await;
    assert_eq!(call["decision"], "allow", "{call}");
}

/// The helpdesk's and police's queue: a verified citizen report counts like any report, a
/// rejected one nowhere; only they may review, once, and every read and decision is audited.
async fn citizen_reports_are_triaged_by_the_helpdesk_and_police(app: &TestApp) {
    let iban = "NL28ABNA0412345601";
    for _ in 0..3 {
        let mut visitor = Browser::new(app);
        assert_eq!(send_report(&mut visitor, &[iban], &[]).await.status, 303);
    }
    let helpdesk = app.new_client("Fraudehelpdesk", vangnet_core::PartnerKind::Helpdesk).await;
    let (status, queue) = helpdesk.get("/api/v1/citizen-reports?limit=2").await;
    assert_eq!(status, 200, "{queue}");
    let items = queue["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["description"], "Telefoon betaald, nooit gekregen.",
        "the submitter's own words"
    );
    assert_eq!(items[0]["citizen_review"], "unverified");
    let next = queue["next"].as_str().expect("a next page");
    let (_, rest) = helpdesk.get(&format!("/api/v1/citizen-reports?after={next}")).await;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert!(rest["next"].is_null());
    for (who, status) in [(&app.bank, 403), (&app.operator, 403)] {
        assert_eq!(who.get("/api/v1/citizen-reports").await.0, status);
    }

    let first = items[0]["id"].as_str().expect("id");
    let second = items[1]["id"].as_str().expect("id");
    let (status, reviewed) = helpdesk
        .post(
            &format!("/api/v1/citizen-reports/{first}/review"),
            &json!({"outcome": "verified", "note": "klopt met een aangifte"}),
        )
        .await;
    assert_eq!((status, reviewed["citizen_review"].as_str()), (200, Some("verified")), "{reviewed}");
    let (status, body) = app
        .police
        .post(&format!("/api/v1/citizen-reports/{first}/review"), &json!({"outcome": "rejected"}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("already_reviewed")));
    let (status, _) = app
        .bank
        .post(&format!("/api/v1/citizen-reports/{second}/review"), &json!({"outcome": "verified"}))
        .await;
    assert_eq!(status, 403, "a bank cannot verify citizens' reports");
    let (status, body) = app
        .police
        .post(&format!("/api/v1/citizen-reports/{second}/review"), &json!({"outcome": "maybe"}))
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("outcome")));
    let (status, _) = app
        .police
        .post(
            &format!("/api/v1/citizen-reports/{second}/review"),
            &json!({"outcome": "rejected", "note": "geen fraude"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .police
        .post(
            "/api/v1/citizen-reports/00000000-0000-7000-8000-00000000dead/review",
            &json!({"outcome": "verified"}),
        )
        .await;
    assert_eq!(status, 404);

    // Verified: counted with its weight; rejected: nowhere; the third still a count.
    let check = app.bank.check(iban).await;
    assert_eq!(
        (
            check["status"].as_str(),
            check["reports"].as_u64(),
            check["unverified_citizen_reports"].as_u64()
        ),
        (Some("reported"), Some(1), Some(1)),
        "{check}"
    );
    assert!(check["score"].as_f64().is_some_and(|s| s > 0.0), "{check}");
    let (_, queue) = helpdesk.get("/api/v1/citizen-reports").await;
    assert_eq!(
        queue["items"].as_array().map(Vec::len),
        Some(1),
        "only the undecided one is waiting"
    );
    let (_, verified) = helpdesk.get("/api/v1/citizen-reports?state=verified").await;
    assert_eq!(verified["items"][0]["review"]["note"], "klopt met een aangifte");

    let audit = app.store.audit_entries_of(&helpdesk.partner.actor(), 20).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "citizen_report.read" && e.details.contains(first)));
    assert_eq!(audit.iter().filter(|e| e.action == "citizen_report.review").count(), 1);

    // The same queue in the console, through its forms.
    let mut console = console_sign_in(app, &helpdesk.token).await;
    let page = console.get("/partner/burgermeldingen").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Burgermeldingen beoordelen"), "in Dutch");
    assert!(page.body.contains("Telefoon betaald, nooit gekregen."));
    let third = rest["items"][0]["id"].as_str().expect("id");
    assert!(page.body.contains(&format!("/partner/burgermeldingen/{third}")));
    let csrf = hidden(&page.body, "csrf");
    let forged = console
        .post(
            &format!("/partner/burgermeldingen/{third}"),
            &[("csrf", "forged"), ("outcome", "verified")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let done = console
        .post(
            &format!("/partner/burgermeldingen/{third}"),
            &[("csrf", &csrf), ("outcome", "verified"), ("note", "")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let after = console.get(done.location.as_deref().expect("redirect")).await;
    assert!(after.body.contains("De melding is bevestigd en telt nu mee."), "{}", after.body);
    assert!(after.body.contains("Er wachten geen burgermeldingen."));
    assert_eq!(app.bank.check(iban).await["reports"], 2);
    let mut bank_console = console_sign_in(app, &app.bank.token).await;
    assert_eq!(bank_console.get("/partner/burgermeldingen").await.status, 404, "not a bank's page");
}

async fn citizen_form_refuses_forgeries_and_robots(app: &TestApp) {
    let iban = "NL20INGB0001234567";
    let mut citizen = Browser::new(app);
    citizen.get("/melden").await;
    let forged = citizen
        .post(
            "/melden",
            &[
                ("csrf", "0000"),
                ("fraud_type", "marketplace"),
                ("occurred", "2026-11-01"),
                ("identifier", iban),
                ("aangifte", "nee"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let mut stranger = Browser::new(app);
    let no_cookie = stranger
        .post(
            "/melden",
            &[("fraud_type", "marketplace"), ("identifier", iban), ("aangifte", "nee")],
        )
        .await;
    assert_eq!(no_cookie.status, 403, "a post without the form's cookie is refused");

    let robot = send_report(&mut citizen, &[iban], &[("website", "http://spam.example")]).await;
    assert_eq!(robot.status, 303, "robots are told it worked");
    assert_eq!(app.bank.check(iban).await["status"], "not_reported", "but nothing was stored");

    let add = citizen.get("/melden").await;
    let csrf = hidden(&add.body, "csrf");
    let more = citizen
        .post(
            "/melden",
            &[("csrf", csrf.as_str()), ("identifier", "a"), ("identifier", "b"), ("action", "add")],
        )
        .await;
    assert_eq!(more.status, 200);
    assert!(more.body.contains("id=\"identifier-3\""), "a third box was added");
    assert!(!more.body.contains("class=\"error\""), "adding a box shows no errors yet");

    let huge = "x".repeat(70 * 1024);
    let too_big = citizen
        .post("/melden", &[("csrf", csrf.as_str()), ("description", huge.as_str())])
        .await;
    assert_eq!(too_big.status, 413);
}

async fn partner_console_signs_in_searches_and_signs_out(app: &TestApp) {
    let iban = "NL91ABNA0417164300";
    app.report(&app.police, report_body("marketplace", "amber", &[iban])).await;
    let mut browser = Browser::new(app);
    let login = browser.get("/partner").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("name=\"token\""));
    let csrf = hidden(&login.body, "csrf");

    let wrong = browser
        .post("/partner/inloggen", &[("csrf", csrf.as_str()), ("token", "vn_not_a_real_token")])
        .await;
    assert_eq!(wrong.status, 401);
    let no_csrf = browser.post("/partner/inloggen", &[("token", app.bank.token.as_str())]).await;
    assert_eq!(no_csrf.status, 403);

    let signed_in = browser
        .post("/partner/inloggen", &[("csrf", csrf.as_str()), ("token", app.bank.token.as_str())])
        .await;
    assert_eq!(signed_in.status, 303);
    let cookie = signed_in
        .set_cookies
        .iter()
        .find(|c| c.starts_with("vangnet_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/partner"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let session = browser.cookies.get("vangnet_session").cloned().expect("kept");

    let home = browser.get("/partner").await;
    assert!(home.body.contains("Bank A"), "signed in as the bank");
    let found = browser
        .get(&format!("/partner/zoeken?waarde={}", urlencode("NL91 ABNA 0417 1643 00")))
        .await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains(iban));
    assert!(
        found.body.contains("Politie (police)"),
        "the bank may see the police's AMBER report"
    );
    let csrf = hidden(&found.body, "csrf");
    let bad = browser
        .post(
            "/partner/melden",
            &[
                ("csrf", csrf.as_str()),
                ("fraud_type", "bankhelpdesk"),
                ("occurred", "2026-11-20"),
                ("identifiers", "06-23456789\nNL00 BANK 0000"),
                ("tlp", "green"),
                ("aangifte", "ja"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("id=\"report-error\"") && bad.body.contains("Gegeven 2"),
        "names the bad line"
    );
    let filed = browser
        .post(
            "/partner/melden",
            &[
                ("csrf", csrf.as_str()),
                ("fraud_type", "bankhelpdesk"),
                ("occurred", "2026-11-20"),
                ("identifiers", "06-23456789"),
                ("tlp", "green"),
                ("aangifte", "ja"),
            ],
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    assert!(filed.location.as_deref().is_some_and(|l| l.starts_with("/partner?gemeld=")));
    let checked = app.police.check("+31623456789").await;
    assert_eq!(checked["reports"], 1, "the console's report is in the registry: {checked}");
    let log = browser.get("/partner/logboek").await;
    assert!(log.body.contains("indicator.read"), "the read is in the organisation's audit log");

    // The probe: a sign-out without the CSRF field cleared the cookie but left the session
    // valid. Signing out now always ends it.
    let out = browser.post("/partner/uitloggen", &[("csrf", "nope")]).await;
    assert_eq!(out.status, 303);
    assert!(!browser.cookies.contains_key("vangnet_session"), "the cookie is cleared");
    browser.cookies.insert("vangnet_session".into(), session);
    let after = browser.get("/partner/zoeken?waarde=x").await;
    assert_eq!(
        (after.status, after.location.as_deref()),
        (303, Some("/partner")),
        "the old cookie no longer works, even after a sign-out without the form's token"
    );
    let mut again = console_sign_in(app, &app.bank.token).await;
    let home = again.get("/partner").await;
    let csrf = hidden(&home.body, "csrf");
    let session = again.cookies.get("vangnet_session").cloned().expect("kept");
    assert_eq!(again.post("/partner/uitloggen", &[("csrf", csrf.as_str())]).await.status, 303);
    again.cookies.insert("vangnet_session".into(), session);
    assert_eq!(again.get("/partner/logboek").await.status, 303, "and with it");
}

async fn pages_render_without_scripts_and_with_security_headers(app: &TestApp) {
    let mut browser = Browser::new(app);
    for path in [
        "/",
        "/controleren",
        "/controleren?waarde=06-12345678",
        "/melden",
        "/hulp",
        "/hulp/vraag/1",
        "/hulp/bankhelpdesk",
        "/hulp/bankhelpdesk/afdrukken",
        "/partner",
        "/?lang=en",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("<script"), "{path} has no script");
        let csp = page
            .headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(page.headers.get("x-frame-options").and_then(|v| v.to_str().ok()), Some("DENY"));
        assert!(page.body.contains("<html lang=\""), "{path} sets lang");
    }
    let english = browser.get("/hulp/bankhelpdesk").await;
    assert!(english.body.contains("<html lang=\"en\""), "the language choice is remembered");
    assert!(english.body.contains("Hang up and call your bank yourself"));
    let answer = browser.get("/hulp/antwoord?stap=1&antwoord=ja").await;
    assert_eq!(answer.location.as_deref(), Some("/hulp/bankhelpdesk"));
    let missing = browser.get("/hulp/nonsense").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("<html"), "browsers get a page, not JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_checks_are_rate_limited_per_client() {
    let db = Db::sqlite().await;
    let mut settings = test_settings();
    settings.services.public.check_rate = Rate {
        per_second: 0.01,
        burst: 3,
    };
    let app = TestApp::spawn_with(&db, settings).await;
    for _ in 0..3 {
        assert_eq!(public(&app, "06-12345678").await.0, 200);
    }
    let response = app
        .http
        .get(app.url("/api/public/check?value=06-12345678"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry_after >= 1);
    let (_, body) = helpers::decode(response).await;
    assert_eq!(body["error"]["code"], "rate_limited");
    let mut browser = Browser::new(&app);
    let page = browser.get("/controleren?waarde=06-12345678").await;
    assert_eq!(page.status, 429, "the page shares the API's bucket");
    assert!(page.headers.contains_key("retry-after"));
    assert_eq!(browser.get("/controleren").await.status, 200, "the empty form costs nothing");
    app.stop().await;
}

pub(crate) async fn console_sign_in(app: &TestApp, token: &str) -> Browser {
    let mut browser = Browser::new(app);
    let login = browser.get("/partner").await;
    let csrf = hidden(&login.body, "csrf");
    let signed_in = browser
        .post("/partner/inloggen", &[("csrf", csrf.as_str()), ("token", token)])
        .await;
    assert_eq!(signed_in.status, 303);
    browser
}

async fn partner_console_works_pnbf_cases(app: &TestApp) {
    let now = vangnet_core::Timestamp::now();
    app.store
        .pnbf_set_bank_code("INGB", Some(app.other_bank.partner.seq), now)
        .await
        .expect("directory");
    app.store
        .pnbf_set_bank_code("ABNA", Some(app.bank.partner.seq), now)
        .await
        .expect("directory");
    let mut victim_bank = console_sign_in(app, &app.bank.token).await;
    let mut payee_bank = console_sign_in(app, &app.other_bank.token).await;

    // The victim's bank opens a case with the form; a wrong IBAN is named, nothing is stored.
    let list = victim_bank.get("/partner/zaken").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("id=\"outbox\"") && list.body.contains("id=\"inbox\""));
    let csrf = hidden(&list.body, "csrf");
    let paid = now.plus_millis(-3 * 86_400_000).date_string();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("payer_iban", "NL02 ABNA 0123 4567 89"),
        ("payee_iban", "NL00INGB0001234567"),
        ("amount", "89,95"),
        ("paid_at", paid.as_str()),
        ("method", "transfer"),
        ("category", "message_or_phone"),
        ("aangifte", "2026-PL-99"),
    ];
    let wrong = victim_bank.post("/partner/zaken", &form).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("payee_iban:"), "the field is named");
    assert!(app.store.pnbf_cases(None).await.expect("list").is_empty());
    form[2] = ("payee_iban", "NL20INGB0001234567");
    let opened = victim_bank.post("/partner/zaken", &form).await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    assert!(opened.body.contains("id=\"victim-link\""), "the link is shown once");
    let link_start = opened.body.find("/zaak/").expect("link");
    let link = opened.body[link_start..link_start + 6 + 64].to_owned();
    let id = app.store.pnbf_cases(None).await.expect("list")[0].id.clone();
    let again = victim_bank.get(&format!("/partner/zaken/{id}")).await;
    assert!(!again.body.contains("id=\"victim-link\""), "and not again");

    // The payee's bank finds it in its inbox, waiting, and refuses; then releases the NAW.
    let inbox = payee_bank.get("/partner/zaken").await;
    assert!(inbox.body.contains(&id) && inbox.body.contains("class=\"waiting\""));
    let page = payee_bank.get(&format!("/partner/zaken/{id}")).await;
    let csrf = hidden(&page.body, "csrf");
    let forged = payee_bank
        .post(&format!("/partner/zaken/{id}"), &[("csrf", "nope"), ("event", "refused")])
        .await;
    assert_eq!(forged.status, 403);
    let refused = payee_bank
        .post(
            &format!("/partner/zaken/{id}"),
            &[("csrf", csrf.as_str()), ("event", "refused"), ("reason", "no answer from holder")],
        )
        .await;
    assert_eq!(refused.status, 303);
    let not_allowed = payee_bank
        .post(&format!("/partner/zaken/{id}"), &[("csrf", csrf.as_str()), ("event", "refused")])
        .await;
    assert_eq!(not_allowed.status, 409);
    let page = victim_bank.get(&format!("/partner/zaken/{id}")).await;
    let csrf_v = hidden(&page.body, "csrf");
    let asked = victim_bank
        .post(
            &format!("/partner/zaken/{id}"),
            &[("csrf", csrf_v.as_str()), ("event", "request_naw")],
        )
        .await;
    assert_eq!(asked.status, 303);
    let released = payee_bank
        .post(
            &format!("/partner/zaken/{id}"),
            &[
                ("csrf", csrf.as_str()),
                ("event", "release_naw"),
                ("naw_name", "T. Nepverkoper"),
                ("naw_address", "Stationsweg 8"),
                ("naw_town", "Assen"),
            ],
        )
        .await;
    assert_eq!(released.status, 303);
    let payee_view = payee_bank.get(&format!("/partner/zaken/{id}")).await;
    assert!(
        !payee_view.body.contains("Nepverkoper"),
        "the payee's bank does not see the NAW again"
    );
    let victim_view = victim_bank.get(&format!("/partner/zaken/{id}")).await;
    assert!(victim_view.body.contains("T. Nepverkoper") && victim_view.body.contains("id=\"case-state\">naw_released"));
    let dossier = victim_bank.get(&format!("/partner/zaken/{id}/dossier")).await;
    assert_eq!(dossier.status, 200);
    assert!(dossier.body.contains("T. Nepverkoper") && dossier.body.contains("2026-PL-99"));
    assert_eq!(payee_bank.get(&format!("/partner/zaken/{id}/dossier")).await.status, 404);

    // A third party sees nothing; the victim's page works without an account, in both languages.
    let mut police = console_sign_in(app, &app.police.token).await;
    assert_eq!(police.get(&format!("/partner/zaken/{id}")).await.status, 404);
    let mut citizen = Browser::new(app);
    let nl = citizen.get(&link).await;
    assert_eq!(nl.status, 200);
    assert!(nl.body.contains("€ 89,95") && nl.body.contains("T. Nepverkoper") && nl.body.contains("deurwaarder"));
    let en = citizen.get(&format!("{link}?lang=en")).await;
    assert!(en.body.contains("€89.95") && en.body.contains("bailiff"));

    // The customer lost the link: the bank makes a new one, the old one stops working.
    let renewed = victim_bank
        .post(&format!("/partner/zaken/{id}"), &[("csrf", csrf_v.as_str()), ("event", "new_link")])
        .await;
    assert_eq!(renewed.status, 200);
    let at = renewed.body.find("/zaak/").expect("a new link");
    let fresh = renewed.body[at..at + 6 + 64].to_owned();
    assert_ne!(fresh, link);
    assert_eq!(citizen.get(&link).await.status, 404);
    assert!(citizen.get(&format!("{fresh}?lang=nl")).await.body.contains("een nieuwe link"));

    // Figures, on the page and as CSV.
    let figures = victim_bank.get("/partner/zaken/cijfers").await;
    assert_eq!(figures.status, 200);
    assert!(figures.body.contains("<th scope=\"row\">total</th>"));
    let csv = victim_bank.get("/partner/zaken/cijfers.csv").await;
    assert!(csv.body.starts_with("bank,role,cases"));
    assert!(csv.body.lines().any(|l| l.starts_with("total,all,1,0,0,0,1,0,1,")), "{}", csv.body);
}
