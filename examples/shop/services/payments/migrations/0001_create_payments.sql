CREATE TABLE payments (
    id           UUID PRIMARY KEY,
    order_id     UUID        NOT NULL UNIQUE,
    amount_cents BIGINT      NOT NULL,
    status       TEXT        NOT NULL DEFAULT 'authorized',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE refunds (
    id           UUID PRIMARY KEY,
    payment_id   UUID   NOT NULL REFERENCES payments (id),
    amount_cents BIGINT NOT NULL
);

CREATE TABLE outbox (
    id           BIGSERIAL PRIMARY KEY,
    topic        TEXT        NOT NULL,
    payload      JSONB       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
