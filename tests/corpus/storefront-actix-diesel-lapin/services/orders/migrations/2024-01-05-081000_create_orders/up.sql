CREATE TABLE orders (
    id           UUID PRIMARY KEY,
    customer_id  UUID        NOT NULL,
    status       TEXT        NOT NULL DEFAULT 'pending',
    total_cents  BIGINT      NOT NULL,
    currency     CHAR(3)     NOT NULL REFERENCES currencies (code),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE order_lines (
    order_id         UUID    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no          INTEGER NOT NULL,
    sku              TEXT    NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_cents BIGINT  NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC);
