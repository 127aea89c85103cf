//! Connection URLs that carry a password.
//!
//! A [`SecretUrl`] is what the config holds for `[database] url`: printing
//! it (`Debug`, `Display`, a `tracing` field) shows the URL with its
//! password replaced, and only the code that connects calls
//! [`SecretUrl::expose`]. [`redact`] does the same to any text, e.g. the
//! message of an error that quotes a URL.

use serde::{Deserialize, Serialize};

/// A connection URL whose password is never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> SecretUrl {
        SecretUrl(url.into())
    }

    /// The URL with its password: for the code that connects, nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> SecretUrl {
        SecretUrl::new(url)
    }
}

impl From<String> for SecretUrl {
    fn from(url: String) -> SecretUrl {
        SecretUrl(url)
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretUrl({:?})", redact(&self.0))
    }
}

impl std::fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// `text` with the password of anything that looks like a connection URL
/// (`scheme://user:password@host`) and of every `password=` parameter (a
/// query string or a libpq key/value string) replaced by `***`.
pub fn redact(text: &str) -> String {
    redact_parameters(&redact_authorities(text))
}

fn redact_authorities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '/' || c == '"' || c == '?')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let user = authority[..at].split(':').next().unwrap_or("");
                out.push_str(user);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn redact_parameters(text: &str) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.to_ascii_lowercase().find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        out.push_str("***");
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '&' || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("cannot reach postgres://app:s3cret@db:5432/wirestream now"),
            "cannot reach postgres://app:***@db:5432/wirestream now"
        );
        assert_eq!(
            redact("postgres://db/wirestream"),
            "postgres://db/wirestream"
        );
        assert_eq!(
            redact("postgres://app@db/w?sslmode=require&password=s3cret&x=1"),
            "postgres://app:***@db/w?sslmode=require&password=***&x=1"
        );
        assert_eq!(
            redact("host=db PASSWORD=s3cret user=app"),
            "host=db PASSWORD=*** user=app"
        );
    }

    #[test]
    fn printing_never_shows_the_password() {
        let url = SecretUrl::new("postgres://sink:hunter2@db:5432/wirestream?sslmode=verify-full");
        for printed in [format!("{url:?}"), url.to_string()] {
            assert!(!printed.contains("hunter2"), "{printed}");
            assert!(printed.contains("sink:***@db:5432"), "{printed}");
        }
        assert!(url.expose().contains("hunter2"));
    }
}
