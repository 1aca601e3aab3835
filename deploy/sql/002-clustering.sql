-- Orleans membership (Microsoft.Orleans.Clustering.AdoNet) on PostgreSQL.
-- DeploymentId is the ClusterId. The version row is the table's optimistic-concurrency token: every change to a
-- member must bump it in the same statement, and a failed version check must change nothing.

CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Timestamp    timestamptz  NOT NULL DEFAULT now(),
    Version      integer      NOT NULL DEFAULT 0,
    CONSTRAINT orleansmembershipversiontable_pk PRIMARY KEY (DeploymentId)
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address      varchar(45)  NOT NULL,
    Port         integer      NOT NULL,
    Generation   integer      NOT NULL,
    SiloName     text         NOT NULL,
    HostName     text         NOT NULL,
    Status       integer      NOT NULL,
    ProxyPort    integer      NOT NULL DEFAULT 0,
    SuspectTimes text         NULL,
    StartTime    timestamptz  NOT NULL,
    IAmAliveTime timestamptz  NOT NULL,
    CONSTRAINT orleansmembershiptable_pk PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT orleansmembershiptable_version_fk FOREIGN KEY (DeploymentId)
        REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $q$
WITH inserted AS (
    INSERT INTO OrleansMembershipVersionTable (DeploymentId)
    VALUES (@DeploymentId)
    ON CONFLICT (DeploymentId) DO NOTHING
    RETURNING 1
)
SELECT count(*)::integer FROM inserted;
$q$),

-- The version bump and the insert happen in one statement; if either the version check or the insert's
-- uniqueness fails, neither takes effect (the member insert only runs when the version row was bumped, and
-- ON CONFLICT DO NOTHING keeps a duplicate from raising). A duplicate after a bump would leave the bump in
-- place, so the bump itself is guarded by the member's absence.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE OrleansMembershipVersionTable
    SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = @DeploymentId
      AND Version = @Version
      AND NOT EXISTS (
          SELECT 1 FROM OrleansMembershipTable
          WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation)
    RETURNING DeploymentId
), inserted AS (
    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    SELECT DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort,
           @StartTime, @IAmAliveTime
    FROM bumped
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*)::integer FROM inserted;
$q$),

('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE OrleansMembershipVersionTable
    SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = @DeploymentId
      AND Version = @Version
      AND EXISTS (
          SELECT 1 FROM OrleansMembershipTable
          WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation)
    RETURNING DeploymentId
), updated AS (
    UPDATE OrleansMembershipTable m
    SET Status = @Status, SuspectTimes = @SuspectTimes, IAmAliveTime = @IAmAliveTime
    FROM bumped
    WHERE m.DeploymentId = bumped.DeploymentId
      AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    RETURNING 1
)
SELECT count(*)::integer FROM updated;
$q$),

('UpdateIAmAlivetimeKey', $q$
UPDATE OrleansMembershipTable
SET IAmAliveTime = @IAmAliveTime
WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation;
$q$),

('MembershipReadRowKey', $q$
SELECT v.Version, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
       m.SuspectTimes, m.StartTime, m.IAmAliveTime
FROM OrleansMembershipVersionTable v
LEFT JOIN OrleansMembershipTable m
       ON m.DeploymentId = v.DeploymentId
      AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
WHERE v.DeploymentId = @DeploymentId;
$q$),

('MembershipReadAllKey', $q$
SELECT v.Version, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
       m.SuspectTimes, m.StartTime, m.IAmAliveTime
FROM OrleansMembershipVersionTable v
LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
WHERE v.DeploymentId = @DeploymentId;
$q$),

('GatewaysQueryKey', $q$
SELECT Address, ProxyPort, Generation
FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;
$q$),

('DeleteMembershipTableEntriesKey', $q$
DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
$q$),

('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId
  AND IAmAliveTime < @IAmAliveTime
  AND Status = 6;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
