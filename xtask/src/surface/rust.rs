//! The Rust view: read from the generated client (the `types` module, its builders, the open
//! `enums`, the `Client` methods and their builders), so every name and type is the one users of
//! `p100-api` write; method, path and effect come from the spec, which the Rust code does not
//! spell out.
//!
//! Lines:
//! - `op <id>: <METHOD> <path>, effect <effect>, answer <T>, error <E>` (or `, not generated`
//!   for an operation only `p100-ergonomic` implements: an upload, a browser page);
//! - `op <id>.<setter>: <T>`: a builder setter and the type it takes. `?`: the builder starts
//!   with a value, so the call may be left out: `None` for an optional parameter, the default
//!   builder of a body's type (whose required fields its `type` lines show; `body_map` fills
//!   them one by one);
//! - `type <T>: struct` (or `newtype <U>`, `enum`, `open enum`, `alias OpenObject` for an open
//!   object);
//! - `type <T>.<field>: <U>`: a public field and its type (`?`: the type's builder does not
//!   require it);
//! - `type <T>::<Variant>: "VALUE" | "alias"`: an open enum's variant and the values it reads;
//! - `webhook <kind>: <Payload>, dedupe [<field>, …]`.
//!
//! Paths are shortened to their last segment (`::std::string::String` → `String`,
//! `::p100_api::types::DecimalString` → `DecimalString`), except `builder::` which says the value
//! is a type's builder.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use syn::{
    Expr, Fields, GenericArgument, ImplItem, Item, Pat, PathArguments, ReturnType, Stmt, Type,
    TypeParamBound, WherePredicate,
};

use super::Surface;

pub fn surface(spec: &Value, client: &str) -> Result<Surface> {
    let file = syn::parse_file(client).context("the generated client does not parse")?;
    let mut surface = Surface::default();
    let types = module(&file.items, "types")?;
    let required = builder_requirements(module(types, "builder")?);
    add_types(&mut surface, types, &required)?;
    add_enums(&mut surface, module(&file.items, "enums")?)?;
    add_aliases(&mut surface, module(&file.items, "open_objects")?)?;
    add_operations(&mut surface, spec, &file.items)?;
    super::add_webhooks(&mut surface, spec)?;
    Ok(surface)
}

/// `type <T>: alias <U>`: the open objects, each a public alias of `OpenObject`.
fn add_aliases(surface: &mut Surface, items: &[Item]) -> Result<()> {
    for item in items {
        if let Item::Type(t) = item {
            if matches!(t.vis, syn::Visibility::Public(_)) {
                let value = format!("alias {}", render_type(&t.ty));
                surface.add(format!("type {}", ident_text(&t.ident)), false, value)?;
            }
        }
    }
    Ok(())
}

fn module<'a>(items: &'a [Item], name: &str) -> Result<&'a [Item]> {
    items
        .iter()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| &items[..]),
            _ => None,
        })
        .with_context(|| format!("the generated client has no `mod {name}`"))
}

fn ident_text(ident: &syn::Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}

// ---------------------------------------------------------------- types

/// (type, field) → whether the type's builder starts without a value for it (`Err("no value
/// supplied …")`), i.e. whether building the type without that field fails.
fn builder_requirements(builders: &[Item]) -> BTreeMap<(String, String), bool> {
    let mut out = BTreeMap::new();
    for (name, block, _) in trait_impls(builders, "Default") {
        for inner in &block.items {
            let ImplItem::Fn(f) = inner else { continue };
            if let Some(fields) = struct_literal(&f.block.stmts) {
                for (field, init) in fields {
                    out.insert((name.clone(), field), is_err_call(init));
                }
            }
        }
    }
    out
}

/// The impls of the trait `name` among `items`: the type each is for, the impl, and the trait's
/// last path segment (its generic arguments).
fn trait_impls<'a>(
    items: &'a [Item],
    name: &'a str,
) -> impl Iterator<Item = (String, &'a syn::ItemImpl, &'a syn::PathSegment)> + 'a {
    items.iter().filter_map(move |item| {
        let Item::Impl(block) = item else {
            return None;
        };
        let segment = block.trait_.as_ref()?.1.segments.last()?;
        if segment.ident != name {
            return None;
        }
        Some((self_type_name(&block.self_ty)?, block, segment))
    })
}

fn self_type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| ident_text(&s.ident)),
        _ => None,
    }
}

/// The fields of the `Self { … }` a constructor ends with.
fn struct_literal(stmts: &[Stmt]) -> Option<Vec<(String, &Expr)>> {
    let Some(Stmt::Expr(Expr::Struct(literal), None)) = stmts.last() else {
        return None;
    };
    Some(
        literal
            .fields
            .iter()
            .filter_map(|f| match &f.member {
                syn::Member::Named(ident) => Some((ident_text(ident), &f.expr)),
                syn::Member::Unnamed(_) => None,
            })
            .collect(),
    )
}

fn is_err_call(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => match &*call.func {
            Expr::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Err"),
            _ => false,
        },
        _ => false,
    }
}

fn add_types(
    surface: &mut Surface,
    items: &[Item],
    required: &BTreeMap<(String, String), bool>,
) -> Result<()> {
    for item in items {
        match item {
            Item::Struct(s) if matches!(s.vis, syn::Visibility::Public(_)) => {
                let name = ident_text(&s.ident);
                match &s.fields {
                    Fields::Named(fields) => {
                        surface.add(format!("type {name}"), false, "struct")?;
                        for field in &fields.named {
                            let Some(ident) = &field.ident else { continue };
                            let field_name = ident_text(ident);
                            let needed = required
                                .get(&(name.clone(), field_name.clone()))
                                .with_context(|| {
                                    format!(
                                        "types::builder::{name} does not say whether {field_name} is required"
                                    )
                                })?;
                            surface.add(
                                format!("type {name}.{field_name}"),
                                !needed,
                                render_type(&field.ty),
                            )?;
                        }
                    }
                    Fields::Unnamed(fields) => {
                        let inner: Vec<String> =
                            fields.unnamed.iter().map(|f| render_type(&f.ty)).collect();
                        surface.add(
                            format!("type {name}"),
                            false,
                            format!("newtype {}", inner.join(", ")),
                        )?;
                    }
                    Fields::Unit => surface.add(format!("type {name}"), false, "unit struct")?,
                }
            }
            Item::Enum(e) if matches!(e.vis, syn::Visibility::Public(_)) => {
                let name = ident_text(&e.ident);
                surface.add(format!("type {name}"), false, "enum")?;
                for variant in &e.variants {
                    let shape = match &variant.fields {
                        Fields::Unit => "unit".to_owned(),
                        Fields::Unnamed(f) => format!(
                            "({})",
                            f.unnamed
                                .iter()
                                .map(|f| render_type(&f.ty))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        Fields::Named(f) => format!(
                            "{{{}}}",
                            f.named
                                .iter()
                                .map(|f| format!(
                                    "{}: {}",
                                    f.ident.as_ref().map(ident_text).unwrap_or_default(),
                                    render_type(&f.ty)
                                ))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    surface.add(
                        format!("type {name}::{}", ident_text(&variant.ident)),
                        false,
                        shape,
                    )?;
                }
            }
            Item::Type(t) if matches!(t.vis, syn::Visibility::Public(_)) => {
                surface.add(
                    format!("type {}", ident_text(&t.ident)),
                    false,
                    format!("alias {}", render_type(&t.ty)),
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The open enums: each variant with the values `From<&str>` reads into it.
fn add_enums(surface: &mut Surface, items: &[Item]) -> Result<()> {
    let mut values: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (name, block, from) in trait_impls(items, "From") {
        // `From<&str>`, or `From<String>` (where `From<&str>` lowercases and delegates).
        let from_str = matches!(&from.arguments, PathArguments::AngleBracketed(a)
        if a.args.iter().any(|arg| match arg {
            GenericArgument::Type(Type::Reference(_)) => true,
            GenericArgument::Type(Type::Path(p)) => {
                p.path.segments.last().is_some_and(|s| s.ident == "String")
            }
            _ => false,
        }));
        if !from_str {
            continue;
        }
        for inner in &block.items {
            let ImplItem::Fn(f) = inner else { continue };
            let Some(Stmt::Expr(Expr::Match(m), None)) = f.block.stmts.last() else {
                continue;
            };
            for arm in &m.arms {
                let Some(variant) = target_path(&arm.body).and_then(|p| p.segments.last()) else {
                    continue;
                };
                for value in string_patterns(&arm.pat) {
                    values
                        .entry(name.clone())
                        .or_default()
                        .push((ident_text(&variant.ident), value));
                }
            }
        }
    }
    for item in items {
        let Item::Enum(e) = item else { continue };
        let name = ident_text(&e.ident);
        surface.add(format!("type {name}"), false, "open enum")?;
        let read = values.get(&name).cloned().unwrap_or_default();
        for variant in &e.variants {
            let variant = ident_text(&variant.ident);
            let spellings: Vec<String> = read
                .iter()
                .filter(|(v, _)| *v == variant)
                .map(|(_, value)| format!("{value:?}"))
                .collect();
            if spellings.is_empty() {
                if variant == "Unknown" {
                    continue;
                }
                bail!("enums::{name}::{variant} is read from no value");
            }
            surface.add(
                format!("type {name}::{variant}"),
                false,
                spellings.join(" | "),
            )?;
        }
    }
    Ok(())
}

/// The path an arm evaluates to (`Self::Active`, or `{ Self::Active }` when prettyplease wraps it).
fn target_path(expr: &Expr) -> Option<&syn::Path> {
    match expr {
        Expr::Path(p) => Some(&p.path),
        Expr::Block(b) => match b.block.stmts.as_slice() {
            [Stmt::Expr(inner, None)] => target_path(inner),
            _ => None,
        },
        _ => None,
    }
}

fn string_patterns(pat: &Pat) -> Vec<String> {
    match pat {
        Pat::Lit(lit) => match &lit.lit {
            syn::Lit::Str(s) => vec![s.value()],
            _ => Vec::new(),
        },
        Pat::Or(or) => or.cases.iter().flat_map(string_patterns).collect(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------- operations

struct Builder {
    /// field → whether `new()` starts it without a value.
    required: BTreeMap<String, bool>,
    /// setter → (the field it sets, the type it takes)
    setters: Vec<(String, String, String)>,
    /// `answer T, error E`
    answer: Option<String>,
}

fn add_operations(surface: &mut Surface, spec: &Value, items: &[Item]) -> Result<()> {
    let methods = client_methods(items);
    let builders = builders(module(items, "builder")?)?;
    for super::Operation { id, op, head, .. } in super::operations(spec)? {
        if crate::spec::skip_reason(op).is_some() {
            surface.add(format!("op {id}"), false, format!("{head}, not generated"))?;
            continue;
        }
        let builder_name = methods
            .get(id)
            .with_context(|| format!("the generated Client has no method {id}"))?;
        let builder = builders
            .get(builder_name)
            .with_context(|| format!("no builder::{builder_name} for {id}"))?;
        let answer = builder
            .answer
            .as_deref()
            .with_context(|| format!("builder::{builder_name} has no send()"))?;
        surface.add(format!("op {id}"), false, format!("{head}, {answer}"))?;
        for (setter, field, ty) in &builder.setters {
            let required = builder.required.get(field).with_context(|| {
                format!("builder::{builder_name}::new() does not start {field}")
            })?;
            surface.add(format!("op {id}.{setter}"), !required, ty.clone())?;
        }
    }
    Ok(())
}

/// `Client` method → the builder type it returns.
fn client_methods(items: &[Item]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for item in items {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() || self_type_name(&block.self_ty).as_deref() != Some("Client") {
            continue;
        }
        for inner in &block.items {
            let ImplItem::Fn(f) = inner else { continue };
            let ReturnType::Type(_, ty) = &f.sig.output else {
                continue;
            };
            let Type::Path(p) = &**ty else { continue };
            let segments: Vec<_> = p.path.segments.iter().collect();
            if segments.len() == 2 && segments[0].ident == "builder" {
                out.insert(ident_text(&f.sig.ident), ident_text(&segments[1].ident));
            }
        }
    }
    out
}

fn builders(items: &[Item]) -> Result<BTreeMap<String, Builder>> {
    let mut out = BTreeMap::new();
    for item in items {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() {
            continue;
        }
        let Some(name) = self_type_name(&block.self_ty) else {
            continue;
        };
        let mut builder = Builder {
            required: BTreeMap::new(),
            setters: Vec::new(),
            answer: None,
        };
        for inner in &block.items {
            let ImplItem::Fn(f) = inner else { continue };
            let fn_name = ident_text(&f.sig.ident);
            if fn_name == "new" {
                for (field, init) in struct_literal(&f.block.stmts).unwrap_or_default() {
                    builder.required.insert(field, is_err_call(init));
                }
            } else if fn_name == "send" {
                builder.answer = Some(answer(&f.sig.output));
            } else if fn_name == "build_request" || fn_name == "decode" {
                // `send`'s two halves (xtask's split): the same request and answer as `send`.
            } else if matches!(f.vis, syn::Visibility::Public(_)) {
                let ty = setter_type(&f.sig)
                    .with_context(|| format!("builder::{name}::{fn_name}: no value type"))?;
                let field = assigned_field(&f.block.stmts).unwrap_or_else(|| fn_name.clone());
                builder.setters.push((fn_name, field, ty));
            }
        }
        out.insert(name, builder);
    }
    Ok(out)
}

/// `Result<ResponseValue<T>, Error<E>>` → `answer T, error E`; a `send` returning
/// `impl Future<Output = …>` (xtask's split) answers what awaiting it gives, as an `async fn`.
fn answer(output: &ReturnType) -> String {
    let ReturnType::Type(_, ty) = output else {
        return "answer ()".into();
    };
    let ty = future_output(ty).unwrap_or(ty);
    let args = |ty: &Type| -> Option<Vec<Type>> {
        let Type::Path(p) = ty else { return None };
        let PathArguments::AngleBracketed(a) = &p.path.segments.last()?.arguments else {
            return None;
        };
        Some(
            a.args
                .iter()
                .filter_map(|arg| match arg {
                    GenericArgument::Type(t) => Some(t.clone()),
                    _ => None,
                })
                .collect(),
        )
    };
    match args(ty).as_deref() {
        Some([ok, err]) => {
            let inner = |t: &Type| match args(t).as_deref() {
                Some([one]) => render_type(one),
                _ => render_type(t),
            };
            format!("answer {}, error {}", inner(ok), inner(err))
        }
        _ => format!("answer {}", render_type(ty)),
    }
}

/// `T` of `impl Future<Output = T> + …`.
fn future_output(ty: &Type) -> Option<&Type> {
    let Type::ImplTrait(imp) = ty else {
        return None;
    };
    imp.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(t) = bound else {
            return None;
        };
        let last = t.path.segments.last()?;
        let PathArguments::AngleBracketed(a) = &last.arguments else {
            return None;
        };
        a.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(output)
                if last.ident == "Future" && output.ident == "Output" =>
            {
                Some(&output.ty)
            }
            _ => None,
        })
    })
}

/// The type a setter takes: `V: TryInto<T>` → `T`; any other bound as written.
fn setter_type(sig: &syn::Signature) -> Option<String> {
    let param = sig.generics.type_params().next()?;
    let mut bounds: Vec<&TypeParamBound> = param.bounds.iter().collect();
    if let Some(clause) = &sig.generics.where_clause {
        for predicate in &clause.predicates {
            let WherePredicate::Type(p) = predicate else {
                continue;
            };
            let Type::Path(bounded) = &p.bounded_ty else {
                continue;
            };
            if bounded.qself.is_none() && bounded.path.is_ident(&param.ident) {
                bounds.extend(p.bounds.iter());
            }
        }
    }
    bounds.into_iter().find_map(|bound| {
        let TypeParamBound::Trait(t) = bound else {
            return None;
        };
        let last = t.path.segments.last()?;
        if last.ident == "TryInto" || last.ident == "Into" {
            let PathArguments::AngleBracketed(a) = &last.arguments else {
                return None;
            };
            a.args.iter().find_map(|arg| match arg {
                GenericArgument::Type(t) => Some(render_type(t)),
                _ => None,
            })
        } else {
            Some(render_path(&t.path))
        }
    })
}

/// The field of `self` a setter's first statement assigns.
fn assigned_field(stmts: &[Stmt]) -> Option<String> {
    let Some(Stmt::Expr(Expr::Assign(assign), _)) = stmts.first() else {
        return None;
    };
    let Expr::Field(field) = &*assign.left else {
        return None;
    };
    match &field.member {
        syn::Member::Named(ident) => Some(ident_text(ident)),
        syn::Member::Unnamed(_) => None,
    }
}

// ---------------------------------------------------------------- rendering

/// A type as users read it: last path segments only (`builder::` kept).
pub fn render_type(ty: &Type) -> String {
    match ty {
        Type::Path(p) if p.qself.is_none() => render_path(&p.path),
        Type::Reference(r) => format!(
            "&{}{}",
            if r.mutability.is_some() { "mut " } else { "" },
            render_type(&r.elem)
        ),
        Type::Tuple(t) => format!(
            "({})",
            t.elems
                .iter()
                .map(render_type)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Type::Slice(s) => format!("[{}]", render_type(&s.elem)),
        Type::Group(g) => render_type(&g.elem),
        Type::Paren(p) => render_type(&p.elem),
        other => quote::quote!(#other).to_string(),
    }
}

fn render_path(path: &syn::Path) -> String {
    let segments: Vec<_> = path.segments.iter().collect();
    let Some(last) = segments.last() else {
        return String::new();
    };
    let mut out = String::new();
    if segments.len() >= 2 && segments[segments.len() - 2].ident == "builder" {
        out.push_str("builder::");
    }
    out.push_str(&ident_text(&last.ident));
    match &last.arguments {
        PathArguments::None => {}
        PathArguments::AngleBracketed(a) => {
            let args: Vec<String> = a
                .args
                .iter()
                .filter_map(|arg| match arg {
                    GenericArgument::Type(t) => Some(render_type(t)),
                    GenericArgument::Lifetime(_) => None,
                    other => Some(quote::quote!(#other).to_string()),
                })
                .collect();
            if !args.is_empty() {
                out.push_str(&format!("<{}>", args.join(", ")));
            }
        }
        PathArguments::Parenthesized(p) => {
            let inputs: Vec<String> = p.inputs.iter().map(render_type).collect();
            out.push_str(&format!("({})", inputs.join(", ")));
            if let ReturnType::Type(_, ty) = &p.output {
                out.push_str(&format!(" -> {}", render_type(ty)));
            }
        }
    }
    out
}
