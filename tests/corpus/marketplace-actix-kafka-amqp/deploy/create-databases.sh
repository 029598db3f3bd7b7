#!/bin/sh
set -e
for db in stock billing shipping; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" -c "CREATE DATABASE $db;"
done
