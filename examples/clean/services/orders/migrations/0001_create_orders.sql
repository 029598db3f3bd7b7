CREATE TABLE orders (
    id          UUID PRIMARY KEY,
    customer_id UUID        NOT NULL,
    currency    CHAR(3)     NOT NULL,
    total_minor BIGINT      NOT NULL,
    status      TEXT        NOT NULL DEFAULT 'pending',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE order_lines (
    order_id   UUID    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    sku        TEXT    NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    unit_minor BIGINT  NOT NULL,
    PRIMARY KEY (order_id, sku)
);

-- One row per client request: a retried POST /orders returns the order the first try made.
CREATE TABLE idempotency_keys (
    key        TEXT PRIMARY KEY,
    order_id   UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id           BIGSERIAL PRIMARY KEY,
    subject      TEXT        NOT NULL,
    payload      JSONB       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);

CREATE TABLE inbox (
    event_id     UUID PRIMARY KEY,
    subject      TEXT        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
