CREATE TABLE warehouses (
    id           TEXT PRIMARY KEY,
    name         TEXT    NOT NULL,
    country_code CHAR(2) NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT true
);

CREATE TABLE stock_items (
    sku          TEXT NOT NULL,
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    on_hand      INT  NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved     INT  NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (sku, warehouse_id)
);

CREATE TABLE reservations (
    id         UUID PRIMARY KEY,
    order_id   UUID        NOT NULL UNIQUE,
    status     TEXT        NOT NULL DEFAULT 'held',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE reservation_lines (
    reservation_id UUID NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    sku            TEXT NOT NULL,
    warehouse_id   TEXT NOT NULL,
    quantity       INT  NOT NULL,
    PRIMARY KEY (reservation_id, sku, warehouse_id)
);

CREATE TABLE stock_movements (
    id           BIGSERIAL PRIMARY KEY,
    sku          TEXT        NOT NULL,
    warehouse_id TEXT        NOT NULL,
    delta        INT         NOT NULL,
    reason       TEXT        NOT NULL,
    created_by   TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE processed_messages (
    message_id  UUID        NOT NULL,
    consumer    TEXT        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, consumer)
);
