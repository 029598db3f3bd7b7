DROP TABLE settlement_batches;
DROP TABLE refunds;
DROP TABLE payments;
