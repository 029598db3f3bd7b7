-- Countries we accept orders for; used to validate the shipping address at checkout.
CREATE TABLE supported_countries (
    iso2        CHAR(2) PRIMARY KEY,
    iso3        CHAR(3) NOT NULL,
    name        TEXT    NOT NULL,
    eu_member   BOOLEAN NOT NULL DEFAULT false,
    vat_rate_bp INT     NOT NULL DEFAULT 0
);

INSERT INTO supported_countries (iso2, iso3, name, eu_member, vat_rate_bp) VALUES
    ('DE', 'DEU', 'Germany', true, 1900),
    ('FR', 'FRA', 'France', true, 2000),
    ('NL', 'NLD', 'Netherlands', true, 2100),
    ('GB', 'GBR', 'United Kingdom', false, 2000),
    ('US', 'USA', 'United States', false, 0);
