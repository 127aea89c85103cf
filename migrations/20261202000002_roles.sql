-- Least-privilege group roles (docs/deploy.md, "PostgreSQL security").
--
-- The migrations run as the schema's owner; nothing here can log in. A
-- deployer creates LOGIN users that are members, e.g.
--   CREATE ROLE sink_login LOGIN PASSWORD '...' IN ROLE wirestream_sink;
--
--   wirestream_worker    the dedup state: the only tables the worker reads or writes
--   wirestream_sink      articles, their versions, dead letters, the sink's offsets,
--                        and the search index's upkeep
--   wirestream_reader    SELECT on the user-facing tables and views (docs/queries.md)
--   wirestream_operator  a reader that may also mark dead letters replayed
--                        (`wirestream dlq replay`)
--
-- Roles belong to the whole cluster while this runs once per database, and
-- often for many databases at once (`#[sqlx::test]`, the e2e tests): two
-- CREATE ROLE of one name race, and the loser gets duplicate_object or a
-- unique_violation on pg_authid, which both mean "it is there".
--
-- Privileges are granted table by table, never ON ALL TABLES: a migration
-- that adds a table grants it to the roles that need it, in the same file
-- (crates/store/tests/roles.rs fails for a table no role was given).

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['wirestream_worker', 'wirestream_sink', 'wirestream_reader', 'wirestream_operator'] LOOP
        -- An owner without CREATEROLE can migrate once a superuser has
        -- created the roles (docs/deploy.md).
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;

DO $$
BEGIN
    IF NOT pg_catalog.pg_has_role('wirestream_operator', 'wirestream_reader', 'MEMBER') THEN
        GRANT wirestream_reader TO wirestream_operator;
    END IF;
EXCEPTION WHEN unique_violation THEN
    -- Two databases granting it at once: the other one did.
    NULL;
END
$$;

-- The schema the tables are in: `public` unless the owner's search_path says otherwise.
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO wirestream_worker, wirestream_sink, wirestream_reader',
                   current_schema());
END
$$;

-- The services that do not migrate wait until the schema is at their version.
GRANT SELECT ON _sqlx_migrations TO wirestream_worker, wirestream_sink;

-- The worker: decisions, exact and near-copy indexes, expiry, and the
-- parameters check (LOCK ... IN EXCLUSIVE MODE needs UPDATE).
GRANT SELECT, INSERT, UPDATE, DELETE
    ON dedup_decisions, dedup_hashes, dedup_sketches, dedup_bands, dedup_parameters
    TO wirestream_worker;

-- The sink. The upserts' conflict clauses read the rows they replace (SELECT).
GRANT SELECT, INSERT, UPDATE ON articles TO wirestream_sink;
GRANT SELECT, INSERT ON article_versions TO wirestream_sink;
GRANT SELECT, INSERT ON dead_letters TO wirestream_sink;
GRANT USAGE ON SEQUENCE dead_letters_id_seq TO wirestream_sink;
GRANT SELECT, INSERT, UPDATE ON sink_offsets TO wirestream_sink;

-- Merging the search index's pending list is for the index's owner only
-- (gin_clean_pending_list), so the owner lends it to the sink through a
-- function that does that and nothing else.
-- The index is named with its schema now: the function runs with a fixed
-- search_path, as a SECURITY DEFINER function must.
DO $$
BEGIN
    EXECUTE format(
        $f$CREATE FUNCTION wirestream_flush_search_index() RETURNS bigint
           LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
           AS $b$SELECT pg_catalog.gin_clean_pending_list(%L::pg_catalog.regclass) $b$ $f$,
        pg_catalog.quote_ident(pg_catalog.current_schema()) || '.articles_search');
END
$$;
REVOKE ALL ON FUNCTION wirestream_flush_search_index() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION wirestream_flush_search_index() TO wirestream_sink;

-- What users read.
GRANT SELECT ON articles, article_versions, visible_articles, stories, dead_letters
    TO wirestream_reader;
GRANT UPDATE (replayed_at) ON dead_letters TO wirestream_operator;
