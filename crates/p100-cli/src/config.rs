//! Where the CLI's settings come from, strongest first: the global flags (`--base-url`, `--env`),
//! the environment (`P100_API_KEY`, `P100_ENV`, `P100_BASE_URL`), then the named profile of the
//! configuration file (`--profile` or `P100_PROFILE`, else the file's `default_profile`, else
//! `default`). The file is `P100_CONFIG`, else `$XDG_CONFIG_HOME/p100/config.toml`, else
//! `~/.config/p100/config.toml`; it may be absent.
//!
//! ```toml
//! default_profile = "staging"
//!
//! [profiles.staging]
//! env = "staging"
//! api_key = "…"
//!
//! [profiles.local]
//! base_url = "http://127.0.0.1:8100"
//! api_key = "sandbox-key"
//! ```
//!
//! The API key is never printed: `p100 config show` says only whether it is set and where from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use p100_ergonomic::{Client, Environment};
use serde::Deserialize;

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// The profile used without `--profile`.
    pub default_profile: Option<String>,
    /// The profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One profile of the file.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The API key.
    pub api_key: Option<String>,
    /// `staging` or `production`.
    pub env: Option<String>,
    /// A base URL (wins over `env`).
    pub base_url: Option<String>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("env", &self.env)
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// A setting that cannot be used: the CLI exits with 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A flag.
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// The profile of the file.
    Profile(String),
    /// The built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "environment {var}"),
            Source::Profile(name) => write!(f, "profile {name}"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// The settings the CLI runs with.
pub struct Settings {
    /// The configuration file's path, and whether it exists.
    pub file: PathBuf,
    /// Whether the file exists.
    pub file_exists: bool,
    /// The profile in use, if any.
    pub profile: Option<String>,
    /// The base URL and where it came from.
    pub base_url: (String, Source),
    /// The API key (never shown) and where it came from.
    api_key: Option<(String, Source)>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("file", &self.file)
            .field("profile", &self.profile)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|(_, s)| s))
            .finish()
    }
}

/// The global flags that take part.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    /// `--profile`.
    pub profile: Option<String>,
    /// `--env`.
    pub env: Option<String>,
    /// `--base-url`.
    pub base_url: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The configuration file's path.
pub fn file_path() -> PathBuf {
    if let Some(path) = var("P100_CONFIG") {
        return PathBuf::from(path);
    }
    let base = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("p100").join("config.toml")
}

fn environment(name: &str, source: &Source) -> Result<Environment, ConfigError> {
    name.parse::<Environment>().map_err(|_| {
        ConfigError(format!(
            "{source}: unknown environment {name:?}; expected `staging` or `production`"
        ))
    })
}

impl Settings {
    /// Reads the file and the environment, with `flags` on top.
    pub fn load(flags: &Flags) -> Result<Settings, ConfigError> {
        let path = file_path();
        let (file, exists) = match std::fs::read_to_string(&path) {
            Ok(text) => (
                toml::from_str::<File>(&text)
                    .map_err(|e| ConfigError(format!("{}: {}", path.display(), e.message())))?,
                true,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (File::default(), false),
            Err(e) => return Err(ConfigError(format!("{}: {e}", path.display()))),
        };
        let requested = flags.profile.clone().or_else(|| var("P100_PROFILE"));
        let (profile_name, profile) = match requested {
            Some(name) => match file.profiles.get(&name) {
                Some(p) => (Some(name), Some(p)),
                None => {
                    let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
                    return Err(ConfigError(format!(
                        "no profile {name:?} in {} (profiles: {})",
                        path.display(),
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
            },
            None => {
                let name = file
                    .default_profile
                    .clone()
                    .unwrap_or_else(|| "default".into());
                match file.profiles.get(&name) {
                    Some(p) => (Some(name), Some(p)),
                    None if file.default_profile.is_some() => {
                        return Err(ConfigError(format!(
                            "{}: default_profile {name:?} is not a profile",
                            path.display()
                        )))
                    }
                    None => (None, None),
                }
            }
        };
        let from_profile =
            |name: &Option<String>| Source::Profile(name.clone().unwrap_or_default());

        let api_key = var("P100_API_KEY")
            .map(|k| (k, Source::Env("P100_API_KEY")))
            .or_else(|| {
                profile
                    .and_then(|p| p.api_key.clone())
                    .map(|k| (k, from_profile(&profile_name)))
            });

        let base_url = if let Some(url) = &flags.base_url {
            (url.clone(), Source::Flag("--base-url"))
        } else if let Some(env) = &flags.env {
            let source = Source::Flag("--env");
            (environment(env, &source)?.base_url().to_string(), source)
        } else if let Some(url) = var("P100_BASE_URL") {
            (url, Source::Env("P100_BASE_URL"))
        } else if let Some(env) = var("P100_ENV") {
            let source = Source::Env("P100_ENV");
            (environment(&env, &source)?.base_url().to_string(), source)
        } else if let Some(url) = profile.and_then(|p| p.base_url.clone()) {
            (url, from_profile(&profile_name))
        } else if let Some(env) = profile.and_then(|p| p.env.clone()) {
            let source = from_profile(&profile_name);
            (environment(&env, &source)?.base_url().to_string(), source)
        } else {
            (
                Environment::default().base_url().to_string(),
                Source::Default,
            )
        };
        Ok(Settings {
            file: path,
            file_exists: exists,
            profile: profile_name,
            base_url,
            api_key,
        })
    }

    /// A client with these settings.
    pub fn client(&self) -> Result<Client, ConfigError> {
        let Some((key, _)) = &self.api_key else {
            return Err(ConfigError(format!(
                "no API key: set P100_API_KEY, or api_key in a profile of {}",
                self.file.display()
            )));
        };
        Client::builder()
            .api_key(key.clone())
            .base_url(self.base_url.0.clone())
            .user_agent(concat!("p100-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError(format!("cannot configure the client: {e}")))
    }

    /// What `p100 config show` prints: everything but the key.
    pub fn show(&self) -> String {
        let exists = if self.file_exists { "" } else { " (absent)" };
        let key = match &self.api_key {
            Some((_, source)) => format!("set ({source})"),
            None => "unset".to_string(),
        };
        [
            format!("config file  {}{exists}", self.file.display()),
            format!(
                "profile      {}",
                self.profile.as_deref().unwrap_or("(none)")
            ),
            format!("base URL     {} ({})", self.base_url.0, self.base_url.1),
            format!("API key      {key}"),
        ]
        .join("\n")
    }
}
