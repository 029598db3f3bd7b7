CREATE TABLE stock_levels (
    sku        TEXT PRIMARY KEY,
    available  INT NOT NULL CHECK (available >= 0),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE reservations (
    order_id  UUID NOT NULL,
    sku       TEXT NOT NULL REFERENCES stock_levels(sku),
    qty       INT NOT NULL,
    released  BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (order_id, sku)
);

CREATE TABLE processed_events (
    consumer    TEXT NOT NULL,
    event_key   TEXT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_key)
);
