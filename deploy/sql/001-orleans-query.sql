-- Named queries read by Orleans' ADO.NET providers at start-up (contract: shared/docs/orleans-adonet-contract.md).
-- Names stay unquoted: Orleans runs `SELECT QueryKey, QueryText FROM OrleansQuery`, which PostgreSQL folds to
-- orleansquery/querykey/querytext. One table serves clustering, persistence and reminders.
CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,
    CONSTRAINT orleansquery_pk PRIMARY KEY (QueryKey)
);
