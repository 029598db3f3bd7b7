-- Dataset contents, addressed by the SHA-256 of their bytes; shared by every version that
-- holds the same bytes.
CREATE TABLE blobs (
    hash TEXT PRIMARY KEY NOT NULL,
    body BLOB NOT NULL
);

-- One row per immutable dataset version: the blobs it is made of and who made it, when and
-- why. Append-only: it is also the audit log.
CREATE TABLE versions (
    version INTEGER PRIMARY KEY NOT NULL,
    created_at TEXT NOT NULL,
    author TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    datasets TEXT NOT NULL,
    detail TEXT NOT NULL,
    manifest TEXT NOT NULL,
    countries TEXT NOT NULL,
    subdivisions TEXT NOT NULL,
    currencies TEXT NOT NULL,
    exchange_rates TEXT NOT NULL,
    tax_rates TEXT NOT NULL
);

CREATE TRIGGER versions_no_update BEFORE UPDATE ON versions
BEGIN
    SELECT RAISE(ABORT, 'versions are append-only');
END;

CREATE TRIGGER versions_no_delete BEFORE DELETE ON versions
BEGIN
    SELECT RAISE(ABORT, 'versions are append-only');
END;
