-- Compress the large text columns with lz4 rather than PostgreSQL's default
-- pglz. A wire item's row (body plus the original document) passes the 2 kB
-- TOAST threshold, so every insert compressed it: pglz was one of the top
-- functions in PostgreSQL's profile under `make bench` (docs/benchmarks.md),
-- and lz4 compresses several times faster at a similar ratio. Existing rows
-- keep their compression; only new values use lz4.
--
-- lz4 needs a server built with it (Debian's, the PGDG packages and the
-- official images are); elsewhere this migration leaves pglz in place.
DO $$
BEGIN
    ALTER TABLE articles
        ALTER COLUMN body SET COMPRESSION lz4,
        ALTER COLUMN original SET COMPRESSION lz4;
    ALTER TABLE article_versions ALTER COLUMN body SET COMPRESSION lz4;
    ALTER TABLE dead_letters ALTER COLUMN original SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this server has no lz4: the text columns keep pglz';
END
$$;
