//! The generated code is checked in; this snapshot makes every change to it show up in review as a
//! change to `tests/snapshots/`, and fails when the generated files change without the snapshot
//! being accepted (`cargo insta review`).

#[test]
fn generated_raw_client() {
    insta::assert_snapshot!(
        "generated_raw_client",
        include_str!("../crates/p100-api/src/generated.rs")
    );
}

#[test]
fn generated_httpmock_helpers() {
    insta::assert_snapshot!(
        "generated_httpmock_helpers",
        include_str!("../crates/p100-api-httpmock/src/generated.rs")
    );
}
