-- The sink's consumer offsets in effectively-once mode (`sink.offsets = "postgres"`),
-- written in the same transaction as the rows they cover.
CREATE TABLE sink_offsets (
    group_id     text        NOT NULL,
    topic        text        NOT NULL,
    partition    integer     NOT NULL,
    -- The next offset to read: one past the last record applied.
    next_offset  bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);
