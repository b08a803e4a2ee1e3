//! Bounded history: settled money movements and deliveries beyond `Config::retention` are
//! forgotten (their ids answer as unknown), pending ones and the documented examples are kept,
//! and events without a webhook URL are recorded without their body unless asked to.

mod common;

use common::{api_error, assert_api_error, create_user, transfer_to, SETTLE};
use p100_api::types;
use p100_sandbox::{Config, DeliveryState, Retention, Sandbox};
use uuid::Uuid;

/// The documented example transfer (seeded at start).
const EXAMPLE_TRANSFER: &str = "7fb02323-969a-4936-94ea-86b8773ff1a2";

async fn sandbox(retention: Retention) -> Sandbox {
    // With the example records, to see that they are never forgotten.
    Sandbox::start_with(
        Config::default()
            .with_manual_clock()
            .with_settle_after(SETTLE)
            .with_retention(retention),
    )
    .await
    .expect("sandbox starts")
}

async fn send_transfer(client: &p100_api::Client) -> Uuid {
    transfer_to(client, "alice", "1.00", "eur")
        .await
        .expect("accepted")
        .into_inner()
        .transfer_id
}

async fn transfer_status(
    client: &p100_api::Client,
    id: impl ToString,
) -> Result<types::TransferStatus, p100_api::Error<types::Error>> {
    client
        .transfer_get()
        .transfer_id(id.to_string())
        .send()
        .await
        .map(|details| details.into_inner().status)
}

#[tokio::test]
async fn settled_movements_beyond_the_bound_answer_as_unknown_ids() {
    let sandbox = sandbox(Retention {
        settled_records: 2,
        ..Retention::default()
    })
    .await;
    let client = sandbox.client();
    create_user(&client, "alice").await;
    let mut settled = Vec::new();
    for _ in 0..3 {
        settled.push(send_transfer(&client).await);
    }
    sandbox.advance(SETTLE);
    let pending = send_transfer(&client).await;

    // The oldest settled transfer is forgotten (it answers like an id never seen), the two
    // newest are kept.
    let (status, unknown) = api_error(transfer_status(&client, Uuid::new_v4()).await);
    assert_api_error(
        transfer_status(&client, settled[0]).await,
        status,
        &unknown.error_code,
    );
    assert_eq!(status, 404);
    for id in &settled[1..] {
        assert_eq!(
            transfer_status(&client, id).await.expect("kept"),
            types::TransferStatus::Successful
        );
    }
    // Pending records do not count against the bound, nor do the documented examples.
    assert_eq!(
        transfer_status(&client, pending).await.expect("pending"),
        types::TransferStatus::Unknown("PENDING".into())
    );
    transfer_status(&client, EXAMPLE_TRANSFER)
        .await
        .expect("the documented example answers");
    // The money moved all the same.
    assert_eq!(
        sandbox.balance(&p100_sandbox::Holder::User("alice".into()), "eur"),
        Some("3.00".parse().expect("decimal"))
    );
}

#[tokio::test]
async fn deliveries_keep_the_newest_settled_ones_without_unsent_bodies() {
    let sandbox = sandbox(Retention {
        deliveries: 2,
        ..Retention::default()
    })
    .await;
    let client = sandbox.client();
    create_user(&client, "alice").await;
    let before = sandbox.deliveries().last().map_or(0, |d| d.id);
    for _ in 0..3 {
        send_transfer(&client).await;
    }
    sandbox.advance(SETTLE);

    let deliveries = sandbox.deliveries();
    let ids: Vec<u64> = deliveries.iter().map(|d| d.id).collect();
    assert_eq!(ids, [before + 2, before + 3]);
    for d in &deliveries {
        assert_eq!(
            (d.kind.as_str(), d.state),
            ("p2p_transfer", DeliveryState::NoUrl)
        );
        assert_eq!(d.body, None, "no URL: the body is not kept");
        assert!(d.json().is_null());
    }
}

#[tokio::test]
async fn unsent_bodies_are_kept_when_asked_to() {
    let sandbox = sandbox(Retention {
        unsent_webhook_bodies: true,
        ..Retention::default()
    })
    .await;
    let client = sandbox.client();
    create_user(&client, "alice").await;
    let id = send_transfer(&client).await;
    sandbox.advance(SETTLE);
    let deliveries = sandbox.deliveries();
    let last = deliveries.last().expect("a delivery");
    assert_eq!(last.kind, "p2p_transfer");
    assert_eq!(last.json()["id"], id.to_string());
}

#[test]
fn retention_is_read_from_configuration_files() {
    let config =
        Config::from_toml_str("[retention]\nsettled_records = 5\nunsent_webhook_bodies = true\n")
            .expect("valid");
    assert_eq!(
        config.retention,
        Retention {
            settled_records: 5,
            deliveries: Retention::default().deliveries,
            unsent_webhook_bodies: true,
        }
    );
    assert!(
        Config::from_toml_str("[retention]\nsettled = 5\n").is_err(),
        "typos are rejected"
    );
}
