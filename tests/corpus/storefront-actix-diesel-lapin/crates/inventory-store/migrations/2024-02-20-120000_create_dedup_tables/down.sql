DROP TABLE processed_messages;
DROP TABLE idempotency_keys;
