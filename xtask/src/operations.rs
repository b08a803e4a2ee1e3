//! `p100_ergonomic`'s operation methods: one method on `Client` per generated operation, returning
//! a builder that wraps the raw one with the same setters and a `send()` that returns the SDK's
//! `Error`. Generated from the raw client progenitor wrote (its `builder` module, read with
//! `syn`: the setters and their exact signatures, the answer type of `send`) and the spec (the
//! summaries, descriptions and parameters that become the docs, each operation's effect and
//! which setters are path parameters).

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// What the spec says about one operation.
struct SpecOp {
    method: String,
    path: String,
    summary: String,
    description: String,
    effect: String,
    /// Rust setter name → (parameter description, is a path parameter).
    params: BTreeMap<String, (String, bool)>,
    /// The spec's waiter when its id comes from the answer: (details operation, details
    /// schema, the answer's id field).
    waiter: Option<(String, String, String)>,
    /// The request body's component schema, and its money fields that must be an `Amount`
    /// (Rust field names): the `amount` of a `moves-money` or `lock` request.
    body: Option<(String, Vec<String>)>,
}

/// The waiter of `op` (`x-p100-waiter` and its link) when the id is a field of the answer.
fn waiter_of(doc: &Value, op: &Value) -> Option<(String, String, String)> {
    let link = op.pointer("/x-p100-waiter/link")?.as_str()?;
    let responses = op.get("responses")?.as_object()?;
    let entry = responses
        .iter()
        .filter(|(code, _)| code.starts_with('2'))
        .find_map(|(_, r)| r.pointer(&format!("/links/{link}")))?;
    let details = entry.get("operationId")?.as_str()?;
    let (_, expr) = entry.get("parameters")?.as_object()?.iter().next()?;
    let field = expr.as_str()?.strip_prefix("$response.body#/")?;
    let schema = doc
        .get("paths")?
        .as_object()?
        .values()
        .flat_map(|item| METHODS.iter().filter_map(move |m| item.get(*m)))
        .find(|o| o.get("operationId").and_then(Value::as_str) == Some(details))?
        .pointer("/responses/200/content/application~1json/schema/$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")?;
    Some((details.to_owned(), schema.to_owned(), field.to_owned()))
}

/// Whether a property schema is one of the decimal types (directly or wrapped in `allOf`).
fn is_decimal(property: &Value) -> bool {
    let is_ref = |v: &Value| {
        v.get("$ref")
            .and_then(Value::as_str)
            .is_some_and(crate::spec::is_decimal_ref)
    };
    is_ref(property)
        || property
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|all| all.iter().any(is_ref))
}

/// The request body's component and the amounts in it that must be positive.
fn body_amounts(doc: &Value, op: &Value, effect: &str) -> Option<(String, Vec<String>)> {
    let reference = op
        .pointer("/requestBody/content/application~1json/schema/$ref")
        .and_then(Value::as_str)?;
    let name = reference.strip_prefix("#/components/schemas/")?.to_owned();
    let mut fields = Vec::new();
    if matches!(effect, "moves-money" | "lock") {
        let properties = doc
            .pointer(&format!("/components/schemas/{name}/properties"))
            .and_then(Value::as_object);
        for (field, property) in properties.into_iter().flatten() {
            if field == "amount" && is_decimal(property) {
                fields.push(snake(field));
            }
        }
    }
    Some((name, fields))
}

pub(crate) fn snake(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every operation of the spec: (path, method, operation object), in the spec's order.
pub(crate) fn spec_operations(doc: &Value) -> Result<Vec<(&String, &'static str, &Value)>> {
    let mut out = Vec::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .context("no paths")?
    {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((path, method, op));
            }
        }
    }
    Ok(out)
}

fn spec_ops(doc: &Value) -> Result<BTreeMap<String, SpecOp>> {
    let mut out = BTreeMap::new();
    for (path, method, op) in spec_operations(doc)? {
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .context("operation without operationId")?;
        let text = |k: &str| {
            op.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let mut params = BTreeMap::new();
        for p in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
            let desc = p
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned();
            let in_path = p.get("in").and_then(Value::as_str) == Some("path");
            params.insert(snake(name), (desc, in_path));
        }
        let body = body_amounts(doc, op, &text("x-p100-effect"));
        out.insert(
            id.to_owned(),
            SpecOp {
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text("summary"),
                description: text("description"),
                effect: text("x-p100-effect"),
                params,
                waiter: waiter_of(doc, op),
                body,
            },
        );
    }
    Ok(out)
}

/// `UserGetBalances` → `user_get_balances`.
fn method_name(builder: &str) -> String {
    snake(builder)
}

/// The builders of the raw client: name → (setter methods, the answer type of `send`).
pub(crate) fn builders(
    client: &syn::File,
) -> Result<Vec<(syn::Ident, Vec<syn::ImplItemFn>, syn::Type)>> {
    let module = client
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref().map(|(_, items)| items),
            _ => None,
        })
        .context("the generated client has no `builder` module")?;
    let mut out = Vec::new();
    for item in module {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(ty) = &*imp.self_ty else {
            continue;
        };
        let Some(name) = ty.path.segments.last().map(|s| s.ident.clone()) else {
            continue;
        };
        let mut setters = Vec::new();
        let mut answer = None;
        for item in &imp.items {
            let syn::ImplItem::Fn(f) = item else { continue };
            match f.sig.ident.to_string().as_str() {
                "new" => {}
                "send" => {
                    answer = Some(send_answer(&f.sig).with_context(|| format!("{name}::send"))?)
                }
                _ => setters.push(f.clone()),
            }
        }
        let answer = answer.with_context(|| format!("builder {name} has no send"))?;
        out.push((name, setters, answer));
    }
    Ok(out)
}

/// Whether field `field` of the generated struct `name` (in the `types` module) is an `Option`.
fn field_is_option(client: &syn::File, name: &str, field: &str) -> Option<bool> {
    let types = client.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })?;
    types.iter().find_map(|item| match item {
        syn::Item::Struct(s) if s.ident == name => s.fields.iter().find_map(|f| {
            let ident = f.ident.as_ref()?;
            if *ident != field {
                return None;
            }
            let syn::Type::Path(p) = &f.ty else {
                return Some(false);
            };
            Some(p.path.segments.last().is_some_and(|s| s.ident == "Option"))
        }),
        _ => None,
    })
}

/// `Result<ResponseValue<T>, Error<types::Error>>` → `T`.
fn send_answer(sig: &syn::Signature) -> Result<syn::Type> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        bail!("no return type");
    };
    let first_arg = |ty: &syn::Type| -> Option<syn::Type> {
        let syn::Type::Path(p) = ty else { return None };
        let seg = p.path.segments.last()?;
        let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
            return None;
        };
        args.args.iter().find_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        })
    };
    let response_value = first_arg(ty).context("not a Result<…>")?;
    first_arg(&response_value).context("not a ResponseValue<…>")
}

pub(crate) fn doc_lines(text: &str) -> Vec<TokenStream> {
    text.lines()
        .map(|l| {
            let l = format!(" {l}");
            quote!(#[doc = #l])
        })
        .collect()
}

/// The operations module's source.
pub fn generate(client: &syn::File, doc: &Value) -> Result<TokenStream> {
    let spec = spec_ops(doc)?;
    let mut methods = Vec::new();
    let mut types = Vec::new();
    for (name, setters, answer) in builders(client)? {
        let id = method_name(&name.to_string());
        let op = spec
            .get(&id)
            .with_context(|| format!("builder {name}: no operation {id} in the spec"))?;
        // Operations with amounts to check keep the body themselves, so that `send` can check
        // it whole (whether it came from `body` or `body_map`) before the raw builder gets it.
        let checked = op
            .body
            .as_ref()
            .filter(|(_, fields)| !fields.is_empty())
            .map(|(schema, fields)| (format_ident!("{}", schema), fields.clone()));
        let (body_field, body_init, body_check) = match &checked {
            None => (quote!(), quote!(), quote!(let inner = self.inner;)),
            Some((schema, fields)) => {
                let fields = fields.iter().map(|f| format_ident!("{}", f));
                (
                    quote! { body: ::core::result::Result<Body<types::#schema, types::builder::#schema>, ::std::string::String>, },
                    quote! { body: ::core::result::Result::Ok(Body::Unset), },
                    quote! {
                        // The amounts are checked before anything is sent, with the error the
                        // lock flows give (`Amount`'s).
                        let body = match self.body.map_err(Error::invalid_request)? {
                            Body::Built(body) => body,
                            Body::Building(builder) => types::#schema::try_from(builder)
                                .map_err(|e| Error::invalid_request(e.to_string()))?,
                            Body::Unset => types::#schema::try_from(types::builder::#schema::default())
                                .map_err(|e| Error::invalid_request(e.to_string()))?,
                        };
                        #(
                            crate::money::AmountField::check_amount(&body.#fields)
                                .map_err(|e| Error::invalid_request(e.to_string()))?;
                        )*
                        let inner = self.inner.body(body);
                    },
                )
            }
        };
        let method = format_ident!("{}", id);
        let summary = &op.summary;
        let line = format!(
            "`{} {}` ({}): [`{}`]'s builder; set its parameters, then `.send().await`.",
            op.method, op.path, op.effect, name
        );
        let description = doc_lines(&op.description);
        methods.push(quote! {
            #[doc = #summary]
            #[doc = ""]
            #(#description)*
            #[doc = ""]
            #[doc = #line]
            pub fn #method(&self) -> #name<'_> {
                #name {
                    client: self,
                    inner: self.raw().#method(),
                    invalid: ::core::option::Option::None,
                    #body_init
                }
            }
        });

        let mut wrapped = Vec::new();
        for setter in setters {
            let sig = &setter.sig;
            let ident = &sig.ident;
            if let Some((schema, _)) = &checked {
                let conversion = format!("conversion to `{schema}` for body failed: {{}}");
                match ident.to_string().as_str() {
                    "body" => {
                        wrapped.push(quote! {
                            /// The request body.
                            pub fn body<V>(mut self, value: V) -> Self
                            where
                                V: ::core::convert::TryInto<types::#schema>,
                                <V as ::core::convert::TryInto<types::#schema>>::Error: ::core::fmt::Display,
                            {
                                self.body = value
                                    .try_into()
                                    .map(Body::Built)
                                    .map_err(|e| ::std::format!(#conversion, e));
                                self
                            }
                        });
                        continue;
                    }
                    "body_map" => {
                        wrapped.push(quote! {
                            /// Changes the request body with a function of its builder.
                            pub fn body_map<F>(mut self, f: F) -> Self
                            where
                                F: ::core::ops::FnOnce(types::builder::#schema) -> types::builder::#schema,
                            {
                                self.body = self.body.map(|body| {
                                    Body::Building(f(match body {
                                        Body::Built(body) => ::core::convert::From::from(body),
                                        Body::Building(builder) => builder,
                                        Body::Unset => ::core::default::Default::default(),
                                    }))
                                });
                                self
                            }
                        });
                        continue;
                    }
                    _ => {}
                }
            }
            let args: Vec<&syn::Ident> = sig
                .inputs
                .iter()
                .filter_map(|a| match a {
                    syn::FnArg::Typed(t) => match &*t.pat {
                        syn::Pat::Ident(p) => Some(&p.ident),
                        _ => None,
                    },
                    syn::FnArg::Receiver(_) => None,
                })
                .collect();
            let (desc, in_path) = op
                .params
                .get(&ident.to_string())
                .cloned()
                .unwrap_or_default();
            let desc = if desc.is_empty() {
                match ident.to_string().as_str() {
                    "body" => "The request body.".to_owned(),
                    "body_map" => {
                        "Changes the request body with a function of its builder.".to_owned()
                    }
                    other => format!("Sets `{other}`."),
                }
            } else {
                desc
            };
            let desc = doc_lines(&desc);
            let (generics, where_clause) = (&sig.generics, &sig.generics.where_clause);
            let inputs = &sig.inputs;
            let takes_string = where_clause
                .as_ref()
                .map(|w| {
                    quote!(#w)
                        .to_string()
                        .contains(":: std :: string :: String")
                })
                .unwrap_or(false);
            if in_path && args.len() == 1 && takes_string {
                // A path parameter is checked where it is set: empty, `.` and `..` would send
                // another path than the operation's.
                let field = ident.to_string();
                wrapped.push(quote! {
                    #(#desc)*
                    pub fn #ident(mut self, value: impl ::core::convert::Into<::std::string::String>) -> Self {
                        let value = value.into();
                        if let ::core::result::Result::Err(error) = crate::client::check_path_value(#field, &value) {
                            self.invalid.get_or_insert(error);
                        }
                        self.inner = self.inner.#ident(value);
                        self
                    }
                });
            } else {
                wrapped.push(quote! {
                    #(#desc)*
                    pub fn #ident #generics (#inputs) -> Self #where_clause {
                        self.inner = self.inner.#ident(#(#args),*);
                        self
                    }
                });
            }
        }
        let op_id = id.as_str();
        let send_and_wait = match &op.waiter {
            Some((details, schema, field)) if op.effect == "moves-money" => {
                let details_ty = format_ident!("{}", schema);
                let answer_name = match &answer {
                    syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                }
                .with_context(|| format!("{id}: the answer type is not a path"))?;
                let field_ident = format_ident!("{}", snake(field));
                let optional = field_is_option(client, &answer_name, &snake(field))
                    .with_context(|| format!("{id}: {answer_name} has no field {field}"))?;
                let take_id = if optional {
                    quote! {
                        let ::core::option::Option::Some(id) = created.#field_ident.as_ref().map(|id| id.to_string()) else {
                            return ::core::result::Result::Err(crate::wait::SendAndWaitError::NoId {
                                operation: #op_id,
                                answer: ::serde_json::to_value(&created).unwrap_or_default(),
                            });
                        };
                    }
                } else {
                    quote!(let id = created.#field_ident.to_string();)
                };
                let doc = format!(
                    "Sends the request, then waits under `policy` for the outcome, polling \
                     `{details}` with the answer's `{field}` (the spec's `x-p100-waiter`). A lost \
                     answer is [`SendAndWaitError::Send`](crate::wait::SendAndWaitError::Send) \
                     with an unknown movement to reconcile; it is never sent again."
                );
                quote! {
                    #[doc = #doc]
                    pub async fn send_and_wait(
                        self,
                        policy: crate::WaitPolicy,
                    ) -> ::core::result::Result<crate::Succeeded<types::#details_ty>, crate::wait::SendAndWaitError<types::#details_ty>> {
                        let client = self.client.clone();
                        let created = self.send().await.map_err(crate::wait::SendAndWaitError::Send)?;
                        #take_id
                        client
                            .wait_until_final::<types::#details_ty>(id)
                            .policy(policy)
                            .wait()
                            .await
                            .map_err(crate::wait::SendAndWaitError::Wait)
                    }
                }
            }
            _ => quote!(),
        };
        // A money movement goes through `send_money`, which turns a lost answer into an unknown
        // movement and reads an undeclared 2xx; everything else takes the shortest path.
        let moves_money = op.effect == "moves-money";
        let effect = crate::catalog::effect_variant(&id, Some(&op.effect))?;
        let effect = quote!(p100_api::catalog::Effect::#effect);
        // The request is built by the generated code (`build_request`) and its answer read by
        // it (`decode`); the client sends it with no executor in between.
        // A refused request goes in as the error it is, so that `send` is that one future.
        let decode = quote!(p100_api::builder::#name::decode);
        let send_op = |finish: TokenStream| {
            if moves_money {
                quote!(client.send_money_op(#op_id, self.checked(), #decode, #finish))
            } else {
                quote!(client.send_op(#effect, #op_id, self.checked(), #decode, #finish))
            }
        };
        let send_call = send_op(quote!(ResponseValue::into_inner));
        let send_response = send_op(quote!(::core::convert::identity));
        let doc = format!("The request of [`Client::{id}`] ({summary}).");
        let check_doc = if checked.is_some() {
            "\n\nIts `amount` must be an [`Amount`](crate::Amount) (more than zero, plain \
             decimal notation): anything else is an invalid-request error, and nothing is sent."
        } else {
            ""
        };
        let doc = format!("{doc}{check_doc}");
        types.push(quote! {
            #[doc = #doc]
            #[must_use = "a request does nothing until `.send().await`"]
            pub struct #name<'a> {
                client: &'a Client,
                inner: p100_api::builder::#name<'a>,
                invalid: ::core::option::Option<Error>,
                #body_field
            }

            impl<'a> #name<'a> {
                #(#wrapped)*

                /// Sends the request and returns the answer's body, or the SDK's [`Error`].
                #[inline]
                pub fn send(self) -> impl ::core::future::Future<Output = ::core::result::Result<#answer, Error>> + 'a {
                    let client = self.client;
                    #send_call
                }

                /// Sends the request and returns the whole answer (status, headers, body).
                #[inline]
                pub fn send_with_response(self) -> impl ::core::future::Future<Output = ::core::result::Result<ResponseValue<#answer>, Error>> + 'a {
                    let client = self.client;
                    #send_response
                }

                /// The request to send, or why it must not be sent.
                fn checked(self) -> ::core::result::Result<::reqwest::Request, Error> {
                    if let ::core::option::Option::Some(error) = self.invalid {
                        return ::core::result::Result::Err(error);
                    }
                    #body_check
                    inner.build_request().map_err(|raw| Error::from_raw(raw, ::core::option::Option::None))
                }

                #send_and_wait
            }

            impl ::core::fmt::Debug for #name<'_> {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(::core::stringify!(#name)).finish_non_exhaustive()
                }
            }
        });
    }
    Ok(quote! {
        //! Every operation of the spec as a method of [`Client`], returning a builder with the
        //! generated setters and a `send()` that returns the SDK's [`Error`]
        //! (`client.user_get_balances().external_user_id("u").send().await?`). Generated by
        //! `cargo xtask codegen` from the raw client and the spec.

        use p100_api::types;
        use p100_api::ResponseValue;

        use crate::{Client, Error};

        #[allow(unused_imports)]
        use types as _;

        /// A request body kept by an operation method that checks it before sending: as given
        /// to `body` (converted once, like the raw builder does), being built by `body_map`, or
        /// not given yet (no builder made until one is needed: its defaults allocate).
        #[allow(dead_code)]
        enum Body<T, B> {
            Built(T),
            Building(B),
            Unset,
        }

        impl Client {
            #(#methods)*
        }

        #(#types)*
    })
}
