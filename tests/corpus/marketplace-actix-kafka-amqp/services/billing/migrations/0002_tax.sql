CREATE TABLE currencies (
    code      CHAR(3) PRIMARY KEY,
    name      TEXT NOT NULL,
    exponent  SMALLINT NOT NULL DEFAULT 2
);
INSERT INTO currencies (code, name) VALUES ('EUR', 'Euro'), ('PLN', 'Zloty'), ('SEK', 'Swedish krona');

CREATE TABLE vat_rates (
    country_code CHAR(2) NOT NULL,
    category     TEXT NOT NULL DEFAULT 'standard',
    rate_bp      INT NOT NULL,
    valid_from   DATE NOT NULL,
    PRIMARY KEY (country_code, category, valid_from)
);
INSERT INTO vat_rates (country_code, rate_bp, valid_from) VALUES
  ('DE', 1900, '2021-01-01'), ('FR', 2000, '2014-01-01'), ('NL', 2100, '2019-01-01'), ('PL', 2300, '2011-01-01');
