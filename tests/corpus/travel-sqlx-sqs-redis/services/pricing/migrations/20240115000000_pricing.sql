CREATE TABLE exchange_rates (
    currency   CHAR(3)        NOT NULL,
    per_eur    NUMERIC(18, 8) NOT NULL,
    as_of      DATE           NOT NULL,
    PRIMARY KEY (currency, as_of)
);

CREATE TABLE fare_rules (
    id          BIGSERIAL PRIMARY KEY,
    route       TEXT          NOT NULL,
    season      TEXT          NOT NULL,
    multiplier  NUMERIC(6, 3) NOT NULL DEFAULT 1.0
);
