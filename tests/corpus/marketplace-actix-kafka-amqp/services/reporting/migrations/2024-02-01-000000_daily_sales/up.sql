CREATE TABLE daily_sales (
    day          DATE NOT NULL,
    currency     CHAR(3) NOT NULL,
    orders       INT NOT NULL,
    total_minor  BIGINT NOT NULL,
    PRIMARY KEY (day, currency)
);
