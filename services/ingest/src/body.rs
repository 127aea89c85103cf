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
}

/// How much of an oversized body is read (and dropped) before answering
/// `413`, as a multiple of the limit. A client that is still sending when
/// the server answers and closes sees a broken connection rather than the
/// `413`; draining a bounded amount lets ordinary clients read the answer,
/// while a body beyond this is cut off.
const DRAIN_FACTOR: usize = 4;

/// Reads a request body, keeping at most `limit` bytes. `declared` is the
/// `Content-Length`, which refuses a huge body without reading it.
pub async fn read_capped(
    body: Body,
    declared: Option<u64>,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let drain = limit.saturating_mul(DRAIN_FACTOR);
    if declared.is_some_and(|length| length > drain as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
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

    #[tokio::test]
    async fn bodies_are_capped() {
        assert!(matches!(
            read_capped(Body::from(vec![1u8; 11]), None, 10).await,
            Err(BodyError::TooLarge { .. })
        ));
        assert!(matches!(
            read_capped(Body::from(vec![1u8; 100]), None, 10).await,
            Err(BodyError::TooLarge { .. })
        ));
        assert!(matches!(
            read_capped(Body::empty(), Some(1000), 10).await,
            Err(BodyError::TooLarge { .. })
        ));
        assert_eq!(
            read_capped(Body::from(vec![1u8; 10]), Some(10), 10)
                .await
                .expect("fits")
                .len(),
            10
        );
    }
}
