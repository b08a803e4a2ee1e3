//! Byte mutations of valid bodies, shared by the property tests that fuzz on stable
//! (`webhook_props.rs`, `api_answer_props.rs`).
#![allow(dead_code)]

use proptest::prelude::*;

/// One change to a body's bytes.
#[derive(Debug, Clone)]
pub enum Mutation {
    Flip(usize, u8),
    Delete(usize),
    Insert(usize, u8),
    Truncate(usize),
    Duplicate(usize, usize),
}

/// Any [`Mutation`].
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, m)| Mutation::Flip(i, m)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1..40usize).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

/// Applies `mutation` to `body` (indices wrap around its length).
pub fn apply(body: &mut Vec<u8>, mutation: &Mutation) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match *mutation {
        Mutation::Flip(i, mask) if !body.is_empty() => {
            let i = at(i, body.len());
            body[i] ^= mask;
        }
        Mutation::Delete(i) if !body.is_empty() => {
            body.remove(at(i, body.len()));
        }
        Mutation::Insert(i, byte) => body.insert(at(i, body.len() + 1), byte),
        Mutation::Truncate(i) => body.truncate(at(i, body.len() + 1)),
        Mutation::Duplicate(i, n) if !body.is_empty() => {
            let start = at(i, body.len());
            let end = (start + n).min(body.len());
            let copy = body[start..end].to_vec();
            body.splice(end..end, copy);
        }
        _ => {}
    }
}
