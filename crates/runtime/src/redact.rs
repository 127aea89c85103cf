//! Which librdkafka settings are secrets, and how they are printed: never.
//!
//! The settings pass through `[kafka.common]`, `[kafka.producer]` and
//! `[kafka.consumer]` untouched, so the config cannot know each key's
//! meaning; it goes by the name, erring on the side of hiding.

use std::collections::BTreeMap;
use std::fmt;

/// What is printed instead of a secret.
pub const REDACTED: &str = "<redacted>";

/// Whether the value of librdkafka setting `key` may be a secret:
/// passwords (`sasl.password`, `ssl.key.password`, …), client secrets, JAAS
/// and OAuth settings, tokens, and inline key or certificate material
/// (`ssl.key.pem`, `ssl_key`). A `*.location` is a path, shown as it is.
pub fn is_secret_setting(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if key.ends_with(".location") {
        return false;
    }
    [
        "password",
        "secret",
        "pem",
        "key",
        "jaas",
        "oauthbearer.config",
        "token",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// A map of librdkafka settings for `Debug`: every key, secret values hidden.
pub struct Settings<'a>(pub &'a BTreeMap<String, String>);

impl fmt::Debug for Settings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(key, value)| {
                let shown = if is_secret_setting(key) {
                    REDACTED
                } else {
                    value.as_str()
                };
                (key, shown)
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_told_by_their_names() {
        for key in [
            "sasl.password",
            "ssl.key.password",
            "ssl.keystore.password",
            "ssl.key.pem",
            "ssl_key",
            "sasl.oauthbearer.client.secret",
            "sasl.oauthbearer.config",
            "SASL.PASSWORD",
        ] {
            assert!(is_secret_setting(key), "{key}");
        }
        for key in [
            "security.protocol",
            "sasl.mechanism",
            "sasl.username",
            "ssl.ca.location",
            "ssl.key.location",
            "linger.ms",
        ] {
            assert!(!is_secret_setting(key), "{key}");
        }
    }

    #[test]
    fn debug_shows_keys_and_hides_secret_values() {
        let settings = BTreeMap::from([
            ("sasl.password".to_string(), "hunter2-x".to_string()),
            ("sasl.username".to_string(), "wirestream".to_string()),
        ]);
        let shown = format!("{:?}", Settings(&settings));
        assert!(!shown.contains("hunter2-x"), "{shown}");
        assert!(shown.contains("sasl.password"), "{shown}");
        assert!(shown.contains("wirestream"), "{shown}");
    }
}
