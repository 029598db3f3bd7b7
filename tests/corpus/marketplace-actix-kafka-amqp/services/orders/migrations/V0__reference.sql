CREATE TABLE countries (
    iso2  CHAR(2) PRIMARY KEY,
    name  TEXT NOT NULL
);
INSERT INTO countries (iso2, name) VALUES
  ('DE', 'Germany'), ('FR', 'France'), ('NL', 'Netherlands'), ('BE', 'Belgium'),
  ('AT', 'Austria'), ('IT', 'Italy'), ('ES', 'Spain'), ('PL', 'Poland'), ('SE', 'Sweden');

CREATE TABLE currencies (
    code       CHAR(3) PRIMARY KEY,
    minor_unit SMALLINT NOT NULL
);
INSERT INTO currencies (code, minor_unit) VALUES ('EUR', 2), ('PLN', 2), ('SEK', 2), ('GBP', 2);
