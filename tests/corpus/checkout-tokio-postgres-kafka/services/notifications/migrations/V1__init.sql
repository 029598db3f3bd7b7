CREATE TABLE notification_log (
    id         BIGSERIAL PRIMARY KEY,
    recipient  TEXT        NOT NULL,
    template   TEXT        NOT NULL,
    reference  TEXT        NOT NULL,
    sent_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
