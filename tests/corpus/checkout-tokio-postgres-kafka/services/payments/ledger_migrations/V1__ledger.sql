CREATE TABLE journal_entries (
    id           BIGSERIAL PRIMARY KEY,
    payment_id   UUID        NOT NULL,
    account      TEXT        NOT NULL,
    debit_cents  BIGINT      NOT NULL DEFAULT 0,
    credit_cents BIGINT      NOT NULL DEFAULT 0,
    booked_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
