CREATE TABLE shipments (
    id           UUID PRIMARY KEY,
    order_id     UUID        NOT NULL UNIQUE,
    recipient    TEXT,
    line1        TEXT,
    city         TEXT,
    postal_code  TEXT,
    country      CHAR(2),
    status       TEXT        NOT NULL,
    carrier      TEXT,
    tracking_no  TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
