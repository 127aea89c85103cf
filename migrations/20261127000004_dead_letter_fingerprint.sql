-- A dead letter is identified by what failed, not by where it was read: an
-- item re-sent after a timeout lands at another offset, but it is the same
-- item and must be accounted for once.
ALTER TABLE dead_letters
    ADD COLUMN fingerprint text GENERATED ALWAYS AS (
        md5(stage || E'\x1f' || reason || E'\x1f' || coalesce(item_key, '') || E'\x1f' || original)
    ) STORED;
ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_origin_key;
-- Letters stored twice before this migration: keep the first of each.
DELETE FROM dead_letters later USING dead_letters first
WHERE later.fingerprint = first.fingerprint AND later.id > first.id;
CREATE UNIQUE INDEX dead_letters_fingerprint ON dead_letters (fingerprint);
CREATE INDEX dead_letters_origin ON dead_letters (origin);
