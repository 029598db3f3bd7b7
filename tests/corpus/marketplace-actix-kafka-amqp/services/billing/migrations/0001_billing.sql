CREATE TABLE invoices (
    id           UUID PRIMARY KEY,
    order_id     UUID NOT NULL,
    customer_id  UUID NOT NULL,
    amount_minor BIGINT NOT NULL,
    vat_minor    BIGINT NOT NULL,
    currency     CHAR(3) NOT NULL,
    psp_charge   TEXT,
    status       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE credit_charges (
    order_id     UUID PRIMARY KEY,
    customer_id  UUID NOT NULL,
    amount_minor BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id        BIGSERIAL PRIMARY KEY,
    topic     TEXT NOT NULL,
    key       TEXT NOT NULL,
    payload   JSONB NOT NULL,
    sent_at   TIMESTAMPTZ
);
