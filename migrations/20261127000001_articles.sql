-- The articles users query: one row per story copy (provider + item id), at
-- its latest version. Column names are a public contract (README, docs/queries.md).

-- Maps an article's language to the text-search configuration used for it.
-- IMMUTABLE so that it can drive a generated column and an expression index.
CREATE FUNCTION wirestream_regconfig(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE language
        WHEN 'fr' THEN 'french'::regconfig
        WHEN 'de' THEN 'german'::regconfig
        WHEN 'en' THEN 'english'::regconfig
        WHEN 'es' THEN 'spanish'::regconfig
        WHEN 'it' THEN 'italian'::regconfig
        WHEN 'pt' THEN 'portuguese'::regconfig
        WHEN 'nl' THEN 'dutch'::regconfig
        WHEN 'sv' THEN 'swedish'::regconfig
        WHEN 'nb' THEN 'norwegian'::regconfig
        WHEN 'no' THEN 'norwegian'::regconfig
        WHEN 'da' THEN 'danish'::regconfig
        WHEN 'fi' THEN 'finnish'::regconfig
        WHEN 'ru' THEN 'russian'::regconfig
        ELSE 'simple'::regconfig
    END
$$;

CREATE TABLE articles (
    provider            text        NOT NULL,
    uri                 text        NOT NULL,
    version             bigint      NOT NULL,
    pubstatus           text        NOT NULL CHECK (pubstatus IN ('usable', 'withheld', 'canceled')),
    verdict             text        NOT NULL CHECK (verdict IN ('new', 'version', 'duplicate', 'kill')),
    duplicate_of        text,
    similarity          real,
    headline            text        NOT NULL,
    body                text        NOT NULL,
    byline              text,
    dateline            text,
    language            text,
    language_confidence real,
    language_source     text,
    word_count          integer     NOT NULL,
    urgency             smallint,
    subjects            jsonb       NOT NULL DEFAULT '[]',
    places              jsonb       NOT NULL DEFAULT '[]',
    tickers             jsonb       NOT NULL DEFAULT '[]',
    tags                jsonb       NOT NULL DEFAULT '[]',
    copyright           text,
    versioncreated      timestamptz,
    firstcreated        timestamptz,
    embargoed           timestamptz,
    warnings            jsonb       NOT NULL DEFAULT '[]',
    content_hash        text        NOT NULL,
    format              text        NOT NULL,
    source              text        NOT NULL,
    received_at         timestamptz NOT NULL,
    processed_at        timestamptz NOT NULL,
    stored_at           timestamptz NOT NULL DEFAULT now(),
    killed_at           timestamptz,
    -- The document as the provider sent it: text, or base64 when it was not UTF-8.
    original            text        NOT NULL,
    original_encoding   text        NOT NULL DEFAULT 'utf8',
    search              tsvector    GENERATED ALWAYS AS (
                            to_tsvector(wirestream_regconfig(language), headline || E'\n' || body)
                        ) STORED,
    PRIMARY KEY (provider, uri)
);

COMMENT ON TABLE articles IS 'One row per story copy at its latest version. Duplicates point to the first copy of their story through duplicate_of.';
COMMENT ON COLUMN articles.uri IS 'The item id as the provider sent it.';
COMMENT ON COLUMN articles.duplicate_of IS 'For verdict duplicate: the uri of the first article of the story.';

-- The common queries: latest stories, a provider's last hour, copies of a story, search.
CREATE INDEX articles_received_at ON articles (received_at DESC);
CREATE INDEX articles_provider_received_at ON articles (provider, received_at DESC);
CREATE INDEX articles_duplicate_of ON articles (duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX articles_content_hash ON articles (content_hash);
CREATE INDEX articles_search ON articles USING gin (search);

-- Every version of every item, as it arrived. Never updated.
CREATE TABLE article_versions (
    provider      text        NOT NULL,
    uri           text        NOT NULL,
    version       bigint      NOT NULL,
    pubstatus     text        NOT NULL,
    verdict       text        NOT NULL,
    headline      text        NOT NULL,
    body          text        NOT NULL,
    content_hash  text        NOT NULL,
    received_at   timestamptz NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, uri, version)
);

-- Articles a reader may see: withheld and killed items are hidden.
CREATE VIEW visible_articles AS
    SELECT * FROM articles WHERE pubstatus = 'usable';

-- One row per story: the first copy and everything that duplicated it.
CREATE VIEW stories AS
    SELECT coalesce(a.duplicate_of, a.uri)          AS story_uri,
           count(*)                                 AS copies,
           min(a.received_at)                       AS first_seen,
           max(a.stored_at)                         AS last_updated,
           (array_agg(a.headline ORDER BY a.verdict <> 'new', a.received_at))[1] AS headline,
           array_agg(a.provider || ':' || a.uri ORDER BY a.received_at) AS copy_keys
    FROM articles a
    GROUP BY coalesce(a.duplicate_of, a.uri);

-- Items a stage could not handle, with the reason and the original bytes.
CREATE TABLE dead_letters (
    id                bigserial   PRIMARY KEY,
    -- topic/partition/offset the dead letter was read from: replays are no-ops.
    origin            text        NOT NULL UNIQUE,
    stage             text        NOT NULL,
    reason            text        NOT NULL,
    detail            text        NOT NULL,
    item_key          text,
    source            text        NOT NULL,
    received_at       timestamptz,
    failed_at         timestamptz NOT NULL,
    stored_at         timestamptz NOT NULL DEFAULT now(),
    original          text        NOT NULL,
    original_encoding text        NOT NULL DEFAULT 'utf8'
);
CREATE INDEX dead_letters_reason ON dead_letters (reason, failed_at DESC);
