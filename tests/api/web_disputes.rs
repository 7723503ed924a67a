//! Disputes on the web: the public objection form reached from the check's answer (CSRF,
//! honeypot, validation, both languages), the objection queue where a reviewer turns it into a
//! dispute, the reviewers' queue and a dispute's page with its moves, and the review of a
//! cleared indicator that a new report named.

use vangnet_core::PartnerKind;

use crate::api_tests;
use crate::helpers::{TestApp, report_body};
use crate::web::{Browser, console_sign_in, hidden};

api_tests! {
    an_objection_from_the_check_becomes_a_dispute_only_through_a_reviewer,
    the_console_opens_decides_and_reviews_disputes,
    the_privacy_page_publishes_the_configured_criteria_and_terms,
    the_console_gives_the_police_the_subject_access_page,
}

async fn listed(app: &TestApp, value: &str) {
    app.report(&app.police, report_body("webshop", "green", &[value])).await;
    app.report(&app.other_bank, report_body("webshop", "green", &[value])).await;
}

async fn pending_objections(app: &TestApp) -> usize {
    app.store
        .dispute_requests(Some(vangnet_core::dispute::RequestState::Pending), None, 100)
        .await
        .expect("list")
        .len()
}

async fn an_objection_from_the_check_becomes_a_dispute_only_through_a_reviewer(app: &TestApp) {
    let value = "mijn-eigen-winkel.nl";
    listed(app, value).await;
    let mut person = Browser::new(app);
    let answer = person.get(&format!("/controleren?waarde={value}")).await;
    assert_eq!(answer.status, 200);
    let href = "/bezwaar?soort=domain&#38;waarde=mijn-eigen-winkel.nl";
    assert!(
        answer.body.contains(href),
        "the answer links to the objection form: {}",
        answer.body
    );
    let form = person.get("/bezwaar?soort=domain&waarde=mijn-eigen-winkel.nl").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("value=\"mijn-eigen-winkel.nl\""), "the value is filled in");
    assert!(form.body.contains("Binnen 14 dagen"), "it says how long it takes");
    let csrf = hidden(&form.body, "csrf");
    let forged = person
        .post(
            "/bezwaar",
            &[("csrf", "0000"), ("waarde", value), ("reden", "Mijn winkel levert echt.")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let cases: [(Vec<(&str, String)>, &str); 3] = [
        (vec![("waarde", "niet een waarde".into()), ("reden", "x".into())], "waarde-error"),
        (vec![("waarde", value.into()), ("reden", "   ".into())], "reden-error"),
        (
            vec![
                ("waarde", value.into()),
                ("reden", "Echt.".into()),
                ("contact", "geen contact".into()),
            ],
            "contact-error",
        ),
    ];
    for (fields, error_id) in cases {
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str()), ("soort", "")];
        form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        let refused = person.post("/bezwaar", &form).await;
        assert_eq!(refused.status, 422, "{error_id}");
        assert!(refused.body.contains(&format!("id=\"{error_id}\"")), "{error_id}: {}", refused.body);
    }
    let robot = person
        .post(
            "/bezwaar",
            &[("csrf", csrf.as_str()), ("waarde", value), ("reden", "spam"), ("website", "x")],
        )
        .await;
    assert_eq!(robot.status, 303, "robots are told it worked");
    assert_eq!(pending_objections(app).await, 0, "but nothing was stored");
    let sent = person
        .post(
            "/bezwaar",
            &[
                ("csrf", csrf.as_str()),
                ("soort", "domain"),
                ("waarde", value),
                ("reden", "Dit is mijn eigen webwinkel; alle bestellingen zijn geleverd."),
                ("contact", "Eigenaar@Mijn-Eigen-Winkel.nl"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let location = sent.location.clone().expect("redirect");
    assert!(location.starts_with("/bezwaar/ontvangen?kenmerk=BZ-"), "{location}");
    let thanks = person.get(&location).await;
    assert!(thanks.body.contains("id=\"reference\""));
    assert!(thanks.body.contains("Wij nemen contact met u op"));
    let english = person.get("/bezwaar?lang=en").await;
    assert!(english.body.contains("Object to a listing") && english.body.contains("Within 14 days"));
    assert_eq!(
        app.bank.check(value).await["status"],
        "reported",
        "an objection alone changes nothing"
    );
    assert_eq!(pending_objections(app).await, 1);

    // The helpdesk reviews it in the console and accepts it: now the value is disputed.
    let helpdesk = app.new_client("Fraudehelpdesk", PartnerKind::Helpdesk).await;
    let mut reviewer = console_sign_in(app, &helpdesk.token).await;
    let queue = reviewer.get("/partner/bezwaren/verzoeken").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("eigenaar@mijn-eigen-winkel.nl"), "the contact, normalised");
    assert!(queue.body.contains("alle bestellingen zijn geleverd"));
    let reference = location
        .split("kenmerk=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .expect("reference");
    let csrf = hidden(&queue.body, "csrf");
    let accepted = reviewer
        .post(
            &format!("/partner/bezwaren/verzoeken/{reference}"),
            &[("csrf", csrf.as_str()), ("besluit", "accept"), ("reden", "houder gebeld")],
        )
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert_eq!(app.bank.check(value).await["status"], "disputed");
    let again = reviewer
        .post(
            &format!("/partner/bezwaren/verzoeken/{reference}"),
            &[("csrf", csrf.as_str()), ("besluit", "decline"), ("reden", "toch niet")],
        )
        .await;
    assert_eq!(again.status, 409, "the first decision stands");
    let mut bank = console_sign_in(app, &app.bank.token).await;
    assert_eq!(
        bank.get("/partner/bezwaren/verzoeken").await.status,
        404,
        "banks do not review objections"
    );
}

async fn the_console_opens_decides_and_reviews_disputes(app: &TestApp) {
    let now = vangnet_core::Timestamp::now();
    app.store
        .pnbf_set_bank_code("ABNA", Some(app.bank.partner.seq), now)
        .await
        .expect("directory");
    let iban = "NL91ABNA0417164300";
    listed(app, iban).await;
    let mut bank = console_sign_in(app, &app.bank.token).await;
    let list = bank.get("/partner/bezwaren").await;
    assert_eq!(list.status, 200);
    let csrf = hidden(&list.body, "csrf");
    let refused = bank
        .post(
            "/partner/bezwaren",
            &[("csrf", csrf.as_str()), ("soort", "iban"), ("waarde", iban), ("reden", "")],
        )
        .await;
    assert_eq!(refused.status, 422);
    let opened = bank
        .post(
            "/partner/bezwaren",
            &[
                ("csrf", csrf.as_str()),
                ("soort", "iban"),
                ("waarde", iban),
                ("reden", "Klant heeft de fiets aantoonbaar geleverd."),
            ],
        )
        .await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    let page_path = opened.location.clone().expect("redirect");
    let id = page_path
        .trim_start_matches("/partner/bezwaren/")
        .split('?')
        .next()
        .expect("id")
        .to_owned();
    let own = bank.get(&page_path).await;
    assert!(own.body.contains("Het bezwaar is ingediend"));
    assert!(
        own.body.contains("value=\"withdrawn\"") && !own.body.contains("value=\"upheld\""),
        "the opener may only withdraw"
    );
    assert_eq!(app.other_bank.check(iban).await["status"], "disputed");
    let twice = bank
        .post(
            "/partner/bezwaren",
            &[("csrf", csrf.as_str()), ("soort", "iban"), ("waarde", iban), ("reden", "nog eens")],
        )
        .await;
    assert_eq!(twice.status, 409);
    assert!(twice.body.contains("Er loopt al een bezwaar"));

    let mut police = console_sign_in(app, &app.police.token).await;
    let queue = police.get("/partner/bezwaren").await;
    assert!(
        queue.body.contains(&format!("/partner/bezwaren/{id}")),
        "the police's queue lists it"
    );
    assert!(queue.body.contains("Cijfers over alle bezwaren"));
    let page = police.get(&format!("/partner/bezwaren/{id}")).await;
    assert!(page.body.contains("value=\"upheld\"") && page.body.contains("value=\"rejected\""));
    assert!(
        page.body.contains("Paid for a phone that never came."),
        "the reports the reviewer may see"
    );
    let csrf = hidden(&page.body, "csrf");
    let stale = police
        .post(
            &format!("/partner/bezwaren/{id}"),
            &[("csrf", csrf.as_str()), ("versie", "9"), ("uitkomst", "upheld"), ("reden", "x")],
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("intussen gewijzigd"));
    let decided = police
        .post(
            &format!("/partner/bezwaren/{id}"),
            &[
                ("csrf", csrf.as_str()),
                ("versie", "1"),
                ("uitkomst", "upheld"),
                ("reden", "Levering aangetoond."),
            ],
        )
        .await;
    assert_eq!(decided.status, 303);
    let after = police.get(&format!("/partner/bezwaren/{id}")).await;
    assert!(after.body.contains("data-state=\"upheld\"") && after.body.contains("Toegekend"));
    assert!(!after.body.contains("value=\"rejected\""), "no moves after the decision");
    assert_eq!(app.other_bank.check(iban).await["status"], "not_reported");
    let mut telecom = console_sign_in(app, &app.telecom().token).await;
    assert_eq!(telecom.get(&format!("/partner/bezwaren/{id}")).await.status, 404);

    // A new report about the cleared IBAN waits for a human on the review page.
    app.report(&app.other_bank, report_body("marketplace", "green", &[iban])).await;
    let reviews = police.get("/partner/bezwaren/herbeoordeling").await;
    assert!(reviews.body.contains(iban), "{}", reviews.body);
    let review = app.store.clearance_reviews(true, None, 10).await.expect("list")[0].seq;
    let closed = police
        .post(
            &format!("/partner/bezwaren/herbeoordeling/{review}"),
            &[("csrf", csrf.as_str()), ("uitkomst", "reactivated"), ("reden", "nieuw misbruik")],
        )
        .await;
    assert_eq!(closed.status, 303);
    assert_eq!(app.other_bank.check(iban).await["status"], "reported");
    assert_eq!(bank.get("/partner/bezwaren/herbeoordeling").await.status, 404);
}

async fn the_privacy_page_publishes_the_configured_criteria_and_terms(app: &TestApp) {
    let mut person = Browser::new(app);
    let nl = person.get("/privacy").await;
    assert_eq!(nl.status, 200);
    for text in [
        "minstens 2 meldingen",
        "voor 0,5 melding",
        "elke 180 dagen",
        "730 dagen",
        "binnen 14 dagen",
        "365 dagen na de beslissing",
        "inzage, AVG artikel 15",
        "Autoriteit Persoonsgegevens",
        "href=\"/bezwaar\"",
    ] {
        assert!(nl.body.contains(text), "{text}: {}", nl.body);
    }
    let en = person.get("/privacy?lang=en").await;
    for text in [
        "at least 2 reports",
        "as 0.5 of a report",
        "within 14 days",
        "180 days after they were released",
        "deleted 365 days after the decision",
        "access, GDPR article 15",
    ] {
        assert!(en.body.contains(text), "{text}");
    }
    let home = person.get("/").await;
    assert!(home.body.contains("href=\"/privacy\""), "every page links to it");
}

/// The console's subject-access page: linked from the record for the police (and the
/// operator), the printable page in words, audited; other kinds neither see the link nor reach
/// the page.
async fn the_console_gives_the_police_the_subject_access_page(app: &TestApp) {
    let value = "NL20INGB0001234567";
    listed(app, value).await;
    let mut police = console_sign_in(app, &app.police.token).await;
    let record = police.get(&format!("/partner/zoeken?waarde={value}")).await;
    assert_eq!(record.status, 200);
    let link = format!("/partner/inzage?soort=iban&#38;waarde={value}");
    assert!(record.body.contains(&link), "{}", record.body);
    let page = police.get(&format!("/partner/inzage?soort=iban&waarde={value}")).await;
    assert_eq!(page.status, 200);
    for words in [
        "Wat Vangnet bewaart over dit gegeven",
        "Paid for a phone that never came.",
        "overzicht bekeken",
    ] {
        assert!(page.body.contains(words), "{words}: {}", page.body);
    }
    let audit = app.store.audit_entries(0, 10_000).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "subject.export" && e.actor.starts_with(&app.police.partner.actor()))
    );
    let mut bank = console_sign_in(app, &app.bank.token).await;
    let record = bank.get(&format!("/partner/zoeken?waarde={value}")).await;
    assert!(!record.body.contains("/partner/inzage"), "no link for a bank");
    assert_eq!(bank.get(&format!("/partner/inzage?soort=iban&waarde={value}")).await.status, 404);
    let nonsense = police.get("/partner/inzage?soort=iban&waarde=nope").await;
    assert_eq!(nonsense.status, 404);
}
