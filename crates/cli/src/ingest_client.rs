//! How the commands that send to the ingest API (`feed`, `dlq replay`)
//! find it and authenticate: its URL and the bearer token it requires.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use wirestream_runtime::config::ApiToken;
use wirestream_runtime::Config;

#[derive(clap::Args)]
pub struct Target {
    /// The ingest service's base URL (default: from the config's `ingest.listen`).
    #[arg(long)]
    url: Option<String>,
    /// A file holding the API's bearer token, alone (one line; surrounding
    /// whitespace is ignored). Wins over `ingest.token` (`WIRESTREAM_INGEST__TOKEN`).
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
}

impl Target {
    pub fn base(&self, config: &Config) -> String {
        self.url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.ingest.listen))
    }

    /// An HTTP client that sends the token, if one is configured, with every request.
    pub fn client(&self, config: &Config, timeout: Duration) -> anyhow::Result<reqwest::Client> {
        let mut headers = HeaderMap::new();
        if let Some(token) = self.token(config)? {
            headers.insert(AUTHORIZATION, bearer(&token)?);
        }
        reqwest::Client::builder()
            .timeout(timeout)
            .default_headers(headers)
            .build()
            .context("failed to build the HTTP client")
    }

    fn token(&self, config: &Config) -> anyhow::Result<Option<ApiToken>> {
        let Some(path) = &self.token_file else {
            return Ok(config.ingest.token.clone());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the token file {}", path.display()))?;
        let token = text.trim();
        anyhow::ensure!(
            !token.is_empty(),
            "the token file {} is empty",
            path.display()
        );
        Ok(Some(ApiToken::new(token)))
    }
}

/// The `Authorization` value, marked sensitive so that no debug output of
/// the client or its requests shows it. Errors never include the token.
fn bearer(token: &ApiToken) -> anyhow::Result<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
        anyhow::anyhow!("the ingest token holds characters an HTTP header cannot carry")
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(token_file: Option<PathBuf>) -> Target {
        Target {
            url: None,
            token_file,
        }
    }

    #[test]
    fn the_file_wins_over_the_config_and_is_trimmed() {
        let mut config = Config::default();
        config.ingest.token = Some(ApiToken::new("from-config"));
        let file = tempfile::NamedTempFile::new().expect("a file");
        std::fs::write(file.path(), "  from-file\n").expect("written");
        let token = target(Some(file.path().to_path_buf()))
            .token(&config)
            .expect("read");
        assert_eq!(token.as_ref().map(ApiToken::expose), Some("from-file"));
        let token = target(None).token(&config).expect("config");
        assert_eq!(token.as_ref().map(ApiToken::expose), Some("from-config"));
        assert!(target(None)
            .token(&Config::default())
            .expect("none")
            .is_none());
    }

    #[test]
    fn errors_never_show_the_token() {
        let file = tempfile::NamedTempFile::new().expect("a file");
        std::fs::write(file.path(), "\n\n").expect("written");
        let error = target(Some(file.path().to_path_buf()))
            .token(&Config::default())
            .expect_err("empty");
        assert!(error.to_string().contains("is empty"), "{error}");
        let error = bearer(&ApiToken::new("bad\ntok-77e1")).expect_err("a newline");
        assert!(!format!("{error:#}").contains("tok-77e1"), "{error:#}");
        let value = bearer(&ApiToken::new("tok-77e1")).expect("fine");
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("tok-77e1"));
    }
}
