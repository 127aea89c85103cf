//! Why a broker refuses us, in words an operator can act on.
//!
//! librdkafka tells why a connection failed (wrong SASL password, a broker
//! certificate no CA vouches for, a plaintext client on a TLS listener) only
//! through its error callback; a metadata request merely times out. The
//! readiness check and the start-up wait keep the last such reason, so that
//! `/ready` and the start-up error say it.

use std::sync::{Arc, Mutex};

use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, FromClientConfig, FromClientConfigAndContext};
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

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

impl ClientContext for LastError {
    fn error(&self, error: KafkaError, reason: &str) {
        let text = format!("{error}: {reason}");
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.as_deref() != Some(text.as_str()) {
            tracing::error!(error = %text, "the Kafka broker refused or dropped the connection");
        }
        *last = Some(text);
    }
}

impl ConsumerContext for LastError {}

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
    use rdkafka::error::RDKafkaErrorCode;

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
    fn the_last_error_is_kept_until_cleared() {
        let context = LastError::default();
        assert_eq!(context.explain("down".into()), "down");
        context.error(
            KafkaError::Global(RDKafkaErrorCode::Authentication),
            "SASL authentication error",
        );
        let explained = context.explain("down".into());
        assert!(explained.contains("SASL authentication error"), "{explained}");
        context.clear();
        assert_eq!(context.get(), None);
    }
}
