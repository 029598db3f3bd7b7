CREATE TABLE countries (
    code          CHAR(2) PRIMARY KEY,
    name          TEXT    NOT NULL,
    shipping_zone SMALLINT NOT NULL,
    customs_required BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE shipments (
    id              UUID PRIMARY KEY,
    order_id        UUID        NOT NULL UNIQUE,
    customer_email  TEXT,
    address         TEXT        NOT NULL,
    country         CHAR(2)     NOT NULL REFERENCES countries (code),
    status          TEXT        NOT NULL DEFAULT 'created',
    tracking_number TEXT,
    delivered_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE courier_bookings (
    id           UUID PRIMARY KEY,
    shipment_id  UUID        NOT NULL REFERENCES shipments (id),
    courier_ref  TEXT        NOT NULL,
    pickup_date  DATE        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
    key        TEXT PRIMARY KEY,
    shipment_id UUID       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE processed_messages (
    message_id   UUID PRIMARY KEY,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
