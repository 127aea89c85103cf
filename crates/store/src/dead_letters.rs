use sqlx::PgPool;
use wirestream_model::{DeadLetter, Original};

use crate::StoreError;

/// Stores dead letters read from the dead-letter topic. `origin` is where each
/// was read from (`topic/partition/offset`). A dead letter is identified by its
/// stage, reason, item key and original bytes, so storing it again (a replay,
/// or the same item re-sent) is a no-op.
pub async fn write_dead_letters(
    pool: &PgPool,
    batch: &[(String, DeadLetter)],
) -> Result<u64, StoreError> {
    Ok(crate::write_batch(pool, &[], batch, None)
        .await?
        .dead_letters_stored)
}

/// Writes dead letters inside the caller's transaction.
pub(crate) async fn write_in(
    tx: &mut sqlx::PgConnection,
    batch: &[(String, DeadLetter)],
) -> Result<u64, StoreError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let n = batch.len();
    let mut origin = Vec::with_capacity(n);
    let mut stage = Vec::with_capacity(n);
    let mut reason = Vec::with_capacity(n);
    let mut detail = Vec::with_capacity(n);
    let mut item_key = Vec::with_capacity(n);
    let mut source = Vec::with_capacity(n);
    let mut received_at = Vec::with_capacity(n);
    let mut failed_at = Vec::with_capacity(n);
    let mut original = Vec::with_capacity(n);
    let mut encoding = Vec::with_capacity(n);
    for (from, letter) in batch {
        origin.push(from.as_str());
        stage.push(letter.stage.as_str());
        reason.push(letter.reason.as_str());
        detail.push(letter.detail.as_str());
        item_key.push(letter.key.as_deref());
        source.push(letter.source.as_str());
        received_at.push(letter.received_at);
        failed_at.push(letter.failed_at);
        let (data, kind) = match &letter.original {
            Original::Utf8(text) => (text.as_str(), "utf8"),
            Original::Base64(data) => (data.as_str(), "base64"),
        };
        original.push(data);
        encoding.push(kind);
    }
    let result = sqlx::query(
        "INSERT INTO dead_letters
             (origin, stage, reason, detail, item_key, source, received_at, failed_at, original, original_encoding)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                              $7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[])
         ON CONFLICT (fingerprint) DO NOTHING",
    )
    .bind(&origin)
    .bind(&stage)
    .bind(&reason)
    .bind(&detail)
    .bind(&item_key)
    .bind(&source)
    .bind(&received_at)
    .bind(&failed_at)
    .bind(&original)
    .bind(&encoding)
    .execute(&mut *tx)
    .await?;
    Ok(result.rows_affected())
}

/// A stored dead letter, as `wirestream dlq` shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredDeadLetter {
    pub id: i64,
    pub origin: String,
    pub stage: String,
    pub reason: String,
    pub detail: String,
    pub item_key: Option<String>,
    pub source: String,
    pub failed_at: chrono::DateTime<chrono::Utc>,
    pub replayed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub original: String,
    pub original_encoding: String,
}

impl StoredDeadLetter {
    /// The bytes as the stage received them.
    pub fn original_bytes(&self) -> Vec<u8> {
        match self.original_encoding.as_str() {
            "base64" => Original::Base64(self.original.clone()).to_bytes(),
            _ => self.original.as_bytes().to_vec(),
        }
    }
}

/// Which dead letters to read.
#[derive(Debug, Clone, Default)]
pub struct DeadLetterFilter {
    pub ids: Vec<i64>,
    pub reason: Option<String>,
    /// Only the ones not replayed yet.
    pub pending: bool,
    pub limit: i64,
}

pub async fn find_dead_letters(
    pool: &PgPool,
    filter: &DeadLetterFilter,
) -> Result<Vec<StoredDeadLetter>, StoreError> {
    Ok(sqlx::query_as::<_, StoredDeadLetter>(
        "SELECT id, origin, stage, reason, detail, item_key, source, failed_at, replayed_at, original, original_encoding
         FROM dead_letters
         WHERE (cardinality($1::int8[]) = 0 OR id = ANY($1))
           AND ($2::text IS NULL OR reason = $2)
           AND (NOT $3 OR replayed_at IS NULL)
         ORDER BY id
         LIMIT $4",
    )
    .bind(&filter.ids)
    .bind(&filter.reason)
    .bind(filter.pending)
    .bind(filter.limit)
    .fetch_all(pool)
    .await?)
}

/// Records that dead letters were sent back into the pipeline.
pub async fn mark_replayed(pool: &PgPool, ids: &[i64]) -> Result<(), StoreError> {
    sqlx::query("UPDATE dead_letters SET replayed_at = now() WHERE id = ANY($1)")
        .bind(ids)
        .execute(pool)
        .await?;
    Ok(())
}
