//! The API-surface snapshot (`tests/snapshots/api_surface.snap`) against the compiled crate.
//!
//! `cargo xtask codegen` writes the snapshot from the spec and the generated code (and `--check`
//! fails while it is stale); the xtask's own tests assert it with insta and check what the change
//! report makes of spec changes. These tests check that what it says agrees with what
//! `p100-api` actually compiled to (its catalog of operations, webhook kinds and status values),
//! and that it stays small enough to review.

use p100_api::catalog::{self, Effect, Knowledge};

const SNAPSHOT: &str = include_str!("snapshots/api_surface.snap");

/// The lines after insta's header.
fn lines() -> impl Iterator<Item = &'static str> {
    SNAPSHOT
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(_, body)| body)
        .expect("the snapshot has insta's header")
        .lines()
}

fn line(key: &str) -> Option<&'static str> {
    lines().find_map(|l| {
        let rest = l.strip_prefix(key)?;
        let rest = rest.strip_prefix('?').unwrap_or(rest);
        rest.strip_prefix(": ")
    })
}

fn effect(effect: Effect) -> &'static str {
    match effect {
        Effect::Read => "read",
        Effect::Lock => "lock",
        Effect::MovesMoney => "moves-money",
        Effect::ChangesState => "changes-state",
        _ => "other",
    }
}

#[test]
fn every_operation_is_listed_with_its_method_path_and_effect() {
    for op in catalog::OPERATIONS {
        let key = format!("op {}", op.operation_id);
        let value = line(&key).unwrap_or_else(|| panic!("no `{key}` line"));
        let head = format!("{} {}, effect {}", op.method, op.path, effect(op.effect));
        assert!(value.starts_with(&head), "{key}: {value} (catalog: {head})");
        assert_eq!(
            value.ends_with(", not generated"),
            !op.generated,
            "{key}: {value}"
        );
    }
    let listed = lines()
        .filter_map(|l| l.split(": ").next()?.strip_prefix("op "))
        .filter(|id| !id.contains(['.', ' ', '?']))
        .count();
    assert_eq!(listed, catalog::OPERATIONS.len());
}

#[test]
fn every_webhook_kind_is_listed_with_its_payload_and_dedupe_fields() {
    for kind in p100_api::webhooks::ALL {
        let key = format!("webhook {}", kind.kind);
        let expected = format!(
            "{}, dedupe [{}]",
            kind.schema,
            kind.dedupe_fields.join(", ")
        );
        assert_eq!(line(&key), Some(expected.as_str()), "{key}");
    }
    let listed = lines().filter(|l| l.starts_with("webhook ")).count();
    assert_eq!(listed, p100_api::webhooks::ALL.len());
}

#[test]
fn every_documented_status_of_an_open_enum_is_a_known_value() {
    let mut checked = 0;
    for set in catalog::STATUS_SETS {
        if line(&format!("type {}", set.schema)) != Some("open enum") {
            continue; // a plain string status (no value was ever documented)
        }
        let variants: Vec<&str> = lines()
            .filter(|l| l.starts_with(&format!("type {}::", set.schema)))
            .collect();
        for value in set.values {
            if value.knowledge == Knowledge::Documented {
                let quoted = format!("\"{}\"", value.value);
                assert!(
                    variants.iter().any(|l| l.contains(&quoted)),
                    "{}: {quoted} is documented but no variant reads it",
                    set.schema
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} documented values found");
}

#[test]
fn the_snapshot_is_under_five_percent_of_the_generated_code() {
    // The Rust code `cargo xtask codegen` writes; the first two files are those whose copies the
    // snapshot replaced as what a reviewer reads.
    let client = include_str!("../crates/p100-api/src/generated.rs").len()
        + include_str!("../crates/p100-api-httpmock/src/generated.rs").len();
    let generated = client
        + include_str!("../crates/p100-api/src/catalog.rs").len()
        + include_str!("../crates/p100-ergonomic/src/operations.rs").len();
    let snapshot = SNAPSHOT.len();
    let percent = |of: usize| 100.0 * snapshot as f64 / of as f64;
    assert!(
        snapshot * 20 < generated,
        "the surface snapshot is {snapshot} bytes: {:.1} % of the {generated} bytes of generated \
         code ({:.1} % of the raw client and its httpmock helpers)",
        percent(generated),
        percent(client)
    );
}
