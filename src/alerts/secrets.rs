//! Secrets for alert deliveries (bot tokens, webhook URLs, the webhook
//! signing key): from environment variables, or a secrets file that only its
//! owner may read. Never from the config, and never printed: [`Secret`] has
//! no `Display`, and its `Debug` shows only that a value is there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A secret value. `Debug` redacts it; the only way to the text is
/// [`Secret::expose`], at the point of use.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// One secret depthwatch knows: its key in the secrets file and its
/// environment variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretName {
    pub key: &'static str,
    pub env: &'static str,
}

pub const WEBHOOK_URL: SecretName = SecretName {
    key: "webhook_url",
    env: "DEPTHWATCH_WEBHOOK_URL",
};
pub const WEBHOOK_HMAC_KEY: SecretName = SecretName {
    key: "webhook_hmac_key",
    env: "DEPTHWATCH_WEBHOOK_HMAC_KEY",
};
pub const TELEGRAM_TOKEN: SecretName = SecretName {
    key: "telegram_bot_token",
    env: "DEPTHWATCH_TELEGRAM_BOT_TOKEN",
};
pub const DISCORD_WEBHOOK_URL: SecretName = SecretName {
    key: "discord_webhook_url",
    env: "DEPTHWATCH_DISCORD_WEBHOOK_URL",
};
pub const SLACK_WEBHOOK_URL: SecretName = SecretName {
    key: "slack_webhook_url",
    env: "DEPTHWATCH_SLACK_WEBHOOK_URL",
};

pub const ALL: [SecretName; 5] = [
    WEBHOOK_URL,
    WEBHOOK_HMAC_KEY,
    TELEGRAM_TOKEN,
    DISCORD_WEBHOOK_URL,
    SLACK_WEBHOOK_URL,
];

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "refusing to read the secrets file {path}: its mode {mode:04o} lets other users read it; \
         run `chmod 600 {path}`"
    )]
    Permissive { path: String, mode: u32 },
    #[error("cannot read the secrets file {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("the secrets file {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

/// The secrets in force: the environment's, then the file's.
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    values: BTreeMap<&'static str, Secret>,
    /// Where each came from, for messages ("DEPTHWATCH_… (environment)").
    sources: BTreeMap<&'static str, String>,
}

impl Secrets {
    /// Reads the file at `path` (if there is one) and the environment
    /// (`env` looks a variable up; the process environment in the app).
    /// A variable that is set wins over the file.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Secrets, SecretsError> {
        let mut s = Secrets::default();
        if let Some(path) = path
            && path.exists()
        {
            let file = read_file(path)?;
            for name in ALL {
                if let Some(v) = file.get(name.key) {
                    s.values.insert(name.key, Secret::new(v.clone()));
                    s.sources
                        .insert(name.key, format!("{} in {}", name.key, path.display()));
                }
            }
        }
        for name in ALL {
            if let Some(v) = env(name.env).filter(|v| !v.trim().is_empty()) {
                s.values.insert(name.key, Secret::new(v.trim()));
                s.sources
                    .insert(name.key, format!("{} (environment)", name.env));
            }
        }
        Ok(s)
    }

    pub fn get(&self, name: SecretName) -> Option<&Secret> {
        self.values.get(name.key)
    }

    /// Every secret value, for checks that none leaked.
    pub fn values(&self) -> impl Iterator<Item = &Secret> {
        self.values.values()
    }

    /// How to provide a missing secret, in words.
    pub fn how_to_set(name: SecretName) -> String {
        format!(
            "set {} or `{}` in the secrets file (mode 0600)",
            name.env, name.key
        )
    }
}

/// The default secrets file: `secrets.toml` beside the config file.
pub fn default_path(config_path: Option<&Path>) -> Option<PathBuf> {
    config_path
        .and_then(Path::parent)
        .map(|d| d.join("secrets.toml"))
        .or_else(|| {
            crate::config::paths::default_config_file()
                .and_then(|p| p.parent().map(|d| d.join("secrets.toml")))
        })
}

fn read_file(path: &Path) -> Result<BTreeMap<String, String>, SecretsError> {
    let shown = path.display().to_string();
    check_owner_only(path)?;
    let text = std::fs::read_to_string(path).map_err(|error| SecretsError::Read {
        path: shown.clone(),
        error,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| SecretsError::Invalid {
        path: shown.clone(),
        // The parser's message quotes the offending text; only say where.
        message: match e.span() {
            Some(span) => {
                let (l, c) = crate::config::load::line_col(&text, span.start);
                format!("TOML syntax error at {l}:{c}")
            }
            None => "TOML syntax error".to_string(),
        },
    })?;
    let mut out = BTreeMap::new();
    for (k, v) in table {
        let Some(name) = ALL.iter().find(|n| n.key == k) else {
            return Err(SecretsError::Invalid {
                path: shown,
                message: format!(
                    "unknown key `{k}` (expected {})",
                    ALL.map(|n| n.key).join(", ")
                ),
            });
        };
        match v {
            toml::Value::String(s) => {
                out.insert(name.key.to_string(), s);
            }
            _ => {
                return Err(SecretsError::Invalid {
                    path: shown,
                    message: format!("`{k}` must be a string"),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(unix)]
fn check_owner_only(path: &Path) -> Result<(), SecretsError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|error| SecretsError::Read {
        path: path.display().to_string(),
        error,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SecretsError::Permissive {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

/// Elsewhere the file system's access lists decide; nothing to check here.
#[cfg(not(unix))]
fn check_owner_only(_: &Path) -> Result<(), SecretsError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let s = Secret::new("123456:ABC-token");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        let all = Secrets::load(None, |k| {
            (k == TELEGRAM_TOKEN.env).then(|| "123456:ABC-token".to_string())
        })
        .unwrap();
        assert!(!format!("{all:?}").contains("ABC-token"));
        assert_eq!(
            all.get(TELEGRAM_TOKEN).unwrap().expose(),
            "123456:ABC-token"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_file_must_be_owner_only_and_the_environment_wins() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        std::fs::write(
            &path,
            "telegram_bot_token = \"from-file\"\nslack_webhook_url = \"http://slack.invalid/x\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Secrets::load(Some(&path), |_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mode 0644") && err.contains("chmod 600"),
            "{err}"
        );
        assert!(!err.contains("from-file"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let s = Secrets::load(Some(&path), |k| {
            (k == TELEGRAM_TOKEN.env).then(|| "from-env".to_string())
        })
        .unwrap();
        assert_eq!(s.get(TELEGRAM_TOKEN).unwrap().expose(), "from-env");
        assert_eq!(
            s.get(SLACK_WEBHOOK_URL).unwrap().expose(),
            "http://slack.invalid/x"
        );
        std::fs::write(&path, "telegram_token = \"oops-secret\"\n").unwrap();
        let err = Secrets::load(Some(&path), |_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown key `telegram_token`"), "{err}");
        std::fs::write(&path, "telegram_bot_token = oops-secret\n").unwrap();
        let err = Secrets::load(Some(&path), |_| None)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("oops-secret"), "{err}");
    }
}
