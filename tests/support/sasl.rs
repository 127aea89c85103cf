//! A private Kafka node with a `SASL_SSL` listener (a certificate made by
//! the test, SCRAM-SHA-512 users), and the client settings that reach it,
//! for the security tests.

use std::path::{Path, PathBuf};

use crate::certs::Certs;
use crate::Kafka;

/// The one SCRAM user the secured node knows.
pub const USER: &str = "wirestream";

/// A started Kafka node with a `SASL_SSL` listener beside its PLAINTEXT one.
pub struct SecuredKafka {
    pub kafka: Kafka,
    /// The broker's CA and certificate.
    pub certs: Certs,
}

impl SecuredKafka {
    /// Starts a node whose SCRAM user [`USER`] has `password`.
    pub async fn start(password: &str) -> anyhow::Result<SecuredKafka> {
        let certs = Certs::generate("kafka")?;
        let keystore = certs.keystore_pem()?;
        let mut kafka = Kafka::new()?.with_sasl_ssl(&keystore, &[(USER, password)]);
        kafka.start().await?;
        Ok(SecuredKafka { kafka, certs })
    }

    /// The services' settings for the `SASL_SSL` listener, trusting `ca`,
    /// without the password (give it with [`password_file`] or
    /// [`SecuredKafka::client_toml_with_password`]).
    pub fn client_toml(&self, ca: &Path) -> String {
        format!(
            "[kafka.common]\n\
             \"security.protocol\" = \"SASL_SSL\"\n\
             \"sasl.mechanism\" = \"SCRAM-SHA-512\"\n\
             \"sasl.username\" = \"{USER}\"\n\
             \"ssl.ca.location\" = \"{}\"\n",
            ca.display()
        )
    }

    /// [`SecuredKafka::client_toml`] with the password in the file itself.
    pub fn client_toml_with_password(&self, ca: &Path, password: &str) -> String {
        format!(
            "{}\"sasl.password\" = \"{password}\"\n",
            self.client_toml(ca)
        )
    }
}

/// Writes `text` to a file of `dir` named `name` and returns its path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("a file in the test's folder");
    path
}

/// A file holding `password` and a newline, as a mounted Secret would.
pub fn password_file(dir: &Path, name: &str, password: &str) -> PathBuf {
    write_file(dir, name, &format!("{password}\n"))
}

/// What a service refused by the broker showed: its `/ready` status and body.
pub struct Refusal {
    pub status: u16,
    pub ready: String,
}

/// Polls the service on `port` until `/ready` answers 503 with a body
/// naming one of `reasons`, and its `log` names one too; an error after
/// `within`, with what was seen.
pub async fn wait_refused(
    port: u16,
    log: &Path,
    reasons: &[&str],
    within: std::time::Duration,
) -> anyhow::Result<Refusal> {
    let started = std::time::Instant::now();
    let url = format!("http://127.0.0.1:{port}/ready");
    let names = |text: &str| reasons.iter().any(|reason| text.contains(reason));
    let mut last = Refusal {
        status: 0,
        ready: String::new(),
    };
    loop {
        if let Ok(response) = reqwest::get(&url).await {
            last.status = response.status().as_u16();
            last.ready = response.text().await.unwrap_or_default();
        }
        let logged = std::fs::read_to_string(log).unwrap_or_default();
        if last.status == 503 && names(&last.ready) && names(&logged) {
            return Ok(last);
        }
        if started.elapsed() > within {
            anyhow::bail!(
                "not refused for {reasons:?} within {within:?}: /ready {} {}\n--- log ---\n{logged}",
                last.status,
                last.ready
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
