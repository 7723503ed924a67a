//! Partners and API tokens.

use crate::support::{TestDb, t};
use vangnet_core::partner::PartnerKind;
use vangnet_core::token::ApiToken;
use vangnet_store::StoreError;

crate::storage_tests! {
    partners_and_tokens,
}

async fn partners_and_tokens(db: &TestDb) {
    let store = &db.store;
    let token = ApiToken::generate().expect("randomness");
    let (bank, info) = store
        .create_partner(
            "Bank A",
            PartnerKind::Bank,
            &token.digest(),
            "first",
            "cli",
            t("2026-11-01T00:00:00Z"),
        )
        .await
        .expect("created");
    assert_eq!(bank.kind, PartnerKind::Bank);
    assert_eq!(info.partner_id, bank.id);
    let again = store
        .create_partner(
            "Bank A",
            PartnerKind::Bank,
            &ApiToken::generate().expect("rng").digest(),
            "x",
            "cli",
            t("2026-11-01T00:00:00Z"),
        )
        .await;
    assert!(matches!(again, Err(StoreError::DuplicatePartner(name)) if name == "Bank A"));

    let authenticated = store.authenticate(&token.digest()).await.expect("query").expect("known");
    assert_eq!(
        authenticated.grant.token.as_deref(),
        Some(info.id.as_str()),
        "with the token it came with"
    );
    assert_eq!(
        (authenticated.grant.scopes, authenticated.grant.purpose.as_deref()),
        (None, None),
        "all of its kind's scopes"
    );
    assert_eq!(
        vangnet_store::Partner {
            grant: Default::default(),
            ..authenticated.clone()
        },
        bank.clone()
    );
    assert_eq!(store.partner(&bank.id).await.expect("query"), Some(bank.clone()));
    assert_eq!(store.partner("Bank A").await.expect("query"), Some(bank.clone()));
    assert_eq!(store.partner("nobody").await.expect("query"), None);

    let second = ApiToken::generate().expect("randomness");
    let second_info = store
        .add_token(&bank.id, &second.digest(), "rotation", "cli", t("2026-11-02T00:00:00Z"))
        .await
        .expect("added");
    assert!(
        store
            .revoke_token(&info.id, "cli", t("2026-11-03T00:00:00Z"))
            .await
            .expect("revoked")
    );
    assert!(
        !store.revoke_token(&info.id, "cli", t("2026-11-03T00:00:00Z")).await.expect("query"),
        "already revoked"
    );
    assert_eq!(
        store.authenticate(&token.digest()).await.expect("query"),
        None,
        "revoked tokens do not authenticate"
    );
    let by_second = store.authenticate(&second.digest()).await.expect("query").expect("known");
    assert_eq!(by_second.id, bank.id);
    assert!(by_second.grant.token.is_some() && by_second.grant.token != authenticated.grant.token);
    let tokens = store.tokens(&bank.id).await.expect("query");
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().any(|t| t.id == info.id && t.revoked_at.is_some()));
    assert!(tokens.iter().any(|t| t.id == second_info.id && t.revoked_at.is_none()));
    assert!(matches!(
        store
            .add_token("nobody", &second.digest(), "x", "cli", t("2026-11-02T00:00:00Z"))
            .await,
        Err(StoreError::UnknownPartner(_))
    ));
    assert_eq!(store.partners().await.expect("query"), vec![bank]);
}
