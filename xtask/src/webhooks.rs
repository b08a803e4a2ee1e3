//! What the spec's `x-webhooks` says about each webhook kind, as constants in the raw crate
//! (`p100_api::webhooks`): the body schema, the fields it names, the required ones and the
//! dedupe key. The ergonomic layer reads its per-kind tables from there, so a spec change reaches
//! them by regenerating instead of by a hand edit.

use anyhow::{bail, Context, Result};
use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

/// One webhook kind of `x-webhooks`.
struct Kind {
    name: String,
    schema: String,
    known: Vec<String>,
    required: Vec<String>,
    dedupe: Vec<String>,
}

fn strings(value: Option<&Value>, at: &str) -> Result<Vec<String>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .as_array()
        .with_context(|| format!("{at}: not a list"))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .with_context(|| format!("{at}: {v} is not a string"))
        })
        .collect()
}

fn kinds(doc: &Value) -> Result<Vec<Kind>> {
    let Some(webhooks) = doc.get("x-webhooks").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, item) in webhooks {
        let at = format!("x-webhooks/{name}");
        let post = item
            .get("post")
            .with_context(|| format!("{at}: no `post` operation"))?;
        let reference = post
            .pointer("/requestBody/content/application~1json/schema/$ref")
            .and_then(Value::as_str)
            .with_context(|| format!("{at}: the JSON body is not a $ref to a component schema"))?;
        let Some(schema) = reference.strip_prefix("#/components/schemas/") else {
            bail!("{at}: body $ref {reference} is not a component schema");
        };
        let body = doc
            .pointer(&format!("/components/schemas/{schema}"))
            .with_context(|| format!("{at}: schema {schema} does not exist"))?;
        let mut known: Vec<String> = body
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        known.sort();
        let required = strings(body.get("required"), &format!("{schema}/required"))?;
        let dedupe = strings(
            post.get("x-p100-dedupe-key"),
            &format!("{at}/x-p100-dedupe-key"),
        )?;
        for field in required.iter().chain(&dedupe) {
            if !known.contains(field) {
                bail!(
                    "{at}: {field:?} is required or in the dedupe key but not a field of {schema}"
                );
            }
        }
        out.push(Kind {
            name: name.clone(),
            schema: schema.to_owned(),
            known,
            required,
            dedupe,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The `webhooks` module appended to the generated client.
pub fn generate(doc: &Value) -> Result<TokenStream> {
    let kinds = kinds(doc)?;
    let entries = kinds.iter().map(|k| {
        let Kind {
            name,
            schema,
            known,
            required,
            dedupe,
        } = k;
        quote! {
            WebhookSpec {
                kind: #name,
                schema: #schema,
                known_fields: &[#(#known),*],
                required_fields: &[#(#required),*],
                dedupe_fields: &[#(#dedupe),*],
            }
        }
    });
    let count = kinds.len();
    Ok(quote! {
        /// What the spec's `x-webhooks` says about each webhook kind P100 sends.
        pub mod webhooks {
            /// One webhook kind as the spec describes it.
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub struct WebhookSpec {
                /// The catalog's name of the kind (`"crypto_deposit"`).
                pub kind: &'static str,
                /// The component schema of its body (a type in [`crate::types`]).
                pub schema: &'static str,
                /// The body fields the schema names, sorted.
                pub known_fields: &'static [&'static str],
                /// The fields the schema marks required.
                pub required_fields: &'static [&'static str],
                /// `x-p100-dedupe-key`: the fields that identify one event across P100's retries
                /// (empty: the whole body does).
                pub dedupe_fields: &'static [&'static str],
            }

            /// Every kind in the spec, sorted by name.
            pub const ALL: [WebhookSpec; #count] = [#(#entries),*];

            /// The kind named `kind` (`"crypto_deposit"`), if the spec has it.
            pub fn find(kind: &str) -> ::std::option::Option<&'static WebhookSpec> {
                ALL.iter().find(|spec| spec.kind == kind)
            }
        }
    })
}
