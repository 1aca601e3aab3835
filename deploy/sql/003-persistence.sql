-- Orleans grain storage (Microsoft.Orleans.Persistence.AdoNet) on PostgreSQL.
-- The hashes are computed by Orleans and are not unique: they narrow the index, the natural key decides.
-- Parameters that may be NULL are cast so PostgreSQL never has to guess their type.

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer     NOT NULL,
    GrainIdN0              bigint      NOT NULL,
    GrainIdN1              bigint      NOT NULL,
    GrainTypeHash          integer     NOT NULL,
    GrainTypeString        text        NOT NULL,
    GrainIdExtensionString text        NULL,
    ServiceId              text        NOT NULL,
    PayloadBinary          bytea       NULL,
    ModifiedOn             timestamptz NOT NULL DEFAULT now(),
    Version                integer     NOT NULL,
    CONSTRAINT orleansstorage_natural_key
        UNIQUE NULLS NOT DISTINCT (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
);

CREATE INDEX IF NOT EXISTS orleansstorage_hash_ix ON OrleansStorage (GrainIdHash, GrainTypeHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainIdExtensionString IS NOT DISTINCT FROM CAST(@GrainIdExtensionString AS text);
$q$),

-- Without a version only a first insert may succeed; with one, only the row holding that version may change.
-- Exactly one row comes back; NULL tells Orleans the write lost the race.
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE OrleansStorage
    SET PayloadBinary = @PayloadBinary, Version = Version + 1, ModifiedOn = now()
    WHERE CAST(@GrainStateVersion AS integer) IS NOT NULL
      AND Version = CAST(@GrainStateVersion AS integer)
      AND GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
      AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
      AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString IS NOT DISTINCT FROM CAST(@GrainIdExtensionString AS text)
    RETURNING Version
), inserted AS (
    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId,
         PayloadBinary, Version)
    SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
           CAST(@GrainIdExtensionString AS text), @ServiceId, @PayloadBinary, 1
    WHERE CAST(@GrainStateVersion AS integer) IS NULL
    ON CONFLICT ON CONSTRAINT orleansstorage_natural_key DO NOTHING
    RETURNING Version
)
SELECT (SELECT Version FROM updated UNION ALL SELECT Version FROM inserted LIMIT 1) AS NewGrainStateVersion;
$q$),

-- Clearing keeps the row (payload NULL) so the version keeps counting and stale writers still conflict.
('ClearStorageKey', $q$
WITH cleared AS (
    UPDATE OrleansStorage
    SET PayloadBinary = NULL, Version = Version + 1, ModifiedOn = now()
    WHERE Version = CAST(@GrainStateVersion AS integer)
      AND GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
      AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
      AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString IS NOT DISTINCT FROM CAST(@GrainIdExtensionString AS text)
    RETURNING Version
)
SELECT (SELECT Version FROM cleared) AS NewGrainStateVersion;
$q$),

-- Used instead of ClearStorageKey when DeleteStateOnClear is set; any value other than the input means success.
('DeleteStorageKey', $q$
WITH deleted AS (
    DELETE FROM OrleansStorage
    WHERE Version = CAST(@GrainStateVersion AS integer)
      AND GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
      AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
      AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString IS NOT DISTINCT FROM CAST(@GrainIdExtensionString AS text)
    RETURNING Version
)
SELECT (SELECT Version + 1 FROM deleted) AS NewGrainStateVersion;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
