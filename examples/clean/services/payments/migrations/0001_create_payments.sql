CREATE TABLE wallets (
    customer_id   UUID PRIMARY KEY,
    currency      CHAR(3) NOT NULL,
    balance_minor BIGINT  NOT NULL CHECK (balance_minor >= 0)
);

CREATE TABLE payments (
    order_id     UUID PRIMARY KEY,
    customer_id  UUID        NOT NULL REFERENCES wallets (customer_id),
    amount_minor BIGINT      NOT NULL,
    status       TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
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
