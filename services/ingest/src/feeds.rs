//! Feed polling: each configured RSS or Atom feed is fetched on its own
//! interval with a conditional GET, and only entries not published before
//! are sent to the raw topic.
//!
//! Entries are remembered (with the validators `ETag` and `Last-Modified`)
//! only after the broker acknowledged them, so a failed publish is retried
//! on the next poll, and a restart does not publish them again. An entry the
//! broker can never take (larger than `kafka.max_message_bytes`, say) is
//! rejected, logged and remembered, so that it cannot hold back the entries
//! after it, poll after poll.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::header;
use tokio_util::sync::CancellationToken;
use wirestream_formats::{parse_document, Context, Hint, Limits};
use wirestream_model::validate;
use wirestream_runtime::config::IngestFeedConfig;
use wirestream_runtime::ops::Readiness;
use wirestream_runtime::retry::Backoff;

use crate::feed_state::FeedState;
use crate::metrics;
use crate::publisher::Publisher;

/// The longest wait after repeated errors (unless the interval is longer).
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How often to look again for the broker while it is unreachable.
const NOT_READY_PAUSE: Duration = Duration::from_millis(500);

pub struct FeedPoller {
    url: String,
    source: String,
    interval: Duration,
    provider: Option<String>,
    limits: Limits,
    client: reqwest::Client,
    state: FeedState,
    publisher: Publisher,
    readiness: Readiness,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Polled {
    NotModified,
    /// The feed was fetched; this many entries were new and published.
    Published(usize),
}

impl FeedPoller {
    pub fn new(
        config: &IngestFeedConfig,
        state_dir: &Path,
        limits: Limits,
        default_provider: Option<String>,
        publisher: Publisher,
        readiness: Readiness,
    ) -> anyhow::Result<FeedPoller> {
        anyhow::ensure!(!config.url.trim().is_empty(), "a feed has an empty url");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("wirestream/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("failed to build the HTTP client")?;
        Ok(FeedPoller {
            source: format!("feed:{}", config.url),
            url: config.url.clone(),
            interval: config.interval.max(Duration::from_millis(100)),
            provider: config.provider.clone().or(default_provider),
            limits,
            client,
            state: FeedState::load(state_dir, &config.url)?,
            publisher,
            readiness,
        })
    }

    /// Polls now, then every interval (longer after errors) until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        tracing::info!(url = %self.url, interval = ?self.interval, remembered = self.state.seen_count(), "polling feed");
        let mut failures = 0u32;
        let mut backoff = Backoff::between(self.interval * 2, MAX_BACKOFF.max(self.interval));
        loop {
            // Without the broker nothing can be published: wait for it
            // rather than fetch the feed and count an error (which would
            // push the next poll out by the backoff).
            if !self.readiness.is_ready() {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(NOT_READY_PAUSE) => continue,
                }
            }
            let wait = match self.poll().await {
                Ok(polled) => {
                    failures = 0;
                    backoff.reset();
                    if let Polled::Published(n) = polled {
                        if n > 0 {
                            tracing::info!(url = %self.url, new = n, "feed entries published");
                        }
                    }
                    self.interval
                }
                Err(error) => {
                    failures += 1;
                    metrics::feed_poll(&self.source, "error");
                    let wait = after_failure(&mut backoff, self.interval);
                    tracing::warn!(url = %self.url, error = format!("{error:#}"), failures, retry_in = ?wait, "feed poll failed");
                    wait
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One conditional GET, and the new entries published.
    pub async fn poll(&mut self) -> anyhow::Result<Polled> {
        let mut request = self.client.get(&self.url);
        if let Some(etag) = &self.state.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &self.state.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, modified);
        }
        let mut response = request.send().await.context("the request failed")?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            metrics::feed_poll(&self.source, "not_modified");
            return Ok(Polled::NotModified);
        }
        anyhow::ensure!(
            response.status().is_success(),
            "the server answered {}",
            response.status()
        );
        let etag = header_text(&response, header::ETAG);
        let last_modified = header_text(&response, header::LAST_MODIFIED);
        let hint = match header_text(&response, header::CONTENT_TYPE)
            .map(|ct| Hint::from_content_type(&ct))
        {
            // Only a charset on an XML type tells us something the sniffer
            // cannot; servers label feeds `text/html` or `text/plain` too.
            Some(Ok(hint @ Hint::Xml { .. })) => hint,
            _ => Hint::Auto,
        };

        let limit = self.limits.max_document_bytes;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.context("failed to read the feed")? {
            anyhow::ensure!(
                body.len() + chunk.len() <= limit,
                "the feed is larger than {limit} bytes"
            );
            body.extend_from_slice(&chunk);
        }

        let mut ctx = Context::new(self.source.clone());
        ctx.limits = self.limits;
        ctx.default_provider = self.provider.clone();
        // Parsing a large feed is CPU work: keep it off the async workers.
        let items = tokio::task::spawn_blocking(move || parse_document(&body, hint, &ctx))
            .await
            .context("the parser task failed")?
            .context("the feed cannot be parsed")?;
        let mut fresh = Vec::new();
        for item in items {
            if let Err(error) = validate::check(&item) {
                // As the API's 400: the worker could only dead-letter it.
                if !self.state.has_seen(&item.uri) {
                    metrics::rejected(&self.source, "invalid_field", 1);
                    tracing::warn!(url = %self.url, %error, "feed entry rejected: it cannot be stored");
                    self.state.remember(item.uri);
                }
                continue;
            }
            if !self.state.has_seen(&item.uri)
                && !fresh
                    .iter()
                    .any(|f: &wirestream_model::RawItem| f.uri == item.uri)
            {
                fresh.push(item);
            }
        }
        if !fresh.is_empty() {
            anyhow::ensure!(self.readiness.is_ready(), "the broker is unreachable");
            let format = fresh[0].format.as_str();
            metrics::received(&self.source, format, fresh.len());
            self.publish(&mut fresh).await?;
        }
        // Only now, with every new entry acknowledged, is the feed "seen".
        for item in &fresh {
            self.state.remember(item.uri.clone());
        }
        self.state.etag = etag;
        self.state.last_modified = last_modified;
        self.state.save()?;
        metrics::feed_poll(
            &self.source,
            if fresh.is_empty() { "unchanged" } else { "new" },
        );
        Ok(Polled::Published(fresh.len()))
    }
}

impl FeedPoller {
    /// Publishes `fresh`, leaving in it the entries the broker acknowledged.
    /// Each entry it can never take is taken out, rejected and remembered,
    /// and the rest sent again. A batch with an item too large or not
    /// encodable is refused before anything is sent; after a refusal by the
    /// broker itself, entries before that one may go twice, which the
    /// worker's exact-copy check absorbs.
    async fn publish(&mut self, fresh: &mut Vec<wirestream_model::RawItem>) -> anyhow::Result<()> {
        loop {
            let Err(error) = self.publisher.publish(fresh).await else {
                return Ok(());
            };
            let Some((index, reason)) = error.permanent_item() else {
                return Err(error).context("the broker did not take the entries");
            };
            let rejected = fresh.remove(index);
            metrics::rejected(&self.source, reason, 1);
            tracing::warn!(url = %self.url, entry = %rejected.uri, %error, "feed entry rejected: the broker can never take it");
            self.state.remember(rejected.uri);
            if fresh.is_empty() {
                return Ok(());
            }
        }
    }
}

fn header_text(response: &reqwest::Response, name: header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The wait after a failed poll: the interval doubled per failure (less
/// jitter), at most an hour, and never less than the interval itself.
fn after_failure(backoff: &mut Backoff, interval: Duration) -> Duration {
    backoff.next_pause().max(interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_to_a_cap_and_is_never_shorter_than_the_interval() {
        let minute = Duration::from_secs(60);
        let mut backoff = Backoff::between(2 * minute, MAX_BACKOFF);
        let first = after_failure(&mut backoff, minute);
        assert!(first >= minute && first <= 2 * minute, "{first:?}");
        let waits: Vec<Duration> = (0..30)
            .map(|_| after_failure(&mut backoff, minute))
            .collect();
        assert!(waits.iter().all(|w| *w <= MAX_BACKOFF));
        assert!(*waits.last().unwrap() >= MAX_BACKOFF.mul_f64(0.8));
        let day = Duration::from_secs(86_400);
        let mut backoff = Backoff::between(2 * day, MAX_BACKOFF.max(day));
        assert!(after_failure(&mut backoff, day) >= day);
    }
}
