CREATE TABLE currencies (
    code        CHAR(3)  PRIMARY KEY,
    name        TEXT     NOT NULL,
    minor_units SMALLINT NOT NULL DEFAULT 2
);

INSERT INTO currencies (code, name, minor_units) VALUES
    ('USD', 'US Dollar', 2),
    ('EUR', 'Euro', 2),
    ('GBP', 'Pound Sterling', 2),
    ('JPY', 'Yen', 0);
