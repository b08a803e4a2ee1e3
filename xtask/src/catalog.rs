//! `p100_api::catalog`: what P100 *does*, generated from the spec's behaviour extensions
//! (`x-p100-errors`, `x-p100-effect`, `x-p100-waiter` and its `links`, `x-p100-status-classes`,
//! `x-webhooks` with `x-p100-dedupe-key`, `x-p100-delivery-schedule`; see spec/CONVENTIONS.md).
//!
//! The ergonomic client and the sandbox read these constants instead of keeping tables of their
//! own, so a new P-code, status value or webhook field reaches both by regenerating. This module
//! reads the whole spec (upload operations included, which progenitor never sees) and refuses one
//! whose extensions do not hold together, naming the place.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn str_at<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .with_context(|| format!("{at}: `{key}` missing or not a string"))
}

fn opt_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn strings(value: Option<&Value>, at: &str) -> Result<Vec<String>> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::String(one)) => Ok(vec![one.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("{at}: {v} is not a string"))
            })
            .collect(),
        Some(other) => bail!("{at}: {other} is neither a string nor a list"),
    }
}

fn option(value: Option<&str>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// `user-not-found` / `user_balance_generation` / `IN_PROGRESS` → `UserNotFound`, ….
fn pascal(text: &str) -> Ident {
    let mut out = String::new();
    for word in text.split(['-', '_', ' ']).filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(&chars.as_str().to_lowercase());
        }
    }
    Ident::new(&out, Span::call_site())
}

/// `retry-delays-seconds` / `rate-limited` / `ExchangeStatus` → `RATE_LIMITED`, `EXCHANGE_STATUS`.
fn upper_snake(text: &str) -> Ident {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if c == '-' || c == '_' || c == ' ' {
            out.push('_');
            prev_lower = false;
        } else if c.is_uppercase() && prev_lower {
            out.push('_');
            out.push(c);
            prev_lower = false;
        } else {
            out.extend(c.to_uppercase());
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    Ident::new(&out, Span::call_site())
}

/// `externalUserId` → `external_user_id` (the field name progenitor gives a property).
fn snake(text: &str) -> Ident {
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
    match out.as_str() {
        "type" | "ref" | "match" | "move" | "self" => format_ident!("{}_", out),
        _ => Ident::new(&out, Span::call_site()),
    }
}

fn schema_name(reference: &Value) -> Option<&str> {
    reference
        .get("$ref")
        .and_then(Value::as_str)
        .or_else(|| {
            reference
                .get("allOf")?
                .as_array()?
                .iter()
                .find_map(|a| a.get("$ref")?.as_str())
        })?
        .strip_prefix("#/components/schemas/")
}

struct Doc<'a> {
    doc: &'a Value,
    schemas: &'a serde_json::Map<String, Value>,
    /// operationId → (method, path, operation)
    operations: BTreeMap<String, (String, String, &'a Value)>,
}

impl<'a> Doc<'a> {
    fn new(doc: &'a Value) -> Result<Self> {
        let schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .context("the spec has no components/schemas")?;
        let mut operations = BTreeMap::new();
        for (path, item) in doc
            .get("paths")
            .and_then(Value::as_object)
            .context("no paths")?
        {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let id = str_at(op, "operationId", &format!("{method} {path}"))?;
                    operations.insert(id.to_owned(), (method.to_uppercase(), path.clone(), op));
                }
            }
        }
        Ok(Self {
            doc,
            schemas,
            operations,
        })
    }

    fn schema(&self, name: &str) -> Result<&'a Value> {
        self.schemas
            .get(name)
            .with_context(|| format!("schema {name} does not exist"))
    }

    fn json_body(&self, holder: &Value, at: &str) -> Result<&'a str> {
        let reference = holder
            .pointer("/content/application~1json/schema")
            .with_context(|| format!("{at}: no application/json schema"))?;
        let name = schema_name(reference)
            .with_context(|| format!("{at}: the JSON body is not a $ref to a component schema"))?;
        // Re-borrow from the document so the lifetime is the document's.
        self.schemas
            .get_key_value(name)
            .map(|(k, _)| k.as_str())
            .with_context(|| format!("{at}: schema {name} does not exist"))
    }

    fn property_schema(&self, schema: &str, field: &str) -> Option<&'a str> {
        let prop = self
            .schemas
            .get(schema)?
            .pointer(&format!("/properties/{field}"))?;
        let name = schema_name(prop)?;
        self.schemas.get_key_value(name).map(|(k, _)| k.as_str())
    }
}

// ---------------------------------------------------------------- errors

fn errors(doc: &Doc) -> Result<TokenStream> {
    let registry = doc
        .doc
        .get("x-p100-errors")
        .context("the spec has no x-p100-errors")?;
    let codes = registry
        .get("codes")
        .and_then(Value::as_object)
        .context("x-p100-errors.codes missing")?;
    let mut specs = Vec::new();
    let mut variants = Vec::new();
    let mut parse_arms = Vec::new();
    let mut index_arms = Vec::new();
    for (i, (code, entry)) in codes.iter().enumerate() {
        let at = format!("x-p100-errors.codes.{code}");
        let identifier = str_at(entry, "identifier", &at)?;
        let title = opt_str(entry, "title");
        let error_name = opt_str(entry, "errorName");
        if title.is_none() && error_name.is_none() {
            bail!("{at}: neither title nor errorName");
        }
        let http = entry
            .get("http")
            .and_then(Value::as_u64)
            .with_context(|| format!("{at}: http missing"))? as u16;
        let inferred = strings(entry.get("inferred"), &format!("{at}.inferred"))?;
        let http_inferred = inferred.iter().any(|f| f == "http");
        let class = error_class(str_at(entry, "class", &at)?, &at)?;
        let facts = str_at(entry, "facts", &at)?;
        let description = str_at(entry, "description", &at)?.trim();
        let title_t = option(title);
        let name_t = option(error_name);
        specs.push(quote! {
            ErrorSpec {
                code: #code,
                identifier: #identifier,
                title: #title_t,
                error_name: #name_t,
                http: #http,
                http_inferred: #http_inferred,
                class: ErrorClass::#class,
                facts: #facts,
                description: #description,
            }
        });
        let variant = pascal(identifier);
        let shown = match (title, error_name) {
            (Some(t), Some(n)) => format!("\n\nCode `{code}`, documented as \"{t}\" (`{n}`)."),
            (Some(t), None) => format!("\n\nCode `{code}`, documented as \"{t}\"."),
            (None, Some(n)) => format!("\n\nCode `{code}`, sent with `errorName` `{n}`."),
            (None, None) => unreachable!("checked above"),
        };
        variants.push(quote! {
            #[doc = #description]
            #[doc = #shown]
            #variant,
        });
        let upper = code.to_uppercase();
        parse_arms.push(quote!(#upper => return ErrorCode::#variant,));
        index_arms.push(quote!(ErrorCode::#variant => ::core::option::Option::Some(&ERRORS[#i]),));
    }
    let count = specs.len();
    let variant_idents: Vec<Ident> = codes
        .values()
        .map(|e| pascal(opt_str(e, "identifier").unwrap_or_default()))
        .collect();

    let auth = registry.get("auth").context("x-p100-errors.auth missing")?;
    let auth_title = str_at(auth, "title", "x-p100-errors.auth")?;
    let auth_facts = str_at(auth, "facts", "x-p100-errors.auth")?;
    let reasons = auth
        .get("reasons")
        .and_then(Value::as_object)
        .context("x-p100-errors.auth.reasons missing")?;
    let mut auth_variants = Vec::new();
    let mut auth_codes = Vec::new();
    let mut auth_from = Vec::new();
    let mut auth_descriptions = Vec::new();
    for (reason, entry) in reasons {
        let at = format!("x-p100-errors.auth.reasons.{reason}");
        let variant = pascal(str_at(entry, "identifier", &at)?);
        let description = str_at(entry, "description", &at)?;
        let doc = format!("`{reason}`: {description}");
        auth_variants.push(quote!(#[doc = #doc] #variant,));
        auth_codes.push(quote!(AuthFailure::#variant => #reason,));
        auth_descriptions.push(quote!(AuthFailure::#variant => #description,));
        let lower = reason.to_lowercase();
        auth_from.push(quote!(#lower => ::core::option::Option::Some(AuthFailure::#variant),));
    }
    let auth_all: Vec<TokenStream> = reasons
        .values()
        .map(|e| {
            let v = pascal(opt_str(e, "identifier").unwrap_or_default());
            quote!(AuthFailure::#v)
        })
        .collect();
    let auth_count = auth_all.len();

    let mut undocumented = Vec::new();
    if let Some(answers) = registry.get("undocumented").and_then(Value::as_object) {
        for (name, entry) in answers {
            let at = format!("x-p100-errors.undocumented.{name}");
            let code = str_at(entry, "code", &at)?;
            if code.starts_with('P') {
                bail!("{at}: the sandbox's own code {code} must not look like a P-code");
            }
            let http = entry
                .get("http")
                .and_then(Value::as_u64)
                .with_context(|| format!("{at}: http missing"))? as u16;
            let description = str_at(entry, "description", &at)?;
            let konst = upper_snake(name);
            let doc = format!("`{name}`: {description}");
            undocumented.push(quote! {
                #[doc = #doc]
                pub const #konst: UndocumentedAnswer = UndocumentedAnswer {
                    name: #name,
                    code: #code,
                    http: #http,
                    description: #description,
                };
            });
        }
    }

    Ok(quote! {
        /// How a caller should react to an error code (the registry's `class`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorClass {
            /// Not an error: the request was taken and its result is pending (HTTP 202).
            Accepted,
            /// The request is malformed or breaks a rule; fix it before sending again.
            Validation,
            /// The thing the request names does not exist.
            NotFound,
            /// A business rule refused the request; nothing happened.
            Business,
            /// A temporary condition; a call that is safe to repeat may be retried later.
            Transient,
            /// P100 failed unexpectedly; whether a money movement happened is unknown.
            Internal,
            /// Authentication failed (HTTP 401).
            Auth,
        }

        /// One P-code of the spec's error registry (`x-p100-errors.codes`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct ErrorSpec {
            /// The code as P100 sends it (`"P432"`).
            pub code: &'static str,
            /// Our stable kebab-case name of the code (`"invalid-exchange-lock"`); not P100's.
            pub identifier: &'static str,
            /// The title a documentation page gives the code, exactly; `None` where no page shows one.
            pub title: ::core::option::Option<&'static str>,
            /// The `errorName` P100 sends with the code, exactly as a page shows it; `None` where none is shown.
            pub error_name: ::core::option::Option<&'static str>,
            /// The HTTP status the code comes with.
            pub http: u16,
            /// Whether [`http`](Self::http) is inferred (no page shows it).
            pub http_inferred: bool,
            /// How a caller should react.
            pub class: ErrorClass,
            /// The facts entry that shows the code (`file.yaml#Page title`).
            pub facts: &'static str,
            /// What the code means, in our words.
            pub description: &'static str,
        }

        /// Every P-code the docs show, in code order.
        pub const ERRORS: [ErrorSpec; #count] = [#(#specs),*];

        /// The registry entry of a code (`"P432"`, any case, surrounding blanks ignored).
        pub fn error(code: &str) -> ::core::option::Option<&'static ErrorSpec> {
            ErrorCode::parse(code).spec()
        }

        /// A P100 error code (`errorCode` of an error body), named for what it means to you.
        ///
        /// Every code of the spec's registry has a variant; any other code is kept as
        /// [`ErrorCode::Unknown`] with its text, so a new code never breaks a caller.
        ///
        /// ```
        /// use p100_api::catalog::ErrorCode;
        ///
        /// assert_eq!(ErrorCode::parse("P432"), ErrorCode::InvalidExchangeLock);
        /// assert_eq!(ErrorCode::InvalidExchangeLock.as_str(), "P432");
        /// assert_eq!(ErrorCode::parse("P999"), ErrorCode::Unknown("P999".to_string()));
        /// ```
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            #(#variants)*
            /// A code this version of the SDK does not know, exactly as P100 sent it.
            Unknown(::std::string::String),
        }

        impl ErrorCode {
            /// Every code the registry knows, in code order.
            pub const KNOWN: &'static [ErrorCode] = &[#(ErrorCode::#variant_idents),*];

            /// Reads a code as P100 sends it (`"P432"`); unknown codes become
            /// [`ErrorCode::Unknown`]. Surrounding whitespace and the case of the `P` are ignored.
            pub fn parse(code: &str) -> Self {
                let trimmed = code.trim();
                if trimmed.len() == 4 {
                    let mut upper = [0u8; 4];
                    for (to, from) in upper.iter_mut().zip(trimmed.bytes()) {
                        *to = from.to_ascii_uppercase();
                    }
                    if let ::core::result::Result::Ok(upper) = ::core::str::from_utf8(&upper) {
                        match upper {
                            #(#parse_arms)*
                            _ => {}
                        }
                    }
                }
                ErrorCode::Unknown(code.to_string())
            }

            /// The registry entry of the code; `None` for an unknown code.
            pub fn spec(&self) -> ::core::option::Option<&'static ErrorSpec> {
                match self {
                    #(#index_arms)*
                    ErrorCode::Unknown(_) => ::core::option::Option::None,
                }
            }

            /// The code as P100 spells it, e.g. `"P432"`.
            pub fn as_str(&self) -> &str {
                match (self, self.spec()) {
                    (ErrorCode::Unknown(code), _) => code,
                    (_, ::core::option::Option::Some(spec)) => spec.code,
                    (_, ::core::option::Option::None) => "",
                }
            }

            /// The title the documentation gives the code (e.g. `"Invalid Exchange Lock"`), where a
            /// page shows one.
            pub fn title(&self) -> ::core::option::Option<&'static str> {
                self.spec().and_then(|s| s.title)
            }

            /// The kebab-case `errorName` P100 sends with the code, where the docs show one (e.g.
            /// `"insufficient-funds"` for `P433`).
            pub fn error_name(&self) -> ::core::option::Option<&'static str> {
                self.spec().and_then(|s| s.error_name)
            }

            /// How a caller should react to the code; `None` for an unknown code.
            pub fn class(&self) -> ::core::option::Option<ErrorClass> {
                self.spec().map(|s| s.class)
            }

            /// Whether the code is one the registry knows (not [`ErrorCode::Unknown`]).
            pub fn is_known(&self) -> bool {
                !matches!(self, ErrorCode::Unknown(_))
            }

            /// Whether the code says a transient condition (class `transient`).
            pub fn is_transient(&self) -> bool {
                self.class() == ::core::option::Option::Some(ErrorClass::Transient)
            }

            /// Whether the code says that the thing the call names does not exist (class `not-found`).
            pub fn is_not_found(&self) -> bool {
                self.class() == ::core::option::Option::Some(ErrorClass::NotFound)
            }
        }

        impl ::core::fmt::Display for ErrorCode {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for ErrorCode {
            type Err = ::core::convert::Infallible;

            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                ::core::result::Result::Ok(ErrorCode::parse(s))
            }
        }

        impl ::core::convert::From<&str> for ErrorCode {
            fn from(code: &str) -> Self {
                ErrorCode::parse(code)
            }
        }

        impl ::core::convert::From<::std::string::String> for ErrorCode {
            fn from(code: ::std::string::String) -> Self {
                ErrorCode::parse(&code)
            }
        }

        /// The title of P100's HTTP 401 answer; its plain-text body is `"<title>. <reason>"`.
        pub const ACCESS_DENIED: &str = #auth_title;

        /// The facts entry that shows the 401 answer.
        pub const ACCESS_DENIED_FACTS: &str = #auth_facts;

        /// Why P100 answered HTTP 401 `Access Denied`: the reason code at the end of its
        /// plain-text message (`x-p100-errors.auth.reasons`).
        ///
        /// ```
        /// use p100_api::catalog::AuthFailure;
        ///
        /// assert_eq!(AuthFailure::from_reason("Access Denied. xo2"), Some(AuthFailure::WrongApiKey));
        /// assert_eq!(AuthFailure::IpNotAllowed.reason_code(), "xo3");
        /// assert_eq!(AuthFailure::MissingApiKey.body(), "Access Denied. xo1");
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AuthFailure {
            #(#auth_variants)*
        }

        impl AuthFailure {
            /// Every reason the registry knows.
            pub const ALL: [AuthFailure; #auth_count] = [#(#auth_all),*];

            /// The reason code P100 sends (`"xo1"`).
            pub fn reason_code(self) -> &'static str {
                match self {
                    #(#auth_codes)*
                }
            }

            /// What the reason means.
            pub fn description(self) -> &'static str {
                match self {
                    #(#auth_descriptions)*
                }
            }

            /// The plain-text body P100 answers with (`"Access Denied. xo1"`).
            pub fn body(self) -> ::std::string::String {
                ::std::format!("{}. {}", ACCESS_DENIED, self.reason_code())
            }

            /// Finds the reason code in a 401 message such as `Access Denied. xo1` (a word made of
            /// a known reason code, in any case).
            pub fn from_reason(message: &str) -> ::core::option::Option<Self> {
                message
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .find_map(|word| match word.to_ascii_lowercase().as_str() {
                        #(#auth_from)*
                        _ => ::core::option::Option::None,
                    })
            }
        }

        impl ::core::fmt::Display for AuthFailure {
            /// `xo1 (The request carried no API key.)`
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::write!(f, "{} ({})", self.reason_code(), self.description())
            }
        }

        /// An answer the docs never show that a faithful simulation still has to give
        /// (`x-p100-errors.undocumented`). Its code is the sandbox's own, never a P-code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct UndocumentedAnswer {
            /// The registry's name of the answer.
            pub name: &'static str,
            /// The sandbox's own `errorCode`.
            pub code: &'static str,
            /// The HTTP status.
            pub http: u16,
            /// Why the docs cannot say.
            pub description: &'static str,
        }

        /// The answers of `x-p100-errors.undocumented`, by name.
        pub mod undocumented {
            use super::UndocumentedAnswer;
            #(#undocumented)*
        }
    })
}

fn error_class(class: &str, at: &str) -> Result<Ident> {
    Ok(format_ident!(
        "{}",
        match class {
            "accepted" => "Accepted",
            "validation" => "Validation",
            "not-found" => "NotFound",
            "business" => "Business",
            "transient" => "Transient",
            "internal" => "Internal",
            "auth" => "Auth",
            other => bail!("{at}: unknown error class {other:?}"),
        }
    ))
}

// ---------------------------------------------------------------- statuses

struct StatusSet {
    schema: String,
    values: Vec<(String, String, bool)>,
}

fn status_sets(doc: &Doc, ordered: &serde_yaml::Value) -> Result<Vec<StatusSet>> {
    let mut out = Vec::new();
    for (name, schema) in doc.schemas {
        let Some(classes) = schema.get("x-p100-status-classes") else {
            continue;
        };
        let classes = classes
            .as_object()
            .with_context(|| format!("{name}: x-p100-status-classes is not a map"))?;
        let mut values = Vec::new();
        for (value, entry) in classes {
            let at = format!("{name}.x-p100-status-classes.{value}");
            let class = str_at(entry, "class", &at)?.to_owned();
            let documented = match str_at(entry, "knowledge", &at)? {
                "documented" => true,
                "inferred" => false,
                other => bail!("{at}: knowledge {other:?} is neither documented nor inferred"),
            };
            values.push((value.clone(), class, documented));
        }
        // The spec's order: the first value of a class is the one a simulation reports.
        let order = crate::spec::keys_in_order(
            ordered,
            &["components", "schemas", name, "x-p100-status-classes"],
        );
        values.sort_by_key(|(value, _, _)| order.iter().position(|v| v == value));
        out.push(StatusSet {
            schema: name.clone(),
            values,
        });
    }
    Ok(out)
}

fn status_class(class: &str, at: &str) -> Result<Ident> {
    Ok(format_ident!(
        "{}",
        match class {
            "succeeded" => "Succeeded",
            "failed" => "Failed",
            "in-progress" => "InProgress",
            "state" => "State",
            other => bail!("{at}: unknown status class {other:?}"),
        }
    ))
}

fn statuses(sets: &[StatusSet]) -> Result<TokenStream> {
    let mut consts = Vec::new();
    let mut all = Vec::new();
    for set in sets {
        let konst = upper_snake(&set.schema);
        let schema = &set.schema;
        let mut values = Vec::new();
        for (value, class, documented) in &set.values {
            let class = status_class(class, &format!("{schema}.{value}"))?;
            let knowledge = if *documented {
                quote!(Knowledge::Documented)
            } else {
                quote!(Knowledge::Inferred)
            };
            values.push(quote! {
                StatusValue { value: #value, class: StatusClass::#class, knowledge: #knowledge }
            });
        }
        let doc = format!("The classes of `{schema}`'s values.");
        consts.push(quote! {
            #[doc = #doc]
            pub const #konst: StatusSet = StatusSet { schema: #schema, values: &[#(#values),*] };
        });
        all.push(quote!(status_sets::#konst));
    }
    let count = all.len();
    Ok(quote! {
        /// Whether a value comes from the documentation or is our inference.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Knowledge {
            /// A documentation page shows it.
            Documented,
            /// No page shows it: our best guess, listed in the README's known gaps.
            Inferred,
        }

        /// What a status value says about the record (`x-p100-status-classes`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum StatusClass {
            /// Final: it worked.
            Succeeded,
            /// Final: it did not work.
            Failed,
            /// Not final yet.
            InProgress,
            /// A state of a long-lived record (a card), not the outcome of an operation.
            State,
        }

        impl StatusClass {
            /// Whether a record in this class will not change any more (succeeded or failed).
            pub fn is_final(self) -> bool {
                matches!(self, StatusClass::Succeeded | StatusClass::Failed)
            }
        }

        /// One value of a status set and its class.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct StatusValue {
            /// The value as P100 spells it.
            pub value: &'static str,
            /// What it says.
            pub class: StatusClass,
            /// Whether the docs show it.
            pub knowledge: Knowledge,
        }

        /// The classes of one status schema's values.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct StatusSet {
            /// The component schema (`"ExchangeStatus"`).
            pub schema: &'static str,
            /// Its values, documented and inferred.
            pub values: &'static [StatusValue],
        }

        impl StatusSet {
            /// The entry of `value`, compared without regard to case (the oldest pages wrote
            /// statuses in lowercase).
            pub fn find(&self, value: &str) -> ::core::option::Option<&'static StatusValue> {
                self.values.iter().find(|v| v.value.eq_ignore_ascii_case(value))
            }

            /// The class of `value`; `None` for a value the set does not list.
            pub fn classify(&self, value: &str) -> ::core::option::Option<StatusClass> {
                self.find(value).map(|v| v.class)
            }

            /// Whether the docs show `value` for this set.
            pub fn documents(&self, value: &str) -> bool {
                self.find(value).is_some_and(|v| v.knowledge == Knowledge::Documented)
            }

            /// The value to report for a record in `class`: the first documented value of that
            /// class, else the first inferred one. A `const fn`, so that a simulation can take its
            /// words at compile time and fail to build if the spec loses one.
            pub const fn first(&self, class: StatusClass) -> ::core::option::Option<&'static str> {
                let mut pass = 0;
                while pass < 2 {
                    let mut i = 0;
                    while i < self.values.len() {
                        let v = &self.values[i];
                        let documented = matches!(v.knowledge, Knowledge::Documented);
                        if v.class as u8 == class as u8 && (documented || pass == 1) {
                            return ::core::option::Option::Some(v.value);
                        }
                        i += 1;
                    }
                    pass += 1;
                }
                ::core::option::Option::None
            }
        }

        /// Every status set, by schema name.
        pub mod status_sets {
            use super::{Knowledge, StatusClass, StatusSet, StatusValue};
            #(#consts)*
        }

        /// Every status set of the spec, sorted by schema name.
        pub const STATUS_SETS: [StatusSet; #count] = [#(#all),*];

        /// The status set of a schema (`"ExchangeStatus"`).
        pub fn status_set(schema: &str) -> ::core::option::Option<&'static StatusSet> {
            STATUS_SETS.iter().find(|s| s.schema == schema)
        }
    })
}

// ---------------------------------------------------------------- operations and waiters

struct Waiter {
    record: String,
    create: String,
    details: String,
    details_path: String,
    details_schema: String,
    parameter: String,
    from_response: bool,
    field: String,
    status: Vec<(String, String)>,
    error: Option<String>,
}

fn waiter(doc: &Doc, id: &str, op: &Value) -> Result<Option<Waiter>> {
    let Some(w) = op.get("x-p100-waiter") else {
        return Ok(None);
    };
    let at = format!("{id}.x-p100-waiter");
    let link_name = str_at(w, "link", &at)?;
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .with_context(|| format!("{id}: no responses"))?;
    let mut found: Option<(String, String, String)> = None;
    for (code, response) in responses.iter().filter(|(c, _)| c.starts_with('2')) {
        let link = response
            .pointer(&format!("/links/{link_name}"))
            .with_context(|| format!("{id}: response {code} has no links.{link_name}"))?;
        let target = str_at(link, "operationId", &format!("{id}.links.{link_name}"))?;
        let params = link
            .get("parameters")
            .and_then(Value::as_object)
            .with_context(|| format!("{id}.links.{link_name}: no parameters"))?;
        if params.len() != 1 {
            bail!("{id}.links.{link_name}: a waiter polls an operation with exactly one parameter");
        }
        let (param, expr) = params.iter().next().context("checked")?;
        let expr = expr
            .as_str()
            .with_context(|| format!("{id}.links.{link_name}: not a runtime expression"))?;
        let this = (target.to_owned(), param.clone(), expr.to_owned());
        if let Some(previous) = &found {
            if previous != &this {
                bail!("{id}: the success responses' links.{link_name} differ");
            }
        }
        found = Some(this);
    }
    let (details, parameter, expr) =
        found.with_context(|| format!("{id}: x-p100-waiter without a success response"))?;
    let (from_response, field) = if let Some(f) = expr.strip_prefix("$response.body#/") {
        (true, f.to_owned())
    } else if let Some(f) = expr.strip_prefix("$request.body#/") {
        (false, f.to_owned())
    } else {
        bail!("{id}: link expression {expr:?} is neither $response.body#/… nor $request.body#/…");
    };
    let (_, details_path, details_op) = doc
        .operations
        .get(&details)
        .with_context(|| format!("{id}: the waiter polls unknown operation {details}"))?;
    let success = details_op
        .pointer("/responses/200")
        .with_context(|| format!("{details}: no 200 response"))?;
    let details_schema = doc.json_body(success, &details)?.to_owned();
    let mut status = Vec::new();
    for field in strings(w.get("status"), &format!("{at}.status"))? {
        let set = doc
            .property_schema(&details_schema, &field)
            .with_context(|| format!("{at}: {details_schema}.{field} is not a $ref to a schema"))?;
        if doc.schema(set)?.get("x-p100-status-classes").is_none() {
            bail!("{at}: {set} (of {details_schema}.{field}) has no x-p100-status-classes");
        }
        status.push((field, set.to_owned()));
    }
    if status.is_empty() {
        bail!("{at}: no status field");
    }
    let error = opt_str(w, "error").map(str::to_owned);
    let record = str_at(w, "record", &at)?.to_owned();
    Ok(Some(Waiter {
        record,
        create: id.to_owned(),
        details,
        details_path: details_path.clone(),
        details_schema,
        parameter,
        from_response,
        field,
        status,
        error,
    }))
}

/// The catalog's `Effect` variant of an operation's `x-p100-effect` (`moves-money` → `MovesMoney`).
pub(crate) fn effect_variant(operation: &str, effect: Option<&str>) -> Result<Ident> {
    match effect {
        Some(name @ ("read" | "lock" | "moves-money" | "changes-state")) => Ok(pascal(name)),
        other => bail!(
            "{operation}: x-p100-effect {other:?} is not read, lock, moves-money or changes-state"
        ),
    }
}

fn operations(doc: &Doc) -> Result<(TokenStream, Vec<Waiter>)> {
    let mut entries = Vec::new();
    let mut waiters = Vec::new();
    for (id, (method, path, op)) in &doc.operations {
        let effect = effect_variant(id, op.get("x-p100-effect").and_then(Value::as_str))?;
        let effect = quote!(Effect::#effect);
        let tag = op
            .pointer("/tags/0")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let generated = op.get("x-p100-codegen").and_then(Value::as_str) != Some("skip");
        let waiter_index = match waiter(doc, id, op)? {
            Some(w) => {
                waiters.push(w);
                let i = waiters.len() - 1;
                quote!(::core::option::Option::Some(#i))
            }
            None => quote!(::core::option::Option::None),
        };
        entries.push(quote! {
            OperationSpec {
                operation_id: #id,
                method: #method,
                path: #path,
                tag: #tag,
                effect: #effect,
                generated: #generated,
                waiter: #waiter_index,
            }
        });
    }
    let count = entries.len();
    let waiter_entries = waiters.iter().map(|w| {
        let Waiter {
            record,
            create,
            details,
            details_path,
            details_schema,
            parameter,
            from_response,
            field,
            status,
            error,
        } = w;
        let source = if *from_response {
            quote!(IdSource::ResponseBody(#field))
        } else {
            quote!(IdSource::RequestBody(#field))
        };
        let status = status.iter().map(|(field, set)| {
            let konst = upper_snake(set);
            quote!(StatusField { field: #field, set: &status_sets::#konst })
        });
        let error = option(error.as_deref());
        quote! {
            WaiterSpec {
                record: #record,
                create: #create,
                details: #details,
                details_path: #details_path,
                details_schema: #details_schema,
                parameter: #parameter,
                id: #source,
                status: &[#(#status),*],
                error_field: #error,
            }
        }
    });
    let waiter_count = waiters.len();
    let mut polled: Vec<&Waiter> = Vec::new();
    for w in &waiters {
        match polled.iter().find(|p| p.details == w.details) {
            Some(p) if p.record != w.record || p.status != w.status => bail!(
                "{} and {} poll {} but name another record or other status fields",
                p.create,
                w.create,
                w.details
            ),
            Some(_) => {}
            None => polled.push(w),
        }
    }
    let waiter_rows = polled.iter().map(|w| {
        let schema = format_ident!("{}", w.details_schema);
        let record = &w.record;
        let details = &w.details;
        let path = &w.details_path;
        let fields = w.status.iter().map(|(f, _)| format_ident!("{}", snake(f)));
        let sets = w.status.iter().map(|(_, set)| format_ident!("{}", set));
        quote!((#schema, #record, #details, #path, [#(#fields: #sets),*]),)
    });
    let mut status_types: Vec<&str> = Vec::new();
    for (_, set) in waiters.iter().flat_map(|w| &w.status) {
        if !status_types.contains(&set.as_str()) {
            status_types.push(set);
        }
    }
    let status_impls = status_types.iter().map(|set| {
        let ty = format_ident!("{}", set);
        let is_enum = doc
            .schemas
            .get(*set)
            .is_some_and(|s| s.get("enum").is_some() || s.get("x-extensible-enum").is_some());
        let text = if is_enum {
            quote!(self.as_str())
        } else {
            quote!(self.0.as_str())
        };
        quote! {
            impl StatusText for crate::types::#ty {
                fn status_text(&self) -> ::core::option::Option<&str> {
                    ::core::option::Option::Some(#text)
                }
            }
        }
    });
    let status_text = quote! {
        /// The text of a status value as P100 sent it, for the status types the waiters read
        /// (and `Option`s of them).
        pub trait StatusText {
            /// The value's text; `None` for an absent field.
            fn status_text(&self) -> ::core::option::Option<&str>;
        }

        impl<T: StatusText> StatusText for ::core::option::Option<T> {
            fn status_text(&self) -> ::core::option::Option<&str> {
                self.as_ref().and_then(StatusText::status_text)
            }
        }

        #(#status_impls)*
    };
    let tokens = quote! {
        /// What an operation does to P100's state (`x-p100-effect`), which decides whether a
        /// client may send it again.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Effect {
            /// Changes nothing; safe to repeat.
            Read,
            /// Creates a rate lock and nothing else; safe to repeat.
            Lock,
            /// Moves money. Sent once; a lost answer is an unknown outcome, to be reconciled
            /// before sending again.
            MovesMoney,
            /// Changes something that is not money (a user, a card, a KYC submission). Sent once.
            ChangesState,
        }

        impl Effect {
            /// Whether sending the request twice does no more than sending it once
            /// ([`Read`](Self::Read) and [`Lock`](Self::Lock)).
            pub fn is_safe_to_repeat(self) -> bool {
                matches!(self, Effect::Read | Effect::Lock)
            }
        }

        /// One operation of the spec.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct OperationSpec {
            /// The `operationId` (the raw client's method name).
            pub operation_id: &'static str,
            /// The HTTP method, upper case.
            pub method: &'static str,
            /// The path template (`/v1/exchange/details/{exchangeId}`).
            pub path: &'static str,
            /// Its tag.
            pub tag: &'static str,
            /// What it does.
            pub effect: Effect,
            /// Whether the raw client has a method for it (uploads are hand-written).
            pub generated: bool,
            /// Its index in [`WAITERS`], when its outcome comes later.
            pub waiter: ::core::option::Option<usize>,
        }

        impl OperationSpec {
            /// How its outcome is polled, when it comes later.
            pub fn waiter(&self) -> ::core::option::Option<&'static WaiterSpec> {
                self.waiter.map(|i| &WAITERS[i])
            }
        }

        /// Every operation of the spec, sorted by `operationId`.
        pub const OPERATIONS: [OperationSpec; #count] = [#(#entries),*];

        /// The operation with this `operationId`.
        pub fn operation(operation_id: &str) -> ::core::option::Option<&'static OperationSpec> {
            OPERATIONS
                .binary_search_by(|op| op.operation_id.cmp(operation_id))
                .ok()
                .map(|i| &OPERATIONS[i])
        }

        /// Where a waiter finds the id it polls with.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum IdSource {
            /// A field of the create's answer (`$response.body#/exchangeId`).
            ResponseBody(&'static str),
            /// A field of the create's request (`$request.body#/externalUserId`).
            RequestBody(&'static str),
        }

        /// A status field of a details answer and its set.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct StatusField {
            /// The field (`"status"`).
            pub field: &'static str,
            /// The classes of its values.
            pub set: &'static StatusSet,
        }

        /// How the outcome of a create is polled (`x-p100-waiter` and the response's `links`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct WaiterSpec {
            /// What is waited for, in words (`"exchange"`, `"SEPA transfer"`).
            pub record: &'static str,
            /// The create (`"exchange_create"`).
            pub create: &'static str,
            /// The details operation polled (`"exchange_get"`).
            pub details: &'static str,
            /// Its path template.
            pub details_path: &'static str,
            /// The schema of its answer (`"ExchangeDetails"`).
            pub details_schema: &'static str,
            /// Its one path parameter (`"exchangeId"`).
            pub parameter: &'static str,
            /// Where the parameter's value comes from.
            pub id: IdSource,
            /// The status fields of the answer, from the general to the specific. With several,
            /// the record has succeeded when any field's value succeeded; otherwise the last field
            /// present (the most specific) decides.
            pub status: &'static [StatusField],
            /// The answer's field holding P100's error object, if the spec names one.
            pub error_field: ::core::option::Option<&'static str>,
        }

        impl WaiterSpec {
            /// The class of a record whose status fields hold `values` (in the order of
            /// [`status`](Self::status); `None` for an absent field). `None` when no present
            /// value is listed.
            pub fn classify(&self, values: &[::core::option::Option<&str>]) -> ::core::option::Option<StatusClass> {
                let classes = self.status.iter().zip(values).map(|(field, value)| {
                    value.map(|v| field.set.classify(v))
                });
                if classes.clone().any(|c| c == ::core::option::Option::Some(::core::option::Option::Some(StatusClass::Succeeded))) {
                    return ::core::option::Option::Some(StatusClass::Succeeded);
                }
                classes.flatten().last().flatten()
            }
        }

        #status_text

        /// Calls `$m! { (DetailsSchema, "record", "details_operation", "path", [status_field: StatusSchema, …]), … }`
        /// with one row per details operation a waiter polls (the status fields as the Rust
        /// field names of the answer type, each with its status type). For crates that build
        /// per-kind code.
        #[doc(hidden)]
        #[macro_export]
        macro_rules! with_waiters {
            ($m:ident) => {
                $m! { #(#waiter_rows)* }
            };
        }

        /// Every waiter of the spec, in the order of [`OPERATIONS`].
        pub const WAITERS: [WaiterSpec; #waiter_count] = [#(#waiter_entries),*];

        /// The waiters that poll `details` (`"exchange_get"`), e.g. to find its status fields.
        pub fn waiters_polling(details: &str) -> impl Iterator<Item = &'static WaiterSpec> + '_ {
            WAITERS.iter().filter(move |w| w.details == details)
        }
    };
    Ok((tokens, waiters))
}

// ---------------------------------------------------------------- webhooks

struct Kind {
    name: String,
    title: String,
    schema: String,
    known: Vec<String>,
    required: Vec<String>,
    dedupe: Vec<String>,
    status_set: Option<String>,
    documented: bool,
}

fn kinds(doc: &Doc) -> Result<Vec<Kind>> {
    let Some(webhooks) = doc.doc.get("x-webhooks").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, item) in webhooks {
        let at = format!("x-webhooks/{name}");
        let post = item
            .get("post")
            .with_context(|| format!("{at}: no `post` operation"))?;
        let body = post
            .get("requestBody")
            .with_context(|| format!("{at}: no request body"))?;
        let schema = doc.json_body(body, &at)?.to_owned();
        let body = doc.schema(&schema)?;
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
        let facts = post
            .pointer("/x-p100-source/facts/0")
            .and_then(Value::as_str)
            .with_context(|| format!("{at}: x-p100-source.facts is empty"))?;
        let title = facts
            .split_once('#')
            .map(|(_, t)| t)
            .with_context(|| format!("{at}: facts entry {facts:?} is not file#title"))?;
        // "User SEPA Transfer Webhook (older: SEPA Transfer)" → the current title.
        let title = title.split(" (").next().unwrap_or(title).trim().to_owned();
        let status_set = doc
            .property_schema(&schema, "status")
            .filter(|s| {
                doc.schemas
                    .get(*s)
                    .is_some_and(|s| s.get("x-p100-status-classes").is_some())
            })
            .map(str::to_owned);
        out.push(Kind {
            name: name.clone(),
            title,
            schema,
            documented: !known.is_empty(),
            known,
            required,
            dedupe,
            status_set,
        });
    }
    Ok(out)
}

fn webhooks(doc: &Doc, order: &[String]) -> Result<TokenStream> {
    // The rows of the callback macro keep the spec's order (the order users read the kinds in);
    // `ALL` is sorted by name.
    let mut in_spec_order = kinds(doc)?;
    in_spec_order.sort_by_key(|k| order.iter().position(|name| name == &k.name));
    let mut kinds: Vec<&Kind> = in_spec_order.iter().collect();
    kinds.sort_by(|a, b| a.name.cmp(&b.name));
    let schedule = doc
        .doc
        .pointer("/x-p100-delivery-schedule/retry-delays-seconds")
        .and_then(Value::as_array)
        .context("x-p100-delivery-schedule.retry-delays-seconds missing")?
        .iter()
        .map(|v| {
            v.as_u64()
                .context("a retry delay is not a whole number of seconds")
        })
        .collect::<Result<Vec<u64>>>()?;
    let schedule_facts = doc
        .doc
        .pointer("/x-p100-delivery-schedule/facts")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let entries = kinds.iter().map(|k| {
        let Kind {
            name,
            title,
            schema,
            known,
            required,
            dedupe,
            status_set,
            documented,
        } = k;
        let status = match status_set {
            Some(set) => {
                let konst = upper_snake(set);
                quote!(::core::option::Option::Some(&super::status_sets::#konst))
            }
            None => quote!(::core::option::Option::None),
        };
        quote! {
            WebhookSpec {
                kind: #name,
                title: #title,
                schema: #schema,
                documented: #documented,
                known_fields: &[#(#known),*],
                required_fields: &[#(#required),*],
                dedupe_fields: &[#(#dedupe),*],
                status: #status,
            }
        }
    });
    // The callback list the ergonomic crate builds its per-kind enums from: variant, name,
    // title, payload schema, carrier type (boxed when the body has more than two fields, so that
    // an event stays small; the undocumented carrier when the spec knows no field) and the Rust
    // field names of the dedupe key.
    let rows = in_spec_order.iter().map(|k| {
        let variant = pascal(&k.name);
        let name = &k.name;
        let title = &k.title;
        let schema = format_ident!("{}", k.schema);
        let carrier = if !k.documented {
            quote!($undocumented)
        } else if k.known.len() > 2 {
            quote!(Box<::p100_api::types::#schema>)
        } else {
            quote!(::p100_api::types::#schema)
        };
        let dedupe = if !k.documented {
            quote!(whole)
        } else if k.dedupe.is_empty() {
            quote!(none)
        } else {
            let fields = k.dedupe.iter().map(|f| snake(f));
            quote!([#(#fields),*])
        };
        quote!((#variant, #name, #title, #schema, #carrier, #dedupe),)
    });
    let names = kinds.iter().map(|k| {
        let konst = upper_snake(&k.name);
        let name = &k.name;
        let doc = format!("`{name}`: the {}.", k.title);
        quote!(#[doc = #doc] pub const #konst: &str = #name;)
    });
    let count = kinds.len();
    let retries = schedule.len();
    Ok(quote! {
        /// What the spec's `x-webhooks` says about each webhook kind P100 sends, and how P100
        /// delivers them (`x-p100-delivery-schedule`).
        pub mod webhooks {
            /// One webhook kind as the spec describes it.
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub struct WebhookSpec {
                /// The catalog's name of the kind (`"crypto_deposit"`).
                pub kind: &'static str,
                /// The title of its documentation page.
                pub title: &'static str,
                /// The component schema of its body (a type in [`crate::types`]).
                pub schema: &'static str,
                /// Whether the docs show any field of its body.
                pub documented: bool,
                /// The body fields the schema names, sorted.
                pub known_fields: &'static [&'static str],
                /// The fields the schema marks required.
                pub required_fields: &'static [&'static str],
                /// `x-p100-dedupe-key`: the fields that identify one event across P100's retries
                /// (empty: the whole body does).
                pub dedupe_fields: &'static [&'static str],
                /// The status set of its `status` field, if it has one.
                pub status: ::core::option::Option<&'static super::StatusSet>,
            }

            /// Every kind in the spec, sorted by name.
            pub const ALL: [WebhookSpec; #count] = [#(#entries),*];

            /// The name of every kind, as a constant (a misspelt kind does not compile).
            pub mod kind {
                #(#names)*
            }

            /// The kind named `kind` (`"crypto_deposit"`), if the spec has it.
            pub fn find(kind: &str) -> ::core::option::Option<&'static WebhookSpec> {
                ALL.iter().find(|spec| spec.kind == kind)
            }

            /// The delays, in seconds, after which P100 retries a failed delivery: one attempt at
            /// once, then one after each delay.
            pub const RETRY_DELAYS_SECS: [u64; #retries] = [#(#schedule),*];

            /// How many attempts P100 makes in all.
            pub const ATTEMPTS: usize = #retries + 1;

            /// The facts entry of the schedule.
            pub const SCHEDULE_FACTS: &str = #schedule_facts;
        }

        /// Calls `$m! { (Variant, "name", "title", PayloadSchema, CarrierType, Dedupe), … }` with one
        /// row per webhook kind of the spec; `$undocumented` is the carrier type of the kinds whose
        /// body the docs never show. `Dedupe` is `[field, …]` (the Rust field names of
        /// `x-p100-dedupe-key`), `whole` (an undocumented body: the whole body is the key) or
        /// `none` (no key fields, and the type keeps only part of the body). For crates that build
        /// per-kind code.
        #[doc(hidden)]
        #[macro_export]
        macro_rules! with_webhook_kinds {
            ($m:ident, $undocumented:ty) => {
                $m! { #(#rows)* }
            };
        }
    })
}

/// The catalog module's source. `ordered` is the spec as YAML, for the order of status values
/// and webhook kinds (the JSON form has sorted every mapping).
pub fn generate(doc: &Value, ordered: &serde_yaml::Value) -> Result<TokenStream> {
    let doc = Doc::new(doc)?;
    let errors = errors(&doc)?;
    let sets = status_sets(&doc, ordered)?;
    let statuses = statuses(&sets)?;
    let (operations, _) = operations(&doc)?;
    let webhooks = webhooks(&doc, &crate::spec::keys_in_order(ordered, &["x-webhooks"]))?;
    Ok(quote! {
        //! What P100 does, as the spec's behaviour extensions say (spec/CONVENTIONS.md,
        //! "Behaviour"): the error registry, each operation's effect, the waiters, the classes of
        //! every status value, the webhook kinds and P100's delivery schedule.
        //!
        //! Generated by `cargo xtask codegen`; the ergonomic client and the sandbox read it, so a
        //! spec change reaches both by regenerating.
        #errors
        #statuses
        #operations
        #webhooks
    })
}

#[cfg(test)]
mod tests {
    //! A spec change reaches the catalog, and through it the SDK and the sandbox (which keep no
    //! tables of their own: `tests/no_hand_tables.rs`), by regenerating alone. Each test edits a
    //! copy of the real spec and reads the generated source.

    use super::*;

    fn spec() -> (Value, serde_yaml::Value) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/p100.yaml");
        let ordered = crate::spec::load_ordered(&path).expect("spec");
        (crate::spec::load(&path).expect("spec"), ordered)
    }

    fn generated(doc: &Value, ordered: &serde_yaml::Value) -> String {
        let tokens = generate(doc, ordered).expect("generate");
        let file: syn::File = syn::parse2(tokens).expect("parses");
        prettyplease::unparse(&file)
    }

    /// Both forms of the spec edited alike (the YAML form only gives orders).
    fn edit(
        doc: &mut Value,
        ordered: &mut serde_yaml::Value,
        pointer: &str,
        key: &str,
        value: Value,
    ) {
        doc.pointer_mut(pointer)
            .and_then(Value::as_object_mut)
            .expect(pointer)
            .insert(key.into(), value.clone());
        let mut node = &mut *ordered;
        for part in pointer.trim_start_matches('/').split('/') {
            node = node.get_mut(part).expect(part);
        }
        node.as_mapping_mut()
            .expect("mapping")
            .insert(key.into(), serde_yaml::to_value(&value).expect("yaml"));
    }

    #[test]
    fn a_new_error_code_becomes_a_variant_with_its_class() {
        let (mut doc, mut ordered) = spec();
        let before = generated(&doc, &ordered);
        assert!(!before.contains("P499"));
        edit(
            &mut doc,
            &mut ordered,
            "/x-p100-errors/codes",
            "P499",
            serde_json::json!({
                "identifier": "daily-limit-reached", "title": "Daily limit reached",
                "http": 400, "class": "business", "facts": "guides.yaml#Error Handling",
                "description": "A test code."
            }),
        );
        let after = generated(&doc, &ordered);
        assert!(after.contains("DailyLimitReached,"), "no variant");
        assert!(after.contains("\"P499\" => return ErrorCode::DailyLimitReached"));
        assert!(after.contains("code: \"P499\""));
        assert!(after.contains("title: ::core::option::Option::Some(\"Daily limit reached\")"));
    }

    #[test]
    fn a_new_status_value_gets_its_class() {
        let (mut doc, mut ordered) = spec();
        edit(
            &mut doc,
            &mut ordered,
            "/components/schemas/ExchangeStatus/x-p100-status-classes",
            "ON_HOLD",
            serde_json::json!({"class": "in-progress", "knowledge": "inferred"}),
        );
        let after = generated(&doc, &ordered);
        let exchange = after
            .split("pub const EXCHANGE_STATUS: StatusSet")
            .nth(1)
            .and_then(|rest| rest.split("pub const").next())
            .expect("EXCHANGE_STATUS");
        assert!(exchange.contains("value: \"ON_HOLD\""), "{exchange}");
        assert!(exchange.contains("class: StatusClass::InProgress"));
    }

    #[test]
    fn a_new_dedupe_field_changes_the_key_of_its_kind() {
        let (mut doc, mut ordered) = spec();
        let before = generated(&doc, &ordered);
        let row = |text: &str| {
            text.split("(CryptoWithdrawal,")
                .nth(1)
                .and_then(|r| r.split(')').next())
                .map(|r| r.split_whitespace().collect::<String>())
                .expect("row")
        };
        assert!(row(&before).ends_with("[id,status]"), "{}", row(&before));
        edit(
            &mut doc,
            &mut ordered,
            "/x-webhooks/crypto_withdrawal/post",
            "x-p100-dedupe-key",
            serde_json::json!(["id", "status", "transactionHash"]),
        );
        let after = generated(&doc, &ordered);
        assert!(
            row(&after).ends_with("[id,status,transaction_hash]"),
            "{}",
            row(&after)
        );
        assert!(after.contains("dedupe_fields: &[\"id\", \"status\", \"transactionHash\"]"));
    }

    #[test]
    fn a_dedupe_field_the_body_lacks_is_refused() {
        let (mut doc, mut ordered) = spec();
        edit(
            &mut doc,
            &mut ordered,
            "/x-webhooks/crypto_withdrawal/post",
            "x-p100-dedupe-key",
            serde_json::json!(["id", "nonsense"]),
        );
        let error = generate(&doc, &ordered).expect_err("refused").to_string();
        assert!(error.contains("nonsense"), "{error}");
    }
}
