-- Near-copy index (docs/dedup.md), shared by every worker replica.
--
-- One sketch per indexed article: what verification needs (bottom-k samples
-- of its shingle and number digests, headline words, tickers; at most 758
-- bytes with the default config) and the story it belongs to.
CREATE TABLE dedup_sketches (
    provider   text        NOT NULL,
    uri        text        NOT NULL,
    story_uri  text        NOT NULL,
    sketch     bytea       NOT NULL,
    -- The article's own time (versioncreated, else received_at): the horizon
    -- expires rows by it.
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (provider, uri)
);
CREATE INDEX dedup_sketches_seen_at ON dedup_sketches (seen_at);

-- The article's MinHash LSH band keys (and its lead key): articles sharing a
-- key are candidates. A key holds at most max_per_key articles.
CREATE TABLE dedup_bands (
    band_key   bigint      NOT NULL,
    provider   text        NOT NULL,
    uri        text        NOT NULL,
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (band_key, provider, uri)
);
CREATE INDEX dedup_bands_seen_at ON dedup_bands (seen_at);
