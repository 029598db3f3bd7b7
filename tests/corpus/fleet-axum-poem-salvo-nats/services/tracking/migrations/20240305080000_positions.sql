CREATE TABLE vehicle_positions (
    vehicle_id   UUID NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    speed_kmh    REAL NOT NULL,
    PRIMARY KEY (vehicle_id, recorded_at)
);

CREATE TABLE shipment_tracking (
    shipment_id  UUID PRIMARY KEY,
    vehicle_id   UUID,
    last_seen_at TIMESTAMPTZ,
    delivered_at TIMESTAMPTZ
);
