CREATE TABLE shipments (
    order_id    UUID PRIMARY KEY,
    address     TEXT,
    country     CHAR(2),
    zone        TEXT,
    courier_ref TEXT,
    status      TEXT NOT NULL DEFAULT 'pending',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
