-- Orleans reminders (Microsoft.Orleans.Reminders.AdoNet) on PostgreSQL.
-- GrainHash is Orleans' signed 32-bit uniform hash; ring ranges are (BeginHash, EndHash], wrapping when Begin >= End.

CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    text        NOT NULL,
    GrainId      text        NOT NULL,
    ReminderName text        NOT NULL,
    StartTime    timestamptz NOT NULL,
    Period       bigint      NOT NULL,
    GrainHash    integer     NOT NULL,
    Version      integer     NOT NULL,
    CONSTRAINT orleansreminderstable_pk PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

CREATE INDEX IF NOT EXISTS orleansreminderstable_hash_ix ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpsertReminderRowKey', $q$
INSERT INTO OrleansRemindersTable (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
SET StartTime = EXCLUDED.StartTime,
    Period = EXCLUDED.Period,
    GrainHash = EXCLUDED.GrainHash,
    Version = OrleansRemindersTable.Version + 1
RETURNING Version;
$q$),

('ReadReminderRowKey', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName;
$q$),

('ReadReminderRowsKey', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainId = @GrainId;
$q$),

('ReadRangeRows1Key', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainHash > @BeginHash AND GrainHash <= @EndHash;
$q$),

('ReadRangeRows2Key', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
$q$),

('DeleteReminderRowKey', $q$
WITH deleted AS (
    DELETE FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName
      AND Version = @Version
    RETURNING 1
)
SELECT count(*)::integer FROM deleted;
$q$),

('DeleteReminderRowsKey', $q$
DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
