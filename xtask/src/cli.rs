//! The `p100` command line's operation commands (`crates/p100-cli/src/generated.rs`): one clap
//! subcommand per tag of the spec, one command per generated operation in it
//! (`p100 users get-balances --external-user-id u1`), each flag a parameter of the raw builder
//! (read with `syn`: the setters and the exact type each takes, so clap parses and refuses
//! values as the client would) and `--json-body` for a request body; and the documented example
//! payload of each webhook schema, for `p100 webhooks trigger`.
//!
//! Command names: the operation id without its first word when that word names the tag
//! (`user_get_balances` in `users` is `get-balances`), else the whole id in kebab case.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context, Result};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::operations::{builders, doc_lines, snake, spec_operations};

/// Tags whose command the hand-written layer owns: `p100 exchange` is the lock-then-execute
/// flow, and takes the tag's operations as its subcommands (`p100 exchange get-rate …`), so
/// they are left out of `Operations` (their enum is still generated).
const FLOW_TAGS: [&str; 1] = ["exchange"];

struct Param {
    description: String,
    required: bool,
}

struct SpecOp {
    tag: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    effect: String,
    /// Rust setter name → the parameter.
    params: BTreeMap<String, Param>,
    body_required: bool,
    /// The request body's properties: (JSON name, JSON kind, description).
    body_fields: Vec<(String, &'static str, String)>,
}

/// How a body property is written in JSON (a `crate::api::JsonKind` of the CLI): `"String"`
/// (strings, enums), `"DecimalString"`, `"Number"` (`DecimalNumber`, integers) or `"Boolean"`; `None` for anything that is not a
/// scalar (it gets no flag; `--json-body` can still carry it).
fn json_kind(doc: &Value, property: &Value) -> Option<&'static str> {
    let reference = property
        .get("$ref")
        .or_else(|| property.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str);
    if let Some(reference) = reference {
        let name = reference.strip_prefix("#/components/schemas/")?;
        let schema = doc.pointer(&format!("/components/schemas/{name}"))?;
        // A money schema (`x-p100-decimal`) is written in its first JSON form: a plain one, or
        // the first member of a union of both (`DecimalStringOrNumber` is sent as a string).
        if schema.get("x-p100-decimal").and_then(Value::as_bool) == Some(true) {
            let form = schema
                .get("type")
                .or_else(|| schema.pointer("/anyOf/0/type"))
                .and_then(Value::as_str)?;
            return match form {
                "string" => Some("DecimalString"),
                "number" => Some("Number"),
                _ => None,
            };
        }
        return json_kind(doc, schema);
    }
    match property.get("type").and_then(Value::as_str)? {
        "string" if property.get("format").and_then(Value::as_str) != Some("binary") => {
            Some("String")
        }
        // Checked as a decimal here; the request's type refuses a fraction.
        "integer" | "number" => Some("Number"),
        "boolean" => Some("Boolean"),
        _ => None,
    }
}

fn body_fields(doc: &Value, op: &Value) -> Vec<(String, &'static str, String)> {
    let Some(name) = op
        .pointer("/requestBody/content/application~1json/schema/$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    else {
        return Vec::new();
    };
    doc.pointer(&format!("/components/schemas/{name}/properties"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(field, property)| {
            Some((
                field.clone(),
                json_kind(doc, property)?,
                text(property, "description"),
            ))
        })
        .collect()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn spec_ops(doc: &Value) -> Result<BTreeMap<String, SpecOp>> {
    let mut out = BTreeMap::new();
    for (path, method, op) in spec_operations(doc)? {
        let id = text(op, "operationId");
        let tag = op
            .pointer("/tags/0")
            .and_then(Value::as_str)
            .with_context(|| format!("{id} has no tag"))?
            .to_owned();
        let mut params = BTreeMap::new();
        for p in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            params.insert(
                snake(&text(p, "name")),
                Param {
                    description: text(p, "description"),
                    required: p.get("required").and_then(Value::as_bool) == Some(true)
                        || text(p, "in") == "path",
                },
            );
        }
        let body_required =
            op.pointer("/requestBody/required").and_then(Value::as_bool) == Some(true);
        out.insert(
            id,
            SpecOp {
                tag,
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(op, "summary"),
                description: text(op, "description"),
                effect: text(op, "x-p100-effect"),
                params,
                body_required,
                body_fields: body_fields(doc, op),
            },
        );
    }
    Ok(out)
}

fn kebab(snake: &str) -> String {
    snake.replace('_', "-")
}

fn camel(snake: &str) -> String {
    snake
        .split(['_', '-'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// `user_get_balances` in tag `users` → `get-balances`.
fn command_name(id: &str, tag: &str) -> String {
    match id.split_once('_') {
        Some((first, rest)) if tag.starts_with(first) => kebab(rest),
        _ => kebab(id),
    }
}

/// The `T` of a setter `fn x<V>(self, value: V) where V: TryInto<T>`.
fn setter_type(f: &syn::ImplItemFn) -> Option<syn::Type> {
    let where_clause = f.sig.generics.where_clause.as_ref()?;
    where_clause.predicates.iter().find_map(|p| {
        let syn::WherePredicate::Type(t) = p else {
            return None;
        };
        t.bounds.iter().find_map(|b| {
            let syn::TypeParamBound::Trait(tr) = b else {
                return None;
            };
            let seg = tr.path.segments.last()?;
            if seg.ident != "TryInto" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
                return None;
            };
            args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
        })
    })
}

/// The example payload of each webhook schema (`x-webhooks` → its body schema's `example`),
/// as compact JSON.
fn webhook_examples(doc: &Value) -> Result<BTreeMap<String, Option<String>>> {
    let mut out = BTreeMap::new();
    for (kind, item) in doc
        .get("x-webhooks")
        .and_then(Value::as_object)
        .context("no x-webhooks")?
    {
        let schema = item
            .pointer("/post/requestBody/content/application~1json/schema/$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .with_context(|| format!("webhook {kind}: no body schema"))?;
        let example = doc
            .pointer(&format!("/components/schemas/{schema}/example"))
            .map(serde_json::to_string)
            .transpose()?;
        out.insert(schema.to_owned(), example);
    }
    Ok(out)
}

/// The generated module's source.
pub fn generate(client: &syn::File, doc: &Value) -> Result<TokenStream> {
    let spec = spec_ops(doc)?;
    let tag_docs: BTreeMap<String, String> = doc
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| (text(t, "name"), text(t, "description")))
        .collect();
    let tag_order: Vec<String> = doc
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| text(t, "name"))
        .collect();

    // tag → (variant, run arm, struct)
    let mut by_tag: BTreeMap<String, Vec<(TokenStream, TokenStream, TokenStream)>> =
        BTreeMap::new();
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, setters, _answer) in builders(client)? {
        let id = snake(&name.to_string());
        let op = spec
            .get(&id)
            .with_context(|| format!("builder {name}: no operation {id} in the spec"))?;
        let command = command_name(&id, &op.tag);
        if !names
            .entry(op.tag.clone())
            .or_default()
            .insert(command.clone())
        {
            bail!("two operations of tag {} are both `{command}`", op.tag);
        }
        let variant = format_ident!("{}", camel(&command));
        let args_ty = format_ident!("{}{}Args", camel(&op.tag), camel(&command));
        let method = format_ident!("{}", id);

        let mut fields = Vec::new();
        let mut sets = Vec::new();
        for setter in &setters {
            let ident = &setter.sig.ident;
            let setter_name = ident.to_string();
            if setter_name == "body_map" {
                continue;
            }
            let ty = setter_type(setter)
                .with_context(|| format!("{id}.{setter_name}: no `TryInto<T>` bound"))?;
            if setter_name == "body" {
                let doc = "The request body as JSON (a `types` schema of the spec): a file, `-` \
                           for stdin, or the JSON itself. The body field flags set (or \
                           override) single fields.";
                // clap sees an optional flag only in a plain `Option<…>`.
                fields.push(quote! {
                    #[doc = #doc]
                    #[arg(long = "json-body", value_name = "FILE|-|JSON")]
                    pub json_body: Option<::std::string::String>,
                });
                // A flag per scalar body property, unless a parameter has its name.
                let taken: BTreeSet<String> = op.params.keys().map(|p| kebab(p)).collect();
                let mut body_args = Vec::new();
                for (field, kind, description) in &op.body_fields {
                    let flag = kebab(&snake(field));
                    if taken.contains(&flag) || flag == "json-body" {
                        continue;
                    }
                    let ident = format_ident!("body_{}", snake(field));
                    let kind = format_ident!("{}", kind);
                    let mut desc = doc_lines(description);
                    if desc.is_empty() {
                        desc.push(quote!(#[doc = " (no description in the spec)"]));
                    }
                    let value_name = snake(field).to_uppercase();
                    fields.push(quote! {
                        #(#desc)*
                        #[arg(long = #flag, value_name = #value_name, help_heading = "Body fields")]
                        pub #ident: Option<::std::string::String>,
                    });
                    body_args.push(quote! {
                        (#field, crate::api::JsonKind::#kind, self.#ident.as_deref())
                    });
                }
                let required = op.body_required;
                sets.push(quote! {
                    let body = crate::api::body::<#ty>(
                        self.json_body.as_deref(),
                        &[#(#body_args),*],
                        #required,
                    )?;
                    let request = match body {
                        ::core::option::Option::Some(body) => request.body(body),
                        ::core::option::Option::None => request,
                    };
                });
                continue;
            }
            let param = op
                .params
                .get(&setter_name)
                .with_context(|| format!("{id}.{setter_name}: no such parameter in the spec"))?;
            let flag = kebab(&setter_name);
            let desc = if param.description.is_empty() {
                vec![quote!(#[doc = " (no description in the spec)"])]
            } else {
                doc_lines(&param.description)
            };
            if param.required {
                fields.push(quote! {
                    #(#desc)*
                    #[arg(long = #flag)]
                    pub #ident: #ty,
                });
                sets.push(quote! { let request = request.#ident(self.#ident); });
            } else {
                fields.push(quote! {
                    #(#desc)*
                    #[arg(long = #flag)]
                    pub #ident: Option<#ty>,
                });
                sets.push(quote! {
                    let request = match self.#ident {
                        ::core::option::Option::Some(value) => request.#ident(value),
                        ::core::option::Option::None => request,
                    };
                });
            }
        }

        let summary = format!(" {}", op.summary);
        let line = format!(
            " `{} {}` ({}; operation `{id}`).",
            op.method, op.path, op.effect
        );
        let description = doc_lines(&op.description);
        let struct_doc = format!(" The flags of `p100 {} {command}`.", op.tag);
        let op_id = id.as_str();
        let variant_tokens = quote! {
            #[doc = #summary]
            #[doc = ""]
            #(#description)*
            #[doc = ""]
            #[doc = #line]
            #[command(name = #command)]
            #variant(#args_ty),
        };
        let arm = quote! { Self::#variant(args) => args.run(client).await, };
        let item = quote! {
            #[doc = #struct_doc]
            #[derive(Debug, clap::Args)]
            pub struct #args_ty {
                #(#fields)*
            }

            impl #args_ty {
                /// Sends the request and returns the answer.
                pub async fn run(self, client: &Client) -> ::core::result::Result<Answer, CommandError> {
                    let request = client.#method();
                    #(#sets)*
                    let answer = request.send().await.map_err(CommandError::Api)?;
                    Answer::of(#op_id, &answer)
                }
            }
        };
        by_tag
            .entry(op.tag.clone())
            .or_default()
            .push((variant_tokens, arm, item));
    }

    // The command enums are built once per run: boxing their larger variants would only make
    // the generated code harder to read (`clippy::large_enum_variant` is allowed on them).
    let mut tag_variants = Vec::new();
    let mut tag_arms = Vec::new();
    let mut tag_items = Vec::new();
    for tag in &tag_order {
        let Some(commands) = by_tag.remove(tag) else {
            continue;
        };
        let ty = format_ident!("{}Command", camel(tag));
        let variant = format_ident!("{}", camel(tag));
        let tag_doc = format!(" {}", tag_docs.get(tag).cloned().unwrap_or_default());
        if !FLOW_TAGS.contains(&tag.as_str()) {
            tag_variants.push(quote! {
                #[doc = #tag_doc]
                #[command(name = #tag, subcommand)]
                #variant(#ty),
            });
            tag_arms.push(quote! { Self::#variant(command) => command.run(client).await, });
        }
        let variants = commands.iter().map(|(v, _, _)| v);
        let arms = commands.iter().map(|(_, a, _)| a);
        let items = commands.iter().map(|(_, _, i)| i);
        let doc = format!(" The operations of tag `{tag}`.");
        tag_items.push(quote! {
            #[doc = #doc]
            #[derive(Debug, clap::Subcommand)]
            #[allow(clippy::large_enum_variant)]
            pub enum #ty {
                #(#variants)*
            }

            impl #ty {
                /// Runs the command.
                pub async fn run(self, client: &Client) -> ::core::result::Result<Answer, CommandError> {
                    match self {
                        #(#arms)*
                    }
                }
            }

            #(#items)*
        });
    }
    if let Some(tag) = by_tag.keys().next() {
        bail!("operations of tag {tag}, which the spec's `tags` does not list");
    }

    let examples = webhook_examples(doc)?;
    let example_arms = examples.iter().map(|(schema, example)| match example {
        Some(json) => quote! { #schema => ::core::option::Option::Some(#json), },
        None => quote! { #schema => ::core::option::Option::None, },
    });

    Ok(quote! {
        //! Every generated operation as a command, grouped by the spec's tags
        //! (`p100 users get-balances --external-user-id u1`), and the spec's example payload of
        //! each webhook schema. Generated by `cargo xtask codegen` from the raw client and the
        //! spec.

        use p100_ergonomic::{types, Client};

        use crate::api::{Answer, CommandError};

        #[allow(unused_imports)]
        use types as _;

        /// Every operation of the API, by tag (the `exchange` tag's are subcommands of the
        /// `p100 exchange` flow).
        #[derive(Debug, clap::Subcommand)]
        #[allow(clippy::large_enum_variant)]
        pub enum Operations {
            #(#tag_variants)*
        }

        impl Operations {
            /// Runs the command.
            pub async fn run(self, client: &Client) -> ::core::result::Result<Answer, CommandError> {
                match self {
                    #(#tag_arms)*
                }
            }
        }

        #(#tag_items)*

        /// The spec's example body of a webhook schema (`p100_api::webhooks::WebhookSpec::schema`),
        /// as compact JSON; `None` when the spec documents none.
        pub fn webhook_example(schema: &str) -> ::core::option::Option<&'static str> {
            match schema {
                #(#example_arms)*
                _ => ::core::option::Option::None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_drop_the_word_that_names_the_tag() {
        assert_eq!(command_name("user_get_balances", "users"), "get-balances");
        assert_eq!(command_name("transfer_create", "transfers"), "create");
        assert_eq!(command_name("exchange_get_rate", "exchange"), "get-rate");
        assert_eq!(
            command_name("checkout_create", "payments"),
            "checkout-create"
        );
        assert_eq!(camel("get-balances"), "GetBalances");
    }

    #[test]
    fn body_fields_get_the_json_kind_of_their_schema() {
        let doc = serde_json::json!({"components": {"schemas": {
            "DecimalNumber": {"type": "number", "x-p100-decimal": true},
            "DecimalString": {"type": "string", "x-p100-decimal": true},
            "StringOrNumber": {"anyOf": [{"type": "string"}, {"type": "number"}], "x-p100-decimal": true},
            "Status": {"type": "string", "x-extensible-enum": ["A"]},
            "Body": {"properties": {
                "amount": {"$ref": "#/components/schemas/DecimalNumber"},
                "price": {"$ref": "#/components/schemas/StringOrNumber"},
                "fee": {"allOf": [{"$ref": "#/components/schemas/DecimalString"}]},
                "status": {"$ref": "#/components/schemas/Status"},
                "note": {"type": "string"},
                "count": {"type": "integer"},
                "flag": {"type": "boolean"},
                "file": {"type": "string", "format": "binary"},
                "list": {"type": "array", "items": {"type": "string"}}
            }}
        }}});
        let op = serde_json::json!({"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Body"}}}}});
        let mut kinds: Vec<(String, &str)> = body_fields(&doc, &op)
            .into_iter()
            .map(|(field, kind, _)| (field, kind))
            .collect();
        kinds.sort();
        let expected: Vec<(String, &str)> = [
            ("amount", "Number"),
            ("count", "Number"),
            ("fee", "DecimalString"),
            ("flag", "Boolean"),
            ("note", "String"),
            ("price", "DecimalString"),
            ("status", "String"),
        ]
        .iter()
        .map(|(f, k)| (f.to_string(), *k))
        .collect();
        assert_eq!(kinds, expected);
    }
}
