DROP TABLE idempotency_keys;
DROP TABLE processed_messages;
DROP TABLE outbox;
