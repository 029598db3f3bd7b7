CREATE TABLE shipments (
    id                  UUID PRIMARY KEY,
    customer_id         UUID NOT NULL,
    origin_country      CHAR(2) NOT NULL,
    destination_country CHAR(2) NOT NULL,
    vehicle_id          UUID,
    authorization_id    UUID,
    status              TEXT NOT NULL DEFAULT 'pending',
    idempotency_key     TEXT UNIQUE,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id           BIGSERIAL PRIMARY KEY,
    subject      TEXT NOT NULL,
    payload      JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
