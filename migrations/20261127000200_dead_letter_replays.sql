-- When `wirestream dlq replay` sent a dead letter back into the pipeline.
ALTER TABLE dead_letters ADD COLUMN replayed_at timestamptz;
