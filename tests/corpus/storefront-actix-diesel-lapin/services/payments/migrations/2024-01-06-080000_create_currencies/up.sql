-- Payments needs minor units and PSP support flags per currency.
CREATE TABLE currencies (
    code            CHAR(3)  PRIMARY KEY,
    minor_units     SMALLINT NOT NULL,
    psp_supported   BOOLEAN  NOT NULL DEFAULT true
);

INSERT INTO currencies (code, minor_units) VALUES ('USD', 2), ('EUR', 2), ('GBP', 2), ('JPY', 0), ('CHF', 2);
