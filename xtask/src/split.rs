//! Splits each generated builder's `send` into its two halves, so that a caller with its own
//! transport (`p100-ergonomic`) builds and reads requests with the generated code without going
//! through the executor:
//!
//! - `build_request(self) -> Result<reqwest::Request, Error<types::Error>>`: everything `send`
//!   does before the hooks (parameter checks, URL, headers, body);
//! - `decode(response) -> impl Future<Output = Result<ResponseValue<T>, Error<types::Error>>>`:
//!   everything after (the status match and the body's decoding);
//! - `send(self) -> impl Future<…> + 'a`: the two, with the hooks and the executor between them.
//!
//! `decode` and `send` are one line each, calling `crate::wire::decode` and `crate::wire::send`
//! with the operation's statuses (its success codes; its error codes and ranges): progenitor's
//! status `match` is checked to have the one shape those implement (success codes read as the
//! answer, error codes and ranges as the spec's error, `_` unexpected). Two generic futures
//! instead of two `async fn`s per operation: the compiler checks them once, and a downstream
//! crate's clean build compiles `p100-api` in 3.8 s of CPU instead of 4.2. Callers see the same
//! `.send().await`; the request is still built when the future is first polled.
//!
//! More rewrites, of what every request and answer pays for:
//!
//! - a builder starts with nothing allocated: a required field's "not set" error (progenitor's
//!   `Err("x was not initialized".to_string())`, typify's `Err("no value supplied for x"…)`) is
//!   an empty `String`, and the message is written where the field is read
//!   (`crate::wire::unset`), only when it is missing;
//! - answers are read by `crate::wire::from_response`, which moves the headers out of the
//!   response where progenitor's `ResponseValue::from_response` copies them;
//! - typify's setters convert with `crate::wire::converted` and its `TryFrom`s read required
//!   fields with `crate::wire::required`: the same messages, from one function each instead of
//!   a closure (and a `format!`) in each of some 600 places;
//! - path parameters are escaped by `crate::wire::encode_path(&x)`, which borrows an id that
//!   needs no escaping, where `encode_path(&x.to_string())` copies it and formats a new string;
//! - no `api-version` header: progenitor sends the spec's `info.version` in one, which P100
//!   documents nowhere (tests/facts) and so cannot read;
//! - `Accept: application/json` is a default header of the reqwest client (`Client::new` builds
//!   it with `crate::wire::client_builder()`), not one more header of every request: a request
//!   whose headers are all on the client allocates no header map and clones none for a retry.
//!   A reqwest client given to `Client::new_with_client` sends its own `Accept`.
//!
//! The rewrite checks the shape it expects (progenitor 0.15's `send`) and fails codegen when a
//! builder does not have it, rather than emitting something else.

use anyhow::{bail, Context, Result};
use quote::quote;
use syn::visit_mut::VisitMut;

/// Rewrites every builder of `file`'s `builder` module; returns how many were split.
pub fn split_sends(file: &mut syn::File) -> Result<usize> {
    let module = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .context("the generated client has no `builder` module")?;
    let mut split = 0;
    for item in module.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let Some(index) = imp
            .items
            .iter()
            .position(|item| matches!(item, syn::ImplItem::Fn(f) if f.sig.ident == "send"))
        else {
            continue;
        };
        let syn::ImplItem::Fn(send) = &imp.items[index] else {
            continue;
        };
        let name = compact(&imp.self_ty);
        let lifetime = imp.generics.lifetimes().next().map(|l| l.lifetime.clone());
        let replacement = split_one(send, lifetime.as_ref())
            .with_context(|| format!("splitting {name}::send"))?;
        imp.items.splice(index..=index, replacement);
        split += 1;
    }
    let mut unset = Unset::default();
    unset.visit_file_mut(file);
    let mut fill = Fill {
        unset: &unset,
        filled: 0,
    };
    fill.visit_file_mut(file);
    if unset.messages.is_empty() || fill.filled == 0 {
        bail!(
            "unexpected generated client: {} allocated defaults, {} readers of them",
            unset.messages.len(),
            fill.filled
        );
    }
    let mut converted = Converted::default();
    converted.visit_file_mut(file);
    if converted.rewritten == 0 {
        bail!("unexpected generated client: no typify setter `map_err(|e| format!(…))`");
    }
    let mut rewrite = Calls::default();
    rewrite.visit_file_mut(file);
    if rewrite.encode_path == 0
        || rewrite.headers != split
        || rewrite.accept != split
        || rewrite.client_builder != 2
    {
        bail!(
            "unexpected generated client: {} encode_path, {} api-version headers, {} Accept \
             headers for {split} builders, {} reqwest::ClientBuilder::new",
            rewrite.encode_path,
            rewrite.headers,
            rewrite.accept,
            rewrite.client_builder
        );
    }
    Ok(split)
}

/// `build_request`, `decode` and the new `send` from progenitor's `send`. `lifetime` is the
/// builder's (`'a` of `impl<'a> X<'a>`), which the future `send` returns borrows.
fn split_one(
    send: &syn::ImplItemFn,
    lifetime: Option<&syn::Lifetime>,
) -> Result<Vec<syn::ImplItem>> {
    let stmts = &send.block.stmts;
    // Progenitor's order: …, `let mut request = ….build()?;`, `let info = …;`, `client.pre(…)`,
    // `let result = client.exec(…)`, `client.post(…)`, `let response = result?;`, `match …`.
    let info_at = stmts
        .iter()
        .position(|s| let_named(s, "info"))
        .context("no `let info = …`")?;
    if info_at == 0 || !let_named(&stmts[info_at - 1], "request") {
        bail!("`let info` does not follow `let mut request`");
    }
    let tail = &stmts[info_at..];
    let [info, pre, exec, post, response, decode] = tail else {
        bail!(
            "expected 6 statements from `let info` on (pre, exec, post, response, match), found {}",
            tail.len()
        );
    };
    let expect = |stmt: &syn::Stmt, text: &str| -> Result<()> {
        let found = compact(stmt);
        if found.starts_with(text) {
            Ok(())
        } else {
            bail!("expected `{text}…`, found `{found}`")
        }
    };
    expect(pre, "client.pre(&mutrequest,&info)")?;
    expect(exec, "letresult=client.exec(request,&info)")?;
    expect(post, "client.post(&result,&info)")?;
    expect(response, "letresponse=result?")?;
    let Statuses { success, errors } = statuses(decode)?;
    let errors = errors.iter().map(|(first, last)| quote!((#first, #last)));
    // `wire::decode`'s and `wire::send`'s last two arguments.
    let statuses = quote!(&[#(#success),*], &[#(#errors),*]);
    let syn::Stmt::Local(syn::Local {
        init: Some(info), ..
    }) = info
    else {
        bail!("`let info` has no value");
    };
    let info = &info.expr;
    // Without the `api-version` header map (its `.headers(header_map)` goes with `Calls`).
    let build: Vec<&syn::Stmt> = stmts[..info_at]
        .iter()
        .filter(|s| {
            let text = compact(s);
            !(text.starts_with("letmutheader_map=") || text.starts_with("header_map.append("))
        })
        .collect();
    if build.len() + 2 != info_at {
        bail!("expected the `api-version` header map's two statements before `let info`");
    }
    let output = &send.sig.output;
    let syn::ReturnType::Type(_, answer) = output else {
        bail!("`send` returns nothing");
    };
    // `wire::decode` reads every 4xx and 5xx as the spec's one error schema.
    let answer_text = compact(answer).replace(",>", ">");
    if !answer_text.ends_with(",Error<types::Error>>") {
        bail!("`send` returns `{answer_text}`, not `Result<_, Error<types::Error>>`");
    }
    let borrows = lifetime.map(|l| quote!(+ #l));
    let doc = send
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect::<Vec<_>>();
    let items: Vec<syn::ImplItem> = vec![
        syn::parse2(quote! {
            /// The request [`send`](Self::send) would send, built and checked, without sending
            /// it (for a caller with its own transport; read the answer with
            /// [`decode`](Self::decode)).
            pub fn build_request(self) -> Result<::reqwest::Request, Error<types::Error>> {
                #(#build)*
                Ok(request)
            }
        })?,
        syn::parse2(quote! {
            /// Reads the answer to this operation's request: the documented body of a declared
            /// status, the error body of a 4xx or 5xx, or an unexpected response.
            pub fn decode(
                response: ::reqwest::Response,
            ) -> impl ::std::future::Future<Output = #answer> {
                crate::wire::decode(response, #statuses)
            }
        })?,
        syn::parse2(quote! {
            #(#doc)*
            pub fn send(self) -> impl ::std::future::Future<Output = #answer> #borrows {
                crate::wire::send(self.client, move || self.build_request(), #info, #statuses)
            }
        })?,
    ];
    Ok(items)
}

/// The statuses of progenitor's `match` on the response's status, checked to be the one shape
/// `crate::wire::decode` implements: the success statuses (each read as the answer), the error
/// statuses and ranges (each read as the spec's error body), and `_` an unexpected response.
struct Statuses {
    success: Vec<syn::LitInt>,
    /// `(first, last)` of each error arm: `(409, 409)`, `(400, 499)`.
    errors: Vec<(syn::LitInt, syn::LitInt)>,
}

fn statuses(decode: &syn::Stmt) -> Result<Statuses> {
    let syn::Stmt::Expr(syn::Expr::Match(matched), _) = decode else {
        bail!("expected `match response.status().as_u16() {{ … }}`");
    };
    let scrutinee = compact(&matched.expr);
    if scrutinee != "response.status().as_u16()" {
        bail!("expected a match on `response.status().as_u16()`, found `{scrutinee}`");
    }
    let int = |expr: Option<&syn::Expr>| match expr {
        Some(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(code),
            ..
        })) => Some(code.clone()),
        _ => None,
    };
    let mut found = Statuses {
        success: Vec::new(),
        errors: Vec::new(),
    };
    let mut otherwise = false;
    for arm in &matched.arms {
        let pat_text = compact(&arm.pat);
        let mut body = compact(&arm.body).replace(",)", ")");
        while body.starts_with('{') && body.ends_with('}') {
            body = body[1..body.len() - 1].to_string();
        }
        let error_body =
            body == "Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))";
        match &arm.pat {
            syn::Pat::Lit(syn::ExprLit {
                lit: syn::Lit::Int(code),
                ..
            }) if body == "ResponseValue::from_response(response).await" => {
                found.success.push(code.clone())
            }
            syn::Pat::Lit(syn::ExprLit {
                lit: syn::Lit::Int(code),
                ..
            }) if error_body => found.errors.push((code.clone(), code.clone())),
            syn::Pat::Range(range) if error_body => {
                let bounds = (int(range.start.as_deref()), int(range.end.as_deref()));
                let (Some(first), Some(last), syn::RangeLimits::Closed(_)) =
                    (bounds.0, bounds.1, &range.limits)
                else {
                    bail!("unexpected status range `{pat_text}`");
                };
                found.errors.push((first, last));
            }
            syn::Pat::Wild(_) if body == "Err(Error::UnexpectedResponse(response))" => {
                otherwise = true
            }
            _ => bail!("unexpected arm `{pat_text} => {body}` in the status match"),
        }
    }
    if found.success.is_empty() || !otherwise {
        bail!(
            "expected success statuses and `_` as an unexpected response; found {} success, `_`: \
             {otherwise}",
            found.success.len()
        );
    }
    Ok(found)
}

/// `tokens` as text without spaces, for comparing generated code with the shape expected.
fn compact(tokens: &impl quote::ToTokens) -> String {
    tokens.to_token_stream().to_string().replace(' ', "")
}

/// Whether `stmt` is `let NAME = …` (or `let mut NAME`).
fn let_named(stmt: &syn::Stmt, name: &str) -> bool {
    let syn::Stmt::Local(local) = stmt else {
        return false;
    };
    matches!(&local.pat, syn::Pat::Ident(p) if p.ident == name)
}

/// The call rewrites: `encode_path(&x.to_string())` → `crate::wire::encode_path(&x)`,
/// `….headers(header_map)` and `….header(ACCEPT, …)` → `…`, `reqwest::ClientBuilder::new()` →
/// `crate::wire::client_builder()`.
#[derive(Default)]
struct Calls {
    encode_path: usize,
    headers: usize,
    accept: usize,
    client_builder: usize,
}

fn path_is(expr: &syn::Expr, names: &[&str]) -> bool {
    let syn::Expr::Path(path) = expr else {
        return false;
    };
    path.path.segments.len() == names.len()
        && path
            .path
            .segments
            .iter()
            .zip(names)
            .all(|(s, n)| s.ident == n)
}

impl VisitMut for Calls {
    /// `format!("{}/v1/…/{}", client.baseurl, encode_path(…))`: macro arguments are tokens to
    /// syn, parsed here as expressions to reach the `encode_path` calls.
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format") {
            return;
        }
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        let Ok(mut args) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) else {
            return;
        };
        for arg in args.iter_mut() {
            self.visit_expr_mut(arg);
        }
        mac.tokens = quote!(#args);
    }

    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr {
            let api_version = call.method == "headers"
                && call.args.len() == 1
                && path_is(&call.args[0], &["header_map"]);
            let accept = call.method == "header"
                && call.args.len() == 2
                && path_is(&call.args[0], &["reqwest", "header", "ACCEPT"]);
            if api_version || accept {
                self.headers += usize::from(api_version);
                self.accept += usize::from(accept);
                *expr = (*call.receiver).clone();
                // The receiver may hold more rewrites.
                self.visit_expr_mut(expr);
                return;
            }
        }
        if let syn::Expr::Call(call) = expr {
            // `Client::new`'s `reqwest::ClientBuilder::new()`: with the `Accept` default.
            if path_is(&call.func, &["reqwest", "ClientBuilder", "new"]) {
                *expr = syn::parse_quote!(crate::wire::client_builder());
                self.client_builder += 1;
                return;
            }
        }
        if let syn::Expr::Call(call) = expr {
            if path_is(&call.func, &["encode_path"]) && call.args.len() == 1 {
                // `&x.to_string()` → `&x`
                if let syn::Expr::Reference(reference) = &call.args[0] {
                    if let syn::Expr::MethodCall(to_string) = &*reference.expr {
                        if to_string.method == "to_string" && to_string.args.is_empty() {
                            let value = (*to_string.receiver).clone();
                            *call.func = syn::parse_quote!(crate::wire::encode_path);
                            call.args[0] = syn::parse_quote!(&#value);
                            self.encode_path += 1;
                        }
                    }
                }
            }
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// Pass one of the "not set" rewrite: `field: Err("<message>".to_string())` in a struct
/// literal → `field: Err(String::new())`, keeping each field's message.
#[derive(Default)]
struct Unset {
    /// Field → (typify's message, progenitor's message).
    messages: std::collections::BTreeMap<String, (Option<String>, Option<String>)>,
}

impl VisitMut for Unset {
    fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
        let syn::Member::Named(name) = &field.member else {
            return;
        };
        let name = name.to_string();
        if let syn::Expr::Call(call) = &field.expr {
            if path_is(&call.func, &["Err"]) && call.args.len() == 1 {
                if let syn::Expr::MethodCall(to_string) = &call.args[0] {
                    if let syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(message),
                        ..
                    }) = &*to_string.receiver
                    {
                        let message = message.value();
                        let entry = self.messages.entry(name).or_default();
                        if message.starts_with("no value supplied for ") {
                            entry.0 = Some(message);
                        } else if message.ends_with(" was not initialized") {
                            entry.1 = Some(message);
                        } else {
                            return;
                        }
                        field.expr = syn::parse_quote!(Err(::std::string::String::new()));
                        return;
                    }
                }
            }
        }
        syn::visit_mut::visit_field_value_mut(self, field);
    }
}

/// Pass two: where a field is read, its message back when it was never set. typify's
/// `field: value.field?` (in `TryFrom<builder::X>`) and progenitor's
/// `let field = field.map_err(Error::InvalidRequest)?;` (in `build_request`).
struct Fill<'a> {
    unset: &'a Unset,
    filled: usize,
}

impl VisitMut for Fill<'_> {
    fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
        if let (syn::Member::Named(name), syn::Expr::Try(read)) = (&field.member, &field.expr) {
            if let syn::Expr::Field(syn::ExprField {
                base,
                member: syn::Member::Named(read_name),
                ..
            }) = &*read.expr
            {
                let message = self
                    .unset
                    .messages
                    .get(&name.to_string())
                    .and_then(|(typify, _)| typify.as_deref());
                if let (true, true, Some(message)) =
                    (path_is(base, &["value"]), read_name == name, message)
                {
                    field.expr = syn::parse_quote!(
                        crate::wire::required(value.#name, #message)?
                    );
                    self.filled += 1;
                    return;
                }
            }
        }
        syn::visit_mut::visit_field_value_mut(self, field);
    }

    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        if let (syn::Pat::Ident(name), Some(init)) = (&local.pat, &mut local.init) {
            if let syn::Expr::Try(read) = &mut *init.expr {
                if let syn::Expr::MethodCall(call) = &mut *read.expr {
                    let message = self
                        .unset
                        .messages
                        .get(&name.ident.to_string())
                        .and_then(|(_, progenitor)| progenitor.as_deref());
                    if let (true, true, true, Some(message)) = (
                        call.method == "map_err",
                        path_is(&call.receiver, &[&name.ident.to_string()]),
                        call.args.len() == 1
                            && path_is(&call.args[0], &["Error", "InvalidRequest"]),
                        message,
                    ) {
                        call.args[0] = syn::parse_quote!(
                            |e| Error::InvalidRequest(crate::wire::unset(e, #message))
                        );
                        self.filled += 1;
                        return;
                    }
                }
            }
        }
        syn::visit_mut::visit_local_mut(self, local);
    }
}

/// typify's setters: `value.try_into().map_err(|e| format!("error converting supplied value
/// for x: {e}"))` → `crate::wire::converted(value.try_into(), "x")`, the same message from one
/// function instead of a closure and a `format!` in each of the hundreds of setters.
#[derive(Default)]
struct Converted {
    rewritten: usize,
}

/// The field named by typify's `format!("error converting supplied value for x: {e}")`.
fn converting_field(closure: &syn::ExprClosure) -> Option<String> {
    let [syn::Pat::Ident(arg)] = closure.inputs.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let body = match &*closure.body {
        syn::Expr::Block(block) => match &block.block.stmts[..] {
            [syn::Stmt::Expr(expr, None)] => expr,
            [syn::Stmt::Macro(mac)] => return converting_message(&mac.mac, &arg.ident),
            _ => return None,
        },
        expr => expr,
    };
    let syn::Expr::Macro(mac) = body else {
        return None;
    };
    converting_message(&mac.mac, &arg.ident)
}

fn converting_message(mac: &syn::Macro, arg: &syn::Ident) -> Option<String> {
    if !mac.path.is_ident("format") {
        return None;
    }
    let message: syn::LitStr = syn::parse2(mac.tokens.clone()).ok()?;
    let message = message.value();
    let field = message
        .strip_prefix("error converting supplied value for ")?
        .strip_suffix(&format!(": {{{arg}}}"))?;
    Some(field.to_owned())
}

impl VisitMut for Converted {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr {
            if call.method == "map_err" && call.args.len() == 1 {
                if let (syn::Expr::Closure(closure), syn::Expr::MethodCall(try_into)) =
                    (&call.args[0], &*call.receiver)
                {
                    if try_into.method == "try_into" && try_into.args.is_empty() {
                        if let Some(field) = converting_field(closure) {
                            let receiver = &call.receiver;
                            *expr = syn::parse_quote!(crate::wire::converted(#receiver, #field));
                            self.rewritten += 1;
                            return;
                        }
                    }
                }
            }
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(statuses: &Statuses) -> (Vec<String>, Vec<(String, String)>) {
        let text = |lit: &syn::LitInt| lit.base10_digits().to_owned();
        (
            statuses.success.iter().map(text).collect(),
            statuses
                .errors
                .iter()
                .map(|(first, last)| (text(first), text(last)))
                .collect(),
        )
    }

    #[test]
    fn the_status_match_is_read_into_statuses_or_refused() {
        let declared: syn::Stmt = syn::parse_quote! {
            match response.status().as_u16() {
                200u16 => ResponseValue::from_response(response).await,
                201u16 => ResponseValue::from_response(response).await,
                409u16 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                400u16..=499u16 => {
                    Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
                }
                _ => Err(Error::UnexpectedResponse(response)),
            }
        };
        let found = statuses(&declared)
            .map(|s| codes(&s))
            .map_err(|e| e.to_string());
        assert_eq!(
            found,
            Ok((
                vec!["200".to_owned(), "201".to_owned()],
                vec![
                    ("409".to_owned(), "409".to_owned()),
                    ("400".to_owned(), "499".to_owned())
                ]
            ))
        );
        // Shapes `wire::decode` does not implement stop codegen: a `default` answer read as
        // the error for every other status, an empty 204, no success status.
        let refused: [syn::Stmt; 3] = [
            syn::parse_quote! {
                match response.status().as_u16() {
                    200u16 => ResponseValue::from_response(response).await,
                    _ => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                }
            },
            syn::parse_quote! {
                match response.status().as_u16() {
                    204u16 => Ok(ResponseValue::empty(response)),
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            },
            syn::parse_quote! {
                match response.status().as_u16() {
                    400u16..=499u16 => {
                        Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
                    }
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            },
        ];
        for stmt in &refused {
            assert!(statuses(stmt).is_err(), "{}", quote!(#stmt));
        }
    }
}
