-- The dedup parameters the stored index was built with (docs/dedup.md,
-- "Changing the parameters"). One row: the fingerprint the worker compares at
-- start-up, the parameters by name to explain a difference, and the ones it
-- replaced when a change was accepted against a non-empty index.
CREATE TABLE dedup_parameters (
    singleton             boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    fingerprint           text        NOT NULL,
    parameters            jsonb       NOT NULL,
    previous_fingerprint  text,
    previous_parameters   jsonb,
    recorded_at           timestamptz NOT NULL DEFAULT now()
);
