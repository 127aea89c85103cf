-- Near-copy claims without a global lock (docs/dedup.md, "Workers side by
-- side"). Each entry under an LSH key takes the next slot of that key: 1, 2, …
-- in the order entries were indexed. A claim reads each key's highest slot
-- with its candidates and writes its own entries at the slots after it; two
-- claims that indexed under one key without seeing each other want the same
-- slot, and the primary key makes the second wait for the first and then
-- refuses it: that claim decides again, now seeing the first.
--
-- (band_key, provider, uri) stays unique in practice: bands are written only
-- under a sketch inserted in the same statement, once per (provider, uri).
ALTER TABLE dedup_bands ADD COLUMN slot integer;
UPDATE dedup_bands b SET slot = n.slot
FROM (
    SELECT band_key, provider, uri,
           row_number() OVER (PARTITION BY band_key ORDER BY seen_at, provider, uri) AS slot
    FROM dedup_bands
) n
WHERE (b.band_key, b.provider, b.uri) = (n.band_key, n.provider, n.uri);
ALTER TABLE dedup_bands ALTER COLUMN slot SET NOT NULL;
ALTER TABLE dedup_bands DROP CONSTRAINT dedup_bands_pkey;
ALTER TABLE dedup_bands ADD PRIMARY KEY (band_key, slot);
