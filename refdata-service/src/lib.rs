//! refdata: the shared reference-data service (countries, currencies, exchange rates, tax rates).

pub mod caching;
pub mod domain;
pub mod import;
pub mod store;
