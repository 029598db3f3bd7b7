pub mod backfill;
