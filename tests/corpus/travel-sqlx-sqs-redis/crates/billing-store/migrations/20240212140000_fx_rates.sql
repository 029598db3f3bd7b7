-- Daily rates used to book foreign-currency charges in EUR.
CREATE TABLE fx_rates (
    base_currency  CHAR(3)        NOT NULL,
    quote_currency CHAR(3)        NOT NULL,
    rate           NUMERIC(18, 8) NOT NULL,
    as_of          DATE           NOT NULL,
    PRIMARY KEY (base_currency, quote_currency, as_of)
);
