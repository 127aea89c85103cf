-- Deduplication state, shared by every worker replica.
--
-- Decisions are recorded per (provider, uri, version): a replayed item gets the
-- decision it got the first time, so reprocessing a topic changes nothing.
CREATE TABLE dedup_decisions (
    provider      text        NOT NULL,
    uri           text        NOT NULL,
    version       bigint      NOT NULL,
    verdict       text        NOT NULL,
    duplicate_of  text,
    similarity    real,
    decided_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, uri, version)
);

-- The first item seen with a given content hash. The primary key makes the
-- claim atomic: of two workers racing with the same copy, one wins.
CREATE TABLE dedup_hashes (
    content_hash  text        PRIMARY KEY,
    provider      text        NOT NULL,
    uri           text        NOT NULL,
    -- The story the owner belongs to (itself, or what it duplicates).
    story_uri     text        NOT NULL,
    seen_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dedup_hashes_seen_at ON dedup_hashes (seen_at);
