-- Content-addressed blobs for PostgresBlobStore: one row per blob, its bytes split into ordered bytea chunks
-- so no single value approaches PostgreSQL's 1 GB limit and reads can stream chunk by chunk.

CREATE TABLE IF NOT EXISTS cartridges_blobs
(
    sha256  char(64)    NOT NULL,
    length  bigint      NOT NULL CHECK (length >= 0),
    created timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cartridges_blobs_pk PRIMARY KEY (sha256)
);

CREATE TABLE IF NOT EXISTS cartridges_blob_chunks
(
    sha256 char(64) NOT NULL,
    idx    integer  NOT NULL CHECK (idx >= 0),
    data   bytea    NOT NULL,
    CONSTRAINT cartridges_blob_chunks_pk PRIMARY KEY (sha256, idx),
    CONSTRAINT cartridges_blob_chunks_blob_fk FOREIGN KEY (sha256)
        REFERENCES cartridges_blobs (sha256) ON DELETE CASCADE
);
