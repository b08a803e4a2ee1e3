//! Any bytes, read as every kind and by `detect`: never a panic; whatever parses has a dedupe
//! key and serializes back to something that parses to the same kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p100_ergonomic::webhooks::{self, verify_token, DedupeKey, WebhookKind};

fuzz_target!(|body: &[u8]| {
    for &kind in WebhookKind::ALL {
        if let Ok(event) = webhooks::parse(kind, body) {
            let _ = DedupeKey::for_delivery(&event, body);
            let again = serde_json::to_vec(&event).expect("a parsed event serializes");
            let reparsed = webhooks::parse(kind, &again).expect("a serialized event parses");
            assert_eq!(reparsed.kind(), kind);
        }
    }
    if let Ok(event) = webhooks::detect(body) {
        let _ = DedupeKey::for_delivery(&event, body);
    }
    let _ = DedupeKey::from_body(WebhookKind::SepaDeposit, body);
    let _ = verify_token("s3cret", Some(body));
});
