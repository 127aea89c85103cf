//! Asking a service how it is.

/// The status of `/health` on `port`; 0 when nothing answers.
pub async fn health(port: u16) -> u16 {
    reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}
