CREATE TABLE hotels (
    id        BIGSERIAL PRIMARY KEY,
    name      TEXT    NOT NULL,
    city      TEXT    NOT NULL,
    rooms     INT     NOT NULL
);

CREATE TABLE room_holds (
    id          UUID PRIMARY KEY,
    booking_id  UUID        NOT NULL,
    hotel_id    BIGINT      NOT NULL REFERENCES hotels (id),
    check_in    DATE        NOT NULL,
    check_out   DATE        NOT NULL,
    status      TEXT        NOT NULL DEFAULT 'held',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE guest_stays (
    id          BIGSERIAL PRIMARY KEY,
    booking_id  UUID    NOT NULL,
    hotel_id    BIGINT  NOT NULL,
    guest_name  TEXT    NOT NULL,
    night       DATE    NOT NULL
);

CREATE TABLE hold_request_keys (
    key        TEXT PRIMARY KEY,
    hold_id    UUID        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
