CREATE TABLE vehicles (
    id               BINARY(16) PRIMARY KEY,
    plate            VARCHAR(16) NOT NULL UNIQUE,
    registration_cc  CHAR(2) NOT NULL,
    class            VARCHAR(8) NOT NULL,
    odometer_km      BIGINT NOT NULL DEFAULT 0,
    next_service_km  BIGINT NOT NULL,
    status           VARCHAR(16) NOT NULL DEFAULT 'available'
) ENGINE=InnoDB;

CREATE TABLE reservations (
    id               BINARY(16) PRIMARY KEY,
    vehicle_id       BINARY(16) NOT NULL,
    shipment_id      BINARY(16) NOT NULL,
    idempotency_key  VARCHAR(64) NOT NULL,
    released_at      DATETIME NULL,
    UNIQUE KEY uq_reservations_idem (idempotency_key),
    FOREIGN KEY (vehicle_id) REFERENCES vehicles(id)
) ENGINE=InnoDB;

CREATE TABLE odometer_readings (
    vehicle_id   BINARY(16) NOT NULL,
    reading_id   BINARY(16) NOT NULL,
    delta_km     INT NOT NULL,
    recorded_at  DATETIME NOT NULL,
    PRIMARY KEY (vehicle_id, reading_id)
) ENGINE=InnoDB;

-- registration countries accepted by the licensing office integration
CREATE TABLE countries (
    iso2  CHAR(2) PRIMARY KEY,
    name  VARCHAR(64) NOT NULL
) ENGINE=InnoDB;
