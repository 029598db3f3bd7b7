CREATE TABLE bookings (
    id              UUID PRIMARY KEY,
    customer_ref    TEXT          NOT NULL,
    customer_name   TEXT          NOT NULL,
    status          TEXT          NOT NULL DEFAULT 'pending',
    check_in        DATE          NOT NULL,
    check_out       DATE          NOT NULL,
    hotel_id        BIGINT        NOT NULL,
    flight_hold_id  UUID,
    room_hold_id    UUID,
    charge_id       UUID,
    currency        CHAR(3)       NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total           NUMERIC(12,2) NOT NULL,
    created_at      TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ   NOT NULL DEFAULT now()
);

-- our own copy of the flight legs as booked (denormalised for the itinerary page)
CREATE TABLE flight_segments (
    booking_id  UUID    NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    leg         SMALLINT NOT NULL,
    flight_id   BIGINT  NOT NULL,
    flight_no   TEXT    NOT NULL,
    departs_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (booking_id, leg)
);

CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    booking_id  UUID        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    aggregate_id  UUID        NOT NULL,
    event_type    TEXT        NOT NULL,
    payload       JSONB       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    dispatched_at TIMESTAMPTZ
);
