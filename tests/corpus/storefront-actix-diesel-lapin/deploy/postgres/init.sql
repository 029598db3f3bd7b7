CREATE USER orders WITH PASSWORD 'orders';
CREATE USER inventory WITH PASSWORD 'inventory';
CREATE USER payments WITH PASSWORD 'payments';
CREATE USER reporting_ro WITH PASSWORD 'reporting';
CREATE DATABASE orders OWNER orders;
CREATE DATABASE inventory OWNER inventory;
CREATE DATABASE payments OWNER payments;
GRANT CONNECT ON DATABASE orders TO reporting_ro;
GRANT CONNECT ON DATABASE inventory TO reporting_ro;
