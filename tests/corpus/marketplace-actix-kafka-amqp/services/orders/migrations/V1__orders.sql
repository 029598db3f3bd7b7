CREATE TABLE orders (
    id              UUID PRIMARY KEY,
    customer_id     UUID NOT NULL,
    status          TEXT NOT NULL DEFAULT 'placed',
    currency        CHAR(3) NOT NULL REFERENCES currencies(code),
    ship_to_country CHAR(2) NOT NULL REFERENCES countries(iso2),
    total_minor     BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE order_lines (
    order_id          UUID NOT NULL REFERENCES orders(id),
    sku               TEXT NOT NULL,
    qty               INT NOT NULL,
    unit_price_minor  BIGINT NOT NULL,
    PRIMARY KEY (order_id, sku)
);

CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    topic       TEXT NOT NULL,
    key         TEXT NOT NULL,
    payload     JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at     TIMESTAMPTZ
);
