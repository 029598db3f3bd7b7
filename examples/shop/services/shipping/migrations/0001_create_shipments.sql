CREATE TABLE shipments (
    id           UUID PRIMARY KEY,
    order_id     UUID        NOT NULL,
    carrier      TEXT        NOT NULL,
    tracking_no  TEXT,
    dispatched_at TIMESTAMPTZ
);

CREATE TABLE shipment_items (
    shipment_id UUID    NOT NULL REFERENCES shipments (id),
    sku         TEXT    NOT NULL,
    quantity    INTEGER NOT NULL,
    PRIMARY KEY (shipment_id, sku)
);
