//! The database crashes mid-run (`pg_ctl stop -m immediate`) while two receivers take
//! deliveries, then starts again: no event was answered 200 without being recorded (its key and
//! its effect survive the crash), the retries complete after the restart, and the effect count
//! is exact. Alone in its binary because it stops the server every other test uses; needs
//! `DATABASE_URL`, `P100_PG_CTL` and `P100_PG_DATA` (`.ci/postgres.sh`).
#![cfg(all(feature = "postgres", feature = "axum"))]

mod pg_support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use p100_ergonomic::webhooks::WebhookReceiver;
use pg_support::*;
use tokio::sync::Notify;
use uuid::Uuid;

/// Starts the server again if the test ends (or panics) while it is down, so that the test
/// binaries after this one find it.
struct RestartOnDrop<'a> {
    server: &'a Server,
    down: bool,
}

impl Drop for RestartOnDrop<'_> {
    fn drop(&mut self) {
        if self.down {
            self.server.start();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_crash_mid_run_loses_nothing_and_doubles_nothing() {
    let test = "a_database_crash_mid_run_loses_nothing_and_doubles_nothing";
    let Some(url) = database_url(test) else {
        return;
    };
    let Some(server) = Server::from_env(test) else {
        return;
    };
    let (store, tables) = fresh_store(&url, "outage").await;
    let mut bases = Vec::new();
    for receiver in 0..2 {
        let store = if receiver == 0 {
            store.clone()
        } else {
            store_on(&url, &tables.keys)
        };
        let handler = Ledger {
            effects: tables.effects.clone(),
            receiver,
        };
        bases
            .push(serve(WebhookReceiver::transactional(TOKEN, store, handler).into_router()).await);
    }

    // 1 400 events, 600 of them delivered twice at once (to both receivers): 2 000 deliveries.
    let events: Vec<Uuid> = (0..1_400).map(|_| Uuid::new_v4()).collect();
    let deliveries: Vec<(usize, Uuid)> = events
        .iter()
        .enumerate()
        .flat_map(|(i, &id)| {
            let copies = if i < 600 { 2 } else { 1 };
            (0..copies).map(move |copy| (i + copy, id))
        })
        .collect();
    assert_eq!(deliveries.len(), 2_000);

    // The crash comes once 300 deliveries have been answered 200.
    let ok_so_far = Arc::new(AtomicUsize::new(0));
    let reached = Arc::new(Notify::new());
    let mut guard = RestartOnDrop {
        server: &server,
        down: false,
    };
    let http = http_client();
    let first_round = futures::stream::iter(deliveries.clone())
        .map(|(n, id)| {
            let (http, base) = (http.clone(), bases[n % bases.len()].clone());
            let (ok_so_far, reached) = (Arc::clone(&ok_so_far), Arc::clone(&reached));
            async move {
                let status = deliver(&http, &base, &deposit_body(id)).await;
                if status == 200 && ok_so_far.fetch_add(1, Ordering::SeqCst) + 1 == 300 {
                    reached.notify_one();
                }
                (id, status)
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>();
    let crash = async {
        reached.notified().await;
        let pg_ctl = Server::from_env(test).expect("checked above");
        tokio::task::spawn_blocking(move || pg_ctl.crash())
            .await
            .expect("pg_ctl stop");
    };
    let (answers, ()) = tokio::join!(first_round, crash);
    guard.down = true;

    let mut answered_200: HashMap<Uuid, usize> = HashMap::new();
    let mut failed: Vec<Uuid> = Vec::new();
    for &(id, status) in &answers {
        match status {
            200 => *answered_200.entry(id).or_default() += 1,
            500 => failed.push(id),
            other => panic!("event {id}: answered {other}, expected 200 or 500"),
        }
    }
    let ok_before_crash = answered_200.values().sum::<usize>();
    assert!(ok_before_crash >= 300, "{ok_before_crash}");
    assert!(
        !failed.is_empty(),
        "the crash came mid-run: some deliveries failed"
    );

    let pg_ctl = Server::from_env(test).expect("checked above");
    tokio::task::spawn_blocking(move || pg_ctl.start())
        .await
        .expect("pg_ctl start");
    guard.down = false;

    // Before any retry: every event answered 200 is recorded, with its one effect.
    let client = connect(&url).await;
    for id in answered_200.keys() {
        let key = deposit_key(*id);
        assert!(
            tables.has_key(&client, &key).await,
            "{id} answered 200 but not recorded"
        );
        assert_eq!(tables.effects_of(&client, &key).await, 1, "{id}");
    }
    let recorded_at_restart = tables.key_rows(&client).await;

    // P100 retries each failed delivery until it is answered 200 (here at once, round after
    // round; the first rounds may still meet connections the crash broke).
    let mut rounds = 0;
    let mut retried = 0;
    while !failed.is_empty() {
        rounds += 1;
        assert!(
            rounds <= 20,
            "{} deliveries still failing after 20 rounds",
            failed.len()
        );
        retried += failed.len();
        failed = futures::stream::iter(std::mem::take(&mut failed).into_iter().enumerate())
            .map(|(n, id)| {
                let (http, base) = (http.clone(), bases[n % bases.len()].clone());
                async move { (id, deliver(&http, &base, &deposit_body(id)).await) }
            })
            .buffer_unordered(32)
            .filter_map(|(id, status)| async move { (status != 200).then_some(id) })
            .collect()
            .await;
    }

    let effects = tables.effect_rows(&client).await;
    let distinct = tables.distinct_effects(&client).await;
    let keys = tables.key_rows(&client).await;
    eprintln!(
        "crash after {ok_before_crash} answers of 200 for {} events ({} deliveries failed); {recorded_at_restart} \
         keys at restart; {retried} retries in {rounds} rounds; then {effects} effect rows, \
         {distinct} distinct events, {keys} keys",
        answered_200.len(),
        answers.len() - ok_before_crash,
    );
    assert_eq!(effects, 1_400, "one effect per event");
    assert_eq!(distinct, 1_400);
    assert_eq!(keys, 1_400);
    tables.drop_all(&client).await;
}
