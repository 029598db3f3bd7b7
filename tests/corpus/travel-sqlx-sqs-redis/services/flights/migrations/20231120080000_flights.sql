CREATE TABLE flights (
    id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    flight_no    VARCHAR(8)   NOT NULL,
    origin       CHAR(3)      NOT NULL,
    destination  CHAR(3)      NOT NULL,
    departs_at   DATETIME     NOT NULL,
    UNIQUE KEY uq_flight (flight_no, departs_at)
) ENGINE=InnoDB;

CREATE TABLE flight_inventory (
    flight_id    BIGINT      NOT NULL,
    fare_class   VARCHAR(2)  NOT NULL,
    seats_total  INT         NOT NULL,
    seats_held   INT         NOT NULL DEFAULT 0,
    PRIMARY KEY (flight_id, fare_class),
    CONSTRAINT fk_inv_flight FOREIGN KEY (flight_id) REFERENCES flights (id)
) ENGINE=InnoDB;

CREATE TABLE seat_holds (
    id          BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    hold_id     CHAR(36)    NOT NULL,
    booking_id  CHAR(36)    NOT NULL,
    flight_id   BIGINT      NOT NULL,
    fare_class  VARCHAR(2)  NOT NULL,
    seats       INT         NOT NULL,
    status      VARCHAR(16) NOT NULL DEFAULT 'held',
    created_at  TIMESTAMP   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY idx_hold (hold_id),
    KEY idx_booking (booking_id)
) ENGINE=InnoDB;
