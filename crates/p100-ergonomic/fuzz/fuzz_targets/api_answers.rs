//! Any bytes, read as an API answer: as every success body type of the spec, as both decimal
//! types and as an error answer of several statuses. Never a panic; whatever parses survives a
//! round trip; decimals keep their value and digits. The function is the one the stable
//! property test `tests/api_answer_props.rs` runs in CI (which also checks that the list of
//! answer types is every 2xx body schema of the spec).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/api_answers_support/mod.rs"]
mod api_answers_support;

fuzz_target!(|body: &[u8]| {
    api_answers_support::exercise(body);
});
