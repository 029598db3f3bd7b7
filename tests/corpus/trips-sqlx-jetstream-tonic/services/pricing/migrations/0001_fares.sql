CREATE TABLE fares (
    route_code   TEXT NOT NULL,
    fare_class   TEXT NOT NULL,
    base_minor   BIGINT NOT NULL,
    currency     CHAR(3) NOT NULL,
    valid_from   DATE NOT NULL,
    PRIMARY KEY (route_code, fare_class, valid_from)
);

CREATE TABLE exchange_rates (
    base        CHAR(3) NOT NULL,
    quote       CHAR(3) NOT NULL,
    rate        NUMERIC(18, 8) NOT NULL,
    as_of       DATE NOT NULL,
    PRIMARY KEY (base, quote, as_of)
);

CREATE TABLE demand_snapshots (
    trip_id     UUID PRIMARY KEY,
    last_seats  INT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
