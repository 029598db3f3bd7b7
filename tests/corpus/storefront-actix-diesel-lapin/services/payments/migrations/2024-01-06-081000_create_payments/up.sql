CREATE TABLE payments (
    id             UUID PRIMARY KEY,
    order_id       UUID        NOT NULL UNIQUE,
    amount_cents   BIGINT      NOT NULL,
    currency       CHAR(3)     NOT NULL REFERENCES currencies (code),
    psp_reference  TEXT,
    status         TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE refunds (
    id             UUID PRIMARY KEY,
    payment_id     UUID        NOT NULL UNIQUE REFERENCES payments (id),
    amount_cents   BIGINT      NOT NULL,
    reason         TEXT        NOT NULL,
    psp_reference  TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE settlement_batches (
    id          UUID PRIMARY KEY,
    settled_on  DATE        NOT NULL,
    total_cents BIGINT      NOT NULL,
    status      TEXT        NOT NULL DEFAULT 'open'
);
