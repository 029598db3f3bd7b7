CREATE TABLE invoices (
    id            UUID PRIMARY KEY,
    booking_id    UUID          NOT NULL,
    customer_ref  TEXT          NOT NULL,
    route         TEXT          NOT NULL,
    currency      CHAR(3)       NOT NULL,
    total         NUMERIC(12,2) NOT NULL,
    status        TEXT          NOT NULL DEFAULT 'issued',
    issued_at     TIMESTAMPTZ   NOT NULL DEFAULT now()
);

CREATE TABLE invoice_lines (
    invoice_id  UUID          NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    line_no     INT           NOT NULL,
    description TEXT          NOT NULL,
    amount      NUMERIC(12,2) NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);

CREATE TABLE charges (
    id            UUID PRIMARY KEY,
    booking_id    UUID          NOT NULL,
    amount_minor  BIGINT        NOT NULL,
    currency      CHAR(3)       NOT NULL,
    psp_reference TEXT          NOT NULL,
    status        TEXT          NOT NULL,
    created_at    TIMESTAMPTZ   NOT NULL DEFAULT now()
);

CREATE TABLE refunds (
    id          UUID PRIMARY KEY,
    charge_id   UUID          NOT NULL REFERENCES charges (id),
    amount_minor BIGINT       NOT NULL,
    created_at  TIMESTAMPTZ   NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    charge_id   UUID,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE processed_messages (
    message_id  TEXT PRIMARY KEY,
    queue       TEXT        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
