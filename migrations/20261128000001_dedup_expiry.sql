-- Expiry of the exact-copy and decision state (docs/dedup.md, "horizon").
--
-- Both tables are expired by the article's own time (versioncreated, else
-- received_at), like the near-copy index: dedup_hashes.seen_at is written
-- with it from now on (it defaulted to the insert time), and decisions get
-- the column. Rows written before this migration keep their insert time.
ALTER TABLE dedup_decisions ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX dedup_decisions_seen_at ON dedup_decisions (seen_at);
