//! Consumer offsets kept in Postgres, for the sink's effectively-once mode.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool, Row as _};

use crate::StoreError;

/// The next offset to read, per partition of a consumer group: the stage
/// framework's, so that a batch's offsets go to Postgres as they are.
pub use wirestream_runtime::stage::NextOffset as PartitionOffset;

/// Offsets to save with a batch, for one consumer group.
#[derive(Debug, Clone)]
pub struct OffsetCommit<'a> {
    pub group_id: &'a str,
    pub offsets: &'a [PartitionOffset],
}

/// Loads the stored offsets of `group_id` for the given partitions.
pub async fn load_offsets(
    pool: &PgPool,
    group_id: &str,
    partitions: &[(String, i32)],
) -> Result<HashMap<(String, i32), i64>, StoreError> {
    let topics: Vec<&str> = partitions.iter().map(|(t, _)| t.as_str()).collect();
    let numbers: Vec<i32> = partitions.iter().map(|(_, p)| *p).collect();
    let rows = sqlx::query(
        "SELECT o.topic, o.partition, o.next_offset
         FROM UNNEST($2::text[], $3::int4[]) AS wanted(topic, partition)
         JOIN sink_offsets o ON o.group_id = $1 AND o.topic = wanted.topic AND o.partition = wanted.partition",
    )
    .bind(group_id)
    .bind(&topics)
    .bind(&numbers)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                (row.get::<String, _>(0), row.get::<i32, _>(1)),
                row.get::<i64, _>(2),
            )
        })
        .collect())
}

/// Saves offsets inside the caller's transaction. Offsets only move forward:
/// a late writer (a sink that lost its partition in a rebalance) cannot move
/// one back.
pub(crate) async fn save_offsets(
    tx: &mut PgConnection,
    commit: &OffsetCommit<'_>,
) -> Result<(), StoreError> {
    if commit.offsets.is_empty() {
        return Ok(());
    }
    let topics: Vec<&str> = commit.offsets.iter().map(|o| o.topic.as_str()).collect();
    let partitions: Vec<i32> = commit.offsets.iter().map(|o| o.partition).collect();
    let next: Vec<i64> = commit.offsets.iter().map(|o| o.next_offset).collect();
    sqlx::query(
        "INSERT INTO sink_offsets (group_id, topic, partition, next_offset)
         SELECT $1, * FROM UNNEST($2::text[], $3::int4[], $4::int8[])
         ON CONFLICT (group_id, topic, partition) DO UPDATE
         SET next_offset = GREATEST(sink_offsets.next_offset, excluded.next_offset), updated_at = now()",
    )
    .bind(commit.group_id)
    .bind(&topics)
    .bind(&partitions)
    .bind(&next)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
