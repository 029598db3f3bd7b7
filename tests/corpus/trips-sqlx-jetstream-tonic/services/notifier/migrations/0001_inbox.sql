CREATE TABLE IF NOT EXISTS notifier_inbox (
    message_id   TEXT PRIMARY KEY,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
