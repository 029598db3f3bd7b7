pub mod reservations;
pub mod stock_levels;
