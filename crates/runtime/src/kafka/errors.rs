//! Why a broker refuses us, in words an operator can act on.
//!
//! librdkafka tells why a connection failed (wrong SASL password, a broker
//! certificate no CA vouches for, a plaintext client on a TLS listener) only
//! through its error events; a metadata request merely fails with "broker
//! transport failure". The readiness check and the start-up wait keep the
//! last such reason, so that `/ready` and the start-up error say it. Their
//! client is a producer that never sends: a producer hands error events to
//! its context with librdkafka's text when polled, where a consumer turns
//! them into bare error codes.

use std::sync::{Arc, Mutex};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::config::{ClientConfig, FromClientConfig, FromClientConfigAndContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::ProducerContext;

/// A client context that remembers librdkafka's last error and logs each
/// new one once (the same refusal, repeated on every reconnect, once).
#[derive(Clone, Default)]
pub struct LastError {
    last: Arc<Mutex<Option<String>>>,
}

impl LastError {
    /// The last error librdkafka reported, if any since the last [`LastError::clear`].
    pub fn get(&self) -> Option<String> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets the last error, once the broker answered again.
    pub fn clear(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// `what` with the last error appended, when there is one.
    pub fn explain(&self, what: String) -> String {
        match self.get() {
            Some(reason) => format!("{what}; last error: {reason}"),
            None => what,
        }
    }
}

impl LastError {
    /// Keeps `text` as the last error, and logs it when it differs from
    /// the last one and `log_new` (librdkafka logged it already otherwise).
    fn record(&self, error: Option<&KafkaError>, text: String, log_new: bool) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        // "All brokers are down" follows every refusal: it is the
        // consequence, and would hide the reason.
        let all_down = error.and_then(KafkaError::rdkafka_error_code)
            == Some(RDKafkaErrorCode::AllBrokersDown);
        if last.is_some() && all_down {
            return;
        }
        // The same refusal on every reconnect differs only in its timing,
        // "(after 18ms in state SSL_HANDSHAKE, …)".
        let gist = |text: &str| text.split(" (after ").next().unwrap_or_default().to_owned();
        let new = last.as_deref().map(gist) != Some(gist(&text));
        if new && log_new {
            tracing::error!(error = %text, "the Kafka broker refused or dropped the connection");
        }
        *last = Some(text);
    }
}

impl ClientContext for LastError {
    /// librdkafka's log lines, as the default context forwards them; a
    /// connection's failure (`FAIL`) is also kept. It comes from
    /// librdkafka's own threads, so it is seen even while nobody polls.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        use RDKafkaLogLevel::*;
        match level {
            Emerg | Alert | Critical | Error => {
                tracing::error!(target: "librdkafka", "librdkafka: {fac} {message}")
            }
            Warning => tracing::warn!(target: "librdkafka", "librdkafka: {fac} {message}"),
            Notice | Info => tracing::info!(target: "librdkafka", "librdkafka: {fac} {message}"),
            Debug => tracing::debug!(target: "librdkafka", "librdkafka: {fac} {message}"),
        }
        if fac == "FAIL" {
            match with_hint(message) {
                Some(hinted) => self.record(None, hinted, true),
                None => self.record(None, message.to_owned(), false),
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.record(Some(&error), format!("{error}: {reason}"), true);
    }
}

impl ProducerContext for LastError {
    type DeliveryOpaque = ();

    // It never sends.
    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}

/// A connection the broker closed before answering librdkafka's first
/// request is, most of the time, a plaintext client on a TLS listener; the
/// broker says nothing more, and librdkafka logs it as a mere notice.
fn with_hint(message: &str) -> Option<String> {
    (message.contains("Disconnected") && message.contains("APIVERSION_QUERY")).then(|| {
        format!(
            "{message}: the broker closed the connection before its first answer; \
             a plaintext client on a TLS or SASL listener? check security.protocol"
        )
    })
}

/// Creates a client from `config`. librdkafka's refusal of a setting quotes
/// its value, which for a secret setting must not reach the log: then only
/// the key is named.
pub fn create<T: FromClientConfig>(config: &ClientConfig, what: &str) -> anyhow::Result<T> {
    config
        .create()
        .map_err(|error| anyhow::anyhow!("failed to create the Kafka {what}: {}", shown(&error)))
}

/// [`create`] with a context of the caller's.
pub fn create_with_context<C, T>(config: &ClientConfig, context: C, what: &str) -> anyhow::Result<T>
where
    C: ClientContext,
    T: FromClientConfigAndContext<C>,
{
    config
        .create_with_context(context)
        .map_err(|error| anyhow::anyhow!("failed to create the Kafka {what}: {}", shown(&error)))
}

fn shown(error: &KafkaError) -> String {
    match error {
        KafkaError::ClientConfig(_, description, key, _)
            if crate::redact::is_secret_setting(key) =>
        {
            format!("invalid setting {key} ({description})")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::consumer::BaseConsumer;

    #[test]
    fn a_refused_secret_setting_is_named_without_its_value() {
        let error = KafkaError::ClientConfig(
            rdkafka::types::RDKafkaConfRes::RD_KAFKA_CONF_INVALID,
            "Invalid value".into(),
            "sasl.password".into(),
            "hunter2-Qp".into(),
        );
        let text = shown(&error);
        assert!(!text.contains("hunter2-Qp"), "{text}");
        assert!(text.contains("sasl.password"), "{text}");
    }

    #[test]
    fn an_unknown_setting_is_an_error_naming_it() {
        let mut config = ClientConfig::new();
        config.set("no.such.setting", "1");
        let error = create::<BaseConsumer>(&config, "client").err().unwrap();
        assert!(error.to_string().contains("no.such.setting"), "{error}");
    }

    #[test]
    fn a_connection_closed_before_the_first_answer_hints_at_the_protocol() {
        let context = LastError::default();
        context.log(
            RDKafkaLogLevel::Notice,
            "FAIL",
            "127.0.0.1:9093/bootstrap: Disconnected: connection closed by peer: receive 0 \
             after POLLIN (after 2ms in state APIVERSION_QUERY)",
        );
        let last = context.get().unwrap_or_default();
        assert!(last.contains("security.protocol"), "{last}");
    }

    #[test]
    fn the_last_error_is_kept_until_cleared() {
        let context = LastError::default();
        assert_eq!(context.explain("down".into()), "down");
        context.error(
            KafkaError::Global(RDKafkaErrorCode::Authentication),
            "SASL authentication error",
        );
        context.error(
            KafkaError::Global(RDKafkaErrorCode::AllBrokersDown),
            "1/1 brokers are down",
        );
        let explained = context.explain("down".into());
        assert!(
            explained.contains("SASL authentication error"),
            "{explained}"
        );
        context.clear();
        assert_eq!(context.get(), None);
    }
}
