CREATE TABLE stock_items (
    sku         TEXT PRIMARY KEY,
    warehouse   TEXT        NOT NULL DEFAULT 'main',
    on_hand     INTEGER     NOT NULL CHECK (on_hand >= 0),
    available   INTEGER     NOT NULL CHECK (available >= 0),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

SELECT diesel_manage_updated_at('stock_items');
