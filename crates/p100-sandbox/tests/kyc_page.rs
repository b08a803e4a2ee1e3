//! The hosted KYC page (`kyc_redirect_to_verification`) with `kyc_outcome = manual`: the page
//! shows the status and a form; its posts approve or reject the attempt, which moves the KYC
//! status and sends the KYC webhook. (A real browser clicks the same form in
//! `tests/browser/kyc_page.mjs`, run by `.ci/run`.)

mod common;

use common::manual_sandbox;
use p100_api::types;
use p100_sandbox::{Config, KycOutcome, Sandbox};

async fn user_with_verification(sandbox: &Sandbox, user: &str) -> String {
    let client = sandbox.client();
    client
        .user_create()
        .body(types::UserCreateRequest::builder().external_user_id(user))
        .send()
        .await
        .expect("user");
    let created = client
        .kyc_create_verification()
        .body(common::kyc_request(user))
        .send()
        .await
        .expect("verification")
        .into_inner();
    created.verification_id.expect("a verification id")
}

async fn page(sandbox: &Sandbox, user: &str, verification: &str) -> String {
    let answer = reqwest::get(format!(
        "{}/v1/kyc/verification/{user}/{verification}",
        sandbox.base_url()
    ))
    .await
    .expect("page");
    assert_eq!(answer.status(), 200);
    answer.text().await.expect("html")
}

async fn decide(sandbox: &Sandbox, user: &str, verification: &str, form: &str) -> (u16, String) {
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/__sandbox/kyc/{user}/{verification}",
            sandbox.base_url()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .expect("post");
    (answer.status().as_u16(), answer.text().await.expect("html"))
}

fn kyc_webhooks(sandbox: &Sandbox, user: &str) -> Vec<String> {
    sandbox
        .deliveries()
        .into_iter()
        .filter(|d| d.kind == "kyc_verification_status")
        .filter_map(|d| d.body)
        .filter(|b| b.contains(user))
        .collect()
}

#[tokio::test]
async fn a_person_approves_on_the_page_and_the_status_and_webhook_follow() {
    let mut receiver = common::Receiver::start(0).await;
    let sandbox = manual_sandbox(
        Config::default()
            .with_kyc_outcome(KycOutcome::Manual)
            .with_default_webhook_url(format!("{}/hooks/{{kind}}", receiver.base_url)),
    )
    .await;
    let user = "kyc-page-approve";
    let verification = user_with_verification(&sandbox, user).await;
    // Manual: the provider never decides by itself.
    for _ in 0..5 {
        sandbox.advance(common::SETTLE * 2);
    }
    let status = sandbox
        .client()
        .kyc_get_status()
        .external_user_id(user)
        .send()
        .await
        .expect("status")
        .into_inner();
    assert_eq!(
        status.attempt_status,
        Some(types::KycAttemptStatus::Verification)
    );

    let html = page(&sandbox, user, &verification).await;
    assert!(html.contains(r#"id="approve""#), "{html}");
    assert!(html.contains(r#"id="reject""#), "{html}");
    assert!(html.contains(&format!(r#"action="/__sandbox/kyc/{user}/{verification}""#)));
    assert!(!html.contains("http"), "no external assets: {html}");
    let before = kyc_webhooks(&sandbox, user).len();

    let (code, html) = decide(&sandbox, user, &verification, "decision=approve").await;
    assert_eq!(code, 200, "{html}");
    assert!(
        html.contains(r#"<strong id="verification-status">VERIFIED</strong>"#),
        "{html}"
    );
    assert!(!html.contains(r#"id="approve""#), "decided: no form");

    let status = sandbox
        .client()
        .kyc_get_status()
        .external_user_id(user)
        .send()
        .await
        .expect("status")
        .into_inner();
    assert_eq!(
        status.verification_status,
        Some(types::KycVerificationStatus::Verified)
    );
    let webhooks = kyc_webhooks(&sandbox, user);
    assert_eq!(webhooks.len(), before + 1);
    assert!(webhooks[before].contains("SUCCESSFUL"), "{webhooks:?}");
    // Delivered at once (the sandbox's clock does not move in this test).
    loop {
        let hit = receiver.next().await;
        if hit.path.ends_with("/kyc_verification_status")
            && hit.body["attemptStatus"] == "SUCCESSFUL"
        {
            break;
        }
    }
    // The approval activates the fiat balance, as the provider's would.
    assert!(sandbox
        .deliveries()
        .iter()
        .any(|d| d.kind == "user_balance_generation"
            && d.body.as_deref().is_some_and(|b| b.contains(user))));

    // A second click changes nothing and sends nothing.
    let (code, _) = decide(&sandbox, user, &verification, "decision=reject").await;
    assert_eq!(code, 200);
    assert_eq!(kyc_webhooks(&sandbox, user).len(), before + 1);
}

#[tokio::test]
async fn a_person_rejects_and_bad_posts_are_refused() {
    let sandbox = manual_sandbox(
        Config::default()
            .with_kyc_outcome(KycOutcome::Manual)
            .with_unsent_webhook_bodies(),
    )
    .await;
    let user = "kyc-page-reject";
    let verification = user_with_verification(&sandbox, user).await;
    let (code, _) = decide(&sandbox, user, &verification, "decision=maybe").await;
    assert_eq!(code, 400);
    let (code, _) = decide(&sandbox, user, "not-this-one", "decision=approve").await;
    assert_eq!(code, 404);
    let (code, html) = decide(&sandbox, user, &verification, "decision=reject").await;
    assert_eq!(code, 200);
    assert!(html.contains("REJECTED_BY_PROVIDER"), "{html}");
    let webhooks = kyc_webhooks(&sandbox, user);
    assert!(
        webhooks
            .last()
            .is_some_and(|b| b.contains("REJECTED_BY_PROVIDER")),
        "{webhooks:?}"
    );
}
