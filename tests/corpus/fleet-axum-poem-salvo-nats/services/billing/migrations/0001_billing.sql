CREATE TABLE authorizations (
    id           UUID PRIMARY KEY,
    customer_id  UUID NOT NULL,
    request_id   TEXT NOT NULL,
    amount       NUMERIC(12,2) NOT NULL,
    currency     CHAR(3) NOT NULL,
    voided_at    TIMESTAMPTZ,
    UNIQUE (customer_id, request_id)
);

CREATE TABLE invoices (
    id           BIGSERIAL PRIMARY KEY,
    trip_id      UUID NOT NULL,
    customer_id  UUID NOT NULL,
    amount       NUMERIC(12,2) NOT NULL,
    currency     CHAR(3) NOT NULL,
    period       DATE NOT NULL DEFAULT date_trunc('month', now()),
    closed       BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE countries (
    iso2      CHAR(2) PRIMARY KEY,
    name      TEXT NOT NULL,
    vat_rate  NUMERIC(5,4) NOT NULL
);
