//! [`detect`]: the kind of a body that arrived at a URL shared by several kinds.
//!
//! P100 names no event in the body, so the kind is read from the body's shape, using the fields
//! the spec knows for each kind ([`WebhookKind::known_fields`]) and the documented status values.
//! Where shapes coincide (`{externalUserId, status}` with an undocumented status; Partner and User
//! SEPA Transfer, which have the same body) it answers [`WebhookError::Ambiguous`] with the
//! candidates rather than guess.

use serde_json::{Map, Value};

use super::{parse, WebhookError, WebhookEvent, WebhookKind};

/// Fields so generic that a kind may well carry them without the spec listing them (the Exchange
/// webhook, for one, has an amount and fees under names never seen). Their presence never rules a
/// kind out; every other known field points to the kinds that list it.
const GENERIC_FIELDS: &[&str] = &[
    "id",
    "status",
    "amount",
    "currency",
    "fee",
    "createdAt",
    "externalUserId",
];

/// Reads a body whose kind is not known from the URL, deciding the kind by its shape.
///
/// A kind is a candidate when the body has all its required fields, no field that only other
/// kinds have (`cryptoDepositId`, `exchangeId`, `transferTitle`, …; generic fields like `id`,
/// `amount` or `status` rule nothing out), and either one of the kind's own distinctive fields
/// or nothing but fields of the kind. A
/// documented `status` value narrows the candidates to the kinds that list it (`ACTIVE` is User
/// Balance Generation, `ADDED` is KYC File Added); then the kinds matching most of the body's
/// fields win, and each must parse.
///
/// Errors: [`WebhookError::Ambiguous`] (with the candidates) when several kinds remain,
/// [`WebhookError::Undetected`] when none fits (the kinds whose fields are unknown,
/// `create_wallet`, `sepa_deposit` and `card_transaction`, are never detected), and the errors of
/// [`parse`] for a body that is not a JSON object or does not parse as the one candidate.
///
/// Prefer one URL per kind and [`parse`]: it needs no guessing.
///
/// ```
/// use p100_ergonomic::webhooks::{detect, WebhookKind};
///
/// let event = detect(br#"{"externalUserId":"u-1","status":"ADDED"}"#)?;
/// assert_eq!(event.kind(), WebhookKind::KycFileAdded);
///
/// let err = detect(br#"{"externalUserId":"u-1","status":"NEW_STATUS"}"#).unwrap_err();
/// assert_eq!(
///     err.candidates(),
///     [WebhookKind::UserBalanceGeneration, WebhookKind::KycFileAdded, WebhookKind::PoaVerificationStatus]
/// );
/// # Ok::<(), p100_ergonomic::webhooks::WebhookError>(())
/// ```
pub fn detect(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let object: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(object) => object,
        Err(_) if body.trim_ascii().is_empty() => {
            return Err(WebhookError::EmptyBody { kind: None })
        }
        Err(source) => {
            return Err(WebhookError::InvalidBody {
                kind: None,
                path: None,
                source,
            })
        }
    };
    let candidates = candidates(&object);
    match candidates.as_slice() {
        [] => Err(WebhookError::Undetected {
            fields: object
                .keys()
                .take(20)
                .map(|k| k.chars().take(64).collect())
                .collect(),
        }),
        [kind] => parse(*kind, body),
        [first, ..] => {
            let mut parsed: Vec<WebhookEvent> = candidates
                .iter()
                .filter_map(|kind| parse(*kind, body).ok())
                .collect();
            match parsed.len() {
                0 => parse(*first, body),
                1 => Ok(parsed.remove(0)),
                _ => Err(WebhookError::Ambiguous {
                    candidates: parsed.iter().map(WebhookEvent::kind).collect(),
                }),
            }
        }
    }
}

/// The kinds the body's shape fits best, in catalog order.
fn candidates(object: &Map<String, Value>) -> Vec<WebhookKind> {
    let mut fits: Vec<(WebhookKind, usize)> = WebhookKind::ALL
        .iter()
        .filter_map(|&kind| {
            let own = kind.known_fields();
            let has_required = kind
                .required_fields()
                .iter()
                .all(|field| object.contains_key(*field));
            let foreign = object
                .keys()
                .any(|key| !own.contains(&key.as_str()) && is_distinctive(key));
            let matched = object
                .keys()
                .filter(|key| own.contains(&key.as_str()))
                .count();
            // Generic fields alone (`{"amount": …, "merchant": …}`) are no evidence, unless
            // they are the whole body (`{"status": "APPROVED"}`).
            let evidence = matched == object.len()
                || object
                    .keys()
                    .any(|key| own.contains(&key.as_str()) && is_distinctive(key));
            (has_required && !foreign && matched > 0 && evidence).then_some((kind, matched))
        })
        .collect();

    if let Some(Value::String(status)) = object.get("status") {
        if fits
            .iter()
            .any(|(kind, _)| kind.documents_status(status) == Some(true))
        {
            fits.retain(|(kind, _)| kind.documents_status(status) == Some(true));
        }
    }

    let best = fits.iter().map(|(_, matched)| *matched).max().unwrap_or(0);
    fits.into_iter()
        .filter(|(_, matched)| *matched == best)
        .map(|(kind, _)| kind)
        .collect()
}

/// Whether `field` is known for some kind and is not one of the generic fields.
fn is_distinctive(field: &str) -> bool {
    !GENERIC_FIELDS.contains(&field)
        && WebhookKind::ALL
            .iter()
            .any(|kind| kind.known_fields().contains(&field))
}
