CREATE TABLE stock (
    sku      TEXT PRIMARY KEY,
    on_hand  INTEGER NOT NULL CHECK (on_hand >= 0),
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand)
);

CREATE TABLE reservations (
    order_id UUID    NOT NULL,
    sku      TEXT    NOT NULL REFERENCES stock (sku),
    quantity INTEGER NOT NULL,
    PRIMARY KEY (order_id, sku)
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
