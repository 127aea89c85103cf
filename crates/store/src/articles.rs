use std::collections::HashMap;

use sqlx::PgPool;
use wirestream_model::{Article, LanguageSource, Original, PubStatus};

use crate::StoreError;

/// Writes a batch of articles in one transaction: every version into
/// `article_versions`, and the latest into `articles`.
///
/// The version rules hold in SQL, so the outcome does not depend on the order
/// or the number of times a batch is written: a higher version replaces the
/// row, a lower or equal one is ignored, and a cancellation marks the row
/// killed whatever its version.
///
/// Returns the number of rows of `articles` that changed.
pub async fn write_articles(pool: &PgPool, batch: &[Article]) -> Result<u64, StoreError> {
    Ok(crate::write_batch(pool, batch, &[], None)
        .await?
        .articles_changed)
}

/// Writes articles inside the caller's transaction.
pub(crate) async fn write_in(
    tx: &mut sqlx::PgConnection,
    batch: &[Article],
) -> Result<u64, StoreError> {
    if batch.is_empty() {
        return Ok(0);
    }
    insert_versions(tx, batch).await?;
    upsert_latest(tx, &latest_per_item(batch)).await
}

/// `ON CONFLICT DO UPDATE` may touch a row once per statement, so a batch
/// holding several versions of one item is reduced to the one that wins.
fn latest_per_item(batch: &[Article]) -> Vec<&Article> {
    let mut winners: HashMap<(&str, &str), &Article> = HashMap::with_capacity(batch.len());
    for article in batch {
        winners
            .entry((article.provider.as_str(), article.uri.as_str()))
            .and_modify(|current| {
                if wins_over(article, current) {
                    *current = article;
                }
            })
            .or_insert(article);
    }
    let mut out: Vec<&Article> = winners.into_values().collect();
    // A stable order keeps row locks taken in the same order by concurrent sinks.
    out.sort_by(|a, b| (&a.provider, &a.uri).cmp(&(&b.provider, &b.uri)));
    out
}

fn wins_over(candidate: &Article, current: &Article) -> bool {
    let killed = |a: &Article| a.pubstatus == PubStatus::Canceled;
    (killed(candidate), candidate.version) > (killed(current), current.version)
}

/// The version rules, as the conflict clause of an `INSERT INTO articles AS a`:
/// a higher version replaces the row, a lower or equal one is ignored, and a
/// cancellation marks the row killed (keeping its text when the kill has none).
pub const UPSERT_LATEST: &str = "ON CONFLICT (provider, uri) DO UPDATE SET
             version = excluded.version, pubstatus = excluded.pubstatus, verdict = excluded.verdict,
             duplicate_of = excluded.duplicate_of, similarity = excluded.similarity,
             headline = CASE WHEN excluded.pubstatus = 'canceled' AND excluded.body = '' THEN a.headline ELSE excluded.headline END,
             body = CASE WHEN excluded.pubstatus = 'canceled' AND excluded.body = '' THEN a.body ELSE excluded.body END,
             byline = excluded.byline, dateline = excluded.dateline, language = excluded.language,
             language_confidence = excluded.language_confidence, language_source = excluded.language_source,
             word_count = excluded.word_count, urgency = excluded.urgency, subjects = excluded.subjects,
             places = excluded.places, tickers = excluded.tickers, tags = excluded.tags,
             copyright = excluded.copyright, versioncreated = excluded.versioncreated,
             firstcreated = excluded.firstcreated, embargoed = excluded.embargoed,
             warnings = excluded.warnings, content_hash = excluded.content_hash,
             format = excluded.format, source = excluded.source, received_at = excluded.received_at,
             processed_at = excluded.processed_at, stored_at = now(),
             original = excluded.original, original_encoding = excluded.original_encoding,
             killed_at = coalesce(a.killed_at, excluded.killed_at)
         WHERE (excluded.pubstatus = 'canceled', excluded.version) > (a.pubstatus = 'canceled', a.version)";

fn original_columns(original: &Original) -> (&str, &'static str) {
    match original {
        Original::Utf8(text) => (text, "utf8"),
        Original::Base64(data) => (data, "base64"),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // Serialising plain data structures to a Value cannot fail.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

async fn insert_versions(tx: &mut sqlx::PgConnection, batch: &[Article]) -> Result<(), StoreError> {
    let n = batch.len();
    let mut provider = Vec::with_capacity(n);
    let mut uri = Vec::with_capacity(n);
    let mut version = Vec::with_capacity(n);
    let mut pubstatus = Vec::with_capacity(n);
    let mut verdict = Vec::with_capacity(n);
    let mut headline = Vec::with_capacity(n);
    let mut body = Vec::with_capacity(n);
    let mut content_hash = Vec::with_capacity(n);
    let mut received_at = Vec::with_capacity(n);
    for a in batch {
        provider.push(a.provider.as_str());
        uri.push(a.uri.as_str());
        version.push(a.version as i64);
        pubstatus.push(a.pubstatus.as_str());
        verdict.push(a.verdict.as_str());
        headline.push(a.headline.as_str());
        body.push(a.body.as_str());
        content_hash.push(a.content_hash.as_str());
        received_at.push(a.received_at);
    }
    sqlx::query(
        "INSERT INTO article_versions
             (provider, uri, version, pubstatus, verdict, headline, body, content_hash, received_at)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::text[], $9::timestamptz[])
         ON CONFLICT (provider, uri, version) DO NOTHING",
    )
    .bind(&provider)
    .bind(&uri)
    .bind(&version)
    .bind(&pubstatus)
    .bind(&verdict)
    .bind(&headline)
    .bind(&body)
    .bind(&content_hash)
    .bind(&received_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn upsert_latest(tx: &mut sqlx::PgConnection, rows: &[&Article]) -> Result<u64, StoreError> {
    let mut c = Columns::default();
    for a in rows {
        let (original, encoding) = original_columns(&a.original);
        c.provider.push(a.provider.as_str());
        c.uri.push(a.uri.as_str());
        c.version.push(a.version as i64);
        c.pubstatus.push(a.pubstatus.as_str());
        c.verdict.push(a.verdict.as_str());
        c.duplicate_of.push(a.duplicate_of.as_deref());
        c.similarity.push(a.similarity);
        c.headline.push(a.headline.as_str());
        c.body.push(a.body.as_str());
        c.byline.push(a.byline.as_deref());
        c.dateline.push(a.dateline.as_deref());
        c.language.push(a.language.as_deref());
        c.language_confidence.push(a.language_confidence);
        c.language_source.push(a.language_source.map(|s| match s {
            LanguageSource::Declared => "declared",
            LanguageSource::Detected => "detected",
        }));
        c.word_count.push(a.word_count as i32);
        c.urgency.push(a.urgency.map(i16::from));
        c.subjects.push(to_json(&a.subjects));
        c.places.push(to_json(&a.places));
        c.tickers.push(to_json(&a.tickers));
        c.tags.push(to_json(&a.tags));
        c.copyright.push(a.copyright.as_deref());
        c.versioncreated.push(a.versioncreated);
        c.firstcreated.push(a.firstcreated);
        c.embargoed.push(a.embargoed);
        c.warnings.push(to_json(&a.warnings));
        c.content_hash.push(a.content_hash.as_str());
        c.format.push(a.format.as_str());
        c.source.push(a.source.as_str());
        c.received_at.push(a.received_at);
        c.processed_at.push(a.processed_at);
        c.original.push(original);
        c.original_encoding.push(encoding);
    }
    let sql = format!(
        "INSERT INTO articles AS a (
             provider, uri, version, pubstatus, verdict, duplicate_of, similarity,
             headline, body, byline, dateline, language, language_confidence, language_source,
             word_count, urgency, subjects, places, tickers, tags, copyright,
             versioncreated, firstcreated, embargoed, warnings, content_hash, format, source,
             received_at, processed_at, original, original_encoding, killed_at)
         SELECT u.*, CASE WHEN u.pubstatus = 'canceled' THEN now() END
         FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::real[],
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::real[], $14::text[],
                     $15::int4[], $16::int2[], $17::jsonb[], $18::jsonb[], $19::jsonb[], $20::jsonb[], $21::text[],
                     $22::timestamptz[], $23::timestamptz[], $24::timestamptz[], $25::jsonb[], $26::text[],
                     $27::text[], $28::text[], $29::timestamptz[], $30::timestamptz[], $31::text[], $32::text[])
              AS u(provider, uri, version, pubstatus, verdict, duplicate_of, similarity,
                   headline, body, byline, dateline, language, language_confidence, language_source,
                   word_count, urgency, subjects, places, tickers, tags, copyright,
                   versioncreated, firstcreated, embargoed, warnings, content_hash, format, source,
                   received_at, processed_at, original, original_encoding)
         {UPSERT_LATEST}"
    );
    let result = sqlx::query(&sql)
        .bind(&c.provider)
        .bind(&c.uri)
        .bind(&c.version)
        .bind(&c.pubstatus)
        .bind(&c.verdict)
        .bind(&c.duplicate_of)
        .bind(&c.similarity)
        .bind(&c.headline)
        .bind(&c.body)
        .bind(&c.byline)
        .bind(&c.dateline)
        .bind(&c.language)
        .bind(&c.language_confidence)
        .bind(&c.language_source)
        .bind(&c.word_count)
        .bind(&c.urgency)
        .bind(&c.subjects)
        .bind(&c.places)
        .bind(&c.tickers)
        .bind(&c.tags)
        .bind(&c.copyright)
        .bind(&c.versioncreated)
        .bind(&c.firstcreated)
        .bind(&c.embargoed)
        .bind(&c.warnings)
        .bind(&c.content_hash)
        .bind(&c.format)
        .bind(&c.source)
        .bind(&c.received_at)
        .bind(&c.processed_at)
        .bind(&c.original)
        .bind(&c.original_encoding)
        .execute(&mut *tx)
        .await?;
    Ok(result.rows_affected())
}

type Ts = chrono::DateTime<chrono::Utc>;

/// One array per column, bound as `UNNEST` parameters.
#[derive(Default)]
struct Columns<'a> {
    provider: Vec<&'a str>,
    uri: Vec<&'a str>,
    version: Vec<i64>,
    pubstatus: Vec<&'static str>,
    verdict: Vec<&'static str>,
    duplicate_of: Vec<Option<&'a str>>,
    similarity: Vec<Option<f32>>,
    headline: Vec<&'a str>,
    body: Vec<&'a str>,
    byline: Vec<Option<&'a str>>,
    dateline: Vec<Option<&'a str>>,
    language: Vec<Option<&'a str>>,
    language_confidence: Vec<Option<f32>>,
    language_source: Vec<Option<&'static str>>,
    word_count: Vec<i32>,
    urgency: Vec<Option<i16>>,
    subjects: Vec<serde_json::Value>,
    places: Vec<serde_json::Value>,
    tickers: Vec<serde_json::Value>,
    tags: Vec<serde_json::Value>,
    copyright: Vec<Option<&'a str>>,
    versioncreated: Vec<Option<Ts>>,
    firstcreated: Vec<Option<Ts>>,
    embargoed: Vec<Option<Ts>>,
    warnings: Vec<serde_json::Value>,
    content_hash: Vec<&'a str>,
    format: Vec<&'static str>,
    source: Vec<&'a str>,
    received_at: Vec<Ts>,
    processed_at: Vec<Ts>,
    original: Vec<&'a str>,
    original_encoding: Vec<&'static str>,
}
