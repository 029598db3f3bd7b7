CREATE TABLE trips (
    id          UUID PRIMARY KEY,
    route_code  TEXT NOT NULL,
    departs_at  TIMESTAMPTZ NOT NULL,
    capacity    INT NOT NULL
);

CREATE TABLE reservations (
    id          UUID PRIMARY KEY,
    trip_id     UUID NOT NULL REFERENCES trips(id),
    booking_id  UUID NOT NULL,
    seats       INT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'held',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (trip_id, booking_id)
);

CREATE VIEW trip_availability AS
SELECT t.id AS trip_id,
       t.capacity - COALESCE(SUM(r.seats) FILTER (WHERE r.status = 'held'), 0) AS free
FROM trips t LEFT JOIN reservations r ON r.trip_id = t.id
GROUP BY t.id, t.capacity;
