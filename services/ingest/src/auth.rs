//! Optional bearer-token authentication of the API.
//!
//! Tokens come from `[ingest.auth] tokens` and/or `token_file` (one
//! `name:token` a line). Only BLAKE3 digests of the tokens are kept, and a
//! presented token is compared with every digest in constant time, so neither
//! the comparison's timing nor a memory dump gives a token away. Tokens never
//! reach a log line or an error body: errors name the file and line only.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use wirestream_runtime::config::IngestAuthConfig;

/// Who sent a request, put into the request's extensions by [`require`].
#[derive(Debug, Clone)]
pub struct Caller {
    /// `http`, or `http:<token name>` with authentication on.
    pub source: String,
    /// The provider bound to the token, if any.
    pub provider: Option<String>,
}

impl Default for Caller {
    fn default() -> Self {
        Caller {
            source: "http".into(),
            provider: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("failed to read the token file {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}, line {line}: expected `name:token`")]
    Syntax { path: String, line: usize },
    #[error("token `{name}` is empty")]
    EmptyToken { name: String },
    #[error("token name `{name}` is used twice")]
    DuplicateName { name: String },
}

struct Token {
    name: String,
    digest: blake3::Hash,
    provider: Option<String>,
}

/// The configured tokens; empty means authentication is off.
#[derive(Clone, Default)]
pub struct Tokens(Arc<Vec<Token>>);

impl Tokens {
    pub fn load(config: &IngestAuthConfig) -> Result<Tokens, AuthError> {
        let mut tokens = Vec::new();
        for t in &config.tokens {
            push(&mut tokens, &t.name, &t.token, t.provider.clone())?;
        }
        if let Some(path) = &config.token_file {
            for (name, token) in read_file(path)? {
                push(&mut tokens, &name, &token, None)?;
            }
        }
        Ok(Tokens(Arc::new(tokens)))
    }

    pub fn is_enabled(&self) -> bool {
        !self.0.is_empty()
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|t| t.name.as_str()).collect()
    }

    /// The caller a presented token belongs to. Every digest is compared
    /// (no early exit) and `blake3::Hash` equality is constant-time.
    fn check(&self, presented: &str) -> Option<Caller> {
        let digest = blake3::hash(presented.as_bytes());
        let mut found = None;
        for token in self.0.iter() {
            if token.digest == digest {
                found = Some(token);
            }
        }
        found.map(|t| Caller {
            source: format!("http:{}", t.name),
            provider: t.provider.clone(),
        })
    }
}

fn push(
    tokens: &mut Vec<Token>,
    name: &str,
    token: &str,
    provider: Option<String>,
) -> Result<(), AuthError> {
    let name = name.trim();
    if token.trim().is_empty() {
        return Err(AuthError::EmptyToken {
            name: name.to_owned(),
        });
    }
    if tokens.iter().any(|t| t.name == name) {
        return Err(AuthError::DuplicateName {
            name: name.to_owned(),
        });
    }
    tokens.push(Token {
        name: name.to_owned(),
        digest: blake3::hash(token.trim().as_bytes()),
        provider,
    });
    Ok(())
}

/// `name:token` lines; blank lines and `#` comments are skipped.
fn read_file(path: &Path) -> Result<Vec<(String, String)>, AuthError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| AuthError::Read {
        path: shown.clone(),
        error,
    })?;
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((name, token)) if !name.trim().is_empty() => {
                out.push((name.to_owned(), token.to_owned()))
            }
            _ => {
                return Err(AuthError::Syntax {
                    path: shown,
                    line: index + 1,
                })
            }
        }
    }
    Ok(out)
}

/// Middleware for the `/v1` routes: refuses requests without a valid token
/// with `401` before their body is read, so a refused request has no effect.
pub async fn require(State(tokens): State<Tokens>, mut request: Request, next: Next) -> Response {
    let caller = if tokens.is_enabled() {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer);
        match presented.and_then(|t| tokens.check(t)) {
            Some(caller) => caller,
            None => {
                crate::metrics::unauthorized(presented.is_some());
                return unauthorized(presented.is_some());
            }
        }
    } else {
        Caller::default()
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn unauthorized(presented: bool) -> Response {
    let message = if presented {
        "the bearer token is not valid"
    } else {
        "this API needs `Authorization: Bearer <token>`"
    };
    let body = serde_json::json!({ "error": "unauthorized", "message": message });
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"wirestream\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use wirestream_runtime::config::IngestToken;

    use super::*;

    #[test]
    fn tokens_from_config_and_file() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        writeln!(file, "# partners\n\nafp: s3cr3t-afp\n").expect("write");
        let config = IngestAuthConfig {
            tokens: vec![IngestToken {
                name: "dpa".into(),
                token: "t-dpa".into(),
                provider: Some("dpa".into()),
            }],
            token_file: Some(file.path().to_path_buf()),
        };
        let tokens = Tokens::load(&config).expect("loads");
        assert_eq!(tokens.names(), ["dpa", "afp"]);
        let afp = tokens.check("s3cr3t-afp").expect("afp's token");
        assert_eq!(afp.source, "http:afp");
        assert_eq!(
            tokens.check("t-dpa").and_then(|c| c.provider).as_deref(),
            Some("dpa")
        );
        assert!(tokens.check("t-dp").is_none());
        assert!(tokens.check("").is_none());
    }

    #[test]
    fn file_errors_name_the_line_but_not_the_token() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        writeln!(file, "ok:fine\nno-colon-secret-value").expect("write");
        let config = IngestAuthConfig {
            tokens: Vec::new(),
            token_file: Some(file.path().to_path_buf()),
        };
        let error = Tokens::load(&config).err().expect("an error").to_string();
        assert!(error.contains("line 2"), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn bearer_header() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }

    #[test]
    fn debug_output_hides_tokens() {
        let token = IngestToken {
            name: "n".into(),
            token: "hunter2".into(),
            provider: None,
        };
        assert!(!format!("{token:?}").contains("hunter2"));
    }
}
