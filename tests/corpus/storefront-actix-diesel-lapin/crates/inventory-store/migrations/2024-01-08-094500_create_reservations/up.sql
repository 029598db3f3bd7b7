CREATE TABLE reservations (
    id          UUID PRIMARY KEY,
    order_id    UUID        NOT NULL,
    sku         TEXT        NOT NULL REFERENCES stock_items (sku),
    quantity    INTEGER     NOT NULL CHECK (quantity > 0),
    status      TEXT        NOT NULL DEFAULT 'held',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX reservations_order_id_idx ON reservations (order_id);
