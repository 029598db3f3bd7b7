CREATE TABLE payments (
    id            UUID PRIMARY KEY,
    booking_id    UUID NOT NULL,
    amount_minor  BIGINT NOT NULL,
    currency      CHAR(3) NOT NULL,
    psp_reference TEXT,
    status        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE refunds (
    id          UUID PRIMARY KEY,
    payment_id  UUID NOT NULL REFERENCES payments(id),
    psp_refund  TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE ledger_entries (
    id          BIGSERIAL PRIMARY KEY,
    booking_id  UUID NOT NULL,
    kind        TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    response     JSONB,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
