CREATE TABLE payments (
    id             UUID PRIMARY KEY,
    order_id       UUID        NOT NULL,
    customer_id    UUID        NOT NULL,
    amount_cents   BIGINT      NOT NULL,
    currency       CHAR(3)     NOT NULL,
    psp_reference  TEXT,
    status         TEXT        NOT NULL,
    settled        BOOLEAN     NOT NULL DEFAULT false,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE refunds (
    id           UUID PRIMARY KEY,
    payment_id   UUID        NOT NULL UNIQUE REFERENCES payments (id),
    amount_cents BIGINT      NOT NULL,
    reason       TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE wallets (
    customer_id   UUID PRIMARY KEY,
    balance_cents BIGINT  NOT NULL DEFAULT 0,
    currency      CHAR(3) NOT NULL
);

CREATE TABLE idempotency_keys (
    key           TEXT PRIMARY KEY,
    response_body JSONB,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
