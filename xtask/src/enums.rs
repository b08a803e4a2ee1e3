//! Open enums: progenitor (typify) makes closed enums that reject values P100 adds later, so the
//! pipeline replaces every enum component with a type generated here, which keeps unknown values.
//!
//! Values that differ only in case or punctuation (`COMPLETED` and the older `completed`) share a
//! variant: the first listed is the canonical spelling that is sent, the others are read as aliases.

use anyhow::{bail, Result};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::spec::EnumSchema;

struct Variant {
    ident: syn::Ident,
    canonical: String,
    aliases: Vec<String>,
}

/// The Rust identifier a spec value becomes: `WAITING_FOR_TR_DATA` → `WaitingForTrData`.
pub fn variant_name(value: &str) -> String {
    let mut out = String::new();
    for word in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let lower = word.to_ascii_lowercase();
        let mut chars = lower.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if out == "Unknown" {
        out.push_str("Value");
    }
    out
}

fn variants(schema: &EnumSchema) -> Result<Vec<Variant>> {
    let mut out: Vec<Variant> = Vec::new();
    for value in &schema.values {
        let name = variant_name(value);
        if let Some(v) = out.iter_mut().find(|v| v.ident == name) {
            v.aliases.push(value.clone());
        } else {
            out.push(Variant {
                ident: format_ident!("{}", name),
                canonical: value.clone(),
                aliases: Vec::new(),
            });
        }
    }
    if out.is_empty() {
        bail!("#/components/schemas/{}: empty enum", schema.name);
    }
    Ok(out)
}

/// Generates the `enums` module: one open enum per enum component.
pub fn generate(schemas: &[EnumSchema]) -> Result<TokenStream> {
    let mut items = Vec::new();
    for schema in schemas {
        items.push(generate_one(schema)?);
    }
    Ok(quote! {
        /// Open enumerations: every enum of the spec, made tolerant of values P100 adds later.
        ///
        /// Each type has one variant per documented value and `Unknown(String)` for anything
        /// else, which keeps P100's text so that it can be logged, compared and sent back.
        pub mod enums {
            #(#items)*
        }
    })
}

fn generate_one(schema: &EnumSchema) -> Result<TokenStream> {
    let name = format_ident!("{}", schema.name);
    let variants = variants(schema)?;
    let mut doc = schema
        .description
        .clone()
        .unwrap_or_else(|| format!("`{}` values.", schema.name));
    doc.push_str(
        "\n\nOpen enum: a value this version does not list parses as `Unknown` with its text.",
    );
    if schema.lowercase {
        doc.push_str(
            " Values are read without regard to case and kept lowercase (`BTC` is `btc`), and sent \
             in the lowercase spelling the spec lists.",
        );
    }
    let values_doc = variants
        .iter()
        .map(|v| {
            let mut d = format!("`{}`", v.canonical);
            if let Some(text) = schema.value_docs.get(&v.canonical) {
                d.push_str(": ");
                d.push_str(text);
            }
            if !v.aliases.is_empty() {
                let aliases: Vec<String> = v.aliases.iter().map(|a| format!("`{a}`")).collect();
                d.push_str(&format!(" (also read from {})", aliases.join(", ")));
            }
            d
        })
        .collect::<Vec<_>>();
    let idents: Vec<_> = variants.iter().map(|v| &v.ident).collect();
    let canon: Vec<_> = variants.iter().map(|v| v.canonical.as_str()).collect();
    let parse_arms = variants.iter().map(|v| {
        let ident = &v.ident;
        let all = std::iter::once(&v.canonical).chain(v.aliases.iter());
        quote! { #(#all)|* => Self::#ident, }
    });
    let conversions = if schema.lowercase {
        quote! {
        impl ::std::convert::From<&str> for #name {
            /// Reads the value without regard to case; an unknown value is kept lowercase.
            fn from(value: &str) -> Self {
                Self::from(value.to_ascii_lowercase())
            }
        }

        impl ::std::convert::From<::std::string::String> for #name {
            /// Reads the value without regard to case; an unknown value is kept lowercase.
            fn from(mut value: ::std::string::String) -> Self {
                value.make_ascii_lowercase();
                match value.as_str() {
                    #(#parse_arms)*
                    _ => Self::Unknown(value),
                }
            }
        }

        }
    } else {
        quote! {
        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #(#parse_arms)*
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                match Self::from(value.as_str()) {
                    Self::Unknown(_) => Self::Unknown(value),
                    known => known,
                }
            }
        }

        }
    };
    Ok(quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name {
            #(
                #[doc = #values_doc]
                #idents,
            )*
            /// A value not listed in the spec, kept as P100 sent it.
            Unknown(::std::string::String),
        }

        impl #name {
            /// Every documented value, in the order the spec lists them.
            pub const KNOWN: &'static [Self] = &[#(Self::#idents),*];

            /// The value as P100 spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#idents => #canon,)*
                    Self::Unknown(other) => other.as_str(),
                }
            }

            /// Whether this value is not one the spec lists.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #conversions

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(value.into_owned()))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::variant_name;

    #[test]
    fn variant_names() {
        assert_eq!(variant_name("WAITING_FOR_TR_DATA"), "WaitingForTrData");
        assert_eq!(variant_name("completed"), "Completed");
        assert_eq!(variant_name("3DS"), "V3ds");
        assert_eq!(variant_name("NON-CUSTODIAL"), "NonCustodial");
        assert_eq!(variant_name("UNKNOWN"), "UnknownValue");
    }
}
