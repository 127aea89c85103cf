//! Reading request bodies and files with caps: the size on the wire and the
//! size after decompression are both bounded, so neither a huge upload nor a
//! gzip bomb can exhaust memory.

use std::io::Read as _;

use axum::body::Body;
use futures::StreamExt as _;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the body is larger than the {limit} bytes allowed")]
    TooLarge { limit: usize },
    #[error("the body decompresses to more than the {limit} bytes allowed")]
    InflatesTooLarge { limit: usize },
    #[error("the body is not valid gzip: {0}")]
    BadGzip(String),
    #[error("content encoding `{0}` is not supported; send identity or gzip")]
    UnsupportedEncoding(String),
    #[error("failed to read the body: {0}")]
    Read(String),
    #[error("the body did not arrive within {0:?}")]
    Timeout(std::time::Duration),
}

/// How much of an oversized body is read (and dropped) before answering
/// `413`, as a multiple of the limit. A client that is still sending when
/// the server answers and closes sees a broken connection rather than the
/// `413`; draining a bounded amount lets ordinary clients read the answer,
/// while a body beyond this is cut off.
const DRAIN_FACTOR: usize = 4;

/// Whether a declared `Content-Length` is over the limit: such a request
/// is answered `413` before any of its body is read.
pub fn declared_too_large(declared: Option<u64>, limit: usize) -> bool {
    declared.is_some_and(|length| length > limit as u64)
}

/// Reads a request body, keeping at most `limit` bytes, within `timeout`
/// (a client that sends a byte now and then holds no request for long).
/// A body sent without a `Content-Length` and over the limit is read and
/// dropped up to [`DRAIN_FACTOR`] times the limit, so that the client sees
/// the `413`.
pub async fn read_capped(
    body: Body,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, BodyError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let drain = limit.saturating_mul(DRAIN_FACTOR);
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    let mut seen = 0usize;
    loop {
        let chunk = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(chunk)) => chunk.map_err(|e| BodyError::Read(e.to_string()))?,
            Ok(None) => break,
            Err(_) => return Err(BodyError::Timeout(timeout)),
        };
        seen = seen.saturating_add(chunk.len());
        if seen > drain {
            break;
        }
        if seen <= limit {
            out.extend_from_slice(&chunk);
        } else {
            out = Vec::new(); // over the limit: keep nothing, read on to drain
        }
    }
    if seen > limit {
        return Err(BodyError::TooLarge { limit });
    }
    Ok(out)
}

/// Reads and drops the body of a request answered without it (refused by
/// its size or for admission), at most `DRAIN_FACTOR` times `limit` bytes
/// and for at most `timeout`: the client still sending reads the answer
/// rather than a reset connection, and a larger or slower one is cut off.
pub async fn discard(body: Body, limit: usize, timeout: std::time::Duration) {
    let drain = limit.saturating_mul(DRAIN_FACTOR);
    let mut stream = body.into_data_stream();
    let mut seen = 0usize;
    let _ = tokio::time::timeout(timeout, async {
        while let Some(Ok(chunk)) = stream.next().await {
            seen = seen.saturating_add(chunk.len());
            if seen > drain {
                break;
            }
        }
    })
    .await;
}

/// Undoes a `Content-Encoding` (none, `identity`, `gzip`, `x-gzip`).
pub fn decode(encoding: Option<&str>, bytes: Vec<u8>, limit: usize) -> Result<Vec<u8>, BodyError> {
    match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("identity") => Ok(bytes),
        Some("gzip") | Some("x-gzip") => gunzip(&bytes, limit),
        Some(other) => Err(BodyError::UnsupportedEncoding(other.to_owned())),
    }
}

/// Decompresses gzip (several members too), at most `limit` bytes of output.
pub fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    // One byte past the cap tells "exactly at the cap" from "over it".
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| BodyError::BadGzip(e.to_string()))?;
    if out.len() > limit {
        return Err(BodyError::InflatesTooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).expect("compress");
        encoder.finish().expect("compress")
    }

    #[test]
    fn gzip_is_capped_after_decompression() {
        let bomb = gzip(&vec![0u8; 10 * 1024 * 1024]);
        assert!(bomb.len() < 20 * 1024, "a small bomb: {}", bomb.len());
        assert!(matches!(
            gunzip(&bomb, 1024 * 1024),
            Err(BodyError::InflatesTooLarge { .. })
        ));
        assert_eq!(gunzip(&gzip(b"hello"), 5).expect("fits exactly"), b"hello");
        assert!(matches!(
            gunzip(b"not gzip", 100),
            Err(BodyError::BadGzip(_))
        ));
    }

    #[test]
    fn encodings() {
        assert_eq!(decode(None, b"x".to_vec(), 10).expect("plain"), b"x");
        assert_eq!(decode(Some("GZIP"), gzip(b"x"), 10).expect("gzip"), b"x");
        assert!(matches!(
            decode(Some("br"), b"x".to_vec(), 10),
            Err(BodyError::UnsupportedEncoding(_))
        ));
    }

    const SECOND: std::time::Duration = std::time::Duration::from_secs(1);

    #[tokio::test]
    async fn bodies_are_capped() {
        assert!(matches!(
            read_capped(Body::from(vec![1u8; 11]), 10, SECOND).await,
            Err(BodyError::TooLarge { .. })
        ));
        assert!(matches!(
            read_capped(Body::from(vec![1u8; 100]), 10, SECOND).await,
            Err(BodyError::TooLarge { .. })
        ));
        assert!(declared_too_large(Some(11), 10));
        assert!(!declared_too_large(Some(10), 10));
        assert!(!declared_too_large(None, 10));
        assert_eq!(
            read_capped(Body::from(vec![1u8; 10]), 10, SECOND)
                .await
                .expect("fits")
                .len(),
            10
        );
    }

    #[tokio::test]
    async fn a_body_that_dribbles_is_cut_at_the_timeout() {
        let chunks = futures::stream::unfold(0u32, |n| async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            Some((Ok::<_, std::io::Error>(vec![b'x']), n + 1))
        });
        let body = Body::from_stream(chunks);
        assert!(matches!(
            read_capped(body, 1_000, std::time::Duration::from_millis(300)).await,
            Err(BodyError::Timeout(_))
        ));
    }
}
