-- Dataset contents, addressed by the SHA-256 of their bytes; shared by every version that
-- holds the same bytes.
CREATE TABLE blobs (
    hash TEXT PRIMARY KEY,
    body BYTEA NOT NULL
);

-- One row per immutable dataset version: the blobs it is made of and who made it, when and
-- why. Append-only: it is also the audit log.
CREATE TABLE versions (
    version BIGINT PRIMARY KEY,
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

CREATE FUNCTION refdata_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'versions are append-only';
END
$$;

CREATE TRIGGER versions_append_only BEFORE UPDATE OR DELETE ON versions
    FOR EACH ROW EXECUTE FUNCTION refdata_versions_append_only();
